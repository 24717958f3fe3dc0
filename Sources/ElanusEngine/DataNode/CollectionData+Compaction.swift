import Dispatch
import ElanusCore
import ElanusStorage

/// Compaction and expiry: the data node's half of keeping flushed segments tidy.
///
/// A compaction rewrites some flushed segments of one partition as one new segment holding only
/// their live rows, chunk by chunk (each chunk keeps its timestamp and WAL position, so deletes,
/// upserts and replay treat the rows exactly as before). Order, and why:
/// 1. Copy the source segments (a snapshot; the rows never change, only dead bits may grow).
/// 2. Without any lock: merge the live rows, write the new segment file, build its indexes and
///    write their files. A crash here leaves orphan files that the next start removes.
/// 3. Under the flush lock, so no flush or index commit interleaves: write a delta file with the
///    new segment's dead bits as of now, then commit in one meta-store commit the new segment's
///    record, the removal of the sources' records and the new delta file. The checkpoint does not
///    move: a row that dies after the dead bits were taken dies again when its delete (or
///    upsert) is replayed from the WAL.
/// 4. Swap in memory: the sources go, the new segment comes, rows killed since step 3 are killed
///    in it too, and the live-key index points at the new rows.
/// 5. Only now remove the sources' files and the old delta file: nothing committed names them.
extension CollectionData {
    /// One compaction: flushed segments of one partition to merge into one.
    struct CompactionPlan: Sendable, Equatable {
        var partitionID: Int64
        var sources: [Int64]
    }

    /// Where a chunk of a compacted segment came from: a source segment's chunk, and which of
    /// its rows (the live ones, in order) were copied.
    struct ChunkOrigin: Sendable {
        var segment: Int64
        var chunk: Int
        var rows: [Int]
    }

    /// A compaction's new segment, written but not yet committed.
    struct CompactedSegment: Sendable {
        var segment: Segment
        var origins: [ChunkOrigin]
        var sources: Set<Int64>
        var file: String
        var bytes: Int
        /// Index files written for it, by field id (as a string).
        var indexFiles: [String: String]
    }

    struct CompactionOutcome: Sendable {
        var rowsBefore: Int
        var rowsAfter: Int
        /// The new segment, or nil when every source row was dead.
        var segmentID: Int64?
    }

    /// Kills every live row inserted before `cutoff` (a hybrid timestamp): the collection's TTL.
    /// Expiry is a function of the timestamp alone, so a restart that replays or reloads an
    /// expired row kills it again at the next round. Returns how many rows expired.
    @discardableResult
    func expire(before cutoff: UInt64) -> Int {
        state.withLock { s in
            var expired: [(PrimaryKey, RowLocation)] = []
            for segment in s.segments.values {
                for (c, chunk) in segment.chunks.enumerated() where chunk.timestamp < cutoff && chunk.hasLiveRows {
                    for (row, key) in chunk.batch.primaryKeys(primaryFieldID).enumerated() where chunk.isLive(row) {
                        expired.append((key, RowLocation(partitionID: segment.partitionID, segmentID: segment.id, chunk: Int32(c), row: Int32(row))))
                    }
                }
            }
            for (key, location) in expired { kill(location, key: key, in: &s) }
            return expired.count
        }
    }

    /// The compactions worth doing now, per partition, oldest segments first. A segment is
    /// rewritten when at least `deleteRatio` of its rows are dead (any dead row when `manual`);
    /// segments with fewer than half the seal policy's rows are merged, greedily up to that
    /// many live rows, once `minSmallSegments` of them sit in a partition (any two when `manual`).
    func compactionPlans(deleteRatio: Double, minSmallSegments: Int, manual: Bool) -> [CompactionPlan] {
        read { s in
            var byPartition: [Int64: [(id: Int64, rows: Int, live: Int)]] = [:]
            // Released segments hold only their keys: they are compacted once loaded again.
            for segment in s.segments.values where segment.state == .flushed && !segment.released {
                byPartition[segment.partitionID, default: []].append((segment.id, segment.rowCount, segment.liveRowCount))
            }
            var plans: [CompactionPlan] = []
            for (partitionID, segments) in byPartition.sorted(by: { $0.key < $1.key }) {
                let small = max(1, policy.maxRows / 2)
                let dirty: ((rows: Int, live: Int)) -> Bool = { segment in
                    let dead = segment.rows - segment.live
                    return manual ? dead > 0 : dead > 0 && Double(dead) >= deleteRatio * Double(segment.rows)
                }
                let smallCount = segments.filter { $0.live < small }.count
                let merge = smallCount >= (manual ? 2 : max(2, minSmallSegments))
                let eligible = segments.filter { dirty(($0.rows, $0.live)) || (merge && $0.live < small) }.sorted { $0.id < $1.id }
                var group: [(id: Int64, rows: Int, live: Int)] = []
                func close() {
                    if group.count >= 2 || group.contains(where: { dirty(($0.rows, $0.live)) }) {
                        plans.append(CompactionPlan(partitionID: partitionID, sources: group.map(\.id)))
                    }
                    group = []
                }
                for segment in eligible {
                    if !group.isEmpty && (!merge || group.reduce(0, { $0 + $1.live }) + segment.live > policy.maxRows) { close() }
                    group.append(segment)
                }
                close()
            }
            return plans
        }
    }

