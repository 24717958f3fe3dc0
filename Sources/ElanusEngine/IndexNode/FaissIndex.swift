import CFaiss
import ElanusCore
import ElanusStorage

/// A float vector index built by faiss (HNSW, IVF_FLAT, IVF_SQ8, IVF_PQ). Immutable once built,
/// so searches run concurrently without a lock (faiss's search is const); it frees the faiss
/// object when the last reference goes.
final class FaissIndex: VectorIndex, @unchecked Sendable {
    private let pointer: OpaquePointer
    let plan: IndexPlan
    let dim: Int
    let rows: Int

    private init(pointer: OpaquePointer, plan: IndexPlan, dim: Int, rows: Int) {
        self.pointer = pointer
        self.plan = plan
        self.dim = dim
        self.rows = rows
    }

    deinit { vf_index_free(pointer) }

    /// The largest per-request HNSW ef honoured (faiss 1.7.3 sizes its candidate heap from the
    /// index member, so the member is set to this ceiling and each request bounds its steps).
    static let efCeiling = 4096

    static func failure(_ what: String) -> ElanusError { .unexpected("faiss \(what): \(String(cString: vf_last_error()))") }

    /// Builds the index over `vectors` (rows x dim, normalized first for COSINE). Runs on the
    /// index node's threads; faiss may use `threads` OpenMP threads.
    static func build(_ plan: IndexPlan, vectors: [Float], dim: Int, threads: Int) throws(ElanusError) -> FaissIndex {
        let rows = vectors.count / dim
        guard let factory = plan.factory(rows: rows) else { throw .unexpected("index type \(plan.indexType) has nothing to build") }
        var data = vectors
        if plan.normalizes { normalize(&data, dim: dim) }
        var made: OpaquePointer?
        guard vf_index_factory(Int32(dim), factory, plan.metric == .l2 ? Int32(VF_METRIC_L2) : Int32(VF_METRIC_INNER_PRODUCT), &made) == 0, let made else {
            throw failure("index_factory(\(factory))")
        }
        let index = FaissIndex(pointer: made, plan: plan, dim: dim, rows: rows)
        vf_set_omp_threads(Int32(max(1, threads)))
        defer { vf_set_omp_threads(1) }
        if case .hnsw(_, let efConstruction) = plan.kind { vf_index_set_hnsw(made, Int32(efConstruction), Int32(efCeiling)) }
        guard vf_index_train(made, Int64(rows), data) == 0 else { throw failure("train") }
        guard vf_index_add(made, Int64(rows), data) == 0 else { throw failure("add") }
        return index
    }

    /// Scores are the metric's own (L2 squared distance, IP, cosine similarity).
    func search(_ query: QueryVector, k: Int, options: IndexSearchOptions, bitmap: [UInt8]?) throws(ElanusError) -> [(score: Float, row: Int)] {
        guard case .dense(var q) = query else { return [] }
        let (ef, nprobe) = (options.ef, options.nprobe)
        if plan.normalizes { FaissIndex.normalize(&q, dim: dim) }
        let k = min(k, rows)
        guard k > 0 else { return [] }
        var distances = [Float](repeating: 0, count: k)
        var labels = [Int64](repeating: -1, count: k)
        // Serving threads search with one OpenMP thread (the facts file: more costs wake-ups).
        vf_set_omp_threads(1)
        let status: Int32
        if let bitmap {
            status = vf_index_search_with(pointer, 1, q, Int64(k), Int32(min(ef ?? 0, FaissIndex.efCeiling)), Int32(nprobe ?? 0), bitmap, bitmap.count, &distances, &labels)
        } else {
            status = vf_index_search_with(pointer, 1, q, Int64(k), Int32(min(ef ?? 0, FaissIndex.efCeiling)), Int32(nprobe ?? 0), nil, 0, &distances, &labels)
        }
        guard status == 0 else { throw FaissIndex.failure("search") }
        var out: [(score: Float, row: Int)] = []
        for i in 0..<k where labels[i] >= 0 { out.append((distances[i], Int(labels[i]))) }
        return out
    }

    /// faiss's own serialization, the body of the index file.
    func serialized() throws(ElanusError) -> [UInt8] {
        var buffer: UnsafeMutablePointer<UInt8>?
        var length = 0
        guard vf_index_serialize(pointer, &buffer, &length) == 0, let buffer else { throw FaissIndex.failure("serialize") }
        defer { vf_free(buffer) }
        return Array(UnsafeBufferPointer(start: buffer, count: length))
    }

    static func deserialize(_ body: [UInt8], name: String, plan: IndexPlan, dim: Int, rows: Int) throws(ElanusError) -> FaissIndex {
        var made: OpaquePointer?
        let status = body.withUnsafeBufferPointer { vf_index_deserialize($0.baseAddress, $0.count, &made) }
        guard status == 0, let made else { throw failure("read \(name)") }
        if case .hnsw = plan.kind { vf_index_set_hnsw(made, 0, Int32(efCeiling)) }
        return FaissIndex(pointer: made, plan: plan, dim: dim, rows: rows)
    }

    static func normalize(_ data: inout [Float], dim: Int) {
        data.withUnsafeMutableBufferPointer { p in
            for start in stride(from: 0, to: p.count, by: dim) {
                let norm = vf_norm_l2sqr(p.baseAddress! + start, dim).squareRoot()
                if norm > 0 { for i in start..<(start + dim) { p[i] /= norm } }
            }
        }
    }
}
