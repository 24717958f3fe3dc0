import ElanusCore
import ElanusTestSupport
import Foundation
import Testing

/// collections/fields/add and collections/fields/alter_properties over HTTP. Rows written before
/// a field was added (flushed to segment files, growing in memory, in the WAL) read its default
/// value or null in query and search output and in filters, through a restart, a flush and a
/// compaction; rows written after carry their own values.
@Suite struct FieldEvolutionTests {
    static func items(_ json: JSON?) -> [JSON] {
        if case .array(let items)? = json { return items }
        return []
    }

    static func row(_ id: Int, _ extra: String = "") -> String {
        #"{"id":\#(id),"vector":[\#(id % 7),\#(id % 5),1,\#(id)]\#(extra)}"#
    }

    static func insert(_ rest: RESTClient, _ rows: [String]) throws {
        let reply = try rest.call("entities/insert", #"{"collectionName":"fa","data":[\#(rows.joined(separator: ","))]}"#)
        #expect(reply.code == 0, "\(reply.body.serialized())")
    }

    static func count(_ rest: RESTClient, _ filter: String) throws -> JSON? {
        let reply = try rest.call("entities/query", #"{"collectionName":"fa","filter":"\#(filter)","outputFields":["count(*)"]}"#)
        return items(reply.data).first?["count(*)"]
    }

    /// The reads every phase must answer the same: 350 rows written before the add (ids 1, 2
    /// and 301 deleted), ids 350..359 written after with score = id and tag "t<id>", and id 360
    /// written after without either.
    static func verify(_ rest: RESTClient, _ phase: String) throws {
        #expect(try count(rest, "") == 358, "\(phase)")
        #expect(try count(rest, "score == 7") == 348, "\(phase)")
        #expect(try count(rest, "tag is null") == 348, "\(phase)")
        #expect(try count(rest, "tag is not null") == 10, "\(phase)")
        #expect(try count(rest, "score > 100 and tag like \\\"t35%\\\"") == 10, "\(phase)")
        for (id, expected) in [(0, #"{"id":0,"score":7,"tag":null}"#), (320, #"{"id":320,"score":7,"tag":null}"#),
                               (355, #"{"id":355,"score":355,"tag":"t355"}"#), (360, #"{"id":360,"score":7,"tag":null}"#)] {
            let reply = try rest.call("entities/query", #"{"collectionName":"fa","filter":"id == \#(id)","outputFields":["id","score","tag"]}"#)
            #expect(reply.data == .array([try JSON.parse(Array(expected.utf8))]), "\(phase): \(reply.body.serialized())")
        }
        #expect(try count(rest, "id in [1, 2, 301]") == 0, "\(phase)")
        let search = try rest.call(
            "entities/search",
            #"{"collectionName":"fa","data":[[5,0,1,5]],"limit":3,"filter":"id in [5, 357]","outputFields":["score","tag"]}"#)
        let hits = items(search.data).map { hit in "\(hit["id"]?.serialized() ?? "")=\(hit["score"]?.serialized() ?? "")/\(hit["tag"]?.serialized() ?? "")" }
        #expect(hits.sorted() == ["357=357/\"t357\"", "5=7/null"], "\(phase): \(search.body.serialized())")
    }

    @Test func oldRowsReadTheDefaultThroughRestartFlushAndCompaction() throws {
        let dir = TemporaryDirectory()
        let data = dir.file("data")
        let environment = ["ELANUS_SEGMENT_MAX_ROWS": "100", "ELANUS_COMPACTION_ENABLED": "false"]
        var server = ElanusProcess(dataDirectory: data, environment: environment)
        try server.start()
        var rest = RESTClient(port: server.port)
        #expect(try rest.call("collections/create", #"{"collectionName":"fa","dimension":4}"#).code == 0)
        for start in stride(from: 0, to: 300, by: 100) { try Self.insert(rest, (start..<start + 100).map { Self.row($0) }) }
        #expect(try rest.call("collections/flush", #"{"collectionName":"fa"}"#).code == 0)
        try Self.insert(rest, (300..<350).map { Self.row($0) })
        #expect(try rest.call("entities/delete", #"{"collectionName":"fa","filter":"id in [1, 2, 301]"}"#).code == 0)

        let score = #"{"collectionName":"fa","schema":{"fieldName":"score","dataType":"Int64","nullable":true,"defaultValue":7}}"#
        let tag = #"{"collectionName":"fa","schema":{"fieldName":"tag","dataType":"VarChar","nullable":true,"elementTypeParams":{"max_length":8}}}"#
        #expect(try rest.call("collections/fields/add", score).code == 0)
        #expect(try rest.call("collections/fields/add", tag).code == 0)
        let fields = Self.items(try rest.call("collections/describe", #"{"collectionName":"fa"}"#).data?["fields"]).map { $0 }
        #expect(fields.map { $0["name"] } == ["id", "vector", "score", "tag"])
        #expect(fields.last?["id"] == 103 && fields.last?["nullable"] == true && fields.last?["params"] == [["key": "max_length", "value": "8"]])
        #expect(fields[2]["id"] == 102 && fields[2]["defaultValue"] == ["Data": ["LongData": 7]])

        try Self.insert(rest, (350..<360).map { Self.row($0, #","score":\#($0),"tag":"t\#($0)""#) } + [Self.row(360)])
        try Self.verify(rest, "after the add")

        // Restart: old segment files load, old and new WAL records replay.
        #expect(server.terminate() == 0)
        server = ElanusProcess(dataDirectory: data, environment: environment)
        try server.start()
        rest = RESTClient(port: server.port)
        try Self.verify(rest, "after a restart")

        // Flush what grew, then compact the segment with deleted rows (written before the add).
        #expect(try rest.call("collections/flush", #"{"collectionName":"fa"}"#).code == 0)
        guard case .int(let job)? = try rest.call("collections/compact", #"{"collectionName":"fa"}"#).data?["compactionID"] else {
            Issue.record("no compaction id")
            return
        }
        let deadline = Date().addingTimeInterval(30)
        while try rest.call("collections/get_compaction_state", #"{"jobID":\#(job)}"#).data?["state"] != "Completed" && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
        #expect(try rest.call("collections/get_compaction_state", #"{"jobID":\#(job)}"#).data?["completedPlanNumber"] != 0)
        try Self.verify(rest, "after flush and compaction")

        #expect(server.terminate() == 0)
        server = ElanusProcess(dataDirectory: data, environment: environment)
        try server.start()
        defer { server.terminate() }
        rest = RESTClient(port: server.port)
        try Self.verify(rest, "after a second restart")
    }

    @Test func refusalsCarryMilvusCodesAndMessages() throws {
        let dir = TemporaryDirectory()
        let server = ElanusProcess(dataDirectory: dir.file("data"))
        try server.start()
        defer { server.terminate() }
        let rest = RESTClient(port: server.port)
        #expect(try rest.call("collections/create", #"{"collectionName":"fa","dimension":4}"#).code == 0)
        func add(_ schema: String, collection: String = "fa") throws -> String {
            let reply = try rest.call("collections/fields/add", #"{"collectionName":"\#(collection)","schema":\#(schema)}"#)
            return "\(reply.code ?? -1) \(reply.message)"
        }
        #expect(try add(#"{"fieldName":"n","dataType":"Int64"}"#) == "1100 added field must be nullable, please check it, field name = n: invalid parameter")
        #expect(try add(#"{"fieldName":"n","dataType":"Int64","defaultValue":3}"#) == "1100 added field must be nullable, please check it, field name = n: invalid parameter")
        #expect(try add(#"{"fieldName":"id","dataType":"Int64","nullable":true}"#) == "1100 duplicate field name: id: invalid parameter")
        #expect(try add(#"{"fieldName":"k","dataType":"Int64","isPrimary":true,"nullable":true}"#) == "1100 not support to add pk field, field name = k: invalid parameter")
        #expect(try add(#"{"fieldName":"k","dataType":"Int64","isPartitionKey":true,"nullable":true}"#) == "1100 not support to add partition key field, field name  = k: invalid parameter")
        #expect(try add(#"{"fieldName":"w","dataType":"FloatVector","elementTypeParams":{"dim":4}}"#) == "1100 not support to add vector field, field name = w: invalid parameter")
        #expect(try add(#"{"fieldName":"k","dataType":"Int65","nullable":true}"#).hasPrefix("1100 invalid data type Int65 of field k"))
        #expect(try add(#"{"fieldName":"k","dataType":"Int64","nullable":true,"defaultValue":"x"}"#).hasPrefix("1100 convert defaultValue fail"))
        #expect(try add(#"{"fieldName":"s","dataType":"VarChar","nullable":true}"#).hasPrefix("1100 type param(max_length) should be specified"))
        #expect(try add(#"{"fieldName":"k","dataType":"Int64","nullable":true}"#, collection: "nope") == "100 can't find collection[database=default][collection=nope]")
        let missing = try rest.call("collections/fields/add", #"{"collectionName":"fa"}"#)
        #expect(missing.code == 1802 && missing.message.contains("'CollectionFieldReqWithSchema.Schema'"), "\(missing.body.serialized())")
        let noName = try rest.call("collections/fields/add", #"{"collectionName":"fa","schema":{"dataType":"Int64"}}"#)
        #expect(noName.code == 1802 && noName.message.contains("'CollectionFieldReqWithSchema.Schema.FieldName'"), "\(noName.body.serialized())")
        #expect(try add(#"{"fieldName":"tag","dataType":"VarChar","nullable":true,"elementTypeParams":{"max_length":4}}"#) == "0 ")
        #expect(try add(#"{"fieldName":"tags","dataType":"Array","elementDataType":"Int64","nullable":true,"elementTypeParams":{"max_capacity":2}}"#) == "0 ")

        func alter(_ field: String, _ params: String, collection: String = "fa") throws -> String {
            let reply = try rest.call(
                "collections/fields/alter_properties", #"{"collectionName":"\#(collection)","fieldName":"\#(field)","fieldParams":\#(params)}"#)
            return "\(reply.code ?? -1) \(reply.message)"
        }
        // max_length grows: a value refused before fits after.
        let long = #"{"collectionName":"fa","data":[{"id":1,"vector":[1,2,3,4],"tag":"abcdefgh"}]}"#
        #expect(try rest.call("entities/insert", long).code == 1804)
        #expect(try alter("tag", #"{"max_length":16}"#) == "0 ")
        #expect(try rest.call("entities/insert", long).code == 0)
        #expect(try alter("tags", #"{"max_capacity":8}"#) == "0 ")
        #expect(try alter("id", #"{"max_length":16}"#) == "1100  can not modify the maxlength for non-string types: invalid parameter")
        #expect(try alter("tag", #"{"max_length":70000}"#) == "1100 70000 exceeds the maximum allowed value 65535: invalid parameter")
        #expect(try alter("tags", #"{"max_capacity":5000}"#) == "1100 the maximum capacity specified for a Array should be in (0, 4096]: invalid parameter")
        #expect(try alter("tag", #"{"analyzer":"x"}"#) == "1100 analyzer does not allow update in collection field param: invalid parameter")
        #expect(try alter("tag", #"{"mmap.enabled":true}"#) == "104 can not alter collection field properties if collection loaded: collection already loaded[collection=fa]")
        #expect(try alter("tag", "{}") == "65535 The field properties to alter and keys to delete must not be empty at the same time")
        #expect(try alter("tag", #"{"max_length":16}"#, collection: "nope") == "100 can't find collection[database=default][collection=nope]")
        #expect(try rest.call("collections/release", #"{"collectionName":"fa"}"#).code == 0)
        #expect(try alter("tag", #"{"mmap_enabled":true}"#) == "0 ")
        #expect(try alter("nope", #"{"mmap.enabled":false}"#) == "1100 field nope does not exist in collection: invalid parameter")
        let fields = Self.items(try rest.call("collections/describe", #"{"collectionName":"fa"}"#).data?["fields"]).map { $0 }
        #expect(fields.first(where: { $0["name"] == "tag" })?["params"] == [["key": "max_length", "value": "16"], ["key": "mmap.enabled", "value": "true"]])
        #expect(fields.first(where: { $0["name"] == "tags" })?["params"] == [["key": "max_capacity", "value": "8"]])
    }
}
