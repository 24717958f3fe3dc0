import Testing

@testable import ElanusText

/// Tokenizers on their own: texts in several scripts, with the tokens (and for some, offsets and
/// positions) Milvus's tokenizers give.
struct TokenizerTests {
    @Test(arguments: [
        ("", [String]()),
        ("   \t\n", []),
        ("The 2 QUICK Brown-Foxes dog's 32.3", ["The", "2", "QUICK", "Brown", "Foxes", "dog", "s", "32", "3"]),
        ("---abc123---DEF_456---", ["abc123", "DEF", "456"]),
        ("éclair Straße Ελληνικά русский 日本語", ["éclair", "Straße", "Ελληνικά", "русский", "日本語"]),
        // CJK runs stay whole under the default standard tokenizer (alphanumeric runs).
        ("中文分词，测试", ["中文分词", "测试"]),
        // Emoji are neither letters nor digits.
        ("I ❤️ milvus 🚀🚀", ["I", "milvus"]),
        ("mixed日本語and中文123", ["mixed日本語and中文123"]),
        // A combining accent (U+0301) is neither alphabetic nor numeric: it splits, as in Milvus.
        ("cafe\u{301} noir", ["cafe", "noir"]),
    ])
    func standard(text: String, expected: [String]) {
        #expect(Tokenizer.standard.tokenize(text).map(\.text) == expected)
    }

    @Test func standardOffsetsAndPositions() {
        let text = "Héllo, wörld!"
        let tokens = Tokenizer.standard.tokenize(text)
        #expect(tokens == [
            Token(text: "Héllo", startOffset: 0, endOffset: 6, position: 0),
            Token(text: "wörld", startOffset: 8, endOffset: 14, position: 1),
        ])
        let bytes = Array(text.utf8)
        for token in tokens { #expect(String(decoding: bytes[token.startOffset..<token.endOffset], as: UTF8.self) == token.text) }
    }

    @Test(arguments: [
        ("", [String]()),
        ("a  b\tc\nd", ["a", "b", "c", "d"]),
        ("Hello, world! ¿Qué?", ["Hello,", "world!", "¿Qué?"]),
        // Only ASCII white space splits: a no-break space does not.
        ("a\u{00A0}b c", ["a\u{00A0}b", "c"]),
    ])
    func whitespace(text: String, expected: [String]) {
        #expect(Tokenizer.whitespace.tokenize(text).map(\.text) == expected)
    }

    @Test(arguments: [
        ("O'Reilly can't jump 32.3 feet from 216.239.63.104", ["O'Reilly", "can't", "jump", "32.3", "feet", "from", "216.239.63.104"]),
        ("中文 仮名遣い カタカナ 한국어", ["中", "文", "仮", "名", "遣", "い", "カタカナ", "한국어"]),
        ("👩‍🔬 🇨🇳 ok", ["👩‍🔬", "🇨🇳", "ok"]),
        ("", []),
        ("... !!! ---", []),
    ])
    func uax29(text: String, expected: [String]) {
        #expect(Tokenizer.uax29(maxTokenLength: 255).tokenize(text).map(\.text) == expected)
    }

    @Test func uax29CutsLongTokens() {
        let text = "jumped 日本語日本語"
        let tokens = Tokenizer.uax29(maxTokenLength: 5).tokenize(text)
        #expect(tokens.map(\.text) == ["jumpe", "d", "日", "本", "語", "日", "本", "語"])
        #expect(tokens.map(\.position) == Array(0..<8))
        let bytes = Array(text.utf8)
        for token in tokens { #expect(String(decoding: bytes[token.startOffset..<token.endOffset], as: UTF8.self) == token.text) }
    }

    @Test func veryLongInput() {
        let words = (0..<20_000).map { "w\($0)" }
        let text = words.joined(separator: " ")
        #expect(Tokenizer.standard.tokenize(text).map(\.text) == words)
        #expect(Tokenizer.whitespace.tokenize(text).count == words.count)
        #expect(Tokenizer.uax29(maxTokenLength: 255).tokenize(text).map(\.text) == words)
        // One huge word, cut into pieces by the UAX #29 tokenizer and kept whole by the others.
        let huge = String(repeating: "x", count: 100_000)
        #expect(Tokenizer.standard.tokenize(huge).count == 1)
        #expect(Tokenizer.uax29(maxTokenLength: 255).tokenize(huge).count == (100_000 + 254) / 255)
    }
}
