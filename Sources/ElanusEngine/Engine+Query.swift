import Dispatch
import ElanusCore
import ElanusQuery
import Synchronization

/// Reads: query by filter, count, and exact search, each over one snapshot of the collection's
/// growing segments taken when the request starts.
///
/// Consistency: a write is applied before it is acknowledged, so the snapshot already holds
/// every write acknowledged before the request; Strong, Session, Bounded and Eventually all read
/// this state (the weaker levels are allowed to see more than they must).
///
/// Each read takes the request's `Cancellation` (nil: it runs to the end) and stops with its
/// error (10000 canceled, 10001 timeout) once the client has gone or the deadline has passed:
/// the filter polls it every few rows, the scans once per chunk, searches before each segment.
extension Engine {
    /// Rows matching `predicate` (all rows when nil), skipping `offset`, at most `limit`.
    public func query(
        _ info: CollectionInfo, predicate: Predicate?, partitionNames: [String] = [], limit: Int, offset: Int = 0,
        cancellation: Cancellation? = nil
    ) throws(ElanusError) -> EntityBatch {
        var refs: [(batch: EntityBatch, row: Int)] = []
        try scan(info, predicate: predicate, partitionNames: partitionNames, offset: offset, cancellation: cancellation) { batch, row in
            refs.append((batch, row))
            return refs.count < limit
        }
        return EntityBatch.gather(refs, shape: EntityBatch(emptyFor: info.schema))
    }

    /// Hands `visit` the rows matching `predicate` (all rows when nil) where they lie, in the
    /// order `query` returns them, after skipping `offset`, until it returns false or throws
    /// (the error is rethrown). Nothing is copied: a caller with no row limit bounds what it
    /// keeps itself. `visit` runs on the calling thread, over a snapshot taken first.
    public func scan(
        _ info: CollectionInfo, predicate: Predicate?, partitionNames: [String] = [], offset: Int = 0, cancellation: Cancellation? = nil,
        _ visit: (EntityBatch, Int) throws(ElanusError) -> Bool
    ) throws(ElanusError) {
        try cancellation?.check()
        let plan = try ScanPlan(try snapshot(info, partitionNames), predicate: predicate, cancellation: cancellation)
        var skipped = 0
        var failure: ElanusError?
        plan.forEachRow { batch, row in
            if skipped < offset {
                skipped += 1
                return true
            }
            do throws(ElanusError) {
                return try visit(batch, row)
            } catch {
                failure = error
                return false
            }
        }
        if let failure { throw failure }
    }

    /// The number of live rows matching `predicate`.
    public func count(
        _ info: CollectionInfo, predicate: Predicate?, partitionNames: [String] = [], cancellation: Cancellation? = nil
    ) throws(ElanusError) -> Int {
        try cancellation?.check()
        let partitions = try readablePartitions(info, partitionNames)
        // Without a filter the writer's live counts are the answer; no scan needed.
        if predicate == nil { return try data(for: info).liveRows(partitions: partitions) }
        return try ScanPlan.count(try data(for: info).snapshot(partitions: partitions), predicate: predicate, cancellation: cancellation)
    }

    /// Search: per query vector, the hits best first. Flushed segments with a ready index of the
    /// request's metric go through faiss; the others (growing, sealed, small, or not indexed
    /// yet) are scanned exactly; the hits are merged. Range search and grouping scan exactly
    /// (faiss 1.7.3's HNSW has no range search). Several query vectors run in parallel; a single
    /// one searches its indexed segments (and the exact scan of the rest) side by side, as
    /// Milvus's query nodes fan a request out over their segments.
    public func search(_ info: CollectionInfo, _ request: SearchRequest, cancellation: Cancellation? = nil) throws(ElanusError) -> [[SearchHit]] {
        try cancellation?.check()
        let request = try preparingFullText(info, request)
        var segments = try snapshot(info, request.partitionNames)
        if request.ignoreGrowing { segments.removeAll { $0.state != .flushed } }
        let indexable = request.radius == nil && request.rangeFilter == nil && request.grouping == nil
        var scanned: [Segment] = []
        var indexed: [(segment: Segment, index: any VectorIndex)] = []
        for segment in segments {
            if indexable, let index = segment.indexes[request.field.fieldID] as? any VectorIndex, index.plan.metric == request.metric {
                indexed.append((segment, index))
            } else {
                scanned.append(segment)
            }
        }
        if indexed.isEmpty {
            let search = ExactSearch(
                request: request, plan: try ScanPlan(scanned, predicate: request.predicate, cancellation: cancellation), cancellation: cancellation)
            return try search.runAll(request.vectors)
        }
        let k = request.limit + request.offset
        var whole = request
        whole.limit = k
        whole.offset = 0
        let exact =
            scanned.isEmpty
            ? nil : ExactSearch(request: whole, plan: try ScanPlan(scanned, predicate: request.predicate, cancellation: cancellation), cancellation: cancellation)
        let metric = request.metric
        let merge = { @Sendable (parts: [[SearchHit]]) -> [SearchHit] in
            var hits = parts.flatMap { $0 }
            hits.sort { metric.key($0.score) < metric.key($1.score) }
            return Array(hits.prefix(k).dropFirst(request.offset))
        }
        if request.vectors.count == 1 {
            let query = request.vectors[0]
            let indexed = indexed
            // The filter's mask and the deleted-row bitmap of each segment are built inside its
            // own task too: with a filter they cost about as much as the search.
            let parts = try Engine.parallelMap(indexed.count + (exact == nil ? 0 : 1)) { u throws(ElanusError) in
                guard u < indexed.count else { return try exact?.run(query) ?? [] }
                return try IndexedSearch(segment: indexed[u].segment, index: indexed[u].index, request: request, cancellation: cancellation).run(query, k: k)
            }
            return [merge(parts)]
        }
        // Several vectors: each segment's bitmap is built once and shared by every vector, and
        // the scanned segments are scanned for all of them at once (a batch of matrix products).
        let searches = try indexed.map { s throws(ElanusError) in
            try IndexedSearch(segment: s.segment, index: s.index, request: request, cancellation: cancellation)
        }
        let scannedHits = try exact?.runAll(request.vectors)
        return try Engine.parallelMap(request.vectors.count) { i throws(ElanusError) in
            var parts: [[SearchHit]] = []
            for segment in searches { parts.append(try segment.run(request.vectors[i], k: k)) }
            parts.append(scannedHits?[i] ?? [])
            return merge(parts)
        }
    }

