/// Prefix-coded integers (RFC 7541 §5.1).
enum HPACKInteger {
    /// Values we accept: header lengths and indexes never come near 2^32, and capping here
    /// keeps every later `Int` addition safe from overflow.
    static let maxValue = Int(UInt32.max)

    /// Appends `value` with an `prefixBits`-bit prefix; `firstByteFlags` fills the bits above it.
    static func encode(_ value: Int, prefixBits: Int, firstByteFlags: UInt8 = 0, into out: inout [UInt8]) {
        let limit = (1 << prefixBits) - 1
        if value < limit {
            out.append(firstByteFlags | UInt8(value))
            return
        }
        out.append(firstByteFlags | UInt8(limit))
        var rest = value - limit
        while rest >= 128 {
            out.append(UInt8(rest & 0x7f) | 0x80)
            rest >>= 7
        }
        out.append(UInt8(rest))
    }

    /// Decodes an integer whose prefix starts at `bytes[index]`, advancing `index`.
    static func decode(_ bytes: [UInt8], _ index: inout Int, prefixBits: Int) throws(HPACKError) -> Int {
        guard index < bytes.count else { throw .truncated }
        let limit = (1 << prefixBits) - 1
        var value = Int(bytes[index]) & limit
        index += 1
        if value < limit { return value }
        var shift = 0
        while true {
            guard index < bytes.count else { throw .truncated }
            let byte = bytes[index]
            index += 1
            // Five continuation bytes carry 35 bits; more can only be padding zeros or an attack.
            guard shift <= 28 else { throw .integerOverflow }
            value += Int(byte & 0x7f) << shift
            guard value <= maxValue else { throw .integerOverflow }
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }
}
