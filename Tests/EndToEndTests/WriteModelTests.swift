import ElanusCore
import ElanusTestSupport
import Testing

/// Upsert and delete semantics against an in-memory reference model: random operations over a
/// small key space (so keys collide often), checked after every step, with SIGKILL restarts in
/// between. The model is the specification:
/// - insert and upsert both make the row the key's newest version (in the partition written to);
/// - a partial upsert changes only the fields it gives;
/// - a delete removes the key, but only within its partition when it names one;
/// - deleteCount counts the keys that were live in scope.
@Suite struct WriteModelTests {
    struct Row: Equatable {
        var partition: String
        var vector: [Int]
        var tag: Int
    }

    /// With `smallSegments`, segments seal every few rows, flush at once and are compacted
    /// continually (and the test calls collections/flush now and then), so the kills land on
    /// every stage of the segment lifecycle.
    @Test(arguments: [false, true]) func randomOperationsMatchTheModelAcrossRestarts(smallSegments: Bool) throws {
        let dir = TemporaryDirectory()
        let environment = smallSegments
            ? ["ELANUS_SEGMENT_MAX_ROWS": "5", "ELANUS_SEGMENT_FLUSH_INTERVAL_SECONDS": "0.01", "ELANUS_COMPACTION_INTERVAL_SECONDS": "0.02"] : [:]
        var server = ElanusProcess(dataDirectory: dir.file("data"), environment: environment)
        try server.start()
        var rest = RESTClient(port: server.port)
        #expect(try rest.call("collections/create", #"{"collectionName":"m","dimension":2,"params":{"consistencyLevel":"Strong"}}"#).code == 0)
        #expect(try rest.call("partitions/create", #"{"collectionName":"m","partitionName":"p1"}"#).code == 0)
        var model: [Int: Row] = [:]
        var compactions = 0
        var rng = SeededGenerator(seed: 42)
        let universe = 0..<24
        func randomKeys() -> [Int] { (0..<Int.random(in: 1...4, using: &rng)).map { _ in Int.random(in: universe, using: &rng) } }
        func rowJSON(_ key: Int, _ row: Row) -> String { #"{"id":\#(key),"vector":[\#(row.vector[0]),\#(row.vector[1])],"tag":\#(row.tag)}"# }

        for step in 1...120 {
            let partition = Bool.random(using: &rng) ? "_default" : "p1"
            let keys = randomKeys()
            var unique: [Int] = []
            for k in keys where !unique.contains(k) { unique.append(k) }
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<3:
                let rows = unique.map { ($0, Row(partition: partition, vector: [step, $0], tag: step)) }
                let reply = try rest.call("entities/insert", #"{"collectionName":"m","partitionName":"\#(partition)","data":[\#(rows.map { rowJSON($0.0, $0.1) }.joined(separator: ","))]}"#)
                #expect(reply.data?["insertCount"] == .int(Int64(rows.count)), "step \(step): \(reply.body.serialized())")
                for (k, r) in rows { model[k] = r }
            case 3..<6:
                let rows = unique.map { ($0, Row(partition: partition, vector: [-step, $0], tag: -step)) }
                let reply = try rest.call("entities/upsert", #"{"collectionName":"m","partitionName":"\#(partition)","data":[\#(rows.map { rowJSON($0.0, $0.1) }.joined(separator: ","))]}"#)
                #expect(reply.data?["upsertCount"] == .int(Int64(rows.count)), "step \(step): \(reply.body.serialized())")
                for (k, r) in rows { model[k] = r }
            case 6:
                // Partial update of existing keys: only the dynamic `tag` changes.
                let existing = unique.filter { model[$0] != nil }
                guard !existing.isEmpty else { continue }
                let data = existing.map { #"{"id":\#($0),"tag":\#(1000 + step)}"# }.joined(separator: ",")
                let reply = try rest.call("entities/upsert", #"{"collectionName":"m","partialUpdate":true,"partitionName":"\#(partition)","data":[\#(data)]}"#)
                #expect(reply.code == 0, "step \(step): \(reply.body.serialized())")
                for k in existing { model[k] = Row(partition: partition, vector: model[k]!.vector, tag: 1000 + step) }
            default:
                let scoped = Bool.random(using: &rng)
                let filter = unique.count == 1 ? "id == \(unique[0])" : "id in [\(unique.map(String.init).joined(separator: ", "))]"
                let body = scoped
                    ? #"{"collectionName":"m","partitionName":"\#(partition)","filter":"\#(filter)"}"#
                    : #"{"collectionName":"m","filter":"\#(filter)"}"#
                let expected = unique.filter { k in model[k].map { !scoped || $0.partition == partition } ?? false }
                let reply = try rest.call("entities/delete", body)
                #expect(reply.data?["deleteCount"] == .int(Int64(expected.count)), "step \(step): \(filter) \(reply.body.serialized())")
                for k in expected { model[k] = nil }
            }
            if smallSegments && step % 17 == 0 {
                #expect(try rest.call("collections/flush", #"{"collectionName":"m"}"#).code == 0)
                // It runs in the background, racing the next steps and the next kill.
                #expect(try rest.call("collections/compact", #"{"collectionName":"m"}"#).code == 0)
            }
            if step % 30 == 0 {
                compactions += server.log().components(separatedBy: "segments compacted").count - 1
                server.kill()
                server = ElanusProcess(dataDirectory: dir.file("data"), environment: environment)
                try server.start()
                rest = RESTClient(port: server.port)
            }
            try verify(rest, model, universe: universe, step: step)
        }
        compactions += server.log().components(separatedBy: "segments compacted").count - 1
        server.terminate()
        #expect(!smallSegments || compactions > 0, "segments were compacted during the run")
    }

    func verify(_ rest: RESTClient, _ model: [Int: Row], universe: Range<Int>, step: Int) throws {
        let got = try rest.call("entities/get", #"{"collectionName":"m","id":[\#(universe.map(String.init).joined(separator: ","))]}"#)
        guard case .array(let rows)? = got.data else {
            Issue.record("step \(step): \(got.body.serialized())")
            return
        }
        var seen: [Int: (vector: JSON?, tag: JSON?)] = [:]
        for row in rows {
            guard case .int(let id)? = row["id"] else { continue }
            #expect(seen[Int(id)] == nil, "step \(step): key \(id) returned twice")
            seen[Int(id)] = (row["vector"], row["tag"])
        }
        #expect(Set(seen.keys) == Set(model.keys), "step \(step)")
        for (key, row) in model {
            #expect(seen[key]?.vector == .array(row.vector.map { .int(Int64($0)) }), "step \(step) key \(key)")
            #expect(seen[key]?.tag == .int(Int64(row.tag)), "step \(step) key \(key)")
        }
        #expect(try rest.call("collections/get_stats", #"{"collectionName":"m"}"#).data == ["rowCount": .int(Int64(model.count))], "step \(step)")
        let inP1 = model.values.filter { $0.partition == "p1" }.count
        #expect(try rest.call("partitions/get_stats", #"{"collectionName":"m","partitionName":"p1"}"#).data == ["rowCount": .int(Int64(inP1))], "step \(step)")
    }
}
