import ElanusCore
import ElanusTestSupport
import Foundation
import Testing

/// Single requests that used to kill the server (issue 20): each is answered with Milvus's code
/// and a message, and the server keeps serving, also after a restart.
@Suite struct HostileRequestTests {
    static func start(_ dir: TemporaryDirectory) throws -> (ElanusProcess, RESTClient) {
        let server = ElanusProcess(dataDirectory: dir.file("data"))
        try server.start()
        let rest = RESTClient(port: server.port)
        #expect(try rest.call("collections/create", #"{"collectionName":"h","dimension":2}"#).code == 0)
        #expect(try rest.call("entities/insert", #"{"collectionName":"h","data":[{"id":1,"vector":[1,0]},{"id":2,"vector":[0,1]}]}"#).code == 0)
        return (server, rest)
    }

    /// Item 4: an offset near 2^63 overflowed `limit + offset`.
    @Test func hugeOffsetsAndLimitsAreRefusedNotFatal() throws {
        let dir = TemporaryDirectory()
        let (server, rest) = try Self.start(dir)
        defer { server.terminate() }
        let bodies = [
            ("entities/query", #"{"collectionName":"h","filter":"id > 0","limit":10,"offset":9223372036854775800}"#),
            ("entities/query", #"{"collectionName":"h","filter":"id > 0","limit":9223372036854775807,"offset":9223372036854775807}"#),
            ("entities/query", #"{"collectionName":"h","filter":"id > 0","limit":10,"offset":-9223372036854775808}"#),
            ("entities/search", #"{"collectionName":"h","data":[[1,0]],"limit":10,"offset":9223372036854775800}"#),
            ("entities/hybrid_search", #"{"collectionName":"h","search":[{"data":[[1,0]],"annsField":"vector","limit":5}],"limit":3,"offset":9223372036854775807}"#),
        ]
        for (route, body) in bodies {
            let reply = try rest.call(route, body)
            #expect(reply.code == 65535, "\(route) \(body): \(reply.body.serialized())")
            #expect(reply.message.contains("invalid max query result window") || reply.message.contains("invalid limit"), "\(reply.message)")
        }
        #expect(try rest.call("entities/query", #"{"collectionName":"h","filter":"id > 0","limit":1,"offset":1}"#).code == 0)
        // The caller's mistake is not logged as a server failure.
        let failures = server.log().split(separator: "\n").filter { $0.contains(" error elanus.rest") && $0.contains("request failed") }
        #expect(failures.isEmpty, "\(failures.prefix(2))")
    }

    /// Item 5: a TTL of Int64.max was accepted, then `ttl * 1000` trapped at every flush round
    /// and at every start. Milvus 2.6 bounds it to [-1, 100 years]; the expiry arithmetic is
    /// checked too, for values stored before the bound.
    @Test func outOfRangeTTLsAreRefusedAndTheLongestOneExpiresNothing() throws {
        let dir = TemporaryDirectory()
        var (server, rest) = try Self.start(dir)
        for ttl in ["9223372036854775807", "3155760001", "-2"] {
            let reply = try rest.call("collections/alter_properties", #"{"collectionName":"h","properties":{"collection.ttl.seconds":"\#(ttl)"}}"#)
            #expect(reply.code == 1100 && reply.message.contains("collection TTL is out of range, expect [-1, 3155760000]"), "\(reply.body.serialized())")
        }
        let word = try rest.call("collections/alter_properties", #"{"collectionName":"h","properties":{"collection.ttl.seconds":"soon"}}"#)
        #expect(word.code == 1100 && word.message.contains("not a valid positive integer"))
        #expect(try rest.call("collections/alter_properties", #"{"collectionName":"h","properties":{"collection.ttl.seconds":"3155760000"}}"#).code == 0)
        #expect(try rest.call("entities/insert", #"{"collectionName":"h","data":[{"id":3,"vector":[1,1]}]}"#).code == 0)
        #expect(try rest.call("collections/flush", #"{"collectionName":"h"}"#).code == 0)
        // Flush rounds run every second: give one the chance to run the expiry.
        usleep(1_500_000)
        #expect(server.isRunning)
        server.kill()
        server = ElanusProcess(dataDirectory: dir.file("data"))
        try server.start()
        defer { server.terminate() }
        rest = RESTClient(port: server.port)
        let count = try rest.call("entities/query", #"{"collectionName":"h","filter":"","outputFields":["count(*)"]}"#)
        #expect(count.data == [["count(*)": 3]])
    }

    /// Index names follow Milvus's naming rule (a NUL byte was accepted).
    @Test func indexNamesAreChecked() throws {
        let dir = TemporaryDirectory()
        let (server, rest) = try Self.start(dir)
        defer { server.terminate() }
        #expect(try rest.call("collections/create", #"{"collectionName":"n","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},{"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":2}}]}}"#).code == 0)
        for name in [#"a\u0000b"#, "1abc", "a-b", String(repeating: "x", count: 256)] {
            let reply = try rest.call("indexes/create", #"{"collectionName":"n","indexParams":[{"fieldName":"v","indexName":"\#(name)","metricType":"L2","indexType":"FLAT"}]}"#)
            #expect(reply.code == 1100 && reply.message.contains("Invalid index name"), "\(name.count): \(reply.code ?? 0)")
        }
        #expect(try rest.call("indexes/create", #"{"collectionName":"n","indexParams":[{"fieldName":"v","indexName":"_v1","metricType":"L2","indexType":"FLAT"}]}"#).code == 0)
    }

    /// Item 8: nq x limit was bounded per vector only (1,000 x 16,384 took 3.6 GB); now the whole
    /// request is, as Milvus's `proxy.maxResultEntries`, and so are the bytes of the answer.
    @Test func searchResultsAreBoundedInTotal() throws {
        let dir = TemporaryDirectory()
        let (server, rest) = try Self.start(dir)
        defer { server.terminate() }
        let vectors = Array(repeating: "[1,0]", count: 1000).joined(separator: ",")
        let big = try rest.call("entities/search", #"{"collectionName":"h","data":[\#(vectors)],"limit":16384}"#)
        #expect(big.code == 65535 && big.message.contains("number of result entries is too large"), "\(big.body.serialized().prefix(300))")
        let grouped = try rest.call("entities/search", #"{"collectionName":"h","data":[\#(vectors)],"limit":100,"offset":100,"groupingField":"id","groupSize":10}"#)
        #expect(grouped.code == 65535 && grouped.message.contains("x groupSize (10)"), "\(grouped.body.serialized().prefix(300))")
        let fine = try rest.call("entities/search", #"{"collectionName":"h","data":[\#(vectors)],"limit":1000}"#)
        #expect(fine.code == 0)
        #expect(fine.body["topks"] == .array(Array(repeating: 2, count: 1000)))
        // Rows far larger than the output limit: 16,384 rows of 60 KB each are refused.
        #expect(try rest.call("collections/create", #"{"collectionName":"wide","schema":{"enableDynamicField":false,"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},{"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":2}},{"fieldName":"t","dataType":"VarChar","elementTypeParams":{"max_length":65535}}]},"indexParams":[{"fieldName":"v","metricType":"L2","indexType":"FLAT"}]}"#).code == 0)
        let text = String(repeating: "w", count: 60_000)
        for start in stride(from: 0, to: 2000, by: 200) {
            let rows = (start..<start + 200).map { #"{"id":\#($0),"v":[1,0],"t":"\#(text)"}"# }.joined(separator: ",")
            #expect(try rest.call("entities/insert", #"{"collectionName":"wide","data":[\#(rows)]}"#).code == 0)
        }
        let query = try rest.call("entities/query", #"{"collectionName":"wide","filter":"id >= 0","limit":2000,"outputFields":["t"]}"#)
        #expect(query.code == 65535 && query.message.contains("query results exceed the maxOutputSize Limit 104857600"), "\(query.body.serialized().prefix(300))")
        let search = try rest.call("entities/search", #"{"collectionName":"wide","data":[[1,0],[0,1]],"limit":1000,"outputFields":["t"]}"#)
        #expect(search.code == 65535 && search.message.contains("search results exceed the maxOutputSize"), "\(search.body.serialized().prefix(300))")
        #expect(try rest.call("entities/query", #"{"collectionName":"wide","filter":"id >= 0","limit":100,"outputFields":["t"]}"#).code == 0)
    }

    /// Smaller items: `radius: "nan"`, a modulo or division by zero in a filter.
    @Test func meaninglessParametersAreRefused() throws {
        let dir = TemporaryDirectory()
        let (server, rest) = try Self.start(dir)
        defer { server.terminate() }
        for radius in [#""nan""#, #""inf""#, "1e300"] {
            let reply = try rest.call("entities/search", #"{"collectionName":"h","data":[[1,0]],"limit":2,"searchParams":{"params":{"radius":\#(radius)}}}"#)
            #expect(reply.code == 1100 && reply.message.contains("radius must be a finite number"), "\(radius): \(reply.body.serialized())")
        }
        for filter in ["id % 0 == 1", "id / 0 > 1", "id % 0.0 == 0"] {
            let reply = try rest.call("entities/query", #"{"collectionName":"h","filter":"\#(filter)","limit":5}"#)
            #expect(reply.code == 1100 && reply.message.contains("division or modulus by zero"), "\(filter): \(reply.body.serialized())")
        }
        #expect(try rest.call("entities/query", #"{"collectionName":"h","filter":"id % 2 == 1","limit":5,"outputFields":["id"]}"#).data == [["id": 1]])
    }
}
