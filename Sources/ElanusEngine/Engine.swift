import ElanusCore
import ElanusStorage
import Foundation
import Logging

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
    private let metaStore: any MetaStore
    private let logger: Logger

    /// Opens (or creates) the data directory and recovers the catalog.
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
        } catch {
            metaStore.close()
            throw error
        }
        logger.info("catalog recovered", metadata: ["databases": "\(catalog.listDatabases().count)", "dataDir": "\(root)"])
    }

    /// Closes the stores cleanly (RocksDB flushes and releases its lock).
    public func close() {
        metaStore.close()
        logger.info("engine closed")
    }
}
