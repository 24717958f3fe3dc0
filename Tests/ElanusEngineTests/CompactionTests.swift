import Dispatch
import ElanusCore
import ElanusEngine
import ElanusQuery
import ElanusTestSupport
import Foundation
import Synchronization
import Testing

/// Compaction on the real disk and the real meta store: dead rows leave the files, small
/// segments merge, the collection reads the same before, during and after, and a restart loads
/// the compacted segments with every acknowledged change.
@Suite struct CompactionTests {
    static func open(_ dir: TemporaryDirectory, automatic: Bool = false, maxRows: Int = 40) throws -> Engine {
        var configuration = Engine.Configuration(dataDirectory: dir.file("data"))
        configuration.segments = SegmentPolicy(maxRows: maxRows)
        configuration.flushInterval = 0.01
        configuration.compaction.enabled = automatic
        configuration.compaction.intervalSeconds = 0.05
        configuration.indexMinSegmentRows = 50
        return try Engine(configuration: configuration)
    }

    static func waitForCompaction(_ engine: Engine, _ id: Int64) throws -> Engine.CompactionState {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let state = try engine.compactionState(id: id, database: nil, collection: nil)
            if state.state == "Completed" { return state }
            Thread.sleep(forTimeInterval: 0.01)
        }
        throw ElanusError.unexpected("compaction \(id) did not complete")
    }

    static func objectBytes(_ dir: TemporaryDirectory, _ info: CollectionInfo) -> Int {
        let root = dir.file("data/objects/\(info.id)")
        return ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).reduce(0) { total, name in
            total + ((try? FileManager.default.attributesOfItem(atPath: root + "/" + name)[.size] as? Int) ?? 0)
        }
    }

    /// Every key of the model, with the vector its seed gives, and nothing else.
    static func expectRows(_ engine: Engine, _ info: CollectionInfo, _ model: [Int64: Float], range: Range<Int64>, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let rows = try engine.get(info, keys: range.map { PrimaryKey.int($0) })
        let keys = SegmentLifecycleTests.keys(rows)
        #expect(keys == model.keys.sorted(), sourceLocation: sourceLocation)
        for (i, key) in keys.enumerated() where model[key] != nil {
            let expected = (0..<EngineWriteTests.dim).map { Float(key) + model[key]! + Float($0) }
            #expect(rows.column(101)?.value(at: i) == .floatVector(expected), "key \(key)", sourceLocation: sourceLocation)
        }
        #expect(try engine.rowCount(info) == model.count, sourceLocation: sourceLocation)
        let predicate = try FilterChecker.check("id >= 0", schema: info.schema)
        #expect(try engine.count(info, predicate: predicate) == model.count, sourceLocation: sourceLocation)
    }

    @Test func manualCompactionDropsDeadRowsReclaimsDiskAndSurvivesRestart() throws {
        let dir = TemporaryDirectory()
        var model: [Int64: Float] = [:]
        let info: CollectionInfo
        do {
            let engine = try Self.open(dir)
            defer { engine.close() }
            info = try SegmentLifecycleTests.create(engine)
            for b in 0..<12 {
                let keys = (0..<25).map { Int64(b * 25 + $0) }
                _ = try engine.insert(info, partitionName: b % 4 == 0 ? "p1" : nil, batch: EngineWriteTests.batch(keys))
                for k in keys { model[k] = 0 }
            }
            let upserted = (0..<300).filter { $0 % 9 == 0 }.map(Int64.init)
            _ = try engine.upsert(info, partitionName: nil, batch: EngineWriteTests.batch(upserted, seed: 500))
            for k in upserted { model[k] = 500 }
            #expect(try engine.delete(info, partitionName: nil, filter: "id % 3 != 0") > 150)
            for k in model.keys where k % 3 != 0 { model[k] = nil }
            try engine.flush(info)
            let filesBefore = SegmentLifecycleTests.segmentFiles(dir, info)
            let bytesBefore = Self.objectBytes(dir, info)

            let state = try Self.waitForCompaction(engine, try engine.compact(database: "default", collection: "c", clustering: false))
            #expect(state.completedPlans >= 2 && state.failedPlans == 0, "\(state)")
            let filesAfter = SegmentLifecycleTests.segmentFiles(dir, info)
            let bytesAfter = Self.objectBytes(dir, info)
            #expect(filesAfter.count < filesBefore.count, "\(filesBefore) -> \(filesAfter)")
            #expect(Double(bytesAfter) < 0.6 * Double(bytesBefore), "\(bytesBefore) -> \(bytesAfter) bytes")
            try Self.expectRows(engine, info, model, range: 0..<400)

            // Deletes and upserts of compacted rows, and new rows, after the compaction.
            #expect(try engine.delete(info, partitionName: nil, filter: "id in [0, 3, 6]") == 3)
            for k: Int64 in [0, 3, 6] { model[k] = nil }
            _ = try engine.upsert(info, partitionName: nil, batch: EngineWriteTests.batch([9, 12, 350], seed: 7))
            for k: Int64 in [9, 12, 350] { model[k] = 7 }
            try Self.expectRows(engine, info, model, range: 0..<400)
        }
        let engine = try Self.open(dir)
        defer { engine.close() }
        try Self.expectRows(engine, try engine.catalog.collection(database: "default", name: "c"), model, range: 0..<400)
        // A second compaction after the restart finds the rows the first left dead.
        _ = try Self.waitForCompaction(engine, try engine.compact(database: "default", collection: "c", clustering: false))
        try Self.expectRows(engine, info, model, range: 0..<400)
        #expect(try engine.compactionState(id: 12345, database: nil, collection: nil).state == "UndefiedState")
        #expect(throws: ElanusError.self) { try engine.compact(database: "default", collection: "c", clustering: true) }
        #expect(throws: ElanusError.self) { try engine.compact(database: "default", collection: "nope", clustering: false) }
    }

    /// Writers delete and upsert rows of the segments being compacted, over and over; every
    /// acknowledged change holds, in memory and after a restart.
    @Test func changesDuringCompactionAreKept() throws {
        let dir = TemporaryDirectory()
        let model = Mutex<[Int64: Float]>([:])
        do {
            let engine = try Self.open(dir, automatic: true, maxRows: 30)
            defer { engine.close() }
            let info = try SegmentLifecycleTests.create(engine)
            for b in 0..<20 {
                let keys = (0..<30).map { Int64(b * 30 + $0) }
                _ = try engine.insert(info, partitionName: nil, batch: EngineWriteTests.batch(keys))
                model.withLock { m in for k in keys { m[k] = 0 } }
            }
            try engine.flush(info)
            let problems = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 2) { worker in
                do {
                    if worker == 0 {
                        for round in 0..<40 {
                            let key = Int64(round * 13 % 600)
                            if round % 2 == 0 {
                                _ = try engine.delete(info, partitionName: nil, filter: "id in [\(key), \(key + 1), \(key + 2)]")
                                model.withLock { m in for k in key...(key + 2) { m[k] = nil } }
                            } else {
                                _ = try engine.upsert(info, partitionName: nil, batch: EngineWriteTests.batch([key], seed: Float(round)))
                                model.withLock { $0[key] = Float(round) }
                            }
                            if round % 10 == 9 { try engine.flush(info) }
                        }
                    } else {
                        for _ in 0..<6 { _ = try Self.waitForCompaction(engine, try engine.compact(database: "default", collection: "c", clustering: false)) }
                    }
                } catch {
                    problems.withLock { $0.append("\(error)") }
                }
            }
            #expect(problems.withLock { $0 } == [])
            try Self.expectRows(engine, info, model.withLock { $0 }, range: 0..<700)
        }
        let engine = try Self.open(dir)
        defer { engine.close() }
        try Self.expectRows(engine, try engine.catalog.collection(database: "default", name: "c"), model.withLock { $0 }, range: 0..<700)
    }

    /// Automatic compaction merges small segments once enough pile up, and builds the merged
    /// segment's vector index before swapping it in.
    @Test func smallSegmentsMergeAutomaticallyWithTheirIndex() throws {
        let dir = TemporaryDirectory()
        let engine = try Self.open(dir, automatic: true, maxRows: 200)
        defer { engine.close() }
        let info = try SegmentLifecycleTests.create(engine)
        try engine.catalog.release(database: "default", name: "c")
        try engine.dropIndex(database: "default", collection: "c", indexName: "v")
        try engine.createIndex(database: "default", collection: "c", IndexSpec(indexName: "v", fieldName: "v", indexType: "HNSW", metricType: "L2", params: [KeyValue("M", "8")]))
        try engine.catalog.load(database: "default", name: "c")
        for b in 0..<6 {
            _ = try engine.insert(info, partitionName: nil, batch: EngineWriteTests.batch((0..<20).map { Int64(b * 20 + $0) }))
            try engine.flush(info)
        }
        let deadline = Date().addingTimeInterval(20)
        while SegmentLifecycleTests.segmentFiles(dir, info).count > 1 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        #expect(SegmentLifecycleTests.segmentFiles(dir, info).count == 1)
        let indexFiles = try FileManager.default.contentsOfDirectory(atPath: dir.file("data/objects/\(info.id)")).filter { $0.hasSuffix(".idx") }
        #expect(indexFiles.count == 1, "\(indexFiles)")
        let reopened = try engine.catalog.collection(database: "default", name: "c")
        let progress = try engine.indexProgress(reopened, reopened.indexes[0])
        #expect(progress.totalRows == 120 && progress.indexedRows == 120, "\(progress)")
        try Self.expectRows(engine, reopened, Dictionary(uniqueKeysWithValues: (0..<120).map { (Int64($0), Float(0)) }), range: 0..<200)
    }

    /// Rows older than the collection's TTL disappear from reads, and compaction removes them
    /// from disk.
    @Test func rowsPastTheTTLExpireAndCompactionRemovesThem() throws {
        let dir = TemporaryDirectory()
        let engine = try Self.open(dir)
        defer { engine.close() }
        var info = try SegmentLifecycleTests.create(engine)
        _ = try engine.insert(info, partitionName: nil, batch: EngineWriteTests.batch((0..<30).map(Int64.init)))
        try engine.flush(info)
        try engine.catalog.alterCollectionProperties(database: "default", name: "c", set: [KeyValue("collection.ttl.seconds", "1")])
        info = try engine.catalog.collection(database: "default", name: "c")
        _ = try engine.insert(info, partitionName: nil, batch: EngineWriteTests.batch([100]))
        let deadline = Date().addingTimeInterval(10)
        while try engine.rowCount(info) > 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(try engine.rowCount(info) == 0)
        #expect(try engine.get(info, keys: [.int(5), .int(100)]).rowCount == 0)
        try engine.flush(info)
        _ = try Self.waitForCompaction(engine, try engine.compact(database: "default", collection: "c", clustering: false))
        #expect(SegmentLifecycleTests.segmentFiles(dir, info) == [])
        // New rows are live until they too are older than the TTL.
        _ = try engine.insert(info, partitionName: nil, batch: EngineWriteTests.batch([200]))
        #expect(try engine.rowCount(info) == 1)
    }
}
