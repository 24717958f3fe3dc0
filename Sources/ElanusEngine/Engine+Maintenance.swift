import CSystem
import Dispatch
import ElanusCore
import Foundation

/// When flushed segments are compacted automatically (Milvus's data coordinator defaults).
public struct CompactionPolicy: Sendable {
    /// Whether the compactor looks for work on its own; manual compactions run either way.
    public var enabled = true
    /// How often it looks, at least.
    public var intervalSeconds = 10.0
    /// A segment is rewritten once this share of its rows is deleted, superseded or expired.
    public var deleteRatio = 0.2
    /// Segments under half the seal policy's rows are merged once a partition has this many.
    public var minSmallSegments = 3
    public init() {}
}

/// Manual compaction jobs (`collections/compact`), as `get_compaction_state` reports them. They
/// live in memory, as in Milvus: after a restart an old id reads as "UndefiedState".
struct CompactionJobs: Sendable {
    struct Job: Sendable {
        var collectionID: Int64
        /// Nil until the compactor has chosen the job's plans.
        var plans: Int?
        var completed = 0
        var failed = 0
    }

    var jobs: [Int64: Job] = [:]
    var queued: [Int64] = []
}

/// The background rounds: flushing and expiry on one thread, compaction on another.
extension Engine {
    public struct CompactionState: Sendable, Equatable {
        public var compactionID: Int64
        /// "UndefiedState" (sic, Milvus's spelling), "Executing" or "Completed".
        public var state: String
        public var executingPlans: Int
        public var completedPlans: Int
        public var failedPlans: Int
    }

    /// One flusher round: expire rows past their collection's TTL, seal segments past their age,
    /// flush what is sealed. A failed flush is logged and retried on the next round: until it
    /// succeeds the rows stay in the WAL, so nothing is lost.
    func flushRound() {
        for (info, data) in loadedCollections() {
            expireRows(info, data)
            data.sealGrowing(all: false)
            do {
                let count = try jobs.run(.flush, collection: info.id, detail: "collection \(info.name)") { _ throws(ElanusError) in try data.flushSealed() }
                if count > 0 {
                    logger.info("segments flushed", metadata: ["collection": "\(info.name)", "segments": "\(count)"])
                    indexBuilder.wake()
                }
            } catch {
                logger.error("flush failed; will retry", metadata: ["collection": "\(info.name)", "error": "\(error.message)"])
            }
        }
    }

    /// Kills the rows of a collection with `collection.ttl.seconds` set that are older than it.
    func expireRows(_ info: CollectionInfo, _ data: CollectionData) {
        guard let ttl = info.properties["collection.ttl.seconds"].flatMap(Int64.init), ttl > 0 else { return }
        let nowMs = UInt64(Date().timeIntervalSince1970 * 1000)
        // The TTL is bounded when set, but a value stored before that bound may be anything: a
        // product past the clock, or past UInt64, expires nothing rather than trapping here at
        // every flush round and every start.
        let (ttlMs, overflow) = UInt64(ttl).multipliedReportingOverflow(by: 1000)
        guard !overflow, ttlMs < nowMs else { return }
        let cutoffMs = nowMs - ttlMs
        let expired = data.expire(before: HybridTimestamp.compose(physicalMs: cutoffMs, logical: 0))
        if expired > 0 { logger.info("rows expired", metadata: ["collection": "\(info.name)", "rows": "\(expired)", "ttlSeconds": "\(ttl)"]) }
    }

    /// `collections/compact`: queues a manual compaction of the collection's flushed segments and
    /// returns its id. Growing rows are not compacted (flush first), as in Milvus.
    public func compact(database: String, collection: String, clustering: Bool) throws(ElanusError) -> Int64 {
        let info = try catalog.collection(database: database, name: collection)
        if clustering {
            throw ElanusError(.invalidParameter, "clustering compaction is not supported: collection \(collection) has no clustering key")
        }
        let id = Int64(bitPattern: try tso.next())
        compactionJobs.withLock { j in
            j.jobs[id] = CompactionJobs.Job(collectionID: info.id)
            j.queued.append(id)
        }
        compactionLoop.wake()
        return id
    }

