import ElanusCore
import ElanusText

/// Milvus's BM25 function, run by the proxy on every insert and upsert: the input field's text
/// goes through the field's analyzer, and the output field gets the term frequencies as a sparse
/// vector (dimension = Milvus's hash of the token, value = how often it occurs). The vectors are
/// written to the WAL with the rest of the row, so replay, flush and compaction carry them
/// unchanged, and a document's length is the sum of its vector's values.
enum BM25Function {
    /// Checks the analyzer parameters of every text field of a new schema (1100 naming the field).
    static func validateAnalyzers(_ schema: CollectionSchema) throws(ElanusError) {
        for field in schema.fields where field.dataType == .varChar && (field.enableAnalyzer || field.analyzerParams != nil) {
            _ = try analyzer(of: field)
        }
    }

    static func analyzer(of field: FieldSchema) throws(ElanusError) -> Analyzer {
        do { return try field.analyzer() } catch {
            throw .invalidParameter("invalid analyzer params of field \(field.name): \(error.reason)")
        }
    }

    /// Replaces each BM25 output column of `batch` with the vectors computed from its input column.
    static func fill(_ batch: inout EntityBatch, schema: CollectionSchema) throws(ElanusError) {
        for function in schema.functions where function.type == .bm25 {
            guard let inputName = function.inputFieldNames.first, let outputName = function.outputFieldNames.first,
                let input = schema.field(named: inputName), let output = schema.field(named: outputName),
                let inputColumn = batch.column(input.fieldID)
            else { continue }
            guard case .string(let texts) = inputColumn.values else {
                throw .unexpected("BM25 function \(function.name): input field \(inputName) holds no text column")
            }
            let analyzer = try analyzer(of: input)
            // A null text (nullable input) analyzes as empty: its document has no terms.
            let valid = inputColumn.valid
            let documents = texts.enumerated().map { valid?[$0.offset] == false ? "" : $0.element }
            let vectors = analyzer.analyze(documents).map(termFrequencies)
            // A batch without the output column (an engine caller's own) gets one.
            let column = Column(fieldID: output.fieldID, values: .sparseVector(vectors))
            if let slot = batch.columns.firstIndex(where: { $0.fieldID == output.fieldID }) { batch.columns[slot] = column } else { batch.columns.append(column) }
        }
    }

    /// The sparse term-frequency vector of a token list: sorted dimensions, counts as values.
    static func termFrequencies(_ tokens: [Token]) -> SparseVector {
        var counts: [UInt32: Float] = [:]
        for token in tokens { counts[TermHash.of(token.text), default: 0] += 1 }
        let dims = counts.keys.sorted()
        return SparseVector(indices: dims, values: dims.map { counts[$0]! })
    }
}
