import ElanusCore
import ElanusTestSupport
import Foundation
import Testing

/// SIGKILL in the middle of background work: an index build, and a compaction that rewrites
/// indexed segments. After the restart every acknowledged row is there, every acknowledged
/// delete holds, counts agree, the interrupted work is done again, and no stray file is left.
@Suite struct BackgroundCrashTests {
    static let dim = 48
    static let rows = 12_000
    static let environment = [
        "ELANUS_SEGMENT_MAX_ROWS": "6000", "ELANUS_SEGMENT_FLUSH_INTERVAL_SECONDS": "0.01", "ELANUS_INDEX_MIN_SEGMENT_ROWS": "100",
        "ELANUS_COMPACTION_INTERVAL_SECONDS": "0.05",
    ]

    static func vector(_ id: Int) -> String {
        "[" + (0..<dim).map { String(((id &* 2_654_435_761) ^ ($0 &* 40_503)) % 1000) }.joined(separator: ",") + "]"
    }

    static func start(_ dir: TemporaryDirectory) throws -> (ElanusProcess, RESTClient) {
        let server = ElanusProcess(dataDirectory: dir.file("data"), environment: environment)
        try server.start()
        return (server, RESTClient(port: server.port))
    }

    /// A quick-setup collection (AUTOINDEX, so HNSW) with `rows` rows, in two sealed segments.
    static func fill(_ rest: RESTClient) throws {
        #expect(try rest.call("collections/create", #"{"collectionName":"bg","dimension":\#(dim)}"#).code == 0)
        for start in stride(from: 0, to: rows, by: 1000) {
            let body = (start..<start + 1000).map { #"{"id":\#($0),"vector":\#(vector($0))}"# }.joined(separator: ",")
            let reply = try rest.call("entities/insert", #"{"collectionName":"bg","data":[\#(body)]}"#)
            #expect(reply.code == 0, "\(reply.body.serialized().prefix(300))")
        }
    }

    /// Waits until the server's log has `needle` more times than `after`; returns the count.
    @discardableResult
    static func waitForLog(_ server: ElanusProcess, _ needle: String, moreThan after: Int = 0, timeout: Double = 60) -> Int {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let count = server.log().components(separatedBy: needle).count - 1
            if count > after { return count }
            Thread.sleep(forTimeInterval: 0.005)
        }
        return 0
    }

    static func waitForIndex(_ rest: RESTClient) throws -> JSON? {
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let reply = try rest.call("indexes/describe", #"{"collectionName":"bg","indexName":"vector"}"#)
            if case .array(let items)? = reply.data, let item = items.first, item["indexState"] == "Finished" { return item }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return nil
    }

    /// Exactly `expected` of the ids 0..<rows are there, counted three ways, and search finds a
    /// stored vector first.
    static func verify(_ rest: RESTClient, expected: Set<Int>, sourceLocation: SourceLocation = #_sourceLocation) throws {
        var found = Set<Int>()
        for start in stride(from: 0, to: rows, by: 2000) {
            let ids = (start..<start + 2000).map(String.init).joined(separator: ",")
            let reply = try rest.call("entities/get", #"{"collectionName":"bg","outputFields":["id"],"id":[\#(ids)]}"#)
            guard case .array(let items)? = reply.data else {
                Issue.record("get failed: \(reply.body.serialized().prefix(300))", sourceLocation: sourceLocation)
                return
            }
            for item in items { if case .int(let id)? = item["id"] { #expect(found.insert(Int(id)).inserted, "id \(id) twice", sourceLocation: sourceLocation) } }
        }
        #expect(found == expected, "\(found.subtracting(expected).count) unexpected, \(expected.subtracting(found).count) missing", sourceLocation: sourceLocation)
        let stats = try rest.call("collections/get_stats", #"{"collectionName":"bg"}"#)
        #expect(stats.data == ["rowCount": .int(Int64(expected.count))], "\(stats.body.serialized())", sourceLocation: sourceLocation)
        let counted = try rest.call("entities/query", #"{"collectionName":"bg","filter":"id >= 0","outputFields":["count(*)"]}"#)
        #expect(counted.data == [["count(*)": .int(Int64(expected.count))]], "\(counted.body.serialized())", sourceLocation: sourceLocation)
        let probe = expected.sorted()[expected.count / 2]
        let search = try rest.call("entities/search", #"{"collectionName":"bg","data":[\#(vector(probe))],"limit":5,"annsField":"vector"}"#)
        guard case .array(let hits)? = search.data else {
            Issue.record("search failed: \(search.body.serialized().prefix(300))", sourceLocation: sourceLocation)
            return
        }
        #expect(hits.count == 5 && hits.first?["id"] == .int(Int64(probe)), "\(search.body.serialized().prefix(300))", sourceLocation: sourceLocation)
    }

    static func strayFiles(_ dir: TemporaryDirectory) -> [String] {
        ((try? FileManager.default.subpathsOfDirectory(atPath: dir.file("data/objects"))) ?? []).filter { $0.hasSuffix(".tmp") }
    }

    @Test func sigkillDuringAnIndexBuild() throws {
        let dir = TemporaryDirectory()
        var (server, rest) = try Self.start(dir)
        try Self.fill(rest)
        #expect(Self.waitForLog(server, "building index") > 0)
        let built = server.log().components(separatedBy: "index built").count - 1
        server.kill()
        #expect(built < 2, "the kill landed before both builds finished")

        (server, rest) = try Self.start(dir)
        defer { server.terminate() }
        try Self.verify(rest, expected: Set(0..<Self.rows))
        let index = try Self.waitForIndex(rest)
        #expect(index?["indexedRows"] == .int(Int64(Self.rows)), "\(index?.serialized() ?? "no index")")
        try Self.verify(rest, expected: Set(0..<Self.rows))
        #expect(Self.strayFiles(dir) == [])
    }

    @Test func sigkillDuringACompaction() throws {
        let dir = TemporaryDirectory()
        var (server, rest) = try Self.start(dir)
        try Self.fill(rest)
        #expect(try rest.call("collections/flush", #"{"collectionName":"bg"}"#).code == 0)
        _ = try Self.waitForIndex(rest)
        // A third of each segment deleted: past the delete ratio, so both segments are rewritten
        // and their indexes rebuilt.
        let deleted = try rest.call("entities/delete", #"{"collectionName":"bg","filter":"id % 3 == 0"}"#)
        #expect(deleted.code == 0, "\(deleted.body.serialized())")
        let expected = Set((0..<Self.rows).filter { $0 % 3 != 0 })
        #expect(Self.waitForLog(server, "compacting segments") > 0)
        let compacted = server.log().components(separatedBy: "segments compacted").count - 1
        server.kill()
        #expect(compacted < 2, "the kill landed before both compactions finished")

        (server, rest) = try Self.start(dir)
        defer { server.terminate() }
        try Self.verify(rest, expected: expected)
        // The compaction runs again after the restart and finishes.
        let finished = Self.waitForLog(server, "segments compacted", moreThan: 1 - compacted)
        #expect(finished > 0)
        _ = try Self.waitForIndex(rest)
        try Self.verify(rest, expected: expected)
        let files = try FileManager.default.subpathsOfDirectory(atPath: dir.file("data/objects"))
        #expect(files.filter { $0.hasSuffix(".seg") }.count == 2, "\(files)")
        #expect(Self.strayFiles(dir) == [])
    }
}
