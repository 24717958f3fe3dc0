import ElanusCore
import ElanusEngine
import ElanusText

/// `common/run_analyzer`: runs an analyzer over texts so that users can see the tokens a field
/// will index, as Milvus does. The analyzer is the one given in `analyzerParams` (JSON text), or
/// else the analyzer of `collectionName`'s field `fieldName`.
enum AnalyzerRoutes {
    /// Bounds on one request: the texts are analyzed in the request's thread.
    static let maxTexts = 10_000
    static let maxTextBytes = 1 << 20

    static func register(into routes: inout [String: RouteHandler]) {
        routes["common/run_analyzer"] = { context in
            let body = try context.body("RunAnalyzerReq")
            // Every key's type first, then what is required, as Milvus's request binding does.
            let database = try context.database(body)
            let params = try body.string("analyzerParams") ?? ""
            let collection = try body.string("collectionName") ?? ""
            let fieldName = try body.string("fieldName") ?? ""
            let names = try body.stringArray("analyzerNames") ?? []
            let withDetail = try body.bool("withDetail") ?? false
            let withHash = try body.bool("withHash") ?? false
            let texts = try body.stringArray("text", required: true)!
            let analyzed = try run(
                texts: texts, params: params, database: database, collection: collection, fieldName: fieldName, analyzerNames: names,
                engine: context.engine)
            let results: [JSON] = analyzed.map { tokens in
                let rendered: [JSON] = tokens.map { token in
                    var fields: [(key: String, value: JSON)] = [(key: "token", value: .string(token.text))]
                    if withDetail {
                        fields += [
                            (key: "startOffset", value: .int(Int64(token.startOffset))),
                            (key: "endOffset", value: .int(Int64(token.endOffset))),
                            (key: "position", value: .int(Int64(token.position))),
                            (key: "positionLength", value: .int(Int64(token.positionLength))),
                        ]
                    }
                    if withHash { fields.append((key: "hash", value: .int(Int64(TermHash.of(token.text))))) }
                    return .object(fields)
                }
                return ["tokens": .array(rendered)]
            }
            return Envelope.success(["results": .array(results)])
        }
    }

    /// Each text's tokens: one implementation behind REST and gRPC (RunAnalyzer).
    static func run(
        texts: [String], params: String, database: String, collection: String, fieldName: String, analyzerNames: [String], engine: Engine
    ) throws(ElanusError) -> [[Token]] {
        guard texts.count <= maxTexts else {
            throw ElanusError.invalidParameter("run_analyzer takes at most \(maxTexts) texts, got \(texts.count)")
        }
        if let long = texts.firstIndex(where: { $0.utf8.count > maxTextBytes }) {
            throw ElanusError.invalidParameter("text \(long) is \(texts[long].utf8.count) bytes, more than the \(maxTextBytes) run_analyzer takes")
        }
        if !analyzerNames.isEmpty {
            throw ElanusError.invalidParameter("analyzerNames (multi-language analyzers) are not supported by Elanus yet")
        }
        let analyzer = try self.analyzer(params: params, database: database, collection: collection, fieldName: fieldName, engine: engine)
        return analyzer.analyze(texts)
    }

    private static func analyzer(
        params: String, database: String, collection: String, fieldName: String, engine: Engine
    ) throws(ElanusError) -> Analyzer {
        if collection.isEmpty || !params.isEmpty {
            do { return try Analyzer.parse(text: params) } catch { throw .invalidParameter("invalid analyzer params: \(error.reason)") }
        }
        let info = try engine.catalog.collection(database: database, name: collection)
        guard let field = info.schema.field(named: fieldName) else {
            throw ElanusError(.fieldNotFound, "field \(fieldName) not found in collection \(collection)")
        }
        guard field.dataType == .varChar, field.enableAnalyzer else {
            throw ElanusError.invalidParameter("field \(fieldName) of collection \(collection) has no analyzer (enable_analyzer is not set)")
        }
        do { return try field.analyzer() } catch { throw .invalidParameter("invalid analyzer params of field \(fieldName): \(error.reason)") }
    }
}
