import ElanusCore
import ElanusEngine
import ElanusQuery
import ElanusTestSupport
import Foundation
import Testing

/// HNSW_SQ, HNSW_PQ and SCANN on the data of `VectorIndexTests` (3000 clustered rows of 32
/// dimensions in two indexed segments): recall against exact search with and without their refine
/// steps, filters, Milvus's parameter checks, and index files loaded again after a restart.
@Suite struct QuantizedIndexTests {
    typealias Base = VectorIndexTests

    /// recall@10 over the 40 queries, each search shaped by `tune` (reorder_k, refine_k, ...).
    static func recall(_ engine: Engine, _ info: CollectionInfo, metric: Metric, tune: (inout SearchRequest) -> Void = { _ in }) throws -> Double {
        var hits = 0
        for q in Base.data.queries {
            var request = SearchRequest(field: info.schema.fields[1], metric: metric, vectors: [.dense(q)], limit: 10, ef: 64, nprobe: 16)
            tune(&request)
            hits += Set(Base.ids(try engine.search(info, request)[0])).intersection(Base.exact(q, metric: metric, k: 10)).count
        }
        return Double(hits) / Double(Base.data.queries.count * 10)
    }

    /// (index type, metric, params, recall floor with the defaults, floor with more candidates
    /// re-ranked: reorder_k 100 for SCANN, refine_k 5 for HNSW_SQ/PQ).
    @Test(arguments: [
        ("SCANN", "L2", [KeyValue("nlist", "32")], 0.8, 0.95),
        ("SCANN", "COSINE", [KeyValue("nlist", "32"), KeyValue("sub_dim", "4")], 0.3, 0.95),
        ("SCANN", "IP", [KeyValue("nlist", "32"), KeyValue("with_raw_data", "false")], 0.3, 0.3),
        ("HNSW_SQ", "L2", [KeyValue("M", "16"), KeyValue("efConstruction", "100")], 0.9, 0.9),
        ("HNSW_SQ", "IP", [KeyValue("M", "16"), KeyValue("sq_type", "FP16")], 0.9, 0.9),
        ("HNSW_SQ", "COSINE", [KeyValue("sq_type", "sq4u"), KeyValue("refine", "true"), KeyValue("refine_type", "FLAT")], 0.6, 0.95),
        ("HNSW_PQ", "L2", [KeyValue("M", "16"), KeyValue("m", "16"), KeyValue("refine", "true"), KeyValue("refine_type", "SQ8")], 0.85, 0.9),
        ("HNSW_PQ", "IP", [KeyValue("m", "8"), KeyValue("nbits", "6")], 0.3, 0.3),
    ])
    func quantizedIndexesReachTheirRecallFloor(_ type: String, _ metricName: String, _ params: [KeyValue], _ floor: Double, _ refinedFloor: Double) throws {
        let dir = TemporaryDirectory()
        let engine = try Base.open(dir)
        defer { engine.close() }
        let info = try Base.populate(engine, IndexSpec(indexName: "v", fieldName: "v", indexType: type, metricType: metricName, params: params))
        #expect(try engine.indexProgress(info, info.indexes[0]) == .init(totalRows: Base.rows, indexedRows: Base.rows, pendingRows: 0, state: "Finished", failReason: ""))
        let metric = Metric(rawValue: metricName)!
        let plain = try Self.recall(engine, info, metric: metric)
        let refined = try Self.recall(engine, info, metric: metric) { request in
            request.reorderK = 100
            request.refineK = 5
        }
        print("recall@10 \(type) \(metricName) \(params.map { "\($0.key)=\($0.value)" }.joined(separator: ",")): \(plain), re-ranking more: \(refined)")
        #expect(plain >= floor, "\(type) \(metricName): recall@10 \(plain) below \(floor)")
        #expect(refined >= refinedFloor, "\(type) \(metricName): recall@10 re-ranking more \(refined) below \(refinedFloor)")
        // Quantized codes are lossy: a perfect score without a refine step means no index served.
        if refinedFloor == floor, type != "HNSW_SQ" { #expect(plain < 1) }

        // Half the rows pass the filter: `limit` hits come back, every one of them allowed.
        let half = try FilterChecker.check("cat < 50", schema: info.schema)
        for q in Base.data.queries.prefix(6) {
            let found = try engine.search(info, SearchRequest(field: info.schema.fields[1], metric: metric, vectors: [.dense(q)], limit: 10, predicate: half))
            let got = Base.ids(found[0])
            #expect(got.count == 10 && got.allSatisfy { $0 % 100 < 50 }, "\(got)")
        }
    }

    @Test func quantizedIndexParametersAreCheckedAsMilvusDoes() throws {
        let field = FieldSchema(fieldID: 101, name: "v", dataType: .floatVector, typeParams: [KeyValue("dim", "32")])
        func plan(_ type: String, _ params: [KeyValue], metric: String = "L2") throws(ElanusError) -> IndexPlan {
            try IndexPlan.make(IndexSpec(indexName: "v", fieldName: "v", indexType: type, metricType: metric, params: params), field: field)
        }
        func refuse(_ type: String, _ params: [KeyValue], _ message: String, metric: String = "L2") {
            do {
                _ = try plan(type, params, metric: metric)
                Issue.record("\(type) \(params) must be refused")
            } catch {
                #expect(error.code == .invalidParameter && error.message == message + ": invalid parameter", "\(error.message)")
            }
        }
        // Defaults: SCANN m = dim / sub_dim (2) with raw data; HNSW_SQ SQ8 without refine;
        // HNSW_PQ m 32, nbits 8 (256 rows to train).
        #expect(try plan("SCANN", []).kind == .scann(nlist: 128, subquantizers: 16, withRawData: true))
        #expect(try plan("SCANN", [KeyValue("sub_dim", "8"), KeyValue("with_raw_data", "False")]).kind == .scann(nlist: 128, subquantizers: 4, withRawData: false))
        #expect(try plan("HNSW_SQ", []).kind == .hnswQuantized(m: 30, efConstruction: 360, storage: "SQ8", refine: nil, minTrainingRows: 1))
        // As in knowhere, a refine step needs both refine and refine_type.
        #expect(try plan("HNSW_SQ", [KeyValue("refine_type", "fp16")]).kind == .hnswQuantized(m: 30, efConstruction: 360, storage: "SQ8", refine: nil, minTrainingRows: 1))
        #expect(
            try plan("HNSW_SQ", [KeyValue("sq_type", "sq6"), KeyValue("refine", "true"), KeyValue("refine_type", "fp16")]).kind
                == .hnswQuantized(m: 30, efConstruction: 360, storage: "SQ6", refine: "FP16", minTrainingRows: 1))
        let pq = try plan("HNSW_PQ", [], metric: "COSINE")
        #expect(pq.kind == .hnswQuantized(m: 30, efConstruction: 360, storage: "PQ32x8", refine: nil, minTrainingRows: 256) && pq.metric == .cosine)

        refuse("SCANN", [KeyValue("nlist", "0")], "param 'nlist' (0) should be in range [1, 65536] for index type SCANN")
        refuse("SCANN", [KeyValue("sub_dim", "5")], "The dimension of a vector (dim) should be a multiple of sub_dim. Dimension:32, sub_dim:5")
        refuse("SCANN", [KeyValue("with_raw_data", "yes")], "param 'with_raw_data' (yes) should be true or false for index type SCANN")
        refuse("HNSW_SQ", [KeyValue("M", "4096")], "param 'M' (4096) should be in range [2, 2048] for index type HNSW_SQ")
        refuse("HNSW_SQ", [KeyValue("sq_type", "SQ2")], "invalid scalar quantizer type: SQ2, optional types are [SQ4U, SQ6, SQ8, FP16, BF16]")
        refuse("HNSW_SQ", [KeyValue("sq_type", "BF16")], "sq_type BF16 of index type HNSW_SQ is not supported by Elanus yet, use FP16")
        refuse("HNSW_SQ", [KeyValue("refine", "true"), KeyValue("refine_type", "PQ")], "invalid refine type : PQ, optional types are [sq4u, sq6, sq8, fp16, bf16, fp32, flat]")
        refuse("HNSW_PQ", [KeyValue("m", "5")], "The dimension of the vector (dim) should be a multiple of the number of subquantizers (m). Dimension: 32, m: 5")
        refuse("HNSW_PQ", [KeyValue("m", "8"), KeyValue("nbits", "25")], "param 'nbits' (25) should be in range [1, 24] for index type HNSW_PQ")
        refuse("HNSW_PQ", [KeyValue("m", "8"), KeyValue("efConstruction", "0")], "param 'efConstruction' (0) should be in range [1, 2147483647] for index type HNSW_PQ")
        refuse("HNSW_SQ", [], "index type HNSW_SQ does not support metric HAMMING on FloatVector", metric: "HAMMING")
        for type in ["IVF_RABITQ", "HNSW_PRQ", "DISKANN"] {
            refuse(type, [], "index type \(type) is not supported by Elanus yet")
        }
    }

