import ElanusCore
import ElanusEngine

/// `databases/*`.
enum DatabaseRoutes {
    static func register(into routes: inout [String: RouteHandler]) {
        routes["databases/create"] = { context in
            let body = try context.body("DatabaseReqWithProperties")
            let name = try body.string("dbName", required: true)!
            try context.engine.catalog.createDatabase(name, properties: try body.stringMap("properties") ?? [])
            return Envelope.success([:])
        }
        routes["databases/drop"] = { context in
            let body = try context.body("DatabaseReq")
            try context.engine.catalog.dropDatabase(try body.string("dbName", required: true)!)
            return Envelope.success([:])
        }
        routes["databases/list"] = { context in
            _ = try context.body("EmptyReq")
            return Envelope.success(.array(context.engine.catalog.listDatabases().map { .string($0) }))
        }
        routes["databases/describe"] = { context in
            let body = try context.body("DatabaseReq")
            let db = try context.engine.catalog.database(try body.string("dbName", required: true)!)
            return Envelope.success([
                "dbName": .string(db.name), "dbID": .int(db.id), "properties": Render.keyValues(db.properties),
            ])
        }
        let alter: RouteHandler = { context in
            let body = try context.body("DatabaseReqWithProperties")
            let name = try body.string("dbName", required: true)!
            try context.engine.catalog.alterDatabase(name, set: try body.stringMap("properties") ?? [])
            return Envelope.success([:])
        }
        routes["databases/alter"] = alter
        routes["databases/alter_properties"] = alter
        routes["databases/drop_properties"] = { context in
            let body = try context.body("DropDatabasePropertiesReq")
            let name = try body.string("dbName", required: true)!
            try context.engine.catalog.alterDatabase(name, remove: try body.stringArray("propertyKeys") ?? [])
            return Envelope.success([:])
        }
    }
}
