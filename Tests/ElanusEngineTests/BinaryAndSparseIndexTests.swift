import ElanusCore
import ElanusEngine
import ElanusQuery
import ElanusTestSupport
import Foundation
import Testing

/// BIN_IVF_FLAT and SPARSE_INVERTED_INDEX / SPARSE_WAND, built by the index node on flushed
/// segments: answers against brute force computed here, filters, and index files that load on
/// restart.
@Suite struct BinaryAndSparseIndexTests {
    static let rows = 3000
    static let bits = 128
    static let sparseDims: UInt32 = 2000

    struct Data {
        var codes: [[UInt8]]
        var sparse: [SparseVector]
        var binaryQueries: [[UInt8]]
        var sparseQueries: [SparseVector]
    }

    static let data: Data = {
        var rng = SeededGenerator(seed: 7)
        let centers = (0..<16).map { _ in (0..<bits / 8).map { _ in UInt8.random(in: 0...255, using: &rng) } }
        func code() -> [UInt8] {
            centers[Int.random(in: 0..<16, using: &rng)].map { byte in
                var b = byte
                for bit in 0..<8 where Int.random(in: 0..<10, using: &rng) == 0 { b ^= 1 << UInt8(bit) }
                return b
            }
        }
        func sparse() -> SparseVector {
            let topic = UInt32.random(in: 0..<20, using: &rng) * 100
            let dims = Set((0..<12).map { _ in topic + UInt32.random(in: 0..<100, using: &rng) } + (0..<4).map { _ in UInt32.random(in: 0..<sparseDims, using: &rng) }).sorted()
            return SparseVector(indices: dims, values: dims.map { _ in Float.random(in: 0.1...1, using: &rng) })
        }
        return Data(codes: (0..<rows).map { _ in code() }, sparse: (0..<rows).map { _ in sparse() },
                    binaryQueries: (0..<30).map { _ in code() }, sparseQueries: (0..<30).map { _ in sparse() })
    }()

