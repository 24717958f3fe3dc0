import ElanusCore
import Synchronization

/// A MetaStore in memory: the reference implementation the conformance suite also runs against,
/// and a fast store for tests that do not restart. Nothing survives the process.
public final class MemoryMetaStore: MetaStore {
    private struct State {
        var entries: [String: [UInt8]] = [:]
        var closed = false
    }

    private let state = Mutex(State())

    public init() {}

    /// A new, open store holding the same entries, as a restart finds them (the engine closes
    /// the store it was given when it closes).
    public func reopened() -> MemoryMetaStore {
        let store = MemoryMetaStore()
        let entries = state.withLock { $0.entries }
        store.state.withLock { $0.entries = entries }
        return store
    }

    private func checkOpen(_ s: State) throws(ElanusError) {
        if s.closed { throw ElanusError.unexpected("meta store is closed") }
    }

    public func get(_ key: String) throws(ElanusError) -> [UInt8]? {
        try state.withLock { s throws(ElanusError) in
            try checkOpen(s)
            return s.entries[key]
        }
    }

    public func scan(prefix: String) throws(ElanusError) -> [(key: String, value: [UInt8])] {
        try state.withLock { s throws(ElanusError) in
            try checkOpen(s)
            return s.entries.filter { $0.key.utf8.starts(with: prefix.utf8) }
                .sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
                .map { (key: $0.key, value: $0.value) }
        }
    }

    public func commit(_ mutations: [MetaMutation]) throws(ElanusError) {
        try state.withLock { s throws(ElanusError) in
            try checkOpen(s)
            for mutation in mutations {
                switch mutation {
                case .put(let key, let value): s.entries[key] = value
                case .delete(let key): s.entries[key] = nil
                }
            }
        }
    }

    public func checkpoint(to path: String) throws(ElanusError) {
        throw ElanusError(.unimplemented, "service unimplemented: a backup needs the RocksDB meta store, not the in-memory one")
    }

    public func close() { state.withLock { $0.closed = true } }
}
