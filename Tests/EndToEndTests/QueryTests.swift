import ElanusCore
import ElanusTestSupport
import Testing

/// query, search and hybrid_search over HTTP against the real binary.
@Suite struct QueryTests {
    static let create = #"""
        {"collectionName":"q","schema":{"enableDynamicField":true,"fields":[
          {"fieldName":"id","dataType":"Int64","isPrimary":true},
          {"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":2}},
          {"fieldName":"w","dataType":"FloatVector","elementTypeParams":{"dim":2}},
          {"fieldName":"cat","dataType":"VarChar","elementTypeParams":{"max_length":8}},
          {"fieldName":"n","dataType":"Int64","nullable":true}]},
         "indexParams":[{"fieldName":"v","metricType":"L2"},{"fieldName":"w","metricType":"IP"}]}
        """#

    static func start() throws -> (ElanusProcess, RESTClient) {
        let dir = TemporaryDirectory()
        let server = ElanusProcess(dataDirectory: dir.file("data"))
        server.keepAlive(dir)
        try server.start()
        let rest = RESTClient(port: server.port)
        #expect(try rest.call("collections/create", create).code == 0)
        let rows = (0..<10).map { i in
            #"{"id":\#(i),"v":[\#(i),0],"w":[1,\#(i)],"cat":"\#(i % 2 == 0 ? "even" : "odd")","n":\#(i == 3 ? "null" : String(i * 10)),"tag":"t\#(i)"}"#
        }
        #expect(try rest.call("entities/insert", #"{"collectionName":"q","data":[\#(rows.joined(separator: ","))]}"#).code == 0)
        return (server, rest)
    }

    func ids(_ data: JSON?) -> [Int64] {
        guard case .array(let rows)? = data else { return [] }
        return rows.compactMap { if case .int(let i)? = $0["id"] { i } else { nil } }
    }

    @Test func queryFiltersCountsAndPages() throws {
        let (server, rest) = try Self.start()
        defer { server.terminate() }
        let odd = try rest.call("entities/query", #"{"collectionName":"q","filter":"cat == 'odd' and n > 10","outputFields":["n","tag"]}"#)
        #expect(ids(odd.data) == [5, 7, 9])
        if case .array(let rows)? = odd.data { #expect(rows.first == ["id": 5, "n": 50, "tag": "t5"]) }
        #expect(try rest.call("entities/query", #"{"collectionName":"q","filter":"n is null"}"#).data.map(ids) == [3])
        #expect(try rest.call("entities/query", #"{"collectionName":"q","filter":"tag in {tags}","exprParams":{"tags":["t1","t2"]}}"#).data.map(ids) == [1, 2])
        #expect(try rest.call("entities/query", #"{"collectionName":"q","filter":"id >= 0","limit":3,"offset":4}"#).data.map(ids) == [4, 5, 6])
        #expect(try rest.call("entities/query", #"{"collectionName":"q","filter":"id % 3 == 0","outputFields":["count(*)"]}"#).data == [["count(*)": 4]])
        #expect(try rest.call("entities/query", #"{"collectionName":"q","outputFields":["count(*)"]}"#).data == [["count(*)": 10]])
        #expect(try rest.call("entities/delete", #"{"collectionName":"q","filter":"cat like 'ev%'"}"#).data == ["deleteCount": 5])
        #expect(try rest.call("entities/query", #"{"collectionName":"q","filter":"","limit":100}"#).data.map(ids) == [1, 3, 5, 7, 9])
    }

    /// Every consistency level sees a write acknowledged just before it (Strong must; the others may).
    @Test func everyConsistencyLevelReadsItsOwnWrites() throws {
        let (server, rest) = try Self.start()
        defer { server.terminate() }
        for (i, level) in ["Strong", "Session", "Bounded", "Eventually", "Customized", ""].enumerated() {
            let id = 100 + i
            #expect(try rest.call("entities/insert", #"{"collectionName":"q","data":[{"id":\#(id),"v":[0.5,0.5],"w":[0.5,0.5],"cat":"new","n":1}]}"#).code == 0)
            let got = try rest.call("entities/query", #"{"collectionName":"q","filter":"id == \#(id)","consistencyLevel":"\#(level)"}"#)
            #expect(ids(got.data) == [Int64(id)], "\(level)")
            let hit = try rest.call("entities/search", #"{"collectionName":"q","annsField":"v","data":[[0.5,0.5]],"limit":1,"filter":"cat == 'new' and id == \#(id)","consistencyLevel":"\#(level)"}"#)
            #expect(ids(hit.data) == [Int64(id)], "\(level)")
        }
    }

    @Test func searchInEveryShape() throws {
        let (server, rest) = try Self.start()
        defer { server.terminate() }
        let two = try rest.call("entities/search", #"{"collectionName":"q","annsField":"v","data":[[2.2,0],[8.9,0]],"limit":2,"outputFields":["cat"]}"#)
        #expect(two.body["topks"] == [2, 2])
        #expect(ids(two.data) == [2, 3, 9, 8])
        if case .array(let rows)? = two.data {
            #expect(rows[0]["cat"] == "even")
            if case .double(let d)? = rows[0]["distance"] { #expect(abs(d - 0.04) < 1e-5) }
        }
        // IP on the other field (its index metric), with a filter and an offset.
        let ip = try rest.call("entities/search", #"{"collectionName":"q","annsField":"w","data":[[0,1]],"limit":2,"offset":1,"filter":"cat == \"even\""}"#)
        #expect(ids(ip.data) == [6, 4])
        // Range search keeps distances in [range_filter, radius).
        let range = try rest.call("entities/search", #"{"collectionName":"q","annsField":"v","data":[[0,0]],"limit":10,"searchParams":{"params":{"radius":10,"range_filter":1}}}"#)
        #expect(ids(range.data) == [1, 2, 3])
        // Grouping: the best hit of each category.
        let grouped = try rest.call("entities/search", #"{"collectionName":"q","annsField":"v","data":[[4.1,0]],"limit":2,"groupingField":"cat","groupSize":2}"#)
        #expect(ids(grouped.data) == [4, 6, 5, 3])
        // Search by stored vectors.
        let byID = try rest.call("entities/search", #"{"collectionName":"q","annsField":"v","ids":[7],"limit":1}"#)
        #expect(ids(byID.data) == [7])
        // Hybrid: rrf over two fields; weighted favouring one of them.
        let rrf = try rest.call("entities/hybrid_search", #"{"collectionName":"q","search":[{"annsField":"v","data":[[0,0]],"limit":3},{"annsField":"w","data":[[0,1]],"limit":3}],"rerank":{"strategy":"rrf","params":{"k":60}},"limit":2}"#)
        #expect(rrf.body["topks"] == [2])
        #expect(Set(ids(rrf.data)).isSubset(of: [0, 1, 2, 7, 8, 9]))
        let weighted = try rest.call("entities/hybrid_search", #"{"collectionName":"q","search":[{"annsField":"v","data":[[0,0]],"limit":3},{"annsField":"w","data":[[0,1]],"limit":3}],"rerank":{"strategy":"weighted","params":{"weights":[1,0]}},"limit":3}"#)
        #expect(ids(weighted.data) == [0, 1, 2])
    }

    static let errors: [ErrorPathTests.Case] = [
        .init(route: "entities/query", body: #"{"collectionName":"q","filter":"n >"}"#, code: 1100, fragment: "failed to create query plan: cannot parse expression: n >"),
        .init(route: "entities/query", body: #"{"collectionName":"q","filter":"cat > 5"}"#, code: 1100, fragment: "cannot compare a VarChar field with an integer"),
        .init(route: "entities/query", body: #"{"collectionName":"q","filter":"v == 1"}"#, code: 1100, fragment: "filtering on the vector field v is not supported"),
        .init(route: "entities/query", body: #"{"collectionName":"q","filter":"id in {x}"}"#, code: 1100, fragment: "placeholder {x} has no value"),
        .init(route: "entities/query", body: #"{"collectionName":"q","filter":"id > 0","limit":16000,"offset":1000}"#, code: 65535, fragment: "invalid max query result window"),
        .init(route: "entities/query", body: #"{"collectionName":"q","filter":"id > 0","consistencyLevel":"Sometimes"}"#, code: 1100, fragment: "consistencyLevel can only be"),
        .init(route: "entities/query", body: #"{"collectionName":"missing","filter":"id > 0"}"#, code: 100, fragment: "can't find collection"),
        .init(route: "entities/query", body: #"{"collectionName":"q","partitionNames":["nope"]}"#, code: 200, fragment: "partition not found"),
        .init(route: "entities/search", body: #"{"collectionName":"q","annsField":"v","data":[[1,2,3]]}"#, code: 1801, fragment: "dimension: 2, but length of []float: 3"),
        .init(route: "entities/search", body: #"{"collectionName":"q","data":[[1,2]]}"#, code: 1801, fragment: "search without annsField, but already found multiple vector fields"),
        .init(route: "entities/search", body: #"{"collectionName":"q","annsField":"v"}"#, code: 1802, fragment: "missing required parameters"),
        .init(route: "entities/search", body: #"{"collectionName":"q","annsField":"v","data":[[1,2]],"ids":[1]}"#, code: 1100, fragment: "ids and data cannot be given together"),
        .init(route: "entities/search", body: #"{"collectionName":"q","annsField":"v","data":[[1,2]],"limit":20000}"#, code: 65535, fragment: "invalid limit"),
        .init(
            route: "entities/search", body: #"{"collectionName":"q","annsField":"v","data":[\#(Array(repeating: "[1,2]", count: 16385).joined(separator: ","))]}"#,
            code: 1100, fragment: "nq (number of search vector per search request) should be in range [1, 16384], but got 16385"),
        .init(route: "entities/search", body: #"{"collectionName":"q","annsField":"nope","data":[[1,2]]}"#, code: 1700, fragment: "annsField nope is not in the schema"),
        .init(route: "entities/search", body: #"{"collectionName":"q","annsField":"v","data":[[1,2]],"filter":"nosuch(1)"}"#, code: 1100, fragment: "unknown function nosuch"),
        .init(route: "entities/search", body: #"{"collectionName":"q","annsField":"v","data":[[1,2]],"searchParams":{"metric_type":"IP"}}"#, code: 1100, fragment: "metric type not match"),
        .init(route: "entities/search", body: #"{"collectionName":"q","annsField":"v","data":[[1,2]],"searchParams":{"radius":1,"params":{"radius":2}}}"#, code: 1100, fragment: "ambiguous parameter"),
        .init(route: "entities/hybrid_search", body: #"{"collectionName":"q","search":[{"annsField":"v","data":[[1,2]]}],"rerank":{"strategy":"weighted","params":{"weights":[1,2]}}}"#, code: 1100, fragment: "2 weights for 1 searches"),
        .init(route: "entities/hybrid_search", body: #"{"collectionName":"q"}"#, code: 1802, fragment: "'HybridSearchReq.Search'"),
    ]

    @Test func everyReadErrorHasItsCode() throws {
        let (server, rest) = try Self.start()
        defer { server.terminate() }
        for c in Self.errors {
            let reply = try rest.call(c.route, c.body)
            #expect(reply.code == c.code, "\(c): \(reply.body.serialized())")
            #expect(reply.message.contains(c.fragment), "\(c): \(reply.message)")
        }
        // A partition created in a loaded collection is loaded; once released it cannot be read.
        #expect(try rest.call("partitions/create", #"{"collectionName":"q","partitionName":"p"}"#).code == 0)
        #expect(try rest.call("partitions/release", #"{"collectionName":"q","partitionNames":["p"]}"#).code == 0)
        let released = try rest.call("entities/query", #"{"collectionName":"q","partitionNames":["p"],"filter":"id > 0"}"#)
        #expect(released.code == 201 && released.message.contains("partition not loaded[partition=p]"), "\(released.body.serialized())")
        #expect(try rest.call("collections/release", #"{"collectionName":"q"}"#).code == 0)
        for body in [#"{"collectionName":"q","filter":"id > 0"}"#, #"{"collectionName":"q","outputFields":["count(*)"]}"#] {
            let unloaded = try rest.call("entities/query", body)
            #expect(unloaded.code == 101 && unloaded.message.contains("collection not loaded"), "\(body)")
        }
    }
}
