import ElanusCore
import ElanusEngine
import ElanusQuery
import ElanusTestSupport
import Foundation
import Testing

/// Release frees a collection's flushed columns and indexes (only the primary keys stay, for
/// the writer); load reads them back with progress; writes made while released hold; and a
/// restart of a released collection keeps it small until it is loaded.
@Suite struct LoadReleaseTests {
    static func waitLoaded(_ engine: Engine, _ info: CollectionInfo) {
        let deadline = Date().addingTimeInterval(30)
        while engine.loadProgress(info) != nil && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
    }

    @Test func releaseFreesColumnsAndLoadBringsThemBackWithTheWritesMadeMeanwhile() throws {
        let dir = TemporaryDirectory()
        var model: [Int64: Float] = [:]
        let info: CollectionInfo
        let fullBytes: Int
        do {
            let engine = try CompactionTests.open(dir, maxRows: 100)
            defer { engine.close() }
            info = try SegmentLifecycleTests.create(engine)
            for b in 0..<8 {
                let keys = (0..<50).map { Int64(b * 50 + $0) }
                _ = try engine.insert(info, partitionName: b % 2 == 0 ? "p1" : nil, batch: EngineWriteTests.batch(keys, tag: String(repeating: "x", count: 40)))
                for k in keys { model[k] = 0 }
            }
            try engine.flush(info)
            fullBytes = try engine.residentBytes(info)

            try engine.release(database: "default", collection: "c")
            let releasedBytes = try engine.residentBytes(info)
            #expect(releasedBytes * 4 < fullBytes, "\(fullBytes) -> \(releasedBytes) bytes")
            let released = try engine.catalog.collection(database: "default", name: "c")
            #expect(throws: ElanusError.self) { try engine.search(released, SearchRequest(field: released.schema.fields[1], metric: .l2, vectors: [.dense([1, 2, 3, 4])], limit: 1)) }

            // Writes to a released collection: by key they work, by other filters they need the rows.
            #expect(try engine.delete(released, partitionName: nil, filter: "id in [0, 1, 2]") == 3)
            for k: Int64 in [0, 1, 2] { model[k] = nil }
            _ = try engine.upsert(released, partitionName: nil, batch: EngineWriteTests.batch([10, 11], seed: 5))
            for k: Int64 in [10, 11] { model[k] = 5 }
            do {
                _ = try engine.delete(released, partitionName: nil, filter: "id > 300")
                Issue.record("a delete by filter on a released collection must be refused")
            } catch {
                #expect(error.code == .collectionNotLoaded, "\(error.message)")
            }
            do {
                _ = try engine.upsert(released, partitionName: nil, batch: EngineWriteTests.batch([20]), absentFields: [[101]])
                Issue.record("a partial update of a released row must be refused")
            } catch {
                #expect(error.code == .collectionNotLoaded, "\(error.message)")
            }
            #expect(try engine.rowCount(released) == model.count)

            try engine.load(database: "default", collection: "c")
            Self.waitLoaded(engine, info)
            #expect(try engine.residentBytes(info) >= fullBytes)
            try CompactionTests.expectRows(engine, try engine.catalog.collection(database: "default", name: "c"), model, range: 0..<500)

            // Release one partition: its rows leave reads, the other partition's stay.
            try engine.release(database: "default", collection: "c", partitionNames: ["p1"])
            let partial = try engine.catalog.collection(database: "default", name: "c")
            let visible = try engine.get(partial, keys: (0..<400).map { PrimaryKey.int($0) })
            #expect(SegmentLifecycleTests.keys(visible) == model.keys.filter { ($0 / 50) % 2 == 1 || $0 == 10 || $0 == 11 }.sorted())
            try engine.release(database: "default", collection: "c")
        }
        // A restart keeps a released collection released, and small.
        let engine = try CompactionTests.open(dir, maxRows: 100)
        defer { engine.close() }
        #expect(try engine.residentBytes(info) * 4 < fullBytes)
        try engine.load(database: "default", collection: "c")
        Self.waitLoaded(engine, info)
        try CompactionTests.expectRows(engine, try engine.catalog.collection(database: "default", name: "c"), model, range: 0..<500)
    }

    /// A load flag set on the catalog directly (not through the engine) still reads whole rows:
    /// the read loads the released segments first.
    @Test func aReadOfReleasedSegmentsLoadsThemFirst() throws {
        let dir = TemporaryDirectory()
        let engine = try CompactionTests.open(dir, maxRows: 100)
        defer { engine.close() }
        let info = try SegmentLifecycleTests.create(engine)
        _ = try engine.insert(info, partitionName: nil, batch: EngineWriteTests.batch((0..<300).map(Int64.init)))
        try engine.flush(info)
        try engine.release(database: "default", collection: "c")
        try engine.catalog.load(database: "default", name: "c")
        let model = Dictionary(uniqueKeysWithValues: (0..<300).map { (Int64($0), Float(0)) })
        try CompactionTests.expectRows(engine, try engine.catalog.collection(database: "default", name: "c"), model, range: 0..<300)
    }

    /// Issue 20, item 13: a read that saw the collection loaded, answered after a release,
    /// loaded the released segments back into memory. It is answered as a read of a released
    /// collection now, and the memory stays released.
    @Test func aReadRacingAReleaseDoesNotLoadTheSegmentsBack() throws {
        let dir = TemporaryDirectory()
        let engine = try CompactionTests.open(dir, maxRows: 100)
        defer { engine.close() }
        let info = try SegmentLifecycleTests.create(engine)
        _ = try engine.insert(info, partitionName: nil, batch: EngineWriteTests.batch((0..<300).map(Int64.init)))
        try engine.flush(info)
        let stale = try engine.catalog.collection(database: "default", name: "c")
        let loadedBytes = try engine.residentBytes(stale)
        try engine.release(database: "default", collection: "c")
        let releasedBytes = try engine.residentBytes(stale)
        #expect(releasedBytes < loadedBytes)
        // The read began before the release: it still holds the catalog entry that said loaded.
        #expect(throws: ElanusError.self) { try engine.query(stale, predicate: nil, limit: 10) }
        #expect(try engine.residentBytes(stale) == releasedBytes)
    }
}
