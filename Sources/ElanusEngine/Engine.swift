import CSystem
import ElanusCore
import ElanusStorage
import Foundation
import Logging
import Synchronization

/// The engine facade: the coordinator, worker nodes and storage that live behind the REST API.
/// It owns the data directory (layout in DESIGN.md section 6).
public final class Engine: Sendable {
    public struct Configuration: Sendable {
        public var dataDirectory: String
        public var limits = SchemaLimits()
        /// When growing segments seal.
        public var segments = SegmentPolicy()
        /// How often the flusher looks for segments to seal by age and flush, at least.
        public var flushInterval = 1.0
        /// Threads one index build may use (faiss OpenMP threads, or the shim's own for HNSW).
        public var indexBuildThreads = max(1, ProcessInfo.processInfo.activeProcessorCount)
        /// Flushed segments with fewer rows are searched exactly instead of indexed.
        public var indexMinSegmentRows = 1024
        /// When flushed segments are compacted automatically.
        public var compaction = CompactionPolicy()
        /// Where `jobs/import/create` reads files from (names in requests are relative to it).
        public var importDirectory: String
        /// Where `backups/create` writes backups (each under its name).
        public var backupDirectory: String
        /// Free space kept on the data directory's file system: writes that add data are
        /// refused with 7 below it (see `DiskReserve`).
        public var diskReserveBytes = 128 << 20
        public init(dataDirectory: String, importDirectory: String? = nil, backupDirectory: String? = nil) {
            self.dataDirectory = dataDirectory
            self.importDirectory = importDirectory ?? dataDirectory + "/import"
            self.backupDirectory = backupDirectory ?? dataDirectory + "-backups"
        }
    }

    /// The meta store and the log broker, when the caller provides them (tests build the engine
    /// on memory stores, or on real ones wrapped to fail on command); by default the engine opens
    /// RocksDB stores in the data directory. The engine closes them when it closes.
    public struct Stores: Sendable {
        public var meta: any MetaStore
        public var log: any LogBroker
        /// Failures to inject into the object store's file writes.
        public var objectFaults: Faults?
        public init(meta: any MetaStore, log: any LogBroker, objectFaults: Faults? = nil) {
            self.meta = meta
            self.log = log
            self.objectFaults = objectFaults
        }
    }

    public let configuration: Configuration
    public let catalog: Catalog
    /// Users, roles, grants and privilege groups (checking requests is the server's concern).
    public let access: AccessCatalog
    let tso: TimestampOracle
    let metaStore: any MetaStore
    let broker: any LogBroker
    let objects: ObjectStore
    /// Seals segments by age, flushes sealed ones and expires rows past their TTL.
    let flushLoop: BackgroundLoop
    let indexBuilder: IndexBuilder
    /// Runs manual compactions and, when enabled, automatic ones.
    let compactionLoop: BackgroundLoop
    let compactionJobs = Mutex(CompactionJobs())
    let loadJobs = Mutex(LoadJobs())
    /// Bulk import jobs by id, and the thread that runs them.
    let importJobs = Mutex<[Int64: ImportJob]>([:])
    let importLoop = BackgroundLoop(name: "elanus-import", interval: 5)
    /// Totals for `/metrics`.
    let counters = EngineCounters()
    /// Every background job while it runs: shutdown and drops cancel through it.
    let jobs = JobRegistry()
    private let collections = Mutex<[Int64: CollectionData]>([:])
    let logger: Logger

