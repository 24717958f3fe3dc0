/// The server side of one HTTP/2 connection, as a sans-IO state machine (RFC 9113).
///
/// The caller owns the socket. It passes received bytes to `feed(_:)`, handles the returned
/// events, answers streams with `sendHeaders`/`sendData`/`sendTrailers`, and writes whatever
/// `takeOutput()` returns. Nothing here blocks, sleeps or allocates a thread.
///
/// Thread safety: none. The connection is thread-confined: one connection thread (or any
/// caller that serializes access) must make every call. It is deliberately not `Sendable`.
///
/// Ordering: output is appended in the order frames are produced, so our SETTINGS always come
/// first (they are written by `init`), a SETTINGS ACK follows the peer's SETTINGS it answers,
/// and a stream's trailers follow all of its DATA. `takeOutput()` should be called only when
/// the socket can take more bytes: until then control replies count against
/// `HTTP2Limits.maxPendingControlFrames`, which is how a peer that never reads gets cut off.
public final class HTTP2Connection {
    enum Phase: Equatable {
        case awaitingPreface(matched: Int)
        /// Preface seen; the first frame must be the peer's SETTINGS (§3.4).
        case awaitingSettings
        case active
        case closed
    }

    /// A header block still waiting for CONTINUATION frames (§6.10).
    struct PartialHeaderBlock {
        var streamID: UInt32
        var bytes: [UInt8]
        var endStream: Bool
        var frames: Int
        /// The HEADERS priority named the stream itself (§5.3.1): a stream error, raised only
        /// after the block has been decoded.
        var selfDependent = false
    }

    /// How a recently closed stream ended, to tell "ignore late frames" from "peer error" (§5.1).
    enum ClosedBy { case us, peer }

    let limits: HTTP2Limits
    let clock: () -> Duration
    var phase: Phase = .awaitingPreface(matched: 0)
    var frameDecoder: HTTP2FrameDecoder
    var hpackDecoder: HPACKDecoder
    let hpackEncoder = HPACKEncoder()
    var output: [UInt8] = []
    var events: [HTTP2Event] = []

    var streams: [UInt32: HTTP2Stream] = [:]
    var highestPeerStreamID: UInt32 = 0
    var headerBlock: PartialHeaderBlock?
    /// Bounded memory of recently closed streams, oldest first (`recentlyClosedOrder`).
    var recentlyClosed: [UInt32: ClosedBy] = [:]
    var recentlyClosedOrder: [UInt32] = []

    var connectionSendWindow = HTTP2Constants.defaultInitialWindowSize
    var connectionReceiveWindow: Int
    var connectionPendingCredit = 0
    var peerInitialWindowSize = HTTP2Constants.defaultInitialWindowSize
    var peerMaxFrameSize = HTTP2Constants.defaultMaxFrameSize
    var totalQueuedBytes = 0

    var controlFramesSinceDrain = 0
    var peerResetWindowStart: Duration = .zero
    var peerResetCount = 0

    /// Last stream id our GOAWAY promised to process, once one was sent.
    var goawayLastStreamID: UInt32?
    var gracefulPingOutstanding = false
    var peerSentGoaway = false
    var closeReason: HTTP2CloseReason?
    var closedEventDelivered = false

    /// The opaque PING payload of a graceful shutdown's round trip.
    static let gracefulPingData: UInt64 = 0x454c_414e_5553_4757  // "ELANUSGW"

    /// - Parameters:
    ///   - limits: advertised settings and local defences.
    ///   - clock: monotonic time since any fixed origin; injected so tests can drive the
    ///     rapid-reset window.
    public init(limits: HTTP2Limits = HTTP2Limits(), clock: (() -> Duration)? = nil) {
        self.limits = limits
        if let clock {
            self.clock = clock
        } else {
            let origin = ContinuousClock.now
            self.clock = { ContinuousClock.now - origin }
        }
        frameDecoder = HTTP2FrameDecoder(maxFrameSize: limits.maxFrameSize)
        // Until our SETTINGS are acknowledged the peer may use the default table size (§6.5.3).
        hpackDecoder = HPACKDecoder(
            maxTableSize: max(limits.headerTableSize, HTTP2Constants.defaultHeaderTableSize),
            maxHeaderListSize: limits.maxHeaderListSize)
        connectionReceiveWindow = HTTP2Constants.defaultInitialWindowSize
        // The server preface is our SETTINGS, and it must be the first frame we send (§3.4).
        write(.init(streamID: 0, payload: .settings(ack: false, limits.advertisedSettings)))
        let extra = min(limits.connectionWindowSize, HTTP2Constants.maxWindowSize) - connectionReceiveWindow
        if extra > 0 {
            write(.init(streamID: 0, payload: .windowUpdate(increment: UInt32(extra))))
            connectionReceiveWindow += extra
        }
    }

    /// Classifies the first bytes of a connection; see `HTTP2Preface.detect`.
    public static func detectPreface(_ bytes: ArraySlice<UInt8>) -> HTTP2Preface.Match {
        HTTP2Preface.detect(bytes)
    }

    // MARK: - Reading

