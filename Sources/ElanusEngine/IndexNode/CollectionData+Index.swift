import ElanusCore
import ElanusStorage

/// The index node's work on one collection's segments: which need an index, building one, and
/// dropping a field's indexes.
extension CollectionData {
    static func indexPath(collection: Int64, segment: Int64, field: Int64) -> String { "\(collection)/index-\(segment)-\(field).idx" }

    /// How a build whose index file could not be written says so (a retryable failure).
    static let indexWriteFailure = "index file write failed"

    /// Flushed segments with at least `minRows` rows and no index under `key`, oldest first.
    func segmentsNeedingIndex(_ key: Int64, minRows: Int) -> [Int64] {
        read { s in
            s.segments.values.filter { $0.state == .flushed && !$0.released && $0.rowCount >= minRows && $0.indexes[key] == nil }.map(\.id).sorted()
        }
    }

    /// Builds `field`'s index (kept under `key`, the field id unless given, see `IndexPlan.key`)
    /// for one flushed segment, writes its file, records it beside the
    /// segment in the meta store, and only then swaps it in. The segment's rows never change, so
    /// the build reads them without holding any lock.
    ///
    /// The build is re-validated at commit, under the flush lock: it is recorded only if the
    /// field's indexes were not dropped meanwhile (its generation is unchanged) and `currentPlan`
    /// (the catalog's plan now) is still the plan it was built for. Otherwise a dropped, or
    /// dropped and recreated, index would come back from a build that started before.
    func buildIndex(
        _ segmentID: Int64, field: FieldSchema, key: Int64? = nil, plan: IndexPlan, threads: Int, progress: BuildProgress? = nil,
        currentPlan: () -> IndexPlan? = { nil }
    ) throws(ElanusError) {
        let key = key ?? field.fieldID
        let generation = indexGeneration(key)
        guard let segment = read({ $0.segments[segmentID] }), segment.state == .flushed, !segment.released else { return }
        let index = try IndexFile.build(plan, segment: segment, field: field, threads: threads, progress: progress)
        let file = CollectionData.indexPath(collection: collectionID, segment: segmentID, field: key)
        // The file is written and made durable before the flush lock is taken (faiss writes
        // about 630 MB at 1M rows), so flushes, compactions and imports do not wait on it. Until
        // the record below names it, it is an orphan: removed here if the record is not written,
        // or at the next start after a crash.
        do throws(ElanusError) {
            _ = try IndexFile.write(index, segmentID: segmentID, fieldID: key, dim: field.dim ?? 0, to: objects, file)
        } catch {
            // A collection dropped during the write can make it fail (its directory removed
            // under the file); a segment dropped meanwhile (compaction, a partition drop) no
            // longer needs the index. Neither is a failed build.
            let dropped = flushLock.withLock { (dropped: inout Bool) in
                if dropped { removeFilesAfterDrop() }
                return dropped
            }
            objects.remove(file)
            if dropped || read({ $0.segments[segmentID] == nil }) { return }
            // An I/O failure, not the index's: the index node tries again later.
            throw ElanusError(error.code, "\(CollectionData.indexWriteFailure): \(error.message)")
        }
        do throws(ElanusError) {
            let recorded = try commitJob(stillValid: {
                // The index may have been dropped or replaced (or the build cancelled), and the
                // segment dropped (partition, compaction), while the index built.
                indexGeneration(key) == generation && currentPlan() == plan && read({ $0.segments[segmentID] != nil })
            }) { () throws(ElanusError) -> Bool in
                guard let stored = try meta.get(DataKeys.segment(collectionID, segmentID)) else { return false }
                var record: SegmentRecord = try Keys.decode(stored)
                record.indexes = (record.indexes ?? [:]).merging([String(key): file]) { $1 }
                try meta.commit([.put(DataKeys.segment(collectionID, segmentID), try Keys.encode(record))])
                // A segment released meanwhile gets the index from its file when loaded again.
                state.withLock { s in if s.segments[segmentID]?.released == false { s.segments[segmentID]!.attach(index, field: key) } }
                return true
            }
            if recorded != true { objects.remove(file) }
        } catch {
            objects.remove(file)
            throw error
        }
    }

    /// How many times `field`'s indexes were dropped: a build or compaction that started under
    /// another generation must not commit its index.
    func indexGeneration(_ field: Int64) -> UInt64 { indexGenerations.withLock { $0[field] ?? 0 } }

    /// Removes every segment's index on `field`: from memory, from the records, and the files.
    func dropIndexes(field: Int64) throws(ElanusError) {
        try flushLock.withLock { (_: inout Bool) throws(ElanusError) in
            // First, under the flush lock that every index commit takes: a build in flight sees
            // the new generation when it commits and discards its index.
            indexGenerations.withLock { $0[field, default: 0] += 1 }
            var mutations: [MetaMutation] = []
            var files: [String] = []
            for (key, value) in try meta.scan(prefix: DataKeys.segmentPrefix(collectionID)) {
                var record: SegmentRecord = try Keys.decode(value)
                guard let file = record.indexes?.removeValue(forKey: String(field)) else { continue }
                files.append(file)
                mutations.append(.put(key, try Keys.encode(record)))
            }
            if !mutations.isEmpty { try meta.commit(mutations) }
            state.withLock { s in for id in Array(s.segments.keys) { s.segments[id]?.detachIndex(field: field) } }
            for file in files { objects.remove(file) }
        }
    }

    /// Progress of `field`'s index over the flushed segments: rows in them, rows indexed (small
    /// segments, searched exactly by design, count as indexed).
    func indexProgress(field: Int64, minRows: Int, builds: Bool) -> (total: Int, indexed: Int) {
        read { s in
            var total = 0
            var indexed = 0
            for segment in s.segments.values where segment.state == .flushed {
                total += segment.rowCount
                if !builds || segment.rowCount < minRows || segment.indexedFields.contains(field) { indexed += segment.rowCount }
            }
            return (total, indexed)
        }
    }
}
