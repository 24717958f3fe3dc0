import ArgumentParser
import CFaiss
import Dispatch
import ElanusCore
import ElanusEngine
import ElanusHTTP
import ElanusQuery
import Foundation

/// Issue 4's search scenario: exact search over growing rows, nq = 1, k = 10. The scan is timed
/// in-process through the engine (against the raw kernel over the same data, in the same run),
/// and end to end over HTTP against a freshly started server, with and without a 1% filter.
struct Search: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Exact search over growing segments: the scan against the raw kernel, and QPS over HTTP.")

    @Option(help: "Rows in the collection.") var rows = 100_000
    @Option(help: "Vector dimension.") var dim = 128
    @Option(help: "Queries per measurement.") var queries = 200
    @Flag(help: "Fewer queries.") var quick = false

    func run() throws {
        let queryCount = quick ? 50 : queries
        let bodies = RequestBodies(dim: dim, batch: 1000)
        print("search: \(rows) x \(dim) growing rows, nq = 1, k = 10, exact (L2)")
        let queryVectors = (0..<queryCount).map { i in bodies.floats(i * 7 + 3) }

        // 1. The raw kernel over the same data: the physical floor of an exact scan.
        let data = (0..<rows).flatMap { bodies.floats($0) }
        var out = [Float](repeating: 0, count: rows)
        let kernelStart = DispatchTime.now().uptimeNanoseconds
        for q in queryVectors {
            q.withUnsafeBufferPointer { qp in
                data.withUnsafeBufferPointer { dp in
                    out.withUnsafeMutableBufferPointer { vf_l2sqr_ny($0.baseAddress!, qp.baseAddress!, dp.baseAddress!, dim, rows) }
                }
            }
        }
        let kernelMs = Double(DispatchTime.now().uptimeNanoseconds - kernelStart) / 1e6 / Double(queryCount)

        // 2. The engine's scan, in process (no HTTP, no JSON).
        let directory = NSTemporaryDirectory() + "elanus-bench-engine-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let engine = try Engine(configuration: .init(dataDirectory: directory))
        defer { engine.close() }
        let schema = CollectionSchema(fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimary: true),
            FieldSchema(name: "vector", dataType: .floatVector, typeParams: [KeyValue("dim", String(dim))]),
            FieldSchema(name: "category", dataType: .int64),
            FieldSchema(name: "title", dataType: .varChar, typeParams: [KeyValue("max_length", "64")]),
        ])
        try engine.catalog.createCollection(CreateCollectionRequest(
            database: "default", name: "bench", schema: schema,
            indexes: [IndexSpec(indexName: "vector", fieldName: "vector", indexType: "FLAT", metricType: "L2")]))
        try engine.catalog.load(database: "default", name: "bench")
        let info = try engine.catalog.collection(database: "default", name: "bench")
        let decoder = EntityRowDecoder(schema: info.schema, options: .init())
        let prefix = Array(#"{"collectionName":"bench","data":"#.utf8).count
        for b in 0..<(rows + 999) / 1000 {
            let body = bodies.body(batch: b, rows: min(1000, rows - b * 1000))
            let batch = try body.withUnsafeBufferPointer { buffer throws(ElanusError) in
                var reader = JSONReader(bytes: buffer)
                reader.rewind(to: prefix)
                return try decoder.decode(&reader).batch
            }
            _ = try engine.insert(info, partitionName: nil, batch: batch)
        }
        let field = info.schema.fields[1]
        func engineMs(_ predicate: ElanusQuery.Predicate?) throws -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            for q in queryVectors {
                _ = try engine.search(info, SearchRequest(field: field, metric: .l2, vectors: [.dense(q)], limit: 10, predicate: predicate))
            }
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 / Double(queryCount)
        }
        let scanMs = try engineMs(nil)
        let onePercent = try FilterChecker.check("category == 7", schema: info.schema)
        let filteredScanMs = try engineMs(onePercent)

        // 3. End to end over HTTP.
        let server = try ServerUnderTest()
        defer { server.stop() }
        let client = HTTPClient(port: server.port)
        let create = #"""
            {"collectionName":"bench","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},
             {"fieldName":"vector","dataType":"FloatVector","elementTypeParams":{"dim":\#(dim)}},
             {"fieldName":"category","dataType":"Int64"},
             {"fieldName":"title","dataType":"VarChar","elementTypeParams":{"max_length":64}}]},
             "indexParams":[{"fieldName":"vector","metricType":"L2","indexType":"FLAT"}]}
            """#
        guard try client.post("/v2/vectordb/collections/create", json: create).text.contains("\"code\":0") else { throw BenchError("create failed") }
        for b in 0..<(rows + 999) / 1000 {
            let response = try client.request("POST", "/v2/vectordb/entities/insert", body: bodies.body(batch: b, rows: min(1000, rows - b * 1000)))
            guard response.text.hasPrefix("{\"code\":0") else { throw BenchError("insert failed: \(response.text.prefix(200))") }
        }
        func http(_ filter: String?) throws -> [Double] {
            var latencies: [Double] = []
            for q in queryVectors {
                let vector = "[" + q.map { String($0) }.joined(separator: ",") + "]"
                let filterPart = filter.map { #","filter":"\#($0)""# } ?? ""
                let body = #"{"collectionName":"bench","data":[\#(vector)],"limit":10\#(filterPart)}"#
                let start = DispatchTime.now().uptimeNanoseconds
                let response = try client.post("/v2/vectordb/entities/search", json: body)
                latencies.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                guard response.text.hasPrefix("{\"code\":0") else { throw BenchError("search failed: \(response.text.prefix(200))") }
            }
            return latencies.sorted()
        }
        let plain = try http(nil)
        let filtered = try http("category == 7")

        print(pad("raw kernel ms/query", 34) + fmt(kernelMs) + "  (" + fmt(kernelMs * 1e6 / Double(rows)) + " ns per distance)")
        print(pad("engine scan ms/query", 34) + fmt(scanMs) + "  (" + fmt(scanMs * 1e6 / Double(rows)) + " ms per million distances; x" + fmt(scanMs / kernelMs) + " of the kernel, target <= 1.5)")
        print(pad("engine scan, 1% filter ms/query", 34) + fmt(filteredScanMs) + "  (x" + fmt(filteredScanMs / scanMs) + " of unfiltered, target < 1)")
        print(pad("HTTP QPS (1 client)", 34) + fmt(1000 / average(plain)) + "  p50 " + fmt(percentile(plain, 0.5)) + " ms, p99 " + fmt(percentile(plain, 0.99)) + " ms")
        print(pad("HTTP QPS, 1% filter", 34) + fmt(1000 / average(filtered)) + "  p50 " + fmt(percentile(filtered, 0.5)) + " ms, p99 " + fmt(percentile(filtered, 0.99)) + " ms")
    }
}

func average(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }
