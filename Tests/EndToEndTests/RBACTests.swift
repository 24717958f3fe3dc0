import ElanusCore
import ElanusServer
import ElanusTestSupport
import Foundation
import Testing

/// Roles and privileges against the real binary with `--auth`: every route is refused (HTTP 403,
/// code 1401) to a user without its privilege and allowed once a role with that privilege is
/// granted; grants are scoped to their collection and database; groups, `admin` and `public`
/// work as in Milvus; and everything survives a restart.
@Suite struct RBACTests {
    static let root = AuthTests.bearer("root:" + AuthTests.rootPassword)
    static let carol = AuthTests.bearer("carol:carol-Pass-1")

    /// Starts a server with collections `books` and `films` and a user `carol` with role `reader`.
    static func setUp(_ dir: TemporaryDirectory) throws -> (ElanusProcess, RESTClient) {
        let server = try AuthTests.start(dir)
        let rest = RESTClient(port: server.port)
        for name in ["books", "films"] {
            #expect(try rest.call("collections/create", #"{"collectionName":"\#(name)","dimension":2}"#, headers: root).code == 0)
        }
        #expect(try rest.call("users/create", #"{"userName":"carol","password":"carol-Pass-1"}"#, headers: root).code == 0)
        #expect(try rest.call("roles/create", #"{"roleName":"reader"}"#, headers: root).code == 0)
        #expect(try rest.call("users/grant_role", #"{"userName":"carol","roleName":"reader"}"#, headers: root).code == 0)
        return (server, rest)
    }

    static func denied(_ reply: RESTClient.Reply) -> Bool { reply.status == 403 && reply.code == 1401 }

    @Test func everyRouteIsDeniedWithoutItsPrivilegeAndAllowedWithIt() throws {
        let dir = TemporaryDirectory()
        let (server, rest) = try Self.setUp(dir)
        defer { server.terminate() }
        let routes = try AuthTests.allRoutes()
        // What every user holds through `public`, as in Milvus.
        let publicRoutes: Set<String> = [
            "collections/describe", "collections/has", "collections/list", "indexes/describe", "indexes/list", "common/run_analyzer",
        ]
        // Names an object of every kind; `ghost` keeps role and user routes off carol's own role.
        let body = #"{"collectionName":"books","userName":"root","roleName":"ghost","dbName":"default","privilegeGroupName":"ghost"}"#
        for route in routes {
            let privilege = try #require(RESTHandler.privilege(for: route), "\(route) has no privilege")
            let before = try rest.call(route, body, headers: Self.carol)
            if publicRoutes.contains(route) {
                #expect(!Self.denied(before), "\(route) is public: \(before.body.serialized())")
                continue
            }
            #expect(Self.denied(before), "\(route) without \(privilege): \(before.status) \(before.body.serialized())")
            #expect(before.message.contains(privilege) && before.message.contains("carol"), "\(before.message)")
            let grant = #"{"roleName":"reader","privilege":"\#(privilege)","dbName":"default","collectionName":"books"}"#
            #expect(try rest.call("roles/grant_privilege_v2", grant, headers: Self.root).code == 0)
            let after = try rest.call(route, body, headers: Self.carol)
            #expect(after.status == 200 && after.code != 1401 && after.code != 1800, "\(route) with \(privilege): \(after.body.serialized())")
            #expect(try rest.call("roles/revoke_privilege_v2", grant, headers: Self.root).code == 0)
            #expect(Self.denied(try rest.call(route, body, headers: Self.carol)), "\(route) after revoking \(privilege)")
        }
        // Milvus's names for the common calls.
        #expect(RESTHandler.privilege(for: "entities/search") == "Search")
        #expect(RESTHandler.privilege(for: "entities/insert") == "Insert")
        #expect(RESTHandler.privilege(for: "collections/create") == "CreateCollection")
        #expect(RESTHandler.privilege(for: "users/create") == "CreateOwnership")
    }

