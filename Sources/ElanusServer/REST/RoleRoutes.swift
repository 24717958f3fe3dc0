import ElanusCore
import ElanusEngine

/// `roles/*` (the v1 grant API with object types and the v2 one with database and collection)
/// and `privilege_groups/*`, over the access catalog.
enum RoleRoutes {
    static func register(into routes: inout [String: RouteHandler]) {
        routes["roles/list"] = { context in
            _ = try context.body("EmptyReq")
            return Envelope.success(.array(context.engine.access.roleNames().map { .string($0) }))
        }
        routes["roles/describe"] = { context in
            let body = try context.body("RoleReq")
            let name = try body.string("roleName", required: true)!
            guard let role = context.engine.access.role(name) else { throw ElanusError.invalidParameter("role \(name) not found") }
            let database = try body.string("dbName").flatMap { $0.isEmpty ? nil : $0 }
            let grants = (name == AccessCatalog.publicRole ? Privilege.publicDefaults : []) + role.grants
            let shown = grants.filter { database == nil || $0.dbName == database || $0.dbName == "*" }
            return Envelope.success(.array(shown.map(render)))
        }
        routes["roles/create"] = { context in
            let body = try context.body("RoleReq")
            try context.engine.access.createRole(try body.string("roleName", required: true)!)
            return Envelope.success([:])
        }
        routes["roles/drop"] = { context in
            let body = try context.body("RoleReq")
            let name = try body.string("roleName", required: true)!
            try context.engine.access.dropRole(name, force: try body.bool("forceDrop") ?? false)
            return Envelope.success([:])
        }
        for (action, granted) in [("grant_privilege", true), ("revoke_privilege", false)] {
            routes["roles/" + action] = { context in
                let body = try context.body("GrantReq")
                let role = try body.string("roleName", required: true)!
                let grant = Grant(
                    objectType: try body.string("objectType", required: true)!, objectName: try body.string("objectName", required: true)!,
                    dbName: try context.database(body), privilege: try body.string("privilege", required: true)!, grantor: context.user ?? "")
                try context.engine.access.setGrant(grant, of: role, granted: granted)
                return Envelope.success([:])
            }
            routes["roles/" + action + "_v2"] = { context in
                let body = try context.body("GrantV2Req")
                let role = try body.string("roleName", required: true)!
                let privilege = try body.string("privilege", required: true)!
                let collection = try body.string("collectionName").flatMap { $0.isEmpty ? nil : $0 } ?? "*"
                let level = try level(of: privilege, collection: collection, groups: context.engine.access.groups())
                // v2 names a database and collection; the grant takes the object type of the
                // privilege's level, so both APIs store (and revoke) the same grants.
                let grant = Grant(
                    objectType: level.objectType, objectName: level == .collection ? collection : "*",
                    dbName: try body.string("dbName").flatMap { $0.isEmpty ? nil : $0 } ?? Catalog.defaultDatabase,
                    privilege: privilege, grantor: context.user ?? "")
                try context.engine.access.setGrant(grant, of: role, granted: granted)
                return Envelope.success([:])
            }
        }

        routes["privilege_groups/list"] = { context in
            _ = try context.body("EmptyReq")
            let builtIn = Privilege.builtInGroups.keys.sorted().map { ($0, Privilege.builtInGroups[$0]!.privileges) }
            let custom = context.engine.access.groups().map { ($0.name, $0.privileges) }
            let groups: [JSON] = (builtIn + custom).map { name, privileges in
                ["privilegeGroupName": .string(name), "privileges": .string(privileges.joined(separator: ","))]
            }
            return Envelope.success(["privilegeGroups": .array(groups)])
        }
        routes["privilege_groups/create"] = { context in
            let body = try context.body("PrivilegeGroupReq")
            try context.engine.access.createGroup(try body.string("privilegeGroupName", required: true)!)
            return Envelope.success([:])
        }
        routes["privilege_groups/drop"] = { context in
            let body = try context.body("PrivilegeGroupReq")
            try context.engine.access.dropGroup(try body.string("privilegeGroupName", required: true)!)
            return Envelope.success([:])
        }
        for (action, add) in [("add_privileges_to_group", true), ("remove_privileges_from_group", false)] {
            routes["privilege_groups/" + action] = { context in
                let body = try context.body("PrivilegeGroupReq")
                let name = try body.string("privilegeGroupName", required: true)!
                let privileges = try body.stringArray("privileges", required: true)!
                try context.engine.access.setGroupPrivileges(name, privileges, add: add)
                return Envelope.success([:])
            }
        }
    }

    /// The level a v2 grant of `privilege` applies at: a privilege's own, a built-in group's,
    /// collection for a custom group of collection privileges (else database), and for `*`
    /// collection when a collection is named (else cluster).
    static func level(of privilege: String, collection: String, groups: [PrivilegeGroupRecord]) throws(ElanusError) -> Privilege.Level {
        if let level = Privilege.levels[privilege] ?? Privilege.builtInGroups[privilege]?.level { return level }
        if Privilege.all.contains(privilege) { return collection == "*" ? .cluster : .collection }
        guard let group = groups.first(where: { $0.name == privilege }) else { throw ElanusError.invalidParameter("not found the privilege name[\(privilege)]") }
        return group.privileges.allSatisfy { Privilege.levels[$0] == .collection } ? .collection : .database
    }

    static func render(_ grant: Grant) -> JSON {
        [
            "objectType": .string(grant.objectType), "objectName": .string(grant.objectName), "privilege": .string(grant.privilege),
            "dbName": .string(grant.dbName), "grantor": .string(grant.grantor),
        ]
    }
}
