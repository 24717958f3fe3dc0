import CFaiss
import ElanusCore
import ElanusQuery

/// Brute-force search over a ScanPlan: every allowed row's score against each query vector,
/// kept in a top-k heap. Float vectors without range or grouping are scanned in C
/// (ExactSearch+Kernel); the rest (half-precision, range, grouping) go through our SIMD kernels
/// here (the batched form when a whole chunk is allowed); binary and sparse scores are computed here.
struct ExactSearch {
    let request: SearchRequest
    let plan: ScanPlan
    /// Polled once per chunk: a chunk's scores cost little next to a request's deadline.
    var cancellation: Cancellation? = nil

    /// The hits of one query vector, best first: `limit` of them after `offset`, or, when the
    /// request groups, the hits of `limit` groups after `offset` groups.
    func run(_ query: QueryVector) throws(ElanusError) -> [SearchHit] {
        if scansInKernel, case .dense(let q) = query { return try kernelRun(q) }
        let k = request.grouping == nil ? request.limit + request.offset : Int.max
        var heap = TopK<(EntityBatch, Int)>(k: request.grouping == nil ? k : max(1, plan.rowCount))
        let metric = request.metric
        scores(query) { batch, row, score in
            guard metric.inRange(score, radius: request.radius, rangeFilter: request.rangeFilter) else { return }
            heap.push(metric.key(score), (batch, row))
        }
        // The scan stops early when the request is cancelled: its heap is then incomplete.
        try cancellation?.check()
        let hits = heap.sorted().map { SearchHit(score: metric.higherIsBetter ? -$0.key : $0.key, batch: $0.item.0, row: $0.item.1) }
        guard let grouping = request.grouping else { return Array(hits.dropFirst(request.offset)) }
        return group(hits, grouping)
    }

    /// Up to `limit` groups after skipping `offset` groups, by the grouping field's value (in the
    /// order of each group's best hit), each with up to `size` hits.
    func group(_ hits: [SearchHit], _ grouping: SearchRequest.Grouping) -> [SearchHit] {
        // Grouping fields are scalars (Bool, integers, VarChar), so their description is a key.
        var order: [String] = []
        var groups: [String: [SearchHit]] = [:]
        let maxGroups = request.limit + request.offset
        for hit in hits {
            let value = String(describing: hit.batch.column(grouping.field.fieldID)?.value(at: hit.row) ?? .null)
            if groups[value] == nil {
                guard order.count < maxGroups else { continue }
                order.append(value)
            }
            if groups[value, default: []].count < grouping.size { groups[value, default: []].append(hit) }
        }
        return order.dropFirst(request.offset).flatMap { groups[$0] ?? [] }
    }

    /// Calls `emit` with (batch, row, score) for every allowed row.
    private func scores(_ query: QueryVector, _ emit: (EntityBatch, Int, Float) -> Void) {
        switch query {
        case .dense(let q):
            denseScores(q, emit)
        case .binary(let q):
            for part in plan.parts {
                if stopped { break }
                guard case .binaryVector(let bytes)? = part.batch.column(request.field.fieldID)?.values else { continue }
                let w = q.count
                eachRow(part) { r in emit(part.batch, r, binaryScore(q, bytes, r * w)) }
            }
        case .sparse(let q):
            for part in plan.parts {
                if stopped { break }
                guard case .sparseVector(let rows)? = part.batch.column(request.field.fieldID)?.values else { continue }
                eachRow(part) { r in emit(part.batch, r, sparseInnerProduct(q, rows[r])) }
            }
        case .bm25(let q):
            for part in plan.parts {
                if stopped { break }
                guard case .sparseVector(let rows)? = part.batch.column(request.field.fieldID)?.values else { continue }
                // As Milvus: a document that shares no term with the query is no hit.
                eachRow(part) { r in
                    let score = q.score(rows[r])
                    if score > 0 { emit(part.batch, r, score) }
                }
            }
        case .text:
            break  // turned into .bm25 by the engine before any scan
        }
    }

    var stopped: Bool { cancellation?.isCancelled == true }

    private func eachRow(_ part: ScanPlan.Part, _ body: (Int) -> Void) {
        if let rows = part.rows { for r in rows { body(Int(r)) } } else { for r in 0..<part.batch.rowCount { body(r) } }
    }

