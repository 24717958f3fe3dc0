import ElanusCore
import ElanusEngine

/// `collections/fields/*`: schema evolution (Milvus 2.6). A field added to a collection with
/// data reads its default value, or null, in every row written before it.
enum FieldRoutes {
    static func register(into routes: inout [String: RouteHandler]) {
        routes["collections/fields/add"] = { context in
            let body = try context.body("CollectionFieldReqWithSchema")
            let name = try body.string("collectionName", required: true)!
            guard let schema = try body.structure("schema", structName: "CollectionFieldReqWithSchema.Schema") else {
                throw body.missing("schema")
            }
            // The same field decoding as collections/create; a field has no autoID key of its own.
            let field = try CreateCollectionDecoder.decodeField(schema, autoID: false)
            try context.engine.addField(database: try context.database(body), collection: name, field)
            return Envelope.success([:])
        }
        routes["collections/fields/alter_properties"] = { context in
            let body = try context.body("CollectionFieldReqWithParams")
            let name = try body.string("collectionName", required: true)!
            let fieldName = try body.string("fieldName", required: true)!
            // Milvus's handler reads each value with fmt.Sprintf("%v").
            var properties: [KeyValue] = []
            for member in try body.map("fieldParams")?.members ?? [] { properties.set(member.key, GoJSON.text(member.value)) }
            try context.engine.catalog.alterFieldProperties(
                database: try context.database(body), collection: name, field: fieldName, set: properties)
            return Envelope.success([:])
        }
    }
}
