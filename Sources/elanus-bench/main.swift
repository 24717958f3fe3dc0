import ArgumentParser
import CFaiss
import Foundation
import CSystem

/// Elanus's benchmark harness. `run` measures every scenario the landed capabilities support,
/// each against its in-process baseline in the same run, prints a table and writes a JSON file.
/// Speed targets live here, never in unit tests.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "elanus-bench", abstract: "Benchmarks for Elanus.", subcommands: [RunAll.self, Scan.self, Spatial.self, Text.self, Kernels.self], defaultSubcommand: RunAll.self)
}

struct RunAll: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Every scenario, against a freshly started server, with ratios to in-process faiss.")

    @Option(help: "Rows in the dataset (10,000 to 1,000,000).") var rows = 1_000_000
    @Option(help: "Vector dimension (128 or 768).") var dim = 128
    @Option(help: "Query vectors (ground truth is computed for each).") var queries = 1000
    @Option(help: "Rows per insert request.") var batch = 1000
    @Option(help: "Concurrent insert clients.") var clients = 4
    @Option(help: "Concurrent search clients.") var concurrency = 4
    @Option(help: "Queries per request in the batched search scenario.") var nq = 100
    @Option(help: "HNSW efConstruction (M is 16).") var efConstruction = 200
    @Option(help: "Dataset seed.") var seed: UInt64 = 1
    @Option(help: "Where datasets and ground truth are cached.") var dataFolder = "bench-data"
    @Option(help: "The JSON report (default: <data-folder>/results/<date>.json).") var json: String?
    @Option(help: "Documents in the full-text scenario (0 skips it).") var textRows = 1_000_000
    @Flag(help: "About a minute: 100,000 rows, 200 queries, shorter kernel runs.") var quick = false
    @Flag(help: "Keep the server's data directory at the end (its path is printed).") var keepData = false
    @Option(help: "Points in the spatial scenario (0 skips it; --quick caps it at 100,000).") var spatialPoints = 1_000_000

    func run() throws {
        csys_line_buffer_stdio()
        let report = Report()
        let spec = Dataset.Spec(dim: dim, rows: quick ? min(rows, 100_000) : rows, queries: quick ? min(queries, 200) : queries, seed: seed)
        guard spec.rows >= 1000, spec.queries >= 10, spec.dim > 0 else { throw BenchError("need at least 1,000 rows and 10 queries") }
        for (key, value) in [("rows", spec.rows), ("dim", spec.dim), ("queries", spec.queries), ("clusters", spec.clusters), ("batch", batch),
                             ("clients", clients), ("concurrency", concurrency), ("nq", nq), ("k", 10), ("hnswM", 16), ("efConstruction", efConstruction)] {
            report.parameter(key, .int(Int64(value)))
        }
        report.parameter("dataset", .string(spec.name))
        report.parameter("quick", .bool(quick))
        report.parameter("metric", "L2")
        print("elanus-bench run: \(spec)")

        Kernels.measure(report: report, quick: quick)
        let dataset = try Dataset.load(spec, folder: dataFolder)
        let truth = try dataset.groundTruth(folder: dataFolder)
        try ScanScenario(report: report, dataset: dataset, rows: min(spec.rows, 100_000)).run()
        try ServerScenarios(report: report, dataset: dataset, truth: truth,
                            options: .init(batch: batch, clients: clients, concurrency: concurrency, k: 10, nq: nq, efConstruction: efConstruction, keepData: keepData)).run()
        let points = quick ? min(spatialPoints, 100_000) : spatialPoints
        if points > 0 {
            report.parameter("spatialPoints", .int(Int64(points)))
            try SpatialScenario(report: report, points: points, dim: 32, queries: min(spec.queries, 200), k: 10, keepData: keepData).run()
        }
        let documents = quick ? min(textRows, 100_000) : textRows
        if documents > 0 {
            report.parameter("textRows", .int(Int64(documents)))
            try TextScenario(report: report, rows: documents, queries: spec.queries, batch: batch, clients: clients, concurrency: concurrency, seed: seed, keepData: keepData).run()
        }

        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "-")
        let path = json ?? "\(dataFolder)/results/\(stamp).json"
        try report.write(to: path)
        print("\nreport: \(path)")
    }
}

struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Only the engine's in-process exact scan: against the raw kernel, faiss Flat (filtered and batched), and the scalar index.")

    @Option(help: "Rows scanned (1,000 to 1,000,000).") var rows = 100_000
    @Option(help: "Vector dimension.") var dim = 128
    @Option(help: "Query vectors.") var queries = 200
    @Option(help: "Dataset seed.") var seed: UInt64 = 1
    @Option(help: "Where datasets are cached.") var dataFolder = "bench-data"

    func run() throws {
        csys_line_buffer_stdio()
        vf_set_omp_threads(1)
        let spec = Dataset.Spec(dim: dim, rows: rows, queries: queries, seed: seed)
        guard spec.rows >= 1000, spec.queries >= 10 else { throw BenchError("need at least 1,000 rows and 10 queries") }
        print("elanus-bench scan: \(spec)")
        try ScanScenario(report: Report(), dataset: try Dataset.load(spec, folder: dataFolder), rows: spec.rows).run()
    }
}

