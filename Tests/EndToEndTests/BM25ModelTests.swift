import ElanusCore
import ElanusTestSupport
import Foundation
import Testing

/// A model test of BM25 full-text search: random documents from a small vocabulary, inserted
/// raw; the top hits' scores checked against a plain BM25 written here (Milvus's IDF formula,
/// the index's k1 and b) over the live documents, before and after deletes, upserts, a flush,
/// a compaction and a restart (which reads the statistics the index node wrote).
@Suite struct BM25ModelTests {
    static let vocabulary = (0..<40).map { "w\($0)" }
    static let k1 = 1.5
    static let b = 0.6

    /// The reference: live documents by id, tokenized as the standard analyzer does here (the
    /// words are lower-case ASCII separated by spaces).
    struct Reference {
        var documents: [Int64: [String]] = [:]

        func scores(_ query: String) -> [Int64: Double] {
            let n = Double(documents.count)
            let lengths = documents.mapValues { Double($0.count) }
            let average = lengths.values.reduce(0, +) / max(n, 1)
            var queryCounts: [String: Double] = [:]
            for word in query.split(separator: " ") { queryCounts[String(word), default: 0] += 1 }
            var df: [String: Double] = [:]
            for words in documents.values { for word in Set(words) where queryCounts[word] != nil { df[word, default: 0] += 1 } }
            var out: [Int64: Double] = [:]
            for (id, words) in documents {
                var tf: [String: Double] = [:]
                for word in words { tf[word, default: 0] += 1 }
                var score = 0.0
                for (term, qtf) in queryCounts {
                    guard let f = tf[term] else { continue }
                    let d = df[term] ?? 0
                    let idf = log(1 + (n - d + 0.5) / (d + 0.5))
                    score += qtf * idf * f * (k1 + 1) / (f + k1 * (1 - b + b * lengths[id]! / average))
                }
                if score > 0 { out[id] = score }
            }
            return out
        }
    }

    static func text(_ random: inout SeededGenerator) -> String {
        let count = Int.random(in: 1...12, using: &random)
        // A skewed draw: low word numbers are common, high ones rare (IDF varies).
        return (0..<count).map { _ in vocabulary[Int(Double(vocabulary.count) * pow(Double.random(in: 0..<1, using: &random), 2))] }
            .joined(separator: " ")
    }

