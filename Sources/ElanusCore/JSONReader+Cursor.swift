/// Cursor operations for decoders that walk a document without building it.
extension JSONReader {
    /// Enters an object: consumes `{`, or fails naming what was found instead.
    public mutating func beginObject() throws(JSONParseError) {
        guard peek() == UInt8(ascii: "{") else { throw unexpected("looking for beginning of object") }
        try enter()
        index += 1
    }

    /// Enters an array: consumes `[`.
    public mutating func beginArray() throws(JSONParseError) {
        guard peek() == UInt8(ascii: "[") else { throw unexpected("looking for beginning of array") }
        try enter()
        index += 1
    }

    /// The next member's key of the object entered last, with the cursor on its value; nil (and
    /// the object left) at `}`. `first` must start true for each object.
    public mutating func nextMember(_ first: inout Bool) throws(JSONParseError) -> String? {
        guard try nextItem(&first, close: UInt8(ascii: "}"), what: "object key:value pair") else { return nil }
        guard peek() == UInt8(ascii: "\"") else { throw unexpected("looking for beginning of object key string") }
        let key = try parseString()
        guard peek() == UInt8(ascii: ":") else { throw unexpected("after object key") }
        index += 1
        skipWhitespace()
        return key
    }

    /// Whether the array entered last has another element (the cursor is then on it); false (and
    /// the array left) at `]`.
    public mutating func nextElement(_ first: inout Bool) throws(JSONParseError) -> Bool {
        try nextItem(&first, close: UInt8(ascii: "]"), what: "array element")
    }

    private mutating func nextItem(_ first: inout Bool, close: UInt8, what: String) throws(JSONParseError) -> Bool {
        guard let b = peek() else { throw fail("unexpected end of JSON input") }
        if b == close {
            index += 1
            depth -= 1
            return false
        }
        if first {
            first = false
        } else {
            guard b == UInt8(ascii: ",") else { throw unexpected("after \(what)") }
            index += 1
            skipWhitespace()
        }
        return true
    }

    /// Steps over one value, checking its syntax, without allocating anything.
    public mutating func skipValue() throws(JSONParseError) {
        guard let b = peek() else { throw fail("unexpected end of JSON input") }
        switch b {
        case UInt8(ascii: "{"):
            try beginObject()
            var first = true
            while try nextMember(&first) != nil { try skipValue() }
        case UInt8(ascii: "["):
            try beginArray()
            var first = true
            while try nextElement(&first) { try skipValue() }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            _ = try scanNumber()
        case UInt8(ascii: "\""):
            try skipString()
        default:
            _ = try readValue()  // a literal, or the error for what is there
        }
    }

    /// Steps over a string, validating escapes and control characters.
    mutating func skipString() throws(JSONParseError) {
        let open = index
        index += 1
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                index += 1
                return
            }
            if b == UInt8(ascii: "\\") {
                // Escapes are rare in skipped values: let the full parser validate this one.
                index = open
                _ = try parseString()
                return
            }
            if b < 0x20 { throw fail("invalid control character \(describe(b)) in string literal") }
            index += 1
        }
        throw fail("unexpected end of JSON input")
    }

    func unexpected(_ context: String) -> JSONParseError {
        guard index < bytes.count else { return fail("unexpected end of JSON input") }
        return fail("invalid character \(describe(bytes[index])) \(context)")
    }
}
