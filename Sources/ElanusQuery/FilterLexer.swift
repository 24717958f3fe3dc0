import ElanusCore

/// A token of Milvus's filter language (Plan.g4), with its byte offset for error messages.
struct FilterToken: Equatable {
    enum Kind: Equatable {
        case identifier(String)
        case int(Int64)
        case float(Double)
        case string(String)
        /// Operators and punctuation: `( ) [ ] { } , == != < <= > >= + - * / % ** & | ^ << >> ~ ! && || =`.
        case symbol(String)
        /// Case-insensitive keywords: and or not in like is null exists true false.
        case keyword(String)
        case end
    }

    var kind: Kind
    var offset: Int
}

/// Splits a filter into tokens. Integers may be decimal, hex (0x), octal (0o or a leading 0) or
/// binary (0b); strings take single or double quotes with C escapes.
struct FilterLexer {
    static let keywords: Set<String> = ["and", "or", "not", "in", "like", "is", "null", "exists", "true", "false"]
    static let symbols = ["**", "==", "!=", "<=", ">=", "<<", ">>", "&&", "||", "(", ")", "[", "]", "{", "}", ",", "<", ">", "+", "-", "*", "/", "%", "&", "|", "^", "~", "!", "="]

    let text: [UInt8]
    var index = 0

    init(_ text: String) { self.text = Array(text.utf8) }

    static func tokenize(_ text: String) throws(FilterError) -> [FilterToken] {
        var lexer = FilterLexer(text)
        var tokens: [FilterToken] = []
        while true {
            let token = try lexer.next()
            tokens.append(token)
            if token.kind == .end { return tokens }
        }
    }

    mutating func next() throws(FilterError) -> FilterToken {
        while index < text.count, [0x20, 0x09, 0x0A, 0x0D].contains(text[index]) { index += 1 }
        let start = index
        guard index < text.count else { return FilterToken(kind: .end, offset: start) }
        let c = text[index]
        if isLetter(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: "$") {
            while index < text.count, isLetter(text[index]) || isDigit(text[index]) || text[index] == UInt8(ascii: "_") || text[index] == UInt8(ascii: "$") {
                index += 1
            }
            let word = String(decoding: text[start..<index], as: UTF8.self)
            let lower = word.lowercased()
            if FilterLexer.keywords.contains(lower) { return FilterToken(kind: .keyword(lower), offset: start) }
            return FilterToken(kind: .identifier(word), offset: start)
        }
        if isDigit(c) || (c == UInt8(ascii: ".") && index + 1 < text.count && isDigit(text[index + 1])) {
            return try number(start)
        }
        if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") { return try string(start, quote: c) }
        for symbol in FilterLexer.symbols {
            let bytes = Array(symbol.utf8)
            if index + bytes.count <= text.count && Array(text[index..<index + bytes.count]) == bytes {
                index += bytes.count
                return FilterToken(kind: .symbol(symbol), offset: start)
            }
        }
        throw FilterError("unexpected character '\(String(decoding: [c], as: UTF8.self))'", offset: start)
    }

    mutating func number(_ start: Int) throws(FilterError) -> FilterToken {
        func lower(_ i: Int) -> UInt8 { i < text.count ? text[i] | 0x20 : 0 }
        if text[index] == UInt8(ascii: "0"), [UInt8(ascii: "x"), UInt8(ascii: "b"), UInt8(ascii: "o")].contains(lower(index + 1)) {
            let radix = lower(index + 1) == UInt8(ascii: "x") ? 16 : (lower(index + 1) == UInt8(ascii: "b") ? 2 : 8)
            index += 2
            let digitsStart = index
            while index < text.count, isLetter(text[index]) || isDigit(text[index]) { index += 1 }
            let digits = String(decoding: text[digitsStart..<index], as: UTF8.self)
            guard let value = Int64(digits, radix: radix) else { throw FilterError("invalid integer literal 0\(String(decoding: [text[digitsStart - 1]], as: UTF8.self))\(digits)", offset: start) }
            return FilterToken(kind: .int(value), offset: start)
        }
        while index < text.count, isDigit(text[index]) { index += 1 }
        var isFloat = false
        if index < text.count, text[index] == UInt8(ascii: ".") {
            isFloat = true
            index += 1
            while index < text.count, isDigit(text[index]) { index += 1 }
        }
        if index < text.count, text[index] | 0x20 == UInt8(ascii: "e") {
            var probe = index + 1
            if probe < text.count, text[probe] == UInt8(ascii: "+") || text[probe] == UInt8(ascii: "-") { probe += 1 }
            if probe < text.count, isDigit(text[probe]) {
                isFloat = true
                index = probe
                while index < text.count, isDigit(text[index]) { index += 1 }
            }
        }
        if index < text.count, isLetter(text[index]) || text[index] == UInt8(ascii: "_") {
            throw FilterError("invalid numeric literal", offset: start)
        }
        let literal = String(decoding: text[start..<index], as: UTF8.self)
        if isFloat {
            guard let value = Double(literal), value.isFinite else { throw FilterError("invalid float literal \(literal)", offset: start) }
            return FilterToken(kind: .float(value), offset: start)
        }
        // A leading 0 means octal, as in Plan.g4 (0755).
        if literal.count > 1, literal.hasPrefix("0") {
            guard let value = Int64(literal.dropFirst(), radix: 8) else { throw FilterError("invalid octal literal \(literal)", offset: start) }
            return FilterToken(kind: .int(value), offset: start)
        }
        guard let value = Int64(literal) else { throw FilterError("integer literal \(literal) is out of the int64 range", offset: start) }
        return FilterToken(kind: .int(value), offset: start)
    }

    mutating func string(_ start: Int, quote: UInt8) throws(FilterError) -> FilterToken {
        index += 1
        var out: [UInt8] = []
        while index < text.count {
            let c = text[index]
            index += 1
            if c == quote { return FilterToken(kind: .string(String(decoding: out, as: UTF8.self)), offset: start) }
            guard c == UInt8(ascii: "\\") else {
                out.append(c)
                continue
            }
            guard index < text.count else { break }
            let e = text[index]
            index += 1
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "0"): out.append(0)
            case UInt8(ascii: "u"):
                guard index + 4 <= text.count, let scalar = UInt32(String(decoding: text[index..<index + 4], as: UTF8.self), radix: 16),
                    let u = Unicode.Scalar(scalar)
                else { throw FilterError("invalid \\u escape", offset: index - 2) }
                out += Array(String(Character(u)).utf8)
                index += 4
            // `\%` and `\_` stay escaped: they mean a literal % or _ in a like pattern.
            case UInt8(ascii: "%"), UInt8(ascii: "_"): out += [UInt8(ascii: "\\"), e]
            default: out.append(e)
            }
        }
        throw FilterError("unterminated string literal", offset: start)
    }

    func isLetter(_ c: UInt8) -> Bool { (c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "z") || c >= 0x80 }
    func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
}

/// Why a filter was refused, with the byte offset it points at.
public struct FilterError: Error, Equatable, Sendable {
    public var reason: String
    public var offset: Int?
    public init(_ reason: String, offset: Int? = nil) {
        self.reason = reason
        self.offset = offset
    }

    /// The Milvus form: 1100 "failed to create query plan: ...: invalid parameter".
    public func planError(_ filter: String) -> ElanusError {
        let at = offset.map { " at position \($0)" } ?? ""
        let shown = filter.count > 200 ? String(filter.prefix(200)) + "..." : filter
        return .invalidParameter("failed to create query plan: cannot parse expression: \(shown), error: \(reason)\(at)")
    }
}
