import ElanusCore
import ElanusHTTP
import ElanusTestSupport
import Testing

/// Inserting, reading back and refusing rows over HTTP, against the real binary.
@Suite struct EntityTests {
    static let rowA = #"""
        {"flag":false,"i8":-8,"i16":300,"i32":null,"f":0.25,"d":1e100,"title":"Dune","tenant":"acme",
         "meta":{"a":[1,{"b":null}]},"tags":["x","y"],"dense":[1,2,3,4,5,6,7,8.5],"bits":[1,2],
         "half":[1,2,3,4],"brain":"AD8AQABAAEA=","sparse":{"7":0.5,"1":0.25},"color":"red"}
        """#
    static let rowB = #"""
        {"i8":1,"i16":2,"d":0.5,"tenant":"zeta","tags":[],"dense":[0,0,0,0,0,0,0,0],"bits":"AQI=",
         "half":"ADwAQABCAEQ=","brain":[0.5,2,2,2],"sparse":{"indices":[3,1],"values":[1,2]}}
        """#

    @Test func everyTypeRoundTripsAndSurvivesSigkill() throws {
        let dir = TemporaryDirectory()
        var server = ElanusProcess(dataDirectory: dir.file("data"))
        try server.start()
        var rest = RESTClient(port: server.port)
        #expect(try rest.call("collections/create", CollectionLifecycleTests.fullSchema).code == 0)
        let inserted = try rest.call("entities/insert", #"{"collectionName":"books","data":[\#(Self.rowA),\#(Self.rowB)]}"#)
        #expect(inserted.code == 0, "\(inserted.body.serialized())")
        #expect(inserted.data?["insertCount"] == 2)
        guard case .array(let ids)? = inserted.data?["insertIds"], ids.count == 2, case .int(let idA) = ids[0], case .int(let idB) = ids[1] else {
            Issue.record("insertIds: \(inserted.body.serialized())")
            return
        }
        #expect(idB == idA + 1)
        #expect(inserted.body["cost"] == 0)

        func check(_ rest: RESTClient) throws {
            let got = try rest.call("entities/get", #"{"collectionName":"books","id":[\#(idA),\#(idB),12345]}"#)
            guard case .array(let rows)? = got.data, rows.count == 2 else {
                Issue.record("get: \(got.body.serialized())")
                return
            }
            let a = rows[0]
            let b = rows[1]
            #expect(a["id"] == .int(idA))
            #expect(a["flag"] == false && a["i8"] == -8 && a["i16"] == 300)
            #expect(a["i32"] == 7, "null on a nullable field with a default stores the default")
            #expect(a["f"] == 0.25 && a["d"] == 1e100 && a["title"] == "Dune" && a["tenant"] == "acme")
            #expect(a["meta"] == #"{"a":[1,{"b":null}]}"#, "JSON fields come back as JSON text")
            #expect(a["tags"] == ["Data": ["StringData": ["data": ["x", "y"]]]])
            #expect(a["dense"] == [1, 2, 3, 4, 5, 6, 7, 8.5])
            #expect(a["bits"] == "AQI=")
            #expect(a["half"] == "ADwAQABCAEQ=", "floats are stored as float16 and returned as base64")
            #expect(a["brain"] == "AD8AQABAAEA=")
            #expect(a["sparse"] == ["1": 0.25, "7": 0.5])
            #expect(a["color"] == "red", "dynamic keys are flattened into the row")
            #expect(b["flag"] == true && b["i32"] == 7 && b["f"] == 1.5 && b["title"] == "untitled")
            #expect(b["meta"] == .null)
            #expect(b["half"] == "ADwAQABCAEQ=")
            #expect(b["brain"] == "AD8AQABAAEA=")
            #expect(b["sparse"] == ["1": 2, "3": 1])
            #expect(b["color"] == nil)
            let some = try rest.call("entities/get", #"{"collectionName":"books","id":\#(idA),"outputFields":["title","color"]}"#)
            #expect(some.data == [["id": .int(idA), "title": "Dune", "color": "red"]])
            let strings = try rest.call("entities/get", #"{"collectionName":"books","id":[\#(idA)],"outputFields":["i8"]}"#, headers: [("Accept-Type-Allow-Int64", "false")])
            #expect(strings.data == [["id": .string(String(idA)), "i8": -8]])
            #expect(try rest.call("collections/get_stats", #"{"collectionName":"books"}"#).data == ["rowCount": 2])
            var perPartition: Int64 = 0
            for p in 0..<4 {
                if case .int(let n)? = try rest.call("partitions/get_stats", #"{"collectionName":"books","partitionName":"_default_\#(p)"}"#).data?["rowCount"] { perPartition += n }
            }
            #expect(perPartition == 2)
        }
        try check(rest)
        server.kill()
        server = ElanusProcess(dataDirectory: dir.file("data"))
        try server.start()
        defer { server.terminate() }
        rest = RESTClient(port: server.port)
        try check(rest)
        #expect(server.log().contains("collection recovered"))
        // AutoIDs keep increasing after the restart.
        let again = try rest.call("entities/insert", #"{"collectionName":"books","data":[\#(Self.rowB)]}"#)
        guard case .array(let more)? = again.data?["insertIds"], case .int(let idC)? = more.first else {
            Issue.record("insert after restart: \(again.body.serialized())")
            return
        }
        #expect(idC > idB)
    }

    static let strict = #"""
        {"collectionName":"strict","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},
         {"fieldName":"name","dataType":"VarChar","elementTypeParams":{"max_length":4}},
         {"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":2}}]}}
        """#
    static let good = #"{"id":1,"name":"ok","v":[1,2]}"#

    static let cases: [ErrorPathTests.Case] = [
        .init(route: "entities/insert", body: #"{"collectionName":"missing","data":[{"id":1}]}"#, code: 100, fragment: "can't find collection[database=default][collection=missing]"),
        .init(route: "entities/insert", body: #"{"collectionName":"strict"}"#, code: 1802, fragment: "'CollectionDataReq.Data'"),
        .init(route: "entities/insert", body: #"{"collectionName":"strict","data":{"id":1}}"#, code: 1801, fragment: "cannot unmarshal object"),
        .init(route: "entities/insert", body: #"{"collectionName":"strict","data":[{"id":1,"v":[NaN,1]}]}"#, code: 1801, fragment: "can only accept json format request"),
        .init(route: "entities/insert", body: #"{"collectionName":"strict","data":[\#(good),{"id":2,"name":"ok","v":[1]}]}"#, code: 1804, fragment: "row 1: field 'v' (FloatVector): the dimension is 2 but the vector has 1 elements"),
        .init(route: "entities/insert", body: #"{"collectionName":"strict","data":[\#(good),{"id":2,"name":"ok","v":[1,1e39]}]}"#, code: 1804, fragment: "NaN and Inf are not allowed"),
        .init(route: "entities/insert", body: #"{"collectionName":"strict","data":[\#(good),{"id":2,"name":"toolong","v":[1,2]}]}"#, code: 1804, fragment: "exceeds max_length 4"),
        .init(route: "entities/insert", body: #"{"collectionName":"strict","data":[{"id":2,"name":"ok"}]}"#, code: 1804, fragment: "field 'v' (FloatVector): the vector field is missing"),
        .init(route: "entities/insert", body: #"{"collectionName":"strict","data":[{"id":2,"name":"ok","v":[1,2],"x":1}]}"#, code: 1804, fragment: "has pass more field without dynamic schema"),
        .init(route: "entities/insert", body: #"{"collectionName":"strict","data":[{"id":2,"name":"ok","v":[1,2],"name":"b"}]}"#, code: 1804, fragment: "duplicated field 'name'"),
        .init(route: "entities/insert", body: #"{"collectionName":"strict","data":[{"id":"two","name":"ok","v":[1,2]}]}"#, code: 1804, fragment: "field 'id' (Int64)"),
        .init(route: "entities/insert", body: #"{"collectionName":"strict","data":[{"id":2,"name":5,"v":[1,2]}]}"#, code: 1804, fragment: "expected a string, got number 5"),
        .init(route: "entities/insert", body: #"{"collectionName":"strict","partitionName":"nope","data":[\#(good)]}"#, code: 200, fragment: "partition not found[partition=nope]"),
        .init(route: "entities/upsert", body: #"{"collectionName":"strict","data":[{"id":2,"name":"ok"}]}"#, code: 1804, fragment: "the vector field is missing"),
        .init(route: "entities/upsert", body: #"{"collectionName":"strict","fieldOps":[{"fieldName":"name","op":"ARRAY_APPEND"}],"data":[\#(good)]}"#, code: 1100, fragment: "fieldOps"),
        .init(route: "entities/delete", body: #"{"collectionName":"strict"}"#, code: 1802, fragment: "'CollectionFilterReq.Filter'"),
        .init(route: "entities/delete", body: #"{"collectionName":"strict","filter":"name like"}"#, code: 1100, fragment: "failed to create query plan"),
        .init(route: "entities/delete", body: #"{"collectionName":"strict","filter":"id in [\"a\"]"}"#, code: 1100, fragment: "cannot compare a Int64 field with a string"),
        .init(route: "entities/get", body: #"{"collectionName":"strict","id":[true]}"#, code: 1806, fragment: "please check the primary key"),
        .init(route: "entities/get", body: #"{"collectionName":"strict","id":[1]}"#, code: 101, fragment: "collection not loaded"),
        .init(route: "entities/get", body: #"{"collectionName":"strict"}"#, code: 1802, fragment: "'CollectionIDReq.Id'"),
        .init(route: "collections/flush", body: #"{"collectionName":"missing"}"#, code: 100, fragment: "can't find collection"),
    ]

    @Test func badRowsAreRefusedAndWriteNothing() throws {
        let dir = TemporaryDirectory()
        let server = ElanusProcess(dataDirectory: dir.file("data"), environment: ["ELANUS_SERVER_MAX_BODY_BYTES": "65536"])
        try server.start()
        defer { server.terminate() }
        let rest = RESTClient(port: server.port)
        #expect(try rest.call("collections/create", Self.strict).code == 0)
        for c in Self.cases {
            let reply = try rest.call(c.route, c.body)
            #expect(reply.code == c.code, "\(c): \(reply.body.serialized())")
            #expect(reply.message.contains(c.fragment), "\(c): \(reply.message)")
        }
        // An insert larger than the body limit is refused before it is buffered whole.
        let rows = (0..<3000).map { #"{"id":\#($0),"name":"ok","v":[1.5,2.5]}"# }.joined(separator: ",")
        let big = try rest.http.post("/v2/vectordb/entities/insert", json: #"{"collectionName":"strict","data":[\#(rows)]}"#)
        #expect(big.status == 413)
        let after = RESTClient(port: server.port)
        #expect(try after.call("collections/get_stats", #"{"collectionName":"strict"}"#).data == ["rowCount": 0], "no failed batch wrote a row")
        #expect(try after.call("entities/insert", #"{"collectionName":"strict","data":[\#(Self.good)]}"#).data?["insertCount"] == 1)
        #expect(try after.call("collections/flush", #"{"collectionName":"strict"}"#).code == 0)
        #expect(try after.call("collections/get_stats", #"{"collectionName":"strict"}"#).data == ["rowCount": 1])
    }
}
