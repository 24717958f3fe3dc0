import ElanusCore
import ElanusQuery
import ElanusStorage
import Foundation
import Synchronization

/// SPARSE_INVERTED_INDEX (and SPARSE_WAND, which Milvus answers from the same kind of index): a
/// posting list per dimension of (row, value), scored term at a time for inner product. A search
/// touches only the rows that share a dimension with the query, instead of every row.
///
/// `drop_ratio_build` drops the smallest-magnitude share of each row's values before indexing,
/// and `drop_ratio_search` the smallest share of the query's, as in Milvus: both trade recall for
/// speed, and at 0 (the default) the scores equal the exact scan's.
///
/// Body layout: arrays (u64 count + items) of the dimensions (u32, ascending), posting offsets
/// (dimensions + 1, i64), posting rows (i32) and posting values (f32).
final class SparseInvertedIndex: VectorIndex, SerializedSegmentIndex {
    let plan: IndexPlan
    let rows: Int
    private let dims: [UInt32]
    private let offsets: [Int64]
    private let postingRows: [Int32]
    private let postingValues: [Float]
    /// BM25 indexes: each row's document length (the sum of its indexed term frequencies),
    /// derived from the posting lists when the index is built or read back.
    private let documentLengths: [Float]
    /// Score accumulators kept between searches, all clear while pooled: a fresh one per search
    /// costs an allocation, zeroing and page faults that grow with the segment, more than the
    /// search itself; a search clears only the rows it touched. At most one per core is kept.
    private let accumulators = Mutex<[Accumulator]>([])

    private init(plan: IndexPlan, rows: Int, dims: [UInt32], offsets: [Int64], postingRows: [Int32], postingValues: [Float]) {
        self.plan = plan
        self.rows = rows
        self.dims = dims
        self.offsets = offsets
        self.postingRows = postingRows
        self.postingValues = postingValues
        var lengths = [Float](repeating: 0, count: plan.metric == .bm25 ? rows : 0)
        if plan.metric == .bm25 { for (row, value) in zip(postingRows, postingValues) { lengths[Int(row)] += value } }
        documentLengths = lengths
    }

    static func build(_ plan: IndexPlan, rows vectors: [SparseVector], dropRatio: Double) -> SparseInvertedIndex {
        var postings: [UInt32: [(Int32, Float)]] = [:]
        for (row, vector) in vectors.enumerated() {
            for (dim, value) in kept(vector, dropRatio: dropRatio) { postings[dim, default: []].append((Int32(row), value)) }
        }
        let dims = postings.keys.sorted()
        var offsets: [Int64] = [0]
        var postingRows: [Int32] = []
        var postingValues: [Float] = []
        for dim in dims {
            for (row, value) in postings[dim]! {
                postingRows.append(row)
                postingValues.append(value)
            }
            offsets.append(Int64(postingRows.count))
        }
        return SparseInvertedIndex(plan: plan, rows: vectors.count, dims: dims, offsets: offsets, postingRows: postingRows, postingValues: postingValues)
    }

    /// The (dimension, value) pairs left after dropping the smallest-magnitude `dropRatio` share.
    static func kept(_ vector: SparseVector, dropRatio: Double) -> [(UInt32, Float)] {
        let pairs = Array(zip(vector.indices, vector.values))
        let drop = Int(Double(pairs.count) * dropRatio)
        guard drop > 0 else { return pairs }
        let threshold = pairs.map { abs($0.1) }.sorted()[drop - 1]
        var dropped = 0
        return pairs.filter { pair in
            if abs(pair.1) <= threshold && dropped < drop {
                dropped += 1
                return false
            }
            return true
        }
    }

