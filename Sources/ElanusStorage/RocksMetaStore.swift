import ElanusCore

/// The MetaStore on RocksDB (`<data-dir>/meta`). Every commit is one WriteBatch written with
/// sync=true: catalog changes are rare, and each must survive a crash the moment it is acknowledged.
public final class RocksMetaStore: MetaStore {
    private let db: RocksDB

    public init(path: String, reserve: DiskReserve? = nil) throws(ElanusError) {
        do {
            var options = RocksDB.Options()
            options.reserve = reserve
            db = try RocksDB(path: path, options: options)
        } catch {
            throw error.asElanusError
        }
    }

    public func get(_ key: String) throws(ElanusError) -> [UInt8]? {
        do { return try db.get(Array(key.utf8)) } catch { throw error.asElanusError }
    }

    public func scan(prefix: String) throws(ElanusError) -> [(key: String, value: [UInt8])] {
        do {
            return try db.scan(prefix: Array(prefix.utf8)).map { (key: String(decoding: $0.key, as: UTF8.self), value: $0.value) }
        } catch {
            throw error.asElanusError
        }
    }

    public func commit(_ mutations: [MetaMutation]) throws(ElanusError) {
        let batch = mutations.map { mutation -> RocksDB.Mutation in
            switch mutation {
            case .put(let key, let value): .put(key: Array(key.utf8), value: value)
            case .delete(let key): .delete(key: Array(key.utf8))
            }
        }
        do { try db.write(batch, sync: true) } catch { throw error.asElanusError }
    }

    /// A consistent copy of the store as of now in `path` (see `RocksDB.checkpoint`).
    public func checkpoint(to path: String) throws(ElanusError) {
        do { try db.checkpoint(to: path) } catch { throw error.asElanusError }
    }

    public func close() { db.close() }
}
