/// Per-stream bookkeeping owned by `HTTP2Connection`.
struct HTTP2Stream: Sendable {
    let id: UInt32
    var state: HTTP2StreamState
    /// Octets we may still send (peer's window); may go negative after a SETTINGS change (§6.9.2).
    var sendWindow: Int
    /// Octets the peer may still send us before we credit more.
    var receiveWindow: Int
    /// Octets consumed by the application but not yet returned in a WINDOW_UPDATE.
    var pendingCredit = 0

    var responseHeadersSent = false
    /// DATA accepted by `sendData` but not yet framed.
    private var queue = ByteQueue()
    /// END_STREAM requested with the last `sendData`.
    var endStreamQueued = false
    /// Trailers requested; they go out once the queue is empty.
    var trailersQueued: [HTTP2Header]?

    init(id: UInt32, state: HTTP2StreamState, sendWindow: Int, receiveWindow: Int) {
        self.id = id
        self.state = state
        self.sendWindow = sendWindow
        self.receiveWindow = receiveWindow
    }

    var queuedBytes: Int { queue.count }
    /// True once the application has asked to end its side; nothing more may be sent.
    var localEndRequested: Bool { endStreamQueued || trailersQueued != nil }
    /// Whether `flush` has anything to do for this stream.
    var hasPendingSend: Bool { queuedBytes > 0 || (localEndRequested && state.canSend) }

    mutating func enqueue(_ bytes: some Collection<UInt8>) { queue.append(bytes) }

    mutating func dequeue(_ count: Int) -> [UInt8] { queue.take(count) }
}
