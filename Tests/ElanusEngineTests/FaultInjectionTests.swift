import Dispatch
import ElanusCore
import ElanusEngine
import ElanusStorage
import ElanusTestSupport
import Foundation
import Synchronization
import Testing

/// The engine over storage that fails on command (issue 20): a WAL group write or submission
/// that fails, a meta-store commit that fails during a flush, a segment, delta or index file
/// write that fails during flush, build and compaction. Each keeps every acknowledged row and
/// never applies an unacknowledged one; and the engine runs on memory stores for model tests.
@Suite struct FaultInjectionTests {
    static func configuration(_ dir: TemporaryDirectory) -> Engine.Configuration {
        var configuration = Engine.Configuration(dataDirectory: dir.file("data"))
        configuration.flushInterval = 3600  // flushes only when the test asks
        // Segments seal only when the test flushes: no background flush races the faults.
        configuration.segments = SegmentPolicy(maxRows: 100_000)
        configuration.indexMinSegmentRows = 20
        return configuration
    }

    /// An engine on the real RocksDB stores of `dir`, its WAL failing on `faults`' command.
    static func openOnRocks(_ dir: TemporaryDirectory, faults: Faults) throws -> (Engine, RocksLogBroker) {
        try FileManager.default.createDirectory(atPath: dir.file("data"), withIntermediateDirectories: true)
        let wal = try RocksLogBroker(path: dir.file("data/wal"), faults: faults)
        let engine = try Engine(configuration: configuration(dir), stores: .init(meta: try RocksMetaStore(path: dir.file("data/meta")), log: wal))
        return (engine, wal)
    }

    static func create(_ engine: Engine) throws -> CollectionInfo {
        try engine.catalog.createCollection(
            CreateCollectionRequest(
                database: "default", name: "c", schema: CatalogTests.schema(dim: EngineWriteTests.dim),
                indexes: [IndexSpec(indexName: "v", fieldName: "v", indexType: "HNSW", metricType: "L2", params: [KeyValue("M", "8"), KeyValue("efConstruction", "16")])]))
        try engine.catalog.load(database: "default", name: "c")
        return try engine.catalog.collection(database: "default", name: "c")
    }

    static func keys(_ engine: Engine, _ info: CollectionInfo, _ range: Range<Int64>) throws -> [Int64] {
        let rows = try engine.get(info, keys: range.map { .int($0) })
        guard case .int64(let keys)? = rows.column(100)?.values else { return [] }
        return keys.sorted()
    }

    /// A WAL group that fails after its positions were handed out (a failing fsync) leaves a
    /// hole: its writes are refused and never applied, even when later writes succeed, and a
    /// restart replays around the hole.
    @Test func aFailedWALWriteIsRefusedNeverAppliedAndLeavesAHole() throws {
        let dir = TemporaryDirectory()
        let faults = Faults()
        do {
            let (engine, _) = try Self.openOnRocks(dir, faults: faults)
            defer { engine.close() }
            let info = try Self.create(engine)
            _ = try engine.insert(info, partitionName: nil, batch: EngineWriteTests.batch([1, 2]))
            faults.fail(.walSync)
            #expect(throws: ElanusError.self) { try engine.insert(info, partitionName: nil, batch: EngineWriteTests.batch([3, 4])) }
            _ = try engine.insert(info, partitionName: nil, batch: EngineWriteTests.batch([5]))
            _ = try engine.upsert(info, partitionName: nil, batch: EngineWriteTests.batch([2], seed: 9))
            #expect(try Self.keys(engine, info, 0..<10) == [1, 2, 5])
            #expect(try engine.rowCount(info) == 3)
        }
        let engine = try Engine(configuration: Self.configuration(dir))
        defer { engine.close() }
        let info = try engine.catalog.collection(database: "default", name: "c")
        #expect(try Self.keys(engine, info, 0..<10) == [1, 2, 5])
        #expect(try engine.get(info, keys: [.int(2)]).column(101)?.value(at: 0) == .floatVector([11, 12, 13, 14]))
    }

