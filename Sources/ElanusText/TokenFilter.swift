import CICU

/// The token filters Elanus has, as Milvus 2.6 names and defines them. Filters run in order over
/// the tokenizer's output; those that drop tokens keep the positions of the others.
public enum TokenFilter: Equatable, Sendable {
    /// Unicode lower case.
    case lowercase
    /// Latin letters folded to ASCII (accents dropped, `ß` to `ss`, ...).
    case asciiFolding
    /// Keeps tokens made only of ASCII letters and digits.
    case alphanumOnly
    /// Keeps tokens holding at least one Han character.
    case cnCharOnly
    /// Keeps tokens holding at least one Han character or ASCII letter or digit.
    case cnAlphanumOnly
    /// Drops tokens holding any punctuation or white space.
    case removePunct
    /// Drops tokens longer than `max` UTF-8 bytes.
    case length(max: Int)
    case stop(Set<String>)
    /// A Snowball stemmer (the libstemmer algorithm name).
    case stemmer(algorithm: String)
    /// Splits a token into dictionary words when the words cover it exactly, taking the longest
    /// word at each step; other tokens pass unchanged.
    case decompounder(words: Set<String>, longest: Int)
    /// Keeps tokens the expression matches somewhere in.
    case regex(TokenRegex)

    /// The filters named by a bare string in `filter`.
    static func named(_ name: String) -> TokenFilter? {
        switch name {
        case "lowercase": .lowercase
        case "asciifolding": .asciiFolding
        case "alphanumonly": .alphanumOnly
        case "cncharonly": .cnCharOnly
        case "cnalphanumonly": .cnAlphanumOnly
        case "removepunct": .removePunct
        default: nil
        }
    }
}

/// The per-run state of filters that hold C objects (stemmers, regex matchers), made once for a
/// batch of texts and used by one thread.
final class FilterRun {
    private var stemmers: [String: SnowballStemmer] = [:]
    private var matchers: [ObjectIdentifier: TokenRegex.Matcher] = [:]

    func apply(_ filter: TokenFilter, to tokens: inout [Token]) {
        switch filter {
        case .lowercase:
            for i in tokens.indices where tokens[i].text.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A || $0 >= 0x80 }) {
                tokens[i].text = tokens[i].text.lowercased()
            }
        case .asciiFolding:
            for i in tokens.indices where tokens[i].text.utf8.contains(where: { $0 >= 0x80 }) {
                tokens[i].text = FilterRun.fold(tokens[i].text)
            }
        case .alphanumOnly:
            tokens.removeAll { !$0.text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) } }
        case .cnCharOnly:
            tokens.removeAll { !$0.text.unicodeScalars.contains(where: FilterRun.isHan) }
        case .cnAlphanumOnly:
            tokens.removeAll { !$0.text.unicodeScalars.contains { FilterRun.isHan($0) || FilterRun.isASCIIAlphanumeric($0) } }
        case .removePunct:
            tokens.removeAll { $0.text.unicodeScalars.contains(where: FilterRun.isPunctuationOrSpace) }
        case .length(let max):
            tokens.removeAll { $0.text.utf8.count > max }
        case .stop(let words):
            tokens.removeAll { words.contains($0.text) }
        case .stemmer(let algorithm):
            let stemmer: SnowballStemmer?
            if let existing = stemmers[algorithm] {
                stemmer = existing
            } else {
                stemmer = SnowballStemmer(algorithm: algorithm)
                stemmers[algorithm] = stemmer
            }
            guard let stemmer else { return }
            for i in tokens.indices { tokens[i].text = stemmer.stem(tokens[i].text) }
        case .decompounder(let words, let longest):
            var out: [Token] = []
            out.reserveCapacity(tokens.count)
            for token in tokens {
                guard let parts = FilterRun.decompound(token.text, words: words, longest: longest), parts.count > 1 else {
                    out.append(token)
                    continue
                }
                for part in parts {
                    var piece = token
                    piece.text = part
                    out.append(piece)
                }
            }
            tokens = out
        case .regex(let regex):
            let key = ObjectIdentifier(regex)
            if matchers[key] == nil { matchers[key] = regex.matcher() }
            // As Milvus: a token the matcher cannot decide on is kept.
            guard let matcher = matchers[key] else { return }
            tokens.removeAll { matcher.search($0.text) == false }
        }
    }

    static func isHan(_ s: Unicode.Scalar) -> Bool { !s.isASCII && elanus_icu_is_han(s.value) != 0 }

    static func isASCIIAlphanumeric(_ s: Unicode.Scalar) -> Bool {
        (s.value >= 0x30 && s.value <= 0x39) || (s.value >= 0x41 && s.value <= 0x5A) || (s.value >= 0x61 && s.value <= 0x7A)
    }

    static func isPunctuationOrSpace(_ s: Unicode.Scalar) -> Bool {
        if s.properties.isWhitespace { return true }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
            .finalPunctuation, .otherPunctuation:
            return true
        default: return false
        }
    }

    /// The dictionary words covering `text` exactly, longest match first at each step; nil when
    /// they do not cover it.
    static func decompound(_ text: String, words: Set<String>, longest: Int) -> [String]? {
        let scalars = Array(text.unicodeScalars)
        var parts: [String] = []
        var position = 0
        while position < scalars.count {
            var found: Int?
            var length = min(longest, scalars.count - position)
            while length > 0 {
                var view = String.UnicodeScalarView()
                view.append(contentsOf: scalars[position..<position + length])
                if words.contains(String(view)) {
                    found = length
                    parts.append(String(view))
                    break
                }
                length -= 1
            }
            guard let step = found else { return nil }
            position += step
        }
        return parts
    }

    static func fold(_ text: String) -> String {
        var units = Array(text.utf16)
        // Folding can lengthen text (æ to ae, ﬃ to ffi): room for four times the input.
        let capacity = units.count * 4 + 16
        guard capacity < Int(Int32.max) else { return text }
        var out = [UInt16](repeating: 0, count: capacity)
        let length = elanus_icu_ascii_fold(&units, Int32(units.count), &out, Int32(capacity))
        guard length >= 0 else { return text }
        return String(decoding: out[0..<Int(length)], as: UTF16.self)
    }
}