    static func schema() -> CollectionSchema {
        CollectionSchema(fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimary: true),
            FieldSchema(name: "b", dataType: .binaryVector, typeParams: [KeyValue("dim", String(bits))]),
            FieldSchema(name: "s", dataType: .sparseFloatVector),
            FieldSchema(name: "cat", dataType: .int64),
        ])
    }

    static func populate(_ engine: Engine, binary: IndexSpec, sparse: IndexSpec) throws -> CollectionInfo {
        try engine.catalog.createCollection(CreateCollectionRequest(database: "default", name: "c", schema: schema(), indexes: [binary, sparse]))
        try engine.catalog.load(database: "default", name: "c")
        let info = try engine.catalog.collection(database: "default", name: "c")
        for start in stride(from: 0, to: rows, by: 500) {
            let ids = Array(start..<(start + 500))
            let batch = EntityBatch(rowCount: ids.count, columns: [
                Column(fieldID: info.schema.fields[0].fieldID, values: .int64(ids.map(Int64.init))),
                Column(fieldID: info.schema.fields[1].fieldID, width: bits / 8, values: .binaryVector(ids.flatMap { data.codes[$0] })),
                Column(fieldID: info.schema.fields[2].fieldID, values: .sparseVector(ids.map { data.sparse[$0] })),
                Column(fieldID: info.schema.fields[3].fieldID, values: .int64(ids.map { Int64($0 % 100) })),
            ])
            _ = try engine.insert(info, partitionName: nil, batch: batch)
        }
        try engine.flush(info)
        let deadline = Date().addingTimeInterval(60)
        for spec in info.indexes {
            while try engine.indexProgress(info, spec).state != "Finished" && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            #expect(try engine.indexProgress(info, spec) == .init(totalRows: rows, indexedRows: rows, pendingRows: 0, state: "Finished", failReason: ""))
        }
        return info
    }

    static func hamming(_ a: [UInt8], _ b: [UInt8]) -> Float { Float(zip(a, b).reduce(0) { $0 + ($1.0 ^ $1.1).nonzeroBitCount }) }

    static func jaccard(_ a: [UInt8], _ b: [UInt8]) -> Float {
        let and = zip(a, b).reduce(0) { $0 + ($1.0 & $1.1).nonzeroBitCount }
        let or = zip(a, b).reduce(0) { $0 + ($1.0 | $1.1).nonzeroBitCount }
        return or == 0 ? 0 : 1 - Float(and) / Float(or)
    }

    static func ip(_ a: SparseVector, _ b: SparseVector) -> Float {
        let other = Dictionary(uniqueKeysWithValues: zip(b.indices, b.values))
        return zip(a.indices, a.values).reduce(0) { $0 + $1.1 * (other[$1.0] ?? 0) }
    }

    /// The best `k` scores by brute force over the allowed rows, best first.
    static func bestScores(_ score: (Int) -> Float, higherIsBetter: Bool, k: Int, allowed: (Int) -> Bool = { _ in true }) -> [Float] {
        let scores = (0..<rows).filter(allowed).map(score).sorted()
        return Array((higherIsBetter ? scores.reversed() : scores).prefix(k))
    }

    static func search(_ engine: Engine, _ info: CollectionInfo, field: Int, metric: Metric, _ query: QueryVector, nprobe: Int? = nil, predicate: ElanusQuery.Predicate? = nil) throws -> [SearchHit] {
        try engine.search(info, SearchRequest(field: info.schema.fields[field], metric: metric, vectors: [query], limit: 10, predicate: predicate, nprobe: nprobe))[0]
    }

    static func id(_ hit: SearchHit) -> Int {
        guard case .int64(let keys)? = hit.batch.columns.first?.values else { return -1 }
        return Int(keys[hit.row])
    }

    @Test(arguments: ["HAMMING", "JACCARD"]) func binaryIVFAgainstBruteForce(_ metricName: String) throws {
        let dir = TemporaryDirectory()
        let engine = try VectorIndexTests.open(dir)
        defer { engine.close() }
        let info = try Self.populate(
            engine, binary: IndexSpec(indexName: "b", fieldName: "b", indexType: "BIN_IVF_FLAT", metricType: metricName, params: [KeyValue("nlist", "32")]),
            sparse: IndexSpec(indexName: "s", fieldName: "s", indexType: "SPARSE_INVERTED_INDEX", metricType: "IP"))
        let metric = Metric(rawValue: metricName)!
        let score: ([UInt8], [UInt8]) -> Float = { metric == .hamming ? Self.hamming($0, $1) : Self.jaccard($0, $1) }
        var matched = 0
        var fewProbes = 0
        for q in Self.data.binaryQueries {
            let exact = Self.bestScores({ score(q, Self.data.codes[$0]) }, higherIsBetter: false, k: 10)
            // Probing every list is exact: the same scores as brute force.
            let all = try Self.search(engine, info, field: 1, metric: metric, .binary(q), nprobe: 32)
            #expect(all.map(\.score) == exact)
            if all.map(\.score) == exact { matched += 1 }
            // One probe sees a fraction of the rows: worse, which shows the lists are used.
            let one = try Self.search(engine, info, field: 1, metric: metric, .binary(q), nprobe: 1)
            if one.map(\.score) != exact { fewProbes += 1 }
            // A 1% filter: `limit` hits, all matching, the filtered best.
            let predicate = try FilterChecker.check("cat == 3", schema: info.schema)
            let filtered = try Self.search(engine, info, field: 1, metric: metric, .binary(q), predicate: predicate)
            #expect(filtered.count == 10 && filtered.allSatisfy { Self.id($0) % 100 == 3 })
            #expect(filtered.map(\.score) == Self.bestScores({ score(q, Self.data.codes[$0]) }, higherIsBetter: false, k: 10) { $0 % 100 == 3 })
        }
        #expect(matched == Self.data.binaryQueries.count)
        #expect(fewProbes > 0, "nprobe=1 never differed from brute force: the index was not used")
    }

    @Test func sparseInvertedIndexAgainstBruteForceAndAcrossRestart() throws {
        let dir = TemporaryDirectory()
        let info: CollectionInfo
        let before: [[Int]]
        do {
            let engine = try VectorIndexTests.open(dir)
            defer { engine.close() }
            info = try Self.populate(
                engine, binary: IndexSpec(indexName: "b", fieldName: "b", indexType: "AUTOINDEX", metricType: "HAMMING"),
                sparse: IndexSpec(indexName: "s", fieldName: "s", indexType: "SPARSE_WAND", metricType: "IP"))
            for q in Self.data.sparseQueries {
                let exact = Self.bestScores({ Self.ip(q, Self.data.sparse[$0]) }, higherIsBetter: true, k: 10)
                let found = try Self.search(engine, info, field: 2, metric: .ip, .sparse(q))
                #expect(zip(found.map(\.score), exact).allSatisfy { abs($0 - $1) < 1e-4 } && found.count == 10, "\(found.map(\.score)) vs \(exact)")
                let predicate = try FilterChecker.check("cat == 5", schema: info.schema)
                let filtered = try Self.search(engine, info, field: 2, metric: .ip, .sparse(q), predicate: predicate)
                #expect(filtered.count == 10 && filtered.allSatisfy { Self.id($0) % 100 == 5 })
            }
            before = try Self.data.sparseQueries.map { q in try Self.search(engine, info, field: 2, metric: .ip, .sparse(q)).map(Self.id) }
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.file("data/objects/\(info.id)")).filter { $0.hasSuffix(".idx") }
        #expect(files.count == 4, "two segments, two fields: \(files)")
        let engine = try VectorIndexTests.open(dir)
        defer { engine.close() }
        for spec in info.indexes { #expect(try engine.indexProgress(info, spec).state == "Finished") }
        let after = try Self.data.sparseQueries.map { q in try Self.search(engine, info, field: 2, metric: .ip, .sparse(q)).map(Self.id) }
        #expect(after == before)
        // drop_ratio_search skips the query's smallest values: still answers, within the floor.
        var hits = 0
        for q in Self.data.sparseQueries {
            let found = try engine.search(info, SearchRequest(field: info.schema.fields[2], metric: .ip, vectors: [.sparse(q)], limit: 10, dropRatio: 0.5))[0]
            let scores = (0..<Self.rows).map { Self.ip(q, Self.data.sparse[$0]) }
            let exactIDs = Set((0..<Self.rows).sorted { scores[$0] > scores[$1] }.prefix(10))
            hits += Set(found.map(Self.id)).intersection(exactIDs).count
        }
        #expect(Double(hits) / Double(Self.data.sparseQueries.count * 10) >= 0.5)
    }

    @Test func plansAndTheirLimits() throws {
        let binary = FieldSchema(fieldID: 101, name: "b", dataType: .binaryVector, typeParams: [KeyValue("dim", "128")])
        let sparse = FieldSchema(fieldID: 102, name: "s", dataType: .sparseFloatVector)
        func plan(_ type: String, _ metric: String, _ field: FieldSchema, _ params: [KeyValue] = []) throws -> IndexPlan {
            try IndexPlan.make(IndexSpec(indexName: "x", fieldName: field.name, indexType: type, metricType: metric, params: params), field: field)
        }
        #expect(try plan("AUTOINDEX", "", binary).kind == .binaryIVF(nlist: 1024))
        #expect(try plan("AUTOINDEX", "", sparse).kind == .sparseInverted(dropRatio: 0))
        #expect(try plan("SPARSE_INVERTED_INDEX", "IP", sparse, [KeyValue("drop_ratio_build", "0.2")]).kind == .sparseInverted(dropRatio: 0.2))
        // A BM25 index keeps every term, so its document lengths are the corpus statistics' ones.
        #expect(try plan("SPARSE_INVERTED_INDEX", "BM25", sparse, [KeyValue("drop_ratio_build", "0.2")]).kind == .sparseInverted(dropRatio: 0))
        #expect(throws: ElanusError.self) { try plan("SPARSE_INVERTED_INDEX", "BM25", sparse, [KeyValue("drop_ratio_build", "1")]) }
        #expect(throws: ElanusError.self) { try plan("BIN_IVF_FLAT", "L2", binary) }
        #expect(throws: ElanusError.self) { try plan("BIN_IVF_FLAT", "HAMMING", binary, [KeyValue("nlist", "0")]) }
        #expect(throws: ElanusError.self) { try plan("SPARSE_INVERTED_INDEX", "L2", sparse) }
        #expect(throws: ElanusError.self) { try plan("SPARSE_INVERTED_INDEX", "IP", sparse, [KeyValue("drop_ratio_build", "1")]) }
        #expect(throws: ElanusError.self) { try plan("HNSW", "HAMMING", binary) }
    }
}
