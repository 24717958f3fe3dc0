/// SETTINGS parameter identifiers (RFC 9113 §6.5.2). Unknown identifiers are kept and ignored.
public struct HTTP2SettingID: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let headerTableSize = HTTP2SettingID(rawValue: 0x1)
    public static let enablePush = HTTP2SettingID(rawValue: 0x2)
    public static let maxConcurrentStreams = HTTP2SettingID(rawValue: 0x3)
    public static let initialWindowSize = HTTP2SettingID(rawValue: 0x4)
    public static let maxFrameSize = HTTP2SettingID(rawValue: 0x5)
    public static let maxHeaderListSize = HTTP2SettingID(rawValue: 0x6)
}

/// One identifier/value pair of a SETTINGS frame.
public struct HTTP2Setting: Hashable, Sendable {
    public var id: HTTP2SettingID
    public var value: UInt32
    public init(_ id: HTTP2SettingID, _ value: UInt32) {
        self.id = id
        self.value = value
    }
}

/// Protocol constants from RFC 9113 that several files share.
public enum HTTP2Constants {
    /// Both frame size bounds come from §4.2: every endpoint accepts 16 KiB, none may ask for 16 MiB.
    public static let defaultMaxFrameSize = 16_384
    public static let maxAllowedFrameSize = (1 << 24) - 1
    /// Flow-control windows may never exceed 2^31-1 (§6.9.1).
    public static let maxWindowSize = Int(Int32.max)
    public static let defaultInitialWindowSize = 65_535
    public static let defaultHeaderTableSize = 4_096
    public static let frameHeaderLength = 9
    /// The highest stream identifier (31 bits); also the first GOAWAY of a graceful shutdown.
    public static let maxStreamID: UInt32 = 0x7fff_ffff
}
