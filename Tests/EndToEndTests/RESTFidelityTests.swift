import ElanusCore
import ElanusTestSupport
import Foundation
import Testing

/// Requests read the way Milvus 2.6 reads them, against the real binary: Go's rules for JSON
/// keys (struct fields case-insensitively, map keys and row fields exactly), Go's spellings of
/// `params` values, schema-level autoID, every index in describe, and query limits.
@Suite struct RESTFidelityTests {
    /// A server on a fresh data directory; the caller keeps `dir` alive (its deinit removes it).
    static func start(_ dir: TemporaryDirectory) throws -> (ElanusProcess, RESTClient) {
        let server = ElanusProcess(dataDirectory: dir.file("data"))
        try server.start()
        return (server, RESTClient(port: server.port))
    }

    static func schema(_ name: String, _ schemaKeys: String, fields: String = "", extra: String = "") -> String {
        #"{"collectionName":"\#(name)","schema":{\#(schemaKeys)"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},{"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":2}}\#(fields)]}\#(extra)}"#
    }

    func ids(_ data: JSON?) -> [Int64] {
        guard case .array(let rows)? = data else { return [] }
        return rows.compactMap { if case .int(let i)? = $0["id"] { i } else { nil } }
    }

    @Test func schemaLevelAutoIDAppliesToThePrimaryField() throws {
        let dir = TemporaryDirectory()
        let (server, rest) = try Self.start(dir)
        defer { server.terminate() }
        // `autoId`, as Milvus's own REST tests spell it.
        #expect(try rest.call("collections/create", Self.schema("auto", #""autoId":true,"#, extra: #","indexParams":[{"fieldName":"v","metricType":"L2"}]"#)).code == 0)
        let d = try #require(try rest.call("collections/describe", #"{"collectionName":"auto"}"#).data)
        #expect(d["autoId"] == true)
        guard case .array(let fields)? = d["fields"] else { Issue.record("no fields"); return }
        #expect(fields.map { $0["autoId"] } == [true, false])
        let inserted = try rest.call("entities/insert", #"{"collectionName":"auto","data":[{"v":[1,0]},{"v":[0,1]}]}"#)
        #expect(inserted.code == 0 && inserted.data?["insertCount"] == 2, "\(inserted.body.serialized())")
        guard case .array(let keys)? = inserted.data?["insertIds"], keys.count == 2 else { Issue.record("\(inserted.body.serialized())"); return }
        let rows = try rest.call("entities/query", #"{"collectionName":"auto","filter":"id > 0","outputFields":["id"]}"#)
        #expect(rows.data == .array(keys.map { ["id": $0] }))

        // A field has no autoID key of its own in Milvus's REST schema: the schema's (false) counts.
        let fieldLevel = Self.schema("manual", "", extra: "").replacingOccurrences(of: #""isPrimary":true"#, with: #""isPrimary":true,"autoID":true"#)
        #expect(try rest.call("collections/create", fieldLevel).code == 0)
        #expect(try rest.call("collections/describe", #"{"collectionName":"manual"}"#).data?["autoId"] == false)
        let noKey = try rest.call("entities/insert", #"{"collectionName":"manual","data":[{"v":[1,0]}]}"#)
        #expect(noKey.code == 1804 && noKey.message.contains("fail to deal the insert data"), "\(noKey.body.serialized())")
    }

    @Test func structFieldKeysMatchAnyCaseAndTheLastOneWins() throws {
        let dir = TemporaryDirectory()
        let (server, rest) = try Self.start(dir)
        defer { server.terminate() }
        #expect(try rest.call("collections/create", #"{"CollectionName":"k","DIMENSION":2,"MetricType":"L2","AUTOID":false}"#).code == 0)
        #expect(try rest.call("collections/describe", #"{"collectionname":"k"}"#).data?["indexes"] == [["indexName": "vector", "fieldName": "vector", "metricType": "L2"]])
        #expect(try rest.call("databases/create", #"{"DBName":"other"}"#).code == 0)
        #expect(try rest.call("collections/create", #"{"collectionName":"k2","dbname":"other","dimension":2}"#).code == 0)
        #expect(try rest.call("collections/list", #"{"DbName":"other"}"#).data == ["k2"])
        // Go folds case by Unicode rules: the long s (U+017F) is an s.
        #expect(try rest.call("entities/insert", #"{"collectionName":"k","data":[{"id":1,"vector":[1,0],"tag":"a"},{"id":2,"vector":[0,1],"tag":"b"}]}"#).code == 0)
        #expect(try rest.call("entities/query", #"{"collectionName":"k","filter":"id == 2","outputFieldſ":["tag"]}"#).data == [["id": 2, "tag": "b"]])
        // Every key of a field counts, in order: the last string wins, and null changes nothing.
        let last = try rest.call("collections/describe", #"{"collectionName":"k","CollectionName":"missing"}"#)
        #expect(last.code == 100 && last.message.contains("[collection=missing]"), "\(last.body.serialized())")
        #expect(try rest.call("collections/describe", #"{"collectionName":"k","COLLECTIONNAME":null}"#).code == 0)
        let wrongType = try rest.call("collections/describe", #"{"collectionName":"k","collectionname":5}"#)
        #expect(wrongType.code == 1801 && wrongType.message.contains("CollectionNameReq.collectionName of type string"))
        // Struct fields in nested structs and slices of structs too.
        let nested = #"{"collectionName":"n","Schema":{"EnableDynamicField":true,"Fields":[{"FieldName":"id","DataType":"Int64","IsPrimary":true},{"fieldname":"v","datatype":"FloatVector","ElementTypeParams":{"dim":2}}]},"IndexParams":[{"FieldName":"v","MetricType":"IP"}]}"#
        #expect(try rest.call("collections/create", nested).code == 0)
        let n = try #require(try rest.call("collections/describe", #"{"collectionName":"n"}"#).data)
        #expect(n["enableDynamicField"] == true && n["load"] == "LoadStateLoaded")
        #expect(n["indexes"] == [["indexName": "v", "fieldName": "v", "metricType": "IP"]])
        // A repeated slice of structs merges element by element, as Go decodes it.
        let merged = Self.schema("m", "", extra: #","indexParams":[{"fieldName":"v","indexName":"first"}],"IndexParams":[{"metricType":"IP"}]"#)
        #expect(try rest.call("collections/create", merged).code == 0)
        #expect(try rest.call("collections/describe", #"{"collectionName":"m"}"#).data?["indexes"] == [["indexName": "first", "fieldName": "v", "metricType": "IP"]])
    }

    @Test func mapKeysAndRowFieldsStayExact() throws {
        let dir = TemporaryDirectory()
        let (server, rest) = try Self.start(dir)
        defer { server.terminate() }
        // `params` is a map: `EnableDynamicField` is not `enableDynamicField`.
        #expect(try rest.call("collections/create", #"{"collectionName":"m","dimension":2,"metricType":"L2","params":{"EnableDynamicField":false}}"#).code == 0)
        #expect(try rest.call("collections/describe", #"{"collectionName":"m"}"#).data?["enableDynamicField"] == true)
        #expect(try rest.call("collections/create", Self.schema("strict", "")).code == 0)
        #expect(try rest.call("indexes/create", #"{"collectionName":"strict","indexParams":[{"fieldName":"v","metricType":"L2"}]}"#).code == 0)
        #expect(try rest.call("collections/load", #"{"collectionName":"strict"}"#).code == 0)
        // Row keys are field names: `ID` is not `id`.
        let caseRow = try rest.call("entities/insert", #"{"collectionName":"strict","data":[{"ID":1,"v":[1,0]}]}"#)
        #expect(caseRow.code == 1804, "\(caseRow.body.serialized())")
        // Milvus reads `data` with gjson: the first key spelled exactly `data`.
        let twice = try rest.call("entities/insert", #"{"collectionName":"strict","data":[{"id":1,"v":[1,0]}],"data":[{"id":2,"v":[0,1]}],"Data":[{"id":3,"v":[0,1]}]}"#)
        #expect(twice.code == 0 && twice.data?["insertIds"] == [1], "\(twice.body.serialized())")
        #expect(try rest.call("entities/insert", #"{"collectionName":"strict","Data":[{"id":4,"v":[0,1]}]}"#).code == 1802)
        #expect(try rest.call("entities/insert", #"{"collectionName":"strict","data":[{"id":2,"v":[0,1]}]}"#).code == 0)
        // get's `id` must be set, but the keys are read from exactly `id`: `ID` alone asks for none.
        #expect(try rest.call("entities/get", #"{"collectionName":"strict","id":[1,2]}"#).data.map(ids) == [1, 2])
        #expect(try rest.call("entities/get", #"{"collectionName":"strict","ID":[1,2]}"#).data == [])
        #expect(try rest.call("entities/get", #"{"collectionName":"strict","id":[2],"Id":[1]}"#).data.map(ids) == [2])
        #expect(try rest.call("entities/get", #"{"collectionName":"strict"}"#).code == 1802)
        // exprParams and searchParams are maps.
        let placeholder = try rest.call("entities/query", #"{"collectionName":"strict","filter":"id in {ids}","exprParams":{"IDS":[1]}}"#)
        #expect(placeholder.code == 1100 && placeholder.message.contains("placeholder {ids} has no value"), "\(placeholder.body.serialized())")
        #expect(try rest.call("entities/query", #"{"collectionName":"strict","filter":"id in {ids}","ExprParams":{"ids":[1]}}"#).data.map(ids) == [1])
        let snake = try rest.call("entities/search", #"{"collectionName":"strict","data":[[1,0]],"searchParams":{"metric_type":"IP"}}"#)
        #expect(snake.code == 1100 && snake.message.contains("metric type not match"))
        #expect(try rest.call("entities/search", #"{"collectionName":"strict","data":[[1,0]],"searchParams":{"METRIC_TYPE":"IP"}}"#).code == 0)
        // Search vectors are read like insert rows: the first `data`.
        let search = try rest.call("entities/search", #"{"collectionName":"strict","data":[[1,0]],"data":[[0,1]],"limit":1}"#)
        #expect(ids(search.data) == [1], "\(search.body.serialized())")
    }

    @Test func theAuthorizationCheckReadsTheNamesTheHandlerReads() throws {
        let dir = TemporaryDirectory()
        let (server, rest) = try RBACTests.setUp(dir)
        defer { server.terminate() }
        let grant = #"{"roleName":"reader","privilege":"Query","dbName":"default","collectionName":"books"}"#
        #expect(try rest.call("roles/grant_privilege_v2", grant, headers: RBACTests.root).code == 0)
        let carol = RBACTests.carol
        #expect(try rest.call("entities/query", #"{"collectionName":"books","filter":"id > 0"}"#, headers: carol).code == 0)
        // The handler would read `films` (the last key that matches): so is the check.
        let smuggled = try rest.call("entities/query", #"{"collectionName":"books","CollectionName":"films","filter":"id > 0"}"#, headers: carol)
        #expect(RBACTests.denied(smuggled) && smuggled.message.contains("films"), "\(smuggled.body.serialized())")
        #expect(RBACTests.denied(try rest.call("entities/query", #"{"COLLECTIONNAME":"films","filter":"id > 0"}"#, headers: carol)))
        #expect(try rest.call("entities/query", #"{"collectionName":"films","collectionname":"books","filter":"id > 0"}"#, headers: carol).code == 0)
        #expect(try rest.call("entities/query", #"{"collectionName":"books","collectionName":null,"filter":"id > 0"}"#, headers: carol).code == 0)
    }

    @Test func paramsValuesAreReadAsMilvusReadsThem() throws {
        let dir = TemporaryDirectory()
        let (server, rest) = try Self.start(dir)
        defer { server.terminate() }
        var created = 0
        func dynamic(_ value: String) throws -> JSON? {
            created += 1
            let name = "d\(created)"
            let reply = try rest.call("collections/create", #"{"collectionName":"\#(name)","dimension":2,"params":{"enableDynamicField":\#(value)}}"#)
            guard reply.code == 0 else { return .string(reply.message) }
            return try rest.call("collections/describe", #"{"collectionName":"\#(name)"}"#).data?["enableDynamicField"]
        }
        // strconv.ParseBool's spellings, of the value printed with %v.
        for value in [#""1""#, #""t""#, #""T""#, #""TRUE""#, #""true""#, #""True""#, "true", "1", "1.0"] {
            #expect(try dynamic(value) == true, "\(value)")
        }
        for value in [#""0""#, #""f""#, #""F""#, #""FALSE""#, #""false""#, #""False""#, "false", "0"] {
            #expect(try dynamic(value) == false, "\(value)")
        }
        for (value, shown) in [(#""yes""#, "yes"), (#""tRuE""#, "tRuE"), ("null", "<nil>"), ("2", "2")] {
            let reply = try rest.call("collections/create", #"{"collectionName":"bad","dimension":2,"params":{"enableDynamicField":\#(value)}}"#)
            #expect(reply.code == 65535, "\(value): \(reply.body.serialized())")
            #expect(reply.message == #"parse enableDynamicField fail, err:strconv.ParseBool: parsing "\#(shown)": invalid syntax"#, "\(reply.message)")
        }
        // The schema's enableDynamicField is a strict boolean, and schema mode does not read the params one.
        let strict = try rest.call("collections/create", Self.schema("s1", #""enableDynamicField":"true","#))
        #expect(strict.code == 1801 && strict.message.contains("CollectionSchema.enableDynamicField of type bool"), "\(strict.body.serialized())")
        #expect(try rest.call("collections/create", Self.schema("s2", #""enableDynamicField":false,"#, extra: #","params":{"enableDynamicField":true}"#)).code == 0)
        #expect(try rest.call("collections/describe", #"{"collectionName":"s2"}"#).data?["enableDynamicField"] == false)

        // Numbers as numbers or strings; shardsNum that is not an integer keeps its default.
        #expect(try rest.call("collections/create", #"{"collectionName":"n1","dimension":2,"params":{"shardsNum":"2","ttlSeconds":60,"mmap.enabled":"T"}}"#).code == 0)
        let n1 = try #require(try rest.call("collections/describe", #"{"collectionName":"n1"}"#).data)
        #expect(n1["shardsNum"] == 2)
        #expect(n1["properties"] == [["key": "collection.ttl.seconds", "value": "60"], ["key": "mmap.enabled", "value": "true"], ["key": "timezone", "value": "UTC"]])
        #expect(try rest.call("collections/create", #"{"collectionName":"n2","dimension":2,"params":{"shardsNum":"two","ttlSeconds":"60"}}"#).code == 0)
        #expect(try rest.call("collections/describe", #"{"collectionName":"n2"}"#).data?["shardsNum"] == 1)
        // A JSON number is a float64 to Go, and %v prints 1000000 as 1e+06: not an integer TTL.
        let ttl = try rest.call("collections/create", #"{"collectionName":"n3","dimension":2,"params":{"ttlSeconds":1000000}}"#)
        #expect(ttl.code == 1100 && ttl.message.contains("collection TTL is not a valid positive integer"), "\(ttl.body.serialized())")
        #expect(try rest.call("collections/create", #"{"collectionName":"n3","dimension":2,"params":{"ttlSeconds":"1000000"}}"#).code == 0)
        #expect(try rest.call("collections/create", #"{"collectionName":"n4","dimension":2,"idType":"VarChar","params":{"max_length":64}}"#).code == 0)
        let isolation = try rest.call("collections/create", #"{"collectionName":"n5","dimension":2,"params":{"partitionKeyIsolation":"sometimes"}}"#)
        #expect(isolation.code == 1100 && isolation.message.contains("failed to parse partition key isolation"), "\(isolation.body.serialized())")
        // A consistencyLevel that is given must be one of the names, even empty.
        let level = try rest.call("collections/create", #"{"collectionName":"n6","dimension":2,"params":{"consistencyLevel":""}}"#)
        #expect(level.code == 1100 && level.message.contains("consistencyLevel can only be"), "\(level.body.serialized())")
    }

    @Test func describeListsEveryIndex() throws {
        let dir = TemporaryDirectory()
        let (server, rest) = try Self.start(dir)
        defer { server.terminate() }
        let create = Self.schema(
            "multi", "", fields: #",{"fieldName":"w","dataType":"FloatVector","elementTypeParams":{"dim":2}},{"fieldName":"n","dataType":"Int64"}"#,
            extra: #","indexParams":[{"fieldName":"v","metricType":"L2"},{"fieldName":"w","indexName":"w_ip","metricType":"IP","indexType":"FLAT"},{"fieldName":"n","indexType":"STL_SORT"}]"#)
        #expect(try rest.call("collections/create", create).code == 0)
        let indexes = try rest.call("collections/describe", #"{"collectionName":"multi"}"#).data?["indexes"]
        #expect(
            indexes == [
                ["indexName": "v", "fieldName": "v", "metricType": "L2"], ["indexName": "w_ip", "fieldName": "w", "metricType": "IP"],
                ["indexName": "n", "fieldName": "n", "metricType": ""],
            ])
    }

    @Test func queryLimitsAreMilvusLimits() throws {
        let dir = TemporaryDirectory()
        let (server, rest) = try Self.start(dir)
        defer { server.terminate() }
        #expect(try rest.call("collections/create", #"{"collectionName":"q","dimension":2}"#).code == 0)
        let rows = (0..<150).map { #"{"id":\#($0),"vector":[1,\#($0)]}"# }.joined(separator: ",")
        #expect(try rest.call("entities/insert", #"{"collectionName":"q","data":[\#(rows)]}"#).code == 0)
        func count(_ body: String) throws -> Int {
            let reply = try rest.call("entities/query", body)
            guard case .array(let items)? = reply.data else { Issue.record("\(body): \(reply.body.serialized())"); return -1 }
            return items.count
        }
        // No limit: 100. A limit of 0 (or less) with a filter: every match, and the offset is not read.
        #expect(try count(#"{"collectionName":"q","filter":"id >= 0"}"#) == 100)
        #expect(try count(#"{"collectionName":"q"}"#) == 100)
        #expect(try count(#"{"collectionName":"q","filter":"id >= 0","limit":0}"#) == 150)
        #expect(try count(#"{"collectionName":"q","filter":"id >= 0","limit":0,"offset":140}"#) == 150)
        #expect(try count(#"{"collectionName":"q","filter":"id >= 0","limit":-1}"#) == 150)
        #expect(try count(#"{"collectionName":"q","filter":"id >= 0","limit":120,"offset":100}"#) == 50)
        for body in [#"{"collectionName":"q","limit":0}"#, #"{"collectionName":"q","filter":"  ","limit":0}"#] {
            let reply = try rest.call("entities/query", body)
            #expect(reply.code == 1100 && reply.message == "empty expression should be used with limit: invalid parameter", "\(reply.body.serialized())")
        }
        #expect(try rest.call("entities/query", #"{"collectionName":"q","limit":0,"outputFields":["count(*)"]}"#).data == [["count(*)": 150]])
        let window = try rest.call("entities/query", #"{"collectionName":"q","filter":"id >= 0","limit":20000}"#)
        #expect(window.code == 65535 && window.message.contains("invalid max query result window, (offset+limit) should be in range [1, 16384], but got 20000"))
        // Keys Milvus's QueryReqV2 does not have are not read: `id` is not a get.
        #expect(try count(#"{"collectionName":"q","filter":"id < 5","id":[100,101]}"#) == 5)
        #expect(try count(#"{"collectionName":"q","filter":"id < 5","ID":100,"ids":[7]}"#) == 5)

        // Every match is still bounded by the output size: 1,800 rows of 60 KB are refused.
        #expect(try rest.call("collections/create", Self.schema("wide", "", fields: #",{"fieldName":"t","dataType":"VarChar","elementTypeParams":{"max_length":65535}}"#)).code == 0)
        #expect(try rest.call("indexes/create", #"{"collectionName":"wide","indexParams":[{"fieldName":"v","metricType":"L2","indexType":"FLAT"}]}"#).code == 0)
        #expect(try rest.call("collections/load", #"{"collectionName":"wide"}"#).code == 0)
        let text = String(repeating: "w", count: 60_000)
        for start in stride(from: 0, to: 1800, by: 200) {
            let batch = (start..<start + 200).map { #"{"id":\#($0),"v":[1,0],"t":"\#(text)"}"# }.joined(separator: ",")
            let inserted = try rest.call("entities/insert", #"{"collectionName":"wide","data":[\#(batch)]}"#)
            #expect(inserted.code == 0, "\(inserted.body.serialized())")
        }
        let all = try rest.call("entities/query", #"{"collectionName":"wide","filter":"id >= 0","limit":0,"outputFields":["t"]}"#)
        #expect(all.code == 65535 && all.message.contains("query results exceed the maxOutputSize Limit 104857600"), "\(all.body.serialized().prefix(300))")
        #expect(try count(#"{"collectionName":"wide","filter":"id >= 1790","limit":0,"outputFields":["t"]}"#) == 10)
    }

    @Test func analyzerParamsAreCheckedAtCreate() throws {
        let dir = TemporaryDirectory()
        let (server, rest) = try Self.start(dir)
        defer { server.terminate() }
        for (type, params, message) in [
            ("VarChar", #"{"max_length":64,"enable_match":"true"}"#, "field text is set to enable match but not enable analyzer"),
            ("VarChar", #"{"max_length":64,"enable_analyzer":true,"analyzer_params":{"tokenizer":"jieba"}}"#,
             "invalid analyzer params of field text: tokenizer jieba is not supported by Elanus yet"),
            ("VarChar", #"{"max_length":64,"enable_analyzer":true,"analyzer_params":{"type":"english","oops":1,"stop_words":"x"}}"#,
             "invalid analyzer params of field text: filter stop_words should be array"),
            ("VarChar", #"{"max_length":64,"multi_analyzer_params":{"by_field":"lang"}}"#, "multi_analyzer_params of field text is not supported by Elanus yet"),
            ("Int64", #"{"enable_analyzer":true}"#, "enable_analyzer, enable_match and analyzer_params are only valid for VarChar fields, field text is Int64"),
        ] {
            let reply = try rest.call("collections/create", Self.schema("t", "", fields: #",{"fieldName":"text","dataType":"\#(type)","elementTypeParams":\#(params)}"#))
            #expect(reply.code == 1100 && reply.message.hasPrefix(message), "\(reply.body.serialized())")
        }
        #expect(try rest.call("collections/has", #"{"collectionName":"t"}"#).data == ["has": false])
        // Turned off, they ask for nothing; turned on, the analyzer is kept with the field.
        let off = Self.schema("t", "", fields: #",{"fieldName":"text","dataType":"VarChar","elementTypeParams":{"max_length":64,"enable_analyzer":false,"enable_match":"False"}}"#)
        #expect(try rest.call("collections/create", off).code == 0)
        let on = Self.schema("u", "", fields: #",{"fieldName":"text","dataType":"VarChar","elementTypeParams":{"max_length":64,"enable_analyzer":true,"analyzer_params":{"type":"english"}}}"#)
        #expect(try rest.call("collections/create", on).code == 0)
        // An added field's analyzer is checked too.
        let added = try rest.call(
            "collections/fields/add",
            #"{"collectionName":"u","schema":{"fieldName":"more","dataType":"VarChar","nullable":true,"elementTypeParams":{"max_length":64,"enable_analyzer":true,"analyzer_params":{"tokenizer":"lindera"}}}}"#)
        #expect(added.code == 1100 && added.message.hasPrefix("invalid analyzer params of field more: tokenizer lindera is not supported"), "\(added.body.serialized())")
    }
}
