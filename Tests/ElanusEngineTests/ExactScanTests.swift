import ElanusCore
import ElanusEngine
import ElanusQuery
import ElanusTestSupport
import Testing

/// The exact scan of growing rows (VectorIndexTests' clustered data, in 500-row chunks, with
/// deleted rows): the kernel scan against a brute force in this file, filtered and not, and the
/// batched scan (BLAS matrix products, from `blasThreshold` query vectors on) against the same
/// vectors searched one at a time.
@Suite struct ExactScanTests {
    static let dim = VectorIndexTests.dim
    static let data = VectorIndexTests.data
    /// Rows deleted before every search: every 7th.
    static func deleted(_ id: Int) -> Bool { id % 7 == 3 }

    /// The collection with every row growing (no flush), `cat = id % 100`, and deletes applied.
    static func populate(_ dir: TemporaryDirectory) throws -> (Engine, CollectionInfo) {
        let engine = try Engine(configuration: Engine.Configuration(dataDirectory: dir.file("data")))
        let spec = IndexSpec(indexName: "v", fieldName: "v", indexType: "FLAT", metricType: "L2")
        try engine.catalog.createCollection(CreateCollectionRequest(database: "default", name: "c", schema: VectorIndexTests.schema(), indexes: [spec]))
        try engine.catalog.load(database: "default", name: "c")
        let info = try engine.catalog.collection(database: "default", name: "c")
        for start in stride(from: 0, to: VectorIndexTests.rows, by: 500) {
            let ids = (start..<(start + 500)).map(Int64.init)
            let batch = EntityBatch(rowCount: ids.count, columns: [
                Column(fieldID: info.schema.fields[0].fieldID, values: .int64(ids)),
                Column(fieldID: info.schema.fields[1].fieldID, width: dim, values: .floatVector(ids.flatMap { data.vectors[Int($0)] })),
                Column(fieldID: info.schema.fields[2].fieldID, values: .int64(ids.map { $0 % 100 })),
            ])
            _ = try engine.insert(info, partitionName: nil, batch: batch)
        }
        #expect(try engine.delete(info, partitionName: nil, filter: "id % 7 == 3") > 0)
        return (engine, info)
    }

    /// (id, score) of the best `k` allowed rows, scored in plain Swift (doubles).
    static func bruteForce(_ query: [Float], metric: Metric, k: Int, allowed: (Int) -> Bool) -> [(id: Int64, score: Float)] {
        func score(_ v: [Float]) -> Double {
            let dot = zip(query, v).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            switch metric {
            case .l2: return zip(query, v).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
            case .ip: return dot
            default:
                let norms = query.reduce(0.0) { $0 + Double($1 * $1) }.squareRoot() * v.reduce(0.0) { $0 + Double($1 * $1) }.squareRoot()
                return norms > 0 ? dot / norms : 0
            }
        }
        let scored = (0..<VectorIndexTests.rows).filter(allowed).map { (id: Int64($0), score: score(data.vectors[$0])) }
        let sorted = scored.sorted { metric.higherIsBetter ? $0.score > $1.score : $0.score < $1.score }
        return sorted.prefix(k).map { (id: $0.id, score: Float($0.score)) }
    }

    @Test(arguments: [Metric.l2, .ip, .cosine], [nil, "cat < 10"])
    func kernelScanEqualsBruteForce(_ metric: Metric, _ filter: String?) throws {
        let dir = try TemporaryDirectory()
        let (engine, info) = try ExactScanTests.populate(dir)
        defer { engine.close() }
        let predicate = try filter.map { try FilterChecker.check($0, schema: info.schema) }
        for query in ExactScanTests.data.queries.prefix(10) {
            let found = try engine.search(info, SearchRequest(field: info.schema.fields[1], metric: metric, vectors: [.dense(query)], limit: 10, predicate: predicate))[0]
            let expected = ExactScanTests.bruteForce(query, metric: metric, k: 10) { id in
                !ExactScanTests.deleted(id) && (filter == nil || id % 100 < 10)
            }
            #expect(VectorIndexTests.ids(found) == expected.map(\.id))
            for (hit, truth) in zip(found, expected) { #expect(abs(hit.score - truth.score) <= 1e-3 * max(1, abs(truth.score))) }
        }
    }

    @Test(arguments: [Metric.l2, .ip, .cosine], [nil, "cat < 50"])
    func batchedScanEqualsOneQueryAtATime(_ metric: Metric, _ filter: String?) throws {
        let dir = try TemporaryDirectory()
        let (engine, info) = try ExactScanTests.populate(dir)
        defer { engine.close() }
        let predicate = try filter.map { try FilterChecker.check($0, schema: info.schema) }
        let queries = ExactScanTests.data.queries
        // 40 vectors: past the engine's batch threshold (20), in one group a core or two.
        #expect(queries.count >= 40)
        let field = info.schema.fields[1]
        let batch = try engine.search(info, SearchRequest(field: field, metric: metric, vectors: queries.map { .dense($0) }, limit: 7, offset: 2, predicate: predicate))
        #expect(batch.count == queries.count)
        for (q, query) in queries.enumerated() {
            let one = try engine.search(info, SearchRequest(field: field, metric: metric, vectors: [.dense(query)], limit: 7, offset: 2, predicate: predicate))[0]
            #expect(VectorIndexTests.ids(batch[q]) == VectorIndexTests.ids(one))
            #expect(batch[q].map(\.score) == one.map(\.score))
        }
    }

    @Test func offsetSkipsTheBestHits() throws {
        let dir = try TemporaryDirectory()
        let (engine, info) = try ExactScanTests.populate(dir)
        defer { engine.close() }
        let field = info.schema.fields[1]
        let query = ExactScanTests.data.queries[0]
        let whole = try engine.search(info, SearchRequest(field: field, metric: .l2, vectors: [.dense(query)], limit: 12))[0]
        let page = try engine.search(info, SearchRequest(field: field, metric: .l2, vectors: [.dense(query)], limit: 5, offset: 7))[0]
        #expect(VectorIndexTests.ids(page) == Array(VectorIndexTests.ids(whole)[7...]))
    }
}

