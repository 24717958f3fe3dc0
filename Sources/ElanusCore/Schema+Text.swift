/// The type params that turn on text analysis for a VarChar field (Milvus's names), read the way
/// Milvus's proxy reads them (Go's strconv.ParseBool spellings).
extension FieldSchema {
    public var enableAnalyzer: Bool { FieldSchema.flag(typeParams["enable_analyzer"]) }
    public var enableMatch: Bool { FieldSchema.flag(typeParams["enable_match"]) }
    /// The analyzer's parameters as JSON text; nil means the standard analyzer.
    public var analyzerParams: String? { typeParams["analyzer_params"] }

    static func flag(_ text: String?) -> Bool {
        guard let text else { return false }
        return GoBool.parse(text) == true
    }
}