    /// Index files of a refine-wrapped index are loaded, not rebuilt, after a restart, answer
    /// exactly as before, and the rows' vectors read back unchanged.
    @Test(arguments: [
        ("SCANN", [KeyValue("nlist", "16")]),
        ("HNSW_SQ", [KeyValue("M", "16"), KeyValue("sq_type", "SQ8"), KeyValue("refine", "true"), KeyValue("refine_type", "fp32")]),
        ("HNSW_PQ", [KeyValue("m", "8"), KeyValue("refine", "true"), KeyValue("refine_type", "sq8")]),
    ])
    func restartLoadsQuantizedIndexFiles(_ type: String, _ params: [KeyValue]) throws {
        let dir = TemporaryDirectory()
        let spec = IndexSpec(indexName: "v", fieldName: "v", indexType: type, metricType: "L2", params: params)
        func answers(_ engine: Engine, _ info: CollectionInfo) throws -> [[Int64]] {
            try Base.data.queries.map { q in
                var request = SearchRequest(field: info.schema.fields[1], metric: .l2, vectors: [.dense(q)], limit: 10, ef: 32, nprobe: 4)
                request.reorderK = 20
                request.refineK = 2
                return Base.ids(try engine.search(info, request)[0])
            }
        }
        let before: [[Int64]]
        let info: CollectionInfo
        do {
            let engine = try Base.open(dir)
            defer { engine.close() }
            info = try Base.populate(engine, spec)
            before = try answers(engine, info)
            // SCANN and the fp32 refine step keep the raw vectors, which the segment then borrows.
            #expect(try Base.vectorsIntact(engine, info, rows: (0..<Int64(Base.rows)).map { $0 }))
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.file("data/objects/\(info.id)")).filter { $0.hasSuffix(".idx") }
        #expect(files.count == 2)
        let engine = try Base.open(dir)
        defer { engine.close() }
        #expect(try engine.indexProgress(info, spec).state == "Finished")
        #expect(try answers(engine, info) == before)
        #expect(try Base.vectorsIntact(engine, info, rows: (0..<Int64(Base.rows)).map { $0 }))
    }

