import ElanusCore
import ElanusEngine
import ElanusProto
import Foundation

/// Schema and index property changes, the one resource group, replicas, imports, flush-all and
/// batch describe.
enum GRPCAdminMethods {
    static func register(_ table: inout MethodTable) {
        table.on(.addCollectionField, route: "collections/fields/add") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_AddCollectionFieldRequest) -> Milvus_Proto_Common_Status in
            let message: Milvus_Proto_Schema_FieldSchema
            do { message = try Milvus_Proto_Schema_FieldSchema(serializedBytes: request.schema) } catch {
                throw ElanusError.invalidParameter("the field is not a serialized milvus.proto.schema.FieldSchema: \(error)")
            }
            try context.engine.addField(
                database: context.database(request.dbName), collection: request.collectionName, try GRPCSchemaCodec.decode(message))
            return MilvusStatus.success
        }
        table.on(.alterCollectionField, route: "collections/fields/alter_properties") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_AlterCollectionFieldRequest) -> Milvus_Proto_Common_Status in
            guard request.deleteKeys.isEmpty else {
                throw ElanusError.invalidParameter("field properties cannot be deleted, only set: \(request.deleteKeys.joined(separator: ", "))")
            }
            try context.engine.catalog.alterFieldProperties(
                database: context.database(request.dbName), collection: request.collectionName, field: request.fieldName,
                set: GRPCServerMethods.keyValues(request.properties))
            return MilvusStatus.success
        }
        table.on(.alterIndex, route: "indexes/alter_properties") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_AlterIndexRequest) -> Milvus_Proto_Common_Status in
            let base: [(key: String, value: JSON)] = [
                ("dbName", .string(context.database(request.dbName))), ("collectionName", .string(request.collectionName)),
                ("indexName", .string(request.indexName)),
            ]
            if !request.extraParams.isEmpty {
                let properties = JSON.object(request.extraParams.map { (key: $0.key, value: JSON.string($0.value)) })
                _ = try context.rest("indexes/alter_properties", .object(base + [("properties", properties)]))
            }
            if !request.deleteKeys.isEmpty {
                _ = try context.rest("indexes/drop_properties", .object(base + [("propertyKeys", .array(request.deleteKeys.map { .string($0) }))]))
            }
            return MilvusStatus.success
        }
        table.on(.listResourceGroups, route: "resource_groups/list") { (context: GRPCCallContext, _: Milvus_Proto_Milvus_ListResourceGroupsRequest) -> Milvus_Proto_Milvus_ListResourceGroupsResponse in
            var response = Milvus_Proto_Milvus_ListResourceGroupsResponse()
            if case .array(let names) = try context.rest("resource_groups/list", .object([])) {
                response.resourceGroups = names.compactMap { if case .string(let s) = $0 { s } else { nil } }
            }
            return response
        }
        table.on(.describeResourceGroup, route: "resource_groups/describe") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_DescribeResourceGroupRequest) -> Milvus_Proto_Milvus_DescribeResourceGroupResponse in
            let described = try context.rest("resource_groups/describe", ["name": .string(request.resourceGroup)])
            guard let group = described["resource_group"] else { throw ElanusError.unexpected("resource group without a description") }
            var rg = Milvus_Proto_Milvus_ResourceGroup()
            rg.name = request.resourceGroup
            if case .int(let capacity)? = group["capacity"] { rg.capacity = Int32(clamping: capacity) }
            rg.numAvailableNode = 1
            if case .object(let replicas)? = group["num_loaded_replica"] {
                for member in replicas { if case .int(let n) = member.value { rg.numLoadedReplica[member.key] = Int32(clamping: n) } }
            }
            var node = Milvus_Proto_Common_NodeInfo()
            node.nodeID = 1
            node.hostname = ProcessInfo.processInfo.hostName
            rg.nodes = [node]
            var response = Milvus_Proto_Milvus_DescribeResourceGroupResponse()
            response.resourceGroup = rg
            return response
        }
        table.on(.getReplicas, route: "collections/get_load_state") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_GetReplicasRequest) -> Milvus_Proto_Milvus_GetReplicasResponse in
            let info: CollectionInfo
            if !request.collectionName.isEmpty {
                info = try context.collection(request.dbName, request.collectionName)
            } else if let found = context.engine.catalog.collection(id: request.collectionID) {
                try context.authorize(
                    "collections/get_load_state", database: context.engine.catalog.databaseName(id: found.databaseID) ?? "", collection: found.name)
                info = found
            } else {
                throw ElanusError(.collectionNotFound, "can't find collection[collectionID=\(request.collectionID)]")
            }
            var response = Milvus_Proto_Milvus_GetReplicasResponse()
            guard info.loaded else { return response }
            // One node serves every loaded collection: one replica, one shard, on node 1.
            var replica = Milvus_Proto_Milvus_ReplicaInfo()
            replica.replicaID = info.id
            replica.collectionID = info.id
            replica.partitionIds = info.partitions.filter(\.loaded).map(\.id)
            replica.nodeIds = [1]
            replica.resourceGroupName = ClusterRoutes.defaultResourceGroup
            if request.withShardNodes {
                var shard = Milvus_Proto_Milvus_ShardReplica()
                shard.leaderID = 1
                shard.dmChannelName = "by-dev-rootcoord-dml_0_\(info.id)v0"
                shard.nodeIds = [1]
                replica.shardReplicas = [shard]
            }
            response.replicas = [replica]
            return response
        }
        table.on(.import, route: "jobs/import/create") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_ImportRequest) -> Milvus_Proto_Milvus_ImportResponse in
            // The v1 bulk insert: each file is its own group (a row-based JSON file, or one
            // NumPy/Parquet file), as Milvus 2.6's proxy turns them into an import job.
            let id = try context.engine.createImport(
                database: context.database(request.dbName), collection: request.collectionName,
                partitionName: request.partitionName.isEmpty ? nil : request.partitionName, files: request.files.map { [$0] }, options: [:])
            var response = Milvus_Proto_Milvus_ImportResponse()
            response.tasks = [id]
            return response
        }
        table.on(.getImportState, route: "jobs/import/describe") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_GetImportStateRequest) -> Milvus_Proto_Milvus_GetImportStateResponse in
            importState(try context.engine.importJob(request.task))
        }
        table.on(.listImportTasks, route: "jobs/import/list") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_ListImportTasksRequest) -> Milvus_Proto_Milvus_ListImportTasksResponse in
            var jobs = context.engine.importJobList(
                database: request.dbName.isEmpty ? nil : request.dbName, collection: request.collectionName.isEmpty ? nil : request.collectionName)
            if request.limit > 0 { jobs = Array(jobs.prefix(Int(min(request.limit, 1 << 20)))) }
            var response = Milvus_Proto_Milvus_ListImportTasksResponse()
            response.tasks = jobs.map(importState)
            return response
        }
        table.on(.flushAll, route: "collections/flush") { (context: GRPCCallContext, _: Milvus_Proto_Milvus_FlushAllRequest) -> Milvus_Proto_Milvus_FlushAllResponse in
            // Every database's collections; with authentication on, a user other than root flushes
            // only the database the call addresses (its privilege was checked there).
            let database = context.database("")
            let scoped = context.user != nil && context.user != AccessCatalog.root
            for info in context.engine.catalog.allCollections() where !scoped || context.engine.catalog.databaseName(id: info.databaseID) == database {
                try context.engine.flush(info)
            }
            return Milvus_Proto_Milvus_FlushAllResponse()
        }
        table.on(.getFlushAllState) { (_: GRPCCallContext, _: Milvus_Proto_Milvus_GetFlushAllStateRequest) -> Milvus_Proto_Milvus_GetFlushAllStateResponse in
            // FlushAll returns once every collection's data is durable.
            var response = Milvus_Proto_Milvus_GetFlushAllStateResponse()
            response.flushed = true
            return response
        }
        table.on(.batchDescribeCollection, route: "collections/describe") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_BatchDescribeCollectionRequest) -> Milvus_Proto_Milvus_BatchDescribeCollectionResponse in
            guard request.collectionName.count + request.collectionID.count <= 1024 else {
                throw ElanusError.invalidParameter("batch describe takes at most 1024 collections")
            }
            var response = Milvus_Proto_Milvus_BatchDescribeCollectionResponse()
            for name in request.collectionName {
                var one = Milvus_Proto_Milvus_DescribeCollectionRequest()
                one.dbName = request.dbName
                one.collectionName = name
                response.responses.append(try GRPCCollectionMethods.describe(context, one))
            }
            for id in request.collectionID {
                var one = Milvus_Proto_Milvus_DescribeCollectionRequest()
                one.dbName = request.dbName
                one.collectionID = id
                response.responses.append(try GRPCCollectionMethods.describe(context, one))
            }
            return response
        }
    }

    static func importState(_ job: ImportJob) -> Milvus_Proto_Milvus_GetImportStateResponse {
        var state = Milvus_Proto_Milvus_GetImportStateResponse()
        state.id = job.id
        state.collectionID = job.collectionID
        state.rowCount = Int64(job.importedRows)
        state.createTs = Int64(clamping: job.createTime / 1000)
        switch job.state {
        case .pending: state.state = .importPending
        case .importing: state.state = .importStarted
        case .completed: state.state = .importCompleted
        case .failed: state.state = .importFailed
        }
        var infos = [KeyValue("collection", job.collection), KeyValue("progress_percent", String(job.progress))]
        if let partition = job.partition { infos.append(KeyValue("partition", partition)) }
        infos.append(KeyValue("files", job.groups.flatMap(\.files).joined(separator: ",")))
        if !job.reason.isEmpty { infos.append(KeyValue("failed_reason", job.reason)) }
        state.infos = GRPCServerMethods.proto(infos)
        return state
    }
}
