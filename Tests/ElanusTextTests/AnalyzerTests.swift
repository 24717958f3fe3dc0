import ElanusCore
import Testing

@testable import ElanusText

/// Analyzers built from `analyzer_params`, filter by filter, with Milvus's documented outputs, and
/// the parameters Milvus refuses (or Elanus does not have yet) with their messages.
struct AnalyzerTests {
    func tokens(_ params: String, _ text: String) throws -> [String] {
        try Analyzer.parse(text: params).analyze(text).map(\.text)
    }

    @Test(arguments: [
        // Milvus's documentation examples.
        (#"{"type": "english", "stop_words": ["a", "an", "the"]}"#, "Milvus is a vector database built for scale!",
         ["milvus", "vector", "databas", "built", "scale"]),
        (#"{"type":"standard","stop_words":["a","an","for"]}"#,
         "An efficient system relies on a robust analyzer to correctly process text for various applications.",
         ["efficient", "system", "relies", "on", "robust", "analyzer", "to", "correctly", "process", "text", "various", "applications"]),
        (#"{"tokenizer": "standard", "filter": [{"type": "regex", "expr": "^(?!test)"}]}"#, "testItem apple testCase banana",
         ["apple", "banana"]),
        ("", "The Quick Fox", ["the", "quick", "fox"]),
        ("{}", "The Quick Fox", ["the", "quick", "fox"]),
        (#"{"type": "standard"}"#, "ÀÉÎ Σίσυφος", ["àéî", "σίσυφος"]),
        (#"{"tokenizer": "whitespace", "filter": ["lowercase"]}"#, "Hello, World!", ["hello,", "world!"]),
        (#"{"tokenizer": "standard", "filter": ["asciifolding"]}"#, "Crème brûlée Straße Æsir", ["Creme", "brulee", "Strasse", "AEsir"]),
        (#"{"tokenizer": "standard", "filter": ["alphanumonly"]}"#, "abc 123 déjà 中文", ["abc", "123"]),
        (#"{"tokenizer": "whitespace", "filter": ["cnalphanumonly"]}"#, "中文 abc ... ¿¡ x!", ["中文", "abc", "x!"]),
        (#"{"tokenizer": "whitespace", "filter": ["cncharonly"]}"#, "中文 abc 日本x", ["中文", "日本x"]),
        (#"{"tokenizer": "whitespace", "filter": ["removepunct"]}"#, "hello , world! ok", ["hello", "ok"]),
        (#"{"tokenizer": "standard", "filter": [{"type": "length", "max": 3}]}"#, "a bb ccc dddd é日", ["a", "bb", "ccc"]),
        (#"{"tokenizer": "standard", "filter": ["lowercase", {"type": "stop", "stop_words": ["_english_", "milvus"]}]}"#,
         "The Milvus is a DB", ["db"]),
        (#"{"tokenizer": "standard", "filter": ["lowercase", {"type": "stemmer", "language": "English"}]}"#,
         "running runs easily fairness", ["run", "run", "easili", "fair"]),
        (#"{"tokenizer": "standard", "filter": ["lowercase", {"type": "stemmer", "language": "german"}]}"#,
         "Häuser Bücher", ["haus", "buch"]),
        (#"{"tokenizer": "standard", "filter": [{"type": "stemmer", "language": "russian"}]}"#, "книги", ["книг"]),
        (#"{"tokenizer": "standard", "filter": [{"type": "decompounder", "word_list": ["dampf", "schiff", "fahrt", "schifffahrt"]}]}"#,
         "dampfschifffahrt dampfboot", ["dampf", "schifffahrt", "dampfboot"]),
        (#"{"tokenizer": {"type": "standard", "uax29": true}, "filter": ["lowercase"]}"#, "Can't STOP 3.14 中文", ["can't", "stop", "3.14", "中", "文"]),
        // Empty and emoji-only input give no tokens.
        (#"{"type": "english"}"#, "", []),
        (#"{"type": "english"}"#, "🚀 ✨", []),
    ])
    func analyzes(params: String, text: String, expected: [String]) throws {
        #expect(try tokens(params, text) == expected)
    }

    @Test func filtersKeepPositions() throws {
        let analyzer = try Analyzer.parse(text: #"{"type": "english"}"#)
        let tokens = analyzer.analyze("the cat and the hat")
        #expect(tokens.map(\.text) == ["cat", "hat"])
        #expect(tokens.map(\.position) == [1, 4])
        #expect(tokens.map(\.startOffset) == [4, 16])
    }

    @Test func batchesShareNothingBetweenTexts() throws {
        let analyzer = try Analyzer.parse(text: #"{"type": "english"}"#)
        let texts = ["Running dogs", "", "jumping cats", String(repeating: "word ", count: 10_000)]
        let out = analyzer.analyze(texts)
        #expect(out.count == 4)
        #expect(out[0].map(\.text) == ["run", "dog"])
        #expect(out[1].isEmpty)
        #expect(out[2].map(\.text) == ["jump", "cat"])
        #expect(out[3].count == 10_000)
    }

    @Test(arguments: [
        (#"{"tokenizer": "jieba"}"#, "tokenizer jieba is not supported by Elanus yet; use standard or whitespace"),
        (#"{"tokenizer": {"type": "lindera", "dict_kind": "ipadic"}}"#, "tokenizer lindera is not supported by Elanus yet; use standard or whitespace"),
        (#"{"tokenizer": "icu"}"#, "tokenizer icu is not supported by Elanus yet; use standard or whitespace"),
        (#"{"type": "chinese"}"#, "the chinese analyzer (jieba tokenizer) is not supported by Elanus yet"),
        (#"{"tokenizer": "nope"}"#, "unsupported tokenizer: nope"),
        (#"{"type": "nope"}"#, "unknown build-in analyzer type: nope"),
        (#"{"type": 3}"#, "analyzer type should be string"),
        (#"{"filter": ["lowercase"]}"#, "tokenizer name or type must be set"),
        (#"{"tokenizer": 3}"#, "tokenizer name should be string or dict"),
        (#"{"tokenizer": {}}"#, "costum tokenizer must set type"),
        (#"{"tokenizer": "standard", "extra": 1}"#, "unknown analyzer option key: extra"),
        (#"{"tokenizer": "standard", "filter": "lowercase"}"#, "filter params should be array"),
        (#"{"tokenizer": "standard", "filter": ["upper"]}"#, "build analyzer failed, filter not found :upper"),
        (#"{"tokenizer": "standard", "filter": [{"type": "upper"}]}"#, "unsupport filter type: upper"),
        (#"{"tokenizer": "standard", "filter": [{"max": 3}]}"#, "no type field in filter params"),
        (#"{"tokenizer": "standard", "filter": [{"type": "length", "max": "3"}]}"#, "lenth max param was none or not uint"),
        (#"{"tokenizer": "standard", "filter": [{"type": "stop"}]}"#, "stop filter stop_words can't be empty"),
        (#"{"tokenizer": "standard", "filter": [{"type": "stop", "stop_words": [1]}]}"#, "stop_words filter list item should be string"),
        (#"{"tokenizer": "standard", "filter": [{"type": "stop", "stop_words": ["_french_"]}]}"#,
         "stop words list _french_ is not available in Elanus yet; list the words instead"),
        (#"{"tokenizer": "standard", "filter": [{"type": "stemmer", "language": "klingon"}]}"#, "create stemmer failed : unsupport language: klingon"),
        (#"{"tokenizer": "standard", "filter": [{"type": "stemmer"}]}"#, "stemmer language field should be string"),
        (#"{"tokenizer": "standard", "filter": [{"type": "decompounder"}]}"#, "decompounder word list should be array"),
        (#"{"tokenizer": "standard", "filter": [{"type": "regex"}]}"#, "must set expr for regex filter"),
        (#"{"tokenizer": "standard", "filter": [{"type": "synonym", "synonyms": []}]}"#, "the synonym filter is not supported by Elanus yet"),
        (#"{"tokenizer": "standard", "multi_analyzer_params": {}}"#, "multi_analyzer_params is not supported by Elanus yet"),
        (#"{"tokenizer": {"type": "standard", "max_token_length": 5}}"#, "standard tokenizer max_token_length requires uax29 to be true"),
        (#"{"tokenizer": {"type": "standard", "uax29": "yes"}}"#, "standard tokenizer uax29 must be a boolean"),
        (#"{"tokenizer": {"type": "standard", "uax29": true, "max_token_length": 0}}"#, "standard tokenizer max_token_length must be between 1 and 1048576"),
        ("[1]", "analyzer params should be a json map"),
    ])
    func refuses(params: String, message: String) {
        #expect(throws: AnalyzerError(message)) { try Analyzer.parse(text: params) }
    }

    @Test func badRegexIsRefusedWithItsReason() {
        do {
            _ = try Analyzer.parse(text: #"{"tokenizer": "standard", "filter": [{"type": "regex", "expr": "(unclosed"}]}"#)
            Issue.record("an unclosed group compiled")
        } catch {
            #expect(error.reason.hasPrefix("regex expression invalid, expr:(unclosed, err: "))
        }
    }

    @Test func pathologicalRegexIsBounded() throws {
        // Catastrophic backtracking: ICU's work limit stops it, and the token is kept (as Milvus
        // keeps a token its matcher errs on) instead of the request hanging.
        let analyzer = try Analyzer.parse(text: #"{"tokenizer": "whitespace", "filter": [{"type": "regex", "expr": "^(a+)+$"}]}"#)
        let token = String(repeating: "a", count: 40) + "!"
        #expect(analyzer.analyze(token).count <= 1)
    }
}

/// The term hash is Milvus's (CRC-32 IEEE of the first 100 bytes, mod 2^32 - 1): values from
/// Python's zlib.crc32.
struct TermHashTests {
    @Test func matchesCRC32() {
        #expect(TermHash.of("milvus") == 725_768_567)
        #expect(TermHash.of("scale") == 3_964_020_100)
        #expect(TermHash.of(String(repeating: "a", count: 100)) == TermHash.of(String(repeating: "a", count: 150)))
    }
}
