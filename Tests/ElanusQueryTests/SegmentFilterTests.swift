import ElanusCore
import ElanusTestSupport
import Testing

@testable import ElanusQuery

/// Scalar indexes must never change an answer: every filter gives the same row states through
/// `SegmentFilter` with sorted indexes, without them, and through the chunk-by-chunk evaluator,
/// on random data with nulls, duplicates and several chunks.
@Suite struct SegmentFilterTests {
    static let names = ["", "a", "ab", "abc", "abd", "b", "ba", "é", "e\u{301}", "zz", "z%", "a_c"]

    static func batches(seed: UInt64, chunks: Int = 3, rows: Int = 400) -> [EntityBatch] {
        var rng = SeededGenerator(seed: seed)
        return (0..<chunks).map { _ in
            let n = Int.random(in: 1...rows, using: &rng)
            let age = (0..<n).map { _ in Int32.random(in: -5...40, using: &rng) }
            let ageValid = (0..<n).map { _ in Int.random(in: 0..<10, using: &rng) > 0 }
            let name = (0..<n).map { _ in names.randomElement(using: &rng)! }
            let meta = (0..<n).map { _ in JSON.object([("a", .int(Int64.random(in: 0...9, using: &rng)))]) }
            let flag = (0..<n).map { _ in Bool.random(using: &rng) }
            let score = (0..<n).map { _ in Double(Int.random(in: -20...20, using: &rng)) / 4 }
            return EntityBatch(rowCount: n, columns: [
                Column(fieldID: 102, values: .int32(age), valid: ageValid),
                Column(fieldID: 103, values: .string(name)),
                Column(fieldID: 104, values: .json(meta)),
                Column(fieldID: 106, values: .bool(flag)),
                Column(fieldID: 107, values: .double(score)),
            ])
        }
    }

    static func indexes(_ batches: [EntityBatch]) throws -> [Int64: SortedIndex] {
        var out: [Int64: SortedIndex] = [:]
        for field: Int64 in [102, 103, 106, 107] {
            let built = try #require(SortedIndex.build(batches.map { $0.column(field)! }))
            // Through its encoding, as a restart reads it.
            var w = ByteWriter()
            built.encode(into: &w)
            var r = ByteReader(w.bytes, what: "index")
            let decoded = try SortedIndex.decode(from: &r)
            #expect(decoded == built)
            out[field] = decoded
        }
        return out
    }

    static let filters = [
        "age == 7", "age != 7", "age < 3", "age <= 3", "age > 30", "age >= 30", "age > 2.5", "age == 2.5", "age < -100",
        "age in [1, 2, 3, 40, 41]", "age not in [1, 2, 3, 4, 5, 6]", "age is null", "age is not null",
        "name == 'ab'", "name != 'ab'", "name < 'b'", "name >= 'ab'", "name == 'é'", "name like 'a%'", "name like 'ab'",
        "name like 'z\\\\%'", "name like 'a_c'", "name like '%b'", "name in ['a', 'b', 'zz', 'x', 'é']",
        "flag == true", "flag != false", "not flag", "score > 1.25", "score <= -2", "score == 1",
        "age > 10 and name like 'a%'", "age > 10 and meta['a'] > 4", "age == 3 and meta['a'] > 4 and flag",
        "name == 'abc' or age < 0", "not (age > 10 and name == 'b')", "age > 10 or meta['a'] == 1",
        "(age < 5 or name == 'zz') and not (score > 0) and meta['a'] != 3", "age % 3 == 0 and name in ['a', 'ab']",
        "age < score and flag",
    ]

    @Test(arguments: [1, 2, 3] as [UInt64]) func indexedFiltersAgreeWithScans(seed: UInt64) throws {
        let batches = Self.batches(seed: seed)
        let indexed = SegmentFilter(batches: batches, indexes: try Self.indexes(batches))
        let plain = SegmentFilter(batches: batches)
        for filter in Self.filters {
            let predicate = try FilterChecker.check(filter, schema: FilterParserTests.schema)
            let expected = batches.flatMap { FilterEvaluator.evaluate(predicate, $0) }
            #expect(indexed.evaluate(predicate) == expected, "\(filter)")
            #expect(plain.evaluate(predicate) == expected, "\(filter)")
        }
    }

    @Test func lookupsAreBinarySearches() throws {
        let batch = EntityBatch(rowCount: 6, columns: [Column(fieldID: 103, values: .string(["b", "a", "ab", "b", "abc", "c"]))])
        let index = try #require(SortedIndex.build([batch.column(103)!]))
        #expect(index.rows == [1, 2, 4, 0, 3, 5])
        #expect(index.positions(.eq, .string("b")) == [3..<5])
        #expect(index.positions(prefix: "ab") == 1..<3)
        #expect(index.positions(.eq, .int(1)) == nil)
        #expect(index.states(index.positions(.ge, .string("b"))!) == [1, 0, 0, 1, 0, 1])
    }

    @Test func corruptIndexesAreRefused() throws {
        let index = try #require(SortedIndex.build([Column(fieldID: 1, values: .int64([3, 1, 2]))]))
        var w = ByteWriter()
        index.encode(into: &w)
        var bytes = w.bytes
        bytes[bytes.count - 9] = 0x7F  // a row number past the end
        var r = ByteReader(bytes, what: "index-1-2.idx")
        #expect(throws: ElanusError.self) { try SortedIndex.decode(from: &r) }
        #expect(SortedIndex.build([Column(fieldID: 1, values: .double([1, .nan]))]) == nil)
    }
}
