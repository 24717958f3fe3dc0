import ElanusCore
import ElanusEngine
import ElanusHTTP
import ElanusProto
import Foundation

/// Connection, version, health, timestamps and databases.
enum GRPCServerMethods {
    /// The Milvus version whose protocol Elanus speaks; pymilvus compares it for features.
    static let milvusVersion = "v2.6.0"

    static func register(_ table: inout MethodTable) {
        table.on(.connect) { (context: GRPCCallContext, _: Milvus_Proto_Milvus_ConnectRequest) -> Milvus_Proto_Milvus_ConnectResponse in
            var response = Milvus_Proto_Milvus_ConnectResponse()
            var info = Milvus_Proto_Common_ServerInfo()
            info.buildTags = milvusVersion
            info.deployMode = "STANDALONE"
            info.reserved = ["server": "elanus"]
            response.serverInfo = info
            // Milvus hands out an identifier per client; one process has no use for it beyond
            // telling clients apart in logs, so a clock reading does.
            response.identifier = Int64(MonotonicClock.nowNs() & 0x7FFF_FFFF_FFFF)
            return response
        }
        table.on(.getVersion) { (_: GRPCCallContext, _: Milvus_Proto_Milvus_GetVersionRequest) -> Milvus_Proto_Milvus_GetVersionResponse in
            var response = Milvus_Proto_Milvus_GetVersionResponse()
            response.version = milvusVersion
            return response
        }
        table.on(.checkHealth) { (_: GRPCCallContext, _: Milvus_Proto_Milvus_CheckHealthRequest) -> Milvus_Proto_Milvus_CheckHealthResponse in
            var response = Milvus_Proto_Milvus_CheckHealthResponse()
            response.isHealthy = true
            return response
        }
        table.on(.getComponentStates) { (_: GRPCCallContext, _: Milvus_Proto_Milvus_GetComponentStatesRequest) -> Milvus_Proto_Milvus_ComponentStates in
            var response = Milvus_Proto_Milvus_ComponentStates()
            var state = Milvus_Proto_Milvus_ComponentInfo()
            state.role = "Proxy"
            state.stateCode = .healthy
            response.state = state
            return response
        }
        table.on(.allocTimestamp) { (context: GRPCCallContext, _: Milvus_Proto_Milvus_AllocTimestampRequest) -> Milvus_Proto_Milvus_AllocTimestampResponse in
            var response = Milvus_Proto_Milvus_AllocTimestampResponse()
            response.timestamp = try context.engine.allocateTimestamp()
            return response
        }

        table.on(.listDatabases, route: "databases/list") { (context: GRPCCallContext, _: Milvus_Proto_Milvus_ListDatabasesRequest) -> Milvus_Proto_Milvus_ListDatabasesResponse in
            var response = Milvus_Proto_Milvus_ListDatabasesResponse()
            let names = context.engine.catalog.listDatabases()
            response.dbNames = names
            for name in names {
                let info = try context.engine.catalog.database(name)
                response.dbIds.append(info.id)
                response.createdTimestamp.append(0)
            }
            return response
        }
        table.on(.createDatabase, route: "databases/create") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_CreateDatabaseRequest) -> Milvus_Proto_Common_Status in
            try context.engine.catalog.createDatabase(request.dbName, properties: keyValues(request.properties))
            return MilvusStatus.success
        }
        table.on(.dropDatabase, route: "databases/drop") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_DropDatabaseRequest) -> Milvus_Proto_Common_Status in
            try context.engine.catalog.dropDatabase(request.dbName)
            return MilvusStatus.success
        }
        table.on(.describeDatabase, route: "databases/describe") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_DescribeDatabaseRequest) -> Milvus_Proto_Milvus_DescribeDatabaseResponse in
            let info = try context.engine.catalog.database(context.database(request.dbName))
            var response = Milvus_Proto_Milvus_DescribeDatabaseResponse()
            response.dbName = info.name
            response.dbID = info.id
            response.properties = proto(info.properties)
            return response
        }
        table.on(.alterDatabase, route: "databases/alter") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_AlterDatabaseRequest) -> Milvus_Proto_Common_Status in
            try context.engine.catalog.alterDatabase(context.database(request.dbName), set: keyValues(request.properties), remove: request.deleteKeys)
            return MilvusStatus.success
        }
    }

    static func keyValues(_ pairs: [Milvus_Proto_Common_KeyValuePair]) -> [KeyValue] {
        pairs.map { KeyValue($0.key, $0.value) }
    }

    static func proto(_ pairs: [KeyValue]) -> [Milvus_Proto_Common_KeyValuePair] {
        pairs.map { pair in
            var kv = Milvus_Proto_Common_KeyValuePair()
            kv.key = pair.key
            kv.value = pair.value
            return kv
        }
    }
}
