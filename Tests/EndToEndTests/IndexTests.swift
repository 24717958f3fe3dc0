import ElanusCore
import ElanusTestSupport
import Foundation
import Testing

/// indexes/* over HTTP against the real binary: create on a collection with flushed data, watch
/// describe report the build truthfully, search with per-request ef, drop, and the errors.
@Suite struct IndexTests {
    /// A server whose segments seal at 400 rows and are indexed from 100.
    static func start(_ dir: TemporaryDirectory) throws -> ElanusProcess {
        let server = ElanusProcess(
            dataDirectory: dir.file("data"),
            environment: ["ELANUS_SEGMENT_MAX_ROWS": "400", "ELANUS_SEGMENT_FLUSH_INTERVAL_SECONDS": "0.01", "ELANUS_INDEX_MIN_SEGMENT_ROWS": "100"])
        try server.start()
        return server
    }

    /// `indexes/describe` of one index once it reports Finished (or its last answer after 60 s).
    static func waitForIndex(_ rest: RESTClient, collection: String, _ name: String) throws -> JSON? {
        var item: JSON?
        let deadline = Date().addingTimeInterval(60)
        repeat {
            if case .array(let items)? = try rest.call("indexes/describe", #"{"collectionName":"\#(collection)","indexName":"\#(name)"}"#).data { item = items.first }
            if item?["indexState"] == "Finished" { break }
            Thread.sleep(forTimeInterval: 0.05)
        } while Date() < deadline
        return item
    }

    @Test func createDescribeSearchAndDropAnIndex() throws {
        let dir = TemporaryDirectory()
        let server = try Self.start(dir)
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

    /// One collection with a float, a binary and a sparse vector field, each with its own index
    /// type: every index builds over HTTP and answers searches with and without a filter.
    @Test func binaryAndSparseIndexesOverHTTP() throws {
        let dir = TemporaryDirectory()
        let server = try Self.start(dir)
        defer { server.terminate() }
        let rest = RESTClient(port: server.port)
        let create = #"""
            {"collectionName":"kinds","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},
             {"fieldName":"cat","dataType":"Int64"},
             {"fieldName":"f","dataType":"FloatVector","elementTypeParams":{"dim":4}},
             {"fieldName":"b","dataType":"BinaryVector","elementTypeParams":{"dim":16}},
             {"fieldName":"s","dataType":"SparseFloatVector"}]},
             "indexParams":[{"fieldName":"f","indexName":"f","indexType":"IVF_SQ8","metricType":"L2","params":{"nlist":8}},
              {"fieldName":"b","indexName":"b","indexType":"BIN_IVF_FLAT","metricType":"HAMMING","params":{"nlist":8}},
              {"fieldName":"s","indexName":"s","indexType":"SPARSE_INVERTED_INDEX","metricType":"IP"}]}
            """#
        #expect(try rest.call("collections/create", create).code == 0)
        func row(_ i: Int) -> String {
            let sparse = #"{"\#(i % 50)":1.0,"\#(100 + i % 7)":0.5}"#
            return #"{"id":\#(i),"cat":\#(i % 10),"f":[\#(i % 37),\#(i % 11),\#(i % 7),\#(i)],"b":[\#(i % 256),\#((i * 7) % 256)],"s":\#(sparse)}"#
        }
        let rows = (0..<1000).map(row).joined(separator: ",")
        #expect(try rest.call("entities/insert", #"{"collectionName":"kinds","data":[\#(rows)]}"#).code == 0)
        #expect(try rest.call("collections/flush", #"{"collectionName":"kinds"}"#).code == 0)
        for name in ["f", "b", "s"] {
            let item = try Self.waitForIndex(rest, collection: "kinds", name)
            #expect(item?["indexState"] == "Finished" && item?["indexedRows"] == 1000, "\(name): \(item?.serialized() ?? "")")
        }
        func search(_ field: String, _ vector: String, filter: String = "", params: String = "{}") throws -> [JSON] {
            let reply = try rest.call("entities/search", #"{"collectionName":"kinds","annsField":"\#(field)","data":[\#(vector)],"limit":5,"filter":"\#(filter)","outputFields":["cat"],"searchParams":{"params":\#(params)}}"#)
            guard case .array(let hits)? = reply.data else {
                Issue.record("\(field): \(reply.body.serialized())")
                return []
            }
            return hits
        }
        // Each stored vector finds itself first (distance 0); a filter keeps only its rows.
        let float = try search("f", "[19,5,3,500]", params: #"{"nprobe":8}"#)
        #expect(float.first?["id"] == 500 && float.count == 5)
        let binary = try search("b", "[244,172]", params: #"{"nprobe":8}"#)
        #expect(binary.first?["distance"] == 0 && binary.count == 5, "\(binary)")
        let filtered = try search("b", "[244,172]", filter: "cat == 3")
        #expect(filtered.count == 5 && filtered.allSatisfy { $0["cat"] == 3 }, "\(filtered)")
        let sparse = try search("s", #"{"7":1.0,"101":0.5}"#, params: #"{"drop_ratio_search":0.1}"#)
        #expect(sparse.count == 5 && sparse.first?["distance"] == 1.25, "\(sparse)")
        let sparseFiltered = try search("s", #"{"7":1.0}"#, filter: "cat == 1")
        #expect(sparseFiltered.count == 5 && sparseFiltered.allSatisfy { $0["cat"] == 1 }, "\(sparseFiltered)")
    }

    /// STL_SORT and Trie indexes over HTTP: refused on fields they do not cover, built for the
    /// flushed segments, reported by describe, and filters over them give exactly the right rows.
    @Test func scalarIndexesOverHTTP() throws {
        let dir = TemporaryDirectory()
        let server = try Self.start(dir)
        defer { server.terminate() }
        let rest = RESTClient(port: server.port)
        let create = #"""
            {"collectionName":"sc","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},
             {"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":4}},
             {"fieldName":"cat","dataType":"Int64"},
             {"fieldName":"tag","dataType":"VarChar","elementTypeParams":{"max_length":16}}]},
             "indexParams":[{"fieldName":"v","indexName":"v","indexType":"FLAT","metricType":"L2"},
              {"fieldName":"cat","indexName":"cat","indexType":"STL_SORT"}]}
            """#
        #expect(try rest.call("collections/create", create).code == 0)
        let wrong = try rest.call("indexes/create", #"{"collectionName":"sc","indexParams":[{"fieldName":"tag","indexName":"tag","indexType":"STL_SORT"}]}"#)
        #expect(wrong.code == 1100 && wrong.message.contains("covers numeric fields"), "\(wrong.body.serialized())")
        #expect(try rest.call("indexes/create", #"{"collectionName":"sc","indexParams":[{"fieldName":"tag","indexName":"tag","indexType":"Trie"}]}"#).code == 0)

        let tag = { (i: Int) in "t\(i % 23)" }
        let rows = (0..<1000).map { i in #"{"id":\#(i),"v":[\#(i % 37),\#(i % 11),\#(i % 7),\#(i)],"cat":\#(i % 10),"tag":"\#(tag(i))"}"# }
        #expect(try rest.call("entities/insert", #"{"collectionName":"sc","data":[\#(rows.joined(separator: ","))]}"#).code == 0)
        #expect(try rest.call("collections/flush", #"{"collectionName":"sc"}"#).code == 0)
        for name in ["cat", "tag"] {
            let item = try Self.waitForIndex(rest, collection: "sc", name)
            #expect(item?["indexState"] == "Finished" && item?["indexedRows"] == 1000 && item?["totalRows"] == 1000, "\(name): \(item?.serialized() ?? "")")
        }

        let filter = "cat in [3, 4] and tag like 't1%'"
        let expected = (0..<1000).filter { [3, 4].contains($0 % 10) && tag($0).hasPrefix("t1") }
        let count = try rest.call("entities/query", #"{"collectionName":"sc","filter":"\#(filter)","outputFields":["count(*)"]}"#)
        #expect(count.data == [["count(*)": .int(Int64(expected.count))]], "\(count.body.serialized())")
        let query = try rest.call("entities/query", #"{"collectionName":"sc","filter":"\#(filter)","limit":1000,"outputFields":["id"]}"#)
        guard case .array(let found)? = query.data else { Issue.record("\(query.body.serialized())"); return }
        #expect(Set(found.compactMap { if case .int(let id)? = $0["id"] { id } else { nil } }) == Set(expected.map(Int64.init)))
        let search = try rest.call("entities/search", #"{"collectionName":"sc","data":[[1,1,1,1]],"limit":5,"filter":"tag == 't7'","outputFields":["tag"]}"#)
        guard case .array(let hits)? = search.data else { Issue.record("\(search.body.serialized())"); return }
        #expect(hits.count == 5 && hits.allSatisfy { $0["tag"] == "t7" }, "\(hits)")
    }
}