    /// Opens (or creates) the data directory, recovers the catalog and replays every collection's
    /// write-ahead log into growing segments. When this returns, every acknowledged write is
    /// visible again.
    public init(configuration: Configuration, stores: Stores? = nil, logger: Logger = Logger(label: "elanus.engine")) throws(ElanusError) {
        self.configuration = configuration
        self.logger = logger
        // OpenBLAS keeps one thread count for the process: 1 for searches, more during index
        // builds (see BLASThreads).
        BLASThreads.pinForSearch()
        let root = configuration.dataDirectory
        do {
            for sub in ["", "meta", "wal", "objects"] {
                try FileManager.default.createDirectory(atPath: root + "/" + sub, withIntermediateDirectories: true)
            }
            try FileManager.default.createDirectory(atPath: configuration.importDirectory, withIntermediateDirectories: true)
        } catch {
            throw .unexpected("cannot create data directory \(root): \(error.localizedDescription)")
        }
        // Opening the two RocksDB stores writes a new log and MANIFEST file for each, with their
        // preallocations: with less room than that the open fails half-way, so say so first.
        let needed = 2 * RocksDB.Options().bytesNeededToOpen
        let free = DiskReserve.freeBytes(root)
        guard free >= needed else {
            throw ElanusError(
                .diskLimitExceeded,
                "disk limit exceeded: the file system of \(root) has \(free / 1_000_000) MB free; opening the meta store and the write-ahead log needs at least \(needed / 1_000_000) MB. Free some space (or start with --data-dir elsewhere) and start again")
        }
        let reserve = DiskReserve(root: root, bytes: configuration.diskReserveBytes)
        objects = try ObjectStore(root: root + "/objects", reserve: reserve, faults: stores?.objectFaults)
        indexBuilder = IndexBuilder(
            threads: configuration.indexBuildThreads, minSegmentRows: configuration.indexMinSegmentRows, counters: counters, registry: jobs,
            logger: logger)
        flushLoop = BackgroundLoop(name: "elanus-flush", interval: configuration.flushInterval)
        compactionLoop = BackgroundLoop(name: "elanus-compact", interval: configuration.compaction.intervalSeconds)
        let metaStore: any MetaStore
        if let given = stores?.meta { metaStore = given } else { metaStore = try RocksMetaStore(path: root + "/meta", reserve: reserve) }
        self.metaStore = metaStore
        do {
            catalog = try Catalog(store: metaStore, limits: configuration.limits)
            access = try AccessCatalog(store: metaStore)
            tso = try TimestampOracle(store: metaStore)
        } catch {
            metaStore.close()
            throw error
        }
        do {
            if let given = stores?.log { broker = given } else { broker = try RocksLogBroker(path: root + "/wal", reserve: reserve) }
        } catch {
            metaStore.close()
            throw error
        }
        logger.info("catalog recovered", metadata: ["databases": "\(catalog.listDatabases().count)", "dataDir": "\(root)"])
        do {
            try recover()
            try recoverImportJobs()
        } catch {
            broker.close()
            metaStore.close()
            throw error
        }
        flushLoop.start { [weak self] in self?.flushRound() }
        indexBuilder.start { [weak self] in self?.indexJobs() ?? [] }
        compactionLoop.start { [weak self] in self?.compactionRound() }
        importLoop.start { [weak self] in self?.importRound() }
        importLoop.wake()
    }

    /// Loads each collection's flushed segments and replays its channel after the checkpoint.
    /// Progress is logged every few seconds for large logs.
    private func recover() throws(ElanusError) {
        let start = Date()
        var totalRows = 0
        for info in catalog.allCollections() {
            guard let data = try? data(for: info) else { continue }
            var lastLog = Date()
            var replayed = (records: 0, rows: 0)
            let warn: (String) -> Void = { self.logger.warning("\($0)", metadata: ["collection": "\(info.name)"]) }
            let released = Set(info.partitions.filter { !$0.loaded }.map(\.id))
            try data.recover(partitions: Set(info.partitions.map(\.id)), released: released, indexPlans: indexPlans(info), warn: warn) { records, rows in
                replayed = (records, rows)
                if Date().timeIntervalSince(lastLog) >= 2 {
                    lastLog = Date()
                    logger.info("replaying the write-ahead log", metadata: ["collection": "\(info.name)", "records": "\(records)", "rows": "\(rows)"])
                }
            }
            totalRows += replayed.rows
            expireRows(info, data)
            // Released partitions keep only their keys in memory until they are loaded.
            data.release(partitions: released)
            let segments = data.read { s in s.segments.values.filter { $0.state == .flushed }.count }
            if replayed.records > 0 || segments > 0 {
                logger.info(
                    "collection recovered",
                    metadata: [
                        "collection": "\(info.name)", "flushedSegments": "\(segments)", "walRecords": "\(replayed.records)",
                        "walRows": "\(replayed.rows)", "liveEntities": "\(data.liveRows())",
                    ])
            }
        }
        removeOrphanCollections()
        // Loading freed many read buffers and, for released partitions, whole columns.
        csys_release_free_memory()
        logger.info("write-ahead log replayed", metadata: ["rows": "\(totalRows)", "seconds": "\(String(format: "%.2f", Date().timeIntervalSince(start)))"])
    }

    /// The data node state of a collection, created on first use.
    func data(for info: CollectionInfo) throws(ElanusError) -> CollectionData {
        let primary = try primaryField(info)
        return collections.withLock { map in
            if let existing = map[info.id] { return existing }
            let data = makeData(info.id, primaryFieldID: primary.fieldID)
            data.adopt(info.schema.fields)
            map[info.id] = data
            return data
        }
    }

