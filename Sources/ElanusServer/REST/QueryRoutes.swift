import ElanusCore
import ElanusEngine
import ElanusHTTP
import ElanusQuery

/// `entities/query`, `entities/search` and `entities/hybrid_search` (alias `advanced_search`).
enum QueryRoutes {
    static func register(into routes: inout [String: RouteHandler]) {
        routes["entities/query"] = query
        routes["entities/search"] = search
        routes["entities/hybrid_search"] = hybridSearch
        routes["entities/advanced_search"] = hybridSearch
    }

    static func query(_ context: RouteContext) throws -> HTTPResponse {
        let body = try context.body("QueryReqV2")
        let info = try collection(body, context)
        try ReadRequest.checkConsistency(body)
        let outputFields = try body.stringArray("outputFields") ?? []
        let zone = try RowRenderer.timeZone(body, info: info, context: context)
        let predicate = try ReadRequest.predicate(body, schema: info.schema) { () throws(ElanusError) in zone }
        let partitions = try body.stringArray("partitionNames") ?? []
        if outputFields.contains(where: { $0.lowercased() == "count(*)" }) {
            guard outputFields.count == 1 else { throw ElanusError.invalidParameter("count(*) cannot be combined with other output fields") }
            let n = try context.engine.count(info, predicate: predicate, partitionNames: partitions, cancellation: context.cancellation)
            return Envelope.success([["count(*)": .int(Int64(n))]], extra: [("cost", 0)])
        }
        let window = try ReadRequest.queryWindow(body)
        if window == nil && predicate == nil { throw ReadRequest.emptyFilterWithoutLimit }
        let renderer = try RowRenderer(
            schema: info.schema, outputFields: outputFields, allowInt64: EntityRoutes.allowInt64(context), timeZone: zone)
        // Rows are rendered as the scan finds them, so that a query for every match stops at
        // the output budget instead of copying the collection first.
        let limit = window?.limit ?? Int.max
        var rendered: [JSON] = []
        var budget = ReadRequest.OutputBudget(what: "query")
        try context.engine.scan(info, predicate: predicate, partitionNames: partitions, offset: window?.offset ?? 0, cancellation: context.cancellation) { batch, row throws(ElanusError) in
            let json = renderer.render(row: row, of: batch)
            try budget.add(json)
            rendered.append(json)
            return rendered.count < limit
        }
        return Envelope.success(.array(rendered), extra: [("cost", 0)])
    }

    static func search(_ context: RouteContext) throws -> HTTPResponse {
        let body = try context.body("SearchReqV2")
        let info = try collection(body, context)
        let request = try searchRequest(body, info: info, context: context, allowGrouping: true)
        let highlighter = try self.highlighter(body)
        try highlighter?.check(request, schema: info.schema)
        let results = try context.engine.search(info, request, cancellation: context.cancellation)
        let highlights = try highlighter?.highlight(
            results, request: request, schema: info.schema, byteLimit: ReadRequest.maxOutputBytes, cancellation: context.cancellation)
        return try render(results, info: info, body: body, context: context, highlights: highlights ?? [])
    }

    /// The body's `highlighter` (an Elanus addition: Milvus's REST search has none, its gRPC one
    /// does): `{"type": "lexical", "params": {...}}` with pymilvus's `LexicalHighlighter`
    /// parameters as JSON values, handed to the highlighter as the text pymilvus would send.
    static func highlighter(_ body: RequestBody) throws(ElanusError) -> Highlighter? {
        guard let value = body["highlighter"], !value.isNull else { return nil }
        guard case .object = value else { throw body.wrongType("highlighter", value, expected: "map[string]interface {}") }
        switch value["type"] {
        case nil, .null?: break
        case .string(let type)? where type.lowercased() == "lexical": break
        case .string(let type)? where type.lowercased() == "semantic": throw Highlighter.semanticRefused
        case let type?: throw ElanusError.invalidParameter("unsupported highlight type: \(type.serialized())")
        }
        var params: [(key: String, value: String)] = []
        switch value["params"] {
        case nil, .null?: break
        case .object(let members)?:
            for (key, item) in members {
                if case .string(let text) = item { params.append((key, text)) } else { params.append((key, item.serialized())) }
            }
        case let other?: throw ElanusError.invalidParameter("highlighter params must be an object, got \(other.typeName)")
        }
        return try Highlighter(params: params)
    }

