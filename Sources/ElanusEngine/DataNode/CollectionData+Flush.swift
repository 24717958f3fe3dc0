import Dispatch
import ElanusCore
import ElanusStorage

/// Flushing and loading sealed segments: the data node's half of the segment lifecycle.
///
/// Flush order, and why (each step makes the next one safe):
/// 1. Write the segment file (temporary name, fsync, rename, fsync of the directory).
/// 2. Write a new delta file with every flushed segment's dead-row bitmap.
/// 3. Commit to the meta store, in one commit: the segment record, the new checkpoint and the
///    new delta file's name. Until this commit a crash leaves only orphan files, which the next
///    start removes; the WAL still holds every row.
/// 4. Mark the segment flushed in memory (readers see the same rows as before).
/// 5. Truncate the WAL below the checkpoint, and only now remove the old delta file: nothing
///    the committed state names is ever removed.
extension CollectionData {
    /// Writes every sealed segment out, oldest first, each with its own checkpoint commit, and
    /// forgets the records of segments whose partition was dropped. Returns how many segments it
    /// flushed.
    @discardableResult
    func flushSealed() throws(ElanusError) -> Int {
        try flushLock.withLock { (dropped: inout Bool) throws(ElanusError) -> Int in
            guard !dropped else { return 0 }
            var flushed = 0
            while let segment = state.withLock({ s in s.segments.values.filter { $0.state == .sealed }.min { $0.id < $1.id } }) {
                let file = SegmentFile.segmentPath(collection: collectionID, segment: segment.id)
                let bytes = try SegmentFile.write(segment, collectionID: collectionID, to: objects, file)
                try commitCheckpoint(flushing: segment, file: file, bytes: bytes)
                flushed += 1
            }
            if state.withLock({ !$0.droppedSegments.isEmpty }) { try commitCheckpoint(flushing: nil, file: nil, bytes: 0) }
            return flushed
        }
    }

    /// Steps 2 to 5 of the flush order. The caller holds `flushLock`.
    private func commitCheckpoint(flushing: Segment?, file: String?, bytes: Int) throws(ElanusError) {
        let plan = state.withLock { s in
            // The checkpoint may pass every record whose rows are flushed (or being flushed now),
            // and must stop before the first record with rows that exist only in the WAL.
            var checkpoint = s.lastApplied
            for segment in s.segments.values where segment.state != .flushed && segment.id != flushing?.id {
                if let first = segment.firstPosition { checkpoint = min(checkpoint, first - 1) }
            }
            checkpoint = max(checkpoint, s.flushed.checkpoint)
            // A partition dropped while its segment was being written: the file is not recorded.
            let stillWanted = flushing.map { s.segments[$0.id] != nil } ?? false
            // The dead bits are as of now, which may include deletes after the checkpoint; those
            // are replayed again on recovery, and applying a delete twice changes nothing.
            let withDeltas = s.segments.values.filter { $0.state == .flushed || ($0.id == flushing?.id && stillWanted) }.sorted { $0.id < $1.id }
            return (checkpoint: checkpoint, deltas: SegmentFile.encodeDeltas(withDeltas), removed: s.droppedSegments,
                    previous: s.flushed, stillWanted: stillWanted)
        }
        let sequence = (plan.previous.deltaSequence ?? 0) + 1
        let deltaFile = SegmentFile.deltaPath(collection: collectionID, sequence: sequence)
        try objects.write(deltaFile, plan.deltas)
        let newState = DataState(checkpoint: plan.checkpoint, deltaFile: deltaFile, deltaSequence: sequence)
        var mutations: [MetaMutation] = [.put(DataKeys.state(collectionID), try Keys.encode(newState))]
        if let flushing, let file, plan.stillWanted {
            let record = SegmentRecord(
                id: flushing.id, partitionID: flushing.partitionID, rows: flushing.rowCount, file: file, bytes: bytes,
                firstPosition: flushing.firstPosition ?? 0, lastPosition: flushing.lastPosition ?? 0)
            mutations.append(.put(DataKeys.segment(collectionID, flushing.id), try Keys.encode(record)))
        }
        for id in plan.removed { mutations.append(.delete(DataKeys.segment(collectionID, id))) }
        try meta.commit(mutations)

        state.withLock { s in
            if let flushing, plan.stillWanted, s.segments[flushing.id] != nil {
                s.segments[flushing.id]!.state = .flushed
                s.flushedThrough[flushing.partitionID] = max(s.flushedThrough[flushing.partitionID] ?? 0, flushing.lastPosition ?? 0)
            }
            s.flushed = newState
            s.droppedSegments.removeAll { plan.removed.contains($0) }
        }
        // Only after the commit: the log below the checkpoint and the files nothing names now.
        try broker.truncate(channel: channel, below: plan.checkpoint + 1)
        if let old = plan.previous.deltaFile, old != deltaFile { objects.remove(old) }
        for id in plan.removed { removeSegmentFiles(id) }
        if let flushing, !plan.stillWanted { objects.remove(SegmentFile.segmentPath(collection: collectionID, segment: flushing.id)) }
    }

