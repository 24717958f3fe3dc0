import ElanusCore
import ElanusText
import Testing

@testable import ElanusQuery

/// text_match and phrase_match in the filter language: how they parse, the errors Milvus 2.6
/// gives, phrase slop on hand-picked cases, and that a segment filter reads the chunks' match
/// indexes rather than the strings.
@Suite struct TextMatchFilterTests {
    static let schema = CollectionSchema(
        fields: [
            FieldSchema(fieldID: 100, name: "id", dataType: .int64, isPrimary: true),
            FieldSchema(fieldID: 101, name: "v", dataType: .floatVector, typeParams: [KeyValue("dim", "2")]),
            FieldSchema(
                fieldID: 102, name: "text", dataType: .varChar,
                typeParams: [KeyValue("max_length", "64"), KeyValue("enable_analyzer", "true"), KeyValue("enable_match", "true"), KeyValue("analyzer_params", #"{"type":"english"}"#)]),
            FieldSchema(fieldID: 103, name: "plain", dataType: .varChar, typeParams: [KeyValue("max_length", "64"), KeyValue("enable_analyzer", "true")]),
            FieldSchema(fieldID: 104, name: "age", dataType: .int32),
        ],
        enableDynamicField: true)

    func check(_ filter: String, params: [(key: String, value: JSON)] = []) throws(ElanusError) -> Predicate {
        try FilterChecker.check(filter, schema: Self.schema, params: params)
    }

    @Test func queriesAreAnalyzedByTheFieldsAnalyzer() throws {
        guard case .textMatch(let any) = try check("TEXT_MATCH(text, 'The Running Dogs', minimum_should_match = 2)") else { Issue.record("not a text match"); return }
        #expect(any.tokens == ["run", "dog"] && any.offsets == [1, 2] && any.mode == .any(minimumShouldMatch: 2))
        guard case .textMatch(let phrase) = try check("phrase_match(text, {p}, 3)", params: [("p", .string("dogs of war"))]) else { Issue.record("not a phrase"); return }
        #expect(phrase.tokens == ["dog", "war"] && phrase.offsets == [0, 2] && phrase.mode == .phrase(slop: 3))
        guard case .and(let items) = try check("text_match(text, 'a') and age > 1"), case .textMatch = items[0] else { Issue.record("not combined"); return }
    }

    @Test(arguments: [
        ("text_match(plain, 'x')", #"field "plain" does not enable match"#),
        ("phrase_match(plain, 'x')", #"field "plain" does not enable match"#),
        ("text_match(age, 'x')", "text match operation on non-string is unsupported"),
        ("phrase_match(age, 'x')", "phrase match operation on non-string is unsupported"),
        ("text_match(nothere, 'x')", "text match operation on non-string is unsupported"),
        ("text_match(text, 'x', minimum_should_match=0)", "minimum_should_match should be >= 1, got 0"),
        ("text_match(text, 'x', minimum_should_match=1001)", "minimum_should_match should be <= 1000, got 1001"),
        ("text_match(text, 'x', minimum_should_match='a')", "minimum_should_match should be a const integer expression"),
        ("text_match(text, 'x', 2)", "the third argument of text_match must be minimum_should_match=n"),
        ("phrase_match(text, 'x', -1)", #""slop" should not be a negative interger. "slop" passed: -1"#),
        ("phrase_match(text, 'x', 1.5)", #""slop" should be a const integer expression with "uint32" value. "slop" expression passed: 1.5"#),
        ("phrase_match(text, 'x', 4294967296)", #""slop" exceeds the range of "uint32". "slop" expression passed: 4294967296"#),
        ("text_match(text, 5)", "the second argument of text_match must be a string"),
        ("text_match(text)", "text_match takes a field, a query and an optional minimum_should_match=n"),
        ("age = 5", "expected end of expression but found '='"),
    ])
    func errors(_ filter: String, _ message: String) {
        do {
            _ = try check(filter)
            Issue.record("\(filter) was accepted")
        } catch {
            #expect(error.code == .invalidParameter)
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test(arguments: [
        // (document, phrase, slop, matches)
        ("machine learning boosts efficiency", "machine learning", 0, true),
        ("machine deep learning", "machine learning", 0, false),
        ("machine deep learning", "machine learning", 1, true),
        ("learning machine", "machine learning", 1, false),
        ("learning machine", "machine learning", 2, true),
        ("a x b x c", "a b c", 1, false),
        ("a x b c", "a b c", 1, true),
        ("a x b x c", "a b c", 2, true),
        ("c b a", "a b c", 3, false),
        ("c b a", "a b c", 4, true),
        ("a b", "a b b", 0, false),
        ("b", "b", 0, true),
        ("", "b", 5, false),
    ])
    func phraseSlop(_ document: String, _ phrase: String, _ slop: Int, _ matches: Bool) {
        let filter = TextMatchFilter(fieldID: 1, mode: .phrase(slop: slop), query: phrase, analyzer: .standard)
        #expect(filter.evaluate(document) == (matches ? FilterEvaluator.yes : FilterEvaluator.no))
    }

    @Test func segmentFilterReadsTheChunkIndexes() throws {
        let texts = ["red fox", "blue fox", nil, "red hen"]
        let batch = EntityBatch(rowCount: 4, columns: [Column(fieldID: 102, values: .string(texts.map { $0 ?? "" }), valid: texts.map { $0 != nil })])
        let cache = TextIndexCache()
        let predicate = try check("text_match(text, 'red')")
        #expect(SegmentFilter(batches: [batch], textIndexes: [cache]).evaluate(predicate) == [1, 0, 2, 1])
        #expect(cache.isBuilt(102))
        #expect(SegmentFilter(batches: [batch], textIndexes: [cache]).evaluate(.not(predicate)) == [0, 1, 2, 0])
        // The same rows with other strings: the cached index answers, so the strings are not read.
        let other = EntityBatch(rowCount: 4, columns: [Column(fieldID: 102, values: .string(["x", "x", "x", "x"]))])
        #expect(SegmentFilter(batches: [other], textIndexes: [cache]).evaluate(predicate) == [1, 0, 2, 1])
        // Without an index the rows are analyzed.
        #expect(SegmentFilter(batches: [other]).evaluate(predicate) == [0, 0, 0, 0])
        #expect(FilterEvaluator.evaluate(try check("phrase_match(text, 'red hens')"), batch) == [0, 0, 2, 1])
    }
}
