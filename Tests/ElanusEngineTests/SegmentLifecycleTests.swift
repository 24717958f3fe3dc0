import Dispatch
import ElanusCore
import ElanusEngine
import ElanusQuery
import ElanusStorage
import ElanusTestSupport
import Foundation
import Synchronization
import Testing

/// Sealing, flushing and loading segments in one process: segment files and delta files on the
/// real disk, checkpoints in the real RocksDB meta store, WAL truncation, and restarts that load
/// the files and replay only the log tail.
@Suite struct SegmentLifecycleTests {
    static let dim = EngineWriteTests.dim

    static func open(_ dir: TemporaryDirectory, maxRows: Int = 40) throws -> Engine {
        var configuration = Engine.Configuration(dataDirectory: dir.file("data"))
        configuration.segments = SegmentPolicy(maxRows: maxRows)
        configuration.flushInterval = 0.01
        return try Engine(configuration: configuration)
    }

    static func create(_ engine: Engine) throws -> CollectionInfo {
        var schema = CatalogTests.schema(dim: dim)
        schema.enableDynamicField = true
        try engine.catalog.createCollection(CreateCollectionRequest(
            database: "default", name: "c", schema: schema,
            indexes: [IndexSpec(indexName: "v", fieldName: "v", indexType: "FLAT", metricType: "L2")]))
        try engine.catalog.createPartition(database: "default", collection: "c", name: "p1")
        try engine.catalog.load(database: "default", name: "c")
        return try engine.catalog.collection(database: "default", name: "c")
    }

    static func keys(_ batch: EntityBatch) -> [Int64] {
        guard case .int64(let keys)? = batch.column(100)?.values else { return [] }
        return keys
    }

