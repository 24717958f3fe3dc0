import Dispatch
import ElanusCore
import ElanusTestSupport
import Foundation
import Synchronization
import Testing

/// Issue 20's closing test: rounds of concurrent inserts, upserts and deletes with flushes,
/// index builds and compactions running (tiny segments, eager background work), each round
/// ended by a SIGKILL at a random moment and followed by a restart of the same data directory.
/// After every restart each key holds exactly its last acknowledged version (or is absent if
/// its last acknowledged write deleted it); a write whose answer never came is whole or absent.
///
/// CI runs `ELANUS_KILL_ROUNDS` rounds (6 by default); the README records a 100-round run.
@Suite struct KillLoopTests {
    /// One writer's model: key -> version (nil: deleted), and the write in flight when it stopped.
    struct Ledger {
        var versions: [Int64: Int64?] = [:]
        /// Keys of the unanswered write, with the version each would get (nil: deleted).
        var inFlight: [Int64: Int64?] = [:]
        var acknowledgedWrites = 0
    }

    static let writers = 4
    static let keySpace: Int64 = 10_000_000
    static let maxKeysPerWriter = 3000

    static func environment() -> [String: String] {
        [
            "ELANUS_SEGMENT_MAX_ROWS": "300", "ELANUS_SEGMENT_FLUSH_INTERVAL_SECONDS": "0.02",
            "ELANUS_COMPACTION_INTERVAL_SECONDS": "0.1", "ELANUS_COMPACTION_DELETE_RATIO": "0.05",
            "ELANUS_INDEX_MIN_SEGMENT_ROWS": "200",
        ]
    }

    static func row(_ key: Int64, _ version: Int64) -> String {
        #"{"id":\#(key),"vector":[\#(version % 97),\#(key % 13),1,2,3,4,5,6],"ver":\#(version)}"#
    }

