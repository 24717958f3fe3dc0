import ElanusCore

extension FieldSchema {
    /// The field's analyzer, from its `analyzer_params` (the standard analyzer when there are none).
    public func analyzer() throws(AnalyzerError) -> Analyzer {
        guard let text = analyzerParams else { return .standard }
        return try Analyzer.parse(text: text)
    }
}
