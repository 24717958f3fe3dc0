import ElanusCore
import ElanusTestSupport
import Foundation
import Testing

@Suite struct RestartTests {
    /// The catalog is durable the moment DDL is acknowledged: SIGKILL right after, restart, and
    /// every collection is there with the same schema and IDs.
    @Test func catalogSurvivesSigkill() throws {
        let dir = TemporaryDirectory()
        let data = dir.file("data")
        var server = ElanusProcess(dataDirectory: data)
        try server.start()
        var rest = RESTClient(port: server.port)
        #expect(try rest.call("databases/create", #"{"dbName":"second"}"#).code == 0)
        #expect(try rest.call("collections/create", CollectionLifecycleTests.fullSchema).code == 0)
        #expect(try rest.call("collections/create", #"{"dbName":"second","collectionName":"q","dimension":16}"#).code == 0)
        #expect(try rest.call("collections/release", #"{"dbName":"second","collectionName":"q"}"#).code == 0)
        let before = try #require(try rest.call("collections/describe", #"{"collectionName":"books"}"#).data)
        let beforeQ = try #require(try rest.call("collections/describe", #"{"dbName":"second","collectionName":"q"}"#).data)
        server.kill()
        #expect(!server.isRunning)

        server = ElanusProcess(dataDirectory: data)
        try server.start()
        defer { server.terminate() }
        rest = RESTClient(port: server.port)
        #expect(try rest.call("collections/describe", #"{"collectionName":"books"}"#).data == before)
        #expect(try rest.call("collections/describe", #"{"dbName":"second","collectionName":"q"}"#).data == beforeQ)
        #expect(try rest.call("databases/list", "null").data == ["default", "second"])
        // New IDs never collide with old ones.
        #expect(try rest.call("collections/create", #"{"collectionName":"after","dimension":4}"#).code == 0)
        let after = try #require(try rest.call("collections/describe", #"{"collectionName":"after"}"#).data)
        if case .int(let a)? = after["collectionID"], case .int(let b)? = before["collectionID"], case .int(let c)? = beforeQ["collectionID"] {
            #expect(a > b && a > c)
        } else {
            Issue.record("collection IDs are not integers")
        }
    }

    /// Issue 20, item 1: after a data directory's fifth start, a flush truncated the WAL's last
    /// record with the table file holding it, positions restarted at 1, and later inserts were
    /// acknowledged but skipped as "already flushed". Restarts and flushes alternate here well
    /// past the point where RocksDB compacts its level-0 files.
    @Test func acknowledgedWritesSurviveManyRestartsAndFlushes() throws {
        let dir = TemporaryDirectory()
        let data = dir.file("data")
        var server = ElanusProcess(dataDirectory: data)
        try server.start()
        #expect(try RESTClient(port: server.port).call("collections/create", #"{"collectionName":"r","dimension":2}"#).code == 0)
        var expected: [Int64] = []
        for round in 0..<8 {
            var rest = RESTClient(port: server.port)
            let id = Int64(round * 10)
            #expect(try rest.call("entities/insert", #"{"collectionName":"r","data":[{"id":\#(id),"vector":[1,2]}]}"#).code == 0)
            expected.append(id)
            #expect(server.terminate() == 0)
            server = ElanusProcess(dataDirectory: data)
            try server.start()
            rest = RESTClient(port: server.port)
            #expect(try rest.call("collections/flush", #"{"collectionName":"r"}"#).code == 0)
            let more = [id + 1, id + 2]
            #expect(try rest.call("entities/insert", #"{"collectionName":"r","data":[{"id":\#(more[0]),"vector":[1,2]},{"id":\#(more[1]),"vector":[3,4]}]}"#).code == 0)
            expected += more
            // An upsert must replace its row, not delete it.
            #expect(try rest.call("entities/upsert", #"{"collectionName":"r","data":[{"id":\#(more[0]),"vector":[5,6]}]}"#).code == 0)
            let got = try rest.call("entities/get", #"{"collectionName":"r","outputFields":["id"],"id":[\#(expected.map(String.init).joined(separator: ","))]}"#)
            guard case .array(let rows)? = got.data else {
                Issue.record("round \(round): get failed: \(got.body.serialized())")
                break
            }
            let ids = Set(rows.compactMap { row -> Int64? in if case .int(let v)? = row["id"] { return v } else { return nil } })
            #expect(ids == Set(expected), "round \(round): missing \(Set(expected).subtracting(ids).sorted())")
        }
        server.terminate()
        server = ElanusProcess(dataDirectory: data)
        try server.start()
        defer { server.terminate() }
        let stats = try RESTClient(port: server.port).call("collections/get_stats", #"{"collectionName":"r"}"#)
        #expect(stats.data == ["rowCount": .int(Int64(expected.count))])
        #expect(!server.log().contains("re-seeded"))
    }

    @Test func sigtermShutsDownCleanlyAndReleasesTheDataDirectory() throws {
        let dir = TemporaryDirectory()
        let data = dir.file("data")
        let server = ElanusProcess(dataDirectory: data)
        try server.start()
        #expect(try RESTClient(port: server.port).call("collections/create", #"{"collectionName":"c","dimension":4}"#).code == 0)
        #expect(server.terminate() == 0)
        #expect(server.log().contains("stopped cleanly"))
        let again = ElanusProcess(dataDirectory: data)
        try again.start()
        defer { again.terminate() }
        #expect(try RESTClient(port: again.port).call("collections/has", #"{"collectionName":"c"}"#).data == ["has": true])
    }

    @Test func aSecondServerOnTheSameDataDirectoryRefusesToStart() throws {
        let dir = TemporaryDirectory()
        let data = dir.file("data")
        let first = ElanusProcess(dataDirectory: data)
        try first.start()
        defer { first.terminate() }
        let second = ElanusProcess(dataDirectory: data)
        #expect(throws: ElanusError.self) { try second.start(timeout: 10) }
        #expect(second.log().contains("another elanus process"))
    }

    @Test func configurationFileFlagsAndEnvironmentStack() throws {
        let dir = TemporaryDirectory()
        let config = dir.file("elanus.yaml")
        // The file says one port and data dir; the flag overrides the data dir; the env overrides the port.
        try "server:\n  port: 1\nstorage:\n  dataDir: \(dir.file("from-file"))\nlog:\n  level: info\n".write(toFile: config, atomically: true, encoding: .utf8)
        let port = freePort()
        // A later --port flag says 1 (the last flag wins); ELANUS_PORT must win over both.
        let server = ElanusProcess(
            dataDirectory: dir.file("from-flag"), port: port, arguments: ["--config", config, "--port", "1"],
            environment: ["ELANUS_PORT": String(port)])
        try server.start()
        defer { server.terminate() }
        #expect(FileManager.default.fileExists(atPath: dir.file("from-flag") + "/meta"))
        #expect(!FileManager.default.fileExists(atPath: dir.file("from-file")))
        let bad = ElanusProcess(dataDirectory: dir.file("x"), arguments: ["--config", config], environment: ["ELANUS_SERVER_MAX_BODY_BYTES": "lots"])
        #expect(throws: ElanusError.self) { try bad.start(timeout: 5) }
        #expect(bad.log().contains("server.maxBodyBytes"))
    }
}
