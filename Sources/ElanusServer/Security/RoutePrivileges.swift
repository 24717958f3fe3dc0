import ElanusCore
import ElanusEngine
import ElanusHTTP

/// The privilege each route needs, as Milvus's proxy checks it for the matching gRPC call, and
/// the one place a request is authorized: after authentication, before the handler runs.
enum RoutePrivileges {
    /// Route → privilege. The object comes from the body: `collectionName` for collection
    /// privileges, `userName` for user privileges, the request's database for database ones.
    static let table: [String: String] = [
        "collections/create": "CreateCollection", "collections/drop": "DropCollection",
        "collections/describe": "DescribeCollection", "collections/has": "DescribeCollection",
        // Milvus checks no privilege for RunAnalyzer; it reads at most a field's analyzer
        // settings, which DescribeCollection shows (held by every user through `public`).
        "common/run_analyzer": "DescribeCollection",
        "collections/list": "ShowCollections", "collections/rename": "RenameCollection",
        "collections/get_stats": "GetStatistics", "collections/get_load_state": "GetLoadState",
        "collections/load": "Load", "collections/refresh_load": "Load", "collections/release": "Release",
        "collections/flush": "Flush", "collections/compact": "Compaction", "collections/get_compaction_state": "Compaction",
        // Milvus checks schema changes against CreateCollection.
        "collections/alter_properties": "CreateCollection", "collections/drop_properties": "CreateCollection",
        "collections/fields/add": "CreateCollection", "collections/fields/alter_properties": "CreateCollection",
        "collections/add_function": "CreateCollection", "collections/alter_function": "CreateCollection",
        "collections/drop_function": "CreateCollection", "collections/truncate": "DropCollection",
        "partitions/create": "CreatePartition", "partitions/drop": "DropPartition", "partitions/list": "ShowPartitions",
        "partitions/has": "HasPartition", "partitions/get_stats": "GetStatistics",
        "partitions/load": "Load", "partitions/release": "Release",
        "indexes/create": "CreateIndex", "indexes/drop": "DropIndex", "indexes/describe": "IndexDetail",
        "indexes/list": "IndexDetail", "indexes/alter_properties": "CreateIndex", "indexes/drop_properties": "CreateIndex",
        "entities/insert": "Insert", "entities/upsert": "Upsert", "entities/delete": "Delete",
        "entities/get": "Query", "entities/query": "Query",
        "entities/search": "Search", "entities/hybrid_search": "Search", "entities/advanced_search": "Search",
        "aliases/create": "CreateAlias", "aliases/alter": "CreateAlias", "aliases/drop": "DropAlias",
        "aliases/describe": "DescribeAlias", "aliases/list": "ListAliases",
        "resource_groups/create": "CreateResourceGroup", "resource_groups/drop": "DropResourceGroup",
        "resource_groups/alter": "UpdateResourceGroups", "resource_groups/describe": "DescribeResourceGroup",
        "resource_groups/list": "ListResourceGroups", "resource_groups/transfer_replica": "TransferReplica",
        // Milvus checks no privilege for these two; here they name collections and their sizes,
        // so they need statistics on every collection.
        "segments/describe": "GetStatistics", "quotacenter/describe": "GetStatistics",
        "databases/create": "CreateDatabase", "databases/drop": "DropDatabase", "databases/list": "ListDatabases",
        "databases/describe": "DescribeDatabase", "databases/alter": "AlterDatabase",
        "databases/alter_properties": "AlterDatabase", "databases/drop_properties": "AlterDatabase",
        "users/list": "SelectOwnership", "users/describe": "SelectUser", "users/create": "CreateOwnership",
        "users/update_password": "UpdateUser", "users/drop": "DropOwnership",
        "users/grant_role": "ManageOwnership", "users/revoke_role": "ManageOwnership",
        "users/create_api_key": "UpdateUser", "users/drop_api_key": "UpdateUser", "users/list_api_keys": "SelectUser",
        "roles/list": "SelectOwnership", "roles/describe": "SelectOwnership",
        "roles/create": "CreateOwnership", "roles/drop": "DropOwnership",
        "roles/grant_privilege": "ManageOwnership", "roles/revoke_privilege": "ManageOwnership",
        "roles/grant_privilege_v2": "ManageOwnership", "roles/revoke_privilege_v2": "ManageOwnership",
        "privilege_groups/create": "CreatePrivilegeGroup", "privilege_groups/drop": "DropPrivilegeGroup",
        "privilege_groups/list": "ListPrivilegeGroups",
        "privilege_groups/add_privileges_to_group": "OperatePrivilegeGroup",
        "privilege_groups/remove_privileges_from_group": "OperatePrivilegeGroup",
        "backups/create": "BackupRBAC",
        "jobs/import/create": "Import", "jobs/import/list": "Import",
        "jobs/import/describe": "Import", "jobs/import/get_progress": "Import",
    ]

