/// Encodes header lists (RFC 7541 §6) without touching the dynamic table.
///
/// Fields that match a static entry exactly are indexed; everything else is a literal without
/// indexing, with the name indexed from the static table when it is there. Never inserting into
/// the dynamic table means the peer's SETTINGS_HEADER_TABLE_SIZE can never matter to us and
/// no size update is ever owed. Stateless, so safe to share.
public struct HPACKEncoder: Sendable {
    /// Huffman-code literals when that is shorter.
    public var useHuffman: Bool

    public init(useHuffman: Bool = true) { self.useHuffman = useHuffman }

    public func encode(_ headers: [HTTP2Header]) -> [UInt8] {
        var out: [UInt8] = []
        for header in headers { encode(header, into: &out) }
        return out
    }

    public func encode(_ header: HTTP2Header, into out: inout [UInt8]) {
        if let index = HPACKStaticTable.fieldIndex[header] {
            HPACKInteger.encode(index, prefixBits: 7, firstByteFlags: 0x80, into: &out)
            return
        }
        if let nameIndex = HPACKStaticTable.nameIndex[header.name] {
            HPACKInteger.encode(nameIndex, prefixBits: 4, into: &out)
        } else {
            out.append(0)
            HPACKString.encode(header.name.utf8, huffman: useHuffman, into: &out)
        }
        HPACKString.encode(header.value.utf8, huffman: useHuffman, into: &out)
    }
}
