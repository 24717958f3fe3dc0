import ElanusCore
import ElanusTestSupport
import Foundation
import Testing

/// The zone a collection's Timestamptz values are read in is fixed when it is created, as
/// Milvus's root coordinator fixes it (the database's `timezone` copied into the collection's
/// properties, else UTC), and Timestamptz default values without an offset, at create and in
/// `fields/add`, are local times in that zone. Over HTTP against the real binary.
@Suite struct TimestamptzZoneTests {
    static func fields(_ reply: RESTClient.Reply) -> [String: JSON] {
        guard case .array(let items)? = reply.data?["fields"] else { return [:] }
        var byName: [String: JSON] = [:]
        for item in items { if case .string(let name)? = item["name"] { byName[name] = item } }
        return byName
    }

    @Test func defaultValuesAreLocalTimesOfTheCollectionsZone() throws {
        let dir = TemporaryDirectory()
        let server = ElanusProcess(dataDirectory: dir.file("data"))
        try server.start()
        defer { server.terminate() }
        let rest = RESTClient(port: server.port)
        #expect(try rest.call("databases/create", #"{"dbName":"east","properties":{"timezone":"Asia/Shanghai"}}"#).code == 0)
        let schema = #"""
            {"dbName":"east","collectionName":"d","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},
              {"fieldName":"local","dataType":"Timestamptz","defaultValue":"2025-06-01T08:00:00"},
              {"fieldName":"fixed","dataType":"Timestamptz","defaultValue":"2025-06-01T08:00:00-04:00"},
              {"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":2}}]},
             "indexParams":[{"fieldName":"v","indexName":"v","indexType":"FLAT","metricType":"L2"}]}
            """#
        let create = try rest.call("collections/create", schema)
        #expect(create.code == 0, "\(create.body.serialized())")
        // The same request again is the same collection (its defaults read the same way).
        #expect(try rest.call("collections/create", schema).code == 0)

        // The database's zone was copied; describe writes defaults as text in it, as Milvus does.
        let describe = try rest.call("collections/describe", #"{"dbName":"east","collectionName":"d"}"#)
        #expect(describe.data?["properties"] == [["key": "timezone", "value": "Asia/Shanghai"]], "\(describe.body.serialized())")
        let described = Self.fields(describe)
        #expect(described["local"]?["defaultValue"] == ["Data": ["StringData": "2025-06-01T08:00:00+08:00"]], "\(describe.body.serialized())")
        #expect(described["fixed"]?["defaultValue"] == ["Data": ["StringData": "2025-06-01T20:00:00+08:00"]], "\(describe.body.serialized())")

        // The database's zone changed afterwards changes nothing for the collection.
        #expect(try rest.call("databases/alter", #"{"dbName":"east","properties":{"timezone":"America/New_York"}}"#).code == 0)
        let insert = try rest.call("entities/insert", #"{"dbName":"east","collectionName":"d","data":[{"id":1,"v":[0,0]},{"id":2,"local":"2025-01-01T08:00:00","v":[0,0]}]}"#)
        #expect(insert.code == 0, "\(insert.body.serialized())")
        let rows = try rest.call("entities/query", #"{"dbName":"east","collectionName":"d","filter":"id > 0","outputFields":["local","fixed"],"timezone":"UTC"}"#)
        #expect(rows.data == [["id": 1, "local": "2025-06-01T00:00:00Z", "fixed": "2025-06-01T12:00:00Z"], ["id": 2, "local": "2025-01-01T00:00:00Z", "fixed": "2025-06-01T12:00:00Z"]], "\(rows.body.serialized())")
        let filtered = try rest.call("entities/query", #"{"dbName":"east","collectionName":"d","filter":"local == ISO '2025-06-01T00:00:00Z'","outputFields":["id"]}"#)
        #expect(filtered.data == [["id": 1]], "\(filtered.body.serialized())")

        // ISO literals without an offset in a filter are local times of the request's zone,
        // else the collection's (Shanghai), as Milvus plans them; a delete reads them in the
        // collection's.
        for (filter, zone, want) in [("local == ISO '2025-06-01T08:00:00'", "", 1), ("local == ISO '2025-06-01T00:00:00'", "UTC", 1), ("local < ISO '2025-01-01T08:00:01'", "", 2)] {
            let param = zone.isEmpty ? "" : #","timezone":"\#(zone)""#
            let reply = try rest.call("entities/query", #"{"dbName":"east","collectionName":"d","filter":"\#(filter)","outputFields":["id"]\#(param)}"#)
            #expect(reply.data == [["id": .int(Int64(want))]], "\(filter) \(zone): \(reply.body.serialized())")
        }
        let search = try rest.call("entities/search", #"{"dbName":"east","collectionName":"d","data":[[0,0]],"limit":5,"filter":"local == ISO '2025-01-01T00:00:00'","searchParams":{"timezone":"UTC"}}"#)
        guard case .array(let hits)? = search.data else {
            Issue.record("\(search.body.serialized())")
            return
        }
        #expect(hits.map { $0["id"] } == [2], "\(search.body.serialized())")
        let deleted = try rest.call("entities/delete", #"{"dbName":"east","collectionName":"d","filter":"local == ISO '2025-01-01T08:00:00'"}"#)
        #expect(deleted.code == 0, "\(deleted.body.serialized())")
        #expect(try rest.call("entities/query", #"{"dbName":"east","collectionName":"d","filter":"id > 0","outputFields":["id"]}"#).data == [["id": 1]])

        // A collection created now copies the database's new zone.
        let later = try rest.call("collections/create", #"{"dbName":"east","collectionName":"later","dimension":2}"#)
        #expect(later.code == 0, "\(later.body.serialized())")
        #expect(try rest.call("collections/describe", #"{"dbName":"east","collectionName":"later"}"#).data?["properties"] == [["key": "timezone", "value": "America/New_York"]])

        // fields/add reads its default in the collection's zone as it is then (altered to
        // Kolkata), for rows written before the add as well.
        #expect(try rest.call("entities/insert", #"{"dbName":"east","collectionName":"later","data":[{"id":1,"vector":[0,0]}]}"#).code == 0)
        #expect(try rest.call("collections/alter_properties", #"{"dbName":"east","collectionName":"later","properties":{"timezone":"Asia/Kolkata"}}"#).code == 0)
        let add = try rest.call("collections/fields/add", #"{"dbName":"east","collectionName":"later","schema":{"fieldName":"seen","dataType":"Timestamptz","nullable":true,"defaultValue":"2025-07-04T12:00:00"}}"#)
        #expect(add.code == 0, "\(add.body.serialized())")
        #expect(Self.fields(try rest.call("collections/describe", #"{"dbName":"east","collectionName":"later"}"#))["seen"]?["defaultValue"] == ["Data": ["StringData": "2025-07-04T12:00:00+05:30"]])
        #expect(try rest.call("entities/insert", #"{"dbName":"east","collectionName":"later","data":[{"id":2,"vector":[0,0]}]}"#).code == 0)
        let added = try rest.call("entities/query", #"{"dbName":"east","collectionName":"later","filter":"id > 0","outputFields":["seen"],"timezone":"UTC"}"#)
        #expect(added.data == [["id": 1, "seen": "2025-07-04T06:30:00Z"], ["id": 2, "seen": "2025-07-04T06:30:00Z"]], "\(added.body.serialized())")

        // A default that is no time is refused at create and at add, with Milvus's code.
        let bad = try rest.call("collections/fields/add", #"{"dbName":"east","collectionName":"later","schema":{"fieldName":"bad","dataType":"Timestamptz","nullable":true,"defaultValue":"2025-13-01T00:00:00"}}"#)
        #expect(bad.code == 1100 && bad.message.contains("2025-13-01T00:00:00 is not an ISO 8601 time"), "\(bad.body.serialized())")
    }
}
