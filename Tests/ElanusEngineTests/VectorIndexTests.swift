import Dispatch
import ElanusCore
import ElanusEngine
import ElanusQuery
import ElanusTestSupport
import Foundation
import Testing

/// Faiss indexes on flushed segments, built by the index node in the background: every float
/// index type against exact search (recall floors that fit each type), filtered search that
/// still fills `limit`, restarts that load index files instead of rebuilding, and a damaged index
/// file that is rebuilt from the segment's vectors.
@Suite struct VectorIndexTests {
    static let dim = 32
    static let rows = 3000
    static let clusters = 20

    struct Data {
        var vectors: [[Float]]
        var queries: [[Float]]
    }

    static let data: Data = {
        var rng = SeededGenerator(seed: 99)
        func gaussian() -> Float {
            let u = Double.random(in: Double.ulpOfOne..<1, using: &rng), v = Double.random(in: 0..<1, using: &rng)
            return Float((-2 * log(u)).squareRoot() * cos(2 * .pi * v))
        }
        let centers = (0..<clusters).map { _ in (0..<dim).map { _ in gaussian() } }
        func draw() -> [Float] {
            let center = centers[Int.random(in: 0..<clusters, using: &rng)]
            return center.map { $0 + 0.4 * gaussian() }
        }
        return Data(vectors: (0..<rows).map { _ in draw() }, queries: (0..<40).map { _ in draw() })
    }()

    static func open(_ dir: TemporaryDirectory) throws -> Engine {
        var configuration = Engine.Configuration(dataDirectory: dir.file("data"))
        configuration.segments = SegmentPolicy(maxRows: 1500)
        configuration.flushInterval = 0.01
        configuration.indexMinSegmentRows = 200
        return try Engine(configuration: configuration)
    }

