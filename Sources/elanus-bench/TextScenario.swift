import Dispatch
import ElanusCore
import ElanusHTTP
import ElanusText
import Foundation

/// Full-text search on a freshly started server, over REST: short documents inserted raw with a
/// BM25 function and `enable_match`, BM25 searches with raw text (one client and several), and
/// text_match / phrase_match counts, each beside the in-process baseline (`InvertedBaseline`:
/// the same analyzer and scoring over a plain inverted index of the same documents).
struct TextScenario {
    let report: Report
    let rows: Int
    let queries: Int
    let batch: Int
    let clients: Int
    let concurrency: Int
    let seed: UInt64
    let keepData: Bool

    func run() throws {
        let corpusStart = DispatchTime.now().uptimeNanoseconds
        let corpus = TextCorpus(documents: rows, seed: seed)
        let texts = corpus.queries(queries)
        print("text corpus: \(rows) documents, vocabulary \(TextCorpus.vocabularySize) (Zipf), \(String(format: "%.1f", seconds(since: corpusStart))) s to generate")
        let baseline = InvertedBaseline(corpus.documents)

        let server = try ServerUnderTest(keepData: keepData)
        defer { server.stop() }
        let client = HTTPClient(port: server.port, timeoutMs: 600_000)
        let create = #"""
            {"collectionName":"text","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},
             {"fieldName":"text","dataType":"VarChar","elementTypeParams":{"max_length":1024,"enable_analyzer":true,"enable_match":true}},
             {"fieldName":"sparse","dataType":"SparseFloatVector"}],
             "functions":[{"name":"bm25","type":"BM25","inputFieldNames":["text"],"outputFieldNames":["sparse"]}]},
             "indexParams":[{"fieldName":"sparse","indexType":"SPARSE_INVERTED_INDEX","metricType":"BM25","params":{"bm25_k1":1.2,"bm25_b":0.75}}]}
            """#
        try check(client.post("/v2/vectordb/collections/create", json: create), "create the text collection")

        // Insert: the server analyzes every text and stores its term frequencies.
        let scenario = "text insert, BM25 function on (\(clients) clients, \(batch) rows per request)"
        let batches = (rows + batch - 1) / batch
        let insert = try LoadGenerator(port: server.port, connections: clients, path: "/v2/vectordb/entities/insert", showProgress: true)
            .run(requests: batches) { [batch, rows] b in corpus.insertBody((b * batch)..<min(rows, (b + 1) * batch), collection: "text") }
        report.add(scenario, "rows/s", Double(rows) / insert.seconds, "rows/s", baseline: Double(rows) / baseline.buildSeconds,
                   note: "baseline: analyze and index the same texts in-process, 1 thread")
        report.add(scenario, "request latency p50", insert.p50, "ms")

        // Flush, then wait for the index node (sparse index, match index, BM25 statistics).
        let flushStart = DispatchTime.now().uptimeNanoseconds
        try check(client.post("/v2/vectordb/collections/flush", json: #"{"collectionName":"text"}"#), "flush")
        while true {
            let describe = try client.post("/v2/vectordb/indexes/describe", json: #"{"collectionName":"text","indexName":"sparse"}"#)
            if describe.text.contains(#""pendingRows":0"#) && describe.text.contains(#""indexState":"Finished""#) { break }
            guard seconds(since: flushStart) < 1800 else { throw BenchError("the sparse index was not built: \(describe.text)") }
            Thread.sleep(forTimeInterval: 0.05)
        }
        report.add(scenario, "flush to sparse index Finished", seconds(since: flushStart), "s")
        // The implicit indexes (match index, BM25 statistics) have no spec: /metrics counts them.
        while true {
            let metrics = try client.request("GET", "/metrics")
            if metrics.text.split(separator: "\n").contains("elanus_index_builds_pending 0") { break }
            guard seconds(since: flushStart) < 1800 else { throw BenchError("the implicit indexes were not built") }
            Thread.sleep(forTimeInterval: 0.05)
        }
        report.add(scenario, "flush to every index built", seconds(since: flushStart), "s", note: "sparse, match index and BM25 statistics")

        try search(server, corpus, texts, baseline)
        try textMatch(server, texts, baseline)
    }

    func search(_ server: ServerUnderTest, _ corpus: TextCorpus, _ texts: [String], _ baseline: InvertedBaseline) throws {
        let scenario = "BM25 search, \(rows) flushed documents, k=10"
        var scores = [Float](repeating: 0, count: rows)
        var touched: [Int32] = []
        var inProcess: [Double] = []
        var expected: [[(Int32, Float)]] = []
        for text in texts {
            let start = DispatchTime.now().uptimeNanoseconds
            expected.append(baseline.search(text, scores: &scores, touched: &touched))
            inProcess.append(seconds(since: start) * 1000)
        }
        let inProcessSorted = inProcess.sorted()
        let bodies = texts.map { Array(#"{"collectionName":"text","data":[\#(JSON.string($0).serialized())],"annsField":"sparse","limit":10}"#.utf8) }
        let path = "/v2/vectordb/entities/search"
        let single = try LoadGenerator(port: server.port, path: path, keepResponses: true).run(requests: texts.count) { bodies[$0] }
        report.add(scenario, "1 client: latency p50", single.p50, "ms", baseline: percentile(inProcessSorted, 0.5), note: "baseline: the same scoring in-process, 1 thread")
        report.add(scenario, "1 client: latency p99", single.p99, "ms", baseline: percentile(inProcessSorted, 0.99))
        report.add(scenario, "1 client: QPS", single.requestsPerSecond, "q/s", baseline: 1000 / average(inProcess))
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let several = try LoadGenerator(port: server.port, connections: concurrency, path: path).run(requests: texts.count * 3) { bodies[$0 % bodies.count] }
        report.add(scenario, "\(concurrency) clients: QPS", several.requestsPerSecond, "q/s", baseline: 1000 / average(inProcess) * Double(min(concurrency, cores)),
                   note: "baseline: in-process QPS x min(clients, \(cores) cores)")
        report.add(scenario, "\(concurrency) clients: latency p99", several.p99, "ms")

        // The server's best score agrees with the baseline's (the same formula over the same corpus).
        var agreed = 0
        for (q, body) in single.responses {
            guard let json = try? JSON.parse(String(decoding: body, as: UTF8.self)), case .array(let hits)? = json["data"],
                case .double(let top)? = hits.first?["distance"], let truth = expected[q].first?.1
            else { continue }
            if abs(top - Double(truth)) <= 1e-3 * max(1, Double(truth)) { agreed += 1 }
        }
        report.add(scenario, "top score agrees with the baseline", Double(agreed) * 100 / Double(max(1, texts.count)), "%", note: "relative error <= 1e-3")
    }

    func textMatch(_ server: ServerUnderTest, _ texts: [String], _ baseline: InvertedBaseline) throws {
        let scenario = "text_match / phrase_match count(*), \(rows) flushed documents"
        var seen = [Bool](repeating: false, count: rows)
        var inProcess: [Double] = []
        var counts: [Int] = []
        for text in texts {
            let start = DispatchTime.now().uptimeNanoseconds
            counts.append(baseline.matchCount(text, seen: &seen))
            inProcess.append(seconds(since: start) * 1000)
        }
        func body(_ filter: String) -> [UInt8] {
            Array(#"{"collectionName":"text","filter":\#(JSON.string(filter).serialized()),"outputFields":["count(*)"]}"#.utf8)
        }
        let path = "/v2/vectordb/entities/query"
        let match = texts.map { body("text_match(text, '\($0)')") }
        let result = try LoadGenerator(port: server.port, path: path, keepResponses: true).run(requests: texts.count) { match[$0] }
        report.add(scenario, "text_match latency p50", result.p50, "ms", baseline: percentile(inProcess.sorted(), 0.5),
                   note: "baseline: union of the same posting lists in-process, 1 thread")
        report.add(scenario, "text_match QPS", result.requestsPerSecond, "q/s", baseline: 1000 / average(inProcess))
        var agreed = 0
        for (q, response) in result.responses where String(decoding: response, as: UTF8.self).contains(#""count(*)":\#(counts[q])"#) { agreed += 1 }
        report.add(scenario, "text_match counts agree with the baseline", Double(agreed) * 100 / Double(max(1, texts.count)), "%")
        let phrase = texts.map { body("phrase_match(text, '\($0)', 2)") }
        let phrases = try LoadGenerator(port: server.port, path: path).run(requests: texts.count) { phrase[$0] }
        report.add(scenario, "phrase_match (slop 2) latency p50", phrases.p50, "ms")
        report.add(scenario, "phrase_match (slop 2) QPS", phrases.requestsPerSecond, "q/s")
    }

    func check(_ response: HTTPClient.Response, _ what: String) throws {
        guard response.body.starts(with: Array(#"{"code":0"#.utf8)) else { throw BenchError("\(what): \(response.text)") }
    }
}