    static func check(_ rest: RESTClient, _ reference: Reference, _ random: inout SeededGenerator, _ stage: String) throws {
        var compared = 0
        defer { #expect(compared > 20, "\(stage): only \(compared) hits compared") }
        for _ in 0..<8 {
            let query = (0..<Int.random(in: 1...3, using: &random)).map { _ in vocabulary.randomElement(using: &random)! }.joined(separator: " ")
            let reply = try rest.call(
                "entities/search", #"{"collectionName":"docs","data":["\#(query)"],"annsField":"sparse","limit":10,"consistencyLevel":"Strong"}"#)
            #expect(reply.code == 0, "\(stage): \(reply.body.serialized())")
            guard case .array(let hits)? = reply.data else { continue }
            let expected = reference.scores(query)
            let best = expected.values.sorted(by: >).prefix(10)
            #expect(hits.count == best.count, "\(stage) '\(query)': \(hits.count) hits, reference \(best.count)")
            for (rank, hit) in hits.enumerated() {
                guard case .int(let id)? = hit["id"], case .double(let score)? = hit["distance"] else {
                    Issue.record("\(stage): bad hit \(hit.serialized())")
                    continue
                }
                compared += 1
                let truth = expected[id] ?? -1
                #expect(abs(score - truth) <= 1e-4 * max(1, truth), "\(stage) '\(query)' id \(id): \(score) vs reference \(truth)")
                if rank < best.count {
                    let rankScore = Array(best)[rank]
                    #expect(abs(score - rankScore) <= 1e-4 * max(1, rankScore), "\(stage) '\(query)' rank \(rank): \(score) vs \(rankScore)")
                }
            }
        }
    }

    /// Waits until every flushed segment's index is built, so that searches go through it.
    static func waitForIndex(_ rest: RESTClient) throws {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let reply = try rest.call("indexes/describe", #"{"collectionName":"docs","indexName":"sparse"}"#)
            if case .array(let indexes)? = reply.data, indexes.first?["pendingRows"] == 0 { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        Issue.record("the BM25 index was not built in time")
    }

    /// Waits until every flushed segment has `perSegment` index files (its BM25 term statistics,
    /// and the sparse index when built), so that a restart reads them.
    static func waitForIndexFiles(_ data: String, perSegment: Int) {
        let deadline = Date().addingTimeInterval(60)
        let objects = data + "/objects"
        while Date() < deadline {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: objects)) ?? []).flatMap { dir in
                ((try? FileManager.default.contentsOfDirectory(atPath: objects + "/" + dir)) ?? [])
            }
            let segments = names.filter { $0.hasSuffix(".seg") }.count
            if segments > 0, names.filter({ $0.hasSuffix(".idx") }).count == segments * perSegment { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        Issue.record("the index files were not written in time")
    }

    /// Unindexed: every segment is scanned exactly. Indexed: flushed segments are searched
    /// through the sparse inverted index with BM25 scoring.
    @Test(arguments: [false, true])
    func scoresMatchAReferenceThroughDeletesFlushCompactionAndRestart(indexed: Bool) throws {
        let dir = TemporaryDirectory()
        let environment = [
            "ELANUS_SEGMENT_MAX_ROWS": "150", "ELANUS_COMPACTION_ENABLED": "false", "ELANUS_INDEX_MIN_SEGMENT_ROWS": indexed ? "1" : "100000",
        ]
        var server = ElanusProcess(dataDirectory: dir.file("data"), environment: environment)
        try server.start()
        var rest = RESTClient(port: server.port)
        let create = #"""
            {"collectionName":"docs","schema":{"fields":[
              {"fieldName":"id","dataType":"Int64","isPrimary":true},
              {"fieldName":"text","dataType":"VarChar","elementTypeParams":{"max_length":512,"enable_analyzer":true}},
              {"fieldName":"sparse","dataType":"SparseFloatVector"}],
             "functions":[{"name":"bm25","type":"BM25","inputFieldNames":["text"],"outputFieldNames":["sparse"]}]},
             "indexParams":[{"fieldName":"sparse","indexType":"SPARSE_INVERTED_INDEX","metricType":"BM25","params":{"bm25_k1":"\#(Self.k1)","bm25_b":"\#(Self.b)"}}]}
            """#
        let created = try rest.call("collections/create", create)
        #expect(created.code == 0, "\(created.body.serialized())")
        var random = SeededGenerator(seed: 24)
        var reference = Reference()
        func insert(_ ids: Range<Int64>, route: String = "entities/insert") throws {
            var rows: [String] = []
            for id in ids {
                let text = Self.text(&random)
                reference.documents[id] = text.split(separator: " ").map(String.init)
                rows.append(#"{"id":\#(id),"text":"\#(text)"}"#)
            }
            let reply = try rest.call(route, #"{"collectionName":"docs","data":[\#(rows.joined(separator: ","))]}"#)
            #expect(reply.code == 0, "\(reply.body.serialized())")
        }
        try insert(0..<200)
        try insert(200..<400)
        try Self.check(rest, reference, &random, "growing and sealed")

        #expect(try rest.call("entities/delete", #"{"collectionName":"docs","filter":"id < 60"}"#).code == 0)
        for id in Int64(0)..<60 { reference.documents[id] = nil }
        try insert(100..<130, route: "entities/upsert")
        try Self.check(rest, reference, &random, "after deletes and upserts")

        #expect(try rest.call("collections/flush", #"{"collectionName":"docs"}"#).code == 0)
        if indexed { try Self.waitForIndex(rest) }
        try insert(400..<450)
        try Self.check(rest, reference, &random, "after a flush")

        let compact = try rest.call("collections/compact", #"{"collectionName":"docs"}"#)
        if case .int(let job)? = compact.data?["compactionID"] {
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline, try rest.call("collections/get_compaction_state", #"{"jobID":\#(job)}"#).data?["state"] != "Completed" {
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
        if indexed { try Self.waitForIndex(rest) }
        try Self.check(rest, reference, &random, "after a compaction")
        // The restart reads every flushed segment's term statistics from its file.
        Self.waitForIndexFiles(dir.file("data"), perSegment: indexed ? 2 : 1)

        #expect(server.terminate() == 0)
        server = ElanusProcess(dataDirectory: dir.file("data"), port: server.port, environment: environment)
        try server.start()
        defer { server.terminate() }
        rest = RESTClient(port: server.port)
        try Self.check(rest, reference, &random, "after a restart")
    }
}
