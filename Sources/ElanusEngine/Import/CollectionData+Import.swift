import Dispatch
import ElanusCore
import ElanusStorage

/// The data node's half of a bulk import: segment files written straight from the imported rows
/// (never through the WAL), then committed all at once.
///
/// Commit order, and why:
/// 1. Before the commit, each segment file is written and synced under a fresh segment id. Until
///    step 3 nothing names these files: a crash leaves orphans that the next start removes.
/// 2. Under the flush lock (no flush or compaction moves the checkpoint or the delta file) and the
///    writer lock (no write takes a timestamp), take the import's timestamp, newer than every
///    write before it, and work out on a copy of the state which older versions the imported
///    keys supersede; write the delta file with those dead rows.
/// 3. One meta-store commit: the segment records (with the import's timestamp, which the files
///    do not carry), the new delta file, and the caller's job record. The rows exist from here on.
/// 4. Publish in memory, redoing step 2's work on the current state: records that were durable
///    but not yet applied have older timestamps, so they neither hide nor kill imported rows.
extension CollectionData {
    struct ImportedSegment: Sendable {
        var segment: Segment
        var file: String
        var bytes: Int
    }

    /// Step 1 for one segment: `batches` (rows of one partition) as a flushed segment file.
    func writeImportSegment(partitionID: Int64, batches: [EntityBatch]) throws(ElanusError) -> ImportedSegment {
        let id = state.withLock { s in
            defer { s.nextSegmentID += 1 }
            return s.nextSegmentID
        }
        var segment = Segment(id: id, partitionID: partitionID, state: .flushed, createdAt: DispatchTime.now().uptimeNanoseconds)
        for batch in batches { _ = segment.append(batch, timestamp: 0, position: 0) }
        let file = SegmentFile.segmentPath(collection: collectionID, segment: id)
        let bytes = try SegmentFile.write(segment, collectionID: collectionID, to: objects, file)
        return ImportedSegment(segment: segment, file: file, bytes: bytes)
    }

    /// Steps 2 to 4. `record` gives the caller's own mutations for the same commit (the job
    /// record). Throws, having committed nothing, if the collection or a partition was dropped.
    func commitImport(_ imported: [ImportedSegment], record: () throws(ElanusError) -> [MetaMutation]) throws(ElanusError) {
        try flushLock.withLock { (dropped: inout Bool) throws(ElanusError) in
            guard !dropped else { throw ElanusError(.importFailed, "import failed: the collection was dropped during the import") }
            try writer.withLock { (_: inout Writer) throws(ElanusError) in
                let timestamp = try tso.next()
                let segments = imported.map { $0.segment.stamped(timestamp) }
                let plan = try state.withLock { (s: inout Applied) throws(ElanusError) -> (deltas: [UInt8], previous: DataState) in
                    if let gone = segments.first(where: { s.dropped.contains($0.partitionID) }) {
                        throw ElanusError(.importFailed, "import failed: partition \(gone.partitionID) was dropped during the import")
                    }
                    // The dead bits as they will be once attached, computed without copying the
                    // state (its live-key map holds every key of the collection): only the
                    // segments that lose rows are copied, to mark them.
                    var changed = Dictionary(uniqueKeysWithValues: segments.map { ($0.id, $0) })
                    for (id, rows) in attachKills(segments, in: s) {
                        guard var segment = changed[id] ?? s.segments[id] else { continue }
                        for (chunk, row) in rows { segment.markDead(chunk: chunk, row: row) }
                        changed[id] = segment
                    }
                    var flushed = s.segments.values.filter { $0.state == .flushed && changed[$0.id] == nil }
                    flushed += changed.values.filter { $0.state == .flushed }
                    return (SegmentFile.encodeDeltas(flushed.sorted { $0.id < $1.id }), s.flushed)
                }
                let sequence = (plan.previous.deltaSequence ?? 0) + 1
                let deltaFile = SegmentFile.deltaPath(collection: collectionID, sequence: sequence)
                try objects.write(deltaFile, plan.deltas)
                let newState = DataState(checkpoint: plan.previous.checkpoint, deltaFile: deltaFile, deltaSequence: sequence)
                do throws(ElanusError) {
                    var mutations: [MetaMutation] = [.put(DataKeys.state(collectionID), try Keys.encode(newState))]
                    for (entry, segment) in zip(imported, segments) {
                        // No WAL range: replay must not skip any record on account of these rows.
                        let segmentRecord = SegmentRecord(
                            id: segment.id, partitionID: segment.partitionID, rows: segment.rowCount, file: entry.file, bytes: entry.bytes,
                            firstPosition: 0, lastPosition: 0, importTimestamp: timestamp)
                        mutations.append(.put(DataKeys.segment(collectionID, segment.id), try Keys.encode(segmentRecord)))
                    }
                    try meta.commit(mutations + (try record()))
                } catch {
                    objects.remove(deltaFile)
                    throw error
                }
                state.withLock { s in
                    attach(segments, to: &s)
                    s.flushed = newState
                }
                if let old = plan.previous.deltaFile { objects.remove(old) }
            }
        }
    }

