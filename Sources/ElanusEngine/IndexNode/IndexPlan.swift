import ElanusCore
import ElanusQuery

/// What an index spec means here: Milvus's index type and parameters validated against Milvus's
/// ranges, defaults filled in, and mapped onto a faiss index (or onto the exact scan).
///
/// - FLAT, BIN_FLAT: the exact scan; nothing to build.
/// - HNSW (M in [2, 2048], default 30; efConstruction >= 1, default 360): faiss `HNSW<M>`.
/// - IVF_FLAT, IVF_SQ8 (nlist in [1, 65536], default 128): faiss `IVF<nlist>,Flat` / `,SQ8`.
/// - IVF_PQ (nlist; m dividing dim, required; nbits in [1, 16], default 8): `IVF<nlist>,PQ<m>x<nbits>`.
/// - HNSW_SQ, HNSW_PQ: HNSW over scalar- or product-quantized storage, with an optional refine
///   step; SCANN: IVF over 4-bit PQ codes, re-ranked over the raw vectors. See
///   `IndexPlan+Quantized.swift`. IVF_RABITQ, HNSW_PRQ and DISKANN are refused (1100).
/// - AUTOINDEX on float vectors: HNSW with M=18, efConstruction=240, as Milvus maps it.
/// - HNSW (and AUTOINDEX) on an Int8Vector: the graph over one byte per dimension, not floats
///   (`int8HNSW` below).
/// - BIN_IVF_FLAT (nlist in [1, 65536], default 128; HAMMING or JACCARD): our binary IVF.
/// - SPARSE_INVERTED_INDEX, SPARSE_WAND (drop_ratio_build in [0, 1), default 0; IP): our sparse
///   inverted index.
/// - AUTOINDEX on binary vectors: BIN_IVF_FLAT with nlist=1024; on sparse vectors:
///   SPARSE_INVERTED_INDEX; as Milvus's default autoindex configuration maps them.
///
/// - STL_SORT (numeric), TRIE (VarChar), INVERTED and BITMAP (Bool, integers, VarChar; INVERTED
///   also Float and Double), and AUTOINDEX on those scalar fields: our sorted scalar index
///   (`SortedIndex`), which filters use instead of testing every row.
/// - NGRAM (VarChar, or a JSON path cast to VARCHAR; min_gram and max_gram required, 1 <=
///   min_gram <= max_gram): our n-gram index (`NgramIndex`), which narrows `like` filters to
///   candidate rows.
/// - INVERTED and AUTOINDEX on a JSON field (json_path, default the whole field; json_cast_type
///   required: BOOL, DOUBLE, VARCHAR, ARRAY_BOOL, ARRAY_DOUBLE, ARRAY_VARCHAR or JSON): a sorted
///   index over the path's values of the cast type for BOOL, DOUBLE and VARCHAR; the other casts
///   (and json_cast_function STRING_TO_DOUBLE) are accepted as in Milvus but build nothing, and
///   their filters scan. See `IndexPlan+JSON.swift`.
///
/// COSINE indexes hold normalized vectors under faiss's inner product. IVF and HNSW rows carry
/// their segment row numbers as faiss labels directly, never through IndexIDMap (the IVF trap in
/// the facts file).
public struct IndexPlan: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case exact
        case hnsw(m: Int, efConstruction: Int)
        case ivf(nlist: Int, codec: String, minTrainingRows: Int)
        /// HNSW over quantized storage (`vf_index_hnsw_new`: "SQ8", "PQ16x8", ...), with a refine
        /// step keeping the rows as `refine` ("FLAT", "SQ8", ...) when set.
        case hnswQuantized(m: Int, efConstruction: Int, storage: String, refine: String?, minTrainingRows: Int)
        /// SCANN: IVF over 4-bit PQ codes of `subquantizers` sub-vectors, with a refine step over
        /// the raw vectors when `withRawData`.
        case scann(nlist: Int, subquantizers: Int, withRawData: Bool)
        case binaryIVF(nlist: Int)
        case sparseInverted(dropRatio: Double)
        case scalarSorted
        /// An n-gram index for `like` (gram lengths in UTF-8 bytes).
        case ngram(minGram: Int, maxGram: Int)
        /// RTREE: the envelopes of a Geometry field's rows, for spatial filters.
        case rtree
        /// The implicit match index of a VarChar field with `enable_match` (`TextMatchIndex`),
        /// under the field's analyzer params (JSON text, empty for the standard analyzer).
        case textMatch(analyzerParams: String)
        /// The implicit BM25 term statistics of a BM25 function's output (`TermStatisticsIndex`).
        case termStatistics
    }

    public let indexType: String
    public let kind: Kind
    /// The vector metric (L2 for scalar indexes, where it means nothing).
    public let metric: Metric
    /// The JSON path a scalar index covers; nil for an index on a whole column.
    public var json: JSONIndexTarget? = nil

    /// The faiss factory string for `rows` vectors. IVF lists are capped so that each has about
    /// 39 training points (faiss's own minimum), so a small segment still trains.
    func factory(rows: Int) -> String? {
        switch kind {
        case .hnsw(let m, _): return "HNSW\(m)"
        case .ivf(let nlist, let codec, _): return "IVF\(max(1, min(nlist, rows / 39))),\(codec)"
        case .scann(let nlist, let subquantizers, _): return "IVF\(max(1, min(nlist, rows / 39))),PQ\(subquantizers)x4"
        case .exact, .hnswQuantized, .binaryIVF, .sparseInverted, .scalarSorted, .ngram, .rtree, .textMatch, .termStatistics: return nil
        }
    }

    var normalizes: Bool { metric == .cosine }

    /// Everything that shapes the index's content, written into its file's header: a file is
    /// only used under the plan it was built for (an L2 file must never serve a COSINE index
    /// that replaced it).
    var signature: String {
        let shape: String
        switch kind {
        case .exact: shape = "exact"
        case .hnsw(let m, let ef): shape = "hnsw m=\(m) efConstruction=\(ef)"
        case .ivf(let nlist, let codec, let minRows): shape = "ivf nlist=\(nlist) codec=\(codec) minRows=\(minRows)"
        case .hnswQuantized(let m, let ef, let storage, let refine, _):
            shape = "hnsw m=\(m) efConstruction=\(ef) storage=\(storage) refine=\(refine ?? "none")"
        case .scann(let nlist, let subquantizers, let raw): shape = "scann nlist=\(nlist) m=\(subquantizers) raw=\(raw)"
        case .binaryIVF(let nlist): shape = "binaryIVF nlist=\(nlist)"
        case .sparseInverted(let ratio): shape = "sparseInverted dropRatio=\(ratio)"
        case .scalarSorted: shape = "scalarSorted"
        case .ngram(let minGram, let maxGram): shape = "ngram min=\(minGram) max=\(maxGram)"
        case .rtree: shape = "rtree"
        case .textMatch(let params): shape = "textMatch analyzer=\(params)"
        case .termStatistics: shape = "termStatistics"
        }
        let path = json.map { " json=\($0.fieldID)\(JSONIndexTarget.pointer($0.path)) cast=\($0.cast.rawValue)" } ?? ""
        return "\(indexType.uppercased()) \(metric.rawValue) \(shape)\(path)"
    }

    /// The fewest rows a segment needs for this index to train (PQ needs 2^nbits points per
    /// code book); smaller segments are scanned exactly.
    var minimumRows: Int {
        switch kind {
        case .ivf(_, _, let rows), .hnswQuantized(_, _, _, _, let rows): return rows
        case .scann: return 16
        default: return 1
        }
    }

    /// The fewest rows a flushed segment needs before the index node builds this index, with
    /// `configured` the server's `index.minSegmentRows`. The implicit indexes (match index, BM25
    /// term statistics) are built for every flushed segment, as Milvus builds them: they hold
    /// what would otherwise be recomputed from the rows, however few, after every restart.
    func minimumSegmentRows(_ configured: Int) -> Int {
        switch kind {
        case .textMatch, .termStatistics: return 1
        default: return max(configured, minimumRows)
        }
    }

    /// What a refine step keeps of every row (see `vf_index_add_refine`), when the index has one.
    var refine: String? {
        switch kind {
        case .hnswQuantized(_, _, _, let refine, _): return refine
        case .scann(_, _, let raw): return raw ? "FLAT" : nil
        default: return nil
        }
    }

    public static func make(_ spec: IndexSpec, field: FieldSchema) throws(ElanusError) -> IndexPlan {
        if !field.dataType.isVector { return try scalar(spec, field: field) }
        let params = spec.params
        func int(_ key: String, default value: Int?, _ range: ClosedRange<Int>) throws(ElanusError) -> Int {
            try intParam(spec, key, default: value, range)
        }
        func ratio(_ key: String) throws(ElanusError) -> Double {
            guard let text = params[key] else { return 0 }
            guard let value = Double(text), value >= 0, value < 1 else {
                throw .invalidParameter("param '\(key)' (\(text)) should be in range [0, 1) for index type \(spec.indexType)")
            }
            return value
        }
        let metricName = spec.metricType.isEmpty ? defaultMetric(field.dataType) : spec.metricType.uppercased()
        // Metrics the exact scan does not compute (SUBSTRUCTURE, BM25, ...) are refused at search.
        let metric = Metric(rawValue: metricName) ?? Metric(rawValue: defaultMetric(field.dataType))!
        let isFloat = [.floatVector, .float16Vector, .bfloat16Vector, .int8Vector].contains(field.dataType)
        var kind: Kind
        switch spec.indexType.uppercased() {
        case "FLAT", "BIN_FLAT":
            kind = .exact
        case "HNSW":
            kind = .hnsw(m: try int("M", default: 30, 2...2048), efConstruction: try int("efConstruction", default: 360, 1...Int(Int32.max)))
        case "AUTOINDEX" where isFloat:
            kind = .hnsw(m: 18, efConstruction: 240)
        case "IVF_FLAT":
            kind = .ivf(nlist: try int("nlist", default: 128, 1...65536), codec: "Flat", minTrainingRows: 1)
        case "IVF_SQ8":
            kind = .ivf(nlist: try int("nlist", default: 128, 1...65536), codec: "SQ8", minTrainingRows: 1)
        case "IVF_PQ":
            let nlist = try int("nlist", default: 128, 1...65536)
            let dim = field.dim ?? 0
            let m = try int("m", default: nil, 1...max(1, dim))
            guard dim % m == 0 else { throw .invalidParameter("param 'm' (\(m)) must divide the dimension (\(dim)) for index type IVF_PQ") }
            let nbits = try int("nbits", default: 8, 1...16)
            kind = .ivf(nlist: nlist, codec: "PQ\(m)x\(nbits)", minTrainingRows: 1 << nbits)
        case "HNSW_SQ", "HNSW_PQ", "SCANN":
            kind = try quantized(spec, field: field)
        case let type where notYetSupported.contains(type):
            throw .invalidParameter("index type \(spec.indexType) is not supported by Elanus yet")
        case "BIN_IVF_FLAT":
            kind = .binaryIVF(nlist: try int("nlist", default: 128, 1...65536))
        case "AUTOINDEX" where field.dataType == .binaryVector:
            kind = .binaryIVF(nlist: 1024)
        case "SPARSE_INVERTED_INDEX", "SPARSE_WAND":
            // Checked for both metrics, but a BM25 index keeps every term: its document lengths
            // must be the ones the corpus statistics count (knowhere 2.6 ignores the parameter).
            let dropRatio = try ratio("drop_ratio_build")
            kind = .sparseInverted(dropRatio: metric == .bm25 ? 0 : dropRatio)
        case "AUTOINDEX" where field.dataType == .sparseFloatVector:
            kind = .sparseInverted(dropRatio: 0)
        default:
            kind = .exact
        }
        if field.dataType == .int8Vector, case .hnsw(let m, let efConstruction) = kind { kind = int8HNSW(m: m, efConstruction: efConstruction, metric: metric) }
        let supported: Bool
        switch kind {
        case .exact: return IndexPlan(indexType: spec.indexType, kind: kind, metric: metric)
        case .hnsw, .ivf, .hnswQuantized, .scann: supported = isFloat && [.l2, .ip, .cosine].contains(metric)
        case .binaryIVF: supported = field.dataType == .binaryVector && [.hamming, .jaccard].contains(metric)
        case .sparseInverted:
            supported = field.dataType == .sparseFloatVector && (metric == .ip || metric == .bm25)
            if metric == .bm25 { _ = try BM25Parameters(spec) }
        case .scalarSorted, .ngram, .rtree, .textMatch, .termStatistics: supported = false
        }
        guard supported, metric.rawValue == metricName else {
            throw .invalidParameter("index type \(spec.indexType) does not support metric \(metricName) on \(field.dataType.rawValue)")
        }
        return IndexPlan(indexType: spec.indexType, kind: kind, metric: metric)
    }

    /// Float vector index types of a standalone CPU Milvus 2.6 that Elanus refuses (1100).
    public static let notYetSupported: Set<String> = ["IVF_RABITQ", "HNSW_PRQ", "DISKANN"]

    /// An integer index parameter within Milvus's range, or its default (nil: required).
    static func intParam(_ spec: IndexSpec, _ key: String, default value: Int?, _ range: ClosedRange<Int>) throws(ElanusError) -> Int {
        guard let text = spec.params[key] else {
            guard let value else { throw .invalidParameter("param '\(key)' is required for index type \(spec.indexType)") }
            return value
        }
        guard let n = Int(text), range.contains(n) else {
            throw .invalidParameter("param '\(key)' (\(text)) should be in range [\(range.lowerBound), \(range.upperBound)] for index type \(spec.indexType)")
        }
        return n
    }

    /// A scalar index: which types each index type covers, as Milvus documents them.
    static func scalar(_ spec: IndexSpec, field: FieldSchema) throws(ElanusError) -> IndexPlan {
        let integers: Set<DataType> = [.int8, .int16, .int32, .int64]
        let strings: Set<DataType> = [.varChar, .string]
        let type = spec.indexType.uppercased()
        if field.dataType == .json, ["INVERTED", "AUTOINDEX", "NGRAM"].contains(type) { return try json(spec, field: field) }
        // Milvus 2.6 indexes a Geometry field with RTREE only (AUTOINDEX picks it).
        if field.dataType == .geometry || type == "RTREE" {
            guard field.dataType == .geometry, ["RTREE", "AUTOINDEX"].contains(type) else {
                throw .invalidParameter("index type \(spec.indexType) cannot index field \(field.name) of type \(field.dataType.rawValue): RTREE covers Geometry fields, and is the only index they take")
            }
            return IndexPlan(indexType: spec.indexType, kind: .rtree, metric: .l2)
        }
        let (accepted, what): (Set<DataType>, String) =
            switch type {
            case "STL_SORT": (integers.union([.float, .double, .timestamptz]), "numeric fields and Timestamptz fields")
            case "TRIE": (strings, "VarChar fields")
            case "BITMAP": (integers.union(strings).union([.bool]), "Bool, integer and VarChar fields")
            case "INVERTED", "AUTOINDEX": (integers.union(strings).union([.bool, .float, .double, .timestamptz]), "Bool, numeric, Timestamptz and VarChar fields")
            case "NGRAM": (strings, "VarChar and JSON fields")
            default:
                throw .invalidParameter(
                    "index type \(spec.indexType) is not supported for scalar field \(field.name), supported: AUTOINDEX, BITMAP, INVERTED, NGRAM, STL_SORT, Trie")
            }
        guard accepted.contains(field.dataType) else {
            if type == "NGRAM" { throw invalidIndexParams("Ngram index can only be created on VARCHAR or JSON field: invalid parameter") }
            let note = field.dataType == .array ? " (indexes on Array fields are not supported by Elanus yet)" : ""
            throw .invalidParameter("index type \(spec.indexType) cannot index field \(field.name) of type \(field.dataType.rawValue): it covers \(what)\(note)")
        }
        if type == "NGRAM" {
            let (minGram, maxGram) = try ngramParams(spec)
            return IndexPlan(indexType: spec.indexType, kind: .ngram(minGram: minGram, maxGram: maxGram), metric: .l2)
        }
        return IndexPlan(indexType: spec.indexType, kind: .scalarSorted, metric: .l2)
    }

    static func defaultMetric(_ type: DataType) -> String {
        switch type {
        case .binaryVector: return "HAMMING"
        case .sparseFloatVector: return "IP"
        default: return "COSINE"
        }
    }
}
