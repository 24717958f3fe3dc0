import ElanusCore

/// One change in a meta-store commit.
public enum MetaMutation: Equatable, Sendable {
    case put(String, [UInt8])
    case delete(String)
}

/// The durable key-value store behind the catalog (Milvus keeps this in etcd).
///
/// Contract every implementation keeps:
/// - `commit` applies its mutations atomically: a reader, or a restart after any crash, sees all
///   of them or none.
/// - `commit` returns only once the mutations are durable; what it acknowledged survives SIGKILL.
/// - Reads see every commit that returned before they started.
/// - `scan` returns keys in ascending byte order.
/// - All methods may be called from any thread. After `close()`, calls throw.
public protocol MetaStore: Sendable {
    func get(_ key: String) throws(ElanusError) -> [UInt8]?
    func scan(prefix: String) throws(ElanusError) -> [(key: String, value: [UInt8])]
    func commit(_ mutations: [MetaMutation]) throws(ElanusError)
    /// A consistent copy of the store as of now in `path` (a backup); stores that cannot make
    /// one throw saying so.
    func checkpoint(to path: String) throws(ElanusError)
    func close()
}
