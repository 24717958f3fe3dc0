/// Stop word lists a `stop` filter (or the `stop_words` option of a built-in analyzer) can name
/// as `_language_`. Milvus takes these from the Snowball project; Elanus has the English one,
/// which the `english` analyzer also applies, and refuses the other names rather than treating
/// them as literal words.
enum StopWords {
    /// Milvus's (and Lucene's) English list.
    static let english: [String] = [
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
        "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
        "they", "this", "to", "was", "will", "with",
    ]

    /// The `_language_` names Milvus knows; all but `_english_` are refused by Elanus for now.
    static let milvusLanguages: Set<String> = [
        "_english_", "_chinese_", "_danish_", "_dutch_", "_finnish_", "_french_", "_german_", "_hungarian_",
        "_italian_", "_norwegian_", "_portuguese_", "_russian_", "_spanish_", "_swedish_",
    ]

    /// Expands `_english_` into its words; other entries are literal words.
    static func expand(_ entries: [String]) throws(AnalyzerError) -> Set<String> {
        var out = Set<String>()
        for entry in entries {
            if entry == "_english_" {
                out.formUnion(english)
            } else if milvusLanguages.contains(entry) {
                throw AnalyzerError("stop words list \(entry) is not available in Elanus yet; list the words instead")
            } else {
                out.insert(entry)
            }
        }
        return out
    }
}
