import ElanusCore
import ElanusHTTP
import ElanusTestSupport
import Foundation
import Testing

@Suite struct CollectionLifecycleTests {
    static let fullSchema = #"""
    {"collectionName":"books","description":"every type","params":{"consistencyLevel":"Strong","ttlSeconds":3600,"partitionsNum":4},
     "schema":{"autoID":true,"enableDynamicField":true,"fields":[
      {"fieldName":"id","dataType":"Int64","isPrimary":true},
      {"fieldName":"flag","dataType":"Bool","defaultValue":true},
      {"fieldName":"i8","dataType":"Int8"},{"fieldName":"i16","dataType":"Int16"},
      {"fieldName":"i32","dataType":"Int32","nullable":true,"defaultValue":7},
      {"fieldName":"f","dataType":"Float","defaultValue":1.5},{"fieldName":"d","dataType":"Double"},
      {"fieldName":"title","dataType":"VarChar","elementTypeParams":{"max_length":"128"},"defaultValue":"untitled"},
      {"fieldName":"tenant","dataType":"VarChar","isPartitionKey":true,"elementTypeParams":{"max_length":32}},
      {"fieldName":"meta","dataType":"JSON","nullable":true},
      {"fieldName":"tags","dataType":"Array","elementDataType":"VarChar","elementTypeParams":{"max_capacity":8,"max_length":16}},
      {"fieldName":"dense","dataType":"FloatVector","elementTypeParams":{"dim":8}},
      {"fieldName":"bits","dataType":"BinaryVector","elementTypeParams":{"dim":16}},
      {"fieldName":"half","dataType":"Float16Vector","elementTypeParams":{"dim":4}},
      {"fieldName":"brain","dataType":"BFloat16Vector","elementTypeParams":{"dim":4}},
      {"fieldName":"sparse","dataType":"SparseFloatVector"}]},
     "indexParams":[{"fieldName":"dense","indexName":"dense_idx","metricType":"L2","indexType":"HNSW","params":{"M":16,"efConstruction":200}},
      {"fieldName":"bits","metricType":"HAMMING","indexType":"BIN_FLAT"},{"fieldName":"half","metricType":"IP"},
      {"fieldName":"brain","metricType":"COSINE"},{"fieldName":"sparse","metricType":"IP","indexType":"SPARSE_INVERTED_INDEX"}]}
    """#

    @Test func quickSetupAndLifecycle() throws {
        let dir = TemporaryDirectory()
        let server = ElanusProcess(dataDirectory: dir.file("data"))
        try server.start()
        defer { server.terminate() }
        let rest = RESTClient(port: server.port)

        #expect(try rest.call("collections/create", #"{"collectionName":"quick","dimension":8,"metricType":"L2","idType":"VarChar","params":{"max_length":"64"}}"#).code == 0)
        // An identical re-create succeeds, as in Milvus.
        #expect(try rest.call("collections/create", #"{"collectionName":"quick","dimension":8,"metricType":"L2","idType":"VarChar","params":{"max_length":"64"}}"#).code == 0)
        let d = try #require(try rest.call("collections/describe", #"{"collectionName":"quick"}"#).data)
        #expect(d["collectionName"] == "quick")
        #expect(d["load"] == "LoadStateLoaded")
        #expect(d["enableDynamicField"] == true)
        #expect(d["consistencyLevel"] == "Bounded")
        #expect(d["indexes"] == [["indexName": "vector", "fieldName": "vector", "metricType": "L2"]])
        guard case .array(let fields)? = d["fields"] else { Issue.record("no fields"); return }
        #expect(fields.map { $0["name"] } == ["id", "vector"])
        #expect(fields[0]["type"] == "VarChar")
        #expect(fields[0]["params"] == [["key": "max_length", "value": "64"]])
        #expect(fields[1]["params"] == [["key": "dim", "value": "8"]])
        #expect(fields.map { $0["id"] } == [100, 101])

        #expect(try rest.call("collections/has", #"{"collectionName":"quick"}"#).data == ["has": true])
        #expect(try rest.call("collections/has", #"{"collectionName":"other"}"#).data == ["has": false])
        #expect(try rest.call("collections/get_stats", #"{"collectionName":"quick"}"#).data == ["rowCount": 0])
        #expect(try rest.call("collections/get_load_state", #"{"collectionName":"quick"}"#).data == ["loadState": "LoadStateLoaded", "loadProgress": 100])
        #expect(try rest.call("collections/release", #"{"collectionName":"quick"}"#).code == 0)
        #expect(try rest.call("collections/get_load_state", #"{"collectionName":"quick"}"#).data == ["loadState": "LoadStateNotLoad"])
        // mmap is read at load time: Milvus changes it only while the collection is released.
        #expect(try rest.call("collections/alter_properties", #"{"collectionName":"quick","properties":{"collection.ttl.seconds":60,"mmap.enabled":true}}"#).code == 0)
        #expect(try rest.call("collections/load", #"{"collectionName":"quick"}"#).code == 0)
        let loaded = try rest.call("collections/drop_properties", #"{"collectionName":"quick","propertyKeys":["mmap.enabled"]}"#)
        #expect(loaded.code == 104 && loaded.message == "can not delete mmap properties if collection loaded: collection already loaded[collection=quick]")
        let alter = try rest.call("collections/alter_properties", #"{"collectionName":"quick","properties":{"mmap.enabled":false}}"#)
        #expect(alter.code == 104 && alter.message == "can not alter mmap properties if collection loaded: collection already loaded[collection=quick]")
        #expect(try rest.call("collections/release", #"{"collectionName":"quick"}"#).code == 0)
        #expect(try rest.call("collections/drop_properties", #"{"collectionName":"quick","propertyKeys":["mmap.enabled"]}"#).code == 0)
        #expect(try rest.call("collections/load", #"{"collectionName":"quick"}"#).code == 0)
        #expect(try rest.call("collections/describe", #"{"collectionName":"quick"}"#).data?["properties"] == [["key": "timezone", "value": "UTC"], ["key": "collection.ttl.seconds", "value": "60"]])

        #expect(try rest.call("databases/create", #"{"dbName":"archive","properties":{"database.max.collections":10}}"#).code == 0)
        #expect(try rest.call("collections/rename", #"{"collectionName":"quick","newCollectionName":"moved","newDbName":"archive"}"#).code == 0)
        #expect(try rest.call("collections/list", "null").data == [])
        #expect(try rest.call("collections/list", "{}", headers: [("DB-Name", "archive")]).data == ["moved"])
        #expect(try rest.call("collections/describe", #"{"dbName":"archive","collectionName":"moved"}"#).data?["collectionID"] == d["collectionID"])
        let db = try #require(try rest.call("databases/describe", #"{"dbName":"archive"}"#).data)
        #expect(db["properties"] == [["key": "database.max.collections", "value": "10"]])
        #expect(try rest.call("databases/alter", #"{"dbName":"archive","properties":{"k":"v"}}"#).code == 0)
        #expect(try rest.call("databases/drop_properties", #"{"dbName":"archive","propertyKeys":["database.max.collections"]}"#).data == [:])
        #expect(try rest.call("databases/describe", #"{"dbName":"archive"}"#).data?["properties"] == [["key": "k", "value": "v"]])
        #expect(try rest.call("databases/drop", #"{"dbName":"archive"}"#).code == 65535)
        #expect(try rest.call("collections/drop", #"{"dbName":"archive","collectionName":"moved"}"#).code == 0)
        #expect(try rest.call("collections/drop", #"{"dbName":"archive","collectionName":"moved"}"#).code == 0)
        #expect(try rest.call("databases/drop", #"{"dbName":"archive"}"#).code == 0)
        #expect(try rest.call("databases/list", "null").data == ["default"])
    }

    @Test func schemaModeWithEveryDataType() throws {
        let dir = TemporaryDirectory()
        let server = ElanusProcess(dataDirectory: dir.file("data"))
        try server.start()
        defer { server.terminate() }
        let rest = RESTClient(port: server.port)
        let created = try rest.call("collections/create", Self.fullSchema)
        #expect(created.code == 0, "\(created.body.serialized())")
        let d = try #require(try rest.call("collections/describe", #"{"collectionName":"books"}"#).data)
        #expect(d["autoId"] == true)
        #expect(d["description"] == "every type")
        #expect(d["consistencyLevel"] == "Strong")
        #expect(d["partitionsNum"] == 4)
        #expect(d["load"] == "LoadStateLoaded")
        // Every index of the collection, in the order they were made, as Milvus 2.6 lists them.
        #expect(
            d["indexes"] == [
                ["indexName": "dense_idx", "fieldName": "dense", "metricType": "L2"], ["indexName": "bits", "fieldName": "bits", "metricType": "HAMMING"],
                ["indexName": "half", "fieldName": "half", "metricType": "IP"], ["indexName": "brain", "fieldName": "brain", "metricType": "COSINE"],
                ["indexName": "sparse", "fieldName": "sparse", "metricType": "IP"],
            ])
        #expect(d["properties"] == [["key": "collection.ttl.seconds", "value": "3600"], ["key": "timezone", "value": "UTC"]])
        guard case .array(let fields)? = d["fields"] else { Issue.record("no fields"); return }
        func field(_ name: String) -> JSON? { fields.first { $0["name"] == .string(name) } }
        #expect(fields.count == 16)
        #expect(field("id")?["autoId"] == true)
        #expect(field("flag")?["defaultValue"] == ["Data": ["BoolData": true]])
        #expect(field("i32")?["defaultValue"] == ["Data": ["IntData": 7]])
        #expect(field("i32")?["nullable"] == true)
        #expect(field("f")?["defaultValue"] == ["Data": ["FloatData": 1.5]])
        #expect(field("title")?["defaultValue"] == ["Data": ["StringData": "untitled"]])
        #expect(field("tenant")?["partitionKey"] == true)
        #expect(field("tags")?["elementType"] == "VarChar")
        #expect(field("tags")?["params"] == [["key": "max_capacity", "value": "8"], ["key": "max_length", "value": "16"]])
        #expect(field("sparse")?["type"] == "SparseFloatVector")
        #expect(field("sparse")?["params"] == nil)
        #expect(field("bits")?["params"] == [["key": "dim", "value": "16"]])

        // Schema mode without indexParams creates an unloaded collection.
        #expect(try rest.call("collections/create", ErrorPathTests.schemaCreate("plain", fields: "")).code == 0)
        #expect(try rest.call("collections/get_load_state", #"{"collectionName":"plain"}"#).data == ["loadState": "LoadStateNotLoad"])
        // An index on one of two vector fields: created, but the automatic load fails with 65535.
        let partial = try rest.call(
            "collections/create",
            ErrorPathTests.schemaCreate("partial", fields: #",{"fieldName":"w","dataType":"FloatVector","elementTypeParams":{"dim":4}}"#, extra: #","indexParams":[{"fieldName":"v","metricType":"L2"}]"#))
        #expect(partial.code == 65535)
        #expect(partial.message.contains("there is no vector index on field: [w]"))
        #expect(try rest.call("collections/has", #"{"collectionName":"partial"}"#).data == ["has": true])
    }

    @Test func curlStyleRequestsWithExpectContinueAndChunkedBodies() throws {
        let dir = TemporaryDirectory()
        let server = ElanusProcess(dataDirectory: dir.file("data"))
        try server.start()
        defer { server.terminate() }
        let client = HTTPClient(port: server.port)
        // curl sends Expect: 100-continue for bodies over 1 KB and waits for the interim reply.
        let body = #"{"collectionName":"padded","dimension":4,"description":""# + String(repeating: "x", count: 2000) + #""}"#
        try client.sendRaw(Array("POST /v2/vectordb/collections/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: \(body.utf8.count)\r\n\r\n".utf8))
        usleep(100_000)
        try client.sendRaw(Array(body.utf8))
        let created = try client.readResponse()
        #expect(created.status == 200)
        #expect(created.text == #"{"code":0,"data":{}}"#)
        #expect(created.headers["Content-Type"] == "application/json; charset=utf-8")
        #expect(created.headers["Access-Control-Allow-Origin"] == "*")
        #expect(created.headers["X-Content-Type-Options"] == "nosniff")
        let chunk = #"{"collectionName":"padded"}"#
        try client.sendRaw(Array("POST /v2/vectordb/collections/has HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\(String(chunk.utf8.count, radix: 16))\r\n\(chunk)\r\n0\r\n\r\n".utf8))
        #expect(try client.readResponse().text == #"{"code":0,"data":{"has":true}}"#)
        let options = try client.request("OPTIONS", "/v2/vectordb/collections/list")
        #expect(options.status == 204)
        #expect(options.headers["Access-Control-Allow-Methods"]?.contains("POST") == true)
        let health = try client.request("GET", "/health")
        #expect(health.status == 200)
        #expect(health.text == #"{"status":"ok"}"#)
    }
}
