/// Decodes header blocks (RFC 7541 §6) and keeps the dynamic table in step with the peer.
///
/// Every block must be decoded to its end even when its headers will be thrown away, or the
/// dynamic table would drift from the peer's encoder. The decoded list is therefore bounded by
/// *not storing* fields past `maxHeaderListSize` rather than by stopping early; the caller sees
/// `exceededListSize` and refuses the request.
///
/// Not thread-safe; owned by one connection.
public struct HPACKDecoder: Sendable {
    public struct Result: Sendable, Equatable {
        /// The fields decoded, in order; cut short if the list exceeded the limit.
        public var headers: [HTTP2Header]
        /// The list's size by RFC 7541 §4.1 accounting (32 + name + value per field).
        public var listSize: Int
        public var exceededListSize: Bool
    }

    /// The most the table may hold: the SETTINGS_HEADER_TABLE_SIZE we advertised. A size update
    /// above it is a COMPRESSION_ERROR (§6.3).
    public var maxAllowedTableSize: Int {
        didSet { if table.maxSize > maxAllowedTableSize { table.setMaxSize(maxAllowedTableSize) } }
    }
    public var maxHeaderListSize: Int
    private var table: HPACKDynamicTable

    public init(maxTableSize: Int = HTTP2Constants.defaultHeaderTableSize, maxHeaderListSize: Int = 16_384) {
        self.maxAllowedTableSize = maxTableSize
        self.maxHeaderListSize = maxHeaderListSize
        self.table = HPACKDynamicTable(maxSize: maxTableSize)
    }

    /// Current dynamic table size in octets (for tests and diagnostics).
    public var dynamicTableSize: Int { table.size }
    public var dynamicTableCount: Int { table.count }

    public mutating func decode(_ block: [UInt8]) throws(HPACKError) -> Result {
        var result = Result(headers: [], listSize: 0, exceededListSize: false)
        var index = 0
        var sawField = false
        while index < block.count {
            let byte = block[index]
            if byte & 0x80 != 0 {
                let i = try HPACKInteger.decode(block, &index, prefixBits: 7)
                record(try lookup(i), into: &result)
            } else if byte & 0xc0 == 0x40 {
                let (header, octets) = try literal(block, &index, prefixBits: 6)
                table.add(header, octets: octets)
                record(header, into: &result)
            } else if byte & 0xe0 == 0x20 {
                // §4.2: size updates come only before the first field of a block.
                guard !sawField else { throw .tableSizeUpdateMisplaced }
                let newSize = try HPACKInteger.decode(block, &index, prefixBits: 5)
                guard newSize <= maxAllowedTableSize else { throw .tableSizeUpdateTooLarge(newSize) }
                table.setMaxSize(newSize)
                continue
            } else {
                // 0000xxxx without indexing, 0001xxxx never indexed: same shape, not stored.
                let (header, _) = try literal(block, &index, prefixBits: 4)
                record(header, into: &result)
            }
            sawField = true
        }
        return result
    }

    private func lookup(_ index: Int) throws(HPACKError) -> HTTP2Header {
        if index >= 1 && index <= HPACKStaticTable.entries.count { return HPACKStaticTable.entries[index - 1] }
        if let header = table[index - HPACKStaticTable.entries.count] { return header }
        throw .invalidIndex(index)
    }

    /// A literal field: name by index (non-zero prefix) or literal, then the value literal.
    /// Returns the header and its name+value octet count for table accounting.
    private func literal(_ block: [UInt8], _ index: inout Int, prefixBits: Int) throws(HPACKError) -> (HTTP2Header, Int) {
        let nameIndex = try HPACKInteger.decode(block, &index, prefixBits: prefixBits)
        let name: String
        let nameOctets: Int
        if nameIndex == 0 {
            let raw = try HPACKString.decode(block, &index)
            name = String(decoding: raw, as: UTF8.self)
            nameOctets = raw.count
        } else {
            name = try lookup(nameIndex).name
            nameOctets = name.utf8.count
        }
        let value = try HPACKString.decode(block, &index)
        return (HTTP2Header(name, String(decoding: value, as: UTF8.self)), nameOctets + value.count)
    }

    private func record(_ header: HTTP2Header, into result: inout Result) {
        result.listSize += header.hpackSize
        if result.listSize > maxHeaderListSize {
            result.exceededListSize = true
        } else {
            result.headers.append(header)
        }
    }
}
