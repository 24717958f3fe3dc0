import ElanusCore
import ElanusEngine
import ElanusHTTP
import ElanusServer
import ElanusTestSupport
import Testing

@Suite struct RouterTests {
    func post(_ handler: RESTHandler, _ route: String, _ body: String) -> (Int, JSON?) {
        let response = handler.handle(HTTPRequest(method: "POST", target: "/v2/vectordb/" + route, body: Array(body.utf8)))
        return (response.status, try? JSON.parse(response.body))
    }

    @Test func healthIs503AndAPIIsNotReadyUntilTheEngineIsRecovered() throws {
        let slot = EngineSlot()
        let handler = try RESTHandler(slot: slot)
        let health = handler.handle(HTTPRequest(method: "GET", target: "/health"))
        #expect(health.status == 503)
        #expect(try JSON.parse(health.body) == ["status": "recovering"])
        let (status, body) = post(handler, "collections/list", "null")
        #expect(status == 503)
        #expect(body?["code"] == 1)

        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: Engine.Configuration(dataDirectory: dir.path))
        defer { engine.close() }
        slot.set(engine)
        #expect(handler.handle(HTTPRequest(method: "GET", target: "/health")).status == 200)
        #expect(post(handler, "collections/list", "null").1 == ["code": 0, "data": []])
    }

    @Test func everyImplementedRouteRejectsAMalformedBodyWithoutCrashing() throws {
        let slot = EngineSlot()
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: Engine.Configuration(dataDirectory: dir.path))
        defer { engine.close() }
        slot.set(engine)
        let handler = try RESTHandler(slot: slot)
        #expect(handler.implementedRoutes.count == 89)
        // Requests without a collection or database key (Milvus's EmptyReq, GetQuotaMetricsReq,
        // ResourceGroupReq, UpdateResourceGroupReq) ignore those keys, as gin does.
        let noNames: [String: JSON] = [
            "resource_groups/list": 0, "quotacenter/describe": 0, "resource_groups/create": 1802, "resource_groups/drop": 1802,
            "resource_groups/describe": 1802, "resource_groups/alter": 1802,
        ]
        for route in handler.implementedRoutes {
            for body in ["", "{", "[]", "7", "\"s\"", #"{"collectionName":[1],"dbName":{}}"#] {
                // The list routes take no parameters, so they ignore unknown keys as gin does.
                if ["databases/list", "users/list", "roles/list", "privilege_groups/list"].contains(route) && body.hasPrefix("{\"") { continue }
                let (status, json) = post(handler, route, body)
                #expect(status == 200, "\(route) \(body)")
                // users/*, roles/* and privilege_groups/* take no collection, and check their own
                // required keys before the database, so that body only lacks those keys: 1802.
                let access = ["users/", "roles/", "privilege_groups/"].contains { route.hasPrefix($0) }
                var expected: JSON = access && body.hasPrefix("{\"") ? 1802 : 1801
                if body.hasPrefix("{\""), let code = noNames[route] { expected = code }
                #expect(json?["code"] == expected, "\(route) \(body): \(json?.serialized() ?? "")")
            }
        }
    }
}

@Suite struct ServerPathTests {
    @Test func serverFaultMessagesNameDirectoriesByTheirRole() {
        let configuration = Engine.Configuration(dataDirectory: "/srv/elanus/data")
        let error = ElanusError.unexpected(
            "open /srv/elanus/data/objects/7/1.seg: no space; import /srv/elanus/data/import/a.json; backup /srv/elanus/data-backups/b")
        let scrubbed = RESTHandler.withoutServerPaths(error, configuration)
        #expect(scrubbed.code == .unexpected)
        #expect(
            scrubbed.message
                == "open <data directory>/objects/7/1.seg: no space; import <import directory>/a.json; backup <backup directory>/b")
    }
}
