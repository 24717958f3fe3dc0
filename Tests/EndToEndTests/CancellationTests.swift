import ElanusCore
import ElanusHTTP
import ElanusTestSupport
import Foundation
import Testing

/// Expensive `like` queries against the real binary: clients that send them and hang up do not
/// hold the server's handler threads (another client's trivial query answers at once), and a
/// query past its deadline is stopped with Milvus's timeout error. /metrics and the log show both.
@Suite(.serialized) struct RequestCancellationTests {
    static let rows = 1000
    static let textBytes = 8000

    /// A collection of `rows` rows, each with `textBytes` bytes of text.
    static func start(_ dir: TemporaryDirectory, environment: [String: String] = [:]) throws -> (ElanusProcess, RESTClient) {
        let server = ElanusProcess(dataDirectory: dir.file("data"), environment: environment)
        try server.start()
        let rest = RESTClient(port: server.port)
        let create = #"""
            {"collectionName":"t","schema":{"fields":[
              {"fieldName":"id","dataType":"Int64","isPrimary":true},
              {"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":2}},
              {"fieldName":"text","dataType":"VarChar","elementTypeParams":{"max_length":65535}}]},
             "indexParams":[{"fieldName":"v","metricType":"L2"}]}
            """#
        #expect(try rest.call("collections/create", create).code == 0)
        let text = String(repeating: "a", count: textBytes)
        for first in stride(from: 0, to: rows, by: 100) {
            let data = (first..<first + 100).map { #"{"id":\#($0),"v":[\#($0),1],"text":"\#(text)"}"# }.joined(separator: ",")
            #expect(try rest.call("entities/insert", #"{"collectionName":"t","data":[\#(data)]}"#).code == 0)
        }
        return (server, rest)
    }

    /// 16 patterns of 4,095 bytes (the filter's like bytes stay under 64 KiB), each one run of
    /// a and `_` that never matches the text: every row is read whole, 64 words of matcher state
    /// per byte, 16 times. Many seconds of work in a debug build.
    static let expensiveQuery: String = {
        let pattern = "%" + String(repeating: "a_", count: 2046) + "b%"
        let filter = (0..<16).map { "text like {p\($0)}" }.joined(separator: " or ")
        let params = (0..<16).map { #""p\#($0)":"\#(pattern)""# }.joined(separator: ",")
        return #"{"collectionName":"t","filter":"\#(filter)","exprParams":{\#(params)},"outputFields":["count(*)"]}"#
    }()

    static func request(_ body: String, headers: String = "") -> [UInt8] {
        Array("POST /v2/vectordb/entities/query HTTP/1.1\r\nContent-Type: application/json\r\n\(headers)Content-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
    }

    @Test func clientsThatHangUpDoNotHoldTheServer() throws {
        let dir = TemporaryDirectory()
        let (server, rest) = try Self.start(dir)
        defer { server.terminate() }
        // More abandoned queries than the server has handler threads (4 on a small machine).
        // (A close, not a reset: a reset would discard the request before the server reads it.)
        for _ in 0..<8 {
            let client = HTTPClient(port: server.port)
            try client.sendRaw(Self.request(Self.expensiveQuery))
            client.close()
        }
        for round in 0..<10 {
            let start = Date()
            let reply = try rest.call("entities/query", #"{"collectionName":"t","filter":"id == 7","outputFields":["id"]}"#)
            let elapsed = Date().timeIntervalSince(start)
            #expect(reply.code == 0 && reply.data == [["id": 7]], "round \(round): \(reply.body)")
            #expect(elapsed < 2, "round \(round): a trivial query took \(elapsed) s behind 8 abandoned ones")
        }
        // Every abandoned query was stopped, not run to its end: /metrics counts them, the log says so.
        var cancelled = 0.0
        let give = Date().addingTimeInterval(10)
        repeat {
            let page = try #require(try MetricsTests.scrape(server).page)
            cancelled = page.value("elanus_requests_cancelled_total", ["reason": "client_closed"])
            if cancelled < 8 { usleep(50_000) }
        } while cancelled < 8 && Date() < give
        #expect(cancelled == 8)
        let page = try #require(try MetricsTests.scrape(server).page)
        #expect(page.value("elanus_requests_total", ["route": "entities/query", "code": "10000"]) == 8)
        #expect(server.log().contains("client hung up: its request is cancelled"))
    }

    @Test func aQueryPastItsDeadlineIsStoppedWithATimeoutError() throws {
        let dir = TemporaryDirectory()
        let (server, rest) = try Self.start(dir, environment: ["ELANUS_SERVER_QUERY_TIMEOUT_SECONDS": "1"])
        defer { server.terminate() }
        var start = Date()
        let reply = try rest.call("entities/query", Self.expensiveQuery)
        #expect(reply.status == 408)
        #expect(reply.code == 10001)
        #expect(reply.message == "request timeout: the request was stopped at its time limit of 1.0 s")
        #expect(Date().timeIntervalSince(start) < 10, "stopped near its deadline, not at the end of its work")

        // Milvus's Request-Timeout header brings the deadline forward, never back.
        let (relaxed, relaxedRest) = try Self.start(TemporaryDirectory())
        defer { relaxed.terminate() }
        start = Date()
        let shortened = try relaxedRest.call("entities/query", Self.expensiveQuery, headers: [("Request-Timeout", "1")])
        #expect(shortened.status == 408 && shortened.code == 10001, "\(shortened.body)")
        #expect(Date().timeIntervalSince(start) < 10)
        let invalid = try relaxedRest.call("entities/query", #"{"collectionName":"t","filter":"id == 1"}"#, headers: [("Request-Timeout", "soon")])
        #expect(invalid.code == 1100 && invalid.message.contains("Request-Timeout"), "\(invalid.body)")
        #expect(try rest.call("entities/query", Self.expensiveQuery, headers: [("Request-Timeout", "60")]).code == 10001)

        // The server answers as before, and counts what it stopped.
        #expect(try rest.call("entities/query", #"{"collectionName":"t","filter":"id == 3","outputFields":["id"]}"#).data == [["id": 3]])
        let page = try #require(try MetricsTests.scrape(server).page)
        #expect(page.value("elanus_requests_cancelled_total", ["reason": "deadline"]) == 2)
        #expect(page.value("elanus_requests_total", ["route": "entities/query", "code": "10001"]) == 2)
    }
}