    /// `collections/get_compaction_state`: a job by id, or the collection's latest job.
    public func compactionState(id: Int64?, database: String?, collection: String?) throws(ElanusError) -> CompactionState {
        var jobID = id
        if jobID == nil, let collection {
            let info = try catalog.collection(database: database ?? Catalog.defaultDatabase, name: collection)
            jobID = compactionJobs.withLock { j in j.jobs.filter { $0.value.collectionID == info.id }.keys.max() }
        }
        guard let jobID, let job = compactionJobs.withLock({ $0.jobs[jobID] }) else {
            return CompactionState(compactionID: id ?? -1, state: "UndefiedState", executingPlans: 0, completedPlans: 0, failedPlans: 0)
        }
        let finished = job.plans.map { job.completed + job.failed >= $0 } ?? false
        return CompactionState(
            compactionID: jobID, state: finished ? "Completed" : "Executing",
            executingPlans: (job.plans ?? 0) - job.completed - job.failed, completedPlans: job.completed, failedPlans: job.failed)
    }

    /// One compactor round: the queued manual jobs, then (when enabled) whatever the automatic
    /// policy finds.
    func compactionRound() {
        while !compactionLoop.isStopping, let jobID = compactionJobs.withLock({ $0.queued.isEmpty ? nil : $0.queued.removeFirst() }) {
            guard let collectionID = compactionJobs.withLock({ $0.jobs[jobID]?.collectionID }) else { continue }
            // A collection with no data node state has written nothing: no plans.
            let info = catalog.collection(id: collectionID)
            let data = loadedData(collectionID)
            let plans = data?.compactionPlans(deleteRatio: 0, minSmallSegments: 2, manual: true) ?? []
            compactionJobs.withLock { $0.jobs[jobID]?.plans = plans.count }
            guard let info, let data else { continue }
            for plan in plans {
                let ok = runCompaction(plan, info: info, data: data, manual: true)
                compactionJobs.withLock { j in
                    if ok { j.jobs[jobID]?.completed += 1 } else { j.jobs[jobID]?.failed += 1 }
                }
            }
        }
        let policy = configuration.compaction
        guard policy.enabled else { return }
        for (info, data) in loadedCollections() {
            for plan in data.compactionPlans(deleteRatio: policy.deleteRatio, minSmallSegments: policy.minSmallSegments, manual: false) {
                if compactionLoop.isStopping { return }
                _ = runCompaction(plan, info: info, data: data, manual: false)
            }
        }
    }

    /// Runs one plan, builds the new segment's vector indexes, and logs the outcome; returns
    /// false if it failed.
    private func runCompaction(_ plan: CollectionData.CompactionPlan, info: CollectionInfo, data: CollectionData, manual: Bool) -> Bool {
        let start = DispatchTime.now().uptimeNanoseconds
        let indexes = indexJobs().filter { $0.data === data }
        counters.compactionsRunning.add(1, ordering: .relaxed)
        defer { counters.compactionsRunning.subtract(1, ordering: .relaxed) }
        let registered = jobs.begin(.compaction, collection: info.id, detail: "segments \(plan.sources)")
        defer { jobs.end(registered) }
        logger.info("compacting segments", metadata: ["collection": "\(info.name)", "trigger": "\(manual ? "manual" : "automatic")", "segments": "\(plan.sources)"])
        do {
            let outcome = try data.compact(
                plan, indexes: indexes, threads: indexBuilder.threads, minIndexRows: { [indexBuilder] in $0.minimumSegmentRows(indexBuilder.minSegmentRows) },
                currentPlans: { [self] in
                    guard let current = catalog.collection(id: info.id) else { return [:] }
                    return indexPlans(current).filter { $0.value.kind != .exact }
                }, cancelled: { registered.isCancelled })
            if let outcome {
                logger.info(
                    "segments compacted",
                    metadata: [
                        "collection": "\(info.name)", "segments": "\(plan.sources)",
                        "rowsBefore": "\(outcome.rowsBefore)", "rowsAfter": "\(outcome.rowsAfter)",
                        "newSegment": "\(outcome.segmentID.map(String.init) ?? "none")",
                        "seconds": "\(String(format: "%.2f", Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))",
                    ])
            }
            counters.compactionsCompleted.add(1, ordering: .relaxed)
            // The source segments' columns and indexes are gone once readers let go of them.
            csys_release_free_memory()
            return true
        } catch {
            if registered.isCancelled {
                logger.info("compaction cancelled; its segments stay as they were", metadata: ["collection": "\(info.name)", "segments": "\(plan.sources)"])
                return false
            }
            counters.compactionsFailed.add(1, ordering: .relaxed)
            logger.error("compaction failed", metadata: ["collection": "\(info.name)", "segments": "\(plan.sources)", "error": "\(error.message)"])
            return false
        }
    }
}
