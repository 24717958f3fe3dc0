/// A violation of RFC 9113 or RFC 7541 by the peer, classified the way §5.4 asks us to react.
///
/// A connection error ends the whole connection with GOAWAY; a stream error resets only the one
/// stream with RST_STREAM and the connection carries on.
public enum HTTP2ProtocolError: Error, Equatable, Sendable {
    case connection(HTTP2ErrorCode, String)
    case stream(UInt32, HTTP2ErrorCode, String)

    public var code: HTTP2ErrorCode {
        switch self {
        case .connection(let code, _), .stream(_, let code, _): code
        }
    }
}
