import ElanusCore
import ElanusEngine

/// `indexes/create|list|describe|drop|alter_properties|drop_properties`.
enum IndexRoutes {
    static func register(into routes: inout [String: RouteHandler]) {
        routes["indexes/create"] = { context in
            let body = try context.body("IndexParamReq")
            let database = try context.database(body)
            let name = try body.string("collectionName", required: true)!
            let info = try context.engine.catalog.collection(database: database, name: name)
            guard let params = try body.records("indexParams", structName: "IndexParam", required: true), !params.isEmpty else {
                throw ElanusError(.missingRequired, "missing required parameters, error: indexParams is empty")
            }
            // Indexes are created in order; the first error is returned, as in Milvus.
            for param in params {
                let spec = try CreateCollectionDecoder.decodeIndex(param, schema: info.schema)
                try context.engine.createIndex(database: database, collection: name, spec)
            }
            return Envelope.success([:])
        }
        routes["indexes/list"] = { context in
            let body = try context.body("CollectionNameReq")
            let info = try context.engine.catalog.collection(database: try context.database(body), name: try body.string("collectionName", required: true)!)
            return Envelope.success(.array(info.indexes.map { .string($0.indexName) }))
        }
        routes["indexes/describe"] = { context in
            let (info, spec) = try target(context, "IndexReq")
            let progress = try context.engine.indexProgress(info, spec)
            var params: [JSON] = [
                ["key": "index_type", "value": .string(spec.indexType)], ["key": "metric_type", "value": .string(spec.metricType)],
            ]
            params += spec.params.map { ["key": .string($0.key), "value": .string($0.value)] }
            let item: JSON = .object([
                ("indexName", .string(spec.indexName)), ("fieldName", .string(spec.fieldName)), ("indexType", .string(spec.indexType)),
                // The configurable properties, as Milvus's handler picks them out of the params.
                ("metricType", .string(spec.metricType)), ("mmap.enabled", .string(spec.params["mmap.enabled"] ?? "")),
                ("indexoffsetcache.enabled", .string(spec.params["indexoffsetcache.enabled"] ?? "")), ("warmup", .string(spec.params["warmup"] ?? "")),
                ("totalRows", .int(Int64(progress.totalRows))), ("pendingRows", .int(Int64(progress.pendingRows))),
                ("indexedRows", .int(Int64(progress.indexedRows))), ("indexState", .string(progress.state)),
                ("failReason", .string(progress.failReason)), ("minIndexVersion", 0), ("maxIndexVersion", 0), ("indexParams", .array(params)),
            ])
            return Envelope.success([item])
        }
        routes["indexes/drop"] = { context in
            let body = try context.body("IndexReq")
            let database = try context.database(body)
            let name = try body.string("collectionName", required: true)!
            let indexName = try body.string("indexName", required: true)!
            try context.engine.dropIndex(database: database, collection: name, indexName: indexName)
            return Envelope.success([:])
        }
        registerProperties(into: &routes)
    }

    static func registerProperties(into routes: inout [String: RouteHandler]) {
        routes["indexes/alter_properties"] = { context in
            let body = try context.body("IndexReqWithProperties")
            let name = try body.string("collectionName", required: true)!
            let indexName = try body.string("indexName", required: true)!
            // Milvus's handler reads each value with fmt.Sprintf("%v").
            var properties: [KeyValue] = []
            for member in try body.map("properties")?.members ?? [] { properties.set(member.key, GoJSON.text(member.value)) }
            try context.engine.catalog.alterIndexProperties(database: try context.database(body), collection: name, indexName: indexName, set: properties)
            return Envelope.success([:])
        }
        routes["indexes/drop_properties"] = { context in
            let body = try context.body("DropIndexPropertiesReq")
            let name = try body.string("collectionName", required: true)!
            let indexName = try body.string("indexName", required: true)!
            try context.engine.catalog.dropIndexProperties(
                database: try context.database(body), collection: name, indexName: indexName, keys: try body.stringArray("propertyKeys") ?? [])
            return Envelope.success([:])
        }
    }

    static func target(_ context: RouteContext, _ structName: String) throws(ElanusError) -> (CollectionInfo, IndexSpec) {
        let body = try context.body(structName)
        let info = try context.engine.catalog.collection(database: try context.database(body), name: try body.string("collectionName", required: true)!)
        let indexName = try body.string("indexName", required: true)!
        guard let spec = info.indexes.first(where: { $0.indexName == indexName }) else {
            throw ElanusError(.indexNotFound, "index not found[indexName=\(indexName)]")
        }
        return (info, spec)
    }
}