struct Spatial: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Only the spatial scenario: filtered vector search inside a 1% polygon, without and with the RTREE index.")

    @Option(help: "Points (rows), each with a vector.") var points = 1_000_000
    @Option(help: "Vector dimension.") var dim = 32
    @Option(help: "Query vectors.") var queries = 200
    @Flag(help: "Keep the server's data directory at the end.") var keepData = false

    func run() throws {
        csys_line_buffer_stdio()
        guard points >= 1000, queries >= 10, dim > 0 else { throw BenchError("need at least 1,000 points and 10 queries") }
        print("elanus-bench spatial: \(points) points, dim \(dim), \(queries) queries")
        try SpatialScenario(report: Report(), points: points, dim: dim, queries: queries, k: 10, keepData: keepData).run()
    }
}

struct Text: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Only the full-text scenario: raw-text inserts with a BM25 function, BM25 search and text_match on a fresh server, against the same scoring in-process.")

    @Option(help: "Documents (1,000 to 10,000,000).") var rows = 1_000_000
    @Option(help: "Text queries.") var queries = 1000
    @Option(help: "Rows per insert request.") var batch = 1000
    @Option(help: "Concurrent insert clients.") var clients = 4
    @Option(help: "Concurrent search clients.") var concurrency = 4
    @Option(help: "Corpus seed.") var seed: UInt64 = 1
    @Option(help: "The JSON report (default: bench-data/results/text-<date>.json).") var json: String?
    @Flag(help: "Keep the server's data directory at the end (its path is printed).") var keepData = false

    func run() throws {
        csys_line_buffer_stdio()
        guard (1000...10_000_000).contains(rows), queries >= 10 else { throw BenchError("need 1,000 to 10,000,000 documents and 10 queries") }
        let report = Report()
        for (key, value) in [("textRows", rows), ("queries", queries), ("batch", batch), ("clients", clients), ("concurrency", concurrency)] {
            report.parameter(key, .int(Int64(value)))
        }
        try TextScenario(report: report, rows: rows, queries: queries, batch: batch, clients: clients, concurrency: concurrency, seed: seed, keepData: keepData).run()
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "-")
        let path = json ?? "bench-data/results/text-\(stamp).json"
        try report.write(to: path)
        print("\nreport: \(path)")
    }
}

struct Kernels: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Distance kernels through the faiss shim: SIMD vs portable loops, and a faiss Flat search that uses them.")

    @Flag(help: "Fewer iterations.")
    var quick = false

    func run() { Kernels.measure(report: Report(), quick: quick) }

    /// Nanoseconds per call of each SIMD kernel, against the portable loop as the baseline.
    static func measure(report: Report, quick: Bool) {
        vf_set_omp_threads(1)
        let calls = quick ? 500_000 : 4_000_000
        let scenario = "distance kernels through the shim (\(vf_simd_kernels_active() == 1 ? "AVX2+FMA active" : "portable loops only"))"
        var rng = SystemRandomNumberGenerator()
        for d in [128, 768] {
            let vectors = 256
            let data = (0..<(vectors * d)).map { _ in Float.random(in: -1...1, using: &rng) }
            let n = calls * 128 / d
            let l2Scalar = nsPerCall(data, d, vectors, n) { vf_l2sqr_scalar($0, $1, $2) }
            let l2 = nsPerCall(data, d, vectors, n) { vf_l2sqr($0, $1, $2) }
            let ipScalar = nsPerCall(data, d, vectors, n) { vf_inner_product_scalar($0, $1, $2) }
            let ip = nsPerCall(data, d, vectors, n) { vf_inner_product($0, $1, $2) }
            report.add(scenario, "L2 d=\(d)", l2, "ns/call", baseline: l2Scalar, note: "baseline: portable loop")
            report.add(scenario, "IP d=\(d)", ip, "ns/call", baseline: ipScalar, note: "baseline: portable loop")
        }
    }

    static func nsPerCall(
        _ data: [Float], _ d: Int, _ vectors: Int, _ calls: Int,
        _ kernel: (UnsafePointer<Float>, UnsafePointer<Float>, Int) -> Float
    ) -> Double {
        data.withUnsafeBufferPointer { buffer in
            let base = buffer.baseAddress!
            var acc: Float = 0
            var best = Double.infinity
            for _ in 0..<3 {
                let start = DispatchTime.now().uptimeNanoseconds
                for i in 0..<calls { acc += kernel(base, base + (i % vectors) * d, d) }
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / Double(calls))
            }
            if acc == .infinity { print("") }  // keeps the loop from being optimised away
            return best
        }
    }
}

Bench.main()
