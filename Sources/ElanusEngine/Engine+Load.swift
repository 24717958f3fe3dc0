import CSystem
import ElanusCore
import Foundation
import Synchronization

/// Loads in progress, by collection id: the partitions being loaded and how far it got.
struct LoadJobs: Sendable {
    struct Job: Sendable {
        var partitions: Set<Int64>
        var done = 0
        var total = 0
    }

    var jobs: [Int64: Job] = [:]
}

/// load and release: the catalog's load state, and the memory behind it (see
/// CollectionData+Load). A load with segments to read runs in the background, as in Milvus:
/// `get_load_state` reports LoadStateLoading with `loadProgress`, and reads of the partitions
/// being loaded answer 101 until it finishes.
extension Engine {
    /// `collections/load` (no partition names) or `partitions/load`.
    public func load(database: String, collection: String, partitionNames: [String]? = nil) throws(ElanusError) {
        if let partitionNames {
            try catalog.loadPartitions(database: database, collection: collection, names: partitionNames)
        } else {
            try catalog.load(database: database, name: collection)
        }
        let info = try catalog.collection(database: database, name: collection)
        let partitions = Set(info.partitions.filter { partitionNames?.contains($0.name) ?? true }.map(\.id))
        let data = try data(for: info)
        guard !data.releasedSegments(partitions: partitions).isEmpty else { return }
        let started = loadJobs.withLock { jobs in
            guard jobs.jobs[info.id] == nil else { return false }
            jobs.jobs[info.id] = LoadJobs.Job(partitions: partitions)
            return true
        }
        // A load already running for the collection picks up these partitions on its next pass.
        guard started else { return }
        // Registered before the thread starts, so that a shutdown that begins now waits for it.
        let registered = jobs.begin(.load, collection: info.id, detail: "collection \(info.name)")
        let thread = Thread { [self] in loadInBackground(info, data, registered) }
        thread.name = "elanus-load"
        thread.start()
    }

    /// `collections/refresh_load`: Milvus loads segments that appeared since the load (from an
    /// import) into a fully loaded collection. Here every new segment is served as soon as it
    /// exists, so a refresh only re-reads segments a partial release left out; like Milvus, it
    /// needs the collection fully loaded.
    public func refreshLoad(database: String, collection: String) throws(ElanusError) {
        let info = try catalog.collection(database: database, name: collection)
        guard info.partitions.allSatisfy(\.loaded), loadProgress(info) == nil else {
            throw ElanusError(.collectionNotLoaded, "collection not fully loaded: collection not loaded[collection=\(info.name)]")
        }
        try load(database: database, collection: collection)
    }

    /// Reads the released segments back until none is left in a loaded partition (a partition
    /// loaded while this ran is covered by the next pass).
    private func loadInBackground(_ info: CollectionInfo, _ data: CollectionData, _ registered: BackgroundJob) {
        let start = Date()
        var segments = 0
        // Registered, so that shutdown waits for it (and cancels it between segments) before
        // the stores close, and a dropped collection stops it.
        defer { jobs.end(registered) }
        while !registered.isCancelled {
            let current = catalog.collection(id: info.id)
            let wanted = Set(current?.partitions.filter(\.loaded).map(\.id) ?? [])
            if data.releasedSegments(partitions: wanted).isEmpty { break }
            loadJobs.withLock { $0.jobs[info.id]?.partitions = wanted }
            do {
                try data.load(
                    partitions: { [catalog] in Set(catalog.collection(id: info.id)?.partitions.filter(\.loaded).map(\.id) ?? []) },
                    indexPlans: current.map(indexPlans) ?? [:], warn: { logger.warning("\($0)", metadata: ["collection": "\(info.name)"]) },
                    cancelled: { registered.isCancelled }
                ) { done, total in
                    registered.report(done: done, total: total)
                    loadJobs.withLock { j in
                        j.jobs[info.id]?.done = done
                        j.jobs[info.id]?.total = total
                    }
                    segments = max(segments, done)
                }
            } catch {
                logger.error("load failed", metadata: ["collection": "\(info.name)", "error": "\(error.message)"])
                break
            }
        }
        loadJobs.withLock { _ = $0.jobs.removeValue(forKey: info.id) }
        if registered.isCancelled {
            logger.info("load cancelled", metadata: ["collection": "\(info.name)", "segments": "\(segments)"])
            return
        }
        indexBuilder.wake()
        logger.info("collection loaded", metadata: ["collection": "\(info.name)", "segments": "\(segments)", "seconds": "\(String(format: "%.2f", Date().timeIntervalSince(start)))"])
    }

    /// `collections/release` (no partition names) or `partitions/release`: the catalog first,
    /// so no new read starts, then the memory.
    public func release(database: String, collection: String, partitionNames: [String]? = nil) throws(ElanusError) {
        if let partitionNames {
            try catalog.releasePartitions(database: database, collection: collection, names: partitionNames)
        } else {
            try catalog.release(database: database, name: collection)
        }
        let info = try catalog.collection(database: database, name: collection)
        let released = Set(info.partitions.filter { !$0.loaded }.map(\.id))
        let count = try data(for: info).release(partitions: released)
        if count > 0 {
            csys_release_free_memory()
            logger.info("segments released", metadata: ["collection": "\(info.name)", "segments": "\(count)"])
        }
    }

    /// The progress (0...100) of a load running for some of `partitions`, or nil when none is.
    public func loadProgress(_ info: CollectionInfo, partitions: Set<Int64>? = nil) -> Int? {
        loadJobs.withLock { j in
            guard let job = j.jobs[info.id], partitions.map({ !$0.isDisjoint(with: job.partitions) }) ?? true else { return nil }
            return job.total == 0 ? 0 : min(99, job.done * 100 / job.total)
        }
    }

    /// Approximate bytes of the collection's column data in memory.
    public func residentBytes(_ info: CollectionInfo) throws(ElanusError) -> Int { try data(for: info).residentBytes() }
}