    /// Runs one compaction (steps in the type comment). `indexes` are the vector indexes to build
    /// for the new segment; `currentPlans` says, at commit time, the plan each indexed field has
    /// now: an index is kept only under the plan it was built for, and only if the field's
    /// indexes were not dropped meanwhile.
    /// Returns nil when the plan no longer applies (a source was dropped or compacted already).
    func compact(
        _ plan: CompactionPlan, indexes: [IndexBuilder.Job], threads: Int, minIndexRows: (IndexPlan) -> Int,
        currentPlans: () -> [Int64: IndexPlan], cancelled: @escaping () -> Bool = { false }
    ) throws(ElanusError) -> CompactionOutcome? {
        let generations = Dictionary(uniqueKeysWithValues: indexes.map { ($0.key, indexGeneration($0.key)) })
        // Step 1. The new segment's id is taken now, so no other segment can get it.
        guard let (sources, newID) = state.withLock({ s -> ([Segment], Int64)? in
            let sources = plan.sources.compactMap { s.segments[$0] }
            guard sources.count == plan.sources.count, sources.allSatisfy({ $0.state == .flushed && !$0.released && $0.partitionID == plan.partitionID }) else { return nil }
            let id = s.nextSegmentID
            s.nextSegmentID += 1
            return (sources, id)
        }) else { return nil }

        // Step 2. Chunks go in WAL order, so the new segment's positions stay ascending.
        let bySegment = Dictionary(uniqueKeysWithValues: sources.map { ($0.id, $0) })
        var origins: [ChunkOrigin] = []
        for segment in sources {
            for (c, chunk) in segment.chunks.enumerated() {
                let rows = (0..<chunk.batch.rowCount).filter { chunk.isLive($0) }
                if !rows.isEmpty { origins.append(ChunkOrigin(segment: segment.id, chunk: c, rows: rows)) }
            }
        }
        origins.sort { bySegment[$0.segment]!.chunks[$0.chunk].position < bySegment[$1.segment]!.chunks[$1.chunk].position }
        var merged = Segment(id: newID, partitionID: plan.partitionID, state: .flushed, createdAt: DispatchTime.now().uptimeNanoseconds)
        for origin in origins {
            let chunk = bySegment[origin.segment]!.chunks[origin.chunk]
            // Borrowed vectors are copied: the new segment must not keep the old index alive.
            let batch = origin.rows.count == chunk.batch.rowCount ? chunk.batch.owned() : chunk.batch.rows(origin.rows)
            _ = merged.append(batch, timestamp: chunk.timestamp, position: chunk.position)
        }
        let outcome = CompactionOutcome(
            rowsBefore: sources.reduce(0) { $0 + $1.rowCount }, rowsAfter: merged.rowCount,
            segmentID: merged.rowCount > 0 ? newID : nil)
        let segmentFile = SegmentFile.segmentPath(collection: collectionID, segment: newID)
        var written: [String] = []
        var indexFiles: [String: String] = [:]
        do throws(ElanusError) {
            var segmentBytes = 0
            if merged.rowCount > 0 {
                segmentBytes = try SegmentFile.write(merged, collectionID: collectionID, to: objects, segmentFile)
                written.append(segmentFile)
                for job in indexes where merged.rowCount >= minIndexRows(job.plan) {
                    // Cancelled (shutdown, the collection dropped): nothing is committed, the
                    // sources stay, and the files written so far go below.
                    if cancelled() { throw .unexpected("compaction cancelled") }
                    let progress = BuildProgress(every: 3600, cancelled: cancelled) { _, _ in }
                    let index = try IndexFile.build(job.plan, segment: merged, field: job.field, threads: threads, progress: progress)
                    let file = CollectionData.indexPath(collection: collectionID, segment: newID, field: job.key)
                    written.append(file)
                    _ = try IndexFile.write(index, segmentID: newID, fieldID: job.key, dim: job.field.dim ?? 0, to: objects, file)
                    merged.attach(index, field: job.key)
                    indexFiles[String(job.key)] = file
                }
            }
            let output = CompactedSegment(
                segment: merged, origins: origins, sources: Set(plan.sources), file: segmentFile, bytes: segmentBytes, indexFiles: indexFiles)
            if cancelled() { throw .unexpected("compaction cancelled") }
            let committed = try commitCompaction(output, generations: generations, currentPlans: currentPlans, cancelled: cancelled) ?? false
            if !committed {
                for file in written { objects.remove(file) }
                return nil
            }
        } catch {
            for file in written { objects.remove(file) }
            throw error
        }
        return outcome
    }

