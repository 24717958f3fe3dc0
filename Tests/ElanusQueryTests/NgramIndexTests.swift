import ElanusCore
import ElanusTestSupport
import Testing

@testable import ElanusQuery

/// N-gram and JSON path indexes must never change an answer: random strings and random `like`
/// patterns give the same row states with the index as the scan, the candidates always hold
/// every matching row, and JSON path indexes agree with the scan on documents of every shape.
@Suite struct NgramIndexTests {
    /// Few letters, so patterns often match; multi-byte characters and the wildcard characters
    /// themselves as text.
    static let alphabet: [String] = ["a", "b", "c", "é", "%", "_", "\\"]

    static func randomText(_ rng: inout SeededGenerator, maxLength: Int) -> String {
        (0..<Int.random(in: 0...maxLength, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }.joined()
    }

    static func randomPattern(_ rng: inout SeededGenerator) -> String {
        var out = ""
        for _ in 0..<Int.random(in: 0...8, using: &rng) {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0, 1: out += "%"
            case 2: out += "_"
            case 3: out += "\\" + ["%", "_", "a"].randomElement(using: &rng)!
            default: out += ["a", "b", "c", "é"].randomElement(using: &rng)!
            }
        }
        return out
    }

    static func batches(_ rng: inout SeededGenerator) -> [EntityBatch] {
        (0..<3).map { _ in
            let n = Int.random(in: 1...300, using: &rng)
            let names = (0..<n).map { _ in randomText(&rng, maxLength: 12) }
            let valid = (0..<n).map { _ in Int.random(in: 0..<8, using: &rng) > 0 }
            return EntityBatch(rowCount: n, columns: [Column(fieldID: 103, values: .string(names), valid: valid)])
        }
    }

    static func roundTrip(_ index: NgramIndex) throws -> NgramIndex {
        var w = ByteWriter()
        index.encode(into: &w)
        var r = ByteReader(w.bytes, what: "ngram")
        let decoded = try NgramIndex.decode(from: &r)
        #expect(decoded == index)
        #expect(r.atEnd)
        return decoded
    }

    @Test(arguments: [(1, 1), (2, 3), (3, 5), (2, 12), (9, 20)] as [(Int, Int)])
    func candidatesAndAnswersAgreeWithTheScan(grams: (Int, Int)) throws {
        var rng = SeededGenerator(seed: UInt64(grams.0 * 100 + grams.1))
        let batches = Self.batches(&rng)
        var strings: [String?] = []
        for batch in batches {
            let column = batch.column(103)!
            guard case .string(let values) = column.values else { continue }
            for (r, value) in values.enumerated() { strings.append(column.valid![r] ? value : nil) }
        }
        let index = try Self.roundTrip(NgramIndex.build(strings, minGram: grams.0, maxGram: grams.1))
        let indexed = SegmentFilter(batches: batches, ngrams: [103: index])
        for _ in 0..<300 {
            let pattern = Self.randomPattern(&rng)
            let filter = "name like '\(pattern.replacingBackslashes)'"
            let predicate = try FilterChecker.check(filter, schema: FilterParserTests.schema)
            let expected = batches.flatMap { FilterEvaluator.evaluate(predicate, $0) }
            #expect(indexed.evaluate(predicate) == expected, "\(filter)")
            // Every matching row is a candidate (or one the index does not cover).
            guard case .like(_, let like) = predicate, let candidates = index.candidates(like) else { continue }
            let covered = Set(candidates).union(index.unindexed)
            for (row, state) in expected.enumerated() where state == FilterEvaluator.yes {
                #expect(covered.contains(Int32(row)), "\(filter) row \(row)")
            }
            #expect(like.literalRuns.contains { $0.utf8.count >= grams.0 })
        }
    }

    @Test func shortLiteralsScanAndLongOnesNarrow() throws {
        let index = NgramIndex.build(["hello world", "yellow", "help", nil, "low"], minGram: 2, maxGram: 3)
        #expect(index.unindexed == [3])
        #expect(index.candidates(LikePattern("%l%")) == nil)  // shorter than min_gram
        #expect(index.candidates(LikePattern("%ll%")) == [0, 1])
        #expect(index.candidates(LikePattern("%low")) == [1, 4])
        #expect(index.candidates(LikePattern("hel%")) == [0, 2])
        #expect(index.candidates(LikePattern("%xyz%")) == [])
        // A literal longer than max_gram is covered by several grams; `_` splits literals.
        #expect(index.candidates(LikePattern("%ello w%")) == [0])
        #expect(index.candidates(LikePattern("he_p")) == [0, 2])
    }

    @Test func corruptIndexesAreRefused() throws {
        var w = ByteWriter()
        NgramIndex.build(["abc", "bcd"], minGram: 2, maxGram: 2).encode(into: &w)
        var bytes = w.bytes
        bytes[bytes.count - 1] = 0x7F  // the last posting's row past the end
        var r = ByteReader(bytes, what: "index-1-2.idx")
        #expect(throws: ElanusError.self) { try NgramIndex.decode(from: &r) }
    }

