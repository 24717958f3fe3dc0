import Dispatch
import ElanusCore
@testable import ElanusEngine
import ElanusQuery
import ElanusStorage
import ElanusTestSupport
import Foundation
import Testing

/// HNSW over Int8Vector fields, which keeps one byte per dimension (IndexPlan+Int8.swift): every
/// hit's score is the exact int8 score (brute force computed here in Double), recall against
/// brute force for L2, IP and COSINE, with and without a filter, through flush, index build and
/// restart; index files of the float HNSW that used to be built over int8 fields are rebuilt,
/// and the new files are measured against them.
@Suite struct Int8IndexTests {
    static let dim = 128
    static let rows = 3000
    static let segmentRows = 1500  // VectorIndexTests.open's

    struct Data {
        var vectors: [[Int8]]
        var queries: [[Int8]]
    }

    /// Clustered int8 vectors (as quantized embeddings are), covering -128 and 127.
    static let data: Data = {
        var rng = SeededGenerator(seed: 8)
        let centers = (0..<20).map { _ in (0..<dim).map { _ in Double.random(in: -90...90, using: &rng) } }
        func draw() -> [Int8] {
            let center = centers[Int.random(in: 0..<centers.count, using: &rng)]
            return center.map { Int8(max(-128, min(127, ($0 + Double.random(in: -60...60, using: &rng)).rounded()))) }
        }
        return Data(vectors: (0..<rows).map { _ in draw() }, queries: (0..<30).map { _ in draw() })
    }()

    /// VectorIndexTests' engine: segments of 1500 rows, indexed from 200.
    static func open(_ dir: TemporaryDirectory) throws -> Engine { try VectorIndexTests.open(dir) }

    static func spec(_ metric: String) -> IndexSpec {
        IndexSpec(indexName: "v", fieldName: "v", indexType: "HNSW", metricType: metric, params: [KeyValue("M", "16"), KeyValue("efConstruction", "100")])
    }

    static func populate(_ engine: Engine, _ spec: IndexSpec) throws -> CollectionInfo {
        try VectorIndexTests.populate(engine, spec, schema: VectorIndexTests.schema(.int8Vector, dim: dim), rows: rows) { ids in
            .int8Vector(ids.flatMap { data.vectors[Int($0)] })
        }
    }

    static func score(_ metric: Metric, _ q: [Int8], _ x: [Int8]) -> Double {
        let a = q.map(Double.init), b = x.map(Double.init)
        let dot = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
        switch metric {
        case .l2: return zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        case .ip: return dot
        default:
            let norms = (a.reduce(0) { $0 + $1 * $1 } * b.reduce(0) { $0 + $1 * $1 }).squareRoot()
            return norms > 0 ? dot / norms : 0
        }
    }

    /// The best `k` ids by brute force among the allowed rows.
    static func bruteForce(_ metric: Metric, _ q: [Int8], k: Int, allowed: (Int) -> Bool = { _ in true }) -> [Int64] {
        let scored = (0..<rows).filter(allowed).map { (Int64($0), score(metric, q, data.vectors[$0])) }
        return (metric == .l2 ? scored.sorted { $0.1 < $1.1 } : scored.sorted { $0.1 > $1.1 }).prefix(k).map(\.0)
    }

    /// Searches every query; checks every hit's score against brute force, the order, and the
    /// filter; returns the hits' ids and the recall@10.
    static func check(_ engine: Engine, _ info: CollectionInfo, _ metric: Metric, filter: String? = nil, allowed: @escaping (Int) -> Bool = { _ in true }) throws -> ([[Int64]], Double) {
        let predicate = try filter.map { try FilterChecker.check($0, schema: info.schema) }
        var all: [[Int64]] = []
        var found = 0
        for q in data.queries {
            let hits = try engine.search(
                info, SearchRequest(field: info.schema.fields[1], metric: metric, vectors: [.dense(q.map(Float.init))], limit: 10, predicate: predicate, ef: 64))[0]
            let ids = VectorIndexTests.ids(hits)
            #expect(ids.count == 10)
            for (hit, id) in zip(hits, ids) {
                let truth = score(metric, q, data.vectors[Int(id)])
                #expect(abs(Double(hit.score) - truth) <= 1e-5 * max(1, abs(truth)), "\(metric) id \(id): \(hit.score) vs \(truth)")
                #expect(allowed(Int(id)), "id \(id) is outside the filter \(filter ?? "")")
            }
            let scores = hits.map(\.score)
            #expect(scores == (metric == .l2 ? scores.sorted() : scores.sorted(by: >)), "\(metric): \(scores)")
            found += Set(ids).intersection(bruteForce(metric, q, k: 10, allowed: allowed)).count
            all.append(ids)
        }
        return (all, Double(found) / Double(data.queries.count * 10))
    }