    /// The rows, by segment, that `attach(segments, to: &s)` would mark dead, without changing
    /// anything: keys that earlier rows of the same segments set are tracked on the side, so the
    /// state's live-key map is only read. Must decide exactly as `attach` does.
    func attachKills(_ segments: [Segment], in s: borrowing Applied) -> [Int64: [(chunk: Int, row: Int)]] {
        var overlay: [PrimaryKey: (location: RowLocation, timestamp: UInt64)] = [:]
        var kills: [Int64: [(chunk: Int, row: Int)]] = [:]
        for segment in segments {
            for (c, chunk) in segment.chunks.enumerated() {
                for (row, key) in chunk.batch.primaryKeys(primaryFieldID).enumerated() where chunk.isLive(row) {
                    let location = RowLocation(partitionID: segment.partitionID, segmentID: segment.id, chunk: Int32(c), row: Int32(row))
                    let old = overlay[key] ?? s.live[key].map { ($0, CollectionData.timestamp(of: $0, in: s)) }
                    if let old {
                        if old.timestamp > chunk.timestamp {
                            kills[segment.id, default: []].append((c, row))
                            continue
                        }
                        kills[old.location.segmentID, default: []].append((Int(old.location.chunk), Int(old.location.row)))
                    }
                    overlay[key] = (location, chunk.timestamp)
                }
            }
        }
        return kills
    }

    /// Makes flushed segments part of the state: each live row becomes its key's version unless
    /// a newer one is already there, and the version it replaces dies. Rows of one timestamp
    /// resolve in segment then row order, the last winning, as within one insert.
    func attach(_ segments: [Segment], to s: inout Applied) {
        for segment in segments {
            // Files written before a field was added lack its column.
            s.segments[segment.id] = segment.conformed(to: s.fields)
            for (c, chunk) in segment.chunks.enumerated() {
                for (row, key) in chunk.batch.primaryKeys(primaryFieldID).enumerated() where chunk.isLive(row) {
                    let location = RowLocation(partitionID: segment.partitionID, segmentID: segment.id, chunk: Int32(c), row: Int32(row))
                    if let old = s.live[key] {
                        if CollectionData.timestamp(of: old, in: s) > chunk.timestamp {
                            s.segments[segment.id]!.markDead(chunk: c, row: row)
                            continue
                        }
                        s.segments[old.segmentID]!.markDead(chunk: Int(old.chunk), row: Int(old.row))
                        s.liveCount[old.partitionID, default: 0] -= 1
                    }
                    s.live[key] = location
                    s.liveCount[segment.partitionID, default: 0] += 1
                }
            }
            s.nextSegmentID = max(s.nextSegmentID, segment.id + 1)
        }
    }
}