    /// Recovery, first half: the flushed segments named by the meta store, their dead rows from
    /// the delta file, and the live-key index built from them. A missing or damaged file stops
    /// the start with an error naming it: its rows are no longer in the WAL.
    /// Index files load here too; one that is damaged or missing is reported through `warn` and
    /// left for the index node to rebuild from the segment's vectors.
    func loadFlushed(partitions: Set<Int64>, released: Set<Int64>, indexPlans: [Int64: IndexPlan], warn: (String) -> Void) throws(ElanusError) {
        guard let stateBytes = try meta.get(DataKeys.state(collectionID)) else {
            removeOrphans(keeping: [])
            return
        }
        let dataState: DataState = try Keys.decode(stateBytes)
        var segments: [Segment] = []
        var records: [SegmentRecord] = []
        var stale: [Int64] = []
        let now = DispatchTime.now().uptimeNanoseconds
        for (_, value) in try meta.scan(prefix: DataKeys.segmentPrefix(collectionID)) {
            let record: SegmentRecord = try Keys.decode(value)
            guard partitions.contains(record.partitionID) else {
                stale.append(record.id)
                continue
            }
            segments.append(try readSegment(record, indexPlans: indexPlans, createdAt: now, keysOnly: released.contains(record.partitionID), warn: warn))
            records.append(record)
        }
        if let deltaFile = dataState.deltaFile {
            let deltas = try SegmentFile.decodeDeltas(try objects.read(deltaFile), name: objects.path(deltaFile))
            for i in segments.indices { if let bitmaps = deltas[segments[i].id] { segments[i].setDead(bitmaps) } }
        }
        state.withLock { s in
            // The delta file already holds every superseded version; should two live versions
            // meet anyway, the newer one wins, as it did when written.
            attach(segments, to: &s)
            // The records' WAL ranges, not the chunks': a compacted segment no longer holds the
            // chunks whose rows were all dead, and replay must skip those inserts too.
            for record in records {
                s.flushedThrough[record.partitionID] = max(s.flushedThrough[record.partitionID] ?? 0, record.lastPosition)
            }
            s.flushed = dataState
            s.lastApplied = dataState.checkpoint
            s.droppedSegments = stale
        }
        let indexFiles = segments.flatMap { segment in segment.indexedFields.map { CollectionData.indexPath(collection: collectionID, segment: segment.id, field: $0) } }
        removeOrphans(keeping: Set(records.map(\.file) + indexFiles + stale.map { SegmentFile.segmentPath(collection: collectionID, segment: $0) } + [dataState.deltaFile].compactMap { $0 }))
    }

