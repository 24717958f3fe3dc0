import ElanusCore
import ElanusEngine
import ElanusHTTP

/// `collections/*` DDL routes.
enum CollectionRoutes {
    static func register(into routes: inout [String: RouteHandler]) {
        FieldRoutes.register(into: &routes)
        routes["collections/create"] = create
        routes["collections/describe"] = { context in
            let (catalog, database, name) = try target(context)
            let info = try catalog.collection(database: database, name: name)
            let aliases = try catalog.listAliases(database: database, collection: info.name)
            return Envelope.success(Render.describe(info, aliases: aliases, loadProgress: context.engine.loadProgress(info)))
        }
        routes["collections/list"] = { context in
            let body = try context.body("DatabaseReq")
            let names = try context.engine.catalog.listCollections(database: try context.database(body))
            return Envelope.success(.array(names.map { .string($0) }))
        }
        routes["collections/has"] = { context in
            let (catalog, database, name) = try target(context)
            return Envelope.success(["has": .bool(try catalog.hasCollection(database: database, name: name))])
        }
        routes["collections/drop"] = { context in
            let (_, database, name) = try target(context)
            try context.engine.dropCollection(database: database, name: name)
            return Envelope.success([:])
        }
        routes["collections/rename"] = { context in
            let body = try context.body("RenameCollectionReq")
            let name = try body.string("collectionName", required: true)!
            let newName = try body.string("newCollectionName", required: true)!
            let newDatabase = try body.string("newDbName").flatMap { $0.isEmpty ? nil : $0 }
            try context.engine.catalog.renameCollection(
                database: try context.database(body), name: name, newDatabase: newDatabase, newName: newName)
            return Envelope.success([:])
        }
        routes["collections/get_stats"] = { context in
            let (catalog, database, name) = try target(context)
            let count = try context.engine.rowCount(try catalog.collection(database: database, name: name))
            return Envelope.success(["rowCount": .int(Int64(count))])
        }
        routes["collections/flush"] = { context in
            let (catalog, database, name) = try target(context)
            try context.engine.flush(try catalog.collection(database: database, name: name))
            return Envelope.success([:])
        }
        routes["collections/compact"] = { context in
            let body = try context.body("CompactReq")
            let name = try body.string("collectionName", required: true)!
            let id = try context.engine.compact(database: try context.database(body), collection: name, clustering: try body.bool("isClustering") ?? false)
            return Envelope.success(["compactionID": .int(id)])
        }
        routes["collections/get_compaction_state"] = { context in
            // Milvus takes `jobID`; clients that send `collectionName` get that collection's
            // latest compaction.
            let body = try context.body("GetCompactionStateReq")
            let state = try context.engine.compactionState(
                id: try body.int("jobID"), database: try context.database(body), collection: try body.string("collectionName"))
            return Envelope.success([
                "compactionID": .int(state.compactionID), "state": .string(state.state),
                "executingPlanNumber": .int(Int64(state.executingPlans)), "timeoutPlanNumber": 0,
                "completedPlanNumber": .int(Int64(state.completedPlans)), "failedPlanNumber": .int(Int64(state.failedPlans)),
            ])
        }
        routes["collections/load"] = { context in
            let (_, database, name) = try target(context)
            try context.engine.load(database: database, collection: name)
            return Envelope.success([:])
        }
        routes["collections/refresh_load"] = { context in
            let (_, database, name) = try target(context)
            try context.engine.refreshLoad(database: database, collection: name)
            return Envelope.success([:])
        }
        routes["collections/truncate"] = { context in
            let (_, database, name) = try target(context)
            try context.engine.truncateCollection(database: database, name: name)
            return Envelope.success([:])
        }
        routes["collections/release"] = { context in
            let (_, database, name) = try target(context)
            try context.engine.release(database: database, collection: name)
            return Envelope.success([:])
        }
        routes["collections/get_load_state"] = { context in
            let body = try context.body("CollectionNameReq")
            let name = try body.string("collectionName", required: true)!
            let info = try context.engine.catalog.collection(database: try context.database(body), name: name)
            // With partitionNames, the state of those partitions; otherwise of the collection.
            var loaded = info.loaded
            var partitions: Set<Int64>?
            if let names = try body.stringArray("partitionNames"), !names.isEmpty {
                loaded = true
                partitions = []
                for partition in names {
                    guard let p = info.partition(named: partition) else {
                        throw ElanusError(.partitionNotFound, "partition not found[partition=\(partition)]")
                    }
                    loaded = loaded && p.loaded
                    partitions?.insert(p.id)
                }
            }
            guard loaded else { return Envelope.success(["loadState": .string(LoadState.notLoad.rawValue)]) }
            if let progress = context.engine.loadProgress(info, partitions: partitions) {
                return Envelope.success(["loadState": .string(LoadState.loading.rawValue), "loadProgress": .int(Int64(progress))])
            }
            return Envelope.success(["loadState": .string(LoadState.loaded.rawValue), "loadProgress": 100])
        }
        routes["collections/alter_properties"] = { context in
            let body = try context.body("CollectionReqWithProperties")
            let name = try body.string("collectionName", required: true)!
            try context.engine.catalog.alterCollectionProperties(
                database: try context.database(body), name: name, set: try body.stringMap("properties") ?? [])
            return Envelope.success([:])
        }
        routes["collections/drop_properties"] = { context in
            let body = try context.body("DropCollectionPropertiesReq")
            let name = try body.string("collectionName", required: true)!
            try context.engine.catalog.dropCollectionProperties(
                database: try context.database(body), name: name, keys: try body.stringArray("propertyKeys") ?? [])
            return Envelope.success([:])
        }
    }

    private static func create(_ context: RouteContext) throws(ElanusError) -> HTTPResponse {
        let body = try context.body("CollectionReq")
        let database = try context.database(body)
        let decoded = try CreateCollectionDecoder.decode(body, database: database)
        let catalog = context.engine.catalog
        let info = try catalog.createCollection(decoded.request).info
        if decoded.loadAfterCreate {
            // Milvus creates first and loads second: a load failure leaves the collection in place.
            try loadAfterCreate(catalog, database: database, name: info.name)
        }
        return Envelope.success([:])
    }

    private static func loadAfterCreate(_ catalog: Catalog, database: String, name: String) throws(ElanusError) {
        do {
            try catalog.load(database: database, name: name)
        } catch {
            throw .unexpected("collection \(name) was created but could not be loaded: \(error.message)")
        }
    }

    /// The (catalog, database, collectionName) of a request whose body is a CollectionNameReq.
    private static func target(_ context: RouteContext) throws(ElanusError) -> (catalog: Catalog, database: String, name: String) {
        let body = try context.body("CollectionNameReq")
        let name = try body.string("collectionName", required: true)!
        return (context.engine.catalog, try context.database(body), name)
    }
}
