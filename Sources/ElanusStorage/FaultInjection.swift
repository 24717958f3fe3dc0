import ElanusCore
import Synchronization

/// Storage failures on command, for tests and drills: a log broker and a meta store that wrap
/// real ones and fail the operations they are told to, as a full disk, a failing fsync or an I/O
/// error would. Nothing is faked: whatever is not failed goes to the wrapped store.
///
/// A failed WAL submission fails its ticket (the record is never durable, so the writer must
/// not acknowledge or apply it); a failed meta commit applies none of its mutations.
public final class Faults: Sendable {
    public enum Operation: Sendable, Hashable {
        /// A submission refused at once (no position handed out).
        case walSubmit
        /// The RocksDB WAL's group write failing after positions were handed out, as a failing
        /// fsync does: its records become a hole (checked by `RocksLogBroker` itself).
        case walSync
        /// The same, but after RocksDB has written the batch: the fsync failed, the records are
        /// in its log, and the writers were told the write failed.
        case walSyncAfterAppend
        case walTruncate, metaCommit
        /// Creating or writing an object-store file (a segment, delta or index file).
        case objectWrite
    }

    private let armed = Mutex<[Operation: (skip: Int, count: Int)]>([:])

    public init() {}

    /// The next `count` calls of `operation`, after `skip` that pass, fail.
    public func fail(_ operation: Operation, count: Int = 1, after skip: Int = 0) {
        armed.withLock { $0[operation] = (skip, count) }
    }

    public func heal() { armed.withLock { $0 = [:] } }

    /// Throws the injected failure when one is due for `operation`.
    func check(_ operation: Operation) throws(ElanusError) {
        let due = armed.withLock { a -> Bool in
            guard var entry = a[operation], entry.count > 0 else { return false }
            if entry.skip > 0 {
                entry.skip -= 1
                a[operation] = entry
                return false
            }
            entry.count -= 1
            a[operation] = entry.count > 0 ? entry : nil
            return true
        }
        if due { throw ElanusError.unexpected("injected fault: \(operation) failed (as an fsync or I/O error would)") }
    }
}

/// A LogBroker whose operations fail on command (see `Faults`).
public final class FaultyLogBroker: LogBroker {
    public let wrapped: any LogBroker
    public let faults: Faults

    public init(_ wrapped: any LogBroker, faults: Faults) {
        self.wrapped = wrapped
        self.faults = faults
    }

    public func submit(channel: String, payload: [UInt8]) -> LogTicket {
        do { try faults.check(.walSubmit) } catch { return LogTicket(failed: error) }
        return wrapped.submit(channel: channel, payload: payload)
    }

    public func read(channel: String, from position: UInt64, limit: Int) throws(ElanusError) -> [LogRecord] {
        try wrapped.read(channel: channel, from: position, limit: limit)
    }

    public func lastPosition(channel: String) throws(ElanusError) -> UInt64 { try wrapped.lastPosition(channel: channel) }

    public func truncate(channel: String, below position: UInt64) throws(ElanusError) {
        try faults.check(.walTruncate)
        try wrapped.truncate(channel: channel, below: position)
    }

    public func reserve(channel: String, through position: UInt64) throws(ElanusError) { try wrapped.reserve(channel: channel, through: position) }
    public func drop(channel: String) throws(ElanusError) { try wrapped.drop(channel: channel) }
    public func checkpoint(to path: String) throws(ElanusError) { try wrapped.checkpoint(to: path) }
    public func close() { wrapped.close() }
}

/// A MetaStore whose commits fail on command (see `Faults`).
public final class FaultyMetaStore: MetaStore {
    public let wrapped: any MetaStore
    public let faults: Faults

    public init(_ wrapped: any MetaStore, faults: Faults) {
        self.wrapped = wrapped
        self.faults = faults
    }

    public func get(_ key: String) throws(ElanusError) -> [UInt8]? { try wrapped.get(key) }
    public func scan(prefix: String) throws(ElanusError) -> [(key: String, value: [UInt8])] { try wrapped.scan(prefix: prefix) }

    public func commit(_ mutations: [MetaMutation]) throws(ElanusError) {
        try faults.check(.metaCommit)
        try wrapped.commit(mutations)
    }

    public func checkpoint(to path: String) throws(ElanusError) { try wrapped.checkpoint(to: path) }
    public func close() { wrapped.close() }
}
