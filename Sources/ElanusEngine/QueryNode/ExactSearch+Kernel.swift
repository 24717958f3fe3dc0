import CFaiss
import ElanusCore
import ElanusQuery
import Foundation

/// The exact scan of float vectors without range or grouping, the common case: each chunk's rows
/// (all of them, or the plan's list of allowed rows) scored in C straight into the request's
/// top-k heap, with no score buffer and no call back into Swift per row. Several query vectors
/// at once go through BLAS matrix products (`blasThreshold`), as faiss's exact search does.
///
/// Results equal the generic scan's: the C heap pushes exactly as `TopK` does, and a batch's
/// kept rows are scored again one by one, so their scores are the single-query scores.
extension ExactSearch {
    /// From this many query vectors on, a request's vectors are scanned as matrix products (faiss
    /// uses BLAS from 20 queries on, `distance_compute_blas_threshold`).
    static let blasThreshold = 20

    /// Whether this request's scan runs in the kernel: float vectors, every hit a candidate (no
    /// range), one heap of `limit + offset` (no grouping).
    var scansInKernel: Bool {
        request.field.dataType == .floatVector && request.grouping == nil && request.radius == nil && request.rangeFilter == nil
            && [.l2, .ip, .cosine].contains(request.metric)
    }

    /// Every query vector's hits, best first: a batch through matrix products when there are
    /// enough float queries, spread over the cores in groups; one query a task otherwise.
    func runAll(_ vectors: [QueryVector]) throws(ElanusError) -> [[SearchHit]] {
        let dim = request.field.dim ?? 0
        let dense: [[Float]] = vectors.compactMap { if case .dense(let q) = $0, q.count == dim { q } else { nil } }
        guard scansInKernel, dense.count == vectors.count, vectors.count >= ExactSearch.blasThreshold, dim > 0 else {
            return try Engine.parallelMap(vectors.count) { i throws(ElanusError) in try run(vectors[i]) }
        }
        // Each group reads every row once for all its queries: groups of at least 8 queries,
        // at most one group a core (OpenBLAS runs on the calling thread; see BLASThreads).
        let groups = max(1, min(ProcessInfo.processInfo.activeProcessorCount, dense.count / 8))
        let size = (dense.count + groups - 1) / groups
        let parts = try Engine.parallelMap(groups) { g throws(ElanusError) in
            try batch(Array(dense[(g * size)..<min(dense.count, (g + 1) * size)]))
        }
        return parts.flatMap { $0 }
    }

    /// One query's hits through `vf_scan_topk`.
    func kernelRun(_ q: [Float]) throws(ElanusError) -> [SearchHit] {
        let k = request.limit + request.offset
        let d = q.count
        var keys = [Float](repeating: 0, count: k)
        var labels = [Int64](repeating: 0, count: k)
        var count = 0
        let metric = scanMetric
        q.withUnsafeBufferPointer { qp in
            let queryNorm = metric == Int32(VF_SCAN_COSINE) ? vf_norm_l2sqr(qp.baseAddress!, d).squareRoot() : 1
            keys.withUnsafeMutableBufferPointer { kp in
                labels.withUnsafeMutableBufferPointer { lp in
                    var heap = vf_topk(keys: kp.baseAddress, labels: lp.baseAddress, count: 0, k: k)
                    for (p, part) in plan.parts.enumerated() {
                        if stopped { break }
                        withRows(part) { base, rows, n in
                            vf_scan_topk(metric, qp.baseAddress!, queryNorm, base, d, rows, n, Int64(p) << 32, &heap)
                        }
                    }
                    count = heap.count
                }
            }
        }
        // The scan stops early when the request is cancelled: its heap is then incomplete.
        try cancellation?.check()
        return hits(keys: keys[0..<count], labels: labels[0..<count])
    }

