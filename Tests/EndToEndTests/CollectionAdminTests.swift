import ElanusCore
import ElanusTestSupport
import Foundation
import Testing

/// Milvus 2.6's administrative routes against the real binary: truncate, refresh_load,
/// resource groups, segments and the quota center; and search's `ignore_growing`.
@Suite struct CollectionAdminTests {
    static func ids(_ data: JSON?) -> [Int64] { AliasTests.ids(data) }

    static func rows(_ range: ClosedRange<Int>) -> String {
        range.map { #"{"id":\#($0),"tag":"t\#($0)","v":[\#($0),1]}"# }.joined(separator: ",")
    }

    @Test func truncateEmptiesTheCollectionAndKeepsEverythingElse() throws {
        let dir = TemporaryDirectory()
        let data = dir.file("data")
        var (server, rest) = try AliasTests.start(data)
        try AliasTests.create(rest, "t")
        #expect(try rest.call("aliases/create", #"{"collectionName":"t","aliasName":"ta"}"#).code == 0)
        #expect(try rest.call("partitions/create", #"{"collectionName":"t","partitionName":"p"}"#).code == 0)
        #expect(try rest.call("entities/insert", #"{"collectionName":"t","data":[\#(Self.rows(1...20))]}"#).code == 0)
        #expect(try rest.call("collections/flush", #"{"collectionName":"t"}"#).code == 0)
        #expect(try rest.call("entities/insert", #"{"collectionName":"t","data":[\#(Self.rows(21...25))]}"#).code == 0)
        #expect(try rest.call("entities/delete", #"{"collectionName":"t","filter":"id in [1, 2]"}"#).code == 0)
        let before = try #require(try rest.call("collections/describe", #"{"collectionName":"t"}"#).data)

        let truncated = try rest.call("collections/truncate", #"{"collectionName":"ta"}"#)
        #expect(truncated.code == 0, "\(truncated.body.serialized())")
        #expect(try rest.call("entities/query", #"{"collectionName":"t","filter":"","limit":100}"#).data == [])
        #expect(try rest.call("collections/get_stats", #"{"collectionName":"t"}"#).data?["rowCount"] == 0)
        let after = try #require(try rest.call("collections/describe", #"{"collectionName":"t"}"#).data)
        for key in ["collectionName", "fields", "indexes", "aliases", "load", "partitionsNum", "properties"] {
            #expect(before[key] == after[key], "\(key): \(before[key]?.serialized() ?? "") vs \(after[key]?.serialized() ?? "")")
        }
        #expect(try rest.call("partitions/list", #"{"collectionName":"t"}"#).data == ["_default", "p"])

        // Writes after the truncate are kept, across a restart, and the old rows stay gone.
        #expect(try rest.call("entities/insert", #"{"collectionName":"ta","data":[\#(Self.rows(100...102))]}"#).code == 0)
        #expect(try rest.call("entities/insert", #"{"collectionName":"t","partitionName":"p","data":[\#(Self.rows(5...5))]}"#).code == 0)
        #expect(Self.ids(try rest.call("entities/query", #"{"collectionName":"t","filter":"id > 0"}"#).data) == [5, 100, 101, 102])
        server.kill()
        (server, rest) = try AliasTests.start(data)
        defer { server.terminate() }
        #expect(Self.ids(try rest.call("entities/query", #"{"collectionName":"ta","filter":"id > 0"}"#).data) == [5, 100, 101, 102])
        #expect(try rest.call("collections/flush", #"{"collectionName":"t"}"#).code == 0)
        #expect(Self.ids(try rest.call("entities/search", #"{"collectionName":"t","data":[[100,1]],"limit":10}"#).data) == [5, 100, 101, 102])
        let missing = try rest.call("collections/truncate", #"{"collectionName":"nothing"}"#)
        #expect(missing.code == 100 && missing.message.contains("[collection=nothing]"))
    }

    @Test func refreshLoadNeedsALoadedCollection() throws {
        let dir = TemporaryDirectory()
        let (server, rest) = try AliasTests.start(dir.file("data"))
        defer { server.terminate() }
        try AliasTests.create(rest, "r")
        #expect(try rest.call("entities/insert", #"{"collectionName":"r","data":[\#(Self.rows(1...5))]}"#).code == 0)
        #expect(try rest.call("collections/refresh_load", #"{"collectionName":"r"}"#).code == 0)
        #expect(try rest.call("collections/release", #"{"collectionName":"r"}"#).code == 0)
        let released = try rest.call("collections/refresh_load", #"{"collectionName":"r"}"#)
        #expect(released.code == 101 && released.message.contains("collection not loaded"), "\(released.body.serialized())")
        #expect(try rest.call("collections/refresh_load", #"{"collectionName":"gone"}"#).code == 100)
        #expect(try rest.call("collections/load", #"{"collectionName":"r"}"#).code == 0)
        #expect(try rest.call("collections/refresh_load", #"{"collectionName":"r"}"#).code == 0)
        #expect(Self.ids(try rest.call("entities/query", #"{"collectionName":"r","filter":"id > 0"}"#).data) == [1, 2, 3, 4, 5])
    }

    @Test func resourceGroupsSegmentsAndQuotaCenterDescribeTheOneNode() throws {
        let dir = TemporaryDirectory()
        let (server, rest) = try AliasTests.start(dir.file("data"))
        defer { server.terminate() }
        try AliasTests.create(rest, "s")
        #expect(try rest.call("resource_groups/list", "{}").data == ["__default_resource_group"])
        let group = try rest.call("resource_groups/describe", #"{"name":"__default_resource_group"}"#)
        #expect(group.code == 0 && group.data?["resource_group"]?["num_available_node"] == 1, "\(group.body.serialized())")
        #expect(group.data?["resource_group"]?["num_loaded_replica"] == ["s": 1])
        let unknown = try rest.call("resource_groups/describe", #"{"name":"rg1"}"#)
        #expect(unknown.code == 300 && unknown.message == "resource group not found[rg=rg1]")
        let create = try rest.call("resource_groups/create", #"{"name":"rg1","config":{"requests":{"node_num":1},"limits":{"node_num":1}}}"#)
        #expect(create.code == 10 && create.message.contains("one query node"), "\(create.body.serialized())")
        let dropDefault = try rest.call("resource_groups/drop", #"{"name":"__default_resource_group"}"#)
        #expect(dropDefault.code == 1100 && dropDefault.message.contains("delete default rg is not permitted"))
        #expect(try rest.call("resource_groups/describe", "{}").code == 1802)

        #expect(try rest.call("entities/insert", #"{"collectionName":"s","data":[\#(Self.rows(1...30))]}"#).code == 0)
        #expect(try rest.call("collections/flush", #"{"collectionName":"s"}"#).code == 0)
        #expect(try rest.call("entities/insert", #"{"collectionName":"s","data":[\#(Self.rows(31...35))]}"#).code == 0)
        let id = try #require(try rest.call("collections/describe", #"{"collectionName":"s"}"#).data?["collectionID"])
        let segments = try rest.call("segments/describe", #"{"collectionID":\#(id.serialized())}"#)
        guard case .array(let infos)? = segments.data?["segmentInfos"] else { Issue.record("\(segments.body.serialized())"); return }
        // One flushed segment of 30 rows (state 4) and one growing of 5 (state 2).
        #expect(infos.map { $0["state"] } == [4, 2] && infos.map { $0["numRows"] } == [30, 5], "\(segments.body.serialized())")
        #expect(infos.allSatisfy { $0["collectionID"] == id })
        let first = try #require(infos.first?["segmentID"])
        let one = try rest.call("segments/describe", #"{"collectionID":\#(id.serialized()),"segmentIDs":[\#(first.serialized())]}"#)
        guard case .array(let only)? = one.data?["segmentInfos"] else { Issue.record("\(one.body.serialized())"); return }
        #expect(only.map { $0["numRows"] } == [30])
        let noSegment = try rest.call("segments/describe", #"{"collectionID":\#(id.serialized()),"segmentIDs":[42]}"#)
        #expect(noSegment.code == 600 && noSegment.message == "segment not found[segment=42]")
        #expect(try rest.call("segments/describe", #"{"collectionID":7}"#).code == 100)

        let quota = try rest.call("quotacenter/describe", "{}")
        guard case .string(let text)? = quota.data, let metrics = try? JSON.parse(Array(text.utf8)) else {
            Issue.record("\(quota.body.serialized())"); return
        }
        guard case .int(let bytes)? = metrics["DataCoordMetrics"]?["CollectionBinlogSize"]?[id.serialized()] else {
            Issue.record("\(text)"); return
        }
        #expect(bytes > 0 && metrics["DataCoordMetrics"]?["TotalBinlogSize"] == .int(bytes))
    }

    @Test func ignoreGrowingLeavesOutRowsNotYetFlushed() throws {
        let dir = TemporaryDirectory()
        let (server, rest) = try AliasTests.start(dir.file("data"))
        defer { server.terminate() }
        try AliasTests.create(rest, "g")
        #expect(try rest.call("entities/insert", #"{"collectionName":"g","data":[\#(Self.rows(1...4))]}"#).code == 0)
        #expect(try rest.call("collections/flush", #"{"collectionName":"g"}"#).code == 0)
        #expect(try rest.call("entities/insert", #"{"collectionName":"g","data":[\#(Self.rows(5...6))]}"#).code == 0)
        func search(_ params: String) throws -> RESTClient.Reply {
            try rest.call("entities/search", #"{"collectionName":"g","data":[[5,1]],"limit":10\#(params)}"#)
        }
        #expect(Self.ids(try search("").data) == [1, 2, 3, 4, 5, 6])
        #expect(Self.ids(try search(#","searchParams":{"ignore_growing":true}"#).data) == [1, 2, 3, 4])
        #expect(Self.ids(try search(#","searchParams":{"ignoreGrowing":"True"}"#).data) == [1, 2, 3, 4])
        #expect(Self.ids(try search(#","searchParams":{"params":{"ignore_growing":1}}"#).data) == [1, 2, 3, 4])
        #expect(Self.ids(try search(#","searchParams":{"ignore_growing":false}"#).data) == [1, 2, 3, 4, 5, 6])
        let bad = try search(#","searchParams":{"ignore_growing":"yes"}"#)
        #expect(bad.code == 1100 && bad.message.contains("parse ignore growing field failed"), "\(bad.body.serialized())")
        let hybrid = #"{"collectionName":"g","search":[{"data":[[5,1]],"annsField":"v","limit":10,"params":{"ignore_growing":true}}],"rerank":{"strategy":"rrf","params":{"k":60}},"limit":10}"#
        #expect(Self.ids(try rest.call("entities/hybrid_search", hybrid).data) == [1, 2, 3, 4])
    }
}