    /// A write whose fsync fails after RocksDB appended it is refused, and never comes back:
    /// the next group deletes it in its own batch, and a clean close deletes what is left, so
    /// neither a reopen nor a restart replays it.
    @Test func aWriteWhoseFsyncFailedAfterTheAppendIsNotReplayed() throws {
        let dir = TemporaryDirectory()
        let faults = Faults()
        var channel = ""
        do {
            let (engine, wal) = try Self.openOnRocks(dir, faults: faults)
            defer { engine.close() }
            let info = try Self.create(engine)
            channel = "collection-\(info.id)"
            _ = try engine.insert(info, partitionName: nil, batch: EngineWriteTests.batch([1]))
            faults.fail(.walSyncAfterAppend)
            #expect(throws: ElanusError.self) { try engine.insert(info, partitionName: nil, batch: EngineWriteTests.batch([2])) }
            let refusedAt = try wal.lastPosition(channel: channel)
            #expect(try wal.read(channel: channel, from: refusedAt, limit: 1).map(\.position) == [refusedAt], "the refused record is in RocksDB's log")
            _ = try engine.insert(info, partitionName: nil, batch: EngineWriteTests.batch([3]))
            #expect(try wal.read(channel: channel, from: refusedAt, limit: 10).map(\.position) == [refusedAt + 1], "the next group deleted it")
            faults.fail(.walSyncAfterAppend)
            #expect(throws: ElanusError.self) { try engine.insert(info, partitionName: nil, batch: EngineWriteTests.batch([4])) }
            #expect(try Self.keys(engine, info, 0..<10) == [1, 3])
        }
        // Closed cleanly with the last refused record still in the log: the close deleted it.
        let engine = try Engine(configuration: Self.configuration(dir))
        defer { engine.close() }
        let info = try engine.catalog.collection(database: "default", name: "c")
        #expect(try Self.keys(engine, info, 0..<10) == [1, 3])
    }

    /// Many writers, some of whose groups fail: exactly the acknowledged writes are there, before
    /// and after a restart.
    @Test func concurrentWritersWithFailingGroupsKeepExactlyTheAcknowledgedRows() throws {
        let dir = TemporaryDirectory()
        let faults = Faults()
        var acknowledged = Set<Int64>()
        do {
            let (engine, _) = try Self.openOnRocks(dir, faults: faults)
            defer { engine.close() }
            let info = try Self.create(engine)
            let acked = Mutex(Set<Int64>())
            DispatchQueue.concurrentPerform(iterations: 4) { writer in
                for i in 0..<60 {
                    if writer == 0 && i % 7 == 3 { faults.fail(.walSync) }
                    let key = Int64(writer * 1000 + i)
                    if (try? engine.insert(info, partitionName: nil, batch: EngineWriteTests.batch([key]))) != nil {
                        acked.withLock { _ = $0.insert(key) }
                    }
                    if i % 20 == 19 { try? engine.flush(info) }
                }
            }
            acknowledged = acked.withLock { $0 }
            #expect(acknowledged.count < 240 && acknowledged.count > 100)
            #expect(try Set(Self.keys(engine, info, 0..<4000)) == acknowledged)
        }
        let engine = try Engine(configuration: Self.configuration(dir))
        defer { engine.close() }
        let info = try engine.catalog.collection(database: "default", name: "c")
        #expect(try Set(Self.keys(engine, info, 0..<4000)) == acknowledged)
        #expect(try engine.rowCount(info) == acknowledged.count)
    }

