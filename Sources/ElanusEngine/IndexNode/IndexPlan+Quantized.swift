import ElanusCore

/// HNSW_SQ, HNSW_PQ and SCANN: Milvus 2.6's parameters (knowhere's FaissHnswSqConfig,
/// FaissHnswPqConfig and ScannConfig: names, ranges, defaults), mapped onto what faiss 1.7.3
/// builds.
///
/// - HNSW_SQ: M in [2, 2048] (30), efConstruction >= 1 (360); sq_type SQ4U, SQ6, SQ8 (default)
///   or FP16 (BF16 is refused: faiss 1.7.3 has no bfloat16 quantizer).
/// - HNSW_PQ: M, efConstruction as above; m in [1, 65536] (32) dividing dim; nbits in [1, 24]
///   (8). A segment needs 2^nbits rows to train the code books; smaller ones are scanned exactly.
/// - Both: refine (false) and refine_type (sq4u, sq6, sq8, fp16, fp32 or flat; bf16 refused): a
///   refine step keeps every row again in that form, and a search re-ranks
///   `ceil(limit * refine_k)` candidates (search param refine_k >= 1, default 1) by it. As in
///   knowhere, the step exists only when refine is true and refine_type is given.
/// - SCANN: nlist in [1, 65536] (128); sub_dim in [1, 65536] (2) dividing dim, so dim/sub_dim
///   4-bit PQ codes per row; with_raw_data (true) keeps the raw vectors, and a search re-ranks
///   its best `reorder_k` candidates (search param, default the limit) over them exactly.
///   faiss 1.7.3's fast-scan IVF takes no search parameters (no filter, no per-request nprobe),
///   so the codes are faiss's plain IVFPQ at 4 bits: the same codes, scanned without SIMD tables.
extension IndexPlan {
    static let scalarQuantizerTypes = ["SQ4U", "SQ6", "SQ8", "FP16", "BF16"]
    static let refineTypes = ["sq4u", "sq6", "sq8", "fp16", "bf16", "fp32", "flat"]

    static func quantized(_ spec: IndexSpec, field: FieldSchema) throws(ElanusError) -> Kind {
        let dim = field.dim ?? 0
        let type = spec.indexType.uppercased()
        if type == "SCANN" {
            let nlist = try intParam(spec, "nlist", default: 128, 1...65536)
            let subDim = try intParam(spec, "sub_dim", default: 2, 1...65536)
            guard dim % subDim == 0 else {
                throw .invalidParameter("The dimension of a vector (dim) should be a multiple of sub_dim. Dimension:\(dim), sub_dim:\(subDim)")
            }
            return .scann(nlist: nlist, subquantizers: max(1, dim / subDim), withRawData: try bool(spec, "with_raw_data", default: true))
        }
        let m = try intParam(spec, "M", default: 30, 2...2048)
        let efConstruction = try intParam(spec, "efConstruction", default: 360, 1...Int(Int32.max))
        let storage: String
        var minRows = 1
        if type == "HNSW_SQ" {
            let name = (spec.params["sq_type"] ?? "SQ8").uppercased()
            guard scalarQuantizerTypes.contains(name) else {
                throw .invalidParameter("invalid scalar quantizer type: \(spec.params["sq_type"] ?? ""), optional types are [\(scalarQuantizerTypes.joined(separator: ", "))]")
            }
            guard name != "BF16" else { throw .invalidParameter("sq_type BF16 of index type HNSW_SQ is not supported by Elanus yet, use FP16") }
            storage = name
        } else {
            let pqM = try intParam(spec, "m", default: 32, 1...65536)
            guard dim % pqM == 0 else {
                throw .invalidParameter(
                    "The dimension of the vector (dim) should be a multiple of the number of subquantizers (m). Dimension: \(dim), m: \(pqM)")
            }
            let nbits = try intParam(spec, "nbits", default: 8, 1...24)
            storage = "PQ\(pqM)x\(nbits)"
            minRows = 1 << nbits
        }
        let refine = try bool(spec, "refine", default: false)
        var refineType: String?
        if let text = spec.params["refine_type"] {
            guard refineTypes.contains(text.lowercased()) else {
                throw .invalidParameter("invalid refine type : \(text), optional types are [\(refineTypes.joined(separator: ", "))]")
            }
            guard text.lowercased() != "bf16" else { throw .invalidParameter("refine_type bf16 of index type \(spec.indexType) is not supported by Elanus yet, use fp16") }
            refineType = text.uppercased()
        }
        return .hnswQuantized(m: m, efConstruction: efConstruction, storage: storage, refine: refine ? refineType : nil, minTrainingRows: minRows)
    }

    /// A boolean index parameter: true or false, in any case.
    static func bool(_ spec: IndexSpec, _ key: String, default value: Bool) throws(ElanusError) -> Bool {
        guard let text = spec.params[key] else { return value }
        switch text.lowercased() {
        case "true": return true
        case "false": return false
        default: throw .invalidParameter("param '\(key)' (\(text)) should be true or false for index type \(spec.indexType)")
        }
    }
}
