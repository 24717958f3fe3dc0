import ElanusCore
import ElanusTestSupport
import Foundation
import Testing

/// Segment upkeep over HTTP: collections/compact and get_compaction_state (the job runs, its
/// state moves to Completed, the deleted rows leave the disk), and release / load with
/// get_load_state.
@Suite struct SegmentMaintenanceTests {
    @Test func compactAndWatchTheJob() throws {
        let dir = TemporaryDirectory()
        let server = ElanusProcess(dataDirectory: dir.file("data"), environment: ["ELANUS_SEGMENT_MAX_ROWS": "500", "ELANUS_COMPACTION_ENABLED": "false"])
        try server.start()
        defer { server.terminate() }
        let rest = RESTClient(port: server.port)
        #expect(try rest.call("collections/create", #"{"collectionName":"cp","dimension":4}"#).code == 0)
        let rows = (0..<2000).map { #"{"id":\#($0),"vector":[\#($0 % 7),\#($0 % 5),1,\#($0)]}"# }.joined(separator: ",")
        #expect(try rest.call("entities/insert", #"{"collectionName":"cp","data":[\#(rows)]}"#).code == 0)
        #expect(try rest.call("entities/delete", #"{"collectionName":"cp","filter":"id < 1500"}"#).code == 0)
        #expect(try rest.call("collections/flush", #"{"collectionName":"cp"}"#).code == 0)
        let objects = dir.file("data/objects")
        func bytes() throws -> Int {
            try FileManager.default.subpathsOfDirectory(atPath: objects).reduce(0) { total, path in
                total + ((try FileManager.default.attributesOfItem(atPath: objects + "/" + path)[.size] as? Int) ?? 0)
            }
        }
        let before = try bytes()

        let compact = try rest.call("collections/compact", #"{"collectionName":"cp"}"#)
        guard case .int(let id)? = compact.data?["compactionID"] else {
            Issue.record("\(compact.body.serialized())")
            return
        }
        var state: JSON?
        let deadline = Date().addingTimeInterval(30)
        repeat {
            state = try rest.call("collections/get_compaction_state", #"{"jobID":\#(id)}"#).data
            if state?["state"] == "Completed" { break }
            Thread.sleep(forTimeInterval: 0.02)
        } while Date() < deadline
        #expect(state?["state"] == "Completed" && state?["compactionID"] == .int(id) && state?["executingPlanNumber"] == 0, "\(state?.serialized() ?? "")")
        guard case .int(let completed)? = state?["completedPlanNumber"] else { return }
        #expect(completed >= 1)
        let metrics = try #require(try MetricsTests.scrape(server).page)
        #expect(metrics.value("elanus_compactions_total", ["result": "completed"]) >= Double(completed))
        #expect(metrics.value("elanus_compactions_total", ["result": "failed"]) == 0)
        #expect(metrics.value("elanus_compactions_running") == 0)
        // By collection name, the latest job of the collection.
        #expect(try rest.call("collections/get_compaction_state", #"{"collectionName":"cp"}"#).data?["compactionID"] == .int(id))
        #expect(try rest.call("collections/get_compaction_state", #"{"jobID":42}"#).data?["state"] == "UndefiedState")
        let after = try bytes()
        #expect(after * 2 < before, "\(before) -> \(after) bytes")
        let count = try rest.call("entities/query", #"{"collectionName":"cp","filter":"","outputFields":["count(*)"]}"#)
        #expect(count.data == [["count(*)": 500]], "\(count.body.serialized())")

        let clustering = try rest.call("collections/compact", #"{"collectionName":"cp","isClustering":true}"#)
        #expect(clustering.code == 1100 && clustering.message.contains("clustering"), "\(clustering.body.serialized())")
        #expect(try rest.call("collections/compact", #"{"collectionName":"nope"}"#).code == 100)
    }

    @Test func releaseAndLoadWithProgress() throws {
        let dir = TemporaryDirectory()
        let server = ElanusProcess(dataDirectory: dir.file("data"), environment: ["ELANUS_SEGMENT_MAX_ROWS": "200"])
        try server.start()
        defer { server.terminate() }
        let rest = RESTClient(port: server.port)
        #expect(try rest.call("collections/create", #"{"collectionName":"lr","dimension":4,"metricType":"L2"}"#).code == 0)
        let rows = (0..<2000).map { #"{"id":\#($0),"vector":[\#($0 % 7),\#($0 % 5),1,\#($0)]}"# }.joined(separator: ",")
        #expect(try rest.call("entities/insert", #"{"collectionName":"lr","data":[\#(rows)]}"#).code == 0)
        #expect(try rest.call("collections/flush", #"{"collectionName":"lr"}"#).code == 0)
        #expect(try rest.call("collections/release", #"{"collectionName":"lr"}"#).code == 0)
        #expect(try rest.call("collections/get_load_state", #"{"collectionName":"lr"}"#).data == ["loadState": "LoadStateNotLoad"])
        #expect(try rest.call("entities/delete", #"{"collectionName":"lr","filter":"id in [1, 2]"}"#).data == ["deleteCount": 2])
        let refused = try rest.call("entities/delete", #"{"collectionName":"lr","filter":"id > 10"}"#)
        #expect(refused.code == 101, "\(refused.body.serialized())")

        #expect(try rest.call("collections/load", #"{"collectionName":"lr"}"#).code == 0)
        var states: [JSON] = []
        let deadline = Date().addingTimeInterval(30)
        repeat {
            let state = try rest.call("collections/get_load_state", #"{"collectionName":"lr"}"#).data
            states.append(state ?? .null)
            if state?["loadState"] == "LoadStateLoaded" { break }
            #expect(state?["loadState"] == "LoadStateLoading", "\(state?.serialized() ?? "")")
            Thread.sleep(forTimeInterval: 0.005)
        } while Date() < deadline
        #expect(states.last == ["loadState": "LoadStateLoaded", "loadProgress": 100])
        let count = try rest.call("entities/query", #"{"collectionName":"lr","filter":"","outputFields":["count(*)"]}"#)
        #expect(count.data == [["count(*)": 1998]], "\(count.body.serialized())")
        let search = try rest.call("entities/search", #"{"collectionName":"lr","data":[[2,0,1,1500]],"limit":1,"outputFields":["vector"]}"#)
        guard case .array(let hits)? = search.data else {
            Issue.record("\(search.body.serialized())")
            return
        }
        #expect(hits.first?["id"] == 1500, "\(search.body.serialized())")
    }
}
