import ElanusCore
import ElanusTestSupport
import Foundation
import Testing

/// indexes/* over HTTP against the real binary: create on a collection with flushed data, watch
/// describe report the build truthfully, search with per-request ef, drop, and the errors.
@Suite struct IndexTests {
    @Test func createDescribeSearchAndDropAnIndex() throws {
        let dir = TemporaryDirectory()
        let server = ElanusProcess(
            dataDirectory: dir.file("data"),
            environment: ["ELANUS_SEGMENT_MAX_ROWS": "400", "ELANUS_SEGMENT_FLUSH_INTERVAL_SECONDS": "0.01", "ELANUS_INDEX_MIN_SEGMENT_ROWS": "100"])
        try server.start()
        defer { server.terminate() }
        let rest = RESTClient(port: server.port)
        let create = #"""
            {"collectionName":"ix","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},
             {"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":4}}]}}
            """#
        #expect(try rest.call("collections/create", create).code == 0)
        let rows = (0..<1000).map { i in #"{"id":\#(i),"v":[\#(i % 37),\#(i % 11),\#(i % 7),\#(i)]}"# }
        #expect(try rest.call("entities/insert", #"{"collectionName":"ix","data":[\#(rows.joined(separator: ","))]}"#).code == 0)
        #expect(try rest.call("collections/flush", #"{"collectionName":"ix"}"#).code == 0)

        // Bad parameters are refused with Milvus's ranges; a good spec is accepted.
        let bad = try rest.call("indexes/create", #"{"collectionName":"ix","indexParams":[{"fieldName":"v","indexType":"HNSW","metricType":"L2","params":{"M":1}}]}"#)
        #expect(bad.code == 1100 && bad.message.contains("should be in range [2, 2048]"), "\(bad.body.serialized())")
        let created = try rest.call("indexes/create", #"{"collectionName":"ix","indexParams":[{"fieldName":"v","indexName":"vi","indexType":"HNSW","metricType":"L2","params":{"M":8,"efConstruction":64}}]}"#)
        #expect(created.code == 0, "\(created.body.serialized())")
        #expect(try rest.call("indexes/list", #"{"collectionName":"ix"}"#).data == ["vi"])

        var described: JSON?
        let deadline = Date().addingTimeInterval(60)
        repeat {
            described = try rest.call("indexes/describe", #"{"collectionName":"ix","indexName":"vi"}"#).data
            if case .array(let items)? = described, items.first?["indexState"] == "Finished" { break }
            Thread.sleep(forTimeInterval: 0.05)
        } while Date() < deadline
        guard case .array(let items)? = described, let item = items.first else { Issue.record("no describe data"); return }
        #expect(item["indexState"] == "Finished" && item["totalRows"] == 1000 && item["indexedRows"] == 1000 && item["pendingRows"] == 0, "\(item.serialized())")
        #expect(item["indexType"] == "HNSW" && item["failReason"] == "")

        #expect(try rest.call("collections/load", #"{"collectionName":"ix"}"#).code == 0)
        let search = try rest.call("entities/search", #"{"collectionName":"ix","data":[[19,5,3,500]],"limit":3,"searchParams":{"params":{"ef":50}}}"#)
        guard case .array(let hits)? = search.data else { Issue.record("\(search.body.serialized())"); return }
        #expect(hits.first?["id"] == 500, "\(search.body.serialized())")
        let badEf = try rest.call("entities/search", #"{"collectionName":"ix","data":[[5,5,5,500]],"limit":3,"searchParams":{"params":{"ef":0}}}"#)
        #expect(badEf.code == 1100 && badEf.message.contains("ef"), "\(badEf.body.serialized())")

        // A loaded collection's vector index cannot be dropped; released, it can.
        let refused = try rest.call("indexes/drop", #"{"collectionName":"ix","indexName":"vi"}"#)
        #expect(refused.code == 1100 && refused.message.contains("cannot be dropped on loaded collection"))
        #expect(try rest.call("collections/release", #"{"collectionName":"ix"}"#).code == 0)
        #expect(try rest.call("indexes/drop", #"{"collectionName":"ix","indexName":"vi"}"#).code == 0)
        #expect(try rest.call("indexes/list", #"{"collectionName":"ix"}"#).data == [])
        let missing = try rest.call("indexes/describe", #"{"collectionName":"ix","indexName":"vi"}"#)
        #expect(missing.code == 700, "\(missing.body.serialized())")
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: dir.file("data/objects")).filter { $0.hasSuffix(".idx") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }
}
