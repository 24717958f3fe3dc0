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
    /// The allowed rows, when so few are allowed (a selective filter, many deleted rows) that
    /// the segment is scanned exactly without asking the index; built once per request.
    let exactPlan: ScanPlan?

    /// Below this share of allowed rows the exact scan of those rows is cheaper and complete.
    static let exactFraction = 0.02

    /// Polled before the index is asked (a faiss search cannot be stopped once it runs).
    let cancellation: Cancellation?

    init(segment: Segment, index: any VectorIndex, request: SearchRequest, cancellation: Cancellation? = nil) throws(ElanusError) {
        self.segment = segment
        self.index = index
        self.request = request
        self.cancellation = cancellation
        let starts = segment.chunkOffsets
        offsets = starts
        try cancellation?.check()
        let mask = request.predicate.map { segment.filter($0, cancellation: cancellation) }
        // A filter stopped part way leaves its mask incomplete: never used.
        try cancellation?.check()
        self.mask = mask
        // The common case, no filter and no dead row, needs no per-row or per-chunk work at all:
        // the segment counts its dead rows as they die.
        if mask == nil && segment.deadRows == 0 {
            bitmap = nil
            allowed = segment.rowCount
            exactPlan = nil
            return
        }
        // A selective filter: the rows it keeps (dead ones aside) bound the allowed rows, and
        // when they fall under the exact share the scan's row lists are all that is needed.
        if let mask, Double(IndexedSearch.yesCount(mask)) < Double(segment.rowCount) * IndexedSearch.exactFraction {
            let plan = ScanPlan([(segment, mask)])
            exactPlan = plan
            bitmap = nil
            allowed = plan.rowCount
            return
        }
        var bitmap = [UInt8](repeating: 0, count: max(1, (segment.rowCount + 7) / 8))
        let allowed = bitmap.withUnsafeMutableBufferPointer { bits in
            if let mask {
                mask.withUnsafeBufferPointer { IndexedSearch.allow(segment, starts: starts, states: $0.baseAddress, into: bits.baseAddress!) }
            } else {
                IndexedSearch.allow(segment, starts: starts, states: nil, into: bits.baseAddress!)
            }
        }
        self.allowed = allowed
        // Deleted rows can bring the allowed share under the exact one too.
        if Double(allowed) < Double(segment.rowCount) * IndexedSearch.exactFraction {
            exactPlan = ScanPlan([(segment, mask)])
            self.bitmap = nil
        } else {
            exactPlan = nil
            self.bitmap = allowed == segment.rowCount ? nil : bitmap
        }
    }

    /// Sets the bit of every live row whose filter state is yes (every live row without
    /// states) and returns how many there are. One pass over every row per query, branch-free
    /// on raw pointers: at 1M rows it used to cost more than the search itself.
    private static func allow(_ segment: Segment, starts: [Int], states: UnsafePointer<UInt8>?, into bits: UnsafeMutablePointer<UInt8>) -> Int {
        var allowed = 0
        let yes = FilterEvaluator.yes
        for (c, chunk) in segment.chunks.enumerated() where chunk.batch.rowCount > 0 {
            let base = starts[c]
            let n = chunk.batch.rowCount
            allowed += chunk.dead.withUnsafeBufferPointer { deadRows in
                let dead = deadRows.baseAddress!
                var count = 0
                if let states {
                    let rowStates = states + base
                    for r in 0..<n {
                        let keep = ((dead[r >> 6] >> UInt64(r & 63)) & 1 ^ 1) & (rowStates[r] == yes ? 1 : 0)
                        bits[(base + r) >> 3] |= UInt8(truncatingIfNeeded: keep) << UInt8((base + r) & 7)
                        count &+= Int(keep)
                    }
                } else {
                    for r in 0..<n {
                        let keep = (dead[r >> 6] >> UInt64(r & 63)) & 1 ^ 1
                        bits[(base + r) >> 3] |= UInt8(truncatingIfNeeded: keep) << UInt8((base + r) & 7)
                        count &+= Int(keep)
                    }
                }
                return count
            }
        }
        return allowed
    }

    /// The best `k` hits of one query vector in this segment, best first.
    func run(_ query: QueryVector, k: Int) throws(ElanusError) -> [SearchHit] {
        guard allowed > 0 else { return [] }
        try cancellation?.check()
        if let exactPlan { return try exact(query, k: k, plan: exactPlan) }
        let wanted = min(k, allowed)
        // HNSW's ef must cover k (Milvus's default ef is the limit); IVF probes 8 lists by default.
        let options = IndexSearchOptions(
            ef: max(request.ef ?? k, k), nprobe: request.nprobe ?? 8, dropRatio: request.dropRatio, reorderK: request.reorderK, refineK: request.refineK)
        let int8 = request.field.dataType == .int8Vector
        let fetch = int8 ? min(index.plan.int8Candidates(k), allowed) : k
        let found = try index.search(query, k: max(fetch, k), options: int8 ? options.covering(fetch) : options, bitmap: bitmap)
        // A BM25 index returns every allowed row that shares a term with the query: fewer than
        // k hits is the answer, not a miss to make up by a scan.
        if found.count < wanted, !query.isBM25 { return try exact(query, k: k) }
        if int8 { return try rescored(found, query, k: k) }
        return found.map { hit in
            let (chunk, row) = locate(hit.row)
            return SearchHit(score: hit.score, batch: segment.chunks[chunk].batch, row: row)
        }
    }

    /// An Int8Vector index's hits scored again from the segment's int8 column by the exact scan,
    /// best `k` first: the scores are then the exact scan's, whatever codes the index holds.
    private func rescored(_ found: [(score: Float, row: Int)], _ query: QueryVector, k: Int) throws(ElanusError) -> [SearchHit] {
        var rows: [Int: [Int32]] = [:]
        for hit in found {
            let (chunk, row) = locate(hit.row)
            rows[chunk, default: []].append(Int32(row))
        }
        let parts = rows.keys.sorted().map { ScanPlan.Part(batch: segment.chunks[$0].batch, rows: rows[$0]!.sorted()) }
        return try exact(query, k: k, plan: ScanPlan(parts: parts))
    }

    private func exact(_ query: QueryVector, k: Int, plan: ScanPlan? = nil) throws(ElanusError) -> [SearchHit] {
        var scoped = request
        scoped.limit = k
        scoped.offset = 0
        return try ExactSearch(request: scoped, plan: plan ?? ScanPlan([(segment, mask)]), cancellation: cancellation).run(query)
    }

    /// How many filter states are yes. States are 0 (no), 1 (yes) or 2 (unknown), so the low
    /// bit is the answer: a sum the compiler vectorizes, where `s == yes ? 1 : 0` became a
    /// branch per row that a 50% filter mispredicted half the time.
    static func yesCount(_ states: [UInt8]) -> Int {
        states.withUnsafeBufferPointer { p in
            var n = 0
            for s in p { n &+= Int(s & FilterEvaluator.yes) }
            return n
        }
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
