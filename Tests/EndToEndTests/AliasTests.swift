import ElanusCore
import ElanusTestSupport
import Foundation
import Testing

/// Collection aliases against the real binary, as Milvus 2.6 has them: accepted on every route
/// that takes a collection name, never shadowing a collection, durable, and in the way of
/// dropping or renaming the collection they name.
@Suite struct AliasTests {
    static func start(_ data: String) throws -> (ElanusProcess, RESTClient) {
        let server = ElanusProcess(dataDirectory: data)
        try server.start()
        return (server, RESTClient(port: server.port))
    }

    static func create(_ rest: RESTClient, _ name: String) throws {
        let body = #"{"collectionName":"\#(name)","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},{"fieldName":"tag","dataType":"VarChar","elementTypeParams":{"max_length":16}},{"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":2}}]},"indexParams":[{"fieldName":"v","metricType":"L2","indexName":"vi"}]}"#
        let reply = try rest.call("collections/create", body)
        #expect(reply.code == 0, "\(reply.body.serialized())")
    }

    static func ids(_ data: JSON?) -> [Int64] {
        guard case .array(let rows)? = data else { return [] }
        return rows.compactMap { if case .int(let i)? = $0["id"] { i } else { nil } }.sorted()
    }

    @Test func anAliasWorksOnEveryRouteThatTakesACollectionName() throws {
        let dir = TemporaryDirectory()
        let (server, rest) = try Self.start(dir.file("data"))
        defer { server.terminate() }
        try Self.create(rest, "books")
        #expect(try rest.call("aliases/create", #"{"collectionName":"books","aliasName":"library"}"#).code == 0)
        // Creating it again for the same collection succeeds, as in Milvus.
        #expect(try rest.call("aliases/create", #"{"collectionName":"books","aliasName":"library"}"#).code == 0)

        let a = #""collectionName":"library""#
        func ok(_ route: String, _ body: String) throws -> RESTClient.Reply {
            let reply = try rest.call(route, body)
            #expect(reply.code == 0, "\(route): \(reply.body.serialized())")
            return reply
        }
        _ = try ok("entities/insert", #"{\#(a),"data":[{"id":1,"tag":"a","v":[1,0]},{"id":2,"tag":"b","v":[0,1]},{"id":3,"tag":"c","v":[1,1]}]}"#)
        _ = try ok("entities/upsert", #"{\#(a),"data":[{"id":3,"tag":"C","v":[1,1]}]}"#)
        _ = try ok("entities/delete", #"{\#(a),"filter":"id == 2"}"#)
        #expect(Self.ids(try ok("entities/query", #"{\#(a),"filter":"id > 0","outputFields":["tag"]}"#).data) == [1, 3])
        #expect(try ok("entities/get", #"{\#(a),"id":[3],"outputFields":["tag"]}"#).data == [["id": 3, "tag": "C"]])
        #expect(Self.ids(try ok("entities/search", #"{\#(a),"data":[[1,0]],"limit":1}"#).data) == [1])
        let hybrid = #"{\#(a),"search":[{"data":[[1,0]],"annsField":"v","limit":2}],"rerank":{"strategy":"rrf","params":{"k":60}},"limit":2}"#
        #expect(Self.ids(try ok("entities/hybrid_search", hybrid).data) == [1, 3])
        _ = try ok("collections/flush", "{\(a)}")
        #expect(try ok("collections/get_stats", "{\(a)}").data?["rowCount"] == 2)
        #expect(try ok("collections/has", "{\(a)}").data?["has"] == true)
        #expect(try ok("collections/get_load_state", "{\(a)}").data?["loadState"] == "LoadStateLoaded")
        #expect(try ok("indexes/list", "{\(a)}").data == ["vi"])
        #expect(try ok("indexes/describe", #"{\#(a),"indexName":"vi"}"#).code == 0)
        _ = try ok("partitions/create", #"{\#(a),"partitionName":"p1"}"#)
        #expect(try ok("partitions/list", "{\(a)}").data == ["_default", "p1"])
        _ = try ok("collections/release", "{\(a)}")
        _ = try ok("collections/alter_properties", #"{\#(a),"properties":{"mmap.enabled":"false"}}"#)
        #expect(try ok("collections/get_load_state", #"{"collectionName":"books"}"#).data?["loadState"] == "LoadStateNotLoad")
        _ = try ok("collections/load", "{\(a)}")

        // Describe through the alias names the collection, and both describe calls list the alias.
        let described = try ok("collections/describe", "{\(a)}").data
        #expect(described?["collectionName"] == "books" && described?["aliases"] == ["library"])
        #expect(try ok("collections/describe", #"{"collectionName":"books"}"#).data?["aliases"] == ["library"])
        #expect(try ok("collections/describe", #"{"collectionName":"books"}"#).data?["properties"] == [["key": "timezone", "value": "UTC"], ["key": "mmap.enabled", "value": "false"]])
        #expect(try ok("aliases/describe", #"{"aliasName":"library"}"#).data == ["dbName": "default", "collectionName": "books", "aliasName": "library"])
        #expect(try ok("aliases/list", "{}").data == ["library"])
        #expect(try ok("aliases/list", #"{"collectionName":"books"}"#).data == ["library"])
        // A collection's list does not grow with its aliases.
        #expect(try ok("collections/list", "{}").data == ["books"])
    }

    @Test func aliasesNeverShadowCollectionsAndGuardDropAndRename() throws {
        let dir = TemporaryDirectory()
        let data = dir.file("data")
        var (server, rest) = try Self.start(data)
        try Self.create(rest, "one")
        try Self.create(rest, "two")
        #expect(try rest.call("entities/insert", #"{"collectionName":"one","data":[{"id":1,"tag":"one","v":[1,0]}]}"#).code == 0)
        #expect(try rest.call("entities/insert", #"{"collectionName":"two","data":[{"id":2,"tag":"two","v":[1,0]}]}"#).code == 0)
        #expect(try rest.call("aliases/create", #"{"collectionName":"one","aliasName":"current"}"#).code == 0)

        func expectError(_ route: String, _ body: String, _ code: Int64, _ text: String) throws {
            let reply = try rest.call(route, body)
            #expect(reply.code == code && reply.message.contains(text), "\(route) \(body): \(reply.body.serialized())")
        }
        try expectError("aliases/create", #"{"collectionName":"one","aliasName":"two"}"#, 1601, "alias and collection name conflict[database=default][alias=two]")
        try expectError("aliases/create", #"{"collectionName":"two","aliasName":"current"}"#, 1602, "current is alias to another collection: one")
        try expectError("aliases/create", #"{"collectionName":"current","aliasName":"again"}"#, 100, "[collection=current]")
        try expectError("aliases/create", #"{"collectionName":"missing","aliasName":"x"}"#, 100, "[collection=missing]")
        try expectError("aliases/create", #"{"collectionName":"one","aliasName":"1bad"}"#, 1100, "Invalid alias name: 1bad")
        try expectError("aliases/create", #"{"collectionName":"one"}"#, 1802, "AliasName")
        try expectError("aliases/alter", #"{"collectionName":"two","aliasName":"nothing"}"#, 1600, "alias not found[database=default][alias=nothing]")
        try expectError("aliases/describe", #"{"aliasName":"nothing"}"#, 1600, "alias not found")
        try expectError("aliases/list", #"{"dbName":"nowhere"}"#, 800, "database not found[database=nowhere]")
        try expectError("collections/create", #"{"collectionName":"current","dimension":2}"#, 65535, "conflicts with an existing alias")
        try expectError("collections/drop", #"{"collectionName":"current"}"#, 65535, "cannot drop the collection via alias = current")
        try expectError("collections/drop", #"{"collectionName":"one"}"#, 65535, "because it has associated aliases [current]")
        try expectError("collections/rename", #"{"collectionName":"current","newCollectionName":"x"}"#, 65535, "unsupported use an alias to rename collection")
        try expectError("collections/rename", #"{"collectionName":"two","newCollectionName":"current"}"#, 65535, "cannot rename collection to an existing alias")
        #expect(try rest.call("databases/create", #"{"dbName":"elsewhere"}"#).code == 0)
        try expectError("collections/rename", #"{"collectionName":"one","newCollectionName":"x","newDbName":"elsewhere"}"#, 65535, "must drop all aliases")
        // Aliases are per database.
        #expect(try rest.call("collections/describe", #"{"collectionName":"current","dbName":"elsewhere"}"#).code == 100)

        // Renaming the collection keeps its alias; altering the alias moves every reader.
        #expect(try rest.call("collections/rename", #"{"collectionName":"one","newCollectionName":"first"}"#).code == 0)
        #expect(try rest.call("aliases/describe", #"{"aliasName":"current"}"#).data?["collectionName"] == "first")
        #expect(try rest.call("aliases/alter", #"{"collectionName":"two","aliasName":"current"}"#).code == 0)
        #expect(try rest.call("entities/query", #"{"collectionName":"current","filter":"id > 0","outputFields":["tag"]}"#).data == [["id": 2, "tag": "two"]])

        // Durable: the alias survives a SIGKILL right after it was acknowledged.
        server.kill()
        (server, rest) = try Self.start(data)
        defer { server.terminate() }
        #expect(try rest.call("aliases/describe", #"{"aliasName":"current"}"#).data?["collectionName"] == "two")
        #expect(try rest.call("entities/query", #"{"collectionName":"current","filter":"id > 0","outputFields":["tag"]}"#).data == [["id": 2, "tag": "two"]])
        // Dropping an alias (twice: the second is a no-op) frees the collection to be dropped.
        #expect(try rest.call("aliases/drop", #"{"aliasName":"current"}"#).code == 0)
        #expect(try rest.call("aliases/drop", #"{"aliasName":"current"}"#).code == 0)
        #expect(try rest.call("collections/drop", #"{"collectionName":"two"}"#).code == 0)
        #expect(try rest.call("aliases/list", "{}").data == [])
    }

    @Test func anAliasIsAuthorizedAsTheCollectionItNames() throws {
        let dir = TemporaryDirectory()
        let server = try AuthTests.start(dir)
        defer { server.terminate() }
        let root = RESTClient(port: server.port)
        let rootAuth = AuthTests.bearer("root:" + AuthTests.rootPassword)
        func asRoot(_ route: String, _ body: String) throws {
            let reply = try root.call(route, body, headers: rootAuth)
            #expect(reply.code == 0, "\(route): \(reply.body.serialized())")
        }
        try asRoot("collections/create", #"{"collectionName":"open","dimension":2}"#)
        try asRoot("collections/create", #"{"collectionName":"secret","dimension":2}"#)
        try asRoot("users/create", #"{"userName":"reader","password":"Reader-123"}"#)
        try asRoot("roles/create", #"{"roleName":"r"}"#)
        try asRoot("roles/grant_privilege", #"{"roleName":"r","objectType":"Collection","objectName":"open","privilege":"Query"}"#)
        // A grant that names an alias is a grant on that name only; the alias points elsewhere.
        try asRoot("roles/grant_privilege", #"{"roleName":"r","objectType":"Collection","objectName":"window","privilege":"Query"}"#)
        try asRoot("users/grant_role", #"{"userName":"reader","roleName":"r"}"#)
        try asRoot("aliases/create", #"{"collectionName":"secret","aliasName":"window"}"#)
        try asRoot("aliases/create", #"{"collectionName":"open","aliasName":"door"}"#)
        let reader = AuthTests.bearer("reader:Reader-123")
        let viaWindow = try root.call("entities/query", #"{"collectionName":"window","filter":"id > 0"}"#, headers: reader)
        #expect(viaWindow.code == 1401 && viaWindow.message.contains("collection secret"), "\(viaWindow.body.serialized())")
        #expect(try root.call("entities/query", #"{"collectionName":"door","filter":"id > 0"}"#, headers: reader).code == 0)
    }
}
