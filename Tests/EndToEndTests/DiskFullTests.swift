import ElanusCore
import ElanusTestSupport
import Foundation
import Testing

/// Issue 20, item 7: a full disk. The data directory lives on a small tmpfs the test mounts (as
/// root; skipped with a message elsewhere) and fills with ballast. Writers get Milvus's "disk
/// limit exceeded" (7) once the free space falls below the reserve, reads go on, nothing
/// acknowledged is lost, writes resume by themselves once the ballast goes (no restart), and a
/// start without room says how much it needs.
@Suite(.serialized) struct DiskFullTests {
    static func insert(_ rest: RESTClient, from first: Int, rows: Int) throws -> RESTClient.Reply {
        let body = (first..<first + rows).map { id in #"{"id":\#(id),"vector":[\#((0..<32).map { String(Float(($0 * 7 + id) % 13) / 13) }.joined(separator: ","))]}"# }
        return try rest.call("entities/insert", #"{"collectionName":"full","data":[\#(body.joined(separator: ","))]}"#)
    }

    static func count(_ rest: RESTClient) throws -> JSON? {
        try rest.call("entities/query", #"{"collectionName":"full","filter":"","outputFields":["count(*)"]}"#).data
    }

    @Test func writersAreToldReadsGoOnAndWritesResumeWhenSpaceReturns() throws {
        let dir = TemporaryDirectory()
        guard let disk = SmallFileSystem.mount(at: dir.file("disk"), bytes: 96 << 20) else {
            print("skipped: cannot mount a tmpfs here (not root?), so no disk to fill")
            return
        }
        let data = disk.path + "/data"
        // An 8 MiB reserve: writers are refused before RocksDB itself runs out of room.
        let environment = ["ELANUS_SEGMENT_MAX_ROWS": "4000", "ELANUS_STORAGE_DISK_RESERVE_BYTES": String(8 << 20)]
        var server = ElanusProcess(dataDirectory: data, environment: environment)
        try server.start()
        var rest = RESTClient(port: server.port)
        #expect(try rest.call("collections/create", #"{"collectionName":"full","dimension":32}"#).code == 0)
        var acknowledged = 0
        for _ in 0..<4 {
            #expect(try Self.insert(rest, from: acknowledged, rows: 500).code == 0)
            acknowledged += 500
        }
        disk.fill(leaving: 12 << 20)
        var refusal: RESTClient.Reply?
        for _ in 0..<400 {
            let reply = try Self.insert(rest, from: acknowledged, rows: 500)
            if reply.code != 0 {
                refusal = reply
                break
            }
            acknowledged += 500
        }
        let refused = try #require(refusal, "the disk never filled")
        #expect(refused.code == 7 && refused.message.contains("disk limit exceeded"), "\(refused.body.serialized().prefix(300))")
        #expect(acknowledged > 0)
        // Reads go on, and the same write again is refused at once with the same code.
        #expect(try Self.count(rest) == [["count(*)": .int(Int64(acknowledged))]])
        let again = try Self.insert(rest, from: acknowledged, rows: 500)
        #expect(again.code == 7, "\(again.body.serialized().prefix(300))")
        usleep(1_500_000)
        #expect(server.isRunning, "the server survived the full disk")

        // Space returns: writes resume without a restart.
        disk.drain()
        var resumed = false
        for _ in 0..<50 {
            if try Self.insert(rest, from: acknowledged, rows: 500).code == 0 {
                acknowledged += 500
                resumed = true
                break
            }
            usleep(100_000)
        }
        #expect(resumed, "writes did not resume after the space came back: \(server.log().suffix(500))")
        #expect(try rest.call("collections/flush", #"{"collectionName":"full"}"#).code == 0)
        #expect(try Self.count(rest) == [["count(*)": .int(Int64(acknowledged))]])

        // Nothing acknowledged is lost across a SIGKILL.
        server.kill()
        server = ElanusProcess(dataDirectory: data, environment: environment)
        try server.start()
        rest = RESTClient(port: server.port)
        #expect(try Self.count(rest) == [["count(*)": .int(Int64(acknowledged))]])
        server.terminate()

        // Without the room to open its stores, the server says how much it needs.
        disk.fill(leaving: 8 << 20)
        let cramped = ElanusProcess(dataDirectory: data, environment: environment)
        #expect(throws: ElanusError.self) { try cramped.start(timeout: 10) }
        #expect(cramped.log().contains("needs at least"), "\(cramped.log().suffix(500))")
        disk.drain()
    }
}
