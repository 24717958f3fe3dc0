/// A text analyzer: one tokenizer, then filters in order (Milvus's `analyzer_params`). A value,
/// built once per field from its parameters and shared between threads; each call to `analyze`
/// makes the few C objects its filters need (stemmers, regex matchers) for that call alone.
public struct Analyzer: Equatable, Sendable {
    public var tokenizer: Tokenizer
    public var filters: [TokenFilter]

    public init(tokenizer: Tokenizer, filters: [TokenFilter] = []) {
        self.tokenizer = tokenizer
        self.filters = filters
    }

    /// Milvus's built-in `standard` analyzer: the standard tokenizer and lower case (the default
    /// for a field with no `analyzer_params`).
    public static let standard = Analyzer(tokenizer: .standard, filters: [.lowercase])

    /// Milvus's built-in `english` analyzer: standard tokenizer, lower case, the English Snowball
    /// stemmer, then English stop words.
    public static let english = Analyzer(
        tokenizer: .standard, filters: [.lowercase, .stemmer(algorithm: "english"), .stop(Set(StopWords.english))])

    public func analyze(_ text: String) -> [Token] { analyze([text])[0] }

    /// Each text's tokens, with one set of filter state for the whole batch.
    public func analyze(_ texts: [String]) -> [[Token]] {
        let run = FilterRun()
        return texts.map { text in
            var tokens = tokenizer.tokenize(text)
            for filter in filters where !tokens.isEmpty { run.apply(filter, to: &tokens) }
            return tokens
        }
    }
}
