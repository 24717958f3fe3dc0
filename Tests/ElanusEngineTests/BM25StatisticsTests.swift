import ElanusCore
import ElanusQuery
import ElanusTestSupport
import Foundation
import Testing

@testable import ElanusEngine

/// BM25 term statistics kept in files: the index node writes each flushed segment's statistics,
/// a restart reads them (no pass over the sparse vectors: the chunks never compute their own),
/// and searches score exactly as before the restart, deletes made after it included.
@Suite struct BM25StatisticsTests {
    static let vocabulary = (0..<30).map { "w\($0)" }

    static func schema() -> CollectionSchema {
        CollectionSchema(
            fields: [
                FieldSchema(name: "id", dataType: .int64, isPrimary: true),
                FieldSchema(name: "text", dataType: .varChar, typeParams: [KeyValue("max_length", "512"), KeyValue("enable_analyzer", "true")]),
                FieldSchema(name: "sparse", dataType: .sparseFloatVector),
            ],
            functions: [FunctionSchema(name: "bm25", type: .bm25, inputFieldNames: ["text"], outputFieldNames: ["sparse"])])
    }

    static func insert(_ engine: Engine, _ info: CollectionInfo, _ ids: Range<Int64>, _ rng: inout SeededGenerator) throws {
        let texts = ids.map { _ in (0..<Int.random(in: 1...10, using: &rng)).map { _ in vocabulary.randomElement(using: &rng)! }.joined(separator: " ") }
        let batch = EntityBatch(rowCount: texts.count, columns: [
            Column(fieldID: info.schema.fields[0].fieldID, values: .int64(Array(ids))),
            Column(fieldID: info.schema.fields[1].fieldID, values: .string(texts)),
        ])
        _ = try engine.insert(info, partitionName: nil, batch: batch)
    }

    /// Top hits (id, score) of a few text queries.
    static func scores(_ engine: Engine, _ info: CollectionInfo) throws -> [[(Int64, Float)]] {
        try ["w1", "w2 w3", "w29 w0 w7"].map { query in
            let hits = try engine.search(info, SearchRequest(field: info.schema.fields[2], metric: .bm25, vectors: [.text(query)], limit: 20))[0]
            return zip(VectorIndexTests.ids(hits), hits.map(\.score)).map { ($0, $1) }
        }
    }

    static func same(_ a: [[(Int64, Float)]], _ b: [[(Int64, Float)]]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { x, y in x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && abs($0.1 - $1.1) <= 1e-5 } }
    }

    static func waitForStatistics(_ engine: Engine, _ info: CollectionInfo) throws {
        let data = try engine.data(for: info)
        let key = IndexPlan.termStatisticsKey(info.schema.fields[2].fieldID)
        let deadline = Date().addingTimeInterval(60)
        while !data.segmentsNeedingIndex(key, minRows: 1).isEmpty, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        #expect(data.segmentsNeedingIndex(key, minRows: 1).isEmpty, "the statistics files were not written")
    }

    @Test func statisticsSurviveARestartWithoutARescan() throws {
        let dir = TemporaryDirectory()
        var rng = SeededGenerator(seed: 7)
        var before: [[(Int64, Float)]]
        var info: CollectionInfo
        let spec = IndexSpec(indexName: "sparse", fieldName: "sparse", indexType: "SPARSE_INVERTED_INDEX", metricType: "BM25", params: [])
        do {
            let engine = try CompactionTests.open(dir, maxRows: 100)
            defer { engine.close() }
            try engine.catalog.createCollection(CreateCollectionRequest(database: "default", name: "c", schema: Self.schema(), indexes: [spec]))
            try engine.catalog.load(database: "default", name: "c")
            info = try engine.catalog.collection(database: "default", name: "c")
            // Segments of 100 rows, some under the index node's minimum of 50 after deletes.
            for start in stride(from: Int64(0), to: 330, by: 100) { try Self.insert(engine, info, start..<min(start + 100, 330), &rng) }
            #expect(try engine.delete(info, partitionName: nil, filter: "id >= 300 and id < 320") == 20)
            try engine.flush(info)
            try Self.waitForStatistics(engine, info)
            before = try Self.scores(engine, info)
            #expect(before.allSatisfy { !$0.isEmpty }, "\(before)")
        }
        let engine = try CompactionTests.open(dir, maxRows: 100)
        defer { engine.close() }
        info = try engine.catalog.collection(database: "default", name: "c")
        #expect(Self.same(try Self.scores(engine, info), before))
        // Every flushed segment's statistics came from its file: no chunk computed its own.
        let sparse = info.schema.fields[2].fieldID
        let segments = try engine.data(for: info).read { Array($0.segments.values) }
        #expect(segments.count == 4)
        for segment in segments {
            #expect(segment.indexes[IndexPlan.termStatisticsKey(sparse)] is TermStatisticsIndex)
            #expect(segment.chunks.allSatisfy { !$0.terms.isComputed(sparse) })
        }
        // Deletes after the restart come out of the statistics, as in a fresh engine's scan.
        #expect(try engine.delete(info, partitionName: nil, filter: "id < 40") == 40)
        let afterDelete = try Self.scores(engine, info)
        for segment in try engine.data(for: info).read({ Array($0.segments.values) }) {
            for chunk in segment.chunks { _ = chunk.terms.statistics(sparse, of: chunk.batch) }
        }
        let data = try engine.data(for: info)
        data.state.withLock { s in for id in Array(s.segments.keys) { s.segments[id]?.indexes[IndexPlan.termStatisticsKey(sparse)] = nil } }
        #expect(Self.same(try Self.scores(engine, info), afterDelete))
    }
}
