import ElanusCore
import ElanusQuery
import ElanusText

/// Full-text search: text queries on a BM25 function's output field become BM25 queries, with
/// term weights from the corpus statistics of the whole collection (every loaded partition,
/// whichever partitions the search reads, as Milvus's IDF covers the shard).
extension Engine {
    /// `request` with its text queries analyzed and weighted; other requests unchanged.
    func preparingFullText(_ info: CollectionInfo, _ request: SearchRequest) throws(ElanusError) -> SearchRequest {
        let hasText = request.vectors.contains { if case .text = $0 { true } else { false } }
        guard hasText || request.metric == .bm25 else { return request }
        let field = request.field
        guard let function = info.schema.bm25Function(output: field.name),
            let inputName = function.inputFieldNames.first, let input = info.schema.field(named: inputName)
        else {
            throw .invalidParameter("text queries need a BM25 function output field; field \(field.name) is not one")
        }
        guard request.metric == .bm25 else {
            throw .invalidParameter("metric type \(request.metric.rawValue) is not valid for the BM25 function output field \(field.name): use BM25")
        }
        let analyzer = try BM25Function.analyzer(of: input)
        var texts: [String] = []
        for vector in request.vectors {
            guard case .text(let text) = vector else {
                throw .invalidParameter("field \(field.name) is the output of BM25 function \(function.name): search it with text, not vectors")
            }
            texts.append(text)
        }
        let frequencies = analyzer.analyze(texts).map(BM25Function.termFrequencies)
        var terms = Set<UInt32>()
        for vector in frequencies { terms.formUnion(vector.indices) }
        let corpus = BM25Corpus(try snapshot(info, []), field: field.fieldID, terms: terms)
        let parameters = BM25Parameters.of(field, in: info)
        var prepared = request
        prepared.vectors = frequencies.map { tf in
            let weighted = SparseVector(
                indices: tf.indices, values: zip(tf.indices, tf.values).map { Float(Double($1) * corpus.idf($0)) })
            // drop_ratio_search: the query's smallest weights are left out, as Milvus does.
            let kept = SparseInvertedIndex.kept(weighted, dropRatio: request.dropRatio ?? 0)
            return .bm25(BM25Query(
                weights: SparseVector(indices: kept.map(\.0), values: kept.map(\.1)),
                // Knowhere's floor of 1 on the average length, so a corpus of empty texts scores finitely.
                averageLength: corpus.documents > 0 ? max(corpus.averageLength, 1) : 0, k1: parameters.k1, b: parameters.b))
        }
        return prepared
    }
}
