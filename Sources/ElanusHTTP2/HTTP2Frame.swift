/// The frame types of RFC 9113 §6, by their wire code.
public enum HTTP2FrameType: UInt8, Sendable {
    case data = 0x0
    case headers = 0x1
    case priority = 0x2
    case rstStream = 0x3
    case settings = 0x4
    case pushPromise = 0x5
    case ping = 0x6
    case goaway = 0x7
    case windowUpdate = 0x8
    case continuation = 0x9
}

/// Frame flags. The same bit means different things per type (ACK and END_STREAM are both 0x1).
public struct HTTP2FrameFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let endStream = HTTP2FrameFlags(rawValue: 0x1)
    public static let ack = HTTP2FrameFlags(rawValue: 0x1)
    public static let endHeaders = HTTP2FrameFlags(rawValue: 0x4)
    public static let padded = HTTP2FrameFlags(rawValue: 0x8)
    public static let priority = HTTP2FrameFlags(rawValue: 0x20)
}

/// The deprecated priority signal (RFC 9113 §5.3.2). We parse and validate it, then ignore it.
public struct HTTP2PriorityInfo: Hashable, Sendable {
    public var exclusive: Bool
    public var dependency: UInt32
    /// Wire weight (0-255, meaning 1-256).
    public var weight: UInt8

    public init(exclusive: Bool = false, dependency: UInt32 = 0, weight: UInt8 = 15) {
        self.exclusive = exclusive
        self.dependency = dependency
        self.weight = weight
    }
}

/// One parsed HTTP/2 frame as a plain value.
///
/// `padding` is the number of padding octets of a PADDED frame, or nil when the flag is unset;
/// the pad-length octet itself is implied by the flag.
public struct HTTP2Frame: Hashable, Sendable {
    public enum Payload: Hashable, Sendable {
        case data(bytes: [UInt8], endStream: Bool, padding: UInt8?)
        case headers(block: [UInt8], endStream: Bool, endHeaders: Bool, priority: HTTP2PriorityInfo?, padding: UInt8?)
        case priority(HTTP2PriorityInfo)
        case rstStream(HTTP2ErrorCode)
        case settings(ack: Bool, [HTTP2Setting])
        case pushPromise(promisedStreamID: UInt32, block: [UInt8], endHeaders: Bool, padding: UInt8?)
        case ping(ack: Bool, opaque: UInt64)
        case goaway(lastStreamID: UInt32, code: HTTP2ErrorCode, debugData: [UInt8])
        case windowUpdate(increment: UInt32)
        case continuation(block: [UInt8], endHeaders: Bool)
        /// Unknown types must be ignored (§4.1, §5.5); kept so a caller can see them.
        case unknown(type: UInt8, flags: UInt8, payload: [UInt8])
    }

    public var streamID: UInt32
    public var payload: Payload

    public init(streamID: UInt32, payload: Payload) {
        self.streamID = streamID
        self.payload = payload
    }

    /// Octets that count against flow control (§6.9.1): the whole DATA payload, padding included.
    public var flowControlledLength: Int {
        guard case .data(let bytes, _, let padding) = payload else { return 0 }
        return bytes.count + (padding.map { Int($0) + 1 } ?? 0)
    }
}
