/// String literals (RFC 7541 §5.2): a Huffman bit, a 7-bit-prefix length, then the octets.
enum HPACKString {
    /// Decodes a string literal at `index`. The length is checked against the octets actually
    /// present, so a peer cannot make us allocate more than the header block it sent.
    static func decode(_ bytes: [UInt8], _ index: inout Int) throws(HPACKError) -> [UInt8] {
        guard index < bytes.count else { throw .truncated }
        let huffman = bytes[index] & 0x80 != 0
        let length = try HPACKInteger.decode(bytes, &index, prefixBits: 7)
        guard length <= bytes.count - index else { throw .truncated }
        let raw = bytes[index..<(index + length)]
        index += length
        return huffman ? try HPACKHuffman.decode(raw) : Array(raw)
    }

    /// Encodes a literal, Huffman-coded only when that is shorter.
    static func encode(_ value: some Collection<UInt8>, huffman: Bool, into out: inout [UInt8]) {
        if huffman {
            let encodedLength = HPACKHuffman.encodedLength(value)
            if encodedLength < value.count {
                HPACKInteger.encode(encodedLength, prefixBits: 7, firstByteFlags: 0x80, into: &out)
                HPACKHuffman.encode(value, into: &out)
                return
            }
        }
        HPACKInteger.encode(value.count, prefixBits: 7, into: &out)
        out.append(contentsOf: value)
    }
}
