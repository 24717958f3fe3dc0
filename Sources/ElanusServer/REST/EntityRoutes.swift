import ElanusCore
import ElanusEngine
import ElanusHTTP

/// `entities/insert|upsert|delete|get`.
enum EntityRoutes {
    static func register(into routes: inout [String: RouteHandler]) {
        routes["entities/insert"] = insert
        routes["entities/upsert"] = upsert
        routes["entities/delete"] = { context in
            let body = try context.body("CollectionFilterReq")
            let name = try body.string("collectionName", required: true)!
            let filter = try body.string("filter", required: true)!
            let info = try context.engine.catalog.collection(database: try context.database(body), name: name)
            let count = try context.engine.delete(
                info, partitionName: try body.string("partitionName"), filter: filter, params: try body.map("exprParams")?.members ?? [],
                cancellation: context.cancellation)
            return Envelope.success(["deleteCount": .int(Int64(count))], extra: [("cost", 0)])
        }
        routes["entities/get"] = { context in
            let body = try context.body("CollectionIDReq")
            let name = try body.string("collectionName", required: true)!
            let info = try context.engine.catalog.collection(database: try context.database(body), name: name)
            guard let primary = info.schema.primaryField else { throw ElanusError.unexpected("no primary key") }
            // `id` is an interface{} field that must be set (binding:"required"), but Milvus takes
            // the keys from the body with gjson: the first key spelled exactly `id`. A body with
            // only `ID` passes the check and asks for no keys.
            guard let field = body["id"], !field.isNull else { throw body.missing("id") }
            let ids = body.firstExact("id") ?? .array([])
            let keys = ids.isNull ? [] : try primaryKeys(ids, primary)
            let partitions = try body.stringArray("partitionNames") ?? []
            if !info.loaded { throw collectionNotLoaded(info) }
            let renderer = try RowRenderer(
                schema: info.schema, outputFields: try body.stringArray("outputFields") ?? [], allowInt64: allowInt64(context),
                timeZone: try RowRenderer.timeZone(body, info: info, context: context))
            let rows = try context.engine.get(info, keys: keys, partitionNames: partitions, cancellation: context.cancellation)
            return Envelope.success(.array(renderer.render(rows)), extra: [("cost", 0)])
        }
    }

    private static func insert(_ context: RouteContext) throws(ElanusError) -> HTTPResponse {
        let request = try EntityRequest(bytes: context.request.body, structName: "CollectionDataReq")
        let info = try collection(request, context)
        let primary = info.schema.primaryField
        let decoded = try request.decodeRows(schema: info.schema, options: .init(generatedPrimaryKey: primary?.autoID ?? false, timeZone: try context.engine.timeZone(info)))
        let keys = try context.engine.insert(info, partitionName: try request.body.string("partitionName"), batch: decoded.batch)
        return Envelope.success(
            ["insertCount": .int(Int64(keys.count)), "insertIds": .array(keys.map { render($0, context) })], extra: [("cost", 0)])
    }

    private static func upsert(_ context: RouteContext) throws(ElanusError) -> HTTPResponse {
        let request = try EntityRequest(bytes: context.request.body, structName: "CollectionDataReq")
        let info = try collection(request, context)
        if let ops = try request.body.array("fieldOps"), !ops.isEmpty {
            throw ElanusError.invalidParameter("fieldOps (ARRAY_APPEND / ARRAY_REMOVE) are not supported yet")
        }
        let partial = try request.body.bool("partialUpdate") ?? false
        let decoded = try request.decodeRows(schema: info.schema, options: .init(partialUpdate: partial, timeZone: try context.engine.timeZone(info)))
        let keys = try context.engine.upsert(
            info, partitionName: try request.body.string("partitionName"), batch: decoded.batch,
            absentFields: partial ? decoded.absentFields : [])
        return Envelope.success(
            ["upsertCount": .int(Int64(keys.count)), "upsertIds": .array(keys.map { render($0, context) })], extra: [("cost", 0)])
    }

    private static func collection(_ request: EntityRequest, _ context: RouteContext) throws(ElanusError) -> CollectionInfo {
        let name = try request.body.string("collectionName", required: true)!
        return try context.engine.catalog.collection(database: try context.database(request.body), name: name)
    }

    /// `Accept-Type-Allow-Int64: false` asks for Int64 values as strings (JavaScript clients).
    static func allowInt64(_ context: RouteContext) -> Bool {
        context.request.headers["Accept-Type-Allow-Int64"]?.lowercased() != "false"
    }

    static func render(_ key: PrimaryKey, _ context: RouteContext) -> JSON {
        switch key {
        case .int(let i): allowInt64(context) ? .int(i) : .string(String(i))
        case .string(let s): .string(s)
        }
    }

    static func collectionNotLoaded(_ info: CollectionInfo) -> ElanusError {
        ElanusError(.collectionNotLoaded, "collection not loaded[collection=\(info.name)]")
    }

    /// The `id` of a get: one key or a list, integers for an Int64 key and strings for VarChar.
    static func primaryKeys(_ ids: JSON, _ field: FieldSchema) throws(ElanusError) -> [PrimaryKey] {
        let items: [JSON]
        if case .array(let a) = ids { items = a } else { items = [ids] }
        var keys: [PrimaryKey] = []
        for item in items {
            switch (item, field.dataType) {
            case (.int(let i), .int64): keys.append(.int(i))
            case (.string(let s), .int64) where Int64(s) != nil: keys.append(.int(Int64(s)!))
            case (.string(let s), .varChar): keys.append(.string(s))
            default:
                throw ElanusError(
                    .invalidPrimaryKey,
                    "please check the primary key and its' type can only in [int, string], got \(item.serialized()) for \(field.dataType.rawValue) primary key \(field.name)")
            }
        }
        return keys
    }
}