    private func denseScores(_ q: [Float], _ emit: (EntityBatch, Int, Float) -> Void) {
        let d = q.count
        let metric = request.metric
        let queryNorm = metric == .cosine ? q.withUnsafeBufferPointer { vf_norm_l2sqr($0.baseAddress!, d).squareRoot() } : 1
        var scratch = [Float](repeating: 0, count: max(d, 1))
        var out = [Float]()
        q.withUnsafeBufferPointer { qp in
            let query = qp.baseAddress!
            func scoreFloats(_ part: ScanPlan.Part, _ base: UnsafePointer<Float>) {
                if part.rows == nil && metric != .cosine {
                    // The whole chunk: one batched kernel call.
                    let n = part.batch.rowCount
                    if out.count < n { out = [Float](repeating: 0, count: n) }
                    out.withUnsafeMutableBufferPointer { o in
                        if metric == .l2 { vf_l2sqr_ny(o.baseAddress!, query, base, d, n) } else { vf_inner_products_ny(o.baseAddress!, query, base, d, n) }
                    }
                    for r in 0..<n { emit(part.batch, r, out[r]) }
                } else {
                    eachRow(part) { r in emit(part.batch, r, denseScore(query, base + r * d, d, queryNorm)) }
                }
            }
            for part in plan.parts {
                if stopped { break }
                guard let values = part.batch.column(request.field.fieldID)?.values else { continue }
                switch values {
                case .floatVector(let floats):
                    floats.withUnsafeBufferPointer { scoreFloats(part, $0.baseAddress!) }
                case .borrowedFloatVector(let rows):
                    scoreFloats(part, rows.buffer.baseAddress!)
                case .halfVector(let bits):
                    let bfloat = request.field.dataType == .bfloat16Vector
                    eachRow(part) { r in
                        for i in 0..<d {
                            scratch[i] = HalfFloat.float(bits[r * d + i], bfloat16: bfloat)
                        }
                        let score = scratch.withUnsafeBufferPointer { denseScore(query, $0.baseAddress!, d, queryNorm) }
                        emit(part.batch, r, score)
                    }
                case .int8Vector(let bytes):
                    // Exact: int8 values are exact in float32, and so are their products and sums
                    // up to 2^24 (dim 1024 at 127 * 127 each), past which float rounding is the kernels'.
                    eachRow(part) { r in
                        for i in 0..<d { scratch[i] = Float(bytes[r * d + i]) }
                        let score = scratch.withUnsafeBufferPointer { denseScore(query, $0.baseAddress!, d, queryNorm) }
                        emit(part.batch, r, score)
                    }
                default:
                    continue
                }
            }
        }
    }

    @inline(__always) func denseScore(_ q: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ d: Int, _ queryNorm: Float) -> Float {
        switch request.metric {
        case .l2: return vf_l2sqr(q, x, d)
        case .ip: return vf_inner_product(q, x, d)
        default:
            let norm = vf_norm_l2sqr(x, d).squareRoot() * queryNorm
            return norm > 0 ? vf_inner_product(q, x, d) / norm : 0
        }
    }

    private func binaryScore(_ q: [UInt8], _ bytes: [UInt8], _ start: Int) -> Float {
        var xor = 0
        var and = 0
        var or = 0
        for i in 0..<q.count {
            let a = q[i]
            let b = bytes[start + i]
            xor += (a ^ b).nonzeroBitCount
            and += (a & b).nonzeroBitCount
            or += (a | b).nonzeroBitCount
        }
        if request.metric == .jaccard { return or == 0 ? 0 : 1 - Float(and) / Float(or) }
        return Float(xor)
    }

    private func sparseInnerProduct(_ a: SparseVector, _ b: SparseVector) -> Float {
        var i = 0
        var j = 0
        var sum: Float = 0
        while i < a.indices.count && j < b.indices.count {
            if a.indices[i] == b.indices[j] {
                sum += a.values[i] * b.values[j]
                i += 1
                j += 1
            } else if a.indices[i] < b.indices[j] {
                i += 1
            } else {
                j += 1
            }
        }
        return sum
    }
}
