import CFaiss
import CSystem
import ElanusCore
import ElanusStorage

/// A float (or Int8Vector, see IndexPlan+Int8.swift) vector index built by faiss (HNSW, HNSW_SQ,
/// HNSW_PQ, IVF_FLAT, IVF_SQ8, IVF_PQ, SCANN). Immutable once built,
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

    /// Rows handed to faiss per `add` call: the build copies one slice at a time rather than
    /// gathering the segment's vectors into a second whole copy.
    static let addSliceRows = 1 << 15

    /// Builds the index over `field`'s vectors in `segment` (normalized first for COSINE). Runs
    /// on the index node's threads; faiss may use `threads` threads. HNSW builds call
    /// `progress` (rows linked, rows to link) now and then on the calling thread.
    static func build(_ plan: IndexPlan, segment: Segment, field: FieldSchema, threads: Int, progress: BuildProgress? = nil) throws(ElanusError) -> FaissIndex {
        let dim = field.dim ?? 0
        let rows = segment.rowCount
        guard dim > 0 else { throw .unexpected("index type \(plan.indexType) has nothing to build") }
        let metric = plan.metric == .l2 ? Int32(VF_METRIC_L2) : Int32(VF_METRIC_INNER_PRODUCT)
        var made: OpaquePointer?
        if case .hnswQuantized(let m, _, let storage, _, _) = plan.kind {
            guard vf_index_hnsw_new(Int32(dim), metric, Int32(m), storage, &made) == 0 else { throw failure("HNSW over \(storage)") }
        } else {
            guard let factory = plan.factory(rows: rows) else { throw .unexpected("index type \(plan.indexType) has nothing to build") }
            guard vf_index_factory(Int32(dim), factory, metric, &made) == 0 else { throw failure("index_factory(\(factory))") }
        }
        guard let made else { throw .unexpected("faiss made no index for \(plan.indexType)") }
        let index = FaissIndex(pointer: made, plan: plan, dim: dim, rows: rows)
        if let refine = plan.refine, vf_index_add_refine(made, refine) != 0 { throw failure("refine \(refine)") }
        vf_set_omp_threads(Int32(max(1, threads)))
        defer { vf_set_omp_threads(1) }
        switch plan.kind {
        case .hnsw(_, let efConstruction), .hnswQuantized(_, let efConstruction, _, _, _):
            vf_index_set_hnsw(made, Int32(efConstruction), Int32(efCeiling))
            vf_index_reserve(made, Int64(rows))
        default: break
        }
        switch plan.kind {
        case .ivf, .scann, .hnswQuantized:
            // The quantizers train on every row (faiss samples what it needs).
            var all = segment.floatVectors(field)
            if plan.normalizes { normalize(&all, dim: dim) }
            // Int8 values stored as bytes 0...255 (see IndexPlan+Int8.swift): L2 distances
            // between them are the unshifted ones.
            if plan.storesShiftedInt8 { all = all.map { $0 + IndexPlan.int8Offset } }
            guard vf_index_train(made, Int64(rows), all) == 0 else { throw failure("train") }
            if case .hnswQuantized = plan.kind {
                // The storage keeps only codes, so the graph links from these raw vectors.
                guard vf_index_hnsw_append(made, Int64(rows), all) == 0 else { throw failure("add") }
                try link(made, vectors: all, progress: progress)
                guard vf_index_ntotal(made) == Int64(rows) else { throw .unexpected("faiss add: \(vf_index_ntotal(made)) of \(rows) rows indexed") }
                return index
            }
        default: break
        }
        let hnsw = if case .hnsw = plan.kind { true } else { false }
        var slice: [Float] = []
        slice.reserveCapacity(min(rows, addSliceRows) * dim)
        func add() throws(ElanusError) {
            if plan.normalizes { normalize(&slice, dim: dim) }
            // HNSW rows are only stored here and linked all together below.
            let status = hnsw ? vf_index_hnsw_append(made, Int64(slice.count / dim), slice) : vf_index_add(made, Int64(slice.count / dim), slice)
            guard status == 0 else { throw failure("add") }
            slice.removeAll(keepingCapacity: true)
        }
        try segment.forEachFloatChunk(field) { (chunk: UnsafeBufferPointer<Float>) throws(ElanusError) in
            // Between chunks: a cancelled build (shutdown, a dropped index) stops here too.
            if progress?.isCancelled == true { throw .unexpected("index build cancelled") }
            var offset = 0
            while offset < chunk.count {
                let take = min(chunk.count - offset, addSliceRows * dim - slice.count)
                slice.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[offset..<(offset + take)]))
                offset += take
                if slice.count == addSliceRows * dim { try add() }
            }
        }
        if !slice.isEmpty { try add() }
        if hnsw { try link(made, vectors: nil, progress: progress) }
        guard vf_index_ntotal(made) == Int64(rows) else { throw .unexpected("faiss add: \(vf_index_ntotal(made)) of \(rows) rows indexed") }
        return index
    }

    /// Links an HNSW index's stored rows into its graph, passing progress through the shim.
    /// `vectors`: every row's vectors for an index over quantized storage (nil: the flat storage's).
    private static func link(_ index: OpaquePointer, vectors: [Float]?, progress: BuildProgress?) throws(ElanusError) {
        func run(_ x: UnsafePointer<Float>?) -> Int32 {
            guard let progress else { return vf_index_hnsw_link_vectors(index, x, nil, nil) }
            let context = Unmanaged.passUnretained(progress).toOpaque()
            return withExtendedLifetime(progress) {
                vf_index_hnsw_link_vectors(index, x, { context, done, total in
                    Unmanaged<BuildProgress>.fromOpaque(context!).takeUnretainedValue().update(done: Int(done), total: Int(total)) ? 1 : 0
                }, context)
            }
        }
        let status = vectors.map { v in v.withUnsafeBufferPointer { run($0.baseAddress) } } ?? run(nil)
        guard status == 0 else {
            if progress?.isCancelled == true { throw .unexpected("index build cancelled") }
            throw failure("link")
        }
    }

    /// The raw vectors, in row order, when the index keeps them exactly as given (HNSW, or a
    /// flat refine step, over L2 or IP; COSINE keeps them normalized). A segment then borrows its column from here.
    var rawVectors: FloatRows? {
        guard !plan.normalizes, let base = vf_index_flat_vectors(pointer) else { return nil }
        return FloatRows(owner: self, base: base, count: rows * dim)
    }

    /// Scores are the metric's own (L2 squared distance, IP, cosine similarity).
    func search(_ query: QueryVector, k: Int, options: IndexSearchOptions, bitmap: [UInt8]?) throws(ElanusError) -> [(score: Float, row: Int)] {
        guard case .dense(var q) = query else { return [] }
        let (ef, nprobe) = (options.ef, options.nprobe)
        if plan.normalizes { FaissIndex.normalize(&q, dim: dim) }
        // Int8 rows stored shifted (L2 only): the query is shifted the same way.
        if plan.storesShiftedInt8 { q = q.map { $0 + IndexPlan.int8Offset } }
        let k = min(k, rows)
        guard k > 0 else { return [] }
        var distances = [Float](repeating: 0, count: k)
        var labels = [Int64](repeating: -1, count: k)
        // Serving threads search with one OpenMP thread (the facts file: more costs wake-ups).
        vf_set_omp_threads(1)
        // A refine step re-ranks this many of the base index's best rows (SCANN's reorder_k,
        // HNSW_SQ/PQ's refine_k times k).
        let candidates: Int
        switch plan.kind {
        case .scann: candidates = max(options.reorderK ?? k, k)
        case .hnswQuantized: candidates = Int(min(Double(rows), (Double(k) * max(1, options.refineK ?? 1)).rounded(.up)))
        default: candidates = k
        }
        let ef32 = Int32(min(ef ?? 0, FaissIndex.efCeiling))
        let status: Int32
        if let bitmap {
            status = vf_index_search_refined(pointer, 1, q, Int64(k), ef32, Int32(nprobe ?? 0), Int64(min(candidates, rows)), bitmap, bitmap.count, &distances, &labels)
        } else {
            status = vf_index_search_refined(pointer, 1, q, Int64(k), ef32, Int32(nprobe ?? 0), Int64(min(candidates, rows)), nil, 0, &distances, &labels)
        }
        guard status == 0 else { throw FaissIndex.failure("search") }
        var out: [(score: Float, row: Int)] = []
        for i in 0..<k where labels[i] >= 0 { out.append((distances[i], Int(labels[i]))) }
        return out
    }

    /// faiss's own serialization, the body of the index file, written straight into the file
    /// with no copy in memory.
    func writeBody(to writer: ChecksummedFileWriter) throws(ElanusError) {
        try writer.appendStreamed { (file: PendingFile) throws(ElanusError) in
            var length: UInt64 = 0
            var crc: UInt32 = 0
            guard vf_index_write_fd(pointer, file.descriptor, csys_crc32c, &length, &crc) == 0 else { throw FaissIndex.failure("write \(file.final)") }
            return (length, crc)
        }
    }

    /// Reads an index from a section of an open file whose checksum was verified.
    static func read(_ reader: ChecksummedFileReader, at offset: Int, length: Int, plan: IndexPlan, dim: Int, rows: Int) throws(ElanusError) -> FaissIndex {
        var made: OpaquePointer?
        guard vf_index_read_fd(reader.descriptor, UInt64(offset), UInt64(length), &made) == 0, let made else { throw failure("read \(reader.name)") }
        switch plan.kind {
        case .hnsw, .hnswQuantized: vf_index_set_hnsw(made, 0, Int32(efCeiling))
        default: break
        }
        let index = FaissIndex(pointer: made, plan: plan, dim: dim, rows: rows)
        guard vf_index_ntotal(made) == Int64(rows), Int(vf_index_dimension(made)) == dim else {
            throw .unexpected("\(reader.name) is corrupt: the index holds \(vf_index_ntotal(made)) rows of dimension \(vf_index_dimension(made))")
        }
        return index
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