    /// Consumes received bytes (starting with the client preface) and returns what they meant.
    /// After a connection error the GOAWAY is in `takeOutput()` and further input is ignored.
    public func feed(_ bytes: some Collection<UInt8>) -> [HTTP2Event] {
        var rest = bytes[...]
        if case .awaitingPreface(var matched) = phase {
            while matched < HTTP2Preface.bytes.count, let byte = rest.first {
                guard byte == HTTP2Preface.bytes[matched] else {
                    connectionError(.protocolError, "invalid connection preface")
                    return drainEvents()
                }
                matched += 1
                rest = rest.dropFirst()
            }
            phase = matched == HTTP2Preface.bytes.count ? .awaitingSettings : .awaitingPreface(matched: matched)
        }
        guard phase == .awaitingSettings || phase == .active else { return drainEvents() }
        frameDecoder.append(rest)
        while phase != .closed {
            do {
                guard let frame = try frameDecoder.nextFrame() else { break }
                try process(frame)
            } catch {
                handle(error)
            }
            if controlFramesSinceDrain > limits.maxPendingControlFrames {
                connectionError(.enhanceYourCalm, "too many control frames without reading replies")
            }
        }
        return drainEvents()
    }

    /// Bytes to write to the socket, in order; empties the buffer.
    public func takeOutput() -> [UInt8] {
        controlFramesSinceDrain = 0
        defer { output = [] }
        return output
    }

    /// Bytes produced but not yet taken.
    public var pendingOutputCount: Int { output.count }

    /// True when the caller should close the socket after writing `takeOutput()`.
    public var isFinished: Bool {
        updateCloseReason()
        return closeReason != nil
    }

    /// Streams currently open or half-closed.
    public var activeStreamCount: Int { streams.count }

    /// Whether stream `id` is open or half-closed (not reset, not finished).
    public func isActive(streamID id: UInt32) -> Bool { streams[id] != nil }

    // MARK: - Errors

    func handle(_ error: HTTP2ProtocolError) {
        switch error {
        case .connection(let code, let reason):
            connectionError(code, reason)
        case .stream(let id, let code, _):
            // A stream error inside a header block would leave HPACK state undefined.
            if headerBlock != nil {
                connectionError(.protocolError, "frame interleaved with a header block")
            } else {
                resetForPeerError(id, code)
            }
        }
    }

    /// Sends GOAWAY with `code` and stops reading (§5.4.1).
    func connectionError(_ code: HTTP2ErrorCode, _ reason: String) {
        guard phase != .closed else { return }
        // Before a valid preface the peer may not speak HTTP/2 at all; a GOAWAY would be noise.
        if case .awaitingPreface = phase {} else {
            write(.init(streamID: 0, payload: .goaway(lastStreamID: highestPeerStreamID, code: code, debugData: Self.debugData(reason))))
        }
        phase = .closed
        closeReason = .connectionError(code, reason)
        for id in streams.keys { dropStream(id) }
    }

    /// Resets a stream because of the peer's error (§5.4.2); counts as a control reply.
    func resetForPeerError(_ id: UInt32, _ code: HTTP2ErrorCode) {
        controlFramesSinceDrain += 1
        write(.init(streamID: id, payload: .rstStream(code)))
        if streams[id] != nil { dropStream(id) }
        rememberClosed(id, by: .us)
    }

    func drainEvents() -> [HTTP2Event] {
        updateCloseReason()
        if let closeReason, !closedEventDelivered {
            closedEventDelivered = true
            events.append(.closed(closeReason))
        }
        defer { events = [] }
        return events
    }

    func updateCloseReason() {
        guard closeReason == nil, streams.isEmpty else { return }
        if let last = goawayLastStreamID, last != HTTP2Constants.maxStreamID {
            closeReason = .gracefulShutdown
        } else if peerSentGoaway {
            closeReason = .peerGoaway
        }
    }

    // MARK: - Bookkeeping shared by receive and send

    /// GOAWAY debug data, capped so a long message can never exceed the peer's frame size.
    static func debugData(_ message: String) -> [UInt8] { Array(message.utf8.prefix(1_024)) }

    func write(_ frame: HTTP2Frame) {
        HTTP2FrameEncoder.encode(frame, into: &output)
    }

    /// Removes a stream and releases its queued bytes from the connection total.
    func dropStream(_ id: UInt32) {
        guard let stream = streams.removeValue(forKey: id) else { return }
        totalQueuedBytes -= stream.queuedBytes
    }

    /// Remembers a closed stream so late frames for it are judged correctly; bounded so a
    /// long-lived connection does not grow without limit.
    func rememberClosed(_ id: UInt32, by: ClosedBy) {
        if recentlyClosed.updateValue(by, forKey: id) == nil { recentlyClosedOrder.append(id) }
        if recentlyClosedOrder.count > 256 {
            recentlyClosed[recentlyClosedOrder.removeFirst()] = nil
        }
    }

    /// Stores a stream back, or removes it once our response is complete.
    ///
    /// A response that ends while the client is still sending (half-closed local) is followed
    /// by RST_STREAM(NO_ERROR), as RFC 9113 §8.1 allows: the request body can no longer matter,
    /// and the stream stops counting against SETTINGS_MAX_CONCURRENT_STREAMS at once.
    func store(_ stream: HTTP2Stream) {
        if stream.state == .closed || stream.state == .halfClosedLocal {
            streams[stream.id] = nil
            totalQueuedBytes -= stream.queuedBytes
            if stream.state == .halfClosedLocal {
                write(.init(streamID: stream.id, payload: .rstStream(.noError)))
                rememberClosed(stream.id, by: .us)
            } else {
                rememberClosed(stream.id, by: .peer)
            }
        } else {
            streams[stream.id] = stream
        }
    }
}
