import CICU

/// The tokenizers Elanus has, as Milvus 2.6 names them.
///
/// - `standard`: Milvus's default standard tokenizer (tantivy's simple tokenizer): maximal runs of
///   alphanumeric characters (Unicode Alphabetic or a numeric category), everything else splits.
/// - `standard` with `uax29: true`: Unicode word boundaries (UAX #29) from ICU's word break
///   iterator; a segment becomes a token when it holds a letter, a digit or an emoji, and tokens
///   longer than `max_token_length` characters are cut into pieces of that length.
/// - `whitespace`: runs of anything but ASCII whitespace.
public enum Tokenizer: Equatable, Sendable {
    case standard
    case uax29(maxTokenLength: Int)
    case whitespace

    public static let defaultMaxTokenLength = 255
    public static let maxTokenLengthLimit = 1024 * 1024

    public func tokenize(_ text: String) -> [Token] {
        switch self {
        case .standard: return Tokenizer.runs(text) { Tokenizer.isAlphanumeric($0) }
        case .whitespace: return Tokenizer.runs(text) { !($0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\u{0C}" || $0 == "\r") }
        case .uax29(let maxTokenLength): return Tokenizer.wordSegments(text, maxTokenLength: maxTokenLength)
        }
    }

    /// Rust's `char::is_alphanumeric`: the Alphabetic property, or general category Nd, Nl or No.
    static func isAlphanumeric(_ s: Unicode.Scalar) -> Bool {
        if s.isASCII {
            let v = s.value
            return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A)
        }
        if s.properties.isAlphabetic { return true }
        switch s.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    /// Maximal runs of scalars satisfying `keep`, with byte offsets and consecutive positions.
    private static func runs(_ text: String, keep: (Unicode.Scalar) -> Bool) -> [Token] {
        var tokens: [Token] = []
        var offset = 0
        var start: Int?
        var current = String.UnicodeScalarView()
        func close(at end: Int) {
            guard let begin = start else { return }
            tokens.append(Token(text: String(current), startOffset: begin, endOffset: end, position: tokens.count))
            current = String.UnicodeScalarView()
            start = nil
        }
        for scalar in text.unicodeScalars {
            if keep(scalar) {
                if start == nil { start = offset }
                current.append(scalar)
            } else {
                close(at: offset)
            }
            offset += UTF8.width(scalar)
        }
        close(at: offset)
        return tokens
    }

    /// UAX #29 segments from ICU. ICU segments CJK text with a dictionary; UAX #29 itself (and
    /// Milvus's tokenizer) keeps every Han ideograph and Hiragana character a word of its own and
    /// only Katakana runs together, so such segments are cut back to that.
    private static func wordSegments(_ text: String, maxTokenLength: Int) -> [Token] {
        var utf8 = Array(text.utf8)
        // Offsets from ICU are byte offsets into this same UTF-8.
        guard !utf8.isEmpty, utf8.count < Int(Int32.max) else { return [] }
        var boundaries = [Int32](repeating: 0, count: utf8.count + 2)
        var statuses = [Int32](repeating: 0, count: utf8.count + 2)
        let count = utf8.withUnsafeMutableBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                elanus_icu_word_breaks(chars.baseAddress, Int32(chars.count), &boundaries, &statuses, Int32(boundaries.count))
            }
        }
        guard count > 1 else { return [] }
        var tokens: [Token] = []
        func emit(_ string: String, at start: Int) {
            // Pieces of at most maxTokenLength characters (scalars, as Rust's char_indices).
            var chunkStart = start
            var chunk = String.UnicodeScalarView()
            var chars = 0
            for scalar in string.unicodeScalars {
                if chars == maxTokenLength {
                    let s = String(chunk)
                    tokens.append(Token(text: s, startOffset: chunkStart, endOffset: chunkStart + s.utf8.count, position: tokens.count))
                    chunkStart += s.utf8.count
                    chunk = String.UnicodeScalarView()
                    chars = 0
                }
                chunk.append(scalar)
                chars += 1
            }
            if chars > 0 {
                let s = String(chunk)
                tokens.append(Token(text: s, startOffset: chunkStart, endOffset: chunkStart + s.utf8.count, position: tokens.count))
            }
        }
        let view = text.utf8
        for i in 0..<Int(count - 1) {
            let start = Int(boundaries[i])
            let end = Int(boundaries[i + 1])
            guard start < end, end <= utf8.count else { continue }
            let lower = view.index(view.startIndex, offsetBy: start)
            let upper = view.index(view.startIndex, offsetBy: end)
            let segment = Substring(view[lower..<upper])
            guard segment.unicodeScalars.contains(where: { isAlphanumeric($0) || elanus_icu_is_emoji($0.value) != 0 }) else { continue }
            let status = statuses[i]
            guard status >= 300 && status < 500 else {
                emit(String(segment), at: start)
                continue
            }
            // Kana or ideographic: one token per character, Katakana runs kept whole.
            var pieceStart = start
            var piece = ""
            var pieceIsKatakana = false
            for character in segment {
                let katakana = character.unicodeScalars.first.map { elanus_icu_is_katakana($0.value) != 0 } ?? false
                if !piece.isEmpty && !(katakana && pieceIsKatakana) {
                    emit(piece, at: pieceStart)
                    pieceStart += piece.utf8.count
                    piece = ""
                }
                piece.append(character)
                pieceIsKatakana = katakana
            }
            if !piece.isEmpty { emit(piece, at: pieceStart) }
        }
        return tokens
    }
}
