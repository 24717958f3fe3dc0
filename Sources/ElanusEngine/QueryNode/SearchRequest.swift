import ElanusCore
import ElanusQuery

/// A query vector in the form its field stores: floats (float, float16 and bfloat16 fields),
/// bytes (binary fields) or a sparse vector.
public enum QueryVector: Sendable, Equatable {
    case dense([Float])
    case binary([UInt8])
    case sparse(SparseVector)
    /// Raw text, for a BM25 function's output field: the engine analyzes it and scores by BM25.
    case text(String)
    /// A text query ready to score: term weights (query frequency times IDF) and the corpus's
    /// average document length, with the index's k1 and b.
    case bm25(BM25Query)
}

extension QueryVector {
    var isBM25: Bool { if case .bm25 = self { true } else { false } }
}

public struct BM25Query: Sendable, Equatable {
    public var weights: SparseVector
    public var averageLength: Double
    public var k1: Double
    public var b: Double

    /// The constants of knowhere's BM25 scorer for a posting-list walk: a term's part of the score
    /// is `weight * p1 * tf / (tf + p2 + p3 * dl)`, in single precision, one division a posting.
    /// All zero for an empty corpus, whose scores are 0.
    var postingScorer: (p1: Float, p2: Float, p3: Float) {
        guard averageLength > 0 else { return (0, 1, 0) }
        return (Float(k1 + 1), Float(k1 * (1 - b)), Float(k1 * b / averageLength))
    }

    /// A document's score: over the terms it shares with the query,
    /// weight * tf (k1 + 1) / (tf + k1 (1 - b + b dl / avgdl)), in double precision.
    func score(_ document: SparseVector) -> Float {
        guard averageLength > 0 else { return 0 }
        var length: Float = 0
        for value in document.values { length += value }
        let norm = k1 * (1 - b + b * Double(length) / averageLength)
        var score = 0.0
        var i = 0
        var j = 0
        let q = weights
        while i < q.indices.count && j < document.indices.count {
            if q.indices[i] == document.indices[j] {
                let tf = Double(document.values[j])
                score += Double(q.values[i]) * tf * (k1 + 1) / (tf + norm)
                i += 1
                j += 1
            } else if q.indices[i] < document.indices[j] {
                i += 1
            } else {
                j += 1
            }
        }
        return Float(score)
    }
}

/// One search, already validated by the proxy against the collection.
public struct SearchRequest: Sendable {
    public struct Grouping: Sendable {
        public var field: FieldSchema
        public var size: Int
        public init(field: FieldSchema, size: Int) {
            self.field = field
            self.size = size
        }
    }

    public var field: FieldSchema
    public var metric: Metric
    public var vectors: [QueryVector]
    public var limit: Int
    public var offset: Int
    public var predicate: Predicate?
    public var partitionNames: [String]
    public var radius: Float?
    public var rangeFilter: Float?
    public var grouping: Grouping?
    /// Per-request index search parameters: HNSW `ef`, IVF `nprobe` (nil: the defaults).
    public var ef: Int?
    public var nprobe: Int?
    /// Sparse inverted indexes: the share of the query's smallest values to skip.
    public var dropRatio: Double?
    /// SCANN's `reorder_k` and HNSW_SQ/HNSW_PQ's `refine_k` (nil: the defaults).
    public var reorderK: Int?
    public var refineK: Double?
    /// Milvus's `ignore_growing`: search only flushed segments, leaving out rows that are still
    /// in memory (growing or sealed but not yet written), as a Milvus query node skips its
    /// growing segments.
    public var ignoreGrowing = false

    public init(
        field: FieldSchema, metric: Metric, vectors: [QueryVector], limit: Int, offset: Int = 0, predicate: Predicate? = nil,
        partitionNames: [String] = [], radius: Float? = nil, rangeFilter: Float? = nil, grouping: Grouping? = nil,
        ef: Int? = nil, nprobe: Int? = nil, dropRatio: Double? = nil
    ) {
        self.dropRatio = dropRatio
        self.ef = ef
        self.nprobe = nprobe
        self.field = field
        self.metric = metric
        self.vectors = vectors
        self.limit = limit
        self.offset = offset
        self.predicate = predicate
        self.partitionNames = partitionNames
        self.radius = radius
        self.rangeFilter = rangeFilter
        self.grouping = grouping
    }
}

/// A search result: the score as Milvus reports it, and where the row is.
public struct SearchHit: Sendable {
    public var score: Float
    public let batch: EntityBatch
    public let row: Int

    public init(score: Float, batch: EntityBatch, row: Int) {
        self.score = score
        self.batch = batch
        self.row = row
    }
}
