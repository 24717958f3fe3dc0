import ElanusCore
import ElanusEngine
import ElanusProto
import Foundation

/// Users, roles, grants and privilege groups. Each method calls the REST route that does the
/// same thing, with a body built from the request, so the checks (names, password rules,
/// privileges that exist, root's protections) are the REST routes' own.
enum GRPCAccessMethods {
    static func register(_ table: inout MethodTable) {
        table.on(.createCredential, route: "users/create") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_CreateCredentialRequest) -> Milvus_Proto_Common_Status in
            _ = try context.rest("users/create", ["userName": .string(request.username), "password": .string(try password(request.password))])
            return MilvusStatus.success
        }
        table.on(.updateCredential, route: "users/update_password") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_UpdateCredentialRequest) -> Milvus_Proto_Common_Status in
            _ = try context.rest("users/update_password", [
                "userName": .string(request.username), "password": .string(try password(request.oldPassword)),
                "newPassword": .string(try password(request.newPassword)),
            ])
            return MilvusStatus.success
        }
        table.on(.deleteCredential, route: "users/drop") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_DeleteCredentialRequest) -> Milvus_Proto_Common_Status in
            _ = try context.rest("users/drop", ["userName": .string(request.username)])
            return MilvusStatus.success
        }
        table.on(.listCredUsers, route: "users/list") { (context: GRPCCallContext, _: Milvus_Proto_Milvus_ListCredUsersRequest) -> Milvus_Proto_Milvus_ListCredUsersResponse in
            var response = Milvus_Proto_Milvus_ListCredUsersResponse()
            response.usernames = strings(try context.rest("users/list", .object([])))
            return response
        }
        table.on(.createRole, route: "roles/create") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_CreateRoleRequest) -> Milvus_Proto_Common_Status in
            _ = try context.rest("roles/create", ["roleName": .string(request.entity.name)])
            return MilvusStatus.success
        }
        table.on(.dropRole, route: "roles/drop") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_DropRoleRequest) -> Milvus_Proto_Common_Status in
            _ = try context.rest("roles/drop", ["roleName": .string(request.roleName), "forceDrop": .bool(request.forceDrop)])
            return MilvusStatus.success
        }
        table.on(.operateUserRole, route: "users/grant_role") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_OperateUserRoleRequest) -> Milvus_Proto_Common_Status in
            let route = request.type == .removeUserFromRole ? "users/revoke_role" : "users/grant_role"
            _ = try context.rest(route, ["userName": .string(request.username), "roleName": .string(request.roleName)])
            return MilvusStatus.success
        }
        table.on(.selectRole, route: "roles/list") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_SelectRoleRequest) -> Milvus_Proto_Milvus_SelectRoleResponse in
            var names = strings(try context.rest("roles/list", .object([])))
            if request.hasRole && !request.role.name.isEmpty {
                guard names.contains(request.role.name) else { throw ElanusError.invalidParameter("role \(request.role.name) not found") }
                names = [request.role.name]
            }
            let users = request.includeUserInfo ? strings(try context.rest("users/list", .object([]))) : []
            var roleUsers: [String: [String]] = [:]
            for user in users {
                for role in strings(try context.rest("users/describe", ["userName": .string(user)])) { roleUsers[role, default: []].append(user) }
            }
            var response = Milvus_Proto_Milvus_SelectRoleResponse()
            response.results = names.map { name in
                var result = Milvus_Proto_Milvus_RoleResult()
                result.role.name = name
                result.users = (roleUsers[name] ?? []).map { user in
                    var entity = Milvus_Proto_Milvus_UserEntity()
                    entity.name = user
                    return entity
                }
                return result
            }
            return response
        }
        table.on(.selectUser, route: "users/describe") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_SelectUserRequest) -> Milvus_Proto_Milvus_SelectUserResponse in
            var names = strings(try context.rest("users/list", .object([])))
            if request.hasUser && !request.user.name.isEmpty {
                guard names.contains(request.user.name) else { throw ElanusError.invalidParameter("user \(request.user.name) not found") }
                names = [request.user.name]
            }
            var response = Milvus_Proto_Milvus_SelectUserResponse()
            for name in names {
                var result = Milvus_Proto_Milvus_UserResult()
                result.user.name = name
                if request.includeRoleInfo {
                    result.roles = strings(try context.rest("users/describe", ["userName": .string(name)])).map { role in
                        var entity = Milvus_Proto_Milvus_RoleEntity()
                        entity.name = role
                        return entity
                    }
                }
                response.results.append(result)
            }
            return response
        }
        table.on(.operatePrivilege, route: "roles/grant_privilege") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_OperatePrivilegeRequest) -> Milvus_Proto_Common_Status in
            let entity = request.entity
            let route = request.type == .revoke ? "roles/revoke_privilege" : "roles/grant_privilege"
            _ = try context.rest(route, [
                "roleName": .string(entity.role.name), "objectType": .string(entity.object.name), "objectName": .string(entity.objectName),
                "privilege": .string(entity.grantor.privilege.name), "dbName": .string(context.database(entity.dbName)),
            ])
            return MilvusStatus.success
        }
        table.on(.operatePrivilegeV2, route: "roles/grant_privilege_v2") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_OperatePrivilegeV2Request) -> Milvus_Proto_Common_Status in
            let route = request.type == .revoke ? "roles/revoke_privilege_v2" : "roles/grant_privilege_v2"
            _ = try context.rest(route, [
                "roleName": .string(request.role.name), "privilege": .string(request.grantor.privilege.name),
                "dbName": .string(request.dbName), "collectionName": .string(request.collectionName),
            ])
            return MilvusStatus.success
        }
        table.on(.selectGrant, route: "roles/describe") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_SelectGrantRequest) -> Milvus_Proto_Milvus_SelectGrantResponse in
            let role = request.entity.role.name
            var body: [(key: String, value: JSON)] = [("roleName", .string(role))]
            if !request.entity.dbName.isEmpty { body.append(("dbName", .string(request.entity.dbName))) }
            guard case .array(let grants) = try context.rest("roles/describe", .object(body)) else { return Milvus_Proto_Milvus_SelectGrantResponse() }
            var response = Milvus_Proto_Milvus_SelectGrantResponse()
            for grant in grants {
                let objectType = text(grant["objectType"])
                let objectName = text(grant["objectName"])
                if request.entity.hasObject && !request.entity.object.name.isEmpty && request.entity.object.name != objectType { continue }
                if !request.entity.objectName.isEmpty && request.entity.objectName != objectName { continue }
                var entity = Milvus_Proto_Milvus_GrantEntity()
                entity.role.name = role
                entity.object.name = objectType
                entity.objectName = objectName
                entity.dbName = text(grant["dbName"])
                entity.grantor.user.name = text(grant["grantor"])
                entity.grantor.privilege.name = text(grant["privilege"])
                response.entities.append(entity)
            }
            return response
        }
        table.on(.createPrivilegeGroup, route: "privilege_groups/create") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_CreatePrivilegeGroupRequest) -> Milvus_Proto_Common_Status in
            _ = try context.rest("privilege_groups/create", ["privilegeGroupName": .string(request.groupName)])
            return MilvusStatus.success
        }
        table.on(.dropPrivilegeGroup, route: "privilege_groups/drop") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_DropPrivilegeGroupRequest) -> Milvus_Proto_Common_Status in
            _ = try context.rest("privilege_groups/drop", ["privilegeGroupName": .string(request.groupName)])
            return MilvusStatus.success
        }
        table.on(.listPrivilegeGroups, route: "privilege_groups/list") { (context: GRPCCallContext, _: Milvus_Proto_Milvus_ListPrivilegeGroupsRequest) -> Milvus_Proto_Milvus_ListPrivilegeGroupsResponse in
            var response = Milvus_Proto_Milvus_ListPrivilegeGroupsResponse()
            guard case .array(let groups)? = try context.rest("privilege_groups/list", .object([]))["privilegeGroups"] else { return response }
            for group in groups {
                var info = Milvus_Proto_Milvus_PrivilegeGroupInfo()
                info.groupName = text(group["privilegeGroupName"])
                info.privileges = text(group["privileges"]).split(separator: ",").map { name in
                    var privilege = Milvus_Proto_Milvus_PrivilegeEntity()
                    privilege.name = String(name)
                    return privilege
                }
                response.privilegeGroups.append(info)
            }
            return response
        }
        table.on(.operatePrivilegeGroup, route: "privilege_groups/add_privileges_to_group") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_OperatePrivilegeGroupRequest) -> Milvus_Proto_Common_Status in
            let route = request.type == .removePrivilegesFromGroup ? "privilege_groups/remove_privileges_from_group" : "privilege_groups/add_privileges_to_group"
            _ = try context.rest(route, [
                "privilegeGroupName": .string(request.groupName), "privileges": .array(request.privileges.map { .string($0.name) }),
            ])
            return MilvusStatus.success
        }
    }

    /// Passwords travel base64-encoded in Milvus's credential requests.
    private static func password(_ encoded: String) throws(ElanusError) -> String {
        guard let bytes = Base64.decode(encoded), let text = String(validating: bytes, as: UTF8.self) else {
            throw ElanusError.invalidParameter("the password is not base64-encoded UTF-8")
        }
        return text
    }

    private static func strings(_ json: JSON) -> [String] {
        guard case .array(let items) = json else { return [] }
        return items.compactMap { if case .string(let s) = $0 { s } else { nil } }
    }

    private static func text(_ json: JSON?) -> String {
        if case .string(let s)? = json { return s }
        return ""
    }
}
