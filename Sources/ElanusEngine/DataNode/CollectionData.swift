import Dispatch
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
        /// Every segment, growing, sealed or flushed, by id.
        var segments: [Int64: Segment] = [:]
        /// Partition -> the id of its growing segment.
        var growing: [Int64: Int64] = [:]
        /// Primary key -> newest live version.
        var live: [PrimaryKey: RowLocation] = [:]
        /// Live rows per partition.
        var liveCount: [Int64: Int] = [:]
        /// Partitions dropped while writes to them were in flight: their rows are discarded.
        var dropped: Set<Int64> = []
        /// Flushed segments of dropped partitions whose records and files are still to remove.
        var droppedSegments: [Int64] = []
        /// Submitted records not applied yet, in position order, with their tickets.
        var pending: [(position: UInt64, record: WriteRecord, ticket: LogTicket)] = []
        /// The WAL position of the last record applied.
        var lastApplied: UInt64 = 0
        /// Partition -> the last WAL position whose rows sit in a flushed segment. Replay skips
        /// inserts at or below it: those rows were loaded from the segment files.
        var flushedThrough: [Int64: UInt64] = [:]
        var nextSegmentID: Int64 = 1
        var flushed = DataState(checkpoint: 0, deltaFile: nil)
        /// The collection's fields as the data node knows them (`adopt`): every chunk in
        /// `segments`, released ones aside, has a column for each (Segment+Schema).
        var fields: [FieldSchema] = []
    }

    struct Writer: Sendable {
        var lastTicket: LogTicket?
    }

    let collectionID: Int64
    let channel: String
    let primaryFieldID: Int64
    let policy: SegmentPolicy
    let broker: any LogBroker
    let meta: any MetaStore
    let objects: ObjectStore
    let tso: TimestampOracle
    // Lock order (DESIGN.md section 4): flushLock, then writer, then state; loadLock, then
    // state; indexGenerations is a leaf taken under any of them. A thread holding one of a
    // collection's locks never waits on another collection's lock (a backup takes every flush
    // lock, in collection-id order, and nothing else), and never holds state across I/O.

    /// Held while a record takes its timestamp and WAL position; an import commit holds it too.
    let writer = Mutex(Writer())
    let state = Mutex(Applied())
    /// Held by whoever flushes the collection (the flusher thread, `collections/flush`, a drop),
    /// so segment files, delta files and checkpoints are written by one thread at a time; every
    /// background job commits under it (`commitJob`). Its value: the collection was dropped.
    let flushLock = Mutex(false)
    /// Serializes loads and releases of the collection's partitions.
    let loadLock = Mutex(false)
    /// Field -> how many times its indexes were dropped (bumped under the flush lock).
    let indexGenerations = Mutex<[Int64: UInt64]>([:])
    /// Called (outside every lock) when a segment seals, to wake the flusher.
    let onSeal: @Sendable () -> Void

    init(
        collectionID: Int64, primaryFieldID: Int64, policy: SegmentPolicy, broker: any LogBroker, meta: any MetaStore,
        objects: ObjectStore, tso: TimestampOracle, onSeal: @escaping @Sendable () -> Void = {}
    ) {
        self.collectionID = collectionID
        self.channel = "collection-\(collectionID)"
        self.primaryFieldID = primaryFieldID
        self.policy = policy
        self.broker = broker
        self.meta = meta
        self.objects = objects
        self.tso = tso
        self.onSeal = onSeal
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
                state.withLock { $0.pending.append((ticket.position, record, ticket)) }
                w.lastTicket = ticket
            }
            return (ticket, record)
        }
        do {
            try ticket.wait()
        } catch {
            // Not durable, not acknowledged: dropped from the queue (earlier durable records are
            // applied on the way), so that nothing later applies it.
            applyDurable(upTo: ticket.position)
            throw error
        }
        applyDurable(upTo: ticket.position)
        return record
    }

    private func applyDurable(upTo position: UInt64) {
        let sealed = state.withLock { s in
            var n = 0
            var sealed = false
            while n < s.pending.count && s.pending[n].position <= position {
                // Every ticket at or below a durable position has completed (the broker completes
                // them in order), so `wait` returns at once. A failed one (a full disk) was never
                // written and never acknowledged: it is dropped, not applied.
                if (try? s.pending[n].ticket.wait()) != nil {
                    sealed = apply(s.pending[n].record, at: s.pending[n].position, to: &s) || sealed
                }
                n += 1
            }
            s.pending.removeFirst(n)
            return sealed
        }
        if sealed { onSeal() }
    }

    /// Waits until everything written so far is durable and applied.
    func waitApplied() throws(ElanusError) {
        guard let ticket = writer.withLock({ $0.lastTicket }) else { return }
        // A last write that failed was never acknowledged: there is nothing to wait for then.
        _ = try? ticket.wait()
        applyDurable(upTo: ticket.position)
    }

    // MARK: - Applying (the writer and recovery)

    /// Applies one record at its WAL position; returns whether a segment sealed.
    private func apply(_ record: WriteRecord, at position: UInt64, to s: inout Applied) -> Bool {
        for key in record.deletes {
            // A delete masks only strictly older versions: an upsert's own insert, at the same
            // timestamp, stays, and so does a replayed row that is newer than the delete.
            if let location = s.live[key], record.deletePartition == nil || record.deletePartition == location.partitionID,
                CollectionData.timestamp(of: location, in: s) < record.timestamp
            {
                kill(location, key: key, in: &s)
            }
        }
        var sealed = false
        for insert in record.inserts where !s.dropped.contains(insert.partitionID) {
            // On replay, rows already loaded from a flushed segment are not inserted twice.
            if position <= s.flushedThrough[insert.partitionID] ?? 0 { continue }
            let segmentID = growingSegment(insert.partitionID, in: &s)
            let keys = insert.batch.primaryKeys(primaryFieldID)
            // A record decoded under an older schema (written before a field was added, or
            // racing with the add) gets the added fields' default or null, like older rows.
            let batch = insert.batch.conformed(to: s.fields)
            let chunk = Int32(s.segments[segmentID]!.append(batch, timestamp: record.timestamp, position: position))
            for (row, key) in keys.enumerated() {
                let location = RowLocation(partitionID: insert.partitionID, segmentID: segmentID, chunk: chunk, row: Int32(row))
                // On replay a newer version may already be loaded from a flushed segment (an
                // upsert into another partition); the older row is then born dead.
                if let old = s.live[key], CollectionData.timestamp(of: old, in: s) > record.timestamp {
                    s.segments[segmentID]!.markDead(chunk: Int(chunk), row: row)
                    continue
                }
                if let old = s.live.updateValue(location, forKey: key) {
                    s.liveCount[old.partitionID, default: 0] -= 1
                    s.segments[old.segmentID]?.markDead(chunk: Int(old.chunk), row: Int(old.row))
                }
                s.liveCount[insert.partitionID, default: 0] += 1
            }
            let segment = s.segments[segmentID]!
            if segment.rowCount >= policy.maxRows || segment.byteSize >= policy.maxBytes {
                seal(segmentID, in: &s)
                sealed = true
            }
        }
        s.lastApplied = max(s.lastApplied, position)
        return sealed
    }

    func kill(_ location: RowLocation, key: PrimaryKey, in s: inout Applied) {
        s.live[key] = nil
        s.liveCount[location.partitionID, default: 0] -= 1
        s.segments[location.segmentID]?.markDead(chunk: Int(location.chunk), row: Int(location.row))
    }

    static func timestamp(of location: RowLocation, in s: borrowing Applied) -> UInt64 {
        s.segments[location.segmentID]?.chunks[Int(location.chunk)].timestamp ?? 0
    }

    private func growingSegment(_ partitionID: Int64, in s: inout Applied) -> Int64 {
        if let id = s.growing[partitionID] { return id }
        let id = s.nextSegmentID
        s.nextSegmentID += 1
        s.segments[id] = Segment(id: id, partitionID: partitionID, createdAt: DispatchTime.now().uptimeNanoseconds)
        s.growing[partitionID] = id
        return id
    }

    /// Freezes a growing segment: it takes no more rows, and the flusher will write it out. Its
    /// rows stay exactly where they are, so readers see no change.
    func seal(_ segmentID: Int64, in s: inout Applied) {
        guard var segment = s.segments[segmentID], segment.state == .growing else { return }
        segment.state = .sealed
        s.segments[segmentID] = segment
        s.growing[segment.partitionID] = nil
    }

    /// Seals the growing segments that are older than the policy allows (all of them when
    /// `all`); returns how many sealed.
    @discardableResult
    func sealGrowing(all: Bool) -> Int {
        let now = DispatchTime.now().uptimeNanoseconds
        let maxAge = UInt64(max(0, policy.maxAgeSeconds) * 1e9)
        return state.withLock { s in
            let due = s.growing.values.filter { id in
                guard let segment = s.segments[id], segment.rowCount > 0 else { return false }
                return all || now &- segment.createdAt >= maxAge
            }
            for id in due { seal(id, in: &s) }
            return due.count
        }
    }

    /// Loads the flushed segments (only the keys of those in `released` partitions) and their
    /// delta file, then replays the channel after the checkpoint. `progress` is called every so often with (records, rows) so far. Segments and
    /// records of partitions not in `partitions` (dropped) are skipped.
    func recover(
        partitions: Set<Int64>, released: Set<Int64>, indexPlans: [Int64: IndexPlan], warn: (String) -> Void, progress: (Int, Int) -> Void
    ) throws(ElanusError) {
        try loadFlushed(partitions: partitions, released: released, indexPlans: indexPlans, warn: warn)
        let (checkpoint, flushedThrough) = state.withLock { ($0.flushed.checkpoint, $0.flushedThrough.values.max() ?? 0) }
        // Positions must never go back: a record written at or below the checkpoint (or below a
        // partition's flushed-through position) would be skipped on apply and replay as if it
        // were already in a segment file. A head below the checkpoint means the WAL lost its tail
        // (it happened when truncation removed the table file holding the last record): the
        // records up to the checkpoint are all in segment files, so re-seeding the positions
        // past it loses nothing; say so loudly.
        let last = try broker.lastPosition(channel: channel)
        let floor = max(checkpoint, flushedThrough)
        if last < floor {
            warn("WAL channel \(channel): last position \(last) is below the flushed checkpoint \(checkpoint) (segments flushed through \(flushedThrough)); positions re-seeded to continue after \(floor)")
            try broker.reserve(channel: channel, through: floor)
        }
        var position = checkpoint + 1
        var records = 0
        var rows = 0
        while true {
            let page = try broker.read(channel: channel, from: position, limit: 64)
            if page.isEmpty { break }
            for entry in page {
                var record = try WriteRecord.decode(entry.payload, what: "WAL record \(channel)@\(entry.position)")
                record.inserts.removeAll { !partitions.contains($0.partitionID) }
                let sealed = state.withLock { apply(record, at: entry.position, to: &$0) }
                if sealed { onSeal() }
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
            for (id, segment) in s.segments where segment.partitionID == partitionID {
                s.segments[id] = nil
                if segment.state == .flushed { s.droppedSegments.append(id) }
            }
            s.growing[partitionID] = nil
            s.liveCount[partitionID] = nil
            s.live = s.live.filter { $0.value.partitionID != partitionID }
        }
    }

    /// Live rows, in all partitions or in those given.
    func liveRows(partitions: Set<Int64>? = nil) -> Int {
        state.withLock { s in
            s.liveCount.reduce(0) { total, entry in partitions == nil || partitions!.contains(entry.key) ? total + entry.value : total }
        }
    }

    /// The segments of the given partitions (all when nil), as of now: copies that later writes
    /// do not change, so a query scans them without any lock.
    func snapshot(partitions: Set<Int64>?) -> [Segment] {
        state.withLock { s in
            s.segments.values.filter { partitions == nil || partitions!.contains($0.partitionID) }.sorted { $0.id < $1.id }
        }
    }

    /// Runs `body` on the applied state under the state lock. `body` must not keep the live map:
    /// a retained copy would make the next apply copy it whole.
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
