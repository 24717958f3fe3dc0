import ElanusCore
import Foundation
import Synchronization

/// The LogBroker on RocksDB (`<data-dir>/wal`), with group commit.
///
/// Submitters only assign a position and queue the record (under a short lock); one committer
/// thread takes everything queued, writes it as a single WriteBatch with sync=true, then
/// completes every ticket in it. Writers that arrive while a sync is in progress therefore share
/// the next one: throughput grows with concurrency instead of collapsing to one fsync per write.
/// Groups are written one after another, so records become durable in position order.
///
/// If a write fails (disk full, I/O error) every ticket of that group fails and its positions
/// stay a hole: nothing was written at them, and readers scan keys, so a hole is skipped. The
/// broker goes on with the next group (the RocksDB wrapper reopens the store once the disk has
/// room again). Writers must not apply a record whose ticket failed, even when a later one
/// succeeds: `LogTicket.wait` says which.
public final class RocksLogBroker: LogBroker, @unchecked Sendable {
    private struct Pending {
        var channel: String
        var key: [UInt8]
        var value: [UInt8]
        var ticket: LogTicket
    }

    private struct State {
        var nextPosition: [String: UInt64] = [:]
        var pending: [Pending] = []
        var closed = false
    }

    private let db: RocksDB
    private let state = Mutex(State())
    /// Keys of records whose group write failed. A write can fail in its fsync after RocksDB
    /// appended the batch to its own log, and a reopen or restart would then replay records
    /// that were refused to their writers. So the next group deletes them in the same atomic
    /// batch as its own records (and `close` deletes any left): once anything later is durable,
    /// they are gone. Only the committer thread touches it.
    private nonisolated(unsafe) var refused: [[UInt8]] = []
    private let wake = DispatchSemaphore(value: 0)
    private let committerDone = DispatchSemaphore(value: 0)
    /// Number of synced WriteBatches so far (how well group commit is grouping).
    public let syncCount = Atomic<Int>(0)

    /// Failures to inject into group writes (`Faults.Operation.walSync`), for tests.
    private let faults: Faults?

    public init(path: String, reserve: DiskReserve? = nil, faults: Faults? = nil) throws(ElanusError) {
        self.faults = faults
        var options = RocksDB.Options()
        options.reserve = reserve
        do { db = try RocksDB(path: path, options: options) } catch { throw error.asElanusError }
        let thread = Thread { [self] in
            self.runCommitter()
            self.committerDone.signal()
        }
        thread.name = "elanus-wal-committer"
        thread.start()
    }

    public func submit(channel: String, payload: [UInt8]) -> LogTicket {
        // Looked up before taking the lock: it may read RocksDB.
        let known = state.withLock { $0.nextPosition[channel] }
        var firstPosition: UInt64? = nil
        if known == nil {
            do { firstPosition = try lastPosition(channel: channel) + 1 } catch { return LogTicket(failed: error) }
        }
        return state.withLock { s in
            if s.closed { return LogTicket(failed: .unexpected("log broker is closed")) }
            let position = s.nextPosition[channel] ?? firstPosition!
            s.nextPosition[channel] = position + 1
            let ticket = LogTicket(position: position)
            s.pending.append(Pending(
                channel: channel, key: LogRecordCodec.key(channel, position), value: LogRecordCodec.encodeValue(position, payload), ticket: ticket))
            if s.pending.count == 1 { wake.signal() }
            return ticket
        }
    }

    private func runCommitter() {
        while true {
            wake.wait()
            while true {
                let (group, closed) = state.withLock { s in
                    let group = s.pending
                    s.pending = []
                    return (group, s.closed)
                }
                if group.isEmpty {
                    if closed {
                        // Last chance to remove refused records before a restart could replay them.
                        if !refused.isEmpty, (try? db.write(refused.map { .delete(key: $0) }, sync: true)) != nil { refused = [] }
                        return
                    }
                    break
                }
                var error: ElanusError?
                // Each channel's head goes in the same batch as its records, so the head is never
                // behind a durable record: positions continue from it even after truncation and
                // compaction have removed every record that a lookup of the last key would find.
                var heads: [String: UInt64] = [:]
                for item in group { heads[item.channel] = max(heads[item.channel] ?? 0, item.ticket.position) }
                var mutations: [RocksDB.Mutation] = refused.map { .delete(key: $0) }
                mutations += group.map { .put(key: $0.key, value: $0.value) }
                for (channel, head) in heads {
                    mutations.append(.put(key: LogRecordCodec.headKey(channel), value: LogRecordCodec.bigEndian(head)))
                }
                do throws(RocksDBError) {
                    try injectFault(.walSync)
                    try db.write(mutations, sync: true)
                    try injectFault(.walSyncAfterAppend)
                    syncCount.add(1, ordering: .relaxed)
                    refused = []
                } catch let e {
                    error = e.asElanusError
                    refused += group.map(\.key)
                }
                for item in group { item.ticket.complete(error) }
            }
        }
    }

