/// RFC 4180 records: cells separated by one byte, records by CRLF or LF, `"` quoting with `""`
/// for a quote inside. A quoted cell may span lines; each record reports the line it starts on.
struct CSVParser {
    let bytes: [UInt8]
    let separator: UInt8
    private var index = 0
    private var line = 1

    init(bytes: [UInt8], separator: UInt8) {
        self.bytes = bytes
        self.separator = separator
        // A UTF-8 byte order mark is not part of the first field's name.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
    }

    /// The next record that is not an empty line, and its line; nil at the end.
    mutating func next() throws(RowTexts.Failure) -> ([String], Int)? {
        while index < bytes.count {
            let start = line
            if bytes[index] == UInt8(ascii: "\n") || (bytes[index] == UInt8(ascii: "\r") && index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\n")) {
                index += bytes[index] == UInt8(ascii: "\r") ? 2 : 1
                line += 1
                continue
            }
            var cells: [String] = []
            while true {
                cells.append(try cell(recordLine: start))
                guard index < bytes.count else { return (cells, start) }
                let b = bytes[index]
                if b == separator {
                    index += 1
                    continue
                }
                // End of record: LF or CRLF.
                index += b == UInt8(ascii: "\r") ? 2 : 1
                line += 1
                return (cells, start)
            }
        }
        return nil
    }

    private mutating func cell(recordLine: Int) throws(RowTexts.Failure) -> String {
        var out: [UInt8] = []
        if index < bytes.count && bytes[index] == UInt8(ascii: "\"") {
            index += 1
            while true {
                guard index < bytes.count else { throw RowTexts.Failure(line: recordLine, reason: "a quoted cell is not closed") }
                let b = bytes[index]
                index += 1
                if b == UInt8(ascii: "\"") {
                    if index < bytes.count && bytes[index] == UInt8(ascii: "\"") {
                        out.append(b)
                        index += 1
                        continue
                    }
                    break
                }
                if b == UInt8(ascii: "\n") { line += 1 }
                out.append(b)
            }
            guard index >= bytes.count || isEnd(bytes[index]) else {
                throw RowTexts.Failure(line: line, reason: "unexpected text after a quoted cell")
            }
        } else {
            while index < bytes.count && !isEnd(bytes[index]) {
                if bytes[index] == UInt8(ascii: "\"") { throw RowTexts.Failure(line: line, reason: "a quote inside an unquoted cell (quote the whole cell and double the quote)") }
                out.append(bytes[index])
                index += 1
            }
        }
        guard let text = String(validating: out, as: UTF8.self) else { throw RowTexts.Failure(line: recordLine, reason: "a cell is not valid UTF-8") }
        return text
    }

    private func isEnd(_ b: UInt8) -> Bool {
        b == separator || b == UInt8(ascii: "\n") || (b == UInt8(ascii: "\r") && index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\n"))
    }
}
