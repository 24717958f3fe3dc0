import ElanusCore
import ElanusEngine
import ElanusProto
import Foundation

/// Search: the request's key/value parameters become the REST search body, so the REST route's
/// decoders (anns field, metric, limits, filter, grouping, range, index parameters) decide
/// exactly as they do for REST; only the query vectors come from the placeholder group.
enum GRPCSearchMethods {
    static func register(_ table: inout MethodTable) {
        table.on(.search, route: "entities/search") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_SearchRequest) -> Milvus_Proto_Milvus_SearchResults in
            try search(context, request)
        }
        table.on(.hybridSearch, route: "entities/hybrid_search") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_HybridSearchRequest) -> Milvus_Proto_Milvus_SearchResults in
            try hybridSearch(context, request)
        }
    }

    private static func search(_ context: GRPCCallContext, _ request: Milvus_Proto_Milvus_SearchRequest) throws(ElanusError) -> Milvus_Proto_Milvus_SearchResults {
        guard request.subReqs.isEmpty else {
            throw ElanusError(.unimplemented, "service unimplemented: hybrid search through Search sub-requests is not available over gRPC yet; use HybridSearch")
        }
        if request.hasFunctionScore { throw ElanusError.invalidParameter("function_score rerankers are not supported by Elanus yet") }
        let info = try context.collection(request.dbName, request.collectionName)
        let searchRequest = try self.searchRequest(context, request, info: info, partitions: request.partitionNames, allowGrouping: true)
        let highlighter = request.hasHighlighter ? try self.highlighter(request.highlighter) : nil
        try highlighter?.check(searchRequest, schema: info.schema)
        let hits = try context.engine.search(info, searchRequest, cancellation: context.cancellation)
        let roundDecimal = try GRPCEntityMethods.integerParam(request.searchParams, "round_decimal") ?? -1
        // pymilvus sends `timezone` among the search params, its value as plain text.
        let zone = try context.engine.timeZone(info, requested: GRPCEntityMethods.param(request.searchParams, Timestamptz.propertyKey))
        var answer = try results(hits, request: searchRequest, info: info, outputFields: request.outputFields, roundDecimal: roundDecimal, timeZone: zone)
        if let highlighter {
            let fields = try highlighter.highlight(
                hits, request: searchRequest, schema: info.schema, byteLimit: ReadRequest.maxOutputBytes, cancellation: context.cancellation)
            answer.results.highlightResults = fields.map { field in
                var result = Milvus_Proto_Common_HighlightResult()
                result.fieldName = field.fieldName
                result.datas = field.fragments.map { fragments in
                    var data = Milvus_Proto_Common_HighlightData()
                    data.fragments = fragments
                    return data
                }
                return result
            }
        }
        return answer
    }

    /// The search's highlighter: lexical ones are built; semantic ones need a model provider.
    private static func highlighter(_ message: Milvus_Proto_Common_Highlighter) throws(ElanusError) -> Highlighter {
        switch message.type {
        case .lexical: return try Highlighter(params: message.params.map { ($0.key, $0.value) })
        case .semantic: throw Highlighter.semanticRefused
        case .UNRECOGNIZED(let value): throw ElanusError.invalidParameter("unsupported highlight type: \(value)")
        }
    }

    /// A search's key/value parameters as the REST search body, decoded by the REST route's code.
    static func searchRequest(
        _ context: GRPCCallContext, _ request: Milvus_Proto_Milvus_SearchRequest, info: CollectionInfo, partitions: [String], allowGrouping: Bool
    ) throws(ElanusError) -> SearchRequest {
        let params = request.searchParams
        var members: [(key: String, value: JSON)] = [("collectionName", .string(info.name))]
        if let field = GRPCEntityMethods.param(params, "anns_field") { members.append(("annsField", .string(field))) }
        // Sub-requests of a hybrid search carry `limit`; a search carries `topk`.
        var limit = try GRPCEntityMethods.integerParam(params, "topk")
        if limit == nil { limit = try GRPCEntityMethods.integerParam(params, "limit") }
        members.append(("limit", .int(limit ?? 0)))
        if let offset = try GRPCEntityMethods.integerParam(params, "offset") { members.append(("offset", .int(offset))) }
        if !request.dsl.isEmpty { members.append(("filter", .string(request.dsl))) }
        if !request.exprTemplateValues.isEmpty {
            members.append(("exprParams", .object(try GRPCEntityMethods.templateValues(request.exprTemplateValues))))
        }
        if !partitions.isEmpty { members.append(("partitionNames", .array(partitions.map { .string($0) }))) }
        if let group = GRPCEntityMethods.param(params, "group_by_field"), !group.isEmpty {
            members.append(("groupingField", .string(group)))
            if let size = try GRPCEntityMethods.integerParam(params, "group_size") { members.append(("groupSize", .int(size))) }
        }
        var searchParams: [(key: String, value: JSON)] = []
        if let metric = GRPCEntityMethods.param(params, "metric_type"), !metric.isEmpty { searchParams.append(("metric_type", .string(metric))) }
        if let text = GRPCEntityMethods.param(params, "params"), !text.isEmpty {
            guard let parsed = try? JSON.parse(text), case .object = parsed else {
                throw ElanusError.invalidParameter("search params \(text) is not a JSON object")
            }
            searchParams.append(("params", parsed))
        }
        if let ignore = GRPCEntityMethods.param(params, "ignore_growing") { searchParams.append(("ignore_growing", .string(ignore))) }
        // The zone of ISO literals without an offset in the filter, as of the output.
        if let zone = GRPCEntityMethods.param(params, Timestamptz.propertyKey) { searchParams.append((Timestamptz.propertyKey, .string(zone))) }
        members.append(("searchParams", .object(searchParams)))
        if case .ids(let ids)? = request.searchInput {
            switch ids.idField {
            case .intID(let a)?: members.append(("ids", .array(a.data.map { .int($0) })))
            case .strID(let a)?: members.append(("ids", .array(a.data.map { .string($0) })))
            case nil: throw ElanusError.invalidParameter("search by primary keys needs ids")
            }
        }
        let body = RequestBody(members: members, structName: "SearchReqV2")
        guard case .placeholderGroup(let placeholder)? = request.searchInput else {
            return try QueryRoutes.searchRequest(body, info: info, context: context.routeContext(), allowGrouping: allowGrouping)
        }
        return try QueryRoutes.searchRequest(body, info: info, context: context.routeContext(), allowGrouping: allowGrouping) { field throws(ElanusError) in
            try vectors(placeholder, field: field)
        }
    }

    /// HybridSearch: each sub-request decoded as a search, fused by the REST route's reranker.
    private static func hybridSearch(_ context: GRPCCallContext, _ request: Milvus_Proto_Milvus_HybridSearchRequest) throws(ElanusError) -> Milvus_Proto_Milvus_SearchResults {
        if request.hasFunctionScore { throw ElanusError.invalidParameter("function_score rerankers are not supported by Elanus yet; use RRFRanker or WeightedRanker") }
        guard !request.requests.isEmpty else { throw ElanusError.invalidParameter("hybrid search needs at least one search request") }
        guard request.requests.count <= 1024 else { throw ElanusError.invalidParameter("hybrid search takes at most 1024 search requests") }
        let info = try context.collection(request.dbName, request.collectionName)
        var searches: [SearchRequest] = []
        for sub in request.requests {
            searches.append(try searchRequest(context, sub, info: info, partitions: request.partitionNames, allowGrouping: false))
        }
        let nq = searches[0].vectors.count
        guard searches.allSatisfy({ $0.vectors.count == nq }) else {
            throw ElanusError.invalidParameter("every sub-search of a hybrid search needs the same number of query vectors")
        }
        let ranks = request.rankParams
        if let group = GRPCEntityMethods.param(ranks, "group_by_field"), !group.isEmpty {
            throw ElanusError.invalidParameter("group_by_field is not supported in hybrid search yet")
        }
        var rerank: [(key: String, value: JSON)] = [("strategy", .string(GRPCEntityMethods.param(ranks, "strategy") ?? "rrf"))]
        if let text = GRPCEntityMethods.param(ranks, "params"), let parsed = try? JSON.parse(text) { rerank.append(("params", parsed)) }
        let limit = try GRPCEntityMethods.integerParam(ranks, "limit") ?? 10
        let offset = try GRPCEntityMethods.integerParam(ranks, "offset") ?? 0
        let window = try ReadRequest.window(RequestBody(members: [("limit", .int(limit)), ("offset", .int(offset))], structName: "HybridSearchReq"))
        let fuse = try QueryRoutes.reranker(RequestBody(members: [("rerank", .object(rerank))], structName: "HybridSearchReq"), searches: searches.count)
        let hits = try QueryRoutes.fused(
            searches, info: info, limit: window.limit, offset: window.offset, fuse: fuse, engine: context.engine, cancellation: context.cancellation)
        var shape = searches[0]
        shape.limit = window.limit
        shape.grouping = nil
        let roundDecimal = try GRPCEntityMethods.integerParam(ranks, "round_decimal") ?? -1
        let zone = try context.engine.timeZone(info, requested: GRPCEntityMethods.param(ranks, Timestamptz.propertyKey))
        return try results(hits, request: shape, info: info, outputFields: request.outputFields, roundDecimal: roundDecimal, timeZone: zone)
    }

    /// The query vectors of a serialized `PlaceholderGroup`, checked against the field searched.
    static func vectors(_ bytes: Data, field: FieldSchema) throws(ElanusError) -> [QueryVector] {
        let group: Milvus_Proto_Common_PlaceholderGroup
        do { group = try Milvus_Proto_Common_PlaceholderGroup(serializedBytes: bytes) } catch {
            throw ElanusError.invalidParameter("the placeholder group does not decode: \(error)")
        }
        guard group.placeholders.count == 1, let placeholder = group.placeholders.first else {
            throw ElanusError.invalidParameter("a search takes one placeholder, got \(group.placeholders.count)")
        }
        let values = placeholder.values
        guard !values.isEmpty else { throw ElanusError.invalidParameter("data is empty: at least one query vector is needed") }
        guard values.count <= ReadRequest.maxNQ else {
            throw ElanusError.invalidParameter("nq (number of search vector per search request) should be in range [1, \(ReadRequest.maxNQ)], but got \(values.count)")
        }
        let dim = field.dim ?? 0
        var out: [QueryVector] = []
        out.reserveCapacity(values.count)
        // Float queries against a float, float16 or bfloat16 field: decided once, not per vector.
        let floatQueries = placeholder.type == .floatVector && [.floatVector, .float16Vector, .bfloat16Vector].contains(field.dataType)
        for value in values {
            if floatQueries {
                guard value.count == dim * 4 else { throw dimensionError(field, value.count / 4) }
                // Little-endian float32 on the wire: one copy straight into the vector searched.
                var floats = [Float](repeating: 0, count: dim)
                floats.withUnsafeMutableBytes { target in value.withUnsafeBytes { target.copyMemory(from: $0) } }
                #if _endian(big)
                floats = floats.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) }
                #endif
                guard floats.allSatisfy(\.isFinite) else { throw ElanusError.invalidParameter("a query vector contains NaN or Inf") }
                out.append(.dense(floats))
                continue
            }
            let raw = Array(value)
            switch (placeholder.type, field.dataType) {
            case (.float16Vector, .float16Vector), (.bfloat16Vector, .bfloat16Vector), (.float16Vector, .floatVector), (.bfloat16Vector, .floatVector):
                guard raw.count == dim * 2 else { throw dimensionError(field, raw.count / 2) }
                let bfloat = placeholder.type == .bfloat16Vector
                out.append(.dense((0..<dim).map { HalfFloat.float(UInt16(raw[2 * $0]) | UInt16(raw[2 * $0 + 1]) << 8, bfloat16: bfloat) }))
            case (.int8Vector, .int8Vector):
                guard raw.count == dim else { throw dimensionError(field, raw.count) }
                out.append(.dense(raw.map { Float(Int8(bitPattern: $0)) }))
            case (.binaryVector, .binaryVector):
                guard raw.count == dim / 8 else { throw dimensionError(field, raw.count * 8) }
                out.append(.binary(raw))
            case (.sparseFloatVector, .sparseFloatVector):
                guard raw.count % 8 == 0 else { throw ElanusError.invalidParameter("a sparse query vector is not (uint32, float32) pairs") }
                var members: [(key: String, value: JSON)] = []
                for offset in stride(from: 0, to: raw.count, by: 8) {
                    let index = raw.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
                    let bits = raw.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)) }
                    members.append((key: String(index), value: .double(Double(Float(bitPattern: bits)))))
                }
                guard case .sparseVector(let v) = try ReadRequest.convert(.object(members), field) else {
                    throw ElanusError.invalidParameter("bad sparse query vector")
                }
                out.append(.sparse(v))
            case (.varChar, .sparseFloatVector):
                out.append(.text(String(decoding: raw, as: UTF8.self)))
            default:
                throw ElanusError.invalidParameter(
                    "the placeholder type \(placeholder.type) does not match field \(field.name) of type \(field.dataType.rawValue)")
            }
        }
        return out
    }

    private static func dimensionError(_ field: FieldSchema, _ got: Int) -> ElanusError {
        .invalidParameter("the dimension of the query vector (\(got)) does not match field \(field.name) (dim \(field.dim ?? 0))")
    }

    /// Hits as `SearchResultData`: flat ids, scores and output columns across all queries, with
    /// `topks` saying how many belong to each.
    static func results(
        _ hits: [[SearchHit]], request: SearchRequest, info: CollectionInfo, outputFields: [String], roundDecimal: Int64,
        timeZone: TimeZone = Timestamptz.utc
    ) throws(ElanusError) -> Milvus_Proto_Milvus_SearchResults {
        let selection = try RowRenderer(schema: info.schema, outputFields: outputFields, allowInt64: true, timeZone: timeZone)
        let flat = hits.flatMap { $0 }
        let refs = flat.map { (batch: $0.batch, row: $0.row) }
        var data = Milvus_Proto_Schema_SearchResultData()
        data.numQueries = Int64(hits.count)
        data.topK = Int64(request.limit)
        data.topks = hits.map { Int64($0.count) }
        let scale = roundDecimal >= 0 ? Float(pow(10, Double(min(roundDecimal, 6)))) : 0
        data.scores = flat.map { roundDecimal >= 0 ? ($0.score * scale).rounded() / scale : $0.score }
        guard let primary = info.schema.primaryField else { throw ElanusError.unexpected("no primary key") }
        let keys: [PrimaryKey] = refs.map { ref in
            switch ref.batch.column(primary.fieldID)?.value(at: ref.row) {
            case .int(let i)?: .int(i)
            case .string(let s)?: .string(s)
            default: .int(0)
            }
        }
        data.ids = GRPCFieldDataCodec.ids(keys, type: primary.dataType)
        data.primaryFieldName = primary.name
        // Search output lists only what was asked for (the key travels in `ids`).
        let fields = outputFields.isEmpty ? [] : selection.fields.filter { !$0.isPrimary || outputFields.contains($0.name) || outputFields.contains("*") }
        let dynamic = outputFields.isEmpty ? false : info.schema.enableDynamicField
        let schema = dynamic ? info.schema : CollectionSchema(fields: info.schema.fields, enableDynamicField: false)
        data.fieldsData = GRPCFieldDataCodec.encode(refs, fields: fields, dynamicKeys: selection.dynamicKeys, schema: schema, timeZone: timeZone)
        data.outputFields = fields.map(\.name) + (dynamic ? (selection.dynamicKeys ?? []) : [])
        if let grouping = request.grouping {
            data.groupByFieldValue = GRPCFieldDataCodec.encode(refs, fields: [grouping.field], dynamicKeys: [], schema: CollectionSchema(fields: []))[0]
            if grouping.field.dataType == .timestamptz {
                // Milvus turns Timestamptz output fields into text in the zone, but sends the
                // group values as its segments produce them: the instants (timestamptz_data).
                var instants = Milvus_Proto_Schema_TimestamptzArray()
                instants.data = refs.map { ref in
                    if case .int(let micros)? = ref.batch.column(grouping.field.fieldID)?.value(at: ref.row) { micros } else { 0 }
                }
                data.groupByFieldValue.scalars.timestamptzData = instants
            }
        }
        var results = Milvus_Proto_Milvus_SearchResults()
        results.collectionName = info.name
        results.results = data
        return results
    }
}
