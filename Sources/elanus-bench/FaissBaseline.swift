import CFaiss
import Dispatch
import Foundation
import Synchronization

/// The physical limit in the same run: the same index type and parameters built and searched
/// in-process through our faiss shim, with no HTTP, JSON or engine in between. Single-query
/// searches run with one OpenMP thread per searching thread, as the server's do.
final class FaissBaseline: @unchecked Sendable {
    let dim: Int
    let rows: Int
    private let index: OpaquePointer
    /// Seconds to build (train and add) the index.
    let buildSeconds: Double

    /// `efConstruction` applies to HNSW descriptions; the build uses every core, as the server's
    /// index node does.
    init(dataset: Dataset, description: String, efConstruction: Int = 0) throws {
        dim = dataset.dim
        rows = dataset.spec.rows
        var made: OpaquePointer?
        guard vf_index_factory(Int32(dim), description, Int32(VF_METRIC_L2), &made) == 0, let made else {
            throw BenchError("faiss index_factory(\(description)): \(String(cString: vf_last_error()))")
        }
        index = made
        let vectors = dataset.allVectors()
        vf_index_set_hnsw(index, Int32(efConstruction), 4096)
        vf_set_omp_threads(Int32(ProcessInfo.processInfo.activeProcessorCount))
        let start = DispatchTime.now().uptimeNanoseconds
        guard vf_index_add(index, Int64(rows), vectors) == 0 else { throw BenchError("faiss add: \(String(cString: vf_last_error()))") }
        buildSeconds = seconds(since: start)
        vf_set_omp_threads(1)
    }

    deinit { vf_index_free(index) }

    struct Run {
        var seconds: Double
        var queries: Int
        var latencies: [Double]
        var ids: [[Int64]]
        var qps: Double { Double(queries) / seconds }
    }

    /// `count` single queries one after another on one thread (wrapping around `queries`),
    /// optionally restricted to the rows set in `bitmap`.
    func sequential(_ queries: [Float], count: Int, k: Int, bitmap: [UInt8]? = nil, ef: Int = 0) throws -> Run {
        vf_set_omp_threads(1)
        let n = queries.count / dim
        var latencies: [Double] = []
        var ids: [[Int64]] = []
        let start = DispatchTime.now().uptimeNanoseconds
        for i in 0..<count {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let found = try search(queries, from: i % n, count: 1, k: k, bitmap: bitmap, ef: ef)
            latencies.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            if i < n { ids.append(found) }
        }
        return Run(seconds: seconds(since: start), queries: count, latencies: latencies.sorted(), ids: ids)
    }

    /// `count` single queries spread over `threads` threads: the in-process throughput limit.
    func concurrent(_ queries: [Float], count: Int, k: Int, threads: Int, ef: Int = 0) throws -> Run {
        let n = queries.count / dim
        let failure = Mutex<String?>(nil)
        let start = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            vf_set_omp_threads(1)
            var i = t
            while i < count {
                do { _ = try search(queries, from: i % n, count: 1, k: k, bitmap: nil, ef: ef) } catch { failure.withLock { $0 = "\(error)" } }
                i += threads
            }
        }
        if let message = failure.withLock({ $0 }) { throw BenchError(message) }
        return Run(seconds: seconds(since: start), queries: count, latencies: [], ids: [])
    }

    /// Batches of `nq` queries in one call, with faiss free to use `threads` cores (default:
    /// every core). faiss's exact search of 20 or more queries is one BLAS matrix product per
    /// block, so the cores go to OpenBLAS and OpenMP keeps one thread: OpenMP threads spinning
    /// beside as many OpenBLAS threads oversubscribed the machine (6 q/s on 16 cores).
    func batched(_ queries: [Float], nq: Int, batches: Int, k: Int, threads: Int? = nil) throws -> Run {
        vf_set_omp_threads(1)
        vf_set_blas_threads(Int32(threads ?? ProcessInfo.processInfo.activeProcessorCount))
        defer { vf_set_blas_threads(1) }
        let n = queries.count / dim
        var ids: [[Int64]] = []
        let start = DispatchTime.now().uptimeNanoseconds
        for b in 0..<batches {
            let first = (b * nq) % max(1, n - nq + 1)
            let flat = try search(queries, from: first, count: nq, k: k, bitmap: nil)
            if b == 0 { ids = (0..<nq).map { Array(flat[($0 * k)..<(($0 + 1) * k)]) } }
        }
        return Run(seconds: seconds(since: start), queries: nq * batches, latencies: [], ids: ids)
    }

    private func search(_ queries: [Float], from first: Int, count: Int, k: Int, bitmap: [UInt8]?, ef: Int = 0) throws -> [Int64] {
        var distances = [Float](repeating: 0, count: count * k)
        var labels = [Int64](repeating: -1, count: count * k)
        let status = queries.withUnsafeBufferPointer { q in
            let x = q.baseAddress! + first * dim
            if ef > 0 {
                return vf_index_search_with(index, Int64(count), x, Int64(k), Int32(ef), 0, bitmap, bitmap?.count ?? 0, &distances, &labels)
            }
            if let bitmap {
                return vf_index_search_bitmap(index, Int64(count), x, Int64(k), bitmap, bitmap.count, &distances, &labels)
            }
            return vf_index_search(index, Int64(count), x, Int64(k), &distances, &labels)
        }
        guard status == 0 else { throw BenchError("faiss search: \(String(cString: vf_last_error()))") }
        return labels
    }
}