    /// One search of a search request (or one entry of a hybrid request's `search` list).
    /// `decoded` carries query vectors already decoded (gRPC's placeholder groups); otherwise
    /// they come from the body's `data` or `ids`.
    static func searchRequest(
        _ body: RequestBody, info: CollectionInfo, context: @autoclosure () -> RouteContext, allowGrouping: Bool,
        decoded: ((FieldSchema) throws(ElanusError) -> [QueryVector])? = nil
    ) throws(ElanusError) -> SearchRequest {
        try ReadRequest.checkConsistency(body)
        let field = try ReadRequest.annsField(body, schema: info.schema)
        // The vectors are read with gjson in Milvus: the first key spelled exactly `data`.
        _ = try body.array("data")
        let data: [JSON]?
        switch body.firstExact("data") {
        case nil, .null?: data = nil
        case .array(let vectors)?: data = vectors
        case let value?: throw body.wrongType("data", value, expected: "[]interface {}")
        }
        let ids = body["ids"].flatMap { $0.isNull ? nil : $0 }
        if data != nil && ids != nil { throw ElanusError.invalidParameter("ids and data cannot be given together") }
        let vectors: [QueryVector]
        if let decoded {
            vectors = try decoded(field)
        } else if let data {
            vectors = try ReadRequest.vectors(data, field: field)
        } else if let ids {
            // The context is made only here (gRPC builds one from its call for this alone).
            vectors = try storedVectors(ids, field: field, info: info, context: context())
        } else {
            throw ElanusError(.missingRequired, "missing required parameters, error: search needs either data or ids")
        }
        let (limit, offset) = try ReadRequest.window(body)
        var grouping: SearchRequest.Grouping?
        if let name = try body.string("groupingField"), !name.isEmpty {
            guard allowGrouping else { throw ElanusError.invalidParameter("groupingField is not supported in hybrid search sub-requests") }
            guard let groupField = info.schema.field(named: name) else { throw ElanusError(.fieldNotFound, "field not found[field=\(name)]") }
            // Milvus 2.6's group-by operator takes these types (and JSON paths, not built here).
            guard [.bool, .int8, .int16, .int32, .int64, .varChar, .timestamptz].contains(groupField.dataType) else {
                throw ElanusError.invalidParameter("grouping by a \(groupField.dataType.rawValue) field is not supported")
            }
            let size = Int(try body.int("groupSize") ?? 1)
            guard size >= 1 && size <= 1024 else { throw ElanusError.invalidParameter("groupSize must be in [1, 1024], got \(size)") }
            grouping = SearchRequest.Grouping(field: groupField, size: size)
        }
        try ReadRequest.checkResultEntries(nq: vectors.count, limit: limit, offset: offset, groupSize: grouping?.size ?? 1)
        // Checked in this order (the first fault is the one reported).
        let metric = try ReadRequest.metric(body, field: field, info: info)
        let predicate = try ReadRequest.predicate(body, schema: info.schema) { () throws(ElanusError) in
            try RowRenderer.timeZone(body, info: info, context: context())
        }
        let partitionNames = try body.stringArray("partitionNames") ?? []
        let params = try ReadRequest.SearchParams(body)
        var request = SearchRequest(
            field: field, metric: metric, vectors: vectors, limit: limit, offset: offset,
            predicate: predicate, partitionNames: partitionNames,
            radius: try ReadRequest.searchParam(params, "radius").map(Float.init),
            rangeFilter: try ReadRequest.searchParam(params, "range_filter").map(Float.init), grouping: grouping,
            ef: try ReadRequest.intSearchParam(params, "ef", 1...Int(Int32.max)), nprobe: try ReadRequest.intSearchParam(params, "nprobe", 1...65536),
            dropRatio: try ReadRequest.dropRatio(params))
        request.ignoreGrowing = try ReadRequest.ignoreGrowing(params)
        request.reorderK = try ReadRequest.intSearchParam(params, "reorder_k", 1...Int(Int32.max))
        request.refineK = try ReadRequest.refineK(params)
        return request
    }

