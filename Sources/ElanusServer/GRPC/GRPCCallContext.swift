import ElanusCore
import ElanusEngine
import ElanusHTTP
import ElanusProto
import SwiftProtobuf

/// What a gRPC method handler gets: the engine, the call, and the authenticated user.
struct GRPCCallContext: Sendable {
    let engine: Engine
    let call: GRPCCall
    let method: MilvusServiceMethod
    unowned let service: MilvusGRPCService
    var user: String?

    var cancellation: Cancellation { call.cancellation }

    /// The database a request addresses: its `db_name`, else the `dbname` metadata pymilvus
    /// sends, else "default" (Milvus's proxy reads them in that order).
    func database(_ requested: String) -> String {
        if !requested.isEmpty { return requested }
        if let header = call.metadata["dbname"], !header.isEmpty { return header }
        return Catalog.defaultDatabase
    }

    func collection(_ database: String, _ name: String) throws(ElanusError) -> CollectionInfo {
        try engine.catalog.collection(database: self.database(database), name: name)
    }

    /// The call as the REST layer sees a request: the credentials, the database and the
    /// cancellation travel in it, so the REST routes' authentication and decoders apply as they are.
    var httpRequest: HTTPRequest {
        var headers = HTTPHeaders()
        // pymilvus sends `authorization: base64(user:password)` (or of the token), without a scheme.
        for value in call.metadata.values("authorization") {
            let lower = value.lowercased()
            headers.add("Authorization", lower.hasPrefix("basic ") || lower.hasPrefix("bearer ") ? value : "Basic \(value)")
        }
        if let database = call.metadata["dbname"], !database.isEmpty { headers.add("DB-Name", database) }
        return HTTPRequest(
            method: "POST", target: "\(RESTHandler.prefix)grpc\(call.path)", headers: headers, body: [], peer: call.peer,
            cancellation: call.cancellation)
    }

    /// A REST route context whose body is `body`: for methods answered by a REST route's own code.
    func routeContext(_ body: JSON = .object([])) -> RouteContext {
        var request = httpRequest
        request.body = Array(body.serialized().utf8)
        var context = RouteContext(request: request, engine: engine)
        context.user = user
        return context
    }

    /// Runs REST route `route` with `body` and returns its envelope's `data` (an error envelope
    /// is thrown as the ElanusError it came from).
    func rest(_ route: String, _ body: JSON) throws(ElanusError) -> JSON {
        guard let handler = service.routes[route] else { throw ElanusError.unexpected("no route \(route)") }
        let response: HTTPResponse
        do { response = try handler(routeContext(body)) } catch { throw error as? ElanusError ?? .unexpected("\(error)") }
        guard let envelope = try? JSON.parse(response.body), case .object(let members) = envelope else {
            throw ElanusError.unexpected("route \(route) answered something that is not an envelope")
        }
        let code = members.first(where: { $0.key == "code" })?.value
        if case .int(let c)? = code, c != 0 {
            let message: String
            if case .string(let m)? = members.first(where: { $0.key == "message" })?.value { message = m } else { message = "" }
            throw ElanusError(ErrorCode(rawValue: Int(c)) ?? .unexpected, message)
        }
        return members.first(where: { $0.key == "data" })?.value ?? .null
    }

    /// Checks `route`'s privilege on one collection found some other way than by the request's
    /// names (by ID): its own database and name count, never the caller's current database.
    func authorize(_ route: String, database: String, collection: String) throws(ElanusError) {
        guard let user else { return }
        var context = routeContext()
        context.names = ["dbName": database, "collectionName": collection]
        try RoutePrivileges.authorize(route, context, user: user)
    }

    /// Checks the privilege of REST route `route` (the same table and rules as REST) for the
    /// objects the request names.
    func authorize(_ route: String, request: any SwiftProtobuf.Message, user: String) throws(ElanusError) {
        var context = routeContext()
        var names: [String: String] = [:]
        if let named = request as? CollectionNamedRequest {
            if !named.collectionName.isEmpty { names["collectionName"] = named.collectionName }
            if !named.dbName.isEmpty { names["dbName"] = named.dbName }
        } else if let named = request as? DatabaseNamedRequest, !named.dbName.isEmpty {
            names["dbName"] = named.dbName
        } else if let named = request as? UserNamedRequest, !named.userName.isEmpty {
            names["userName"] = named.userName
        }
        context.names = names
        try RoutePrivileges.authorize(route, context, user: user)
    }
}

/// Requests that name a collection (for the privilege check).
protocol CollectionNamedRequest {
    var collectionName: String { get }
    var dbName: String { get }
}

/// Requests that act on one user (self-service rules apply to them).
protocol UserNamedRequest {
    var userName: String { get }
}

extension Milvus_Proto_Milvus_CreateCredentialRequest: UserNamedRequest { var userName: String { username } }
extension Milvus_Proto_Milvus_UpdateCredentialRequest: UserNamedRequest { var userName: String { username } }
extension Milvus_Proto_Milvus_DeleteCredentialRequest: UserNamedRequest { var userName: String { username } }
extension Milvus_Proto_Milvus_OperateUserRoleRequest: UserNamedRequest { var userName: String { username } }
extension Milvus_Proto_Milvus_SelectUserRequest: UserNamedRequest { var userName: String { user.name } }

/// Requests that name only a database.
protocol DatabaseNamedRequest {
    var dbName: String { get }
}

extension Milvus_Proto_Milvus_CreateCollectionRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_DropCollectionRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_HasCollectionRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_LoadCollectionRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_ReleaseCollectionRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_DescribeCollectionRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_GetCollectionStatisticsRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_AlterCollectionRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_CreatePartitionRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_DropPartitionRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_HasPartitionRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_LoadPartitionsRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_ReleasePartitionsRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_ShowPartitionsRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_GetPartitionStatisticsRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_GetLoadingProgressRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_GetLoadStateRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_CreateIndexRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_DescribeIndexRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_DropIndexRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_GetIndexStateRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_GetIndexBuildProgressRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_InsertRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_UpsertRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_DeleteRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_SearchRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_HybridSearchRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_QueryRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_CreateAliasRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_AlterAliasRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_ListAliasesRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_ManualCompactionRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_AddCollectionFieldRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_AlterCollectionFieldRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_AlterIndexRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_GetReplicasRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_ImportRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_TruncateCollectionRequest: CollectionNamedRequest {}
extension Milvus_Proto_Milvus_RenameCollectionRequest: CollectionNamedRequest { var collectionName: String { oldName } }
extension Milvus_Proto_Milvus_ShowCollectionsRequest: DatabaseNamedRequest {}
extension Milvus_Proto_Milvus_DropAliasRequest: DatabaseNamedRequest {}
extension Milvus_Proto_Milvus_DescribeAliasRequest: DatabaseNamedRequest {}
extension Milvus_Proto_Milvus_BatchDescribeCollectionRequest: DatabaseNamedRequest {}
extension Milvus_Proto_Milvus_ListImportTasksRequest: DatabaseNamedRequest {}
extension Milvus_Proto_Milvus_FlushAllRequest: DatabaseNamedRequest {}
extension Milvus_Proto_Milvus_CreateDatabaseRequest: DatabaseNamedRequest {}
extension Milvus_Proto_Milvus_DropDatabaseRequest: DatabaseNamedRequest {}
extension Milvus_Proto_Milvus_DescribeDatabaseRequest: DatabaseNamedRequest {}
extension Milvus_Proto_Milvus_AlterDatabaseRequest: DatabaseNamedRequest {}
extension Milvus_Proto_Milvus_FlushRequest: DatabaseNamedRequest {}
