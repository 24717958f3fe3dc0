/// The client connection preface (RFC 9113 §3.4), used to tell HTTP/2 prior knowledge from
/// HTTP/1.1 on a shared port.
public enum HTTP2Preface {
    public static let bytes: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    public enum Match: Equatable, Sendable {
        case yes
        case no
        /// Every byte so far matches, but the preface is not complete.
        case needMore
    }

    /// Whether `bytes` start with the preface. Decides `.no` at the first differing byte, so an
    /// HTTP/1.1 request line ("POST ...", "GET ...") is classified from its first octet.
    public static func detect(_ bytes: ArraySlice<UInt8>) -> Match {
        for (offset, byte) in bytes.prefix(Self.bytes.count).enumerated() where byte != Self.bytes[offset] {
            return .no
        }
        return bytes.count >= Self.bytes.count ? .yes : .needMore
    }
}