    /// Search by `ids`: the stored vectors of those primary keys are the queries.
    static func storedVectors(_ ids: JSON, field: FieldSchema, info: CollectionInfo, context: RouteContext) throws(ElanusError) -> [QueryVector] {
        guard let primary = info.schema.primaryField else { throw .unexpected("no primary key") }
        let keys = try EntityRoutes.primaryKeys(ids, primary)
        let rows = try context.engine.get(info, keys: keys, cancellation: context.cancellation)
        guard rows.rowCount == keys.count, let column = rows.column(field.fieldID) else {
            throw .invalidParameter("some of the ids to search by do not exist")
        }
        return (0..<rows.rowCount).map { row in
            switch column.value(at: row) {
            case .floatVector(let v): .dense(v)
            case .halfVector(let bits): .dense(bits.map { HalfFloat.float($0, bfloat16: field.dataType == .bfloat16Vector) })
            case .int8Vector(let v): .dense(v.map { Float($0) })
            case .binaryVector(let b): .binary(b)
            case .sparseVector(let s): .sparse(s)
            default: .dense([])
            }
        }
    }

    /// The flat result list of every query, with `topks`.
    /// `highlights` (one per field highlighted, each with every hit's fragments) add a
    /// `highlight` member to each hit, shaped as pymilvus shows a hit's highlight.
    static func render(
        _ results: [[SearchHit]], info: CollectionInfo, body: RequestBody, context: RouteContext, highlights: [Highlighter.FieldResult] = []
    ) throws(ElanusError) -> HTTPResponse {
        let renderer = try outputRenderer(body, info: info, context: context)
        var items: [JSON] = []
        var budget = ReadRequest.OutputBudget(what: "search")
        for hits in results {
            let rows = renderer.render(hits.map { ($0.batch, $0.row) })
            for (hit, row) in zip(hits, rows) {
                try budget.add(row)
                var item = withDistance(row, hit.score)
                if !highlights.isEmpty, case .object(var members) = item {
                    let index = items.count
                    members.append(("highlight", .object(highlights.map { field in
                        (field.fieldName, .object([("fragments", .array(field.fragments[index].map { .string($0) })), ("scores", .array([]))]))
                    })))
                    item = .object(members)
                }
                items.append(item)
            }
        }
        return Envelope.success(.array(items), extra: [("topks", .array(results.map { .int(Int64($0.count)) })), ("cost", 0)])
    }

    /// Search output: the primary key and the distance, plus `outputFields` when given.
    static func outputRenderer(_ body: RequestBody, info: CollectionInfo, context: RouteContext) throws(ElanusError) -> RowRenderer {
        var fields = try body.stringArray("outputFields") ?? []
        if fields.isEmpty, let primary = info.schema.primaryField { fields = [primary.name] }
        return try RowRenderer(
            schema: info.schema, outputFields: fields, allowInt64: EntityRoutes.allowInt64(context), timeZone: try RowRenderer.timeZone(body, info: info, context: context))
    }

    static func withDistance(_ row: JSON, _ score: Float) -> JSON {
        guard case .object(var members) = row else { return row }
        members.insert((key: "distance", value: RowRenderer.float(score)), at: min(1, members.count))
        return .object(members)
    }

    static func collection(_ body: RequestBody, _ context: RouteContext) throws(ElanusError) -> CollectionInfo {
        let name = try body.string("collectionName", required: true)!
        return try context.engine.catalog.collection(database: try context.database(body), name: name)
    }
}
