import CFaiss
import Foundation
import Testing

/// The shim runs HNSW searches itself, with one visited table kept per thread across searches
/// and indexes. A search must not depend on what the thread searched before: every answer on a
/// long-lived thread (tables grown, reused across indexes, and cleared in full every 249
/// searches) must equal the answer on a thread that never searched.
@Suite struct HNSWSearchTests {
    static let dim = 16

    struct Hits: Sendable {
        var ids: [Int64]
        var distances: [Float]
    }

    final class Index: @unchecked Sendable {
        let pointer: OpaquePointer
        let rows: [Float]
        let count: Int
        let metric: Int32

        init(count: Int, metric: Int32, seed: UInt64) throws {
            var rng = SplitMix(seed: seed)
            rows = (0..<(count * HNSWSearchTests.dim)).map { _ in Float(rng.nextUnit() * 2 - 1) }
            self.count = count
            self.metric = metric
            var out: OpaquePointer?
            try #require(vf_index_factory(Int32(HNSWSearchTests.dim), "HNSW16", metric, &out) == 0)
            pointer = try #require(out)
            vf_index_set_hnsw(pointer, 40, 512)
            try #require(vf_index_add(pointer, Int64(count), rows) == 0)
        }

        deinit { vf_index_free(pointer) }

        /// One query's (ids, distances) at `ef`, optionally limited to the rows set in `bitmap`.
        func search(_ query: [Float], k: Int, ef: Int, bitmap: [UInt8]?) -> Hits {
            var distances = [Float](repeating: 0, count: k)
            var labels = [Int64](repeating: -1, count: k)
            let status = vf_index_search_with(pointer, 1, query, Int64(k), Int32(ef), 0, bitmap, bitmap?.count ?? 0, &distances, &labels)
            precondition(status == 0, String(cString: vf_last_error()))
            return Hits(ids: labels, distances: distances)
        }
    }

    /// Runs `body` on a thread created for it, so the shim's per-thread table starts empty.
    func onFreshThread(_ body: @escaping @Sendable () -> Hits) -> Hits {
        final class Box: @unchecked Sendable { var value: Hits? }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        Thread {
            box.value = body()
            done.signal()
        }.start()
        done.wait()
        return box.value!
    }

