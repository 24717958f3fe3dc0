import ElanusCore
import ElanusText

/// Milvus 2.6.8's lexical highlighter: for each hit of a search, the fragments of a text field
/// around the tokens a query asked for. The terms come from the BM25 search's own query text
/// (`highlight_search_text`) and from `highlight_query` entries (`TextMatch` queries on any
/// field with an analyzer); text and terms go through the field's analyzer, so a stemmed query
/// word highlights every form of it. Both front ends hand over the parameters as Milvus's
/// key/value text, so they are read and checked in one place.
public struct Highlighter: Sendable {
    public struct Query: Sendable, Equatable {
        public var field: String
        public var text: String
    }

    /// Milvus's semantic highlighter calls a model provider's service; Elanus has none.
    public static let semanticRefused = ElanusError.invalidParameter(
        "semantic highlighting needs a model provider, which Elanus does not have; use a lexical highlighter")

    public var options = HighlightOptions()
    public var highlightSearchText = false
    public var queries: [Query] = []

    /// The highlighted fragments of one field, for every hit in order (queries' hits one after
    /// another, as the answer lists them).
    public struct FieldResult: Sendable, Equatable {
        public var fieldName: String
        public var fragments: [[String]]
    }

    /// Reads Milvus's parameters (`pre_tags`, `post_tags`, `fragment_size`, `num_of_fragments`,
    /// `fragment_offset`, `highlight_search_text`, `highlight_query`), checked in Milvus's order
    /// with its messages. Lists and objects are JSON text, as pymilvus sends them.
    public init(params: [(key: String, value: String)]) throws(ElanusError) {
        var map: [String: String] = [:]
        for (key, value) in params { map[key] = value }
        if let text = map["pre_tags"] { options.preTags = try Self.tags(text, "pre_tags", "string array") }
        if let text = map["post_tags"] { options.postTags = try Self.tags(text, "post_tags", "string list") }
        if let text = map["fragment_size"] {
            guard let size = Int64(text), size > 0 else { throw .invalidParameter("invalid fragment_size: \(text)") }
            options.fragmentSize = Int(size)
        }
        if let text = map["num_of_fragments"] {
            guard let count = Int64(text), count >= 0 else { throw .invalidParameter("invalid num_of_fragments: \(text)") }
            options.fragmentCount = Int(count)
        }
        if let text = map["fragment_offset"] {
            guard let offset = Int64(text), offset >= 0 else { throw .invalidParameter("invalid fragment_offset: \(text)") }
            options.fragmentOffset = Int(offset)
        }
        if let text = map["highlight_search_text"] {
            guard let enabled = GoBool.parse(text) else {
                throw .invalidParameter("unmarshal highlight_search_text as bool failed: strconv.ParseBool: parsing \"\(text)\": invalid syntax")
            }
            highlightSearchText = enabled
        }
        if let text = map["highlight_query"] { queries = try Self.queries(text) }
    }

    private static func tags(_ text: String, _ key: String, _ what: String) throws(ElanusError) -> [String] {
        guard let parsed = try? JSON.parse(text), case .array(let items) = parsed else {
            throw .invalidParameter("unmarshal \(key) as \(what) failed: \(text) is not a JSON array of strings")
        }
        var tags: [String] = []
        for item in items {
            guard case .string(let tag) = item else {
                throw .invalidParameter("unmarshal \(key) as \(what) failed: \(item) is not a string")
            }
            tags.append(tag)
        }
        guard !tags.isEmpty else { throw .invalidParameter("\(key) cannot be empty list") }
        return tags
    }

    private static func queries(_ text: String) throws(ElanusError) -> [Query] {
        guard let parsed = try? JSON.parse(text), case .array(let items) = parsed else {
            throw .invalidParameter("unmarshal highlight queries as json array failed: \(text) is not a JSON array")
        }
        var out: [Query] = []
        for item in items {
            guard case .object = item else {
                throw .invalidParameter("unmarshal highlight queries failed: item in array is not json object")
            }
            guard let text = item["text"] else { throw .invalidParameter("unmarshal highlight queries failed: must set `text` in query") }
            guard case .string(let query) = text else { throw .invalidParameter("unmarshal highlight queries failed: `text` must be string") }
            guard let type = item["type"] else { throw .invalidParameter("unmarshal highlight queries failed: must set `type` in query") }
            guard case .string(let typeName) = type else { throw .invalidParameter("unmarshal highlight queries failed: `type` must be string") }
            // Milvus's HighlightQueryType has one value.
            guard typeName == "TextMatch" else {
                throw .invalidParameter("unmarshal highlight queries failed: invalid highlight query type: \(typeName)")
            }
            guard let field = item["field"] else { throw .invalidParameter("unmarshal highlight queries failed: must set `field` in query") }
            guard case .string(let name) = field else { throw .invalidParameter("unmarshal highlight queries failed: `field` must be string") }
            out.append(Query(field: name, text: query))
        }
        return out
    }

