import ElanusCore
import ElanusHTTP
import ElanusTestSupport
import Testing

/// Every error path of the foundation issue, against the real binary over HTTP: the code, and a
/// fragment of the message a Milvus client would match.
@Suite struct ErrorPathTests {
    struct Case: CustomStringConvertible {
        var route: String
        var body: String
        var code: Int64
        var fragment: String
        var description: String { "\(route) \(body.prefix(60))" }
    }

    static let quick = #"{"collectionName":"base","dimension":4}"#
    static func schemaCreate(_ name: String, fields: String, extra: String = "") -> String {
        #"{"collectionName":"\#(name)","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},{"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":4}}\#(fields)]}\#(extra)}"#
    }

    static let cases: [Case] = [
        // Body shape (1801 / 1802).
        Case(route: "collections/describe", body: "", code: 1801, fragment: "the request body should be nil, however {} is valid"),
        Case(route: "collections/describe", body: "{bad", code: 1801, fragment: "can only accept json format request, error:"),
        Case(route: "collections/describe", body: "[1,2]", code: 1801, fragment: "cannot unmarshal array"),
        Case(route: "collections/describe", body: #"{"collectionName":5}"#, code: 1801, fragment: "cannot unmarshal number into Go struct field CollectionNameReq.collectionName of type string"),
        Case(route: "collections/describe", body: "{}", code: 1802, fragment: "Key: 'CollectionNameReq.CollectionName' Error:Field validation for 'CollectionName' failed on the 'required' tag"),
        Case(route: "collections/describe", body: #"{"collectionName":""}"#, code: 1802, fragment: "missing required parameters"),
        Case(route: "collections/create", body: "{}", code: 1802, fragment: "CollectionName"),
        Case(route: "collections/rename", body: #"{"collectionName":"base"}"#, code: 1802, fragment: "NewCollectionName"),
        Case(route: "databases/create", body: "{}", code: 1802, fragment: "DbName"),
        Case(route: "collections/create", body: schemaCreate("nofieldname", fields: #",{"dataType":"Int64"}"#), code: 1802, fragment: "FieldSchema.FieldName"),
        Case(route: "collections/create", body: schemaCreate("badidx", fields: "", extra: #","indexParams":[{"fieldName":"nope","metricType":"L2"}]"#), code: 1802, fragment: "nope"),
        // Unknown names (100 / 800).
        Case(route: "collections/describe", body: #"{"collectionName":"missing"}"#, code: 100, fragment: "can't find collection[database=default][collection=missing]"),
        Case(route: "collections/load", body: #"{"collectionName":"missing"}"#, code: 100, fragment: "can't find collection"),
        Case(route: "collections/get_stats", body: #"{"collectionName":"missing"}"#, code: 100, fragment: "can't find collection"),
        Case(route: "collections/get_load_state", body: #"{"collectionName":"missing"}"#, code: 100, fragment: "can't find collection"),
        Case(route: "collections/rename", body: #"{"collectionName":"missing","newCollectionName":"x"}"#, code: 100, fragment: "can't find collection"),
        Case(route: "collections/alter_properties", body: #"{"collectionName":"missing","properties":{}}"#, code: 100, fragment: "can't find collection"),
        Case(route: "collections/list", body: #"{"dbName":"nodb"}"#, code: 800, fragment: "database not found[database=nodb]"),
        Case(route: "collections/describe", body: #"{"dbName":"nodb","collectionName":"base"}"#, code: 800, fragment: "database not found"),
        Case(route: "databases/describe", body: #"{"dbName":"nodb"}"#, code: 800, fragment: "database not found"),
        // Invalid parameters (1100, 802).
        Case(route: "collections/create", body: #"{"collectionName":"nodim"}"#, code: 1100, fragment: "dimension is required"),
        Case(route: "collections/create", body: #"{"collectionName":"1bad","dimension":4}"#, code: 1100, fragment: "Invalid collection name: 1bad"),
        Case(route: "collections/create", body: #"{"collectionName":"c","dimension":40000}"#, code: 1100, fragment: "invalid dimension: 40000"),
        Case(route: "collections/create", body: #"{"collectionName":"c","dimension":4,"idType":"Float"}"#, code: 1100, fragment: "idType can only be"),
        Case(route: "collections/create", body: #"{"collectionName":"c","dimension":4,"idType":"VarChar"}"#, code: 1100, fragment: "max_length"),
        Case(route: "collections/create", body: #"{"collectionName":"c","dimension":4,"metricType":"HAMMING"}"#, code: 1100, fragment: "metric type HAMMING"),
        Case(route: "collections/create", body: #"{"collectionName":"c","dimension":4,"params":{"consistencyLevel":"Weak"}}"#, code: 1100, fragment: "consistencyLevel can only be [Strong, Session, Bounded, Eventually, Customized], default: Bounded"),
        Case(route: "collections/create", body: #"{"collectionName":"c","dimension":4,"params":{"shardsNum":17}}"#, code: 1100, fragment: "shards"),
        Case(route: "collections/create", body: schemaCreate("c", fields: #",{"fieldName":"s","dataType":"VARCHAR"}"#), code: 1100, fragment: "invalid data type VARCHAR"),
        Case(route: "collections/create", body: schemaCreate("c", fields: #",{"fieldName":"s","dataType":"VarChar"}"#), code: 1100, fragment: "max_length"),
        Case(route: "collections/create", body: schemaCreate("c", fields: #",{"fieldName":"n","dataType":"Int64","defaultValue":"x"}"#), code: 1100, fragment: "convert defaultValue fail"),
        Case(route: "collections/create", body: #"{"collectionName":"c","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true,"defaultValue":1},{"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":4}}]}}"#, code: 1100, fragment: "primary field not support default_value"),
        Case(route: "collections/create", body: schemaCreate("c", fields: #",{"fieldName":"k","dataType":"Int64","isPartitionKey":true,"nullable":true}"#), code: 1100, fragment: "partition key field not support nullable"),
        Case(route: "collections/create", body: schemaCreate("c", fields: #",{"fieldName":"v","dataType":"Int64"}"#), code: 1100, fragment: "duplicated field name"),
        Case(route: "collections/create", body: #"{"collectionName":"c","schema":{"fields":[{"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":4}}]}}"#, code: 1100, fragment: "primary key is not specified"),
        Case(route: "collections/create", body: #"{"collectionName":"c","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true}]}}"#, code: 1100, fragment: "schema does not contain vector field"),
        Case(route: "collections/create", body: schemaCreate("c", fields: #",{"fieldName":"a","dataType":"Array","elementDataType":"Int64","elementTypeParams":{"max_capacity":5000}}"#), code: 1100, fragment: "maximum capacity"),
        Case(route: "collections/create", body: schemaCreate("c", fields: "", extra: #","indexParams":[{"fieldName":"v","metricType":"L2","indexType":"DISKANN"}]"#), code: 1100, fragment: "index type DISKANN is not supported"),
        Case(
            route: "collections/create",
            body: #"{"collectionName":"c","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},{"fieldName":"t","dataType":"VarChar","elementTypeParams":{"max_length":8}},{"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":4}}],"functions":[{"name":"f","type":"TextEmbedding","inputFieldNames":["t"],"outputFieldNames":["v"],"params":{"provider":"openai"}}]}}"#,
            code: 1100, fragment: "TextEmbedding functions need a model provider, which Elanus does not have"),
        Case(route: "collections/alter_properties", body: #"{"collectionName":"base","properties":{"collection.ttl.seconds":"abc"}}"#, code: 1100, fragment: "collection TTL"),
        Case(route: "collections/rename", body: #"{"collectionName":"base","newCollectionName":"bad name"}"#, code: 1100, fragment: "Invalid collection name"),
        Case(route: "databases/create", body: #"{"dbName":"bad-db"}"#, code: 802, fragment: "Invalid database name: bad-db"),
        // Index and load (700), conflicts (65535).
        Case(route: "collections/load", body: #"{"collectionName":"unindexed"}"#, code: 700, fragment: "there is no vector index on field: [v]"),
        Case(route: "collections/create", body: #"{"collectionName":"base","dimension":8}"#, code: 65535, fragment: "create duplicate collection with different parameters, collection: base"),
        Case(route: "collections/rename", body: #"{"collectionName":"unindexed","newCollectionName":"base"}"#, code: 65535, fragment: "duplicated new collection name base"),
        Case(route: "databases/drop", body: #"{"dbName":"default"}"#, code: 65535, fragment: "can not drop default database"),
        Case(route: "databases/create", body: #"{"dbName":"default"}"#, code: 65535, fragment: "database already exist: default"),
        // Not built yet: a clear code 10, never a fake success.
        Case(route: "collections/add_function", body: "{}", code: 10, fragment: "service unimplemented"),
    ]

    @Test func everyErrorPathAnswersItsMilvusCode() throws {
        let dir = TemporaryDirectory()
        let server = ElanusProcess(dataDirectory: dir.file("data"), environment: ["ELANUS_SERVER_MAX_BODY_BYTES": "65536"])
        try server.start()
        defer { server.terminate() }
        let rest = RESTClient(port: server.port)
        #expect(try rest.call("collections/create", Self.quick).code == 0)
        #expect(try rest.call("collections/create", Self.schemaCreate("unindexed", fields: "")).code == 0)
        for c in Self.cases {
            let reply = try rest.call(c.route, c.body)
            #expect(reply.status == 200, "\(c)")
            #expect(reply.code == c.code, "\(c): \(reply.body.serialized())")
            #expect(reply.message.contains(c.fragment), "\(c): \(reply.message)")
            #expect(reply.data == nil, "\(c): failures carry no data")
        }
        // Nothing above changed the catalog.
        let list = try rest.call("collections/list", "null")
        #expect(list.data == ["base", "unindexed"])
        #expect(try rest.call("databases/list", "null").data == ["default"])
    }

    @Test func transportErrors() throws {
        let dir = TemporaryDirectory()
        let server = ElanusProcess(dataDirectory: dir.file("data"), environment: ["ELANUS_SERVER_MAX_BODY_BYTES": "4096"])
        try server.start()
        defer { server.terminate() }
        let http = HTTPClient(port: server.port)
        let notFound = try http.post("/v2/vectordb/collections/nothing", json: "{}")
        #expect(notFound.status == 404)
        #expect(notFound.text == "404 page not found")
        #expect(try http.request("GET", "/nothing").status == 404)
        let wrongMethod = try http.request("GET", "/v2/vectordb/collections/list")
        #expect(wrongMethod.status == 405)
        let tooLarge = try http.post("/v2/vectordb/collections/list", json: "{\"x\":\"" + String(repeating: "a", count: 5000) + "\"}")
        #expect(tooLarge.status == 413)
        let raw = HTTPClient(port: server.port)
        try raw.sendRaw(Array("POST /v2/vectordb/collections/list HTTP/1.1\r\nContent-Length: nope\r\n\r\n".utf8))
        #expect(String(decoding: try raw.readUntilClose(), as: UTF8.self).hasPrefix("HTTP/1.1 400"))
        // Still serving after all of that.
        #expect(try RESTClient(port: server.port).call("collections/list", "null").code == 0)
    }
}
