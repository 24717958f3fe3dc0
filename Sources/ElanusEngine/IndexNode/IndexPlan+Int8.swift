import ElanusCore
import ElanusQuery

/// HNSW over an Int8Vector field keeps one byte per dimension under the graph, a quarter of the
/// floats a float HNSW stores: the memory saving the type exists for.
///
/// - L2: faiss's 8-bit direct scalar quantizer ("SQ8DIRECT"), which stores the bytes 0...255
///   and decodes them exactly, holds every value shifted by `int8Offset`. L2 does not see a
///   shift applied to both sides, so queries are shifted too and the graph's distances, and the
///   ranking, are the exact ones.
/// - IP and COSINE: 8-bit codes of the rows (normalized for COSINE), each dimension over its
///   trained range ("SQ8", one byte per dimension too): close but not exact scores, so searches
///   fetch `int8Candidates` rows and re-rank them. (The shifted direct codes would rank IP
///   exactly too, q . (x + 128) being q . x plus a constant per query, but the graph links rows
///   by the shifted products, where the rows with the largest sums are everyone's nearest: at
///   3000 clustered rows its recall@10 was 0.)
///
/// Whatever the metric, the hits of an Int8Vector index are scored again from the segment's
/// int8 column by the exact scan (`IndexedSearch`), so their scores are the exact scan's.
///
/// Index files built before this (a float HNSW over an Int8Vector field) carry another plan
/// signature: loading refuses them and the index node rebuilds them in this form.
extension IndexPlan {
    /// What the direct codes add to an int8 value to make it a byte.
    static let int8Offset: Float = 128

    /// The scalar quantizer name of the exact int8 codes.
    static let int8DirectStorage = "SQ8DIRECT"

    static func int8HNSW(m: Int, efConstruction: Int, metric: Metric) -> Kind {
        .hnswQuantized(m: m, efConstruction: efConstruction, storage: metric == .l2 ? int8DirectStorage : "SQ8", refine: nil, minTrainingRows: 1)
    }

    /// Whether the index stores int8 values shifted into bytes (see above).
    var storesShiftedInt8: Bool {
        if case .hnswQuantized(_, _, let storage, _, _) = kind { return storage == IndexPlan.int8DirectStorage }
        return false
    }

    /// How many rows an Int8Vector search asks its index for, to re-rank them exactly and keep
    /// `k`: COSINE's codes are approximate, so twice as many; the others rank exactly already.
    func int8Candidates(_ k: Int) -> Int { storesShiftedInt8 ? k : 2 * k }
}
