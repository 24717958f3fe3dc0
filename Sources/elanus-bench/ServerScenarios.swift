import Dispatch
import ElanusCore
import ElanusHTTP
import Foundation

/// The scenarios run against a freshly started `elanus` (temporary data directory, free port),
/// over HTTP exactly as a user would, each beside its in-process faiss baseline from the same run.
struct ServerScenarios {
    struct Options {
        var batch = 1000
        var clients = 4
        var concurrency = 4
        var k = 10
        var nq = 100
        var efConstruction = 200
        /// Leave the server's data directory in place at the end (to restart it by hand).
        var keepData = false
    }

    let report: Report
    let dataset: Dataset
    /// Ground truth: [variant][query] -> top-100 ids; variant 0 is unfiltered, then `Dataset.filters`.
    let truth: [[[Int64]]]
    let options: Options

    var queryCount: Int { dataset.spec.queries }
    var rows: Int { dataset.spec.rows }

    func run() throws {
        let baseline = try FaissBaseline(dataset: dataset, description: "Flat")
        report.add("index build", "faiss Flat add, in-process", baseline.buildSeconds, "s", note: "the FLAT scenarios' baseline; the HNSW build is measured below")

        let server = try ServerUnderTest(keepData: options.keepData)
        defer { server.stop() }
        let client = HTTPClient(port: server.port, timeoutMs: 600_000)
        let create = #"""
            {"collectionName":"bench","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},
             {"fieldName":"vector","dataType":"FloatVector","elementTypeParams":{"dim":\#(dataset.dim)}},
             {"fieldName":"category","dataType":"Int64"},
             {"fieldName":"title","dataType":"VarChar","elementTypeParams":{"max_length":64}}]},
             "indexParams":[{"fieldName":"vector","metricType":"L2","indexType":"FLAT"}]}
            """#
        try expectSuccess(client.post("/v2/vectordb/collections/create", json: create), "create the collection")

        let restInsertRate = try insert(server, client)
        try search(server, baseline)
        try filteredSearch(server, baseline)
        try query(server, client)
        try grpc(server, client, baseline, restInsertRowsPerSecond: restInsertRate)
        // The issue's figures are for one 1M-row HNSW collection: the FLAT one leaves memory
        // (its keys stay, as for any released collection) before that scenario starts.
        try expectSuccess(client.post("/v2/vectordb/collections/release", json: #"{"collectionName":"bench"}"#), "release the FLAT collection")
        let peakBeforeHNSW = server.peakRSS
        server.resetPeakRSS()
        try hnsw(server, client)

        let peakBeforeRestart = server.peakRSS
        let restart = try server.restart()
        let after = try HTTPClient(port: server.port).post("/v2/vectordb/collections/get_stats", json: #"{"collectionName":"bench"}"#)
        guard after.text.contains(#""rowCount":\#(rows)"#) else { throw BenchError("after restart: \(after.text)") }
        report.add("restart", "process start to /health ready", restart, "s", note: "loads flushed segments and HNSW index files, replays the rest (target < 5 s); \(rows) rows verified after")

        let rawBytes = Double(rows * dataset.dim * 4)
        report.add("resources", "server peak RSS, FLAT scenarios", Double(peakBeforeHNSW) / 1e6, "MB", baseline: rawBytes / 1e6,
                   note: "baseline: raw float vectors; the FLAT collection's inserts and searches")
        report.add("resources", "server peak RSS, HNSW scenario", Double(peakBeforeRestart) / 1e6, "MB", baseline: rawBytes / 1e6,
                   note: "the HNSW collection's inserts and build, with the FLAT one released (target < 1.6 GB)")
        report.add("resources", "server peak RSS, restart", Double(server.peakRSS) / 1e6, "MB", baseline: rawBytes / 1e6,
                   note: "the restarted process up to /health ready and a get_stats (target < 1.6 GB)")
        report.add("resources", "data directory", Double(server.diskBytes) / 1e6, "MB", baseline: rawBytes / 1e6, note: "baseline: raw float vectors")
    }

    // MARK: insert

    /// Returns the rows per second reached, the gRPC insert's baseline.
    func insert(_ server: ServerUnderTest, _ client: HTTPClient) throws -> Double {
        let batches = (rows + options.batch - 1) / options.batch
        let scenario = "insert (\(options.clients) clients, \(options.batch) rows per request, durable)"
        // The client builds each body as it goes; its cost per request is measured here so that
        // the table shows it is small beside the server's.
        let buildStart = DispatchTime.now().uptimeNanoseconds
        let sampleBodies = min(batches, 5)
        for b in 0..<sampleBodies { _ = InsertBodies(dataset: dataset, batch: options.batch).body(b) }
        let buildMs = seconds(since: buildStart) * 1000 / Double(sampleBodies)

        let bodies = InsertBodies(dataset: dataset, batch: options.batch)
        let load = LoadGenerator(port: server.port, connections: options.clients, path: "/v2/vectordb/entities/insert", showProgress: true)
        let result = try load.run(requests: batches) { bodies.body($0) }
        let lastAck = DispatchTime.now().uptimeNanoseconds
        let rowsPerSecond = Double(rows) / result.seconds
        let decode = decodeRate()
        report.add(scenario, "rows/s", rowsPerSecond, "rows/s", baseline: decode, note: "baseline: the row decoder alone, 1 thread, in-process")
        report.add(scenario, "JSON in", Double(result.bytesSent) / 1e6 / result.seconds, "MB/s")
        report.add(scenario, "request latency p50", result.p50, "ms")
        report.add(scenario, "request latency p99", result.p99, "ms")
        report.add(scenario, "client body build", buildMs, "ms/request", note: "the load generator's own cost")

        // Time from the last acknowledged insert until every row is searchable. With FLAT over
        // growing segments nothing is built, so this is the visibility delay alone.
        while true {
            let count = try client.post("/v2/vectordb/entities/query", json: #"{"collectionName":"bench","filter":"","outputFields":["count(*)"]}"#)
            if count.text.contains(#""count(*)":\#(rows)"#) { break }
            guard seconds(since: lastAck) < 600 else { throw BenchError("rows never became visible: \(count.text)") }
        }
        report.add(scenario, "last insert to searchable", seconds(since: lastAck) * 1000, "ms", note: "growing rows are searched exactly at once")
        return rowsPerSecond
    }

    /// Rows per second that the row decoder reaches on one thread over the same bodies.
    func decodeRate() -> Double {
        let schema = CollectionSchema(fields: [
            FieldSchema(fieldID: 100, name: "id", dataType: .int64, isPrimary: true),
            FieldSchema(fieldID: 101, name: "vector", dataType: .floatVector, typeParams: [KeyValue("dim", String(dataset.dim))]),
            FieldSchema(fieldID: 102, name: "category", dataType: .int64),
            FieldSchema(fieldID: 103, name: "title", dataType: .varChar, typeParams: [KeyValue("max_length", "64")]),
        ])
        let decoder = EntityRowDecoder(schema: schema, options: .init())
        let prefix = Array(#"{"collectionName":"bench","data":"#.utf8).count
        let bodies = (0..<min(10, (rows + options.batch - 1) / options.batch)).map(InsertBodies(dataset: dataset, batch: options.batch).body)
        let start = DispatchTime.now().uptimeNanoseconds
        var decoded = 0
        for body in bodies {
            body.withUnsafeBufferPointer { buffer in
                var reader = JSONReader(bytes: buffer)
                reader.rewind(to: prefix)
                decoded += (try? decoder.decode(&reader).batch.rowCount) ?? 0
            }
        }
        return Double(decoded) / seconds(since: start)
    }

    // MARK: search

    func searchBody(_ queries: Range<Int>, filter: String? = nil, collection: String = "bench", ef: Int? = nil) -> [UInt8] {
        var out = Array(#"{"collectionName":"\#(collection)","limit":\#(options.k),"#.utf8)
        if let ef { out += Array(#""searchParams":{"params":{"ef":\#(ef)}},"#.utf8) }
        if let filter { out += Array(#""filter":"\#(filter)","#.utf8) }
        out += Array(#""data":["#.utf8)
        for q in queries {
            if q > queries.lowerBound { out.append(UInt8(ascii: ",")) }
            dataset.appendVector(q, query: true, to: &out)
        }
        out += Array("]}".utf8)
        return out
    }

    func search(_ server: ServerUnderTest, _ baseline: FaissBaseline) throws {
        let k = options.k
        let queries = dataset.allQueries()
        let path = "/v2/vectordb/entities/search"

        // nq = 1, one client, one request after another.
        let scenario = "search nq=1, 1 client, k=\(k), FLAT (exact)"
        let single = (0..<queryCount).map { searchBody($0..<($0 + 1)) }
        let sequential = try LoadGenerator(port: server.port, path: path, keepResponses: true).run(requests: queryCount) { single[$0] }
        let found = try (0..<queryCount).map { try hitIDs(sequential.responses[$0]!, nq: 1)[0] }
        let inProcess = try baseline.sequential(queries, count: queryCount, k: k)
        report.add(scenario, "QPS", sequential.requestsPerSecond, "q/s", baseline: inProcess.qps, note: "baseline: faiss Flat, 1 thread")
        report.add(scenario, "latency p50", sequential.p50, "ms", baseline: percentile(inProcess.latencies, 0.5))
        report.add(scenario, "latency p99", sequential.p99, "ms", baseline: percentile(inProcess.latencies, 0.99))
        report.add(scenario, "recall@\(k)", recall(found: found, truth: truth[0], k: k), "", baseline: recall(found: inProcess.ids, truth: truth[0], k: k))
        // Issue 23's figure: what a request costs beyond the search itself (median over median).
        let overhead = (percentile(sequential.latencies, 0.5) - percentile(inProcess.latencies, 0.5)) * 1000
        report.add("per-request overhead", "REST search nq=1, \(rows) rows FLAT, 1 client", overhead, "us",
                   note: "server p50 minus in-process faiss p50 (target <= 30 us at 10,000 x 128: --rows 10000)")

        // nq = 1 from several clients at once.
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let concurrentScenario = "search nq=1, \(options.concurrency) clients, k=\(k), FLAT (exact)"
        let requests = queryCount * 2, distinct = queryCount
        let concurrent = try LoadGenerator(port: server.port, connections: options.concurrency, path: path).run(requests: requests) { single[$0 % distinct] }
        let inProcessConcurrent = try baseline.concurrent(queries, count: requests, k: k, threads: cores)
        report.add(concurrentScenario, "QPS", concurrent.requestsPerSecond, "q/s", baseline: inProcessConcurrent.qps, note: "baseline: faiss Flat, \(cores) threads")
        report.add(concurrentScenario, "latency p50", concurrent.p50, "ms")
        report.add(concurrentScenario, "latency p99", concurrent.p99, "ms")

        // nq = 100 per request.
        let nq = min(options.nq, queryCount)
        let batchScenario = "search nq=\(nq), 1 client, k=\(k), FLAT (exact)"
        let batchCount = max(1, queryCount / nq)
        let batches = (0..<batchCount).map { searchBody(($0 * nq)..<(($0 + 1) * nq)) }
        let rounds = max(batchCount, 3)
        let batched = try LoadGenerator(port: server.port, path: path, keepResponses: true).run(requests: rounds) { batches[$0 % batchCount] }
        let batchFound = try (0..<batchCount).flatMap { try hitIDs(batched.responses[$0]!, nq: nq) }
        let inProcessBatched = try baseline.batched(queries, nq: nq, batches: rounds, k: k)
        report.add(batchScenario, "queries/s", Double(rounds * nq) / batched.seconds, "q/s", baseline: inProcessBatched.qps, note: "baseline: faiss Flat batch, OpenBLAS on \(cores) threads, OpenMP 1")
        report.add(batchScenario, "request latency p50", batched.p50, "ms")
        report.add(batchScenario, "recall@\(k)", recall(found: batchFound, truth: truth[0], k: k), "", baseline: recall(found: inProcessBatched.ids, truth: truth[0], k: k))
    }

    func filteredSearch(_ server: ServerUnderTest, _ baseline: FaissBaseline) throws {
        let k = options.k
        let queries = dataset.allQueries()
        for (f, filter) in Dataset.filters.enumerated() {
            let scenario = "filtered search nq=1, 1 client, k=\(k), \(filter.name) of rows (\(filter.expression))"
            let bodies = (0..<queryCount).map { searchBody($0..<($0 + 1), filter: filter.expression) }
            let result = try LoadGenerator(port: server.port, path: "/v2/vectordb/entities/search", keepResponses: true).run(requests: queryCount) { bodies[$0] }
            let found = try (0..<queryCount).map { try hitIDs(result.responses[$0]!, nq: 1)[0] }
            var bitmap = [UInt8](repeating: 0, count: (rows + 7) / 8)
            for id in 0..<rows where dataset.passes(id, filter: f) { bitmap[id >> 3] |= 1 << UInt8(id & 7) }
            let inProcess = try baseline.sequential(queries, count: queryCount, k: k, bitmap: bitmap)
            report.add(scenario, "QPS", result.requestsPerSecond, "q/s", baseline: inProcess.qps, note: "baseline: faiss Flat with an IDSelectorBitmap")
            report.add(scenario, "latency p50", result.p50, "ms", baseline: percentile(inProcess.latencies, 0.5))
            report.add(scenario, "recall@\(k)", recall(found: found, truth: truth[f + 1], k: k), "", baseline: recall(found: inProcess.ids, truth: truth[f + 1], k: k))
        }
    }

    // MARK: query

    func query(_ server: ServerUnderTest, _ client: HTTPClient) throws {
        let scenario = "query by filter, 1 client"
        let body = Array(#"{"collectionName":"bench","filter":"category == 7","limit":100,"outputFields":["id","category","title"]}"#.utf8)
        let result = try LoadGenerator(port: server.port, path: "/v2/vectordb/entities/query", keepResponses: true).run(requests: queryCount) { _ in body }
        guard case .array(let rowsReturned)? = try JSON.parse(result.responses[0]!)["data"] else { throw BenchError("query: no data") }
        let expected = min(100, (0..<rows).filter { dataset.category($0) == 7 }.count)
        guard rowsReturned.count == expected else { throw BenchError("query returned \(rowsReturned.count) rows, expected \(expected)") }
        report.add(scenario, "QPS, category == 7, limit 100", result.requestsPerSecond, "q/s", note: "no faiss counterpart")
        report.add(scenario, "latency p50", result.p50, "ms")

        // count(*) under a 10% filter, checked against the dataset.
        let countBody = Array(#"{"collectionName":"bench","filter":"category < 10","outputFields":["count(*)"]}"#.utf8)
        let counted = try LoadGenerator(port: server.port, path: "/v2/vectordb/entities/query", keepResponses: true).run(requests: max(10, queryCount / 10)) { _ in countBody }
        let tenPercent = (0..<rows).filter { dataset.category($0) < 10 }.count
        guard String(decoding: counted.responses[0]!, as: UTF8.self).contains(#""count(*)":\#(tenPercent)"#) else {
            throw BenchError("count(*) disagrees with the dataset (\(tenPercent)): \(String(decoding: counted.responses[0]!, as: UTF8.self))")
        }
        report.add(scenario, "QPS, count(*) where category < 10", counted.requestsPerSecond, "q/s", note: "verified: \(tenPercent) rows")
    }

    // MARK: HNSW

    /// Issue 5's scenario: the same HNSW index built by the server (insert, flush, background
    /// build) and by faiss in-process; then an ef sweep with recall against the ground truth.
    func hnsw(_ server: ServerUnderTest, _ client: HTTPClient) throws {
        let efc = options.efConstruction
        let scenario = "HNSW M=16 efConstruction=\(efc), k=\(options.k)"
        let baseline = try FaissBaseline(dataset: dataset, description: "HNSW16", efConstruction: efc)
        let create = #"""
            {"collectionName":"hnsw","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},
             {"fieldName":"vector","dataType":"FloatVector","elementTypeParams":{"dim":\#(dataset.dim)}},
             {"fieldName":"category","dataType":"Int64"},
             {"fieldName":"title","dataType":"VarChar","elementTypeParams":{"max_length":64}}]},
             "indexParams":[{"fieldName":"vector","metricType":"L2","indexType":"HNSW","params":{"M":16,"efConstruction":\#(efc)}}]}
            """#
        try expectSuccess(client.post("/v2/vectordb/collections/create", json: create), "create the HNSW collection")
        let bodies = InsertBodies(dataset: dataset, batch: options.batch, collection: "hnsw")
        let batches = (rows + options.batch - 1) / options.batch
        _ = try LoadGenerator(port: server.port, connections: options.clients, path: "/v2/vectordb/entities/insert", showProgress: true).run(requests: batches) { bodies.body($0) }
        let lastAck = DispatchTime.now().uptimeNanoseconds
        try expectSuccess(client.post("/v2/vectordb/collections/flush", json: #"{"collectionName":"hnsw"}"#), "flush")
        while true {
            let described = try client.post("/v2/vectordb/indexes/describe", json: #"{"collectionName":"hnsw","indexName":"vector"}"#)
            if described.text.contains(#""indexState":"Finished""#) && !described.text.contains(#""totalRows":0"#) { break }
            guard !described.text.contains(#""indexState":"Failed""#), seconds(since: lastAck) < 3600 else { throw BenchError("index build: \(described.text)") }
            Thread.sleep(forTimeInterval: 0.05)
        }
        report.add(scenario, "last insert to index ready", seconds(since: lastAck), "s", baseline: baseline.buildSeconds, note: "baseline: faiss add in-process, all cores; target <= 1.2")

        let queries = dataset.allQueries()
        var chosen: (ef: Int, qps: Double, baseline: Double)?
        // Up to 384: at 1M rows the server's recall@10 reaches 0.95 right around ef=256.
        for ef in [16, 32, 64, 128, 256, 384] {
            let bodies = (0..<queryCount).map { searchBody($0..<($0 + 1), collection: "hnsw", ef: ef) }
            let result = try LoadGenerator(port: server.port, path: "/v2/vectordb/entities/search", keepResponses: true).run(requests: queryCount) { bodies[$0] }
            let found = try (0..<queryCount).map { try hitIDs(result.responses[$0]!, nq: 1)[0] }
            let inProcess = try baseline.sequential(queries, count: queryCount, k: options.k, ef: ef)
            let serverRecall = recall(found: found, truth: truth[0], k: options.k)
            report.add(scenario, "ef=\(ef) QPS (1 client)", result.requestsPerSecond, "q/s", baseline: inProcess.qps, note: "target >= 0.7 where recall >= 0.95")
            report.add(scenario, "ef=\(ef) recall@\(options.k)", serverRecall, "", baseline: recall(found: inProcess.ids, truth: truth[0], k: options.k))
            if chosen == nil && serverRecall >= 0.95 { chosen = (ef, result.requestsPerSecond, inProcess.qps) }
        }
        if let chosen {
            report.add(scenario, "recall >= 0.95 from ef=\(chosen.ef): QPS", chosen.qps, "q/s", baseline: chosen.baseline, note: "target >= 0.7")
        } else {
            report.add(scenario, "smallest ef with recall >= 0.95", 0, "", note: "none in the sweep")
        }

        try concurrencySweep(server, baseline)

        let filter = Dataset.filters[0]
        var bitmap = [UInt8](repeating: 0, count: (rows + 7) / 8)
        for id in 0..<rows where dataset.passes(id, filter: 0) { bitmap[id >> 3] |= 1 << UInt8(id & 7) }
        let filtered = (0..<queryCount).map { searchBody($0..<($0 + 1), filter: filter.expression, collection: "hnsw", ef: 64) }
        let result = try LoadGenerator(port: server.port, path: "/v2/vectordb/entities/search", keepResponses: true).run(requests: queryCount) { filtered[$0] }
        let found = try (0..<queryCount).map { try hitIDs(result.responses[$0]!, nq: 1)[0] }
        let inProcess = try baseline.sequential(queries, count: queryCount, k: options.k, bitmap: bitmap, ef: 64)
        report.add(scenario, "1% filter, ef=64 QPS", result.requestsPerSecond, "q/s", baseline: inProcess.qps, note: "baseline: faiss HNSW with a bitmap selector")
        report.add(scenario, "1% filter, ef=64 recall@\(options.k)", recall(found: found, truth: truth[1], k: options.k), "", baseline: recall(found: inProcess.ids, truth: truth[1], k: options.k))
    }

    /// Issue 23's sweep: c = 1, 2, 4, ... up to 4x the cores (at least 64) concurrent clients at
    /// ef=64 and ef=128, each beside faiss on min(c, cores) threads, with p50/p99 latency. The
    /// shape past the core count is the point: throughput must not fall as clients grow.
    func concurrencySweep(_ server: ServerUnderTest, _ baseline: FaissBaseline) throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let top = max(64, 4 * cores)
        var counts: [Int] = []
        var c = 1
        while c <= top {
            counts.append(c)
            c *= 2
        }
        let queries = dataset.allQueries()
        for ef in [64, 128] {
            let scenario = "HNSW concurrency sweep, ef=\(ef), k=\(options.k)"
            let bodies = (0..<queryCount).map { searchBody($0..<($0 + 1), collection: "hnsw", ef: ef) }
            var peak = 0.0, last = 0.0
            for clients in counts {
                let requests = max(queryCount, clients * 40)
                let result = try LoadGenerator(port: server.port, connections: clients, path: "/v2/vectordb/entities/search").run(requests: requests) {
                    bodies[$0 % bodies.count]
                }
                let inProcess = try baseline.concurrent(queries, count: requests, k: options.k, threads: min(clients, cores), ef: ef)
                peak = max(peak, result.requestsPerSecond)
                last = result.requestsPerSecond
                report.add(scenario, "c=\(clients) QPS", result.requestsPerSecond, "q/s", baseline: inProcess.qps,
                           note: "baseline: faiss on \(min(clients, cores)) threads; p50 \(String(format: "%.2f", result.p50)) ms, p99 \(String(format: "%.2f", result.p99)) ms")
            }
            report.add(scenario, "QPS at c=\(counts.last!) over the peak", peak > 0 ? last / peak : 0, "", note: "target >= 0.95")
        }
    }

    // MARK: helpers

    /// The ids of each query's hits in a search response (a flat list split by `topks`).
    func hitIDs(_ body: [UInt8], nq: Int) throws -> [[Int64]] {
        let json = try JSON.parse(body)
        guard case .array(let items)? = json["data"] else { throw BenchError("search response without data") }
        var counts = [items.count]
        if case .array(let topks)? = json["topks"] {
            counts = topks.compactMap { if case .int(let n) = $0 { return Int(n) } else { return nil } }
        }
        guard counts.count == nq, counts.reduce(0, +) == items.count else { throw BenchError("topks do not match \(nq) queries") }
        var out: [[Int64]] = []
        var offset = 0
        for count in counts {
            out.append(items[offset..<(offset + count)].map { if case .int(let id)? = $0["id"] { return id } else { return -1 } })
            offset += count
        }
        return out
    }

    func expectSuccess(_ response: HTTPClient.Response, _ what: String) throws {
        guard response.text.hasPrefix("{\"code\":0") else { throw BenchError("\(what): \(response.text.prefix(300))") }
    }
}

/// Insert request bodies for the dataset: batch `b` holds rows b*batch ..< (b+1)*batch, whose
/// primary keys are their row numbers (the ids the ground truth speaks of).
struct InsertBodies: Sendable {
    let dataset: Dataset
    let batch: Int
    var collection = "bench"

    func body(_ b: Int) -> [UInt8] {
        let first = b * batch, count = min(batch, dataset.spec.rows - first)
        var out: [UInt8] = []
        out.reserveCapacity(count * (dataset.dim * 7 + 64) + 64)
        out += Array(#"{"collectionName":"\#(collection)","data":["#.utf8)
        for id in first..<(first + count) {
            if id > first { out.append(UInt8(ascii: ",")) }
            out += Array(#"{"id":\#(id),"vector":"#.utf8)
            dataset.appendVector(id, to: &out)
            out += Array(#","category":\#(dataset.category(id)),"title":"title-\#(id)"}"#.utf8)
        }
        out += Array("]}".utf8)
        return out
    }
}
