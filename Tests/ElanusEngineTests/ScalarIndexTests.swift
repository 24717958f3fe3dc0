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
        ("INVERTED", "meta", "json index must specify cast type"),
        ("BITMAP", "score", "Bool, integer and VarChar fields"),
        ("NGRAM", "cat", "Ngram index can only be created on VARCHAR or JSON field"),
        ("NGRAM", "name", "Ngram index must specify both min_gram and max_gram"),
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

    // MARK: - NGRAM and JSON path indexes

    static func textOf(_ id: Int64) -> String {
        var x = UInt64(id) &* 2_654_435_761 &+ 7
        return String((0..<Int(id % 9)).map { _ in
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Array("abcé")[Int(x >> 60) % 4]
        })
    }

    static func metaOf(_ id: Int64) -> JSON {
        let colors: [JSON] = ["red", "green", "blue", 7, ["red"]]
        var members: [(key: String, value: JSON)] = [("color", colors[Int(id % 5)]), ("s", .string(textOf(id * 3)))]
        if id % 4 != 0 { members.append(("n", id % 6 == 1 ? "3" : .int(id % 7))) }
        return .object(members)
    }

    static let textSpecs = [
        IndexSpec(indexName: "v", fieldName: "v", indexType: "FLAT", metricType: "L2", params: []),
        IndexSpec(indexName: "text", fieldName: "text", indexType: "NGRAM", metricType: "", params: [KeyValue("min_gram", "2"), KeyValue("max_gram", "3")]),
        IndexSpec(indexName: "color", fieldName: "meta", indexType: "INVERTED", metricType: "", params: [KeyValue("json_path", "meta['color']"), KeyValue("json_cast_type", "varchar")]),
        IndexSpec(indexName: "n", fieldName: "meta", indexType: "AUTOINDEX", metricType: "", params: [KeyValue("json_path", "meta[\"n\"]"), KeyValue("json_cast_type", "DOUBLE")]),
        IndexSpec(indexName: "s", fieldName: "meta", indexType: "NGRAM", metricType: "", params: [KeyValue("json_path", "meta['s']"), KeyValue("json_cast_type", "VARCHAR"), KeyValue("min_gram", "1"), KeyValue("max_gram", "2")]),
    ]

    static let textFilters: [(String, @Sendable (Int64) -> Bool)] = [
        ("text like '%ab%'", { textOf($0).contains("ab") }),
        ("text like 'ab%'", { textOf($0).hasPrefix("ab") }),
        ("text like '%bé'", { textOf($0).hasSuffix("bé") }),
        ("text like 'a_c%'", { let t = Array(textOf($0)); return t.count >= 3 && t[0] == "a" && t[2] == "c" }),
        ("text like '%a%'", { textOf($0).contains("a") }),
        ("meta['color'] == 'red'", { metaOf($0)["color"] == "red" }),
        ("meta['color'] in ['red', 'blue']", { ["red", "blue"].contains(metaOf($0)["color"]!) }),
        ("meta['n'] > 3", { if case .int(let n)? = metaOf($0)["n"] { n > 3 } else { false } }),
        ("meta['n'] == 3", { metaOf($0)["n"] == 3 }),
        ("meta['s'] like '%cc%'", { if case .string(let s)? = metaOf($0)["s"] { s.contains("cc") } else { false } }),
        ("meta['color'] == 'green' and text like '%ca%'", { metaOf($0)["color"] == "green" && textOf($0).contains("ca") }),
    ]

    static func textSchema() -> CollectionSchema {
        CollectionSchema(fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimary: true),
            FieldSchema(name: "v", dataType: .floatVector, typeParams: [KeyValue("dim", "4")]),
            FieldSchema(name: "text", dataType: .varChar, typeParams: [KeyValue("max_length", "64")]),
            FieldSchema(name: "meta", dataType: .json),
        ])
    }

    static func insertText(_ engine: Engine, _ info: CollectionInfo, _ ids: [Int64]) throws {
        let batch = EntityBatch(rowCount: ids.count, columns: [
            Column(fieldID: info.schema.fields[0].fieldID, values: .int64(ids)),
            Column(fieldID: info.schema.fields[1].fieldID, width: 4, values: .floatVector(ids.flatMap { id in (0..<4).map { Float(id) + Float($0) } })),
            Column(fieldID: info.schema.fields[2].fieldID, values: .string(ids.map(textOf))),
            Column(fieldID: info.schema.fields[3].fieldID, values: .json(ids.map(metaOf))),
        ])
        _ = try engine.insert(info, partitionName: nil, batch: batch)
    }

    static func expectTextAnswers(_ engine: Engine, _ info: CollectionInfo, live: Set<Int64>, sourceLocation: SourceLocation = #_sourceLocation) throws {
        for (filter, matches) in textFilters {
            let predicate = try FilterChecker.check(filter, schema: info.schema)
            let got = try engine.query(info, predicate: predicate, limit: 100_000)
            #expect(Set(SegmentLifecycleTests.keys(got)) == live.filter(matches), "\(filter)", sourceLocation: sourceLocation)
        }
    }

    @Test func ngramAndJSONPathIndexesBuildAnswerRestartAndDrop() throws {
        let dir = TemporaryDirectory()
        let live = Set<Int64>(0..<1500)
        var info: CollectionInfo
        var filesBefore: [String: Date]
        do {
            let engine = try CompactionTests.open(dir, maxRows: 1000)
            defer { engine.close() }
            try engine.catalog.createCollection(CreateCollectionRequest(database: "default", name: "c", schema: Self.textSchema(), indexes: Self.textSpecs))
            try engine.catalog.load(database: "default", name: "c")
            info = try engine.catalog.collection(database: "default", name: "c")
            for start in stride(from: Int64(0), to: 1500, by: 500) { try Self.insertText(engine, info, Array(start..<(start + 500))) }
            try Self.expectTextAnswers(engine, info, live: live)
            try engine.flush(info)
            try Self.waitForIndexes(engine, info)
            // Two segments, four scalar indexes (three of them on one JSON field).
            #expect(Self.indexFiles(dir, info).count == 8)
            try Self.expectTextAnswers(engine, info, live: live)
            // One index per path: the same path again under another name is refused.
            let again = IndexSpec(indexName: "again", fieldName: "meta", indexType: "INVERTED", metricType: "", params: [KeyValue("json_path", "meta[\"color\"]"), KeyValue("json_cast_type", "VARCHAR")])
            #expect(throws: ElanusError.self) { try engine.createIndex(database: "default", collection: "c", again) }
            filesBefore = Self.indexFiles(dir, info)
        }
        // A restart opens the index files; nothing is rebuilt.
        let engine = try CompactionTests.open(dir, maxRows: 1000)
        defer { engine.close() }
        info = try engine.catalog.collection(database: "default", name: "c")
        try Self.expectTextAnswers(engine, info, live: live)
        Thread.sleep(forTimeInterval: 0.2)
        #expect(Self.indexFiles(dir, info) == filesBefore)
        // Dropping one JSON path index removes its files only.
        try engine.dropIndex(database: "default", collection: "c", indexName: "color")
        #expect(Self.indexFiles(dir, info).count == 6)
        info = try engine.catalog.collection(database: "default", name: "c")
        #expect(info.indexes.map(\.indexName) == ["v", "text", "n", "s"])
        try Self.expectTextAnswers(engine, info, live: live)
    }

    @Test(arguments: [
        ("NGRAM", "text", [KeyValue("min_gram", "3"), KeyValue("max_gram", "2")], "invalid min_gram or max_gram value for Ngram index, min_gram: 3, max_gram: 2"),
        ("NGRAM", "text", [KeyValue("min_gram", "x"), KeyValue("max_gram", "2")], "min_gram for Ngram index must be an integer, got: x"),
        ("NGRAM", "meta", [KeyValue("min_gram", "1"), KeyValue("max_gram", "2")], "JSON field with ngram index must specify json_cast_type"),
        ("NGRAM", "meta", [KeyValue("json_cast_type", "DOUBLE"), KeyValue("min_gram", "1"), KeyValue("max_gram", "2")], "only supports VARCHAR cast type, got: DOUBLE"),
        ("INVERTED", "meta", [KeyValue("json_cast_type", "INT64")], "json_cast_type INT64 is not supported"),
        ("INVERTED", "meta", [KeyValue("json_cast_type", "VARCHAR"), KeyValue("json_path", "text['a']")], "fieldID not match with field name"),
        ("INVERTED", "meta", [KeyValue("json_cast_type", "VARCHAR"), KeyValue("json_cast_function", "STRING_TO_DOUBLE")], "not supported for json_cast_type VARCHAR"),
        ("STL_SORT", "meta", [KeyValue("json_cast_type", "DOUBLE")], "covers numeric fields"),
    ])
    func ngramAndJSONParameterErrors(_ type: String, _ field: String, _ params: [KeyValue], _ message: String) throws {
        let dir = TemporaryDirectory()
        let engine = try CompactionTests.open(dir)
        defer { engine.close() }
        try engine.catalog.createCollection(CreateCollectionRequest(database: "default", name: "c", schema: Self.textSchema(), indexes: []))
        do {
            try engine.createIndex(database: "default", collection: "c", IndexSpec(indexName: "i", fieldName: field, indexType: type, metricType: "", params: params))
            Issue.record("\(type) on \(field) with \(params) was accepted")
        } catch {
            #expect(error.code == .invalidParameter && error.message.contains(message), "\(error.message)")
        }
    }

    @Test func jsonPathIndexesTakeMilvusDefaultNames() throws {
        let dir = TemporaryDirectory()
        let engine = try CompactionTests.open(dir)
        defer { engine.close() }
        let params = [KeyValue("json_path", "meta['a']['b/c']"), KeyValue("json_cast_type", "BOOL")]
        let spec = IndexSpec(indexName: "", fieldName: "meta", indexType: "INVERTED", metricType: "", params: params)
        let field = try #require(Self.textSchema().field(named: "meta"))
        #expect(IndexPlan.defaultIndexName(spec, field: field) == "meta/a/b~1c")
        var named = spec
        named.indexName = "meta/a/b~1c"
        try engine.catalog.createCollection(CreateCollectionRequest(database: "default", name: "c", schema: Self.textSchema(), indexes: [named]))
        // Only the made-up name escapes the name rules.
        named.indexName = "meta/other"
        named.params = [KeyValue("json_path", "meta['x']"), KeyValue("json_cast_type", "BOOL")]
        #expect(throws: ElanusError.self) { try engine.createIndex(database: "default", collection: "c", named) }
    }
}