    /// One flushed segment from its file, with the index files its record names. A damaged or
    /// missing index is reported through `warn` and left for the index node to rebuild. With
    /// `keysOnly` (a released partition) only the primary keys are read and the segment comes
    /// back released, its index files left on disk for the next load.
    func readSegment(
        _ record: SegmentRecord, indexPlans: [Int64: IndexPlan], createdAt: UInt64, keysOnly: Bool = false, warn: (String) -> Void
    ) throws(ElanusError) -> Segment {
        // Index files first: a vector field whose index keeps the raw vectors borrows them, so
        // the segment's copy is never read into memory.
        var indexes: [Int64: any SegmentIndex] = [:]
        for (fieldText, file) in keysOnly ? [:] : record.indexes ?? [:] {
            guard let fieldID = Int64(fieldText), let plan = indexPlans[fieldID] else { continue }
            do {
                indexes[fieldID] = try IndexFile.read(path: objects.path(file), plan: plan, segmentID: record.id, fieldID: fieldID, expectRows: record.rows)
            } catch {
                warn("\(error.message); the index will be rebuilt from the segment's vectors")
            }
        }
        let path = objects.path(record.file)
        var segment = try SegmentFile.read(
            path: path, createdAt: createdAt, borrowing: indexes.compactMapValues { ($0 as? FaissIndex)?.rawVectors },
            only: keysOnly ? [primaryFieldID] : nil)
        if let timestamp = record.importTimestamp { segment = segment.stamped(timestamp) }
        guard segment.id == record.id, segment.partitionID == record.partitionID else {
            throw .unexpected("\(path) holds segment \(segment.id), the meta store expects \(record.id)")
        }
        if keysOnly {
            let indexed = Set((record.indexes ?? [:]).keys.compactMap { Int64($0) }.filter { indexPlans[$0] != nil })
            return segment.releasing(keep: primaryFieldID, indexedFields: indexed)
        }
        segment.indexes = indexes
        return segment
    }

    /// Removes files of this collection that no committed record names: leftovers of a flush
    /// that crashed before its commit, or of a delta file replaced just before a crash.
    private func removeOrphans(keeping: Set<String>) {
        for name in objects.list("\(collectionID)") {
            let file = "\(collectionID)/\(name)"
            if !keeping.contains(file) { objects.remove(file) }
        }
    }

    /// Removes everything the collection has in the meta store and the object store (it was
    /// dropped). Holds the flush lock so no flush writes a file afterwards. Index builds and
    /// compactions write their files before taking the lock, so one in flight can recreate the
    /// directory after this; each checks for the drop under the lock once its files are written
    /// and then calls `removeFilesAfterDrop`.
    func dropData() throws(ElanusError) {
        try flushLock.withLock { (dropped: inout Bool) throws(ElanusError) in
            dropped = true
            let keys = try meta.scan(prefix: DataKeys.prefix(collectionID)).map { MetaMutation.delete($0.key) }
            if !keys.isEmpty { try meta.commit(keys) }
            objects.removeTree("\(collectionID)")
        }
    }

    /// Removes the dropped collection's directory again, with whatever a writer that finished
    /// after the drop put there. Called under the flush lock with the dropped flag set.
    func removeFilesAfterDrop() {
        objects.removeTree("\(collectionID)")
    }

    /// The one way a background job (index build, compaction) commits what it prepared outside
    /// the locks: under the flush lock, and only if it is still wanted there. If the collection
    /// was dropped meanwhile, its directory is removed again (with the job's files) and nothing
    /// commits; if `stillValid` (the job's re-validation against what it was planned on: not
    /// cancelled, the same index generation and plan, its sources still there) says no, nothing
    /// commits. Returns nil in both cases, else `body`'s result.
    func commitJob<T>(stillValid: () -> Bool, _ body: () throws(ElanusError) -> T) throws(ElanusError) -> T? {
        try flushLock.withLock { (dropped: inout Bool) throws(ElanusError) -> T? in
            if dropped {
                removeFilesAfterDrop()
                return nil
            }
            guard stillValid() else { return nil }
            return try body()
        }
    }
}
