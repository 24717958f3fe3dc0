import ElanusCore

/// `analyzer_params` as Milvus 2.6 reads them:
///
/// - empty (or absent): the `standard` analyzer;
/// - `{"type": "standard" | "english", "stop_words": [...]}`: a built-in analyzer, with extra
///   stop words applied last;
/// - `{"tokenizer": name | {"type": name, ...}, "filter": [name | {"type": ..., ...}, ...]}`: a
///   custom analyzer; no other keys.
///
/// What Milvus has and Elanus does not (the jieba, lindera, icu, ... tokenizers, the `chinese`
/// analyzer, the synonym filter) is refused by name, so a schema never silently analyzes text
/// differently from Milvus.
extension Analyzer {
    /// Tokenizers Milvus has that Elanus does not build yet.
    static let missingTokenizers: Set<String> = ["jieba", "lindera", "icu", "lang_ident", "char_group", "grpc", "language_identifier"]

    /// Parses the text form that a field's type params and `run_analyzer` carry.
    public static func parse(text: String) throws(AnalyzerError) -> Analyzer {
        if text.isEmpty { return .standard }
        let json: JSON
        do { json = try JSON.parse(text) } catch { throw AnalyzerError("analyzer params are not valid JSON: \(error)") }
        return try parse(json)
    }

    public static func parse(_ params: JSON) throws(AnalyzerError) -> Analyzer {
        guard case .object(let members) = params else { throw AnalyzerError("analyzer params should be a json map") }
        if members.isEmpty { return .standard }
        if let type = params["type"] {
            guard case .string(let name) = type else { throw AnalyzerError("analyzer type should be string") }
            var analyzer: Analyzer
            switch name {
            case "standard": analyzer = .standard
            case "english": analyzer = .english
            case "chinese": throw AnalyzerError("the chinese analyzer (jieba tokenizer) is not supported by Elanus yet")
            default: throw AnalyzerError("unknown build-in analyzer type: \(name)")
            }
            if let words = params["stop_words"] {
                let stop = try StopWords.expand(try stringList(words, "filter stop_words"))
                if !stop.isEmpty { analyzer.filters.append(.stop(stop)) }
            }
            return analyzer
        }
        guard let tokenizerParams = params["tokenizer"] else { throw AnalyzerError("tokenizer name or type must be set") }
        var analyzer = Analyzer(tokenizer: try tokenizer(tokenizerParams))
        for member in members {
            switch member.key {
            case "tokenizer": continue
            case "filter": analyzer.filters += try filters(member.value)
            case "multi_analyzer_params": throw AnalyzerError("multi_analyzer_params is not supported by Elanus yet")
            default: throw AnalyzerError("unknown analyzer option key: \(member.key)")
            }
        }
        return analyzer
    }

    static func tokenizer(_ params: JSON) throws(AnalyzerError) -> Tokenizer {
        let name: String
        var options: JSON?
        switch params {
        case .string(let s): name = s
        case .object:
            guard let type = params["type"] else { throw AnalyzerError("costum tokenizer must set type") }
            guard case .string(let s) = type else { throw AnalyzerError("tokenizer type should be string") }
            name = s
            options = params
        default: throw AnalyzerError("tokenizer name should be string or dict")
        }
        switch name {
        case "standard":
            return try standardTokenizer(options)
        case "whitespace":
            return .whitespace
        case let other where missingTokenizers.contains(other):
            throw AnalyzerError("tokenizer \(other) is not supported by Elanus yet; use standard or whitespace")
        default:
            throw AnalyzerError("unsupported tokenizer: \(name)")
        }
    }

    /// The standard tokenizer's options: `uax29` (bool) and, with it, `max_token_length`.
    private static func standardTokenizer(_ options: JSON?) throws(AnalyzerError) -> Tokenizer {
        guard let options else { return .standard }
        var uax29 = false
        if let value = options["uax29"] {
            guard case .bool(let b) = value else { throw AnalyzerError("standard tokenizer uax29 must be a boolean") }
            uax29 = b
        }
        guard let lengthValue = options["max_token_length"] else { return uax29 ? .uax29(maxTokenLength: Tokenizer.defaultMaxTokenLength) : .standard }
        guard uax29 else { throw AnalyzerError("standard tokenizer max_token_length requires uax29 to be true") }
        guard case .int(let n) = lengthValue, n >= 1, n <= Int64(Tokenizer.maxTokenLengthLimit) else {
            throw AnalyzerError("standard tokenizer max_token_length must be between 1 and \(Tokenizer.maxTokenLengthLimit)")
        }
        return .uax29(maxTokenLength: Int(n))
    }

    static func filters(_ params: JSON) throws(AnalyzerError) -> [TokenFilter] {
        guard case .array(let items) = params else { throw AnalyzerError("filter params should be array") }
        var out: [TokenFilter] = []
        for item in items {
            switch item {
            case .string(let name):
                guard let filter = TokenFilter.named(name) else { throw AnalyzerError("build analyzer failed, filter not found :\(name)") }
                out.append(filter)
            case .object:
                out.append(try filter(item))
            default:
                throw AnalyzerError("filter should be a name or a dict, got \(item.typeName)")
            }
        }
        return out
    }

    static func filter(_ params: JSON) throws(AnalyzerError) -> TokenFilter {
        guard let typeValue = params["type"] else { throw AnalyzerError("no type field in filter params") }
        guard case .string(let type) = typeValue else { throw AnalyzerError("filter type should be string") }
        switch type {
        case "length":
            guard case .int(let max)? = params["max"], max >= 0 else { throw AnalyzerError("lenth max param was none or not uint") }
            return .length(max: Int(max))
        case "stop":
            guard let words = params["stop_words"] else { throw AnalyzerError("stop filter stop_words can't be empty") }
            return .stop(try StopWords.expand(try stringList(words, "stop_words filter")))
        case "decompounder":
            guard case .array? = params["word_list"] else { throw AnalyzerError("decompounder word list should be array") }
            let words = try stringList(params["word_list"]!, "decompounder word list")
            let set = Set(words.filter { !$0.isEmpty })
            return .decompounder(words: set, longest: set.map(\.unicodeScalars.count).max() ?? 0)
        case "stemmer":
            guard case .string(let language)? = params["language"] else { throw AnalyzerError("stemmer language field should be string") }
            guard let algorithm = SnowballStemmer.languages[language.lowercased()], SnowballStemmer(algorithm: algorithm) != nil else {
                throw AnalyzerError("create stemmer failed : unsupport language: \(language.lowercased())")
            }
            return .stemmer(algorithm: algorithm)
        case "regex":
            guard let expr = params["expr"] else { throw AnalyzerError("must set expr for regex filter") }
            guard case .string(let pattern) = expr else { throw AnalyzerError("expr must be string") }
            return .regex(try TokenRegex(pattern))
        case "synonym":
            throw AnalyzerError("the synonym filter is not supported by Elanus yet")
        default:
            if TokenFilter.named(type) != nil { return TokenFilter.named(type)! }
            throw AnalyzerError("unsupport filter type: \(type)")
        }
    }

    static func stringList(_ value: JSON, _ label: String) throws(AnalyzerError) -> [String] {
        guard case .array(let items) = value else { throw AnalyzerError("\(label) should be array") }
        var out: [String] = []
        for item in items {
            guard case .string(let s) = item else { throw AnalyzerError("\(label) list item should be string") }
            out.append(s)
        }
        return out
    }
}
