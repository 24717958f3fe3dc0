import ElanusCore

/// The BM25 parameters of a BM25 function's output index (`bm25_k1`, `bm25_b`, and the
/// `inverted_index_algo` Milvus accepts), with Milvus's defaults and ranges.
public struct BM25Parameters: Sendable, Equatable {
    public var k1: Double = 1.2
    public var b: Double = 0.75

    public init() {}

    init(_ spec: IndexSpec) throws(ElanusError) {
        func value(_ key: String, _ range: ClosedRange<Double>) throws(ElanusError) -> Double? {
            guard let text = spec.params[key] else { return nil }
            guard let v = Double(text), range.contains(v) else {
                throw .invalidParameter("param '\(key)' (\(text)) should be in range [\(range.lowerBound), \(range.upperBound)] for index type \(spec.indexType)")
            }
            return v
        }
        if let k1 = try value("bm25_k1", 0...3) { self.k1 = k1 }
        if let b = try value("bm25_b", 0...1) { self.b = b }
        if let algo = spec.params["inverted_index_algo"], !["DAAT_MAXSCORE", "DAAT_WAND", "TAAT_NAIVE"].contains(algo) {
            throw .invalidParameter("param 'inverted_index_algo' (\(algo)) should be one of DAAT_MAXSCORE, DAAT_WAND, TAAT_NAIVE")
        }
    }

    /// The parameters of `field`'s index in `info` (the defaults when it has none).
    public static func of(_ field: FieldSchema, in info: CollectionInfo) -> BM25Parameters {
        guard let spec = info.indexes.first(where: { $0.fieldName == field.name }) else { return BM25Parameters() }
        return (try? BM25Parameters(spec)) ?? BM25Parameters()
    }

    /// Milvus's rule both ways: a BM25 function's output is indexed with metric BM25, and only
    /// such a field takes it.
    static func checkMetric(_ spec: IndexSpec, schema: CollectionSchema) throws(ElanusError) {
        let isOutput = schema.bm25Function(output: spec.fieldName) != nil
        let metric = spec.metricType.uppercased()
        if isOutput && metric != "BM25" {
            throw .invalidParameter("index metric type of BM25 function output field must be BM25, got \(spec.metricType.isEmpty ? "none" : spec.metricType)")
        }
        if !isOutput && metric == "BM25" {
            throw .invalidParameter("only BM25 Function output field support BM25 metric type")
        }
    }
}