    /// A compaction merges the two segments (half their rows deleted) and builds the merged
    /// segment's index through the same path, with its refine step.
    @Test(arguments: [
        ("SCANN", [KeyValue("nlist", "16")]),
        ("HNSW_SQ", [KeyValue("M", "16"), KeyValue("refine", "true"), KeyValue("refine_type", "fp16")]),
    ])
    func compactionRebuildsQuantizedIndexes(_ type: String, _ params: [KeyValue]) throws {
        let dir = TemporaryDirectory()
        let engine = try Base.open(dir)
        defer { engine.close() }
        let info = try Base.populate(engine, IndexSpec(indexName: "v", fieldName: "v", indexType: type, metricType: "L2", params: params))
        #expect(try engine.delete(info, partitionName: nil, filter: "id % 2 == 0") == Base.rows / 2)
        try engine.flush(info)
        let id = try engine.compact(database: "default", collection: "c", clustering: false)
        let deadline = Date().addingTimeInterval(60)
        while try engine.compactionState(id: id, database: nil, collection: nil).state != "Completed", Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(try engine.compactionState(id: id, database: nil, collection: nil).completedPlans >= 1)
        #expect(try engine.indexProgress(info, info.indexes[0]) == .init(totalRows: Base.rows / 2, indexedRows: Base.rows / 2, pendingRows: 0, state: "Finished", failReason: ""))
        var hits = 0
        for q in Base.data.queries {
            var request = SearchRequest(field: info.schema.fields[1], metric: .l2, vectors: [.dense(q)], limit: 10, ef: 64, nprobe: 16)
            request.reorderK = 100
            request.refineK = 5
            let got = Base.ids(try engine.search(info, request)[0])
            #expect(got.count == 10 && got.allSatisfy { $0 % 2 == 1 })
            hits += Set(got).intersection(Base.exact(q, metric: .l2, k: 10) { $0 % 2 == 1 }).count
        }
        #expect(Double(hits) / Double(Base.data.queries.count * 10) >= 0.9)
    }
}