    /// The data node state of a collection if it exists already.
    func loadedData(_ id: Int64) -> CollectionData? { collections.withLock { $0[id] } }

    /// Every collection's data node state that exists, with its catalog entry.
    func loadedCollections() -> [(info: CollectionInfo, data: CollectionData)] {
        catalog.allCollections().compactMap { info in loadedData(info.id).map { (info, $0) } }
    }

    private func makeData(_ id: Int64, primaryFieldID: Int64) -> CollectionData {
        CollectionData(
            collectionID: id, primaryFieldID: primaryFieldID, policy: configuration.segments, broker: broker, meta: metaStore,
            objects: objects, tso: tso, onSeal: { [flushLoop] in flushLoop.wake() })
    }

    /// Drops a collection: the catalog entry first (so no new write can find it), then its
    /// segments and their records, then its log. A crash in between leaves orphans under an ID
    /// that is never reused; the next start removes the orphaned files.
    public func dropCollection(database: String, name: String) throws(ElanusError) {
        guard let info = try catalog.dropCollection(database: database, name: name) else { return }
        // Its builds, compactions, loads and imports stop now instead of running to a commit
        // that would find the collection gone.
        jobs.cancel(collection: info.id)
        let data = collections.withLock { $0.removeValue(forKey: info.id) } ?? makeData(info.id, primaryFieldID: 0)
        try data.dropData()
        try broker.drop(channel: data.channel)
    }

    /// Empties a collection: the catalog swaps in an empty copy under new IDs (one commit),
    /// then the old data goes as after a drop. Writes acknowledged before the swap are gone
    /// after it; writes after it land in the new collection.
    public func truncateCollection(database: String, name: String) throws(ElanusError) {
        let (old, new) = try catalog.truncateCollection(database: database, name: name)
        jobs.cancel(collection: old.id)
        let data = collections.withLock { $0.removeValue(forKey: old.id) } ?? makeData(old.id, primaryFieldID: 0)
        try data.dropData()
        try broker.drop(channel: data.channel)
        // A loaded collection stays loaded: its (empty) data node state exists from now on.
        _ = try self.data(for: new)
    }

    /// Object-store directories of collections the catalog no longer has (a drop that crashed
    /// halfway).
    private func removeOrphanCollections() {
        let known = Set(catalog.allCollections().map { String($0.id) })
        for name in objects.list("") where !known.contains(name) { objects.removeTree(name) }
    }

    /// Drops a partition and its rows. Its records stay in the log until compaction truncates
    /// it; replay skips partitions the catalog no longer has.
    public func dropPartition(database: String, collection: String, name: String) throws(ElanusError) {
        let info = try catalog.collection(database: database, name: collection)
        guard let id = try catalog.dropPartition(database: database, collection: collection, name: name) else { return }
        let data = try data(for: info)
        data.dropPartition(id)
        // Forget the partition's flushed segments now rather than at the next flush.
        try data.flushSealed()
    }

    /// Closes the stores cleanly (the WAL finishes its queued group, RocksDB releases its locks).
    /// Background jobs are cancelled first, so shutdown waits only for commits in progress and
    /// for the step each job is in, not for a whole index build or compaction; what they had
    /// not committed runs again after the next start.
    /// A fresh hybrid timestamp from the coordinator's oracle (Milvus's AllocTimestamp).
    public func allocateTimestamp() throws(ElanusError) -> UInt64 { try tso.next() }

    public func close() {
        let cancelled = jobs.cancelAll()
        if !cancelled.isEmpty {
            logger.info("background jobs cancelled for shutdown", metadata: ["jobs": "\(cancelled.map { "\($0.kind) \($0.detail) \($0.progress)%" })"])
        }
        importLoop.stop()
        compactionLoop.stop()
        indexBuilder.stop()
        flushLoop.stop()
        // Loads run on threads of their own: the stores stay open until they have stopped.
        if !jobs.waitUntilIdle(seconds: 30) {
            logger.warning("background jobs still running at shutdown", metadata: ["jobs": "\(jobs.snapshot().map { "\($0.kind) \($0.detail)" })"])
        }
        broker.close()
        metaStore.close()
        logger.info("engine closed")
    }

    /// The background jobs running now (flushes, index builds, compactions, loads, imports, backups).
    public func backgroundJobs() -> [BackgroundJobInfo] { jobs.snapshot() }
}