    @Test func grantsAreScopedAndGroupsAdminAndPublicWork() throws {
        let dir = TemporaryDirectory()
        let (server, rest) = try Self.setUp(dir)
        defer { server.terminate() }
        let search = { (collection: String) throws -> RESTClient.Reply in
            try rest.call("entities/query", #"{"collectionName":"\#(collection)","filter":"id > 0"}"#, headers: Self.carol)
        }
        #expect(Self.denied(try search("books")))

        // v1 grant on one collection: that collection only.
        let v1 = #"{"roleName":"reader","objectType":"Collection","objectName":"books","privilege":"Query"}"#
        #expect(try rest.call("roles/grant_privilege", v1, headers: Self.root).code == 0)
        #expect(try search("books").code == 0)
        #expect(Self.denied(try search("films")))
        // With a key given twice, the check and the handler both take the last one.
        let twice = #"{"collectionName":"books","filter":"id > 0","collectionName":"films"}"#
        #expect(Self.denied(try rest.call("entities/query", twice, headers: Self.carol)))
        let described = try rest.call("roles/describe", #"{"roleName":"reader"}"#, headers: Self.root)
        #expect(described.data == [["objectType": "Collection", "objectName": "books", "privilege": "Query", "dbName": "default", "grantor": "root"]])
        #expect(try rest.call("users/describe", #"{"userName":"carol"}"#, headers: Self.carol).data == ["reader"])
        #expect(try rest.call("roles/revoke_privilege", v1, headers: Self.root).code == 0)
        #expect(Self.denied(try search("books")))

        // A grant in another database does not reach `default`.
        #expect(try rest.call("databases/create", #"{"dbName":"archive"}"#, headers: Self.root).code == 0)
        let elsewhere = #"{"roleName":"reader","privilege":"Query","dbName":"archive","collectionName":"*"}"#
        #expect(try rest.call("roles/grant_privilege_v2", elsewhere, headers: Self.root).code == 0)
        #expect(Self.denied(try search("books")))

        // A built-in group on `*` covers every collection of the database; a custom group works too.
        let readOnly = #"{"roleName":"reader","privilege":"CollectionReadOnly","dbName":"default","collectionName":"*"}"#
        #expect(try rest.call("roles/grant_privilege_v2", readOnly, headers: Self.root).code == 0)
        #expect(try search("books").code == 0 && search("films").code == 0)
        #expect(Self.denied(try rest.call("entities/insert", #"{"collectionName":"books","data":[]}"#, headers: Self.carol)))
        #expect(try rest.call("privilege_groups/create", #"{"privilegeGroupName":"writers"}"#, headers: Self.root).code == 0)
        let add = #"{"privilegeGroupName":"writers","privileges":["Insert","Upsert"]}"#
        #expect(try rest.call("privilege_groups/add_privileges_to_group", add, headers: Self.root).code == 0)
        let writers = #"{"roleName":"reader","objectType":"Collection","objectName":"books","privilege":"writers"}"#
        #expect(try rest.call("roles/grant_privilege", writers, headers: Self.root).code == 0)
        let insert = try rest.call("entities/insert", #"{"collectionName":"books","data":[{"id":1,"vector":[1,2]}]}"#, headers: Self.carol)
        #expect(insert.code == 0, "\(insert.body.serialized())")
        let groups = try rest.call("privilege_groups/list", "{}", headers: Self.root)
        guard case .array(let listed)? = groups.data?["privilegeGroups"] else { Issue.record("no privilegeGroups"); return }
        #expect(listed.contains(["privilegeGroupName": "writers", "privileges": "Insert,Upsert"]))
        #expect(listed.contains { $0["privilegeGroupName"] == "CollectionReadOnly" })
        // A group in use cannot be dropped; a role holding grants only with forceDrop.
        #expect(try rest.call("privilege_groups/drop", #"{"privilegeGroupName":"writers"}"#, headers: Self.root).code == 1100)
        #expect(try rest.call("roles/drop", #"{"roleName":"reader"}"#, headers: Self.root).code == 1100)

        // Invalid input gets clear errors.
        let unknown = try rest.call("roles/grant_privilege", #"{"roleName":"reader","objectType":"Collection","objectName":"*","privilege":"Fly"}"#, headers: Self.root)
        #expect(unknown.code == 1100 && unknown.message.contains("Fly"))
        let wrongType = try rest.call("roles/grant_privilege", #"{"roleName":"reader","objectType":"Global","objectName":"*","privilege":"Search"}"#, headers: Self.root)
        #expect(wrongType.code == 1100 && wrongType.message.contains("Collection"))
        #expect(try rest.call("privilege_groups/create", #"{"privilegeGroupName":"ClusterAdmin"}"#, headers: Self.root).code == 1402)
        #expect(try rest.call("roles/drop", #"{"roleName":"admin"}"#, headers: Self.root).code == 1100)
        #expect(try rest.call("users/grant_role", #"{"userName":"carol","roleName":"ghost"}"#, headers: Self.root).code == 1100)
        let nested = try rest.call("privilege_groups/add_privileges_to_group", #"{"privilegeGroupName":"writers","privileges":["ClusterAdmin"]}"#, headers: Self.root)
        #expect(nested.code == 1100 && nested.message.contains("ClusterAdmin"), "\(nested.body.serialized())")
        // Ten roles at most, the two built-in ones included.
        for i in 0..<7 { #expect(try rest.call("roles/create", #"{"roleName":"r\#(i)"}"#, headers: Self.root).code == 0) }
        let eleventh = try rest.call("roles/create", #"{"roleName":"r7"}"#, headers: Self.root)
        #expect(eleventh.code == 65535 && eleventh.message.contains("limit 10"), "\(eleventh.body.serialized())")
        for i in 0..<7 { #expect(try rest.call("roles/drop", #"{"roleName":"r\#(i)"}"#, headers: Self.root).code == 0) }

        // Everything above survives a restart.
        #expect(server.terminate() == 0)
        try server.start()
        #expect(try search("books").code == 0)
        #expect(try rest.call("roles/list", "{}", headers: Self.root).data == ["admin", "public", "reader"])

        // admin holds everything; a user can always see their roles and change their password.
        #expect(Self.denied(try rest.call("databases/drop", #"{"dbName":"archive"}"#, headers: Self.carol)))
        #expect(try rest.call("users/grant_role", #"{"userName":"carol","roleName":"admin"}"#, headers: Self.root).code == 0)
        #expect(try rest.call("databases/drop", #"{"dbName":"archive"}"#, headers: Self.carol).code == 0)
        #expect(try rest.call("users/revoke_role", #"{"userName":"carol","roleName":"admin"}"#, headers: Self.root).code == 0)
        #expect(Self.denied(try rest.call("users/describe", #"{"userName":"root"}"#, headers: Self.carol)))
        let change = #"{"userName":"carol","password":"carol-Pass-1","newPassword":"carol-Pass-2"}"#
        #expect(try rest.call("users/update_password", change, headers: Self.carol).code == 0)

        // Dropping the role (forced) takes it from carol.
        #expect(try rest.call("roles/drop", #"{"roleName":"reader","forceDrop":true}"#, headers: Self.root).code == 0)
        #expect(try rest.call("users/describe", #"{"userName":"carol"}"#, headers: Self.root).data == [])
        #expect(Self.denied(try rest.call("entities/query", #"{"collectionName":"books","filter":"id > 0"}"#, headers: AuthTests.bearer("carol:carol-Pass-2"))))
    }
}
