import ElanusCore
import Foundation
import Synchronization

/// Running totals since the process started, bumped where the work is acknowledged.
final class EngineCounters: Sendable {
    let rowsInserted = Atomic<Int>(0)
    let rowsUpserted = Atomic<Int>(0)
    let rowsDeleted = Atomic<Int>(0)
    let rowsImported = Atomic<Int>(0)
    let compactionsCompleted = Atomic<Int>(0)
    let compactionsFailed = Atomic<Int>(0)
    let compactionsRunning = Atomic<Int>(0)
    let indexBuildsRunning = Atomic<Int>(0)
    let indexBuildsFailed = Atomic<Int>(0)
}

/// What the engine is doing and holding, as plain values for `/metrics`.
public struct EngineStatistics: Sendable {
    public struct Collection: Sendable {
        public var database: String
        public var name: String
        /// Live rows (the count a `count(*)` with Strong consistency gives).
        public var entities: Int
        /// Segments by state: "growing", "sealed", "flushed".
        public var segments: [String: Int]
        /// Flushed segments still waiting for a vector or scalar index.
        public var segmentsAwaitingIndex: Int
        /// WAL records applied but not yet in a flushed segment: what a restart replays.
        public var walLagRecords: UInt64
    }

    public var collections: [Collection] = []
    public var rowsInserted = 0
    public var rowsUpserted = 0
    public var rowsDeleted = 0
    public var rowsImported = 0
    public var indexBuildsRunning = 0
    public var indexBuildsFailed = 0
    public var compactionsRunning = 0
    public var compactionsCompleted = 0
    public var compactionsFailed = 0
    /// Bytes on disk under `meta/`, `wal/` and `objects/`.
    public var diskBytes: [String: Int] = [:]
}

extension Engine {
    /// A snapshot of the counters and of every collection's segments. It takes each collection's
    /// state lock briefly and walks the data directory, so it is meant for a scrape every few
    /// seconds, not for the request path.
    public func statistics() -> EngineStatistics {
        var stats = EngineStatistics()
        stats.rowsInserted = counters.rowsInserted.load(ordering: .relaxed)
        stats.rowsUpserted = counters.rowsUpserted.load(ordering: .relaxed)
        stats.rowsDeleted = counters.rowsDeleted.load(ordering: .relaxed)
        stats.rowsImported = counters.rowsImported.load(ordering: .relaxed)
        stats.indexBuildsRunning = counters.indexBuildsRunning.load(ordering: .relaxed)
        stats.indexBuildsFailed = counters.indexBuildsFailed.load(ordering: .relaxed)
        stats.compactionsRunning = counters.compactionsRunning.load(ordering: .relaxed)
        stats.compactionsCompleted = counters.compactionsCompleted.load(ordering: .relaxed)
        stats.compactionsFailed = counters.compactionsFailed.load(ordering: .relaxed)
        let jobs = indexJobs()
        for info in catalog.allCollections() {
            guard let database = catalog.databaseName(id: info.databaseID) else { continue }
            var entry = EngineStatistics.Collection(database: database, name: info.name, entities: 0, segments: [:], segmentsAwaitingIndex: 0, walLagRecords: 0)
            if let data = loadedData(info.id) {
                entry.entities = data.liveRows()
                data.read { s in
                    for segment in s.segments.values { entry.segments[Engine.stateName(segment.state), default: 0] += 1 }
                    entry.walLagRecords = s.lastApplied > s.flushed.checkpoint ? s.lastApplied - s.flushed.checkpoint : 0
                }
                for job in jobs where job.data === data {
                    entry.segmentsAwaitingIndex += data.segmentsNeedingIndex(job.key, minRows: job.plan.minimumSegmentRows(indexBuilder.minSegmentRows)).count
                }
            }
            stats.collections.append(entry)
        }
        for area in ["meta", "wal", "objects"] {
            stats.diskBytes[area] = Engine.directoryBytes(configuration.dataDirectory + "/" + area)
        }
        return stats
    }

    static func stateName(_ state: Segment.State) -> String {
        switch state {
        case .growing: "growing"
        case .sealed: "sealed"
        case .flushed: "flushed"
        }
    }

    /// The total size of the regular files under `path`.
    static func directoryBytes(_ path: String) -> Int {
        guard let walker = FileManager.default.enumerator(at: URL(fileURLWithPath: path), includingPropertiesForKeys: [.fileSizeKey, .isRegularFileKey]) else { return 0 }
        var total = 0
        for case let url as URL in walker {
            guard let values = try? url.resourceValues(forKeys: [.fileSizeKey, .isRegularFileKey]), values.isRegularFile == true else { continue }
            total += values.fileSize ?? 0
        }
        return total
    }
}
