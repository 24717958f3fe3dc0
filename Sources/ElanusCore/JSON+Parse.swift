#if canImport(Glibc)
import Glibc
#endif
/// Why a JSON text was rejected, with the byte offset where the parser stopped.
public struct JSONParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public var offset: Int
    public var reason: String
    public var description: String { "\(reason) at offset \(offset)" }
    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }
}

extension JSON {
    /// The deepest nesting accepted. Parsing is recursive, so this bound is what keeps a hostile
    /// body like `[[[[...` from exhausting the thread's stack.
    public static let defaultMaxDepth = 256

    /// Parses one JSON value that fills the whole input (white space aside).
    public static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(JSONParseError) -> JSON {
        try bytes.withUnsafeBufferPointer { buffer throws(JSONParseError) in
            var reader = JSONReader(bytes: buffer, maxDepth: maxDepth)
            return try reader.readDocument()
        }
    }

    public static func parse(_ text: String, maxDepth: Int = defaultMaxDepth) throws(JSONParseError) -> JSON {
        try parse(Array(text.utf8), maxDepth: maxDepth)
    }
}

/// A recursive-descent reader over UTF-8 bytes (RFC 8259, strict: no comments, no trailing
/// commas). It builds `JSON` trees (`readValue`), and it is also a cursor that hot decoders drive
/// directly (`nextMember`, `nextElement`, `readNumber`, `skipValue`) so that a large payload, such
/// as a thousand insert rows of vectors, is decoded without building a tree first.
/// The bytes must outlive the reader.
public struct JSONReader {
    let bytes: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    /// The byte offset of the cursor.
    public internal(set) var index = 0
    var depth = 0

