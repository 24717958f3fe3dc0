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
        public init(dataDirectory: String) { self.dataDirectory = dataDirectory }
    }

    public let configuration: Configuration
    public let catalog: Catalog
    let tso: TimestampOracle
    private let metaStore: any MetaStore
    private let broker: any LogBroker
    private let collections = Mutex<[Int64: CollectionData]>([:])
    private let logger: Logger

    /// Opens (or creates) the data directory, recovers the catalog and replays every collection's
    /// write-ahead log into growing segments. When this returns, every acknowledged write is
    /// visible again.
    public init(configuration: Configuration, logger: Logger = Logger(label: "elanus.engine")) throws(ElanusError) {
        self.configuration = configuration
        self.logger = logger
        let root = configuration.dataDirectory
        do {
            for sub in ["", "meta", "wal", "objects"] {
                try FileManager.default.createDirectory(atPath: root + "/" + sub, withIntermediateDirectories: true)
            }
        } catch {
            throw .unexpected("cannot create data directory \(root): \(error.localizedDescription)")
        }
        metaStore = try RocksMetaStore(path: root + "/meta")
        do {
            catalog = try Catalog(store: metaStore, limits: configuration.limits)
            tso = try TimestampOracle(store: metaStore)
        } catch {
            metaStore.close()
            throw error
        }
        do {
            broker = try RocksLogBroker(path: root + "/wal")
        } catch {
            metaStore.close()
            throw error
        }
        logger.info("catalog recovered", metadata: ["databases": "\(catalog.listDatabases().count)", "dataDir": "\(root)"])
        do {
            try recover()
        } catch {
            broker.close()
            metaStore.close()
            throw error
        }
    }

    /// Replays each collection's channel. Progress is logged every few seconds for large logs.
    private func recover() throws(ElanusError) {
        let start = Date()
        var totalRows = 0
        for info in catalog.allCollections() {
            guard let data = try? data(for: info) else { continue }
            var lastLog = Date()
            var replayed = (records: 0, rows: 0)
            try data.recover(partitions: Set(info.partitions.map(\.id))) { records, rows in
                replayed = (records, rows)
                if Date().timeIntervalSince(lastLog) >= 2 {
                    lastLog = Date()
                    logger.info("replaying the write-ahead log", metadata: ["collection": "\(info.name)", "records": "\(records)", "rows": "\(rows)"])
                }
            }
            totalRows += replayed.rows
            if replayed.records > 0 {
                logger.info(
                    "collection recovered",
                    metadata: ["collection": "\(info.name)", "records": "\(replayed.records)", "rows": "\(replayed.rows)", "liveEntities": "\(data.liveRows())"])
            }
        }
        logger.info("write-ahead log replayed", metadata: ["rows": "\(totalRows)", "seconds": "\(String(format: "%.2f", Date().timeIntervalSince(start)))"])
    }

    /// The data node state of a collection, created on first use.
    func data(for info: CollectionInfo) throws(ElanusError) -> CollectionData {
        let primary = try primaryField(info)
        return collections.withLock { map in
            if let existing = map[info.id] { return existing }
            let data = CollectionData(collectionID: info.id, primaryFieldID: primary.fieldID, broker: broker, tso: tso)
            map[info.id] = data
            return data
        }
    }

    /// Drops a collection: the catalog entry first (so no new write can find it), then its data
    /// and its log. A crash in between leaves an orphaned log under an ID that is never reused.
    public func dropCollection(database: String, name: String) throws(ElanusError) {
        guard let info = try catalog.dropCollection(database: database, name: name) else { return }
        let data = collections.withLock { $0.removeValue(forKey: info.id) }
        try (data ?? CollectionData(collectionID: info.id, primaryFieldID: 0, broker: broker, tso: tso)).dropLog()
    }

    /// Drops a partition and its rows. Its records stay in the log until compaction truncates
    /// it; replay skips partitions the catalog no longer has.
    public func dropPartition(database: String, collection: String, name: String) throws(ElanusError) {
        let info = try catalog.collection(database: database, name: collection)
        guard let id = try catalog.dropPartition(database: database, collection: collection, name: name) else { return }
        try data(for: info).dropPartition(id)
    }

    /// Closes the stores cleanly (the WAL finishes its queued group, RocksDB releases its locks).
    public func close() {
        broker.close()
        metaStore.close()
        logger.info("engine closed")
    }
}