    @Test(arguments: ["L2", "IP", "COSINE"])
    func hitsCarryExactScoresThroughBuildAndRestart(_ metricName: String) throws {
        let metric = Metric(rawValue: metricName)!
        let dir = TemporaryDirectory()
        let before: [[Int64]]
        let info: CollectionInfo
        do {
            let engine = try Self.open(dir)
            defer { engine.close() }
            info = try Self.populate(engine, Self.spec(metricName))
            #expect(try engine.indexProgress(info, info.indexes[0]).indexedRows == Self.rows)
            let (ids, recall) = try Self.check(engine, info, metric)
            #expect(recall >= 0.9, "\(metricName): recall@10 \(recall)")
            before = ids
            // Half the rows allowed: the index searches with a bitmap, the hits stay exact.
            let (_, filtered) = try Self.check(engine, info, metric, filter: "cat < 50") { $0 % 100 < 50 }
            #expect(filtered >= 0.9, "\(metricName) filtered: recall@10 \(filtered)")
        }
        // Loaded from the index files, not rebuilt: the same answers.
        let engine = try Self.open(dir)
        defer { engine.close() }
        #expect(try engine.indexProgress(info, info.indexes[0]).state == "Finished")
        let (after, _) = try Self.check(engine, info, metric)
        #expect(after == before)
    }

    /// The plan maps HNSW and AUTOINDEX on an Int8Vector onto byte codes.
    @Test func int8HNSWPlansStoreBytes() throws {
        let field = FieldSchema(name: "v", dataType: .int8Vector, typeParams: [KeyValue("dim", "8")])
        for (type, metric, storage) in [("HNSW", "L2", "SQ8DIRECT"), ("HNSW", "IP", "SQ8"), ("HNSW", "COSINE", "SQ8"), ("AUTOINDEX", "L2", "SQ8DIRECT")] {
            let plan = try IndexPlan.make(IndexSpec(indexName: "v", fieldName: "v", indexType: type, metricType: metric, params: []), field: field)
            guard case .hnswQuantized(_, _, let got, nil, 1) = plan.kind else {
                Issue.record("\(type) \(metric): \(plan.kind)")
                continue
            }
            #expect(got == storage)
        }
    }

    /// Files written before int8 codes (a float HNSW over the int8 field, under the same index
    /// type) are refused by their plan signature and rebuilt; meanwhile the segment is searched
    /// exactly. The rebuilt files are the measure of the saving (printed for the README).
    @Test func floatIndexFilesFromBeforeAreRebuiltSmaller() throws {
        let dir = TemporaryDirectory()
        let info: CollectionInfo
        do {
            let engine = try Self.open(dir)
            defer { engine.close() }
            info = try Self.populate(engine, Self.spec("L2"))
        }
        let root = dir.file("data/objects")
        let folder = "\(root)/\(info.id)"
        let indexFiles = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".idx") }.sorted()
        #expect(indexFiles.count == Self.rows / Self.segmentRows)
        func size(_ name: String) throws -> Int { try (FileManager.default.attributesOfItem(atPath: "\(folder)/\(name)")[.size] as? Int) ?? 0 }
        let newBytes = try indexFiles.map(size).reduce(0, +)

        // Each file replaced by the float HNSW the earlier code built for this index.
        let field = info.schema.fields[1]
        let old = IndexPlan(indexType: "HNSW", kind: .hnsw(m: 16, efConstruction: 100), metric: .l2)
        let store = try ObjectStore(root: root)
        for name in indexFiles {
            let segmentID = try #require(Int64(name.dropFirst("index-".count).split(separator: "-")[0]))
            let segment = try SegmentFile.read(path: "\(root)/\(SegmentFile.segmentPath(collection: info.id, segment: segmentID))", createdAt: 0)
            let index = try FaissIndex.build(old, segment: segment, field: field, threads: 1)
            _ = try IndexFile.write(index, segmentID: segmentID, fieldID: field.fieldID, dim: Self.dim, to: store, "\(info.id)/\(name)")
        }
        let oldBytes = try indexFiles.map(size).reduce(0, +)
        print("int8 HNSW M=16 dim \(Self.dim), \(Self.rows) rows: float index files \(oldBytes) bytes (\(oldBytes / Self.rows) a row), int8 codes \(newBytes) bytes (\(newBytes / Self.rows) a row)")
        // The vectors alone shrink from 4 bytes a dimension to 1.
        #expect(oldBytes - newBytes >= Self.rows * Self.dim * 3 - Self.rows * 16)

        let engine = try Self.open(dir)
        defer { engine.close() }
        // Exact until rebuilt, then through the rebuilt index: the hits are exact either way.
        let (_, recall) = try Self.check(engine, info, .l2)
        #expect(recall >= 0.9)
        try VectorIndexTests.waitForIndex(engine, info)
        #expect(try engine.indexProgress(info, info.indexes[0]).indexedRows == Self.rows)
        let (_, rebuilt) = try Self.check(engine, info, .l2)
        #expect(rebuilt >= 0.9)
        #expect(try indexFiles.map(size).reduce(0, +) == newBytes)
    }
}
