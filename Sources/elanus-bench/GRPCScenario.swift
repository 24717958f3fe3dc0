import Dispatch
import ElanusCore
import ElanusHTTP
import ElanusProto
import Foundation
import Synchronization

/// The gRPC path beside REST: the same inserts and nq=1 searches, through GRPCBenchClient, with
/// the same ratios to in-process faiss. Requests are built before the timed phase.
extension ServerScenarios {
    static let service = "/milvus.proto.milvus.MilvusService/"

    func grpc(_ server: ServerUnderTest, _ client: HTTPClient, _ baseline: FaissBaseline, restInsertRowsPerSecond: Double) throws {
        let k = options.k
        // Search the FLAT collection the REST scenarios filled.
        let requests = (0..<queryCount).map { q -> Milvus_Proto_Milvus_SearchRequest in
            var request = Milvus_Proto_Milvus_SearchRequest()
            request.collectionName = "bench"
            request.dslType = .boolExprV1
            request.nq = 1
            request.searchParams = [kv("anns_field", "vector"), kv("topk", String(k)), kv("metric_type", "L2"), kv("params", "{}")]
            var value = Milvus_Proto_Common_PlaceholderValue()
            value.tag = "$0"
            value.type = .floatVector
            value.values = [dataset.query(q).withUnsafeBytes { Data($0) }]
            var group = Milvus_Proto_Common_PlaceholderGroup()
            group.placeholders = [value]
            request.placeholderGroup = (try? group.serializedData()) ?? Data()
            return request
        }
        let scenario = "gRPC search nq=1, 1 client, k=\(k), FLAT (exact)"
        let connection = try GRPCBenchClient(port: server.port)
        // Serialized before, decoded after the timed phase (as the REST load generator does).
        let serialized: [[UInt8]] = try requests.map { try $0.serializedBytes() }
        var answers: [[UInt8]] = []
        answers.reserveCapacity(serialized.count)
        var latencies: [Double] = []
        let start = DispatchTime.now().uptimeNanoseconds
        for request in serialized {
            let t0 = DispatchTime.now().uptimeNanoseconds
            answers.append(try connection.call(Self.service + "Search", serialized: request))
            latencies.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        let secondsTaken = seconds(since: start)
        latencies.sort()
        var found: [[Int64]] = []
        for bytes in answers {
            let response = try Milvus_Proto_Milvus_SearchResults(serializedBytes: bytes)
            guard response.status.code == 0 else { throw BenchError("gRPC search: \(response.status.reason)") }
            found.append(response.results.ids.intID.data)
        }
        let inProcess = try baseline.sequential(dataset.allQueries(), count: queryCount, k: k)
        report.add(scenario, "QPS", Double(requests.count) / secondsTaken, "q/s", baseline: inProcess.qps, note: "baseline: faiss Flat, 1 thread")
        report.add(scenario, "latency p50", percentile(latencies, 0.5), "ms", baseline: percentile(inProcess.latencies, 0.5))
        report.add(scenario, "recall@\(k)", recall(found: found, truth: truth[0], k: k), "", baseline: recall(found: inProcess.ids, truth: truth[0], k: k))

        // nq = 1 from several clients at once, each on its own connection.
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let concurrentScenario = "gRPC search nq=1, \(options.concurrency) clients, k=\(k), FLAT (exact)"
        let total = queryCount * 2
        let next = Atomic<Int>(0)
        let failure = Mutex<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        let port = server.port
        let shared = serialized
        let concurrentStart = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<options.concurrency {
            let thread = Thread {
                do {
                    let connection = try GRPCBenchClient(port: port)
                    while true {
                        let n = next.add(1, ordering: .relaxed).oldValue
                        if n >= total { break }
                        _ = try connection.call(Self.service + "Search", serialized: shared[n % shared.count])
                    }
                } catch {
                    failure.withLock { $0 = $0 ?? "\(error)" }
                }
                done.signal()
            }
            thread.start()
        }
        for _ in 0..<options.concurrency { done.wait() }
        if let failure = failure.withLock({ $0 }) { throw BenchError("gRPC concurrent search: \(failure)") }
        let concurrentSeconds = seconds(since: concurrentStart)
        let inProcessConcurrent = try baseline.concurrent(dataset.allQueries(), count: total, k: k, threads: cores)
        report.add(concurrentScenario, "QPS", Double(total) / concurrentSeconds, "q/s", baseline: inProcessConcurrent.qps, note: "baseline: faiss Flat, \(cores) threads")

        // Insert the same rows into a second collection, through gRPC's columnar FieldData.
        let create = #"""
            {"collectionName":"bench_grpc","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},
             {"fieldName":"vector","dataType":"FloatVector","elementTypeParams":{"dim":\#(dataset.dim)}},
             {"fieldName":"category","dataType":"Int64"},
             {"fieldName":"title","dataType":"VarChar","elementTypeParams":{"max_length":64}}]},
             "indexParams":[{"fieldName":"vector","metricType":"L2","indexType":"FLAT"}]}
            """#
        try expectSuccess(client.post("/v2/vectordb/collections/create", json: create), "create the gRPC collection")
        let batches = (rows + options.batch - 1) / options.batch
        let inserts: [[UInt8]] = try (0..<batches).map { try insertRequest($0).serializedBytes() }
        let insertScenario = "gRPC insert (\(options.clients) clients, \(options.batch) rows per request, durable)"
        let nextBatch = Atomic<Int>(0)
        let insertFailure = Mutex<String?>(nil)
        let insertsDone = DispatchSemaphore(value: 0)
        let insertStart = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<options.clients {
            let thread = Thread {
                do {
                    let connection = try GRPCBenchClient(port: port)
                    while true {
                        let n = nextBatch.add(1, ordering: .relaxed).oldValue
                        if n >= inserts.count { break }
                        let result = try Milvus_Proto_Milvus_MutationResult(serializedBytes: connection.call(Self.service + "Insert", serialized: inserts[n]))
                        guard result.status.code == 0 else { throw BenchError("gRPC insert: \(result.status.reason)") }
                    }
                } catch {
                    insertFailure.withLock { $0 = $0 ?? "\(error)" }
                }
                insertsDone.signal()
            }
            thread.start()
        }
        for _ in 0..<options.clients { insertsDone.wait() }
        if let failure = insertFailure.withLock({ $0 }) { throw BenchError(failure) }
        let grpcRowsPerSecond = Double(rows) / seconds(since: insertStart)
        report.add(insertScenario, "rows/s", grpcRowsPerSecond, "rows/s", baseline: restInsertRowsPerSecond, note: "baseline: the same rows over REST, above")
        try expectSuccess(client.post("/v2/vectordb/collections/drop", json: #"{"collectionName":"bench_grpc"}"#), "drop the gRPC collection")
    }

    private func kv(_ key: String, _ value: String) -> Milvus_Proto_Common_KeyValuePair {
        var pair = Milvus_Proto_Common_KeyValuePair()
        pair.key = key
        pair.value = value
        return pair
    }

    /// Batch `b` of the dataset as InsertRequest columns.
    func insertRequest(_ b: Int) -> Milvus_Proto_Milvus_InsertRequest {
        let first = b * options.batch, count = min(options.batch, rows - first)
        let ids = (first..<(first + count)).map { Int64($0) }
        var request = Milvus_Proto_Milvus_InsertRequest()
        request.collectionName = "bench_grpc"
        request.numRows = UInt32(count)
        var idField = Milvus_Proto_Schema_FieldData()
        idField.fieldName = "id"
        idField.type = .int64
        idField.scalars.longData.data = ids
        var vectorField = Milvus_Proto_Schema_FieldData()
        vectorField.fieldName = "vector"
        vectorField.type = .floatVector
        vectorField.vectors.dim = Int64(dataset.dim)
        vectorField.vectors.floatVector.data = ids.flatMap { dataset.vector(Int($0)) }
        var category = Milvus_Proto_Schema_FieldData()
        category.fieldName = "category"
        category.type = .int64
        category.scalars.longData.data = ids.map { Int64(dataset.category(Int($0))) }
        var title = Milvus_Proto_Schema_FieldData()
        title.fieldName = "title"
        title.type = .varChar
        title.scalars.stringData.data = ids.map { "title-\($0)" }
        request.fieldsData = [idField, vectorField, category, title]
        return request
    }
}
