import CSystem
import Dispatch
import ElanusCore
import Foundation
import Logging
import Synchronization

/// The index node: one background thread that finds flushed segments without their vector
/// index, builds each with faiss (using up to `threads` threads), writes the index file
/// and swaps the index into the segment. Searches and inserts go on meanwhile; a segment without
/// its index is searched exactly. Segments smaller than `minSegmentRows` are not indexed (an
/// exact scan of them is as fast), as in Milvus; the implicit indexes are built for every flushed
/// segment (`IndexPlan.minimumSegmentRows`).
final class IndexBuilder: Sendable {
    struct Job: Sendable {
        let data: CollectionData
        let field: FieldSchema
        let plan: IndexPlan
        /// The index's key among the segment's indexes (`IndexPlan.key`): the field id, or a
        /// JSON path's key.
        let key: Int64
        /// The field's plan in the catalog now (nil once dropped): checked at commit.
        let currentPlan: @Sendable () -> IndexPlan?
    }

    struct Status: Sendable {
        /// Collection id -> field id -> why its last build failed.
        var failures: [Int64: [Int64: String]] = [:]
        /// Collection id -> field id -> index files that could not be written in a row.
        var storageFailures: [Int64: [Int64: Int]] = [:]
    }

    /// Index file writes that may fail in a row (not for lack of space) before the index is
    /// marked Failed instead of built again every round.
    static let maxStorageFailures = 3

    let status = Mutex(Status())
    let threads: Int
    let minSegmentRows: Int
    private let loop = BackgroundLoop(name: "elanus-index", interval: 1)
    private let counters: EngineCounters
    private let logger: Logger
    private let registry: JobRegistry

    init(threads: Int, minSegmentRows: Int, counters: EngineCounters, registry: JobRegistry, logger: Logger) {
        self.threads = threads
        self.minSegmentRows = minSegmentRows
        self.counters = counters
        self.registry = registry
        self.logger = logger
    }

    /// `jobs` lists, each round, every (collection, vector field, plan) that wants an index.
    func start(jobs: @escaping @Sendable () -> [Job]) {
        loop.start { [self] in
            while !loop.isStopping, buildOne(jobs()) {}
        }
    }

    /// Builds the first missing index it finds; returns whether it built (or tried) one.
    private func buildOne(_ jobs: [Job]) -> Bool {
        for job in jobs where status.withLock({ $0.failures[job.data.collectionID]?[job.key] == nil }) {
            guard let segmentID = job.data.segmentsNeedingIndex(job.key, minRows: job.plan.minimumSegmentRows(minSegmentRows)).first else { continue }
            // With the disk below its reserve the file could not be written: no build until
            // there is room (the next rounds look again).
            if let reserve = job.data.objects.reserve, (try? reserve.check(writing: 0, what: "an index build")) == nil { return false }
            let rows = job.data.read { $0.segments[segmentID]?.rowCount ?? 0 }
            let start = DispatchTime.now().uptimeNanoseconds
            logger.info("building index", metadata: ["collection": "\(job.data.collectionID)", "segment": "\(segmentID)", "field": "\(job.field.name)", "indexType": "\(job.plan.indexType)", "rows": "\(rows)"])
            counters.indexBuildsRunning.add(1, ordering: .relaxed)
            defer { counters.indexBuildsRunning.subtract(1, ordering: .relaxed) }
            let registered = registry.begin(.indexBuild, collection: job.data.collectionID, field: job.key, detail: "segment \(segmentID) field \(job.field.name)")
            defer { registry.end(registered) }
            // A million-row HNSW build takes minutes: say how far it has got every 15 seconds,
            // and stop at once when it is cancelled (shutdown, the index or collection dropped).
            let progress = BuildProgress(every: 15, cancelled: { registered.isCancelled }) { [logger] done, total in
                registered.report(done: done, total: total)
                logger.info("index build progress", metadata: [
                    "collection": "\(job.data.collectionID)", "segment": "\(segmentID)", "field": "\(job.field.name)",
                    "rowsLinked": "\(done)", "rows": "\(total)", "percent": "\(done * 100 / max(1, total))",
                ])
            }
            do {
                try job.data.buildIndex(segmentID, field: job.field, key: job.key, plan: job.plan, threads: threads, progress: progress) {
                    // Re-validated at commit: a cancelled build commits nothing.
                    registered.isCancelled ? nil : job.currentPlan()
                }
                // The segment's own copy of the vectors may just have been freed (borrowed from
                // the index now), and faiss's build buffers with it.
                csys_release_free_memory()
                if registered.isCancelled {
                    logger.info("index build cancelled", metadata: ["collection": "\(job.data.collectionID)", "segment": "\(segmentID)", "field": "\(job.field.name)"])
                    return false
                }
                status.withLock { _ = $0.storageFailures[job.data.collectionID]?.removeValue(forKey: job.key) }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                logger.info("index built", metadata: ["collection": "\(job.data.collectionID)", "segment": "\(segmentID)", "field": "\(job.field.name)", "seconds": "\(String(format: "%.2f", seconds))"])
            } catch {
                if registered.isCancelled {
                    logger.info("index build cancelled", metadata: ["collection": "\(job.data.collectionID)", "segment": "\(segmentID)", "field": "\(job.field.name)"])
                    return false
                }
                counters.indexBuildsFailed.add(1, ordering: .relaxed)
                let storage = isOutOfSpace(error) || error.message.hasPrefix(CollectionData.indexWriteFailure)
                let inARow = storage && !isOutOfSpace(error)
                    ? status.withLock { s in
                        s.storageFailures[job.data.collectionID, default: [:]][job.key, default: 0] += 1
                        return s.storageFailures[job.data.collectionID]![job.key]!
                    } : 0
                if storage && inARow < IndexBuilder.maxStorageFailures {
                    // Not the index's fault (a full disk, an I/O error writing its file): tried
                    // again in the loop's next rounds, not marked Failed for good.
                    logger.warning("index build stopped by the storage; it is retried", metadata: ["collection": "\(job.data.collectionID)", "segment": "\(segmentID)", "field": "\(job.field.name)", "error": "\(error.message)"])
                    return false
                }
                logger.error("index build failed", metadata: ["collection": "\(job.data.collectionID)", "segment": "\(segmentID)", "field": "\(job.field.name)", "error": "\(error.message)"])
                status.withLock { $0.failures[job.data.collectionID, default: [:]][job.key] = error.message }
            }
            return true
        }
        return false
    }

    func wake() { loop.wake() }

    /// A failure of the file system running out of room, whichever layer reported it.
    private func isOutOfSpace(_ error: ElanusError) -> Bool {
        error.code == .diskLimitExceeded || error.message.contains("No space left on device")
    }

    /// Forgets a field's failure (its index was dropped or created again).
    func clearFailure(collection: Int64, field: Int64) {
        status.withLock { s in
            _ = s.failures[collection]?.removeValue(forKey: field)
            _ = s.storageFailures[collection]?.removeValue(forKey: field)
        }
    }

    func stop() { loop.stop() }
}
