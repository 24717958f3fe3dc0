import CFaiss
import Dispatch
import ElanusCore
import ElanusEngine
import ElanusQuery
import Foundation

/// The engine's exact scan over growing rows, in-process (no HTTP, no JSON), against the raw SIMD
/// kernel over the same vectors in the same run: what the engine adds to the physical floor.
struct ScanScenario {
    let report: Report
    let dataset: Dataset
    var rows: Int

    func run() throws {
        let dim = dataset.dim
        let queryCount = min(dataset.spec.queries, 200)
        let queries = (0..<queryCount).map(dataset.query)
        let scenario = "engine exact scan in-process, \(rows) x \(dim) growing rows, nq=1, k=10"

        let data = Array(dataset.allVectors()[0..<(rows * dim)])
        var out = [Float](repeating: 0, count: rows)
        let kernelStart = DispatchTime.now().uptimeNanoseconds
        for q in queries {
            q.withUnsafeBufferPointer { qp in
                data.withUnsafeBufferPointer { dp in
                    out.withUnsafeMutableBufferPointer { vf_l2sqr_ny($0.baseAddress!, qp.baseAddress!, dp.baseAddress!, dim, rows) }
                }
            }
        }
        let kernelMs = seconds(since: kernelStart) * 1000 / Double(queryCount)

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
        let bodies = InsertBodies(dataset: Dataset(spec: .init(dim: dim, rows: rows, queries: 0), quantized: Array(dataset.quantized[0..<(rows * dim)]), queryQuantized: []), batch: 1000)
        for b in 0..<(rows + 999) / 1000 {
            let batch = try bodies.body(b).withUnsafeBufferPointer { buffer throws(ElanusError) in
                var reader = JSONReader(bytes: buffer)
                reader.rewind(to: prefix)
                return try decoder.decode(&reader).batch
            }
            _ = try engine.insert(info, partitionName: nil, batch: batch)
        }
        let field = info.schema.fields[1]
        func engineMs(_ predicate: ElanusQuery.Predicate?) throws -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            for q in queries {
                _ = try engine.search(info, SearchRequest(field: field, metric: .l2, vectors: [.dense(q)], limit: 10, predicate: predicate))
            }
            return seconds(since: start) * 1000 / Double(queryCount)
        }
        let scanMs = try engineMs(nil)
        let onePercent = try FilterChecker.check(Dataset.filters[0].expression, schema: info.schema)
        let filteredMs = try engineMs(onePercent)
        report.add(scenario, "engine scan", scanMs, "ms/query", baseline: kernelMs, note: "baseline: raw vf_l2sqr_ny over the same rows; target <= 1.2")
        report.add(scenario, "engine scan, 1% filter", filteredMs, "ms/query", baseline: scanMs, note: "baseline: the unfiltered scan; target < 1")

        // The same rows in a faiss Flat index, in-process: one thread per query, and a batch.
        let rowsOnly = Dataset(spec: .init(dim: dim, rows: rows, queries: 0), quantized: Array(dataset.quantized[0..<(rows * dim)]), queryQuantized: [])
        let faiss = try FaissBaseline(dataset: rowsOnly, description: "Flat")
        let flatQueries = queries.flatMap { $0 }
        let faissScan = try faiss.sequential(flatQueries, count: queryCount, k: 10)
        report.add(scenario, "engine scan vs faiss Flat", scanMs, "ms/query", baseline: faissScan.seconds * 1000 / Double(queryCount), note: "baseline: faiss Flat, 1 thread")
        let tenPercent = Dataset.filters[1]
        var bitmap = [UInt8](repeating: 0, count: (rows + 7) / 8)
        for id in 0..<rows where dataset.passes(id, filter: 1) { bitmap[id >> 3] |= 1 << UInt8(id & 7) }
        let faissFiltered = try faiss.sequential(flatQueries, count: queryCount, k: 10, bitmap: bitmap)
        let tenMs = try engineMs(try FilterChecker.check(tenPercent.expression, schema: info.schema))
        report.add(scenario, "engine scan, \(tenPercent.name) filter", tenMs, "ms/query", baseline: faissFiltered.seconds * 1000 / Double(queryCount),
                   note: "baseline: faiss Flat with an IDSelectorBitmap (prebuilt), 1 thread; target <= 1")

        let nq = min(100, queryCount)
        let batches = max(3, queryCount / nq)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let batchStart = DispatchTime.now().uptimeNanoseconds
        for b in 0..<batches {
            let first = (b * nq) % max(1, queryCount - nq + 1)
            _ = try engine.search(info, SearchRequest(field: field, metric: .l2, vectors: (first..<(first + nq)).map { .dense(queries[$0]) }, limit: 10))
        }
        let engineBatchQPS = Double(batches * nq) / seconds(since: batchStart)
        let faissBatch = try faiss.batched(flatQueries, nq: nq, batches: batches, k: 10, threads: cores)
        report.add(scenario, "engine scan nq=\(nq) batch", engineBatchQPS, "q/s", baseline: faissBatch.qps,
                   note: "baseline: faiss Flat batch, OpenBLAS on \(cores) threads, OpenMP 1; target >= 1")
        try scalarIndex(engine, info, onePercent, engineMs)
    }

    /// The 1% filter (`category == 7`) over the same rows flushed, without and then with an
    /// STL_SORT index on category: a filtered search, and count(*) alone (the filter's own cost).
    private func scalarIndex(_ engine: Engine, _ info: CollectionInfo, _ predicate: ElanusQuery.Predicate, _ searchMs: (ElanusQuery.Predicate?) throws -> Double) throws {
        let scenario = "scalar index, \(rows) flushed rows, filter category == 7 (1%)"
        try engine.flush(info)
        func countMs() throws -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<50 { _ = try engine.count(info, predicate: predicate) }
            return seconds(since: start) * 1000 / 50
        }
        let plainCount = try countMs()
        let plainSearch = try searchMs(predicate)
        let spec = IndexSpec(indexName: "category", fieldName: "category", indexType: "STL_SORT", metricType: "")
        try engine.createIndex(database: "default", collection: "bench", spec)
        let indexed = try engine.catalog.collection(database: "default", name: "bench")
        let buildStart = DispatchTime.now().uptimeNanoseconds
        while try engine.indexProgress(indexed, spec).state != "Finished" { Thread.sleep(forTimeInterval: 0.005) }
        let buildSeconds = seconds(since: buildStart)
        let indexedCount = try countMs()
        let indexedSearch = try searchMs(predicate)
        report.add(scenario, "STL_SORT build, create to Finished", buildSeconds, "s")
        report.add(scenario, "count(*) with filter, no scalar index", plainCount, "ms/query")
        report.add(scenario, "count(*) with filter, STL_SORT", indexedCount, "ms/query", baseline: plainCount, note: "baseline: no scalar index; target < 1")
        report.add(scenario, "exact search with filter, STL_SORT", indexedSearch, "ms/query", baseline: plainSearch, note: "baseline: no scalar index; target < 1")
    }
}
