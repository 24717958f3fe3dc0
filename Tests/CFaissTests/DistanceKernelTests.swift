import CFaiss
import Testing

/// Our AVX2/FMA kernels replace faiss's distance functions; they must agree with a plain Swift
/// reference on random data, for every dimension shape (multiples of 16 and 8, and ragged tails).
@Suite struct DistanceKernelTests {
    static let dimensions = [1, 3, 7, 8, 9, 15, 16, 17, 31, 64, 100, 128, 257, 768, 1000]

    func randomVector(_ d: Int, _ rng: inout SplitMix) -> [Float] {
        (0..<d).map { _ in Float(rng.nextUnit() * 2 - 1) }
    }

    func referenceL2(_ x: [Float], _ y: [Float]) -> Double {
        zip(x, y).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
    }

    func referenceIP(_ x: [Float], _ y: [Float]) -> Double {
        zip(x, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    func close(_ a: Float, _ b: Double, scale: Double) -> Bool {
        abs(Double(a) - b) <= 1e-4 * max(1.0, scale)
    }

    @Test func simdKernelsAreActiveOnThisMachine() {
        // The CI machines have AVX2+FMA; if this ever fails, the fallback loops are in use.
        #expect(vf_simd_kernels_active() == 1)
    }

    @Test(arguments: dimensions)
    func l2AndInnerProductMatchReference(d: Int) {
        var rng = SplitMix(seed: UInt64(d) * 7919)
        for _ in 0..<50 {
            let x = randomVector(d, &rng)
            let y = randomVector(d, &rng)
            let l2 = vf_l2sqr(x, y, d)
            let ip = vf_inner_product(x, y, d)
            let norm = vf_norm_l2sqr(x, d)
            #expect(close(l2, referenceL2(x, y), scale: Double(d)), "L2 d=\(d)")
            #expect(close(ip, referenceIP(x, y), scale: Double(d)), "IP d=\(d)")
            #expect(close(norm, referenceIP(x, x), scale: Double(d)), "norm d=\(d)")
            #expect(close(vf_l2sqr_scalar(x, y, d), referenceL2(x, y), scale: Double(d)))
            #expect(close(vf_inner_product_scalar(x, y, d), referenceIP(x, y), scale: Double(d)))
        }
    }

    @Test func batchedKernelsMatchSingleCalls() {
        var rng = SplitMix(seed: 42)
        let d = 128, ny = 37
        let x = randomVector(d, &rng)
        let ys = (0..<ny).flatMap { _ in randomVector(d, &rng) }
        var l2 = [Float](repeating: 0, count: ny)
        var ip = [Float](repeating: 0, count: ny)
        vf_l2sqr_ny(&l2, x, ys, d, ny)
        vf_inner_products_ny(&ip, x, ys, d, ny)
        for i in 0..<ny {
            let y = Array(ys[(i * d)..<((i + 1) * d)])
            #expect(close(l2[i], referenceL2(x, y), scale: Double(d)))
            #expect(close(ip[i], referenceIP(x, y), scale: Double(d)))
        }
    }

    @Test func faissFlatIndexUsesTheKernelsAndFindsExactNeighbours() throws {
        var rng = SplitMix(seed: 7)
        let d = 32, n = 500
        let data = (0..<n).flatMap { _ in randomVector(d, &rng) }
        var index: OpaquePointer?
        #expect(vf_index_factory(Int32(d), "Flat", Int32(VF_METRIC_L2), &index) == 0)
        defer { vf_index_free(index) }
        #expect(vf_index_add(index, Int64(n), data) == 0)
        #expect(vf_index_ntotal(index) == Int64(n))
        let query = Array(data[(123 * d)..<(124 * d)])
        var distances = [Float](repeating: 0, count: 5)
        var labels = [Int64](repeating: -1, count: 5)
        #expect(vf_index_search(index, 1, query, 5, &distances, &labels) == 0)
        #expect(labels[0] == 123)
        #expect(distances[0] < 1e-5)
        let brute = (0..<n).map { i in (i, referenceL2(query, Array(data[(i * d)..<((i + 1) * d)]))) }.sorted { $0.1 < $1.1 }
        #expect(labels.map(Int.init) == brute.prefix(5).map(\.0))
    }

    @Test func bitmapSearchReturnsOnlyAllowedRowsInExactOrder() throws {
        let d = 16, n = 500
        var rng = SplitMix(seed: 11)
        let data = (0..<(n * d)).map { _ in Float(rng.next() % 1000) / 500 - 1 }
        var index: OpaquePointer?
        #expect(vf_index_factory(Int32(d), "Flat", Int32(VF_METRIC_L2), &index) == 0)
        defer { vf_index_free(index) }
        #expect(vf_index_add(index, Int64(n), data) == 0)
        // Every third row is allowed.
        var bitmap = [UInt8](repeating: 0, count: (n + 7) / 8)
        for i in stride(from: 0, to: n, by: 3) { bitmap[i >> 3] |= 1 << UInt8(i & 7) }
        let query = Array(data[(10 * d)..<(11 * d)])
        var distances = [Float](repeating: 0, count: 8)
        var labels = [Int64](repeating: -1, count: 8)
        #expect(vf_index_search_bitmap(index, 1, query, 8, bitmap, bitmap.count, &distances, &labels) == 0)
        let brute = stride(from: 0, to: n, by: 3).map { i in (i, referenceL2(query, Array(data[(i * d)..<((i + 1) * d)]))) }.sorted { $0.1 < $1.1 }
        #expect(labels.map(Int.init) == brute.prefix(8).map(\.0))
    }

    @Test func faissExceptionsBecomeErrorText() {
        var index: OpaquePointer?
        #expect(vf_index_factory(16, "NoSuchIndexType", Int32(VF_METRIC_L2), &index) == -1)
        #expect(index == nil)
        let message = String(cString: vf_last_error())
        #expect(message.contains("could not parse") || message.contains("NoSuchIndexType"), "\(message)")
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
