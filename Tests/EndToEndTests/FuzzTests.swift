import ElanusCore
import ElanusHTTP
import ElanusServer
import ElanusTestSupport
import Foundation
import Testing

/// A bounded fuzz run against the real binary: random JSON on every route, mutated valid
/// requests, random and near-valid filter expressions, and raw garbage on the socket. Every
/// request must be answered (no hang) with a well-formed reply, the process must not crash, and
/// a collection the fuzzer never names must keep its rows, before and after a restart.
///
/// The seed is fixed for reproducibility; `ELANUS_FUZZ_SEED` and `ELANUS_FUZZ_SECONDS` widen a run.
@Suite struct FuzzTests {
    static let schema = #"""
        {"collectionName":"fz","schema":{"enableDynamicField":true,"fields":[
          {"fieldName":"id","dataType":"Int64","isPrimary":true},
          {"fieldName":"vector","dataType":"FloatVector","elementTypeParams":{"dim":4}},
          {"fieldName":"tag","dataType":"VarChar","elementTypeParams":{"max_length":16},"nullable":true},
          {"fieldName":"n","dataType":"Int64","nullable":true},
          {"fieldName":"x","dataType":"Double"},
          {"fieldName":"meta","dataType":"JSON","nullable":true},
          {"fieldName":"arr","dataType":"Array","elementDataType":"Int64","elementTypeParams":{"max_capacity":4}}]},
         "indexParams":[{"fieldName":"vector","indexName":"vector","metricType":"L2"}]}
        """#

    @Test func fuzzedRequestsNeitherCrashNorHangNorCorrupt() throws {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["ELANUS_FUZZ_SEED"].flatMap(UInt64.init) ?? 20_261_121
        let seconds = environment["ELANUS_FUZZ_SECONDS"].flatMap(Double.init) ?? 12
        let dir = TemporaryDirectory()
        let server = ElanusProcess(dataDirectory: dir.file("data"), arguments: ["--log-level", "info"])
        try server.start()
        defer { server.terminate() }
        let rest = RESTClient(port: server.port)

        // The control collection, which no fuzzed request names.
        #expect(try rest.call("collections/create", #"{"collectionName":"keep","dimension":4}"#).code == 0)
        let keepRows = (0..<200).map { #"{"id":\#($0),"vector":[\#($0),1,2,3]}"# }.joined(separator: ",")
        #expect(try rest.call("entities/insert", #"{"collectionName":"keep","data":[\#(keepRows)]}"#).code == 0)
        #expect(try rest.call("collections/create", Self.schema).code == 0)
        let fzRows = (0..<300).map { i in
            let tag = i % 7 == 0 ? "null" : "\"t\(i % 5)\""
            return #"{"id":\#(i),"vector":[\#(i % 9),\#(i % 4),1,0.5],"tag":\#(tag),"n":\#(i % 11 == 0 ? "null" : String(i - 150)),"x":\#(Double(i) / 7),"meta":{"k":\#(i % 3),"s":"v\#(i % 2)"},"arr":[\#(i % 4),\#(i)],"extra":\#(i)}"#
        }.joined(separator: ",")
        let seeded = try rest.call("entities/insert", #"{"collectionName":"fz","data":[\#(fzRows)]}"#)
        #expect(seeded.code == 0, "\(seeded.body.serialized())")

        var fuzzer = RequestFuzzer(seed: seed)
        // Routes that would take `fz` away (drop, rename, release) are left out, so that the
        // expressions keep reaching the evaluator; ErrorPathTests and the lifecycle tests cover them.
        let removing = ["collections/drop", "collections/rename", "collections/release", "partitions/release", "partitions/drop"]
        let routes = (try RESTHandler(slot: EngineSlot()).implementedRoutes + RESTHandler.plannedRoutes.sorted()).filter { !removing.contains($0) }
        let deadline = Date().addingTimeInterval(seconds)
        var sent = 0
        var statuses: [Int: Int] = [:]
        var codes: [Int64: Int] = [:]
        while Date() < deadline && sent < 20_000 {
            sent += 1
            let client = HTTPClient(port: server.port, timeoutMs: 10_000)
            let (route, bytes) = fuzzer.request(routes: routes)
            let response: HTTPClient.Response
            do {
                if let route {
                    response = try client.request("POST", "/v2/vectordb/" + route, headers: [("Content-Type", "application/json")], body: bytes)
                } else {
                    // Hit and run: the server must cope with the bytes and the abrupt close
                    // (HTTPServerTests reads the answers to such requests).
                    try client.sendRaw(bytes)
                    client.close()
                    continue
                }
            } catch {
                Issue.record("request \(sent) (seed \(seed)) got no answer: \(error); route \(route ?? "raw"), body \(String(decoding: bytes.prefix(300), as: UTF8.self))")
                break
            }
            statuses[response.status, default: 0] += 1
            if response.status == 200 {
                let json = try? JSON.parse(response.body)
                #expect(json?["code"] != nil, "\(route!): \(response.text.prefix(300))")
                if case .int(let code)? = json?["code"] {
                    codes[code, default: 0] += 1
                    if code == 65535 { print("fuzz: 65535 from \(route!): \(response.text.prefix(300))") }
                }
            }
            #expect(response.status != 500, "\(route!) answered 500 to \(String(decoding: bytes.prefix(300), as: UTF8.self))")
        }
        #expect(sent > 300, "only \(sent) requests in \(seconds) s")
        print("fuzz: seed \(seed), \(sent) requests, statuses \(statuses.sorted { $0.key < $1.key }), codes \(codes.sorted { $0.key < $1.key })")
        // The run reached the engine: many requests succeeded, many were refused as bad input.
        #expect(codes[0, default: 0] > sent / 10 && codes[1100, default: 0] > sent / 20, "\(codes)")

        // Alive, and the control collection is intact, before and after a restart.
        #expect(try server.client().request("GET", "/health").status == 200)
        let count = #"{"collectionName":"keep","filter":"","outputFields":["count(*)"]}"#
        #expect(try rest.call("entities/query", count).data == [["count(*)": 200]])
        #expect(server.terminate() == 0)
        try server.start()
        #expect(try rest.call("entities/query", count).data == [["count(*)": 200]])
        let fz = try rest.call("entities/query", #"{"collectionName":"fz","filter":"id >= 0","outputFields":["count(*)"]}"#)
        #expect(fz.code == 0 || fz.code == 101, "\(fz.body.serialized())")
    }
}

/// Generates the fuzzed requests: a route (nil for raw socket bytes) and a body.
struct RequestFuzzer {
    var rng: SeededGenerator

    init(seed: UInt64) { rng = SeededGenerator(seed: seed) }

    static let keys = [
        "collectionName", "dbName", "data", "filter", "limit", "offset", "outputFields", "annsField", "searchParams",
        "partitionName", "partitionNames", "indexParams", "schema", "dimension", "id", "ids", "userName", "roleName",
        "password", "privilege", "metricType", "params", "consistencyLevel", "groupingField", "search", "rerank", "jobID",
    ]
    static let fields = ["id", "vector", "tag", "n", "x", "meta", "arr", "extra", "nope", "meta[\"k\"]", "meta[\"s\"]", "arr[0]", "$meta[\"extra\"]"]

    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &rng)] }

    mutating func request(routes: [String]) -> (String?, [UInt8]) {
        switch Int.random(in: 0..<10, using: &rng) {
        case 0...2: return (pick(routes), Array(randomJSON(depth: 0).serialized().utf8))
        case 3...4: return mutated()
        case 5...8: return expressionRequest()
        default: return (nil, garbage())
        }
    }

    /// Random JSON whose keys are mostly ones the routes read, and whose collection is `fz` or junk.
    mutating func randomJSON(depth: Int) -> JSON {
        let roll = Int.random(in: 0..<(depth > 3 ? 6 : 9), using: &rng)
        switch roll {
        case 0: return .null
        case 1: return .bool(chance(0.5))
        case 2: return .int(pick([0, -1, 1, 16384, 16385, Int64.max, Int64.min, Int64.random(in: -1000...1000, using: &rng)]))
        case 3: return .double(pick([0.5, -1e308, 1e308, Double.random(in: -10...10, using: &rng)]))
        case 4: return .string(pick(["fz", "", "vector", "id", "*", "default", "\u{0}", String(repeating: "a", count: 300), "L2", "HNSW", "é"]))
        case 5: return .string(randomExpression(depth: 0))
        case 6, 7:
            var members: [(key: String, value: JSON)] = []
            if chance(0.7) { members.append((key: "collectionName", value: "fz")) }
            for _ in 0..<Int.random(in: 0...5, using: &rng) { members.append((key: pick(Self.keys), value: randomJSON(depth: depth + 1))) }
            return .object(members)
        default:
            return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in randomJSON(depth: depth + 1) })
        }
    }

    /// A valid request with bytes flipped, inserted, deleted or cut off.
    mutating func mutated() -> (String?, [UInt8]) {
        let templates: [(String, String)] = [
            ("entities/insert", #"{"collectionName":"fz","data":[{"id":1000,"vector":[1,2,3,4],"tag":"a","n":5,"x":1.5,"meta":{"k":1},"arr":[1,2]}]}"#),
            ("entities/upsert", #"{"collectionName":"fz","data":[{"id":7,"vector":[1,2,3,4],"tag":null,"n":null,"x":0,"meta":null,"arr":[]}]}"#),
            ("entities/search", #"{"collectionName":"fz","data":[[1,2,3,4]],"limit":5,"filter":"n > 0","outputFields":["*"],"searchParams":{"params":{"ef":16}}}"#),
            ("entities/query", #"{"collectionName":"fz","filter":"tag in [\"t1\",\"t2\"] and meta[\"k\"] == 1","limit":10,"outputFields":["tag","arr"]}"#),
            ("entities/get", #"{"collectionName":"fz","id":[1,2,3],"outputFields":["vector"]}"#),
            ("entities/delete", #"{"collectionName":"fz","filter":"id in [290, 291]"}"#),
            ("entities/hybrid_search", #"{"collectionName":"fz","search":[{"data":[[1,2,3,4]],"annsField":"vector","limit":3}],"rerank":{"strategy":"rrf","params":{"k":10}},"limit":3}"#),
            ("collections/create", #"{"collectionName":"fz2","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},{"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":2}}]}}"#),
            ("indexes/create", #"{"collectionName":"fz","indexParams":[{"fieldName":"n","indexName":"n_idx","indexType":"STL_SORT"}]}"#),
        ]
        let (route, text) = pick(templates)
        var bytes = Array(text.utf8)
        for _ in 0..<Int.random(in: 1...6, using: &rng) where !bytes.isEmpty {
            let at = Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: bytes[at] = UInt8.random(in: 0...255, using: &rng)
            case 1: bytes.insert(pick(Array("{}[]\",:0-9.eE\\ntfu".utf8)), at: at)
            case 2: bytes.remove(at: at)
            default: bytes = Array(bytes.prefix(at))
            }
        }
        return (route, bytes)
    }

    /// A query, search, count or delete on `fz` with a random filter.
    mutating func expressionRequest() -> (String?, [UInt8]) {
        let filter = chance(0.2) ? tokenSoup() : randomExpression(depth: 0)
        let escaped = JSON.string(filter).serialized()
        let body: String
        let route: String
        switch Int.random(in: 0..<4, using: &rng) {
        case 0:
            route = "entities/query"
            body = #"{"collectionName":"fz","filter":\#(escaped),"limit":5,"outputFields":["*"]}"#
        case 1:
            route = "entities/search"
            body = #"{"collectionName":"fz","data":[[1,0,1,0]],"filter":\#(escaped),"limit":4}"#
        case 2:
            route = "entities/query"
            body = #"{"collectionName":"fz","filter":\#(escaped),"outputFields":["count(*)"]}"#
        default:
            route = "entities/delete"
            body = #"{"collectionName":"fz","filter":\#(escaped)}"#
        }
        return (route, Array(body.utf8))
    }

    mutating func literal() -> String {
        pick([
            "0", "1", "-1", "7", "9223372036854775807", "-9223372036854775808", "99999999999999999999", "0.5", "-2.5e3", "1e308",
            "\"t1\"", "\"\"", "\"it's\"", "'single'", "\"\\u00e9\"", "\"%\"", "\"t%\"", "true", "false", "[1,2]", "[]", "[\"t1\",3]",
        ])
    }

    mutating func operand(depth: Int) -> String {
        switch Int.random(in: 0..<(depth > 2 ? 2 : 4), using: &rng) {
        case 0: return pick(Self.fields)
        case 1: return literal()
        case 2: return pick(["+", "-", "*", "/", "%", "**"]).withOperands(operand(depth: depth + 1), operand(depth: depth + 1))
        default:
            let f = pick(["array_length", "json_contains", "array_contains", "json_contains_all", "array_contains_any", "exists", "nope"])
            return "\(f)(\(pick(Self.fields)), \(literal()))"
        }
    }

    mutating func randomExpression(depth: Int) -> String {
        if depth > 4 { return "\(pick(Self.fields)) \(pick(["==", "<", ">="])) \(literal())" }
        switch Int.random(in: 0..<9, using: &rng) {
        case 0: return "(\(randomExpression(depth: depth + 1))) \(pick(["and", "or", "&&", "||", "AND"])) (\(randomExpression(depth: depth + 1)))"
        case 1: return "\(pick(["not", "!", "NOT"])) (\(randomExpression(depth: depth + 1)))"
        case 2: return "\(pick(Self.fields)) \(pick(["in", "not in"])) \(pick(["[1,2,3]", "[\"t1\"]", "[]", "[1,\"a\"]", "1"]))"
        case 3: return "\(pick(Self.fields)) \(pick(["like", "LIKE"])) \(pick(["\"t%\"", "\"%1\"", "\"_\"", "\"\"", "\"%%%\"", "3"]))"
        case 4: return "\(pick(Self.fields)) is \(pick(["null", "not null", "NULL", "true"]))"
        case 5: return "\(literal()) \(pick(["<", "<="])) \(pick(Self.fields)) \(pick(["<", "<="])) \(literal())"
        case 6: return pick(["", " ", "true", "false", "id", "1", "(", ")", "id ==", "== 1", "((((id > 1))))"])
        default: return "\(operand(depth: depth)) \(pick(["==", "!=", "<", "<=", ">", ">=", "<>", "="])) \(operand(depth: depth))"
        }
    }

    /// Tokens in random order: mostly syntax errors, which must be reported, not crash.
    mutating func tokenSoup() -> String {
        let tokens = ["id", "tag", "meta", "[", "]", "(", ")", "\"k\"", ",", "and", "or", "not", "in", "like", "is", "null", "==", "<",
            "+", "-", "**", "%", "/", "0", "1e999", "-9223372036854775808", "\"", "'", "\\", "$meta", "json_contains", "{", "}", "#"]
        return (0..<Int.random(in: 1...12, using: &rng)).map { _ in pick(tokens) }.joined(separator: pick([" ", ""]))
    }

    /// Raw bytes on the socket: random, or an HTTP head with hostile framing.
    mutating func garbage() -> [UInt8] {
        if chance(0.5) { return (0..<Int.random(in: 1...200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) } }
        return Array(pick([
            "POST /v2/vectordb/entities/query HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
            "POST /v2/vectordb/entities/query HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
            "POST /v2/vectordb/entities/query HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "POST /v2/vectordb/entities/query HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
            "GET /../../etc/passwd HTTP/1.1\r\n\r\n",
            "POST /v2/vectordb/%00 HTTP/1.0\r\n\r\n",
        ]).utf8)
    }
}

extension String {
    fileprivate func withOperands(_ a: String, _ b: String) -> String { "(\(a) \(self) \(b))" }
}