    /// One field to highlight: the terms of each query of the search (from its text, when the
    /// search's text is highlighted) and the terms of every `highlight_query` on the field.
    struct Task {
        var field: FieldSchema
        var searchTexts: [String] = []
        var queryTexts: [String] = []
    }

    /// Checks the fields and the search against the schema, as Milvus does before searching.
    public func check(_ request: SearchRequest, schema: CollectionSchema) throws(ElanusError) {
        _ = try tasks(request, schema: schema)
    }

    /// The tasks of `request`, checked against the schema as Milvus checks them.
    func tasks(_ request: SearchRequest, schema: CollectionSchema) throws(ElanusError) -> [Task] {
        var tasks: [Task] = []
        if highlightSearchText {
            guard request.metric == .bm25 else {
                throw .invalidParameter("Search highlight only support with metric type \"BM25\" but was: \(request.metric.rawValue)")
            }
            guard let function = schema.bm25Function(output: request.field.name),
                let name = function.inputFieldNames.first, let input = schema.field(named: name)
            else { throw .unexpected("Search with highlight failed, input field of BM25 annsField not found") }
            let texts = request.vectors.compactMap { vector -> String? in if case .text(let text) = vector { text } else { nil } }
            tasks.append(Task(field: input, searchTexts: texts))
        }
        for query in queries {
            guard let field = schema.field(named: query.field) else {
                throw .invalidParameter("highlight field not found in schema: \(query.field)")
            }
            if let i = tasks.firstIndex(where: { $0.field.fieldID == field.fieldID }) {
                tasks[i].queryTexts.append(query.text)
            } else {
                tasks.append(Task(field: field, queryTexts: [query.text]))
            }
        }
        for task in tasks where !(task.field.enableAnalyzer || schema.functions.contains { $0.type == .bm25 && $0.inputFieldNames.contains(task.field.name) }) {
            throw .invalidParameter("get highlight failed, the highlight field not found, \(task.field.name):\(task.field.fieldID)")
        }
        return tasks
    }

    /// The fragments of every hit for each field asked for. `byteLimit` bounds the fragments'
    /// total size (tags are repeated per span, so a small request could ask for a huge answer).
    public func highlight(
        _ hits: [[SearchHit]], request: SearchRequest, schema: CollectionSchema, byteLimit: Int, cancellation: Cancellation? = nil
    ) throws(ElanusError) -> [FieldResult] {
        var results: [FieldResult] = []
        var bytes = 0
        for task in try tasks(request, schema: schema) {
            let analyzer = try BM25Function.analyzer(of: task.field)
            let searchTerms = analyzer.analyze(task.searchTexts).map { Set($0.map(\.text)) }
            let queryTerms = Set(analyzer.analyze(task.queryTexts).joined().map(\.text))
            var fragments: [[String]] = []
            var seen = 0
            for (i, queryHits) in hits.enumerated() {
                let terms = i < searchTerms.count ? queryTerms.union(searchTerms[i]) : queryTerms
                for hit in queryHits {
                    seen += 1
                    if seen % 64 == 0 { try cancellation?.check() }
                    guard case .string(let text)? = hit.batch.column(task.field.fieldID)?.value(at: hit.row), !terms.isEmpty else {
                        fragments.append([])
                        continue
                    }
                    let hitFragments = Highlight.fragments(text, tokens: analyzer.analyze(text), terms: terms, options: options)
                    for fragment in hitFragments { bytes += fragment.utf8.count }
                    guard bytes <= byteLimit else { throw .badRequest("search results exceed the maxOutputSize Limit \(byteLimit)") }
                    fragments.append(hitFragments)
                }
            }
            results.append(FieldResult(fieldName: task.field.name, fragments: fragments))
        }
        return results
    }
}
