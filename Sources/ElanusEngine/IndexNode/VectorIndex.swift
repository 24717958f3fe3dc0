import CFaiss
import ElanusCore
import ElanusStorage

/// One segment's faiss index for one vector field: row i of the index is row i of the segment
/// (chunks concatenated in order). Immutable once built, so searches run concurrently without
/// a lock (faiss's search is const); it frees the faiss object when the last reference goes.
final class VectorIndex: @unchecked Sendable {
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
    static func build(_ plan: IndexPlan, vectors: [Float], dim: Int, threads: Int) throws(ElanusError) -> VectorIndex {
        let rows = vectors.count / dim
        guard let factory = plan.factory(rows: rows) else { throw .unexpected("index type \(plan.indexType) has nothing to build") }
        var data = vectors
        if plan.normalizes { normalize(&data, dim: dim) }
        var made: OpaquePointer?
        guard vf_index_factory(Int32(dim), factory, plan.metric == .l2 ? Int32(VF_METRIC_L2) : Int32(VF_METRIC_INNER_PRODUCT), &made) == 0, let made else {
            throw failure("index_factory(\(factory))")
        }
        let index = VectorIndex(pointer: made, plan: plan, dim: dim, rows: rows)
        vf_set_omp_threads(Int32(max(1, threads)))
        defer { vf_set_omp_threads(1) }
        if case .hnsw(_, let efConstruction) = plan.kind { vf_index_set_hnsw(made, Int32(efConstruction), Int32(efCeiling)) }
        guard vf_index_train(made, Int64(rows), data) == 0 else { throw failure("train") }
        guard vf_index_add(made, Int64(rows), data) == 0 else { throw failure("add") }
        return index
    }

    /// The k best rows among those set in `bitmap` (all when nil): (score, row), best first.
    /// Scores are the metric's own (L2 squared distance, IP, cosine similarity).
    func search(_ query: [Float], k: Int, ef: Int?, nprobe: Int?, bitmap: [UInt8]?) throws(ElanusError) -> [(score: Float, row: Int)] {
        var q = query
        if plan.normalizes { VectorIndex.normalize(&q, dim: dim) }
        let k = min(k, rows)
        guard k > 0 else { return [] }
        var distances = [Float](repeating: 0, count: k)
        var labels = [Int64](repeating: -1, count: k)
        // Serving threads search with one OpenMP thread (the facts file: more costs wake-ups).
        vf_set_omp_threads(1)
        let status: Int32
        if let bitmap {
            status = vf_index_search_with(pointer, 1, q, Int64(k), Int32(min(ef ?? 0, VectorIndex.efCeiling)), Int32(nprobe ?? 0), bitmap, bitmap.count, &distances, &labels)
        } else {
            status = vf_index_search_with(pointer, 1, q, Int64(k), Int32(min(ef ?? 0, VectorIndex.efCeiling)), Int32(nprobe ?? 0), nil, 0, &distances, &labels)
        }
        guard status == 0 else { throw VectorIndex.failure("search") }
        var out: [(score: Float, row: Int)] = []
        for i in 0..<k where labels[i] >= 0 { out.append((distances[i], Int(labels[i]))) }
        return out
    }

    // MARK: - Files

    static let magic = "ELINDEX1"
    static let version: UInt32 = 1

    /// The index file: ChecksummedFile framing with a header section (segment id, field id, row
    /// count, dim, index type) and faiss's own serialization.
    func encode(segmentID: Int64, fieldID: Int64) throws(ElanusError) -> [UInt8] {
        var buffer: UnsafeMutablePointer<UInt8>?
        var length = 0
        guard vf_index_serialize(pointer, &buffer, &length) == 0, let buffer else { throw VectorIndex.failure("serialize") }
        defer { vf_free(buffer) }
        var header = ByteWriter()
        header.write(segmentID)
        header.write(fieldID)
        header.write(UInt64(rows))
        header.write(UInt32(dim))
        header.write(plan.indexType)
        return ChecksummedFile.encode(magic: VectorIndex.magic, version: VectorIndex.version, sections: [header.bytes, Array(UnsafeBufferPointer(start: buffer, count: length))])
    }

    static func decode(_ bytes: [UInt8], name: String, plan: IndexPlan, expectRows: Int) throws(ElanusError) -> VectorIndex {
        let (fileVersion, sections) = try ChecksummedFile.decode(bytes, magic: magic, name: name)
        guard fileVersion == version, sections.count == 2 else { throw .unexpected("\(name) is corrupt: unexpected layout") }
        var h = ByteReader(sections[0], what: name)
        _ = try h.read(Int64.self)
        _ = try h.read(Int64.self)
        let rows = Int(try h.read(UInt64.self))
        let dim = Int(try h.read(UInt32.self))
        guard rows == expectRows else { throw .unexpected("\(name) indexes \(rows) rows, the segment has \(expectRows)") }
        var made: OpaquePointer?
        let status = sections[1].withUnsafeBufferPointer { vf_index_deserialize($0.baseAddress, $0.count, &made) }
        guard status == 0, let made else { throw failure("read \(name)") }
        if case .hnsw = plan.kind { vf_index_set_hnsw(made, 0, Int32(efCeiling)) }
        return VectorIndex(pointer: made, plan: plan, dim: dim, rows: rows)
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
