import ElanusCore

/// The rows of a row-based import file as JSON object texts, each with the line it starts on,
/// ready for `EntityRowDecoder`: a JSON file (an array of rows, or Milvus's `{"rows": [...]}`),
/// JSON lines, or CSV turned into one object per record.
struct RowTexts {
    /// The bytes the rows point into.
    var buffer: [UInt8]
    var rows: [(start: Int, end: Int, line: Int)] = []

    /// Why a file cannot be read, with the line it happened on (1-based; 0 for the whole file).
    struct Failure: Error {
        var line: Int
        var reason: String
    }

    /// A JSON document holding an array of row objects, or an object whose `rows` is one.
    static func json(_ bytes: [UInt8]) throws(Failure) -> RowTexts {
        var out = RowTexts(buffer: bytes)
        var lines = LineCounter()
        do throws(JSONParseError) {
            try bytes.withUnsafeBufferPointer { (buffer: UnsafeBufferPointer<UInt8>) throws(JSONParseError) in
                var reader = JSONReader(bytes: buffer)
                _ = reader.peek()
                if reader.peek() == UInt8(ascii: "{") {
                    try reader.beginObject()
                    var first = true
                    var found = false
                    while let key = try reader.nextMember(&first) {
                        if key == "rows" && !found {
                            found = true
                            try out.readArray(&reader, &lines)
                        } else {
                            try reader.skipValue()
                        }
                    }
                    if !found { throw JSONParseError(offset: 0, reason: "the file is a JSON object without a \"rows\" array") }
                } else {
                    try out.readArray(&reader, &lines)
                }
                try reader.expectEnd()
            }
        } catch {
            throw Failure(line: lines.line(at: error.offset, in: bytes), reason: "invalid JSON: \(error.reason)")
        }
        return out
    }

    private mutating func readArray(_ reader: inout JSONReader, _ lines: inout LineCounter) throws(JSONParseError) {
        _ = reader.peek()
        guard reader.peek() == UInt8(ascii: "[") else { throw JSONParseError(offset: reader.index, reason: "expected an array of rows") }
        try reader.beginArray()
        var first = true
        while try reader.nextElement(&first) {
            _ = reader.peek()
            let start = reader.index
            guard reader.peek() == UInt8(ascii: "{") else { throw JSONParseError(offset: start, reason: "a row must be a JSON object") }
            try reader.skipValue()
            rows.append((start, reader.index, lines.line(at: start, in: buffer)))
        }
    }

    /// One JSON object per line; blank lines are skipped.
    static func jsonLines(_ bytes: [UInt8]) throws(Failure) -> RowTexts {
        var out = RowTexts(buffer: bytes)
        var line = 0
        var start = 0
        while start < bytes.count {
            line += 1
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
            var first = start
            var last = end
            while first < last && isSpace(bytes[first]) { first += 1 }
            while last > first && isSpace(bytes[last - 1]) { last -= 1 }
            if first < last {
                guard bytes[first] == UInt8(ascii: "{") else { throw Failure(line: line, reason: "a row must be a JSON object") }
                out.rows.append((first, last, line))
            }
            start = end + 1
        }
        return out
    }

    /// CSV with a header row of field names. Each cell becomes the member of that name: VarChar,
    /// Geometry (WKT) and Timestamptz (ISO 8601) cells as strings, every other cell as JSON text (numbers, `true`/`false`, vectors and
    /// arrays as `[...]`, JSON documents). A cell equal to `nullKey` is left out, so the field
    /// takes its default or null.
    static func csv(_ bytes: [UInt8], schema: CollectionSchema, separator: UInt8, nullKey: String) throws(Failure) -> RowTexts {
        var records = CSVParser(bytes: bytes, separator: separator)
        guard let (header, _) = try records.next() else { throw Failure(line: 0, reason: "the CSV file is empty: it needs a header row") }
        let fields = header.map { name in schema.fields.first { $0.name == name } }
        for (i, name) in header.enumerated() where fields[i] == nil && !schema.enableDynamicField {
            throw Failure(line: 1, reason: "column '\(name)' is not a field of the collection (and the collection has no dynamic field)")
        }
        if let duplicate = Dictionary(grouping: header, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw Failure(line: 1, reason: "column '\(duplicate)' appears twice in the header")
        }
        var out = RowTexts(buffer: [])
        out.buffer.reserveCapacity(bytes.count + bytes.count / 4)
        while let (cells, line) = try records.next() {
            guard cells.count == header.count else {
                throw Failure(line: line, reason: "the record has \(cells.count) cells but the header has \(header.count)")
            }
            let start = out.buffer.count
            out.buffer.append(UInt8(ascii: "{"))
            var firstMember = true
            for (i, cell) in cells.enumerated() where cell != nullKey {
                if !firstMember { out.buffer.append(UInt8(ascii: ",")) }
                firstMember = false
                JSON.string(header[i]).write(into: &out.buffer)
                out.buffer.append(UInt8(ascii: ":"))
                switch fields[i]?.dataType {
                case .varChar?, .string?, .text?, .geometry?, .timestamptz?: JSON.string(cell).write(into: &out.buffer)
                case nil:
                    // A dynamic key: JSON text when the cell is some (`42`, `true`, `[1,2]`), else a string.
                    if let value = try? JSON.parse(Array(cell.utf8)) { value.write(into: &out.buffer) } else { JSON.string(cell).write(into: &out.buffer) }
                default: out.buffer.append(contentsOf: cell.utf8)
                }
            }
            out.buffer.append(UInt8(ascii: "}"))
            out.rows.append((start, out.buffer.count, line))
        }
        return out
    }

    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
}

/// Line numbers of byte offsets, counted forward from the last offset asked (offsets asked in
/// increasing order cost one pass over the file in all).
struct LineCounter {
    private var offset = 0
    private var lines = 1

    mutating func line(at target: Int, in bytes: [UInt8]) -> Int {
        if target < offset { (offset, lines) = (0, 1) }
        let end = min(target, bytes.count)
        while offset < end {
            if bytes[offset] == UInt8(ascii: "\n") { lines += 1 }
            offset += 1
        }
        return lines
    }
}
