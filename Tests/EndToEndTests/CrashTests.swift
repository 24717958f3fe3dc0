import Dispatch
import ElanusCore
import ElanusHTTP
import ElanusTestSupport
import Foundation
import Synchronization
import Testing

/// Nothing acknowledged is ever lost: concurrent writers insert batches while the server is
/// SIGKILLed at a random moment; after the restart every acknowledged row is there exactly once,
/// and a batch whose answer never came is either whole or absent. Several rounds in a row.
@Suite struct CrashTests {
    struct Ledger {
        var acknowledged: [[Int64]] = []
        var inFlight: [[Int64]] = []
        /// Why each writer stopped (the kill, normally).
        var stops: [String] = []
    }

    @Test func acknowledgedRowsSurviveRepeatedSigkills() throws {
        let dir = TemporaryDirectory()
        var rng = SeededGenerator(seed: UInt64(Date().timeIntervalSince1970))
        // Segments seal every 300 rows and flush at once, so the kills also land in the middle of
        // segment writes, delta files, checkpoint commits and log truncations.
        let environment = ["ELANUS_SEGMENT_MAX_ROWS": "300", "ELANUS_SEGMENT_FLUSH_INTERVAL_SECONDS": "0.01"]
        var server = ElanusProcess(dataDirectory: dir.file("data"), environment: environment)
        try server.start()
        #expect(try RESTClient(port: server.port).call("collections/create", #"{"collectionName":"crash","dimension":8}"#).code == 0)
        var allAcknowledged: [Int64] = []
        var survivingInFlight: [Int64] = []
        for round in 0..<4 {
            let ledger = Mutex(Ledger())
            let port = server.port
            let writers = 4
            let group = DispatchGroup()
            for writer in 0..<writers {
                // Own threads, not the shared pool: other suites running in parallel must not
                // starve the writers.
                group.enter()
                Thread {
                    defer { group.leave() }
                    let rest = RESTClient(port: port)
                    for batch in 0..<100_000 {
                        let base = Int64(round) * 100_000_000 + Int64(writer) * 10_000_000 + Int64(batch) * 25
                        let ids = Array(base..<base + 25)
                        let rows = ids.map { #"{"id":\#($0),"vector":[\#($0 % 97),1,2,3,4,5,6,7],"w":\#(writer)}"# }.joined(separator: ",")
                        ledger.withLock { $0.inFlight.append(ids) }
                        let reply: RESTClient.Reply
                        do { reply = try rest.call("entities/insert", #"{"collectionName":"crash","data":[\#(rows)]}"#) } catch {
                            ledger.withLock { $0.stops.append("\(error)") }
                            return
                        }
                        guard reply.code == 0 else {
                            ledger.withLock { $0.stops.append(reply.body.serialized()) }
                            return
                        }
                        ledger.withLock { l in
                            l.inFlight.removeAll { $0 == ids }
                            l.acknowledged.append(ids)
                        }
                    }
                }.start()
            }
            // Kill at a random moment once writes are flowing (a loaded machine may take a while
            // to get the first one through).
            let deadline = Date().addingTimeInterval(30)
            while ledger.withLock({ $0.acknowledged.isEmpty }) && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            Thread.sleep(forTimeInterval: Double.random(in: 0.05...0.8, using: &rng))
            server.kill()
            group.wait()
            let (acknowledged, inFlight, stops) = ledger.withLock { ($0.acknowledged, $0.inFlight, $0.stops) }
            #expect(acknowledged.count > 0, "round \(round): the writers made progress before the kill: \(stops)")

            server = ElanusProcess(dataDirectory: dir.file("data"), environment: environment)
            try server.start()
            let rest = RESTClient(port: server.port)
            allAcknowledged += acknowledged.flatMap { $0 }
            for ids in inFlight {
                let present = try presentKeys(rest, ids)
                #expect(present.isEmpty || present.count == ids.count, "round \(round): an unacknowledged batch is half-present (\(present.count) of \(ids.count))")
                if present.count == ids.count { survivingInFlight += ids }
            }
            let present = try presentKeys(rest, allAcknowledged)
            #expect(present.count == allAcknowledged.count, "round \(round): \(allAcknowledged.count - present.count) acknowledged rows are missing")
            let stats = try rest.call("collections/get_stats", #"{"collectionName":"crash"}"#)
            #expect(stats.data == ["rowCount": .int(Int64(allAcknowledged.count + survivingInFlight.count))], "round \(round): every row exactly once")
        }
        server.terminate()
    }

    /// The keys among `ids` that `entities/get` finds, each checked to come back only once.
    func presentKeys(_ rest: RESTClient, _ ids: [Int64]) throws -> Set<Int64> {
        var found = Set<Int64>()
        for start in stride(from: 0, to: ids.count, by: 2000) {
            let chunk = ids[start..<min(ids.count, start + 2000)]
            let reply = try rest.call("entities/get", #"{"collectionName":"crash","outputFields":["id"],"id":[\#(chunk.map(String.init).joined(separator: ","))]}"#)
            guard case .array(let rows)? = reply.data else {
                Issue.record("get failed: \(reply.body.serialized().prefix(200))")
                return found
            }
            for row in rows {
                guard case .int(let id)? = row["id"] else { continue }
                #expect(found.insert(id).inserted, "key \(id) returned twice")
            }
        }
        return found
    }
}
