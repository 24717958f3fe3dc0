import Dispatch
import ElanusCore
import ElanusStorage

/// Release and load: what a released partition keeps in memory, and bringing the rest back.
///
/// Releasing a partition replaces each of its flushed segments with a copy that keeps only the
/// primary keys, the timestamps and the dead-row bitmaps: what the writer needs to apply
/// deletes and upserts. The other columns and the indexes are dropped (readers holding the
/// old copy keep it until they finish). Loading reads them back from the segment and index
/// files and keeps the in-memory dead bits, which may be newer than the delta file.
/// Growing and sealed segments are never released: their rows exist only in memory and the WAL.
extension CollectionData {
    /// Releases the flushed segments of `partitions`; returns how many.
    @discardableResult
    func release(partitions: Set<Int64>) -> Int {
        loadLock.withLock { _ in
            state.withLock { s in
                let due = s.segments.values.filter { partitions.contains($0.partitionID) && $0.state == .flushed && !$0.released }.map(\.id)
                for id in due { s.segments[id] = s.segments[id]!.releasing(keep: primaryFieldID) }
                return due.count
            }
        }
    }

    /// Released segments of `partitions`.
    func releasedSegments(partitions: Set<Int64>?) -> [Int64] {
        read { s in s.segments.values.filter { $0.released && (partitions == nil || partitions!.contains($0.partitionID)) }.map(\.id).sorted() }
    }

    /// Loads the released segments of the partitions `wanted` names back from their files,
    /// calling `progress` with (segments done, segments in all) after each. A segment dropped or
    /// compacted away meanwhile is skipped. `wanted` is asked under the load lock, which a
    /// release also takes: a read that saw a partition loaded just before it was released must
    /// not load it again behind the release (the catalog changes before the release runs).
    /// `cancelled` is checked between segments.
    func load(
        partitions wanted: () -> Set<Int64>, indexPlans: [Int64: IndexPlan], warn: (String) -> Void, cancelled: () -> Bool = { false },
        progress: (Int, Int) -> Void
    ) throws(ElanusError) {
        try loadLock.withLock { (_: inout Bool) throws(ElanusError) in
            let due = releasedSegments(partitions: wanted())
            progress(0, due.count)
            for (done, id) in due.enumerated() {
                if cancelled() { return }
                guard let bytes = try meta.get(DataKeys.segment(collectionID, id)) else { continue }
                let record: SegmentRecord = try Keys.decode(bytes)
                let full = try readSegment(record, indexPlans: indexPlans, createdAt: DispatchTime.now().uptimeNanoseconds, warn: warn)
                state.withLock { s in
                    guard let current = s.segments[id], current.released else { return }
                    // The file may predate a field added since.
                    s.segments[id] = current.restoring(full).conformed(to: s.fields)
                }
                progress(done + 1, due.count)
            }
        }
    }

    /// Approximate bytes of column data held in memory, over every segment.
    func residentBytes() -> Int {
        read { s in s.segments.values.reduce(0) { total, segment in total + segment.chunks.reduce(0) { $0 + $1.batch.estimatedBytes } } }
    }
}
