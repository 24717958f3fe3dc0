import ElanusCore
import ElanusEngine

/// `aliases/*`: Milvus's collection aliases. Once made, an alias is accepted wherever a
/// collection name is (the catalog resolves it), except where Milvus needs the collection's own
/// name: dropping or renaming it.
enum AliasRoutes {
    static func register(into routes: inout [String: RouteHandler]) {
        routes["aliases/create"] = { context in
            let (database, collection, alias) = try aliasCollection(context)
            try context.engine.catalog.createAlias(database: database, alias: alias, collection: collection)
            return Envelope.success([:])
        }
        routes["aliases/alter"] = { context in
            let (database, collection, alias) = try aliasCollection(context)
            try context.engine.catalog.alterAlias(database: database, alias: alias, collection: collection)
            return Envelope.success([:])
        }
        routes["aliases/drop"] = { context in
            let (database, alias) = try aliasOnly(context)
            try context.engine.catalog.dropAlias(database: database, alias: alias)
            return Envelope.success([:])
        }
        routes["aliases/describe"] = { context in
            let (database, alias) = try aliasOnly(context)
            let info = try context.engine.catalog.describeAlias(database: database, alias: alias)
            return Envelope.success(["dbName": .string(database), "collectionName": .string(info.name), "aliasName": .string(alias)])
        }
        routes["aliases/list"] = { context in
            let body = try context.body("OptionalCollectionNameReq")
            let database = try context.database(body)
            let collection = try body.string("collectionName").flatMap { $0.isEmpty ? nil : $0 }
            let aliases = try context.engine.catalog.listAliases(database: database, collection: collection)
            return Envelope.success(.array(aliases.map { .string($0) }))
        }
    }

    // Go decodes every key's type before its validator checks required keys: a wrongly typed
    // key is reported (1801) before a missing one (1802), whatever their order.

    /// An AliasCollectionReq's database, collection and alias.
    private static func aliasCollection(_ context: RouteContext) throws(ElanusError) -> (String, String, String) {
        let body = try context.body("AliasCollectionReq")
        let database = try context.database(body)
        _ = try body.string("collectionName")
        _ = try body.string("aliasName")
        return (database, try body.string("collectionName", required: true)!, try body.string("aliasName", required: true)!)
    }

    /// An AliasReq's database and alias.
    private static func aliasOnly(_ context: RouteContext) throws(ElanusError) -> (String, String) {
        let body = try context.body("AliasReq")
        let database = try context.database(body)
        return (database, try body.string("aliasName", required: true)!)
    }
}
