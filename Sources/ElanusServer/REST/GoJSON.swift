import ElanusCore

/// How Milvus's Go code sees a request body, for the places where Elanus must read it the same
/// way:
/// - `encoding/json` matches an object key to a struct field by its JSON tag, exactly or else
///   case-insensitively (`bytes.EqualFold`), while keys of a map stay exact;
/// - a value decoded into `interface{}` and printed with `fmt.Sprintf("%v")` (how the handler
///   turns `params` values into text) has Go's spelling: numbers are float64, so `1000000`
///   prints as `1e+06`;
/// - `strconv.ParseBool` accepts exactly twelve spellings.
enum GoJSON {
    /// Whether the object key `key` selects the struct field tagged `field`. `field` is always an
    /// ASCII tag; Go folds by Unicode simple case folding, whose only non-ASCII members of the
    /// orbit of an ASCII letter are the Kelvin sign (k) and the long s (s), so this is exact for
    /// ASCII tags.
    static func keyMatches(_ key: String, field: String) -> Bool {
        // Every request's decoders make a few hundred of these comparisons: ASCII keys (nearly
        // all) are compared byte by byte over their storage, the rest scalar by scalar below.
        // (Not `==`, which would equate canonically equivalent keys that Go tells apart.)
        if let decided = key.utf8.withContiguousStorageIfAvailable({ k in
            field.utf8.withContiguousStorageIfAvailable { f in asciiKeyMatches(k, f) } ?? nil
        }) ?? nil {
            return decided
        }
        if key.utf8.elementsEqual(field.utf8) { return true }
        var k = key.unicodeScalars.makeIterator()
        var f = field.unicodeScalars.makeIterator()
        while true {
            switch (k.next(), f.next()) {
            case (nil, nil): return true
            case let (a?, b?): guard fold(a) == fold(b) else { return false }
            default: return false
            }
        }
    }

    /// `keyMatches` while both keys are ASCII; nil at the first non-ASCII byte, where the
    /// scalar comparison decides (up to there the bytes are the scalars, so positions agree).
    private static func asciiKeyMatches(_ k: UnsafeBufferPointer<UInt8>, _ f: UnsafeBufferPointer<UInt8>) -> Bool? {
        var i = 0
        while i < k.count && i < f.count {
            let a = k[i], b = f[i]
            if (a | b) >= 0x80 { return nil }
            if a != b && (a >= 0x41 && a <= 0x5A ? a + 0x20 : a) != (b >= 0x41 && b <= 0x5A ? b + 0x20 : b) { return false }
            i += 1
        }
        // The shorter key has ended; the longer has at least one more scalar.
        return k.count == f.count
    }

    private static func fold(_ scalar: Unicode.Scalar) -> UInt32 {
        switch scalar.value {
        case 0x41...0x5A: scalar.value + 0x20
        case 0x212A: 0x6B  // KELVIN SIGN folds with k
        case 0x017F: 0x73  // LATIN SMALL LETTER LONG S folds with s
        default: scalar.value
        }
    }

    /// `strconv.ParseBool`.
    static func parseBool(_ text: String) -> Bool? { GoBool.parse(text) }

    /// The error `strconv.ParseBool` returns for `text`.
    static func parseBoolError(_ text: String) -> String { "strconv.ParseBool: parsing \(quote(text)): invalid syntax" }

    /// `fmt.Sprintf("%v", v)` of the value `encoding/json` decodes `json` into as `interface{}`.
    static func text(_ json: JSON) -> String {
        switch json {
        case .null: return "<nil>"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return number(Double(i))
        case .double(let d): return number(d)
        case .string(let s): return s
        case .array(let items): return "[" + items.map(text).joined(separator: " ") + "]"
        case .object(let members):
            // A Go map: the last value of a key wins, and fmt prints the keys sorted.
            var values: [String: JSON] = [:]
            for member in members { values[member.key] = member.value }
            return "map[" + values.keys.sorted().map { "\($0):\(text(values[$0]!))" }.joined(separator: " ") + "]"
        }
    }

    /// A float64 as `%v` prints it: the shortest digits that round-trip, in `%e` form when the
    /// decimal exponent is below -4 or at least 6 (`1e+06`, `2.592e+06`), else in `%f` form.
    static func number(_ d: Double) -> String {
        guard d.isFinite else { return d.isNaN ? "NaN" : (d < 0 ? "-Inf" : "+Inf") }
        // Swift's description is also the shortest round-tripping decimal; take its digits.
        var description = Substring(d.magnitude.description)
        var exponent = 0
        if let e = description.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(description[description.index(after: e)...]) ?? 0
            description = description[..<e]
        }
        let parts = description.split(separator: ".", omittingEmptySubsequences: false)
        let whole = parts[0]
        let fraction = parts.count > 1 ? parts[1] : ""
        var digits = Array(whole + fraction)
        var point = whole.count + exponent  // digits[0..<point] is the integer part
        while let first = digits.first, first == "0", digits.count > 1 {
            digits.removeFirst()
            point -= 1
        }
        while let last = digits.last, last == "0", digits.count > 1 { digits.removeLast() }
        let sign = d.sign == .minus ? "-" : ""
        if digits == ["0"] { return sign + "0" }
        let decimalExponent = point - 1
        if decimalExponent < -4 || decimalExponent >= 6 {
            let mantissa = digits.count == 1 ? String(digits) : "\(digits[0])." + String(digits.dropFirst())
            let magnitude = abs(decimalExponent)
            return sign + mantissa + "e" + (decimalExponent < 0 ? "-" : "+") + (magnitude < 10 ? "0" : "") + String(magnitude)
        }
        if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + String(digits) }
        if point >= digits.count { return sign + String(digits) + String(repeating: "0", count: point - digits.count) }
        return sign + String(digits[..<point]) + "." + String(digits[point...])
    }

    /// `fmt.Sprintf("%s", v)`: a string as it is, anything else in Go's bad-verb form.
    static func stringVerb(_ json: JSON) -> String {
        switch json {
        case .string(let s): return s
        case .null: return "%!s(<nil>)"
        case .bool: return "%!s(bool=\(text(json)))"
        case .int, .double: return "%!s(float64=\(text(json)))"
        case .array: return "[" + (json.arrayValue ?? []).map(stringVerb).joined(separator: " ") + "]"
        case .object: return text(json)
        }
    }

    /// `strconv.Quote`, for the ASCII cases an error message meets.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                out += "\\x" + (hex.count < 2 ? "0" : "") + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

extension JSON {
    fileprivate var arrayValue: [JSON]? { if case .array(let items) = self { items } else { nil } }
}