    /// id, the vector field `v` (Float by default), cat.
    static func schema(_ type: DataType = .floatVector, dim: Int = dim) -> CollectionSchema {
        CollectionSchema(fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimary: true),
            FieldSchema(name: "v", dataType: type, typeParams: [KeyValue("dim", String(dim))]),
            FieldSchema(name: "cat", dataType: .int64),
        ])
    }

    /// Creates the collection with `spec`, inserts every row (cat = id % 100), flushes, and waits
    /// for the index node to finish. `schema` and `vectors` (the rows' values of `v`) default
    /// to this suite's float vectors.
    static func populate(
        _ engine: Engine, _ spec: IndexSpec, schema: CollectionSchema = schema(), rows: Int = rows,
        vectors: ([Int64]) -> ColumnValues = { ids in .floatVector(ids.flatMap { data.vectors[Int($0)] }) }
    ) throws -> CollectionInfo {
        try engine.catalog.createCollection(CreateCollectionRequest(database: "default", name: "c", schema: schema, indexes: [spec]))
        try engine.catalog.load(database: "default", name: "c")
        let info = try engine.catalog.collection(database: "default", name: "c")
        let width = info.schema.fields[1].dim ?? 0
        for start in stride(from: 0, to: rows, by: 500) {
            let ids = (start..<(start + 500)).map(Int64.init)
            let batch = EntityBatch(rowCount: ids.count, columns: [
                Column(fieldID: info.schema.fields[0].fieldID, values: .int64(ids)),
                Column(fieldID: info.schema.fields[1].fieldID, width: width, values: vectors(ids)),
                Column(fieldID: info.schema.fields[2].fieldID, values: .int64(ids.map { $0 % 100 })),
            ])
            _ = try engine.insert(info, partitionName: nil, batch: batch)
        }
        try engine.flush(info)
        try waitForIndex(engine, info)
        return info
    }

    static func waitForIndex(_ engine: Engine, _ info: CollectionInfo) throws {
        let deadline = Date().addingTimeInterval(120)
        while true {
            let progress = try engine.indexProgress(info, info.indexes[0])
            #expect(progress.state != "Failed", "\(progress.failReason)")
            if progress.state == "Finished" && progress.totalRows > 0 || progress.state == "Failed" { return }
            if Date() > deadline {
                Issue.record("the index was not built in 120 s: \(progress), jobs \(engine.backgroundJobs()), builds running \(engine.statistics().indexBuildsRunning)")
                return
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    static func exact(_ query: [Float], metric: Metric, k: Int, allowed: (Int) -> Bool = { _ in true }) -> [Int64] {
        func score(_ v: [Float]) -> Float {
            switch metric {
            case .l2: return zip(query, v).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
            case .ip: return -zip(query, v).reduce(0) { $0 + $1.0 * $1.1 }
            default:
                let dot = zip(query, v).reduce(0) { $0 + $1.0 * $1.1 }
                let norms = query.reduce(0) { $0 + $1 * $1 }.squareRoot() * v.reduce(0) { $0 + $1 * $1 }.squareRoot()
                return -dot / norms
            }
        }
        return (0..<rows).filter(allowed).map { (Int64($0), score(data.vectors[$0])) }.sorted { $0.1 < $1.1 }.prefix(k).map(\.0)
    }

    static func ids(_ hits: [SearchHit]) -> [Int64] {
        hits.map { hit in
            guard case .int64(let keys)? = hit.batch.columns.first?.values else { return -1 }
            return keys[hit.row]
        }
    }

    static func recall(_ engine: Engine, _ info: CollectionInfo, metric: Metric, ef: Int? = nil, nprobe: Int? = nil) throws -> Double {
        var hits = 0
        for q in data.queries {
            let found = try engine.search(info, SearchRequest(field: info.schema.fields[1], metric: metric, vectors: [.dense(q)], limit: 10, ef: ef, nprobe: nprobe))
            hits += Set(ids(found[0])).intersection(exact(q, metric: metric, k: 10)).count
        }
        return Double(hits) / Double(data.queries.count * 10)
    }

    @Test(arguments: [
        ("HNSW", "L2", [KeyValue("M", "16"), KeyValue("efConstruction", "100")], 0.9),
        ("HNSW", "COSINE", [KeyValue("M", "16"), KeyValue("efConstruction", "100")], 0.9),
        ("AUTOINDEX", "IP", [], 0.9),
        ("IVF_FLAT", "L2", [KeyValue("nlist", "32")], 0.8),
        ("IVF_SQ8", "L2", [KeyValue("nlist", "32")], 0.75),
        ("IVF_PQ", "L2", [KeyValue("nlist", "32"), KeyValue("m", "8"), KeyValue("nbits", "8")], 0.3),
    ])
    func indexTypesReachTheirRecallFloor(_ type: String, _ metricName: String, _ params: [KeyValue], _ floor: Double) throws {
        let dir = TemporaryDirectory()
        let engine = try Self.open(dir)
        defer { engine.close() }
        let info = try Self.populate(engine, IndexSpec(indexName: "v", fieldName: "v", indexType: type, metricType: metricName, params: params))
        let progress = try engine.indexProgress(info, info.indexes[0])
        #expect(progress == .init(totalRows: Self.rows, indexedRows: Self.rows, pendingRows: 0, state: "Finished", failReason: ""))
        let metric = Metric(rawValue: metricName)!
        let recall = try Self.recall(engine, info, metric: metric, ef: 64, nprobe: 16)
        #expect(recall >= floor, "\(type) \(metricName): recall@10 \(recall) below \(floor)")
        // Product quantization is lossy: a perfect score would mean the index was not used.
        if type == "IVF_PQ" { #expect(recall < 1) }

        // A 1% filter: every hit matches, and `limit` hits come back (30 rows match).
        let predicate = try FilterChecker.check("cat == 7", schema: info.schema)
        for q in Self.data.queries.prefix(5) {
            let found = try engine.search(info, SearchRequest(field: info.schema.fields[1], metric: metric, vectors: [.dense(q)], limit: 10, predicate: predicate))
            let got = Self.ids(found[0])
            #expect(got.count == 10 && got.allSatisfy { $0 % 100 == 7 }, "\(got)")
            #expect(Set(got) == Set(Self.exact(q, metric: metric, k: 10) { $0 % 100 == 7 }))
        }

        // Two indexed segments (1500 rows each): one query fans out over them, several queries
        // share each segment's bitmap; both ways give the same hits, with and without a filter.
        let half = try FilterChecker.check("cat < 50", schema: info.schema)
        for filter in [nil, half] {
            let queries = Array(Self.data.queries.prefix(6))
            let together = try engine.search(info, SearchRequest(field: info.schema.fields[1], metric: metric, vectors: queries.map { .dense($0) }, limit: 10, predicate: filter, ef: 64, nprobe: 16))
            for (i, q) in queries.enumerated() {
                let alone = try engine.search(info, SearchRequest(field: info.schema.fields[1], metric: metric, vectors: [.dense(q)], limit: 10, predicate: filter, ef: 64, nprobe: 16))
                #expect(Self.ids(alone[0]) == Self.ids(together[i]))
                #expect(filter == nil || Self.ids(alone[0]).allSatisfy { $0 % 100 < 50 })
            }
        }
    }

    @Test func restartLoadsIndexFilesAndRebuildsADamagedOne() throws {
        let dir = TemporaryDirectory()
        let spec = IndexSpec(indexName: "v", fieldName: "v", indexType: "HNSW", metricType: "L2", params: [KeyValue("M", "16"), KeyValue("efConstruction", "64")])
        let before: [[Int64]]
        let info: CollectionInfo
        do {
            let engine = try Self.open(dir)
            defer { engine.close() }
            info = try Self.populate(engine, spec)
            before = try Self.data.queries.map { q in Self.ids(try engine.search(info, SearchRequest(field: info.schema.fields[1], metric: .l2, vectors: [.dense(q)], limit: 10, ef: 32))[0]) }
        }
        let objects = dir.file("data/objects/\(info.id)")
        let indexFiles = try FileManager.default.contentsOfDirectory(atPath: objects).filter { $0.hasSuffix(".idx") }.sorted()
        #expect(indexFiles.count == 2)
        do {
            // Loaded, not rebuilt: ready at once, and the same graph gives the same answers.
            let engine = try Self.open(dir)
            defer { engine.close() }
            #expect(try engine.indexProgress(info, spec).state == "Finished")
            let after = try Self.data.queries.map { q in Self.ids(try engine.search(info, SearchRequest(field: info.schema.fields[1], metric: .l2, vectors: [.dense(q)], limit: 10, ef: 32))[0]) }
            #expect(after == before)
        }
        // A damaged index file does not stop the start; the index is rebuilt in the background.
        let damaged = objects + "/" + indexFiles[0]
        var bytes = try #require(FileManager.default.contents(atPath: damaged))
        bytes[bytes.count / 2] ^= 0x55
        try bytes.write(to: URL(fileURLWithPath: damaged))
        let engine = try Self.open(dir)
        defer { engine.close() }
        try Self.waitForIndex(engine, info)
        #expect(try engine.indexProgress(info, spec).state == "Finished")
        #expect(try Self.recall(engine, info, metric: .l2, ef: 64) >= 0.9)
    }

    /// The vectors of every row, as `get` returns them, and whether they are exactly the inserted ones.
    static func vectorsIntact(_ engine: Engine, _ info: CollectionInfo, rows ids: [Int64]) throws -> Bool {
        let got = try engine.get(info, keys: ids.map { .int($0) })
        guard case .floatVector(let floats)? = got.column(info.schema.fields[1].fieldID).map({ $0.rows(Array(0..<got.rowCount)).values }) else { return false }
        return got.rowCount == ids.count && floats == ids.flatMap { data.vectors[Int($0)] }
    }

    /// An HNSW index over L2 keeps the raw vectors, so flushed segments borrow them instead of
    /// keeping a second copy: through build, restart, compaction, a restart while released and
    /// a replaced index the rows' vectors stay exact, and only the scalar columns count as the
    /// segments' own memory.
    @Test func hnswSegmentsBorrowTheirVectorsFromTheIndex() throws {
        let dir = TemporaryDirectory()
        let spec = IndexSpec(indexName: "v", fieldName: "v", indexType: "HNSW", metricType: "L2", params: [KeyValue("M", "8"), KeyValue("efConstruction", "32")])
        let vectorBytes = Self.rows * Self.dim * 4
        let sample = (0..<Int64(Self.rows)).filter { $0 % 7 == 0 }
        let info: CollectionInfo
        do {
            let engine = try Self.open(dir)
            defer { engine.close() }
            info = try Self.populate(engine, spec)
            #expect(try engine.residentBytes(info) < vectorBytes / 4)
            #expect(try Self.vectorsIntact(engine, info, rows: sample))
            // The exact fallback of a selective filter reads the borrowed vectors too.
            let predicate = try FilterChecker.check("cat == 7", schema: info.schema)
            let q = Self.data.queries[0]
            let found = try engine.search(info, SearchRequest(field: info.schema.fields[1], metric: .l2, vectors: [.dense(q)], limit: 10, predicate: predicate))
            #expect(Set(Self.ids(found[0])) == Set(Self.exact(q, metric: .l2, k: 10) { $0 % 100 == 7 }))
        }
        let indexFiles = { try FileManager.default.contentsOfDirectory(atPath: dir.file("data/objects/\(info.id)")).filter { $0.hasSuffix(".idx") }.sorted() }
        let deadline = Date().addingTimeInterval(60)
        do {
            let engine = try Self.open(dir)
            defer { engine.close() }
            // Loaded from the files: the index first, then the segment without its vectors.
            #expect(try engine.residentBytes(info) < vectorBytes / 4)
            #expect(try Self.vectorsIntact(engine, info, rows: sample))

            // Compaction copies the survivors out of the old index and borrows from the new one.
            let deleted = try engine.delete(info, partitionName: nil, filter: "id < 600")
            #expect(deleted == 600)
            let job = try engine.compact(database: "default", collection: "c", clustering: false)
            while try engine.compactionState(id: job, database: nil, collection: nil).state != "Completed" && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            try Self.waitForIndex(engine, info)
            #expect(try Self.vectorsIntact(engine, info, rows: sample.filter { $0 >= 600 }))
            #expect(try engine.residentBytes(info) < vectorBytes / 4)
            try engine.release(database: "default", collection: "c")
        }
        let filesBefore = try indexFiles()
        #expect(!filesBefore.isEmpty)
        let engine = try Self.open(dir)
        defer { engine.close() }
        // Restarted while released: only the keys are read, and the index files stay for the load.
        #expect(try engine.residentBytes(info) <= (Self.rows - 600) * 8)
        #expect(try indexFiles() == filesBefore)
        try engine.load(database: "default", collection: "c")
        let loaded = try engine.catalog.collection(database: "default", name: "c")
        while engine.loadProgress(loaded) != nil && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        #expect(try engine.indexProgress(loaded, spec).state == "Finished")
        #expect(try Self.vectorsIntact(engine, loaded, rows: sample.filter { $0 >= 600 }))
        #expect(try engine.residentBytes(loaded) < vectorBytes / 4)

        // With an index that does not keep them exact (replaced while released, as Milvus
        // requires) the segments load their own vectors again.
        try engine.release(database: "default", collection: "c")
        try engine.dropIndex(database: "default", collection: "c", indexName: "v")
        try engine.createIndex(database: "default", collection: "c", IndexSpec(indexName: "v", fieldName: "v", indexType: "IVF_SQ8", metricType: "L2", params: [KeyValue("nlist", "16")]))
        try engine.load(database: "default", collection: "c")
        let reloaded = try engine.catalog.collection(database: "default", name: "c")
        while engine.loadProgress(reloaded) != nil && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        #expect(try Self.vectorsIntact(engine, reloaded, rows: sample.filter { $0 >= 600 }))
        #expect(try engine.residentBytes(reloaded) >= (Self.rows - 600) * Self.dim * 4)
    }

    /// Creates collection `c` with `spec`, loads it, inserts `rows` random vectors in [-1, 1] + `shift`
    /// (5,000 per insert, cat = id) and flushes: one segment big enough that its build takes a
    /// while. Returns the collection and the vectors inserted.
    @discardableResult
    static func createBigSegment(_ engine: Engine, _ spec: IndexSpec, rows: Int, seed: UInt64, shift: Float = 0) throws -> (CollectionInfo, [Float]) {
        try engine.catalog.createCollection(CreateCollectionRequest(database: "default", name: "c", schema: Self.schema(), indexes: [spec]))
        try engine.catalog.load(database: "default", name: "c")
        let info = try engine.catalog.collection(database: "default", name: "c")
        var rng = SeededGenerator(seed: seed)
        var vectors: [Float] = []
        for start in stride(from: 0, to: rows, by: 5000) {
            let ids = (start..<(start + 5000)).map(Int64.init)
            let floats = (0..<(ids.count * Self.dim)).map { _ in Float.random(in: -1...1, using: &rng) + shift }
            vectors += floats
            _ = try engine.insert(info, partitionName: nil, batch: EntityBatch(rowCount: ids.count, columns: [
                Column(fieldID: info.schema.fields[0].fieldID, values: .int64(ids)),
                Column(fieldID: info.schema.fields[1].fieldID, width: Self.dim, values: .floatVector(floats)),
                Column(fieldID: info.schema.fields[2].fieldID, values: .int64(ids)),
            ]))
        }
        try engine.flush(info)
        return (info, vectors)
    }

    /// A collection dropped while its index builds takes the segment's directory with it, so
    /// the index file cannot be written: the build ends quietly, and is not counted as failed.
    @Test func droppingTheCollectionDuringABuildFailsNoBuild() throws {
        let dir = TemporaryDirectory()
        var configuration = Engine.Configuration(dataDirectory: dir.file("data"))
        configuration.flushInterval = 0.01
        let engine = try Engine(configuration: configuration)
        defer { engine.close() }
        // Enough rows in one segment that linking them takes a while (efConstruction 400).
        let spec = IndexSpec(indexName: "v", fieldName: "v", indexType: "HNSW", metricType: "L2", params: [KeyValue("M", "16"), KeyValue("efConstruction", "400")])
        let (info, _) = try Self.createBigSegment(engine, spec, rows: 40_000, seed: 5)
        let deadline = Date().addingTimeInterval(60)
        while engine.statistics().indexBuildsRunning == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        #expect(engine.statistics().indexBuildsRunning == 1, "the build started")
        try engine.dropCollection(database: "default", name: "c")
        while engine.statistics().indexBuildsRunning > 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(engine.statistics().indexBuildsRunning == 0)
        #expect(engine.statistics().indexBuildsFailed == 0)
        #expect(!FileManager.default.fileExists(atPath: dir.file("data/objects/\(info.id)")))
    }

    /// Issue 20, item 2: an L2 build that started before its index was dropped and recreated
    /// as COSINE committed anyway (its segment still existed), and after a restart its file was
    /// served as COSINE. Now the build is discarded at commit, the new index is built for the
    /// segment, and index files are only loaded under the plan in their header.
    @Test func anIndexDroppedAndRecreatedDuringABuildIsNotBroughtBack() throws {
        let dir = TemporaryDirectory()
        var configuration = Engine.Configuration(dataDirectory: dir.file("data"))
        configuration.flushInterval = 0.01
        let rows = 30_000
        var vectors: [Float] = []
        let info: CollectionInfo
        let cosine = IndexSpec(indexName: "v", fieldName: "v", indexType: "HNSW", metricType: "COSINE", params: [KeyValue("M", "8"), KeyValue("efConstruction", "40")])
        func check(_ engine: Engine, _ info: CollectionInfo) throws {
            for q in 0..<10 {
                let query = Array(vectors[(q * 97) * Self.dim..<(q * 97 + 1) * Self.dim])
                let hits = try engine.search(info, SearchRequest(field: info.schema.fields[1], metric: .cosine, vectors: [.dense(query)], limit: 5, ef: 128))[0]
                // A cosine similarity is at most 1, and the query row (or one of the same
                // direction) scores 1. An L2 index gives distances: 0 for the row, then above 1.
                #expect(hits.allSatisfy { $0.score <= 1.0001 }, "scores \(hits.map(\.score))")
                #expect((hits.first?.score ?? 0) >= 0.9999, "scores \(hits.map(\.score))")
            }
        }
        do {
            let engine = try Engine(configuration: configuration)
            defer { engine.close() }
            let l2 = IndexSpec(indexName: "v", fieldName: "v", indexType: "HNSW", metricType: "L2", params: [KeyValue("M", "16"), KeyValue("efConstruction", "400")])
            vectors = try Self.createBigSegment(engine, l2, rows: rows, seed: 8, shift: 3).1
            let deadline = Date().addingTimeInterval(60)
            while engine.statistics().indexBuildsRunning == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
            #expect(engine.statistics().indexBuildsRunning == 1, "the L2 build started")
            try engine.release(database: "default", collection: "c")
            try engine.dropIndex(database: "default", collection: "c", indexName: "v")
            try engine.createIndex(database: "default", collection: "c", cosine)
            try engine.load(database: "default", collection: "c")
            info = try engine.catalog.collection(database: "default", name: "c")
            while engine.loadProgress(info) != nil && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            // The old build is cancelled by the drop and ends at once; the new one is built.
            let dropped = Date()
            while engine.backgroundJobs().contains(where: { $0.kind == "index build" && $0.detail.contains("field v") && $0.cancelled }) && Date() < deadline {
                Thread.sleep(forTimeInterval: 0.01)
            }
            #expect(Date().timeIntervalSince(dropped) < 5)
            try Self.waitForIndex(engine, info)
            try check(engine, info)
        }
        let engine = try Engine(configuration: configuration)
        defer { engine.close() }
        let reopened = try engine.catalog.collection(database: "default", name: "c")
        try Self.waitForIndex(engine, reopened)
        try check(engine, reopened)
    }

    /// Issue 20, item 12: shutdown waited for a whole index build (minutes at 1M rows). The build
    /// is a registered job now, cancelled in the HNSW link loop: close returns at once, nothing
    /// half-built is recorded, and the next start builds the index.
    @Test func shutdownCancelsARunningBuildAndTheNextStartBuildsIt() throws {
        let dir = TemporaryDirectory()
        var configuration = Engine.Configuration(dataDirectory: dir.file("data"))
        configuration.flushInterval = 0.01
        let spec = IndexSpec(indexName: "v", fieldName: "v", indexType: "HNSW", metricType: "L2", params: [KeyValue("M", "16"), KeyValue("efConstruction", "400")])
        let info: CollectionInfo
        do {
            let engine = try Engine(configuration: configuration)
            info = try Self.createBigSegment(engine, spec, rows: 60_000, seed: 11).0
            let deadline = Date().addingTimeInterval(60)
            while !engine.backgroundJobs().contains(where: { $0.kind == "index build" }) && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
            #expect(engine.backgroundJobs().contains { $0.kind == "index build" }, "the build started")
            Thread.sleep(forTimeInterval: 0.3)
            let start = Date()
            engine.close()
            let seconds = Date().timeIntervalSince(start)
            #expect(seconds < 5, "close took \(seconds) s")
            #expect(engine.statistics().indexBuildsFailed == 0)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.file("data/objects/\(info.id)")).filter { $0.hasSuffix(".idx") }.isEmpty)
        configuration.segments = SegmentPolicy(maxRows: 1_000_000)
        let engine = try Engine(configuration: configuration)
        defer { engine.close() }
        let reopened = try engine.catalog.collection(database: "default", name: "c")
        #expect(try engine.indexProgress(reopened, spec).state == "InProgress")
        // The index is wanted still: the next start builds it (cancelled again here, quickly).
        let deadline = Date().addingTimeInterval(60)
        while !engine.backgroundJobs().contains(where: { $0.kind == "index build" }) && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        #expect(engine.backgroundJobs().contains { $0.kind == "index build" })
    }

    @Test func badIndexParametersAreRefusedWithMilvusRanges() throws {
        let field = FieldSchema(fieldID: 101, name: "v", dataType: .floatVector, typeParams: [KeyValue("dim", "32")])
        func refuse(_ type: String, _ params: [KeyValue], _ fragment: String) {
            do {
                _ = try IndexPlan.make(IndexSpec(indexName: "v", fieldName: "v", indexType: type, metricType: "L2", params: params), field: field)
                Issue.record("\(type) \(params) must be refused")
            } catch {
                #expect(error.code == .invalidParameter && error.message.contains(fragment), "\(error.message)")
            }
        }
        refuse("HNSW", [KeyValue("M", "1")], "should be in range [2, 2048]")
        refuse("IVF_FLAT", [KeyValue("nlist", "0")], "should be in range [1, 65536]")
        refuse("IVF_PQ", [], "param 'm' is required")
        refuse("IVF_PQ", [KeyValue("m", "5")], "must divide the dimension")
        refuse("IVF_PQ", [KeyValue("m", "8"), KeyValue("nbits", "17")], "should be in range [1, 16]")
        let auto = try IndexPlan.make(IndexSpec(indexName: "v", fieldName: "v", indexType: "AUTOINDEX", metricType: "", params: []), field: field)
        #expect(auto.kind == .hnsw(m: 18, efConstruction: 240) && auto.metric == .cosine)
    }
}
