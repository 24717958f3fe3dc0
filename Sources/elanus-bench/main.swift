import ArgumentParser
import CFaiss
import Foundation

/// Elanus's benchmark harness. Scenarios grow with the server's capabilities (see Scripts/bench);
/// speed targets live here, never in unit tests.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "elanus-bench", abstract: "Benchmarks for Elanus.", subcommands: [Kernels.self, Insert.self, Search.self], defaultSubcommand: Kernels.self)
}

struct Kernels: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Distance kernels through the faiss shim: SIMD vs portable loops, and a faiss Flat search that uses them.")

    @Flag(help: "Fewer iterations (about ten seconds).")
    var quick = false

    func run() {
        vf_set_omp_threads(1)
        let calls = quick ? 500_000 : 4_000_000
        print("simd kernels active: \(vf_simd_kernels_active() == 1 ? "yes (AVX2+FMA)" : "no (portable loops)")")
        print(pad("dim", 6) + pad("kernel", 8) + pad("portable ns", 14) + pad("simd ns", 10) + "speedup")
        var rng = SystemRandomNumberGenerator()
        for d in [128, 768] {
            let vectors = 256
            let data = (0..<(vectors * d)).map { _ in Float.random(in: -1...1, using: &rng) }
            let n = calls * 128 / d
            let l2Scalar = nsPerCall(data, d, vectors, n) { vf_l2sqr_scalar($0, $1, $2) }
            let l2 = nsPerCall(data, d, vectors, n) { vf_l2sqr($0, $1, $2) }
            let ipScalar = nsPerCall(data, d, vectors, n) { vf_inner_product_scalar($0, $1, $2) }
            let ip = nsPerCall(data, d, vectors, n) { vf_inner_product($0, $1, $2) }
            print(pad("\(d)", 6) + pad("L2", 8) + pad(fmt(l2Scalar), 14) + pad(fmt(l2), 10) + fmt(l2Scalar / l2) + "x")
            print(pad("\(d)", 6) + pad("IP", 8) + pad(fmt(ipScalar), 14) + pad(fmt(ip), 10) + fmt(ipScalar / ip) + "x")
        }
        flatSearch(rows: quick ? 20_000 : 100_000, d: 128, queries: quick ? 50 : 200)
    }

    /// One query at a time over a Flat index, single-threaded: the exact-search floor.
    func flatSearch(rows: Int, d: Int, queries: Int) {
        var rng = SystemRandomNumberGenerator()
        let data = (0..<(rows * d)).map { _ in Float.random(in: -1...1, using: &rng) }
        var index: OpaquePointer?
        guard vf_index_factory(Int32(d), "Flat", Int32(VF_METRIC_L2), &index) == 0 else {
            print("faiss: \(String(cString: vf_last_error()))")
            return
        }
        defer { vf_index_free(index) }
        _ = vf_index_add(index, Int64(rows), data)
        var distances = [Float](repeating: 0, count: 10)
        var labels = [Int64](repeating: 0, count: 10)
        let start = DispatchTime.now().uptimeNanoseconds
        for q in 0..<queries {
            let query = Array(data[((q % rows) * d)..<((q % rows + 1) * d)])
            _ = vf_index_search(index, 1, query, 10, &distances, &labels)
        }
        let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 / Double(queries)
        print("faiss Flat, 1 query over \(rows) x \(d), k=10, 1 thread: \(fmt(ms)) ms/query")
    }

    func nsPerCall(
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

func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count) }
func fmt(_ x: Double) -> String { String(format: "%.2f", x) }

Bench.main()
