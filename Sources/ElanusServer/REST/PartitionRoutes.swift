import ElanusCore
import ElanusEngine

/// `partitions/*`.
enum PartitionRoutes {
    static func register(into routes: inout [String: RouteHandler]) {
        routes["partitions/list"] = { context in
            let body = try context.body("CollectionNameReq")
            let name = try body.string("collectionName", required: true)!
            let partitions = try context.engine.catalog.partitions(database: try context.database(body), collection: name)
            return Envelope.success(.array(partitions.map { .string($0.name) }))
        }
        routes["partitions/has"] = { context in
            let t = try target(context)
            let exists = try t.catalog.collection(database: t.database, name: t.collection).partition(named: t.partition) != nil
            return Envelope.success(["has": .bool(exists)])
        }
        routes["partitions/create"] = { context in
            let t = try target(context)
            try t.catalog.createPartition(database: t.database, collection: t.collection, name: t.partition)
            return Envelope.success([:])
        }
        routes["partitions/drop"] = { context in
            let t = try target(context)
            try context.engine.dropPartition(database: t.database, collection: t.collection, name: t.partition)
            return Envelope.success([:])
        }
        routes["partitions/get_stats"] = { context in
            let t = try target(context)
            let info = try t.catalog.collection(database: t.database, name: t.collection)
            let count = try context.engine.rowCount(info, partitionName: t.partition)
            return Envelope.success(["rowCount": .int(Int64(count))])
        }
        routes["partitions/load"] = { context in
            let t = try partitionsTarget(context)
            try context.engine.load(database: t.database, collection: t.collection, partitionNames: t.names)
            return Envelope.success([:])
        }
        routes["partitions/release"] = { context in
            let t = try partitionsTarget(context)
            try context.engine.release(database: t.database, collection: t.collection, partitionNames: t.names)
            return Envelope.success([:])
        }
    }

    /// The target of a PartitionsReq (`collectionName` plus `partitionNames`).
    private static func partitionsTarget(_ context: RouteContext) throws -> (catalog: Catalog, database: String, collection: String, names: [String]) {
        let body = try context.body("PartitionsReq")
        let collection = try body.string("collectionName", required: true)!
        let names = try body.stringArray("partitionNames", required: true)!
        return (context.engine.catalog, try context.database(body), collection, names)
    }

    private static func target(_ context: RouteContext) throws -> (catalog: Catalog, database: String, collection: String, partition: String) {
        let body = try context.body("PartitionReq")
        let collection = try body.string("collectionName", required: true)!
        let partition = try body.string("partitionName", required: true)!
        return (context.engine.catalog, try context.database(body), collection, partition)
    }
}