    // MARK: - JSON paths

    static func document(_ rng: inout SeededGenerator) -> JSON {
        var members: [(key: String, value: JSON)] = []
        let colors: [JSON] = ["red", "green", "blue", "", "re", 3, true, .null, ["red"], ["x": "red"]]
        if Int.random(in: 0..<6, using: &rng) > 0 { members.append(("color", colors.randomElement(using: &rng)!)) }
        let numbers: [JSON] = [1, 2, 3, .double(2.5), .double(-0.5), 9_007_199_254_740_993, "3", false]
        if Int.random(in: 0..<6, using: &rng) > 0 { members.append(("n", numbers.randomElement(using: &rng)!)) }
        let bools: [JSON] = [true, false, 1, "true"]
        if Bool.random(using: &rng) { members.append(("b", bools.randomElement(using: &rng)!)) }
        members.append(("text", .string(randomText(&rng, maxLength: 10))))
        members.append(("a", JSON.object([("b", .string(["x", "y"].randomElement(using: &rng)!))])))
        return .object(members)
    }

    static let jsonFilters = [
        "meta['color'] == 'red'", "meta['color'] != 'red'", "meta['color'] < 'green'", "meta['color'] in ['red', 'blue']",
        "meta['color'] not in ['red']", "meta['color'] like 're%'", "meta['color'] == 3", "not (meta['color'] == 'red')",
        "meta['n'] > 2", "meta['n'] <= 2.5", "meta['n'] == 3", "meta['n'] in [1, 2.5]", "meta['n'] == 9007199254740993",
        "meta['n'] != 1", "meta['b'] == true", "meta['b'] != false", "meta['a']['b'] == 'x'",
        "meta['text'] like '%ab%'", "meta['text'] like 'a%c'", "meta['text'] like '%é_'", "meta['text'] like '%a%'",
        "meta['color'] == 'red' and meta['n'] > 1", "meta['color'] == 'red' or meta['text'] like '%bb%'",
    ]

    @Test(arguments: [1, 2] as [UInt64]) func jsonPathIndexesAgreeWithTheScan(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        let batches = (0..<3).map { _ in
            let n = Int.random(in: 1...200, using: &rng)
            return EntityBatch(rowCount: n, columns: [Column(fieldID: 104, values: .json((0..<n).map { _ in Self.document(&rng) }))])
        }
        let columns = batches.map { $0.column(104)! }
        func target(_ path: [PathAccessor], _ cast: JSONIndexTarget.Cast) -> JSONIndexTarget { JSONIndexTarget(fieldID: 104, path: path, cast: cast) }
        var indexes: [JSONPathIndex] = []
        for t in [target([.key("color")], .varchar), target([.key("n")], .double), target([.key("b")], .bool), target([.key("a"), .key("b")], .varchar)] {
            let sorted = try #require(JSONPathIndex.sorted(JSONPathIndex.values(columns, target: t), cast: t.cast))
            indexes.append(JSONPathIndex(target: t, content: .sorted(sorted)))
        }
        let text = target([.key("text")], .varchar)
        let strings: [String?] = JSONPathIndex.values(columns, target: text).map { value -> String? in
            if case .string(let s)? = value { return s }
            return nil
        }
        indexes.append(JSONPathIndex(target: text, content: .ngram(NgramIndex.build(strings, minGram: 1, maxGram: 3))))
        let indexed = SegmentFilter(batches: batches, jsonPaths: indexes)
        for filter in Self.jsonFilters {
            let predicate = try FilterChecker.check(filter, schema: FilterParserTests.schema)
            let expected = batches.flatMap { FilterEvaluator.evaluate(predicate, $0) }
            #expect(indexed.evaluate(predicate) == expected, "\(filter)")
        }
    }

    @Test func jsonPathsParseAndNameLikeMilvus() throws {
        let parsed = try JSONIndexTarget.parsePath("meta['a']['b']")
        #expect(parsed.field == "meta" && parsed.path == [.key("a"), .key("b")])
        #expect(try JSONIndexTarget.parsePath("meta[\"color\"][0]").path == [.key("color"), .index(0)])
        #expect(try JSONIndexTarget.parsePath("meta").path == [])
        #expect(JSONIndexTarget.pointer([.key("a/b"), .key("c~"), .index(2)]) == "/a~1b/c~0/2")
        #expect(throws: ElanusError.self) { try JSONIndexTarget.parsePath("meta['a'] == 1") }
        #expect(throws: ElanusError.self) { try JSONIndexTarget.parsePath("meta[") }
    }
}

extension String {
    /// The pattern as a single-quoted filter string: each backslash doubled.
    fileprivate var replacingBackslashes: String {
        var out = ""
        for c in self {
            if c == "\\" { out += "\\\\" } else if c == "'" { out += "\\'" } else { out.append(c) }
        }
        return out
    }
}