    /// Routes a user may always call on themself: seeing their own roles, changing their own
    /// password (which needs the old one), and managing their own API keys.
    static let selfService: Set<String> = [
        "users/describe", "users/update_password", "users/create_api_key", "users/list_api_keys", "users/drop_api_key",
    ]

    /// What `route` needs for this request. A body that does not parse names no object (`*`);
    /// the handler then reports the parse error to whoever may call the route at all.
    static func requirement(_ route: String, _ context: RouteContext, user: String) -> Privilege.Requirement? {
        guard let privilege = table[route] else { return nil }
        let names = context.names
        let header = context.request.headers["DB-Name"].flatMap { $0.isEmpty ? nil : $0 }
        let database = names["dbName"] ?? header ?? Catalog.defaultDatabase
        let object: String
        switch Privilege.levels[privilege] ?? .cluster {
        case .collection:
            // Grants name collections, not aliases: a request through an alias needs the
            // privilege on the collection it reaches, so an alias is never a way around a grant.
            object = names["collectionName"].map { context.engine.catalog.resolvedName(database: database, name: $0) ?? $0 } ?? "*"
        case .user: object = names["userName"] ?? "*"
        case .cluster, .database: object = "*"
        }
        if selfService.contains(route) && object == user { return nil }
        return Privilege.Requirement(privilege: privilege, database: database, object: object)
    }

    /// The body's top-level `collectionName`, `dbName` and `userName` strings (non-empty), found
    /// as the handlers find them (RequestBody): keys match case-insensitively (`CollectionName`
    /// is `collectionName`), the last string given wins and `null` changes nothing; a check on
    /// one name and a handler acting on another would be a way around the check. Every other
    /// value is stepped over without being built, so an insert's rows cost a scan, not a second
    /// parse; a body that is not a JSON object yields nothing.
    static func objectNames(_ bytes: [UInt8]) -> [String: String] {
        var names: [String: String] = [:]
        bytes.withUnsafeBufferPointer { buffer in
            var reader = JSONReader(bytes: buffer)
            guard reader.peek() == UInt8(ascii: "{") else { return }
            do throws(JSONParseError) {
                try reader.beginObject()
                var first = true
                while let key = try reader.nextMember(&first) {
                    if let name = objectNameKeys.first(where: { GoJSON.keyMatches(key, field: $0) }) {
                        switch try reader.readValue() {
                        case .null: break
                        case .string(let value) where !value.isEmpty: names[name] = value
                        default: names[name] = nil  // "" (the default) or a type the handler refuses
                        }
                    } else {
                        try reader.skipValue()
                    }
                }
            } catch {
                return
            }
        }
        return names
    }

    static let objectNameKeys = ["collectionName", "dbName", "userName"]

    /// Throws Milvus's 1401 (HTTP 403) when `user` lacks what `route` needs.
    static func authorize(_ route: String, _ context: RouteContext, user: String) throws(ElanusError) {
        // root needs no lookup.
        guard user != AccessCatalog.root, let requirement = requirement(route, context, user: user) else { return }
        guard context.engine.access.permits(user, requirement) else {
            let on: String
            switch requirement.level {
            case .collection: on = " on collection \(requirement.object) in database \(requirement.database)"
            case .database: on = " in database \(requirement.database)"
            case .user: on = " on user \(requirement.object)"
            case .cluster: on = ""
            }
            throw ElanusError(.privilegeNotPermitted, "privilege not permitted: \(requirement.privilege)\(on) is not granted to user \(user)")
        }
    }
}