    /// A flush whose meta-store commit fails, or whose segment or delta file write fails, keeps
    /// the rows in memory and in the WAL; the next flush writes them; nothing is lost across a
    /// restart. An index build whose file write fails is retried.
    @Test func failedFlushesAndIndexWritesLoseNothing() throws {
        let dir = TemporaryDirectory()
        let faults = Faults()
        let meta = MemoryMetaStore()
        let wal = MemoryLogBroker()
        do {
            let stores = Engine.Stores(meta: FaultyMetaStore(meta, faults: faults), log: wal, objectFaults: faults)
            let engine = try Engine(configuration: Self.configuration(dir), stores: stores)
            defer { engine.close() }
            let info = try Self.create(engine)
            _ = try engine.insert(info, partitionName: nil, batch: EngineWriteTests.batch((0..<120).map(Int64.init)))
            faults.fail(.metaCommit)
            #expect(throws: ElanusError.self) { try engine.flush(info) }
            faults.fail(.objectWrite, count: 1, after: 1)
            #expect(throws: ElanusError.self) { try engine.flush(info) }
            #expect(try engine.rowCount(info) == 120)
            #expect(try Self.keys(engine, info, 0..<200) == Array(0..<120))
            faults.heal()
            try engine.flush(info)
            // An index file write that fails is retried by the index node.
            faults.fail(.objectWrite)
            let deadline = Date().addingTimeInterval(60)
            while try engine.indexProgress(info, info.indexes[0]).state != "Finished" && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            #expect(try engine.indexProgress(info, info.indexes[0]).state == "Finished")
            // Index files that keep failing to be written end as a failed index, not a build
            // every second for ever.
            try engine.release(database: "default", collection: "c")
            try engine.dropIndex(database: "default", collection: "c", indexName: "v")
            faults.fail(.objectWrite, count: 1000)
            try engine.createIndex(database: "default", collection: "c", info.indexes[0])
            try engine.load(database: "default", collection: "c")
            while try engine.indexProgress(info, info.indexes[0]).state != "Failed" && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            let failed = try engine.indexProgress(info, info.indexes[0])
            #expect(failed.state == "Failed" && failed.failReason.contains("index file write failed"), "\(failed)")
            faults.heal()
            try engine.release(database: "default", collection: "c")
            try engine.dropIndex(database: "default", collection: "c", indexName: "v")
            try engine.createIndex(database: "default", collection: "c", info.indexes[0])
            try engine.load(database: "default", collection: "c")
            while engine.loadProgress(info) != nil && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            while try engine.indexProgress(info, info.indexes[0]).state != "Finished" && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            #expect(try engine.indexProgress(info, info.indexes[0]).state == "Finished")
            _ = try engine.delete(info, partitionName: nil, filter: "id < 30")
            // A compaction whose file write fails leaves the segments as they were.
            faults.fail(.objectWrite)
            _ = try engine.compact(database: "default", collection: "c", clustering: false)
            Thread.sleep(forTimeInterval: 0.3)
            #expect(try Self.keys(engine, info, 0..<200) == Array(30..<120))
        }
        // A restart on the same (memory) stores: the flushed segments, the delta and the WAL.
        let engine = try Engine(configuration: Self.configuration(dir), stores: .init(meta: meta.reopened(), log: wal.reopened()))
        defer { engine.close() }
        let info = try engine.catalog.collection(database: "default", name: "c")
        #expect(try Self.keys(engine, info, 0..<200) == Array(30..<120))
        #expect(try engine.rowCount(info) == 90)
    }

    /// The engine on memory stores against a plain model: random inserts, upserts, deletes,
    /// flushes and restarts (reopened stores), the model checked after each step.
    @Test(arguments: [3, 17])
    func theEngineOnMemoryStoresMatchesAModelAcrossRestarts(seed: Int) throws {
        let dir = TemporaryDirectory()
        var rng = SeededGenerator(seed: UInt64(seed))
        var meta = MemoryMetaStore()
        var wal = MemoryLogBroker()
        var model: [Int64: Float] = [:]
        var engine = try Engine(configuration: Self.configuration(dir), stores: .init(meta: meta, log: wal))
        var info = try Self.create(engine)
        for step in 0..<120 {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<4:
                let keys = (0..<Int.random(in: 1...15, using: &rng)).map { _ in Int64.random(in: 0..<300, using: &rng) }
                let unique = Array(Set(keys)).sorted()
                _ = try engine.insert(info, partitionName: nil, batch: EngineWriteTests.batch(unique, seed: Float(step)))
                for key in unique { model[key] = Float(step) }
            case 4..<6:
                let unique = Array(Set((0..<5).map { _ in Int64.random(in: 0..<300, using: &rng) })).sorted()
                _ = try engine.upsert(info, partitionName: nil, batch: EngineWriteTests.batch(unique, seed: Float(step)))
                for key in unique { model[key] = Float(step) }
            case 6..<8:
                let low = Int64.random(in: 0..<300, using: &rng)
                _ = try engine.delete(info, partitionName: nil, filter: "id >= \(low) and id < \(low + 10)")
                for key in low..<low + 10 { model[key] = nil }
            case 8:
                try engine.flush(info)
            default:
                engine.close()
                meta = meta.reopened()
                wal = wal.reopened()
                engine = try Engine(configuration: Self.configuration(dir), stores: .init(meta: meta, log: wal))
                info = try engine.catalog.collection(database: "default", name: "c")
            }
            let rows = try engine.get(info, keys: (0..<300).map { .int($0) })
            guard case .int64(let keys)? = rows.column(100)?.values, case .floatVector(let floats)? = rows.column(101)?.values else {
                Issue.record("step \(step): get failed")
                break
            }
            var found: [Int64: Float] = [:]
            for (i, key) in keys.enumerated() { found[key] = floats[i * EngineWriteTests.dim] - Float(key) }
            #expect(found == model, "step \(step)")
        }
        engine.close()
    }
}
