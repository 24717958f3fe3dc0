import ElanusCore
import ElanusEngine
import ElanusProto
import Foundation

/// Collections, partitions, loading, indexes, flush, compaction and aliases.
enum GRPCCollectionMethods {
    static func register(_ table: inout MethodTable) {
        registerCollections(&table)
        registerPartitions(&table)
        registerLoading(&table)
        registerIndexes(&table)
        registerAliases(&table)
    }

    private static func registerCollections(_ table: inout MethodTable) {
        table.on(.createCollection, route: "collections/create") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_CreateCollectionRequest) -> Milvus_Proto_Common_Status in
            let schema = try GRPCSchemaCodec.decode(request.schema)
            var create = CreateCollectionRequest(
                database: context.database(request.dbName), name: request.collectionName, schema: schema,
                shardsNum: request.shardsNum > 0 ? Int(request.shardsNum) : 1,
                consistencyLevel: GRPCSchemaCodec.consistency(request.consistencyLevel),
                properties: GRPCServerMethods.keyValues(request.properties))
            if request.numPartitions > 0 {
                guard request.numPartitions <= 1024 else { throw ElanusError.invalidParameter("num_partitions must be in [1, 1024], got \(request.numPartitions)") }
                create.partitionsNum = Int(request.numPartitions)
            }
            _ = try context.engine.catalog.createCollection(create)
            return MilvusStatus.success
        }
        table.on(.describeCollection, route: "collections/describe") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_DescribeCollectionRequest) -> Milvus_Proto_Milvus_DescribeCollectionResponse in
            try describe(context, request)
        }
        table.on(.hasCollection, route: "collections/has") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_HasCollectionRequest) -> Milvus_Proto_Milvus_BoolResponse in
            var response = Milvus_Proto_Milvus_BoolResponse()
            response.value = try context.engine.catalog.hasCollection(database: context.database(request.dbName), name: request.collectionName)
            return response
        }
        table.on(.showCollections, route: "collections/list") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_ShowCollectionsRequest) -> Milvus_Proto_Milvus_ShowCollectionsResponse in
            let database = context.database(request.dbName)
            var response = Milvus_Proto_Milvus_ShowCollectionsResponse()
            for name in try context.engine.catalog.listCollections(database: database) {
                guard let info = try? context.engine.catalog.collection(database: database, name: name) else { continue }
                response.collectionNames.append(info.name)
                response.collectionIds.append(info.id)
                response.createdTimestamps.append(hybrid(info.createdAt))
                response.createdUtcTimestamps.append(info.createdAt)
                response.queryServiceAvailable.append(info.loaded)
                response.shardsNum.append(Int32(clamping: info.shardsNum))
            }
            return response
        }
        table.on(.dropCollection, route: "collections/drop") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_DropCollectionRequest) -> Milvus_Proto_Common_Status in
            try context.engine.dropCollection(database: context.database(request.dbName), name: request.collectionName)
            return MilvusStatus.success
        }
        table.on(.renameCollection, route: "collections/rename") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_RenameCollectionRequest) -> Milvus_Proto_Common_Status in
            if !request.newDbname.isEmpty {
                // Moving into another database needs the same privilege there.
                try context.authorize("collections/rename", database: request.newDbname, collection: request.newName)
            }
            try context.engine.catalog.renameCollection(
                database: context.database(request.dbName), name: request.oldName, newDatabase: request.newDbname.isEmpty ? nil : request.newDbname,
                newName: request.newName)
            return MilvusStatus.success
        }
        table.on(.alterCollection, route: "collections/alter_properties") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_AlterCollectionRequest) -> Milvus_Proto_Common_Status in
            let database = context.database(request.dbName)
            if !request.properties.isEmpty {
                try context.engine.catalog.alterCollectionProperties(
                    database: database, name: request.collectionName, set: GRPCServerMethods.keyValues(request.properties))
            }
            if !request.deleteKeys.isEmpty {
                try context.engine.catalog.dropCollectionProperties(database: database, name: request.collectionName, keys: request.deleteKeys)
            }
            return MilvusStatus.success
        }
        table.on(.truncateCollection, route: "collections/truncate") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_TruncateCollectionRequest) -> Milvus_Proto_Milvus_TruncateCollectionResponse in
            try context.engine.truncateCollection(database: context.database(request.dbName), name: request.collectionName)
            return Milvus_Proto_Milvus_TruncateCollectionResponse()
        }
        table.on(.getCollectionStatistics, route: "collections/get_stats") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_GetCollectionStatisticsRequest) -> Milvus_Proto_Milvus_GetCollectionStatisticsResponse in
            let info = try context.collection(request.dbName, request.collectionName)
            var response = Milvus_Proto_Milvus_GetCollectionStatisticsResponse()
            response.stats = GRPCServerMethods.proto([KeyValue("row_count", String(try context.engine.rowCount(info)))])
            return response
        }
        table.on(.flush, route: "collections/flush") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_FlushRequest) -> Milvus_Proto_Milvus_FlushResponse in
            let database = context.database(request.dbName)
            var response = Milvus_Proto_Milvus_FlushResponse()
            response.dbName = database
            for name in request.collectionNames {
                let info = try context.engine.catalog.collection(database: database, name: name)
                // Elanus's flush is done when it returns: there are no segments left to wait for,
                // and the flush timestamp is already reached.
                try context.engine.flush(info)
                response.collSegIds[name] = Milvus_Proto_Schema_LongArray()
                response.flushCollSegIds[name] = Milvus_Proto_Schema_LongArray()
                response.collFlushTs[name] = try context.engine.allocateTimestamp()
                response.collSealTimes[name] = Int64(Date().timeIntervalSince1970)
            }
            return response
        }
        table.on(.getFlushState) { (_: GRPCCallContext, _: Milvus_Proto_Milvus_GetFlushStateRequest) -> Milvus_Proto_Milvus_GetFlushStateResponse in
            // Flush answers only once its data is durable, so every flush a client can ask about is done.
            var response = Milvus_Proto_Milvus_GetFlushStateResponse()
            response.flushed = true
            return response
        }
        table.on(.manualCompaction, route: "collections/compact") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_ManualCompactionRequest) -> Milvus_Proto_Milvus_ManualCompactionResponse in
            let name = request.collectionName
            var response = Milvus_Proto_Milvus_ManualCompactionResponse()
            response.compactionID = try context.engine.compact(database: context.database(request.dbName), collection: name, clustering: request.majorCompaction)
            response.compactionPlanCount = 1
            return response
        }
        table.on(.getCompactionState) { (context: GRPCCallContext, request: Milvus_Proto_Milvus_GetCompactionStateRequest) -> Milvus_Proto_Milvus_GetCompactionStateResponse in
            let state = try context.engine.compactionState(id: request.compactionID, database: nil, collection: nil)
            var response = Milvus_Proto_Milvus_GetCompactionStateResponse()
            response.state = state.state == "Completed" ? .completed : .executing
            response.executingPlanNo = Int64(state.executingPlans)
            response.completedPlanNo = Int64(state.completedPlans)
            response.failedPlanNo = Int64(state.failedPlans)
            return response
        }
    }

    static func describe(_ context: GRPCCallContext, _ request: Milvus_Proto_Milvus_DescribeCollectionRequest) throws(ElanusError) -> Milvus_Proto_Milvus_DescribeCollectionResponse {
        let database = context.database(request.dbName)
        let info: CollectionInfo
        if request.collectionName.isEmpty && request.collectionID != 0 {
            guard let found = context.engine.catalog.collection(id: request.collectionID) else {
                throw ElanusError(.collectionNotFound, "can't find collection[database=\(database)][collectionID=\(request.collectionID)]")
            }
            // Found by ID: its own database and name are what the caller must be allowed to see.
            try context.authorize("collections/describe", database: context.engine.catalog.databaseName(id: found.databaseID) ?? database, collection: found.name)
            info = found
        } else {
            info = try context.engine.catalog.collection(database: database, name: request.collectionName)
        }
        var response = Milvus_Proto_Milvus_DescribeCollectionResponse()
        response.schema = GRPCSchemaCodec.encode(info.schema, name: info.name, zone: info.describedZone)
        response.collectionID = info.id
        response.collectionName = info.name
        response.dbName = database
        response.dbID = info.databaseID
        response.shardsNum = Int32(clamping: info.shardsNum)
        response.virtualChannelNames = ["by-dev-rootcoord-dml_0_\(info.id)v0"]
        response.physicalChannelNames = ["by-dev-rootcoord-dml_0"]
        response.createdTimestamp = hybrid(info.createdAt)
        response.createdUtcTimestamp = info.createdAt
        response.updateTimestamp = info.schemaTimestamp
        response.consistencyLevel = GRPCSchemaCodec.proto(info.consistencyLevel)
        response.properties = GRPCServerMethods.proto(info.properties)
        response.numPartitions = Int64(info.partitions.count)
        response.aliases = try context.engine.catalog.listAliases(database: database, collection: info.name)
        return response
    }

    private static func registerPartitions(_ table: inout MethodTable) {
        table.on(.createPartition, route: "partitions/create") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_CreatePartitionRequest) -> Milvus_Proto_Common_Status in
            try context.engine.catalog.createPartition(database: context.database(request.dbName), collection: request.collectionName, name: request.partitionName)
            return MilvusStatus.success
        }
        table.on(.dropPartition, route: "partitions/drop") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_DropPartitionRequest) -> Milvus_Proto_Common_Status in
            try context.engine.dropPartition(database: context.database(request.dbName), collection: request.collectionName, name: request.partitionName)
            return MilvusStatus.success
        }
        table.on(.hasPartition, route: "partitions/has") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_HasPartitionRequest) -> Milvus_Proto_Milvus_BoolResponse in
            var response = Milvus_Proto_Milvus_BoolResponse()
            response.value = try context.collection(request.dbName, request.collectionName).partition(named: request.partitionName) != nil
            return response
        }
        table.on(.showPartitions, route: "partitions/list") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_ShowPartitionsRequest) -> Milvus_Proto_Milvus_ShowPartitionsResponse in
            let info = try context.collection(request.dbName, request.collectionName)
            var response = Milvus_Proto_Milvus_ShowPartitionsResponse()
            let wanted = Set(request.partitionNames)
            for partition in info.partitions where wanted.isEmpty || wanted.contains(partition.name) {
                response.partitionNames.append(partition.name)
                response.partitionIds.append(partition.id)
                response.createdTimestamps.append(hybrid(partition.createdAt))
                response.createdUtcTimestamps.append(partition.createdAt)
                response.inMemoryPercentages.append(partition.loaded ? 100 : 0)
            }
            return response
        }
        table.on(.getPartitionStatistics, route: "partitions/get_stats") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_GetPartitionStatisticsRequest) -> Milvus_Proto_Milvus_GetPartitionStatisticsResponse in
            let info = try context.collection(request.dbName, request.collectionName)
            guard info.partition(named: request.partitionName) != nil else {
                throw ElanusError(.partitionNotFound, "partition not found[partition=\(request.partitionName)]")
            }
            var response = Milvus_Proto_Milvus_GetPartitionStatisticsResponse()
            response.stats = GRPCServerMethods.proto([
                KeyValue("row_count", String(try context.engine.rowCount(info, partitionName: request.partitionName)))
            ])
            return response
        }
    }

    private static func registerLoading(_ table: inout MethodTable) {
        table.on(.loadCollection, route: "collections/load") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_LoadCollectionRequest) -> Milvus_Proto_Common_Status in
            let database = context.database(request.dbName)
            if request.refresh {
                try context.engine.refreshLoad(database: database, collection: request.collectionName)
            } else {
                try context.engine.load(database: database, collection: request.collectionName)
            }
            return MilvusStatus.success
        }
        table.on(.releaseCollection, route: "collections/release") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_ReleaseCollectionRequest) -> Milvus_Proto_Common_Status in
            try context.engine.release(database: context.database(request.dbName), collection: request.collectionName)
            return MilvusStatus.success
        }
        table.on(.loadPartitions, route: "partitions/load") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_LoadPartitionsRequest) -> Milvus_Proto_Common_Status in
            try context.engine.load(database: context.database(request.dbName), collection: request.collectionName, partitionNames: request.partitionNames)
            return MilvusStatus.success
        }
        table.on(.releasePartitions, route: "partitions/release") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_ReleasePartitionsRequest) -> Milvus_Proto_Common_Status in
            try context.engine.release(database: context.database(request.dbName), collection: request.collectionName, partitionNames: request.partitionNames)
            return MilvusStatus.success
        }
        table.on(.getLoadState, route: "collections/get_load_state") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_GetLoadStateRequest) -> Milvus_Proto_Milvus_GetLoadStateResponse in
            let (loaded, progress) = try loadState(context, request.dbName, request.collectionName, request.partitionNames)
            var response = Milvus_Proto_Milvus_GetLoadStateResponse()
            response.state = !loaded ? .notLoad : (progress == nil ? .loaded : .loading)
            return response
        }
        table.on(.getLoadingProgress, route: "collections/get_load_state") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_GetLoadingProgressRequest) -> Milvus_Proto_Milvus_GetLoadingProgressResponse in
            let (loaded, progress) = try loadState(context, request.dbName, request.collectionName, request.partitionNames)
            guard loaded else { throw ElanusError(.collectionNotLoaded, "collection not loaded[collection=\(request.collectionName)]") }
            var response = Milvus_Proto_Milvus_GetLoadingProgressResponse()
            response.progress = Int64(progress ?? 100)
            response.refreshProgress = response.progress
            return response
        }
    }

    /// Whether the collection (or the partitions named) is loaded, and its progress while loading.
    private static func loadState(_ context: GRPCCallContext, _ database: String, _ name: String, _ partitionNames: [String]) throws(ElanusError) -> (Bool, Int?) {
        let info = try context.collection(database, name)
        var loaded = info.loaded
        var partitions: Set<Int64>?
        if !partitionNames.isEmpty {
            loaded = true
            partitions = []
            for partition in partitionNames {
                guard let p = info.partition(named: partition) else { throw ElanusError(.partitionNotFound, "partition not found[partition=\(partition)]") }
                loaded = loaded && p.loaded
                partitions?.insert(p.id)
            }
        }
        return (loaded, loaded ? context.engine.loadProgress(info, partitions: partitions) : nil)
    }

    private static func registerIndexes(_ table: inout MethodTable) {
        table.on(.createIndex, route: "indexes/create") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_CreateIndexRequest) -> Milvus_Proto_Common_Status in
            let database = context.database(request.dbName)
            let info = try context.engine.catalog.collection(database: database, name: request.collectionName)
            let spec = try CreateCollectionDecoder.decodeIndex(indexBody(request), schema: info.schema)
            try context.engine.createIndex(database: database, collection: request.collectionName, spec)
            return MilvusStatus.success
        }
        table.on(.describeIndex, route: "indexes/describe") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_DescribeIndexRequest) -> Milvus_Proto_Milvus_DescribeIndexResponse in
            try describeIndexes(context, request.dbName, request.collectionName, field: request.fieldName, index: request.indexName)
        }
        table.on(.getIndexState, route: "indexes/describe") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_GetIndexStateRequest) -> Milvus_Proto_Milvus_GetIndexStateResponse in
            let described = try describeIndexes(context, request.dbName, request.collectionName, field: request.fieldName, index: request.indexName)
            var response = Milvus_Proto_Milvus_GetIndexStateResponse()
            let states = described.indexDescriptions.map(\.state)
            response.state = states.contains(.failed) ? .failed : (states.allSatisfy { $0 == .finished } ? .finished : .inProgress)
            response.failReason = described.indexDescriptions.map(\.indexStateFailReason).first(where: { !$0.isEmpty }) ?? ""
            return response
        }
        table.on(.getIndexBuildProgress, route: "indexes/describe") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_GetIndexBuildProgressRequest) -> Milvus_Proto_Milvus_GetIndexBuildProgressResponse in
            let described = try describeIndexes(context, request.dbName, request.collectionName, field: request.fieldName, index: request.indexName)
            var response = Milvus_Proto_Milvus_GetIndexBuildProgressResponse()
            response.indexedRows = described.indexDescriptions.reduce(0) { $0 + $1.indexedRows }
            response.totalRows = described.indexDescriptions.reduce(0) { $0 + $1.totalRows }
            return response
        }
        table.on(.dropIndex, route: "indexes/drop") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_DropIndexRequest) -> Milvus_Proto_Common_Status in
            let database = context.database(request.dbName)
            var name = request.indexName
            if name.isEmpty {
                // Without a name, the field's only index (Milvus refuses when there are several).
                let specs = try context.engine.catalog.collection(database: database, name: request.collectionName).indexes.filter {
                    request.fieldName.isEmpty || $0.fieldName == request.fieldName
                }
                guard specs.count == 1 else {
                    throw ElanusError.invalidParameter(specs.isEmpty ? "index doesn't exist" : "there are multiple indexes, please specify the index_name")
                }
                name = specs[0].indexName
            }
            try context.engine.dropIndex(database: database, collection: request.collectionName, indexName: name)
            return MilvusStatus.success
        }
    }

    /// CreateIndex's `extra_params` as the REST route's index parameter: `index_type`,
    /// `metric_type`, `params` (a JSON object as text), and any other key as an index parameter,
    /// which is how pymilvus sends flat parameters.
    static func indexBody(_ request: Milvus_Proto_Milvus_CreateIndexRequest) throws(ElanusError) -> RequestBody {
        var params: [(key: String, value: JSON)] = []
        var members: [(key: String, value: JSON)] = [("fieldName", .string(request.fieldName)), ("indexName", .string(request.indexName))]
        for pair in request.extraParams {
            switch pair.key {
            case "index_type": members.append(("indexType", .string(pair.value)))
            case "metric_type": members.append(("metricType", .string(pair.value)))
            case "params":
                guard let parsed = try? JSON.parse(pair.value), case .object(let inner) = parsed else {
                    throw ElanusError.invalidParameter("index params \(pair.value) is not a JSON object")
                }
                params += inner
            default: params.append((pair.key, .string(pair.value)))
            }
        }
        members.append(("params", .object(params)))
        return RequestBody(members: members, structName: "IndexParam")
    }

    static func describeIndexes(_ context: GRPCCallContext, _ database: String, _ collection: String, field: String, index: String) throws(ElanusError) -> Milvus_Proto_Milvus_DescribeIndexResponse {
        let info = try context.collection(database, collection)
        let specs = info.indexes.filter { (index.isEmpty || $0.indexName == index) && (field.isEmpty || $0.fieldName == field) }
        guard !specs.isEmpty else { throw ElanusError(.indexNotFound, "index not found[indexName=\(index)]") }
        var response = Milvus_Proto_Milvus_DescribeIndexResponse()
        for spec in specs {
            let progress = try context.engine.indexProgress(info, spec)
            var description = Milvus_Proto_Milvus_IndexDescription()
            description.indexName = spec.indexName
            description.fieldName = spec.fieldName
            var params = [KeyValue("index_type", spec.indexType), KeyValue("metric_type", spec.metricType)]
            // Index properties (mmap.enabled, ...) travel as their own pairs, the build
            // parameters as one JSON object under `params`, as Milvus describes them.
            let build = spec.params.filter { !Catalog.indexProperties.contains($0.key) }
            if !build.isEmpty {
                let object = JSON.object(build.map { (key: $0.key, value: JSON.string($0.value)) })
                params.append(KeyValue("params", object.serialized()))
            }
            params += spec.params.filter { Catalog.indexProperties.contains($0.key) }
            description.params = GRPCServerMethods.proto(params)
            description.indexedRows = Int64(progress.indexedRows)
            description.totalRows = Int64(progress.totalRows)
            description.pendingIndexRows = Int64(progress.pendingRows)
            description.state = progress.state == "Finished" ? .finished : (progress.state == "Failed" ? .failed : .inProgress)
            description.indexStateFailReason = progress.failReason
            response.indexDescriptions.append(description)
        }
        return response
    }

    private static func registerAliases(_ table: inout MethodTable) {
        table.on(.createAlias, route: "aliases/create") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_CreateAliasRequest) -> Milvus_Proto_Common_Status in
            try context.engine.catalog.createAlias(database: context.database(request.dbName), alias: request.alias, collection: request.collectionName)
            return MilvusStatus.success
        }
        table.on(.alterAlias, route: "aliases/alter") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_AlterAliasRequest) -> Milvus_Proto_Common_Status in
            try context.engine.catalog.alterAlias(database: context.database(request.dbName), alias: request.alias, collection: request.collectionName)
            return MilvusStatus.success
        }
        table.on(.dropAlias, route: "aliases/drop") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_DropAliasRequest) -> Milvus_Proto_Common_Status in
            try context.engine.catalog.dropAlias(database: context.database(request.dbName), alias: request.alias)
            return MilvusStatus.success
        }
        table.on(.describeAlias, route: "aliases/describe") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_DescribeAliasRequest) -> Milvus_Proto_Milvus_DescribeAliasResponse in
            let database = context.database(request.dbName)
            let info = try context.engine.catalog.describeAlias(database: database, alias: request.alias)
            var response = Milvus_Proto_Milvus_DescribeAliasResponse()
            response.dbName = database
            response.alias = request.alias
            response.collection = info.name
            return response
        }
        table.on(.listAliases, route: "aliases/list") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_ListAliasesRequest) -> Milvus_Proto_Milvus_ListAliasesResponse in
            let database = context.database(request.dbName)
            var response = Milvus_Proto_Milvus_ListAliasesResponse()
            response.dbName = database
            response.collectionName = request.collectionName
            response.aliases = try context.engine.catalog.listAliases(
                database: database, collection: request.collectionName.isEmpty ? nil : request.collectionName)
            return response
        }
    }

    /// A catalog time (milliseconds) as a hybrid timestamp, as Milvus reports creation times.
    static func hybrid(_ ms: UInt64) -> UInt64 { ms << UInt64(HybridTimestamp.logicalBits) }
}