    func search(_ query: QueryVector, k: Int, options: IndexSearchOptions, bitmap: [UInt8]?) throws(ElanusError) -> [(score: Float, row: Int)] {
        guard k > 0 else { return [] }
        let terms: [(UInt32, Float)]
        var bm25: BM25Query?
        switch query {
        case .sparse(let vector): terms = SparseInvertedIndex.kept(vector, dropRatio: options.dropRatio ?? 0)
        // The engine already dropped the query's smallest weights (drop_ratio_search).
        case .bm25(let q) where plan.metric == .bm25: (terms, bm25) = (Array(zip(q.weights.indices, q.weights.values)), q)
        default: return []
        }
        var acc = accumulators.withLock { $0.popLast() } ?? Accumulator(rows: rows)
        // Moved out of the accumulator, so the list is uniquely held and reused in place.
        var candidates: [Int32] = []
        swap(&candidates, &acc.candidates)
        candidates.removeAll(keepingCapacity: true)
        var top = TopK<Int>(k: k)
        // Row numbers in the posting lists were checked against `rows` when the index was built
        // or read back, so the loops below index the accumulator without bounds checks.
        acc.scores.withUnsafeMutableBufferPointer { scores in
            acc.touched.withUnsafeMutableBufferPointer { touched in
                postingRows.withUnsafeBufferPointer { postingRows in
                    postingValues.withUnsafeBufferPointer { postingValues in
                        documentLengths.withUnsafeBufferPointer { lengths in
                            // A row is a candidate from its first posting on; its score may
                            // still be 0 (inner products), hence a bit per row.
                            func touch(_ row: Int) {
                                let mask: UInt64 = 1 << UInt64(row & 63)
                                let word = touched[row >> 6]
                                if word & mask == 0 {
                                    touched[row >> 6] = word | mask
                                    candidates.append(Int32(truncatingIfNeeded: row))
                                }
                            }
                            let scorer = bm25?.postingScorer
                            for (dim, weight) in terms {
                                guard let slot = slot(of: dim) else { continue }
                                let postings = Int(offsets[slot])..<Int(offsets[slot + 1])
                                if let (p1, p2, p3) = scorer {
                                    let scaled = weight * p1
                                    for i in postings {
                                        let row = Int(postingRows[i])
                                        let tf = postingValues[i]
                                        scores[row] += scaled * tf / (tf + p2 + p3 * lengths[row])
                                        touch(row)
                                    }
                                } else {
                                    for i in postings {
                                        let row = Int(postingRows[i])
                                        scores[row] += weight * postingValues[i]
                                        touch(row)
                                    }
                                }
                            }
                        }
                    }
                }
                // Every touched row is cleared again, so the accumulator goes back to the pool
                // clear. Once the heap is full, a candidate that cannot enter costs one compare
                // here rather than a call (push would refuse it the same way).
                var pushed = 0
                var bar = Float.infinity
                for candidate in candidates {
                    let row = Int(candidate)
                    let score = scores[row]
                    scores[row] = 0
                    touched[row >> 6] = 0
                    guard pushed < k || -score < bar else { continue }
                    if let bitmap, bitmap[row >> 3] & (1 << UInt8(row & 7)) == 0 { continue }
                    top.push(-score, row)
                    pushed += 1
                    if pushed >= k { bar = top.threshold }
                }
            }
        }
        acc.candidates = candidates
        accumulators.withLock { pool in
            if pool.count < ProcessInfo.processInfo.activeProcessorCount { pool.append(acc) }
        }
        return top.sorted().map { (score: -$0.key, row: $0.item) }
    }

    /// A search's scores, one per row, and one bit per row for the rows it touched; all clear
    /// between searches. The candidate list's storage is kept too (a common term's postings
    /// grow it to thousands of rows).
    private struct Accumulator {
        var scores: [Float]
        var touched: [UInt64]
        var candidates: [Int32] = []

        init(rows: Int) {
            scores = [Float](repeating: 0, count: rows)
            touched = [UInt64](repeating: 0, count: (rows + 63) / 64)
        }
    }

    private func slot(of dim: UInt32) -> Int? {
        var low = 0
        var high = dims.count
        while low < high {
            let mid = (low + high) / 2
            if dims[mid] < dim { low = mid + 1 } else { high = mid }
        }
        return low < dims.count && dims[low] == dim ? low : nil
    }

    func serialized() throws(ElanusError) -> [UInt8] {
        var w = ByteWriter(capacity: 64 + dims.count * 12 + postingRows.count * 8)
        w.writeArray(dims)
        w.writeArray(offsets)
        w.writeArray(postingRows)
        w.writeArray(postingValues)
        return w.bytes
    }

    static func deserialize(_ body: [UInt8], name: String, plan: IndexPlan, rows: Int) throws(ElanusError) -> SparseInvertedIndex {
        var r = ByteReader(body, what: name)
        let dims = try r.readArray(UInt32.self)
        let offsets = try r.readArray(Int64.self)
        let postingRows = try r.readArray(Int32.self)
        let postingValues = try r.readArray(Float.self)
        guard offsets.count == dims.count + 1, offsets.first == 0, offsets.last == Int64(postingRows.count),
            postingValues.count == postingRows.count, zip(offsets, offsets.dropFirst()).allSatisfy({ $0 <= $1 }),
            postingRows.allSatisfy({ $0 >= 0 && Int($0) < rows })
        else { throw .unexpected("\(name) is corrupt: inconsistent posting lists") }
        return SparseInvertedIndex(plan: plan, rows: rows, dims: dims, offsets: offsets, postingRows: postingRows, postingValues: postingValues)
    }
}