    public init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int = JSON.defaultMaxDepth) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    /// Reads one value that fills the rest of the input (white space aside).
    public mutating func readDocument() throws(JSONParseError) -> JSON {
        skipWhitespace()
        guard index < bytes.count else { throw fail("unexpected end of JSON input") }
        let value = try readValue()
        try expectEnd()
        return value
    }

    /// Checks that nothing but white space follows.
    public mutating func expectEnd() throws(JSONParseError) {
        skipWhitespace()
        if index < bytes.count { throw fail("invalid character \(describe(bytes[index])) after top-level value") }
    }

    public func fail(_ reason: String) -> JSONParseError { JSONParseError(offset: index, reason: reason) }

    /// Moves the cursor back to an offset it was at before (to re-read a value another way).
    public mutating func rewind(to offset: Int) { index = offset }

    /// The next byte after white space, without consuming it; nil at the end.
    public mutating func peek() -> UInt8? {
        skipWhitespace()
        return index < bytes.count ? bytes[index] : nil
    }

    func describe(_ byte: UInt8) -> String {
        if byte >= 0x20 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(String(byte, radix: 16))"
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    public mutating func readValue() throws(JSONParseError) -> JSON {
        guard index < bytes.count else { throw fail("unexpected end of JSON input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail("invalid character \(describe(bytes[index])) looking for beginning of value")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw fail("unexpected end of JSON input") }
        for i in 0..<count where bytes[index + i] != literal.utf8Start[i] {
            index += i
            throw fail("invalid character \(describe(bytes[index])) in literal \(literal)")
        }
        index += count
    }

    mutating func enter() throws(JSONParseError) {
        depth += 1
        if depth > maxDepth { throw fail("exceeded max depth of \(maxDepth)") }
    }

    mutating func parseObject() throws(JSONParseError) -> JSON {
        try enter()
        index += 1
        var members: [(key: String, value: JSON)] = []
        skipWhitespace()
        if index < bytes.count && bytes[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of JSON input") }
            guard bytes[index] == UInt8(ascii: "\"") else {
                throw fail("invalid character \(describe(bytes[index])) looking for beginning of object key string")
            }
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of JSON input") }
            guard bytes[index] == UInt8(ascii: ":") else {
                throw fail("invalid character \(describe(bytes[index])) after object key")
            }
            index += 1
            skipWhitespace()
            members.append((key: key, value: try readValue()))
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of JSON input") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; break }
            throw fail("invalid character \(describe(bytes[index])) after object key:value pair")
        }
        depth -= 1
        return .object(members)
    }

    mutating func parseArray() throws(JSONParseError) -> JSON {
        try enter()
        index += 1
        var elements: [JSON] = []
        skipWhitespace()
        if index < bytes.count && bytes[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try readValue())
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of JSON input") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; break }
            throw fail("invalid character \(describe(bytes[index])) after array element")
        }
        depth -= 1
        return .array(elements)
    }

    mutating func parseString() throws(JSONParseError) -> String {
        index += 1  // opening quote
        let start = index
        // Fast path: no escapes.
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return s
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw fail("invalid control character \(describe(b)) in string literal") }
            index += 1
        }
        var out = Array(bytes[start..<index])
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: out, as: UTF8.self)
            }
            if b < 0x20 { throw fail("invalid control character \(describe(b)) in string literal") }
            if b != UInt8(ascii: "\\") {
                out.append(b)
                index += 1
                continue
            }
            index += 1
            guard index < bytes.count else { break }
            let e = bytes[index]
            index += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try parseHex4()
                if (0xD800..<0xDC00).contains(scalar), index + 6 <= bytes.count,
                    bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                {
                    let save = index
                    index += 2
                    let low = try parseHex4()
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        index = save
                    }
                }
                // Lone surrogates become U+FFFD, as Go does.
                let u = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default:
                index -= 1
                throw fail("invalid character \(describe(e)) in string escape code")
            }
        }
        throw fail("unexpected end of JSON input")
    }

    mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("unexpected end of JSON input") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[index]
            let digit: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b - UInt8(ascii: "A") + 10)
            default: throw fail("invalid character \(describe(b)) in \\u hexadecimal character escape")
            }
            value = value * 16 + digit
            index += 1
        }
        return value
    }

    mutating func parseNumber() throws(JSONParseError) -> JSON {
        let scanned = try scanNumber()
        if scanned.isInteger, scanned.exact, scanned.exponent == 0, scanned.mantissa <= UInt64(Int64.max) {
            return .int(scanned.negative ? -Int64(scanned.mantissa) : Int64(scanned.mantissa))
        }
        if scanned.isInteger, !scanned.exact || scanned.mantissa > UInt64(Int64.max) {
            // Out of the fast path: let the standard library decide (Int64.min, or a double).
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[scanned.start..<index]), as: UTF8.self)
            if let value = Int64(text) { return .int(value) }
        }
        return .double(try double(of: scanned))
    }

    /// Reads a number as a Double (integers included); nil, without moving, when the next value
    /// is not a number. The fast path for vectors.
    public mutating func readDouble() throws(JSONParseError) -> Double? {
        guard let b = peek(), b == UInt8(ascii: "-") || isDigit(b) else { return nil }
        return try double(of: try scanNumber())
    }

    /// A number's parts, scanned and validated against the JSON grammar.
    struct ScannedNumber {
        var start: Int
        var negative = false
        /// Up to 19 significant decimal digits.
        var mantissa: UInt64 = 0
        /// The power of ten that scales `mantissa`.
        var exponent = 0
        var isInteger = true
        /// False when digits were dropped, so `mantissa * 10^exponent` is not the exact value.
        var exact = true
    }

    mutating func scanNumber() throws(JSONParseError) -> ScannedNumber {
        var n = ScannedNumber(start: index)
        var digits = 0
        @inline(__always) func take(_ b: UInt8, _ n: inout ScannedNumber, fraction: Bool) {
            if digits < 19 {
                n.mantissa = n.mantissa &* 10 &+ UInt64(b &- UInt8(ascii: "0"))
                if n.mantissa != 0 { digits += 1 }
                if fraction { n.exponent -= 1 }
            } else {
                if b != UInt8(ascii: "0") { n.exact = false }
                if !fraction { n.exponent += 1 }
            }
        }
        if bytes[index] == UInt8(ascii: "-") {
            n.negative = true
            index += 1
        }
        guard index < bytes.count, isDigit(bytes[index]) else {
            throw fail("invalid character in numeric literal")
        }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count && isDigit(bytes[index]) {
                take(bytes[index], &n, fraction: false)
                index += 1
            }
        }
        if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
            n.isInteger = false
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw fail("invalid character after decimal point in numeric literal") }
            while index < bytes.count && isDigit(bytes[index]) {
                take(bytes[index], &n, fraction: true)
                index += 1
            }
        }
        if index < bytes.count && (bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E")) {
            n.isInteger = false
            index += 1
            var negativeExponent = false
            if index < bytes.count && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) {
                negativeExponent = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            guard index < bytes.count, isDigit(bytes[index]) else { throw fail("invalid character in exponent of numeric literal") }
            var e = 0
            while index < bytes.count && isDigit(bytes[index]) {
                if e < 100_000 { e = e * 10 + Int(bytes[index] - UInt8(ascii: "0")) }
                index += 1
            }
            n.exponent += negativeExponent ? -e : e
        }
        return n
    }

    /// The double nearest to a scanned number. Exact small mantissas with small powers of ten
    /// take Clinger's fast path (one correctly rounded multiply or divide); the rest go to the
    /// standard library's correctly rounded parser.
    mutating func double(of n: ScannedNumber) throws(JSONParseError) -> Double {
        if n.exact && n.mantissa <= (1 << 53) && n.exponent >= -22 && n.exponent <= 22 {
            let m = Double(n.mantissa)
            let value = n.exponent < 0 ? m / JSONReader.powersOfTen[-n.exponent] : m * JSONReader.powersOfTen[n.exponent]
            return n.negative ? -value : value
        }
        // strtod over a NUL-terminated copy on the stack (the scan already checked the syntax),
        // not a String per number: a 17-digit float, as Python writes them, comes this way.
        let length = index - n.start
        let value: Double? = length < 64
            ? withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { text in
                for i in 0..<length { text[i] = CChar(bitPattern: bytes[n.start + i]) }
                text[length] = 0
                return strtod(text.baseAddress!, nil)
            }
            : Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[n.start..<index]), as: UTF8.self))
        guard let value, value.isFinite else {
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[n.start..<index]), as: UTF8.self)
            throw JSONParseError(offset: n.start, reason: "number \(text) is out of range")
        }
        return value
    }

    static let powersOfTen: [Double] = (0...22).map { e in (0..<e).reduce(1.0) { acc, _ in acc * 10 } }

    @inline(__always) func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
}
