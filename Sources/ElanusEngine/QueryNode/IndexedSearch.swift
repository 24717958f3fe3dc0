import ElanusCore
import ElanusQuery

/// Search of one flushed segment through its vector index. Deleted rows and rows the filter
/// rejects reach faiss as a bitmap selector. When too few rows are allowed for the index to find
/// `limit` of them (a selective filter: HNSW's graph walk and IVF's probed lists run dry), or
/// when the index returns fewer hits than there are allowed rows to fill them, the segment is
/// scanned exactly instead, so a search returns `limit` hits whenever that many rows match.
struct IndexedSearch {
    let segment: Segment
    let index: any VectorIndex
    let request: SearchRequest
    /// Allowed rows in the segment's numbering; nil when every row is allowed.
    let bitmap: [UInt8]?
    let allowed: Int
    let offsets: [Int]
    /// The filter's states per segment row (nil without a filter), reused by the exact fallback.
    let mask: [UInt8]?

    /// Below this share of allowed rows the exact scan of those rows is cheaper and complete.
    static let exactFraction = 0.02

    init(segment: Segment, index: any VectorIndex, request: SearchRequest) {
        self.segment = segment
        self.index = index
        self.request = request
        offsets = segment.chunkOffsets
        let mask = request.predicate.map { segment.filter($0) }
        self.mask = mask
        // The common case, no filter and no dead row, needs no per-row work at all.
        if mask == nil && segment.chunks.allSatisfy({ $0.dead.allSatisfy { $0 == 0 } }) {
            bitmap = nil
            allowed = segment.rowCount
            return
        }
        var bitmap = [UInt8](repeating: 0, count: (segment.rowCount + 7) / 8)
        var allowed = 0
        let yes = FilterEvaluator.yes
        let starts = offsets
        // One pass over every row per query: kept to raw pointers, without bounds checks.
        bitmap.withUnsafeMutableBufferPointer { bits in
            for (c, chunk) in segment.chunks.enumerated() {
                let base = starts[c]
                chunk.dead.withUnsafeBufferPointer { dead in
                    func allow(_ r: Int) {
                        let row = base + r
                        bits[row >> 3] |= 1 << UInt8(row & 7)
                        allowed += 1
                    }
                    if let mask {
                        mask.withUnsafeBufferPointer { m in
                            for r in 0..<chunk.batch.rowCount where m[base + r] == yes && dead[r >> 6] & (1 << UInt64(r & 63)) == 0 { allow(r) }
                        }
                    } else {
                        for r in 0..<chunk.batch.rowCount where dead[r >> 6] & (1 << UInt64(r & 63)) == 0 { allow(r) }
                    }
                }
            }
        }
        self.bitmap = allowed == segment.rowCount ? nil : bitmap
        self.allowed = allowed
    }

    /// The best `k` hits of one query vector in this segment, best first.
    func run(_ query: QueryVector, k: Int) throws(ElanusError) -> [SearchHit] {
        guard allowed > 0 else { return [] }
        let wanted = min(k, allowed)
        if bitmap != nil && Double(allowed) < Double(segment.rowCount) * IndexedSearch.exactFraction { return exact(query, k: k) }
        // HNSW's ef must cover k (Milvus's default ef is the limit); IVF probes 8 lists by default.
        let options = IndexSearchOptions(ef: max(request.ef ?? k, k), nprobe: request.nprobe ?? 8, dropRatio: request.dropRatio)
        let found = try index.search(query, k: k, options: options, bitmap: bitmap)
        if found.count < wanted { return exact(query, k: k) }
        return found.map { hit in
            let (chunk, row) = locate(hit.row)
            return SearchHit(score: hit.score, batch: segment.chunks[chunk].batch, row: row)
        }
    }

    private func exact(_ query: QueryVector, k: Int) -> [SearchHit] {
        var scoped = request
        scoped.limit = k
        scoped.offset = 0
        return ExactSearch(request: scoped, plan: ScanPlan([(segment, mask)])).run(query)
    }

    /// (chunk, row in chunk) of a segment row number.
    private func locate(_ row: Int) -> (Int, Int) {
        var low = 0
        var high = offsets.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if offsets[mid] <= row { low = mid } else { high = mid - 1 }
        }
        return (low, row - offsets[low])
    }
}
