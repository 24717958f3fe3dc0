/// A stream's lifecycle (RFC 9113 §5.1) from the server's side.
///
/// Idle and closed streams are not stored: a stream enters the connection's table when its
/// HEADERS arrive and leaves it on reaching `closed`. The reserved states exist only for server
/// push, which we never do (we advertise SETTINGS_ENABLE_PUSH = 0).
enum HTTP2StreamState: Equatable, Sendable {
    case open
    /// We sent END_STREAM; the peer may still send.
    case halfClosedLocal
    /// The peer sent END_STREAM; we may still send.
    case halfClosedRemote
    case closed

    var canReceive: Bool { self == .open || self == .halfClosedLocal }
    var canSend: Bool { self == .open || self == .halfClosedRemote }

    func receivedEndStream() -> HTTP2StreamState {
        switch self {
        case .open: .halfClosedRemote
        case .halfClosedLocal, .closed, .halfClosedRemote: .closed
        }
    }

    func sentEndStream() -> HTTP2StreamState {
        switch self {
        case .open: .halfClosedLocal
        case .halfClosedRemote, .closed, .halfClosedLocal: .closed
        }
    }
}