    /// `body(0) ..< body(count)`, in order, computed on as many threads as there are cores
    /// (Dispatch's own threads, not Swift's cooperative pool: faiss calls block); the first error
    /// thrown wins. One item runs on the calling thread.
    static func parallelMap<T: Sendable>(_ count: Int, _ body: @Sendable (Int) throws(ElanusError) -> T) throws(ElanusError) -> [T] {
        if count == 1 { return [try body(0)] }
        let results = Mutex<[T?]>(Array(repeating: nil, count: count))
        let failure = Mutex<ElanusError?>(nil)
        DispatchQueue.concurrentPerform(iterations: count) { i in
            do throws(ElanusError) {
                let value = try body(i)
                results.withLock { $0[i] = value }
            } catch {
                failure.withLock { $0 = $0 ?? error }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        return results.withLock { $0.map { $0! } }
    }

    /// The segments a read scans, as of now.
    /// A partition the catalog shows loaded but whose segments are released (its load flag was
    /// set without `Engine.load`) is loaded here first, so a read never sees a released segment.
    func snapshot(_ info: CollectionInfo, _ partitionNames: [String]) throws(ElanusError) -> [Segment] {
        let partitions = try readablePartitions(info, partitionNames)
        let data = try data(for: info)
        try ensureLoaded(info, data, partitions: partitions)
        return data.snapshot(partitions: partitions)
    }

    /// Loads, now, released segments of partitions that the catalog shows loaded (among
    /// `partitions`; all when nil).
    func ensureLoaded(_ info: CollectionInfo, _ data: CollectionData, partitions: Set<Int64>?) throws(ElanusError) {
        let loaded = Set(info.partitions.filter { $0.loaded && (partitions?.contains($0.id) ?? true) }.map(\.id))
        guard !data.releasedSegments(partitions: loaded).isEmpty else { return }
        // Released since the read began: it is answered as a read of a released collection.
        guard let current = catalog.collection(id: info.id), current.loaded,
            loaded.allSatisfy({ id in current.partitions.contains { $0.id == id && $0.loaded } })
        else { throw ElanusError(.collectionNotLoaded, "collection not loaded[collection=\(info.name)]") }
        // `info` may be stale by now: the partitions are asked of the catalog again under the
        // load lock, so a release that raced this read is not undone.
        let collectionID = info.id
        try data.load(
            partitions: { [catalog] in
                Set(catalog.collection(id: collectionID)?.partitions.filter { $0.loaded && (partitions?.contains($0.id) ?? true) }.map(\.id) ?? [])
            },
            indexPlans: indexPlans(info), warn: { logger.warning("\($0)", metadata: ["collection": "\(info.name)"]) }
        ) { _, _ in }
    }

    /// The partitions a read covers: the named ones (which must exist and be loaded), or every
    /// loaded one. A collection with nothing loaded cannot be read, as in Milvus.
    func readablePartitions(_ info: CollectionInfo, _ partitionNames: [String]) throws(ElanusError) -> Set<Int64> {
        guard info.loaded else { throw ElanusError(.collectionNotLoaded, "collection not loaded[collection=\(info.name)]") }
        var ids = Set<Int64>()
        for name in partitionNames.isEmpty ? info.partitions.filter(\.loaded).map(\.name) : partitionNames {
            guard let partition = info.partition(named: name) else { throw Catalog.partitionNotFound(name) }
            guard partition.loaded else { throw ElanusError(.partitionNotLoaded, "partition not loaded[partition=\(name)]") }
            ids.insert(partition.id)
        }
        if let progress = loadProgress(info, partitions: ids) {
            throw ElanusError(.collectionNotLoaded, "collection not fully loaded[collection=\(info.name)][progress=\(progress)%]")
        }
        return ids
    }
}