    @Test func acknowledgedWritesSurviveRoundsOfSigkillUnderMixedLoad() throws {
        let rounds = Int(ProcessInfo.processInfo.environment["ELANUS_KILL_ROUNDS"] ?? "") ?? 6
        let dir = TemporaryDirectory()
        let data = dir.file("data")
        var rng = SeededGenerator(seed: UInt64(Date().timeIntervalSince1970))
        var server = ElanusProcess(dataDirectory: data, environment: Self.environment())
        try server.start()
        let schema = #"{"collectionName":"k","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},{"fieldName":"vector","dataType":"FloatVector","elementTypeParams":{"dim":8}},{"fieldName":"ver","dataType":"Int64"}]},"indexParams":[{"fieldName":"vector","metricType":"L2","indexType":"HNSW","params":{"M":8,"efConstruction":32}}]}"#
        #expect(try RESTClient(port: server.port).call("collections/create", schema).code == 0)
        var ledgers = Array(repeating: Ledger(), count: Self.writers)
        var totals = (writes: 0, inFlightApplied: 0, inFlightAbsent: 0, keys: 0)
        let started = Date()
        for round in 0..<rounds {
            let shared = Mutex(ledgers)
            let port = server.port
            let group = DispatchGroup()
            let seeds = (0..<Self.writers).map { _ in UInt64.random(in: 1...UInt64.max, using: &rng) }
            for writer in 0..<Self.writers {
                group.enter()
                Thread {
                    defer { group.leave() }
                    Self.write(writer: writer, round: round, port: port, seed: seeds[writer], ledgers: shared)
                }.start()
            }
            // Kill at a random moment once writes flow.
            let deadline = Date().addingTimeInterval(30)
            while shared.withLock({ $0.reduce(0) { $0 + $1.acknowledgedWrites } }) == ledgers.reduce(0, { $0 + $1.acknowledgedWrites }) && Date() < deadline {
                usleep(5_000)
            }
            usleep(UInt32.random(in: 100_000...1_200_000, using: &rng))
            server.kill()
            group.wait()
            ledgers = shared.withLock { $0 }

            server = ElanusProcess(dataDirectory: data, environment: Self.environment())
            try server.start()
            let rest = RESTClient(port: server.port)
            // Up to the highest key each writer sent, plus a range beyond to catch strays.
            let through = (0..<Self.writers).map { w in
                max(ledgers[w].versions.keys.max() ?? 0, ledgers[w].inFlight.keys.max() ?? 0, Int64(w) * Self.keySpace) + 8192
            }
            let present = try Self.readAll(rest, through: through)
            for w in 0..<Self.writers {
                var ledger = ledgers[w]
                let base = Int64(w) * Self.keySpace
                // The unanswered write: every key old, or every key new.
                if !ledger.inFlight.isEmpty {
                    let new = ledger.inFlight.allSatisfy { present[$0.key] == $0.value }
                    let old = ledger.inFlight.allSatisfy { present[$0.key] == (ledger.versions[$0.key] ?? nil) }
                    #expect(new || old, "round \(round) writer \(w): an unanswered write is half-applied")
                    if new && !old {
                        for (key, version) in ledger.inFlight { ledger.versions[key] = version }
                        totals.inFlightApplied += 1
                    } else {
                        totals.inFlightAbsent += 1
                    }
                    ledger.inFlight = [:]
                }
                var wrong: [Int64] = []
                for (key, version) in ledger.versions where present[key] != version { wrong.append(key) }
                let unknown = present.keys.filter { $0 >= base && $0 < base + Self.keySpace && ledger.versions[$0] == nil }
                #expect(wrong.isEmpty, "round \(round) writer \(w): \(wrong.count) keys differ from their last acknowledged write, e.g. \(wrong.sorted().prefix(5).map { "\($0): expected \(String(describing: ledger.versions[$0] ?? nil)), found \(String(describing: present[$0]))" })")
                #expect(unknown.isEmpty, "round \(round) writer \(w): \(unknown.count) keys that were never written")
                ledgers[w] = ledger
            }
            let search = try rest.call("entities/search", #"{"collectionName":"k","data":[[1,2,1,2,3,4,5,6]],"limit":5,"outputFields":["ver"]}"#)
            #expect(search.code == 0, "round \(round): \(search.body.serialized().prefix(200))")
            if !server.log().isEmpty, round == rounds - 1 {
                #expect(!server.log().contains("re-seeded"), "positions had to be re-seeded")
            }
        }
        totals.writes = ledgers.reduce(0) { $0 + $1.acknowledgedWrites }
        totals.keys = ledgers.reduce(0) { $0 + $1.versions.values.filter { $0 != nil }.count }
        print("kill loop: \(rounds) rounds in \(String(format: "%.0f", Date().timeIntervalSince(started))) s, \(totals.writes) acknowledged writes, \(totals.keys) live keys at the end, unanswered writes applied \(totals.inFlightApplied) / absent \(totals.inFlightAbsent), nothing lost")
        server.terminate()
    }

    /// One writer until the server dies: inserts of new keys, upserts and deletes of its own
    /// keys, chosen at random, each recorded in flight before it is sent.
    static func write(writer: Int, round: Int, port: Int, seed: UInt64, ledgers: borrowing Mutex<[Ledger]>) {
        var rng = SeededGenerator(seed: seed)
        let rest = RESTClient(port: port)
        let base = Int64(writer) * keySpace
        var next = ledgers.withLock { l in l[writer].versions.keys.max().map { $0 + 1 } ?? base }
        for step in 0..<100_000 {
            let known = ledgers.withLock { Array($0[writer].versions.keys) }
            let version = Int64(round) * 1_000_000 + Int64(step) + 1
            var change: [Int64: Int64?] = [:]
            let route: String
            let body: String
            let dice = Int.random(in: 0..<10, using: &rng)
            // New keys until a writer has a few thousand, then upserts (which bring deleted keys
            // back) and deletes of those: the data stays the same size however many rounds run,
            // so a round costs the same at round 100 as at round 1.
            if known.count < 50 || (dice < 5 && known.count < maxKeysPerWriter) {
                let keys = (0..<20).map { next + Int64($0) }
                next += 20
                for key in keys { change[key] = version }
                route = "entities/insert"
                body = #"{"collectionName":"k","data":[\#(keys.map { row($0, version) }.joined(separator: ","))]}"#
            } else if dice < 8 {
                let keys = Set((0..<10).map { _ in known.randomElement(using: &rng)! })
                for key in keys { change[key] = version }
                route = "entities/upsert"
                body = #"{"collectionName":"k","data":[\#(keys.sorted().map { row($0, version) }.joined(separator: ","))]}"#
            } else {
                let keys = Set((0..<5).map { _ in known.randomElement(using: &rng)! })
                for key in keys { change[key] = .some(nil) }
                route = "entities/delete"
                body = #"{"collectionName":"k","filter":"id in [\#(keys.sorted().map(String.init).joined(separator: ","))]"}"#
            }
            ledgers.withLock { $0[writer].inFlight = change }
            guard let reply = try? rest.call(route, body), reply.code == 0 else { return }
            ledgers.withLock { l in
                for (key, value) in change { l[writer].versions[key] = value }
                l[writer].inFlight = [:]
                l[writer].acknowledgedWrites += 1
            }
        }
    }

    /// Every key's version, read in id ranges of 8,192 keys (a query's rows come in no
    /// particular order, so ranges, not pages of results, make sure each key is read once) up to
    /// `through` for each writer.
    static func readAll(_ rest: RESTClient, through: [Int64]) throws -> [Int64: Int64] {
        var out: [Int64: Int64] = [:]
        let span: Int64 = 8192
        for w in 0..<writers {
            var from = Int64(w) * keySpace
            while from <= through[w] {
                let reply = try rest.call("entities/query", #"{"collectionName":"k","filter":"id >= \#(from) and id < \#(from + span)","outputFields":["id","ver"],"limit":16384}"#)
                guard case .array(let rows)? = reply.data else { throw ElanusError(.unexpected, "query failed: \(reply.body.serialized().prefix(300))") }
                for row in rows {
                    guard case .int(let id)? = row["id"], case .int(let ver)? = row["ver"] else { continue }
                    #expect(out.updateValue(ver, forKey: id) == nil, "key \(id) returned twice")
                }
                from += span
            }
        }
        return out
    }
}