    public func read(channel: String, from position: UInt64, limit: Int) throws(ElanusError) -> [LogRecord] {
        let prefix = LogRecordCodec.channelPrefix(channel)
        let entries: [(key: [UInt8], value: [UInt8])]
        do {
            entries = try db.scan(prefix: prefix, from: LogRecordCodec.key(channel, max(position, 1)), limit: limit)
        } catch {
            throw error.asElanusError
        }
        var out: [LogRecord] = []
        out.reserveCapacity(entries.count)
        for entry in entries {
            guard let p = LogRecordCodec.position(fromKey: entry.key, prefixLength: prefix.count) else {
                throw .unexpected("WAL key of channel \(channel) is malformed")
            }
            out.append(LogRecord(position: p, payload: try LogRecordCodec.decodeValue(entry.value, channel: channel, position: p)))
        }
        return out
    }

    /// Throws an injected group-write failure when `faults` has one due (tests only).
    private func injectFault(_ operation: Faults.Operation) throws(RocksDBError) {
        guard let faults else { return }
        do { try faults.check(operation) } catch { throw RocksDBError(operation: "write", message: error.message) }
    }

    public func lastPosition(channel: String) throws(ElanusError) -> UInt64 {
        if let next = state.withLock({ $0.nextPosition[channel] }) { return next - 1 }
        let prefix = LogRecordCodec.channelPrefix(channel)
        do {
            // The greater of the head and the last record: a WAL written before heads existed
            // has only records; a head is never behind its records.
            let head = try db.get(LogRecordCodec.headKey(channel)).flatMap(LogRecordCodec.decodeHead) ?? 0
            guard let key = try db.lastKey(prefix: prefix) else { return head }
            return max(head, LogRecordCodec.position(fromKey: key, prefixLength: prefix.count) ?? 0)
        } catch {
            throw error.asElanusError
        }
    }

    public func truncate(channel: String, below position: UInt64) throws(ElanusError) {
        let last = try lastPosition(channel: channel)
        let cut = min(position, last)
        guard cut > 1 else { return }
        do {
            // The range deletion's end is exclusive: the record at `cut` stays.
            try db.write([.deleteRange(start: LogRecordCodec.key(channel, 0), end: LogRecordCodec.key(channel, cut))], sync: true)
            // And the table files wholly below the cut go now rather than at RocksDB's next
            // compaction. This range's end is INCLUSIVE, so it ends at `cut - 1`: ending at `cut`
            // removed a compacted file whose last key was the record at `cut`, which may be the
            // channel's last. Nothing reads below a checkpoint again, so a record that a removed
            // file's tombstone no longer hides changes nothing; the next truncation hides it.
            try db.deleteFiles(from: LogRecordCodec.key(channel, 0), through: LogRecordCodec.key(channel, cut - 1))
        } catch {
            throw error.asElanusError
        }
    }

    public func reserve(channel: String, through position: UInt64) throws(ElanusError) {
        // Looked up before taking the lock: it may read RocksDB.
        let last = try lastPosition(channel: channel)
        guard last < position else { return }
        do {
            try db.write([.put(key: LogRecordCodec.headKey(channel), value: LogRecordCodec.bigEndian(position))], sync: true)
        } catch {
            throw error.asElanusError
        }
        state.withLock { s in s.nextPosition[channel] = max(s.nextPosition[channel] ?? 0, position + 1) }
    }

    public func drop(channel: String) throws(ElanusError) {
        state.withLock { _ = $0.nextPosition.removeValue(forKey: channel) }
        do {
            try db.write([
                .deleteRange(start: LogRecordCodec.key(channel, 0), end: LogRecordCodec.key(channel, UInt64.max)),
                .delete(key: LogRecordCodec.headKey(channel)),
            ], sync: true)
        } catch {
            throw error.asElanusError
        }
    }

    /// Compacts the whole store now (tests: records move out of level 0, as after restarts).
    public func compactForTesting() throws(ElanusError) {
        do { try db.compactAll() } catch { throw error.asElanusError }
    }

    /// Lets queued records reach the disk, stops the committer and closes RocksDB.
    /// A consistent copy of the store as of now in `path` (see `RocksDB.checkpoint`).
    public func checkpoint(to path: String) throws(ElanusError) {
        do { try db.checkpoint(to: path) } catch { throw error.asElanusError }
    }

    public func close() {
        let first = state.withLock { s in
            defer { s.closed = true }
            return !s.closed
        }
        guard first else { return }
        wake.signal()
        committerDone.wait()
        db.close()
    }

    /// For tests that prove corruption is detected: writes raw bytes under a record's key.
    public func overwriteRawValueForTesting(channel: String, position: UInt64, value: [UInt8]) throws {
        try db.write([.put(key: LogRecordCodec.key(channel, position), value: value)], sync: true)
    }
}