    /// The hits of several queries (each of the field's dimension) through `vf_scan_topk_batch`,
    /// then each kept row scored again exactly.
    private func batch(_ queries: [[Float]]) throws(ElanusError) -> [[SearchHit]] {
        let k = request.limit + request.offset
        let nq = queries.count
        let d = queries[0].count
        let metric = scanMetric
        var flat: [Float] = []
        flat.reserveCapacity(nq * d)
        for q in queries { flat += q }
        let norms = metric == Int32(VF_SCAN_COSINE) ? queries.map { q in q.withUnsafeBufferPointer { vf_norm_l2sqr($0.baseAddress!, d).squareRoot() } } : []
        var keys = [Float](repeating: 0, count: nq * k)
        var labels = [Int64](repeating: 0, count: nq * k)
        var counts = [Int](repeating: 0, count: nq)
        flat.withUnsafeBufferPointer { qp in
            keys.withUnsafeMutableBufferPointer { kp in
                labels.withUnsafeMutableBufferPointer { lp in
                    var heaps = (0..<nq).map { i in vf_topk(keys: kp.baseAddress! + i * k, labels: lp.baseAddress! + i * k, count: 0, k: k) }
                    norms.withUnsafeBufferPointer { np in
                        for (p, part) in plan.parts.enumerated() {
                            if stopped { break }
                            withRows(part) { base, rows, n in
                                vf_scan_topk_batch(metric, qp.baseAddress!, np.baseAddress, nq, base, d, rows, n, Int64(p) << 32, &heaps)
                            }
                        }
                    }
                    for i in 0..<nq { counts[i] = heaps[i].count }
                }
            }
        }
        try cancellation?.check()
        // The products' keys differ from a single query's by rounding: the kept rows get the
        // single-query scores (the same kernel calls as `vf_scan_topk`), then are ordered by them.
        return (0..<nq).map { i in
            let slots = (i * k)..<(i * k + counts[i])
            var exact = [Float](repeating: 0, count: counts[i])
            queries[i].withUnsafeBufferPointer { qp in
                let queryNorm = metric == Int32(VF_SCAN_COSINE) ? norms[i] : 1
                for (s, slot) in slots.enumerated() {
                    let label = labels[slot]
                    withRows(plan.parts[Int(label >> 32)]) { base, _, _ in
                        let row = UnsafePointer(base + Int(label & 0xffff_ffff) * d)
                        exact[s] = request.metric.key(denseScore(qp.baseAddress!, row, d, queryNorm))
                    }
                }
            }
            return hits(keys: exact[...], labels: labels[slots])
        }
    }

    /// The heap's kept candidates as hits, best first, after `offset`: ordered as `TopK.sorted`
    /// orders them (slot order, then a stable sort by key).
    private func hits(keys: ArraySlice<Float>, labels: ArraySlice<Int64>) -> [SearchHit] {
        let higherIsBetter = request.metric.higherIsBetter
        let order = keys.indices.sorted { keys[$0] < keys[$1] }
        return order.dropFirst(request.offset).map { s in
            let label = labels[labels.startIndex + (s - keys.startIndex)]
            return SearchHit(score: higherIsBetter ? -keys[s] : keys[s], batch: plan.parts[Int(label >> 32)].batch, row: Int(label & 0xffff_ffff))
        }
    }

    private var scanMetric: Int32 {
        switch request.metric {
        case .l2: Int32(VF_SCAN_L2)
        case .ip: Int32(VF_SCAN_IP)
        default: Int32(VF_SCAN_COSINE)
        }
    }

    /// Calls `body` with a part's float vectors, its allowed rows (nil: all) and their count;
    /// nothing for a chunk without the field's floats.
    private func withRows(_ part: ScanPlan.Part, _ body: (UnsafePointer<Float>, UnsafePointer<Int32>?, Int) -> Void) {
        func scan(_ base: UnsafePointer<Float>) {
            if let rows = part.rows {
                rows.withUnsafeBufferPointer { body(base, $0.baseAddress, $0.count) }
            } else {
                body(base, nil, part.batch.rowCount)
            }
        }
        guard part.count > 0, let values = part.batch.column(request.field.fieldID)?.values else { return }
        switch values {
        case .floatVector(let floats): floats.withUnsafeBufferPointer { if let base = $0.baseAddress { scan(base) } }
        case .borrowedFloatVector(let rows): if let base = rows.buffer.baseAddress { scan(base) }
        default: return
        }
    }
}