    /// Steps 3 to 5. Returns false, having changed nothing, when the sources are gone, the
    /// collection was dropped or the compaction cancelled.
    private func commitCompaction(
        _ output: CompactedSegment, generations: [Int64: UInt64], currentPlans: () -> [Int64: IndexPlan], cancelled: () -> Bool
    ) throws(ElanusError) -> Bool? {
        try commitJob(stillValid: { !cancelled() }) { () throws(ElanusError) -> Bool in
            var merged = output.segment
            let (origins, sourceIDs) = (output.origins, output.sources)
            let wanted = currentPlans()
            for (field, index) in merged.indexes where wanted[field] != index.plan || indexGeneration(field) != generations[field] {
                merged.detachIndex(field: field)
            }
            // Step 3: the dead bits of every flushed segment as of now, the new one included.
            guard let plan = state.withLock({ s -> (deltas: [UInt8], previous: DataState)? in
                guard sourceIDs.allSatisfy({ s.segments[$0]?.state == .flushed && s.segments[$0]?.released == false }) else { return nil }
                if merged.rowCount > 0 { carryDeadRows(into: &merged, origins: origins, from: s) }
                let flushed = s.segments.values.filter { $0.state == .flushed && !sourceIDs.contains($0.id) } + (merged.rowCount > 0 ? [merged] : [])
                return (SegmentFile.encodeDeltas(flushed.sorted { $0.id < $1.id }), s.flushed)
            }) else { return false }
            var records: [SegmentRecord] = []
            for id in sourceIDs.sorted() {
                guard let bytes = try meta.get(DataKeys.segment(collectionID, id)) else { return false }
                records.append(try Keys.decode(bytes))
            }
            let sequence = (plan.previous.deltaSequence ?? 0) + 1
            let deltaFile = SegmentFile.deltaPath(collection: collectionID, sequence: sequence)
            try objects.write(deltaFile, plan.deltas)
            let newState = DataState(checkpoint: plan.previous.checkpoint, deltaFile: deltaFile, deltaSequence: sequence)
            var mutations: [MetaMutation] = [.put(DataKeys.state(collectionID), try Keys.encode(newState))]
            if merged.rowCount > 0 {
                // The record keeps the sources' whole WAL range: replay must go on skipping the
                // inserts of rows that were dropped as dead (see `loadFlushed`).
                let record = SegmentRecord(
                    id: merged.id, partitionID: merged.partitionID, rows: merged.rowCount, file: output.file, bytes: output.bytes,
                    firstPosition: records.map(\.firstPosition).min() ?? 0, lastPosition: records.map(\.lastPosition).max() ?? 0,
                    indexes: output.indexFiles.filter { merged.indexes[Int64($0.key) ?? 0] != nil })
                mutations.append(.put(DataKeys.segment(collectionID, merged.id), try Keys.encode(record)))
            }
            for id in sourceIDs { mutations.append(.delete(DataKeys.segment(collectionID, id))) }
            do throws(ElanusError) {
                try meta.commit(mutations)
            } catch {
                objects.remove(deltaFile)
                throw error
            }

            // Step 4. Rows killed after the delta was taken are killed in the new segment too.
            state.withLock { s in
                if merged.rowCount > 0 {
                    carryDeadRows(into: &merged, origins: origins, from: s)
                    repointLiveKeys(merged, origins: origins, in: &s)
                    // The sources were copied before a field added meanwhile: conform the
                    // chunks now, as the sources were (the file keeps the older shape).
                    s.segments[merged.id] = merged.conformed(to: s.fields)
                }
                for id in sourceIDs { s.segments[id] = nil }
                s.flushed = newState
            }
            // Step 5.
            if let old = plan.previous.deltaFile { objects.remove(old) }
            for id in sourceIDs { removeSegmentFiles(id) }
            for (field, file) in output.indexFiles where merged.indexes[Int64(field) ?? 0] == nil { objects.remove(file) }
            return true
        }
    }

    /// Marks dead, in the merged segment, every row whose source row is dead now.
    private func carryDeadRows(into merged: inout Segment, origins: [ChunkOrigin], from s: borrowing Applied) {
        for (c, origin) in origins.enumerated() {
            guard let source = s.segments[origin.segment]?.chunks[origin.chunk] else { continue }
            for (row, sourceRow) in origin.rows.enumerated() where !source.isLive(sourceRow) { merged.markDead(chunk: c, row: row) }
        }
    }

    /// Points the live-key index at the merged segment's rows, for every key whose live version
    /// is one of the copied source rows.
    private func repointLiveKeys(_ merged: Segment, origins: [ChunkOrigin], in s: inout Applied) {
        for (c, origin) in origins.enumerated() {
            let keys = merged.chunks[c].batch.primaryKeys(primaryFieldID)
            for (row, sourceRow) in origin.rows.enumerated() {
                guard let old = s.live[keys[row]], old.segmentID == origin.segment, old.chunk == Int32(origin.chunk), old.row == Int32(sourceRow) else { continue }
                s.live[keys[row]] = RowLocation(partitionID: merged.partitionID, segmentID: merged.id, chunk: Int32(c), row: Int32(row))
            }
        }
    }

    /// Removes a segment's file and its index files.
    func removeSegmentFiles(_ id: Int64) {
        objects.remove(SegmentFile.segmentPath(collection: collectionID, segment: id))
        for name in objects.list("\(collectionID)") where name.hasPrefix("index-\(id)-") { objects.remove("\(collectionID)/\(name)") }
    }
}
