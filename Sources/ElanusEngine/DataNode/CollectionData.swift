import ElanusCore
import ElanusStorage
import Synchronization

/// The data node's state for one collection: its WAL channel, its growing segments, the primary
/// key index, and the single writer that orders every change.
///
/// Write protocol (DESIGN.md section 2), and why each step is where it is:
/// 1. Under the writer lock: take a timestamp, build the record, submit it to the log broker and
///    queue it for applying. Holding one lock across all three makes WAL positions, timestamps and
///    the apply queue follow the same order.
/// 2. Outside the lock: wait until the record is durable. Concurrent writers wait together, so
///    the broker's group commit can give them one fsync.
/// 3. Apply every queued record up to our own position. Records become durable in position order,
///    so all of them are durable too; whichever writer wakes first applies them all, in order.
///    A write is acknowledged only after this, so a Strong read that follows sees it.
/// Recovery replays the channel through the same `apply`, so it rebuilds the same state.
final class CollectionData: Sendable {
    struct Applied: Sendable {
        var segments: [Int64: GrowingSegment] = [:]
        /// Primary key -> newest live version.
        var live: [PrimaryKey: RowLocation] = [:]
        /// Live rows per partition.
        var liveCount: [Int64: Int] = [:]
        var deletes: [DeleteRecord] = []
        /// Partitions dropped while writes to them were in flight: their rows are discarded.
        var dropped: Set<Int64> = []
        /// Durable records not applied yet, in position order.
        var pending: [(position: UInt64, record: WriteRecord)] = []
    }

    struct Writer: Sendable {
        var lastTicket: LogTicket?
    }

    let collectionID: Int64
    let channel: String
    let primaryFieldID: Int64
    private let broker: any LogBroker
    private let tso: TimestampOracle
    private let writer = Mutex(Writer())
    private let state = Mutex(Applied())

    init(collectionID: Int64, primaryFieldID: Int64, broker: any LogBroker, tso: TimestampOracle) {
        self.collectionID = collectionID
        self.channel = "collection-\(collectionID)"
        self.primaryFieldID = primaryFieldID
        self.broker = broker
        self.tso = tso
    }

    // MARK: - Writing

    /// Runs the write protocol for the record `build` makes from the timestamp; returns the record
    /// once it is durable and applied. `build` runs under the writer lock and may read the state
    /// with `read`.
    func write(_ build: (UInt64) throws(ElanusError) -> WriteRecord) throws(ElanusError) -> WriteRecord {
        let (ticket, record) = try writer.withLock { w throws(ElanusError) -> (LogTicket, WriteRecord) in
            let timestamp = try tso.next()
            let record = try build(timestamp)
            let ticket = broker.submit(channel: channel, payload: record.encoded())
            // Position 0 is a ticket that failed at once; it has nothing to apply.
            if ticket.position > 0 {
                state.withLock { $0.pending.append((ticket.position, record)) }
                w.lastTicket = ticket
            }
            return (ticket, record)
        }
        try ticket.wait()
        applyDurable(upTo: ticket.position)
        return record
    }

    private func applyDurable(upTo position: UInt64) {
        state.withLock { s in
            var n = 0
            while n < s.pending.count && s.pending[n].position <= position {
                apply(s.pending[n].record, to: &s)
                n += 1
            }
            s.pending.removeFirst(n)
        }
    }

    /// Waits until everything written so far is durable and applied.
    func flush() throws(ElanusError) {
        guard let ticket = writer.withLock({ $0.lastTicket }) else { return }
        try ticket.wait()
        applyDurable(upTo: ticket.position)
    }

    // MARK: - Applying (the writer and recovery)

    private func apply(_ record: WriteRecord, to s: inout Applied) {
        for key in record.deletes {
            if let location = s.live[key], record.deletePartition == nil || record.deletePartition == location.partitionID {
                s.live[key] = nil
                s.liveCount[location.partitionID, default: 0] -= 1
                s.segments[location.partitionID]?.markDead(chunk: Int(location.chunk), row: Int(location.row))
            }
            s.deletes.append(DeleteRecord(key: key, timestamp: record.timestamp, partitionID: record.deletePartition))
        }
        for insert in record.inserts where !s.dropped.contains(insert.partitionID) {
            let keys = insert.batch.primaryKeys(primaryFieldID)
            var segment = s.segments.removeValue(forKey: insert.partitionID) ?? GrowingSegment(partitionID: insert.partitionID)
            let chunk = Int32(segment.append(insert.batch, timestamp: record.timestamp))
            s.segments[insert.partitionID] = segment
            for (row, key) in keys.enumerated() {
                let location = RowLocation(partitionID: insert.partitionID, chunk: chunk, row: Int32(row))
                if let old = s.live.updateValue(location, forKey: key) {
                    s.liveCount[old.partitionID, default: 0] -= 1
                    s.segments[old.partitionID]?.markDead(chunk: Int(old.chunk), row: Int(old.row))
                }
                s.liveCount[insert.partitionID, default: 0] += 1
            }
        }
    }

    /// Replays the channel from its start; `progress` is called every so often with
    /// (records, rows) so far. Partitions not in `partitions` (dropped) are skipped.
    func recover(partitions: Set<Int64>, progress: (Int, Int) -> Void) throws(ElanusError) {
        var position: UInt64 = 1
        var records = 0
        var rows = 0
        while true {
            let page = try broker.read(channel: channel, from: position, limit: 64)
            if page.isEmpty { break }
            for entry in page {
                var record = try WriteRecord.decode(entry.payload, what: "WAL record \(channel)@\(entry.position)")
                record.inserts.removeAll { !partitions.contains($0.partitionID) }
                state.withLock { apply(record, to: &$0) }
                records += 1
                rows += record.insertedRows
                position = entry.position + 1
            }
            progress(records, rows)
        }
    }

    // MARK: - Partitions and reading

    func dropPartition(_ partitionID: Int64) {
        state.withLock { s in
            s.dropped.insert(partitionID)
            s.segments[partitionID] = nil
            s.liveCount[partitionID] = nil
            s.live = s.live.filter { $0.value.partitionID != partitionID }
        }
    }

    /// Removes the collection's log (the collection was dropped).
    func dropLog() throws(ElanusError) {
        try broker.drop(channel: channel)
    }

    /// Live rows, in all partitions or in those given.
    func liveRows(partitions: Set<Int64>? = nil) -> Int {
        state.withLock { s in
            s.liveCount.reduce(0) { total, entry in partitions == nil || partitions!.contains(entry.key) ? total + entry.value : total }
        }
    }

    /// The growing segments of the given partitions (all when nil), as of now: copies that later
    /// writes do not change, so a query scans them without any lock.
    func snapshot(partitions: Set<Int64>?) -> [GrowingSegment] {
        state.withLock { s in
            s.segments.values.filter { partitions == nil || partitions!.contains($0.partitionID) }.sorted { $0.partitionID < $1.partitionID }
        }
    }

    /// Runs `body` on the applied state under the state lock. `body` must not keep the live map
    /// or the delete log: a retained copy would make the next apply copy them whole.
    func read<T>(_ body: (borrowing Applied) -> T) -> T { state.withLock { body($0) } }
}

extension EntityBatch {
    func primaryKeys(_ fieldID: Int64) -> [PrimaryKey] {
        guard let column = column(fieldID) else { return [] }
        switch column.values {
        case .int64(let a): return a.map { .int($0) }
        case .string(let a): return a.map { .string($0) }
        default: return []
        }
    }
}
