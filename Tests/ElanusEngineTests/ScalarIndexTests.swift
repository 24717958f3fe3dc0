import ElanusCore
import ElanusEngine
import ElanusQuery
import ElanusTestSupport
import Foundation
import Testing

/// Scalar indexes (STL_SORT, TRIE, INVERTED) built by the index node for flushed segments:
/// filtered queries, counts and searches give exactly the brute-force rows with the indexes
/// built, across deletes, growing rows, a compaction and a restart; the index files are on disk
/// and loaded, not rebuilt; specs on fields an index type does not cover are refused.
@Suite struct ScalarIndexTests {
    static let rows = 3000
    static let names = ["alpha", "alpine", "beta", "bet", "gamma", "", "delta", "epsilon"]

    struct Row {
        var id: Int64
        var cat: Int64
        var name: String?
        var score: Double
    }

    static func row(_ id: Int64) -> Row {
        Row(id: id, cat: (id * 7) % 101, name: id % 13 == 0 ? nil : names[Int(id) % names.count] + String(id % 5), score: Double(id % 40) / 8)
    }

    static func schema() -> CollectionSchema {
        CollectionSchema(fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimary: true),
            FieldSchema(name: "v", dataType: .floatVector, typeParams: [KeyValue("dim", "4")]),
            FieldSchema(name: "cat", dataType: .int64),
            FieldSchema(name: "name", dataType: .varChar, nullable: true, typeParams: [KeyValue("max_length", "32")]),
            FieldSchema(name: "score", dataType: .double),
        ])
    }

    static let specs = [
        IndexSpec(indexName: "v", fieldName: "v", indexType: "FLAT", metricType: "L2", params: []),
        IndexSpec(indexName: "cat", fieldName: "cat", indexType: "STL_SORT", metricType: "", params: []),
        IndexSpec(indexName: "name", fieldName: "name", indexType: "Trie", metricType: "", params: []),
        IndexSpec(indexName: "score", fieldName: "score", indexType: "INVERTED", metricType: "", params: []),
    ]

    static func insert(_ engine: Engine, _ info: CollectionInfo, _ ids: [Int64]) throws {
        let rows = ids.map(row)
        let batch = EntityBatch(rowCount: ids.count, columns: [
            Column(fieldID: info.schema.fields[0].fieldID, values: .int64(ids)),
            Column(fieldID: info.schema.fields[1].fieldID, width: 4, values: .floatVector(ids.flatMap { id in (0..<4).map { Float(id) + Float($0) } })),
            Column(fieldID: info.schema.fields[2].fieldID, values: .int64(rows.map(\.cat))),
            Column(fieldID: info.schema.fields[3].fieldID, values: .string(rows.map { $0.name ?? "" }), valid: rows.map { $0.name != nil }),
            Column(fieldID: info.schema.fields[4].fieldID, values: .double(rows.map(\.score))),
        ])
        _ = try engine.insert(info, partitionName: nil, batch: batch)
    }

    static let filters: [(String, @Sendable (Row) -> Bool)] = [
        ("cat == 17", { $0.cat == 17 }),
        ("cat in [1, 2, 3, 50, 99]", { [1, 2, 3, 50, 99].contains($0.cat) }),
        ("cat >= 95 and score < 1", { $0.cat >= 95 && $0.score < 1 }),
        ("name like 'alp%'", { $0.name?.hasPrefix("alp") == true }),
        ("name == 'beta3'", { $0.name == "beta3" }),
        ("name is null", { $0.name == nil }),
        ("name > 'epsilon'", { ($0.name ?? "") > "epsilon" }),
        ("not (cat < 90) and name != 'gamma0'", { $0.cat >= 90 && $0.name != nil && $0.name != "gamma0" }),
        ("score == 2.5 or cat == 0", { $0.score == 2.5 || $0.cat == 0 }),
        ("cat == 5 and id % 2 == 1", { $0.cat == 5 && $0.id % 2 == 1 }),
    ]

    static func expectAnswers(_ engine: Engine, _ info: CollectionInfo, live: Set<Int64>, sourceLocation: SourceLocation = #_sourceLocation) throws {
        for (filter, matches) in filters {
            let predicate = try FilterChecker.check(filter, schema: info.schema)
            let expected = live.filter { matches(row($0)) }
            let got = try engine.query(info, predicate: predicate, limit: 100_000)
            #expect(Set(SegmentLifecycleTests.keys(got)) == expected, "\(filter)", sourceLocation: sourceLocation)
            #expect(try engine.count(info, predicate: predicate) == expected.count, "\(filter)", sourceLocation: sourceLocation)
            // A filtered search fills its limit from exactly the matching rows.
            let hits = try engine.search(info, SearchRequest(field: info.schema.fields[1], metric: .l2, vectors: [.dense([0, 1, 2, 3])], limit: 5, predicate: predicate))
            #expect(VectorIndexTests.ids(hits[0]) == expected.sorted().prefix(5).map { $0 }, "\(filter)", sourceLocation: sourceLocation)
        }
    }

    static func indexFiles(_ dir: TemporaryDirectory, _ info: CollectionInfo) -> [String: Date] {
        let root = dir.file("data/objects/\(info.id)")
        var out: [String: Date] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] where name.hasSuffix(".idx") {
            out[name] = try? FileManager.default.attributesOfItem(atPath: root + "/" + name)[.modificationDate] as? Date
        }
        return out
    }

    static func waitForIndexes(_ engine: Engine, _ info: CollectionInfo) throws {
        let deadline = Date().addingTimeInterval(60)
        for spec in info.indexes {
            while true {
                let progress = try engine.indexProgress(info, spec)
                #expect(progress.state != "Failed", "\(spec.indexName): \(progress.failReason)")
                if progress.state == "Finished" && progress.totalRows > 0 || progress.state == "Failed" || Date() > deadline { break }
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
    }

    @Test func indexedFiltersMatchBruteForceAcrossCompactionAndRestart() throws {
        let dir = TemporaryDirectory()
        var live = Set<Int64>()
        var info: CollectionInfo
        var filesBefore: [String: Date]
        do {
            let engine = try CompactionTests.open(dir, maxRows: 1000)
            defer { engine.close() }
            try engine.catalog.createCollection(CreateCollectionRequest(database: "default", name: "c", schema: Self.schema(), indexes: Self.specs))
            try engine.catalog.load(database: "default", name: "c")
            info = try engine.catalog.collection(database: "default", name: "c")
            for start in stride(from: 0, to: Int64(Self.rows), by: 500) { try Self.insert(engine, info, Array(start..<(start + 500))) }
            live.formUnion(0..<Int64(Self.rows))
            try engine.flush(info)
            try Self.waitForIndexes(engine, info)
            // Three segments, three indexed fields.
            #expect(Self.indexFiles(dir, info).count == 9)
            for spec in info.indexes {
                let progress = try engine.indexProgress(info, spec)
                #expect(progress.indexedRows == Self.rows && progress.pendingRows == 0)
            }
            try Self.expectAnswers(engine, info, live: live)

            // Deletes mask indexed rows; growing rows are not indexed yet and still match.
            #expect(try engine.delete(info, partitionName: nil, filter: "cat < 30") > 0)
            live = live.filter { Self.row($0).cat >= 30 }
            try Self.insert(engine, info, Array(Int64(Self.rows)..<Int64(Self.rows + 200)))
            live.formUnion(Int64(Self.rows)..<Int64(Self.rows + 200))
            try Self.expectAnswers(engine, info, live: live)

            // A compaction rewrites the segments with their scalar indexes.
            let id = try engine.compact(database: "default", collection: "c", clustering: false)
            _ = try CompactionTests.waitForCompaction(engine, id)
            try Self.waitForIndexes(engine, info)
            try Self.expectAnswers(engine, info, live: live)
            try engine.flush(info)
            try Self.waitForIndexes(engine, info)
            filesBefore = Self.indexFiles(dir, info)
        }
        // A restart opens the index files; nothing is rebuilt.
        let engine = try CompactionTests.open(dir, maxRows: 1000)
        defer { engine.close() }
        info = try engine.catalog.collection(database: "default", name: "c")
        try Self.expectAnswers(engine, info, live: live)
        Thread.sleep(forTimeInterval: 0.2)
        #expect(Self.indexFiles(dir, info) == filesBefore)
    }

    @Test(arguments: [
        ("STL_SORT", "name", "covers numeric fields"),
        ("Trie", "cat", "covers VarChar fields"),
        ("INVERTED", "meta", "not supported by Elanus yet"),
        ("BITMAP", "score", "Bool, integer and VarChar fields"),
        ("NGRAM", "name", "not supported"),
    ])
    func specsOnUncoveredFieldsAreRefused(_ type: String, _ field: String, _ message: String) throws {
        let dir = TemporaryDirectory()
        let engine = try CompactionTests.open(dir)
        defer { engine.close() }
        var fields = Self.schema().fields
        fields.append(FieldSchema(name: "meta", dataType: .json))
        try engine.catalog.createCollection(CreateCollectionRequest(database: "default", name: "c", schema: CollectionSchema(fields: fields), indexes: []))
        do {
            try engine.createIndex(database: "default", collection: "c", IndexSpec(indexName: "i", fieldName: field, indexType: type, metricType: "", params: []))
            Issue.record("\(type) on \(field) was accepted")
        } catch {
            #expect(error.code == .invalidParameter && error.message.contains(message), "\(error.message)")
        }
    }
}