    @Test(arguments: [Int32(VF_METRIC_L2), Int32(VF_METRIC_INNER_PRODUCT)])
    func keptVisitedTableGivesTheAnswersOfAFreshOne(metric: Int32) throws {
        // Small first, so the table grows when the large index comes; alternating afterwards.
        let small = try Index(count: 700, metric: metric, seed: 11)
        let large = try Index(count: 2500, metric: metric, seed: 12)
        var rng = SplitMix(seed: 13)
        let queries = (0..<300).map { _ in (0..<Self.dim).map { _ in Float(rng.nextUnit() * 2 - 1) } }
        // Every third row of the large index: a filter path through the same table.
        let bitmap = (0..<((large.count + 7) / 8)).map { byte in
            (0..<8).reduce(UInt8(0)) { bits, bit in (byte * 8 + bit) % 3 == 0 ? bits | (1 << bit) : bits }
        }
        let k = 10
        for (i, query) in queries.enumerated() {
            let index = i % 2 == 0 ? small : large
            let filter = i % 4 == 3 ? bitmap : nil
            let kept = index.search(query, k: k, ef: 32, bitmap: filter)
            let fresh = onFreshThread { index.search(query, k: k, ef: 32, bitmap: filter) }
            #expect(kept.ids == fresh.ids, "query \(i)")
            #expect(kept.distances == fresh.distances, "query \(i)")
            if let filter { #expect(kept.ids.allSatisfy { $0 >= 0 && filter[Int($0) / 8] & (1 << ($0 % 8)) != 0 }) }
        }
    }

    final class Reports {
        var done: [Int64] = []
        var totals: Set<Int64> = []
    }

    /// Rows appended in slices and linked in one pass (on two threads) make a graph that finds
    /// the true neighbours, and the pass reports its progress up to every row.
    @Test(arguments: [Int32(VF_METRIC_L2), Int32(VF_METRIC_INNER_PRODUCT)])
    func appendedSlicesLinkIntoOneGraph(metric: Int32) throws {
        let count = 3000
        var rng = SplitMix(seed: 31)
        let rows = (0..<(count * Self.dim)).map { _ in Float(rng.nextUnit() * 2 - 1) }
        var out: OpaquePointer?
        try #require(vf_index_factory(Int32(Self.dim), "HNSW16", metric, &out) == 0)
        let index = try #require(out)
        defer { vf_index_free(index) }
        vf_index_set_hnsw(index, 40, 512)
        for start in stride(from: 0, to: count, by: 1000) {
            try #require(vf_index_hnsw_append(index, 1000, Array(rows[(start * Self.dim)..<((start + 1000) * Self.dim)])) == 0)
        }
        #expect(vf_index_ntotal(index) == 0, "appended rows are not searchable until linked")
        let reports = Reports()
        vf_set_omp_threads(2)
        let status = vf_index_hnsw_link(index, { context, done, total in
            let reports = Unmanaged<Reports>.fromOpaque(context!).takeUnretainedValue()
            reports.done.append(done)
            reports.totals.insert(total)
            return 0
        }, Unmanaged.passUnretained(reports).toOpaque())
        vf_set_omp_threads(1)
        try #require(status == 0, "\(String(cString: vf_last_error()))")
        #expect(vf_index_ntotal(index) == Int64(count))
        #expect(reports.totals == [Int64(count)])
        #expect(!reports.done.isEmpty && zip(reports.done, reports.done.dropFirst()).allSatisfy { $0 < $1 })
        #expect(reports.done.last ?? 0 <= Int64(count))
        // Linking again has nothing left to do.
        #expect(vf_index_hnsw_link(index, nil, nil) == 0 && vf_index_ntotal(index) == Int64(count))

        var found = 0
        for q in 0..<50 {
            let query = (0..<Self.dim).map { _ in Float(rng.nextUnit() * 2 - 1) }
            var distances = [Float](repeating: 0, count: 10)
            var labels = [Int64](repeating: -1, count: 10)
            try #require(vf_index_search_with(index, 1, query, 10, 64, 0, nil, 0, &distances, &labels) == 0)
            let scored = (0..<count).map { r in
                let row = Array(rows[(r * Self.dim)..<((r + 1) * Self.dim)])
                return (r, metric == Int32(VF_METRIC_L2) ? vf_l2sqr(query, row, Self.dim) : -vf_inner_product(query, row, Self.dim))
            }
            let exact = Set(scored.sorted { $0.1 < $1.1 }.prefix(10).map { Int64($0.0) })
            found += exact.intersection(labels).count
            if q == 0 { #expect(labels.allSatisfy { $0 >= 0 }) }
        }
        #expect(Double(found) / 500 >= 0.95)
    }

    /// A progress callback that answers non-zero stops the link: every thread ends after its
    /// current claim and the call fails with "cancelled".
    @Test func aProgressCallbackCanCancelTheLink() throws {
        let count = 20_000
        var rng = SplitMix(seed: 7)
        let rows = (0..<(count * Self.dim)).map { _ in Float(rng.nextUnit() * 2 - 1) }
        var out: OpaquePointer?
        try #require(vf_index_factory(Int32(Self.dim), "HNSW16", Int32(VF_METRIC_L2), &out) == 0)
        let index = try #require(out)
        defer { vf_index_free(index) }
        vf_index_set_hnsw(index, 40, 512)
        try #require(vf_index_hnsw_append(index, Int64(count), rows) == 0)
        let reports = Reports()
        vf_set_omp_threads(2)
        let status = vf_index_hnsw_link(index, { context, done, _ in
            let reports = Unmanaged<Reports>.fromOpaque(context!).takeUnretainedValue()
            reports.done.append(done)
            return reports.done.count >= 3 ? 1 : 0
        }, Unmanaged.passUnretained(reports).toOpaque())
        vf_set_omp_threads(1)
        #expect(status != 0)
        #expect(String(cString: vf_last_error()).contains("cancelled"))
        #expect(reports.done.count == 3, "no progress after the stop: \(reports.done.count) reports")
    }

    @Test func linkRefusesOtherIndexTypes() throws {
        var out: OpaquePointer?
        try #require(vf_index_factory(Int32(Self.dim), "Flat", Int32(VF_METRIC_L2), &out) == 0)
        let index = try #require(out)
        defer { vf_index_free(index) }
        #expect(vf_index_hnsw_append(index, 1, [Float](repeating: 0, count: Self.dim)) != 0)
        #expect(vf_index_hnsw_link(index, nil, nil) != 0)
        #expect(String(cString: vf_last_error()).contains("HNSW"))
    }

    @Test func innerProductDistancesAreTheProductsBestFirst() throws {
        let index = try Index(count: 1500, metric: Int32(VF_METRIC_INNER_PRODUCT), seed: 21)
        var rng = SplitMix(seed: 22)
        var found = 0
        var agreed = 0
        for _ in 0..<50 {
            let query = (0..<Self.dim).map { _ in Float(rng.nextUnit() * 2 - 1) }
            let hits = index.search(query, k: 10, ef: 128, bitmap: nil)
            for (id, distance) in zip(hits.ids, hits.distances) {
                let row = Array(index.rows[(Int(id) * Self.dim)..<((Int(id) + 1) * Self.dim)])
                #expect(abs(distance - vf_inner_product(query, row, Self.dim)) < 1e-4)
            }
            #expect(zip(hits.distances, hits.distances.dropFirst()).allSatisfy { $0 >= $1 })
            // The true top 10 by inner product, to check that the graph walk maximizes.
            let exact = (0..<index.count).map { r in
                (r, vf_inner_product(query, Array(index.rows[(r * Self.dim)..<((r + 1) * Self.dim)]), Self.dim))
            }.sorted { $0.1 > $1.1 }.prefix(10).map { Int64($0.0) }
            found += 10
            agreed += Set(exact).intersection(hits.ids).count
        }
        #expect(Double(agreed) / Double(found) >= 0.9)
    }
}