    static func segmentFiles(_ dir: TemporaryDirectory, _ info: CollectionInfo) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.file("data/objects/\(info.id)"))) ?? []).filter { $0.hasSuffix(".seg") }.sorted()
    }

    /// The position of the first record left in the collection's WAL channel (the engine must be
    /// closed).
    static func firstWALPosition(_ dir: TemporaryDirectory, _ info: CollectionInfo) throws -> UInt64? {
        let broker = try RocksLogBroker(path: dir.file("data/wal"))
        defer { broker.close() }
        return try broker.read(channel: "collection-\(info.id)", from: 0, limit: 1).first?.position
    }

    /// Inserts, upserts and deletes across many sealed segments and two partitions, flushes,
    /// restarts, and finds exactly the model's rows, with the log truncated behind the checkpoint.
    @Test func flushedSegmentsReloadWithTheirDeletesAndTheLogIsTruncated() throws {
        let dir = TemporaryDirectory()
        var model: [Int64: (seed: Float, partition: String)] = [:]
        let info: CollectionInfo
        do {
            let engine = try Self.open(dir)
            defer { engine.close() }
            info = try Self.create(engine)
            for b in 0..<10 {
                let keys = (0..<25).map { Int64(b * 25 + $0) }
                let partition = b % 3 == 0 ? "p1" : "_default"
                _ = try engine.insert(info, partitionName: partition, batch: EngineWriteTests.batch(keys))
                for k in keys { model[k] = (0, partition) }
            }
            // Newer versions and deletes of rows that are already sealed (and some flushed).
            let upserted = (0..<250).filter { $0 % 7 == 0 }.map(Int64.init)
            _ = try engine.upsert(info, partitionName: nil, batch: EngineWriteTests.batch(upserted, seed: 1000))
            for k in upserted { model[k] = (1000, "_default") }
            #expect(try engine.delete(info, partitionName: nil, filter: "id % 5 == 1") == 50)
            for k in model.keys where k % 5 == 1 { model[k] = nil }
            try engine.flush(info)
            #expect(Self.segmentFiles(dir, info).count >= 5)
            // Rows written after the flush stay in the log only.
            _ = try engine.insert(info, partitionName: nil, batch: EngineWriteTests.batch([1000, 1001]))
            model[1000] = (0, "_default")
            model[1001] = (0, "_default")
            #expect(try engine.rowCount(info) == model.count)
        }
        let first = try #require(try Self.firstWALPosition(dir, info))
        #expect(first > 10, "the log below the checkpoint is truncated (first position \(first))")

        let engine = try Self.open(dir)
        defer { engine.close() }
        let reopened = try engine.catalog.collection(database: "default", name: "c")
        #expect(try engine.rowCount(reopened) == model.count)
        #expect(try engine.rowCount(reopened, partitionName: "p1") == model.values.filter { $0.partition == "p1" }.count)
        let all = (0..<1002).map { PrimaryKey.int(Int64($0)) }
        let rows = try engine.get(reopened, keys: all)
        #expect(Self.keys(rows) == model.keys.sorted())
        for (i, key) in Self.keys(rows).enumerated() {
            let seed = model[key]!.seed
            #expect(rows.column(101)?.value(at: i) == .floatVector((0..<Self.dim).map { Float(key) + seed + Float($0) }), "key \(key)")
        }
        // Search and filtered count read the loaded segments too.
        let hits = try engine.search(reopened, SearchRequest(field: reopened.schema.fields[1], metric: .l2, vectors: [.dense([14 + 1000, 15 + 1000, 16 + 1000, 17 + 1000])], limit: 1))
        #expect(hits[0].first.map { Self.keys(EntityBatch.gather([($0.batch, $0.row)], shape: $0.batch)) } == [14])
        #expect(try engine.count(reopened, predicate: try FilterChecker.check("id >= 0", schema: reopened.schema)) == model.count)
    }

    /// Readers never see a row disappear or appear twice while segments seal and flush under
    /// them: every count is a whole number of acknowledged batches.
    @Test func readersSeeEveryRowExactlyOnceDuringSealAndFlush() throws {
        let dir = TemporaryDirectory()
        let engine = try Self.open(dir, maxRows: 30)
        defer { engine.close() }
        let info = try Self.create(engine)
        let predicate = try FilterChecker.check("id >= 0", schema: info.schema)
        let acknowledged = Atomic<Int>(0)
        let done = Atomic<Bool>(false)
        let problems = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            if worker == 0 {
                for b in 0..<60 {
                    do {
                        _ = try engine.insert(info, partitionName: nil, batch: EngineWriteTests.batch((0..<10).map { Int64(b * 10 + $0) }))
                        acknowledged.add(10, ordering: .sequentiallyConsistent)
                        if b % 20 == 19 { try engine.flush(info) }
                    } catch {
                        problems.withLock { $0.append("write: \(error)") }
                    }
                }
                done.store(true, ordering: .sequentiallyConsistent)
            } else {
                while !done.load(ordering: .sequentiallyConsistent) {
                    let before = acknowledged.load(ordering: .sequentiallyConsistent)
                    let counted = (try? engine.count(info, predicate: predicate)) ?? -1
                    let after = acknowledged.load(ordering: .sequentiallyConsistent)
                    if counted % 10 != 0 || counted < before || counted > after + 10 {
                        problems.withLock { $0.append("counted \(counted) between \(before) and \(after)") }
                    }
                }
            }
        }
        #expect(problems.withLock { $0 } == [])
        #expect(try engine.count(info, predicate: predicate) == 600)
    }

    @Test func aDamagedOrMissingSegmentFileIsReportedByName() throws {
        let dir = TemporaryDirectory()
        let info: CollectionInfo
        do {
            let engine = try Self.open(dir)
            defer { engine.close() }
            info = try Self.create(engine)
            _ = try engine.insert(info, partitionName: nil, batch: EngineWriteTests.batch((0..<50).map(Int64.init)))
            try engine.flush(info)
        }
        let name = try #require(Self.segmentFiles(dir, info).first)
        let path = dir.file("data/objects/\(info.id)/\(name)")
        var bytes = try #require(FileManager.default.contents(atPath: path))
        bytes[bytes.count - 3] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: path))
        do {
            _ = try Self.open(dir)
            Issue.record("a corrupt segment file must stop the start")
        } catch let error as ElanusError {
            #expect(error.message.contains(path) && error.message.contains("checksum"), "\(error.message)")
        }
        try FileManager.default.removeItem(atPath: path)
        do {
            _ = try Self.open(dir)
            Issue.record("a missing segment file must stop the start")
        } catch let error as ElanusError {
            #expect(error.message.contains(path), "\(error.message)")
        }
    }

    /// Dropping a partition removes its flushed segments' records and files; dropping the
    /// collection removes the rest.
    @Test func droppingAPartitionOrTheCollectionRemovesTheirFiles() throws {
        let dir = TemporaryDirectory()
        do {
            let engine = try Self.open(dir)
            defer { engine.close() }
            let info = try Self.create(engine)
            _ = try engine.insert(info, partitionName: "p1", batch: EngineWriteTests.batch((0..<50).map(Int64.init)))
            _ = try engine.insert(info, partitionName: nil, batch: EngineWriteTests.batch((100..<150).map(Int64.init)))
            try engine.flush(info)
            #expect(Self.segmentFiles(dir, info).count == 2)
            try engine.catalog.releasePartitions(database: "default", collection: "c", names: ["p1"])
            try engine.dropPartition(database: "default", collection: "c", name: "p1")
            #expect(Self.segmentFiles(dir, info).count == 1)
        }
        let info: CollectionInfo
        do {
            let engine = try Self.open(dir)
            defer { engine.close() }
            info = try engine.catalog.collection(database: "default", name: "c")
            #expect(try engine.rowCount(info) == 50)
            try engine.dropCollection(database: "default", name: "c")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.file("data/objects/\(info.id)")))
    }
}
