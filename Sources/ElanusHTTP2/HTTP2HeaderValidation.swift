/// Checks that make a request or trailer block "malformed" (RFC 9113 §8.1.1, §8.2, §8.3.1).
/// A malformed message is a stream error of type PROTOCOL_ERROR; the text says why, for logs.
enum HTTP2HeaderValidation {
    /// Returns why a request header block is malformed, or nil when it is fine.
    static func requestProblem(_ headers: [HTTP2Header]) -> String? {
        // The four request pseudo-headers as bits (no set of strings per request).
        let method = 1, scheme = 2, authority = 4, path = 8
        var seen = 0
        var regularStarted = false
        for header in headers {
            if let problem = fieldProblem(header) { return problem }
            if header.name.utf8.first == UInt8(ascii: ":") {
                guard !regularStarted else { return "pseudo-header \(header.name) after a regular field" }
                let bit: Int
                switch header.name {
                case ":method": bit = method
                case ":scheme": bit = scheme
                case ":authority": bit = authority
                case ":path": bit = path
                default: return "unknown pseudo-header \(header.name)"
                }
                guard seen & bit == 0 else { return "duplicate \(header.name)" }
                seen |= bit
            } else {
                regularStarted = true
            }
        }
        guard seen & method != 0 else { return "missing :method" }
        if headers.first(":method") == "CONNECT" {
            guard seen & authority != 0, seen & scheme == 0, seen & path == 0 else { return "malformed CONNECT" }
        } else {
            guard seen & scheme != 0 else { return "missing :scheme" }
            guard let path = headers.first(":path"), !path.isEmpty else { return "missing or empty :path" }
        }
        return nil
    }

    /// Returns why a trailer block is malformed, or nil.
    static func trailerProblem(_ headers: [HTTP2Header]) -> String? {
        for header in headers {
            if let problem = fieldProblem(header) { return problem }
            if header.name.hasPrefix(":") { return "pseudo-header \(header.name) in trailers" }
        }
        return nil
    }

    /// Field-level rules: lower-case token names, values without CR/LF/NUL or edge whitespace.
    private static func fieldProblem(_ header: HTTP2Header) -> String? {
        let name = header.name.utf8
        guard !name.isEmpty else { return "empty field name" }
        var first = true
        for byte in name {
            // ':' is legal only as the first octet (pseudo-headers).
            defer { first = false }
            if byte == UInt8(ascii: ":") && first { continue }
            guard isTokenByte(byte), !(UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) else {
                return "invalid character in field name \(header.name)"
            }
        }
        // Connection-specific fields, which HTTP/2 forbids (§8.2.2).
        switch header.name {
        case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade": return "connection-specific field \(header.name)"
        default: break
        }
        if header.name == "te" && header.value != "trailers" { return "te other than trailers" }
        let value = header.value.utf8
        if value.contains(where: { $0 == 0 || $0 == 0x0a || $0 == 0x0d }) { return "CR, LF or NUL in \(header.name)" }
        if let first = value.first, first == 0x20 || first == 0x09 { return "leading whitespace in \(header.name)" }
        if let last = value.last, last == 0x20 || last == 0x09 { return "trailing whitespace in \(header.name)" }
        return nil
    }

    /// RFC 9110 §5.6.2 tchar.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        // A switch over literals: this runs for every byte of every header name of every request.
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }
}
