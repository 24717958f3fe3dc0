import CFaiss
import Dispatch
import ElanusQuery
import Foundation
import Synchronization

/// A seeded synthetic dataset: vectors drawn from a Gaussian mixture (so that nearest neighbours
/// share a cluster, as real embeddings do, rather than being uniform noise), with an int64
/// `category` in 0..<100 for filters of known selectivity and a varchar `title`.
///
/// Coordinates are quantized to thousandths and kept as Int16. The client prints them as short
/// decimals with integer arithmetic (so it is never the bottleneck), and `Float(Double(q) / 1000)`
/// is exactly the value the server parses from that text, so the in-process baseline and the
/// ground truth see the same vectors as the server.
struct Dataset: Sendable {
    struct Spec: Sendable, CustomStringConvertible {
        var dim: Int
        var rows: Int
        var queries: Int
        var seed: UInt64 = 1
        var clusters = 64
        var name: String { "gmm-d\(dim)-n\(rows)-q\(queries)-c\(clusters)-s\(seed)" }
        var description: String { "\(rows) x \(dim) Gaussian mixture (\(clusters) clusters, seed \(seed)), \(queries) queries" }
    }

    /// The filters the benchmark runs, with the fraction of rows each keeps.
    static let filters: [(name: String, expression: String, fraction: Double)] = [
        ("1%", "category == 7", 0.01), ("10%", "category < 10", 0.10), ("50%", "category < 50", 0.50),
    ]
    static let groundTruthDepth = 100

    let spec: Spec
    /// Row-major quantized coordinates, rows x dim.
    let quantized: [Int16]
    let queryQuantized: [Int16]

    var dim: Int { spec.dim }

    static func category(_ id: Int, seed: UInt64) -> Int {
        var mixer = SplitMix(seed: UInt64(id) &* 0x9E37_79B9 ^ seed)
        return Int(mixer.next() % 100)
    }
    func category(_ id: Int) -> Int { Dataset.category(id, seed: spec.seed) }

    /// Whether row `id` passes filter number `filter` (an index into `filters`, nil for none).
    func passes(_ id: Int, filter: Int?) -> Bool {
        guard let filter else { return true }
        let c = category(id)
        switch filter {
        case 0: return c == 7
        case 1: return c < 10
        default: return c < 50
        }
    }

    static func float(_ q: Int16) -> Float { Float(Double(q) / 1000) }

    func vector(_ row: Int) -> [Float] { quantized[(row * dim)..<((row + 1) * dim)].map(Dataset.float) }
    func query(_ q: Int) -> [Float] { queryQuantized[(q * dim)..<((q + 1) * dim)].map(Dataset.float) }
    func allVectors() -> [Float] { quantized.map(Dataset.float) }
    func allQueries() -> [Float] { queryQuantized.map(Dataset.float) }

    /// Appends the JSON array of row `row`'s vector (or query `row` when `query`) to `out`.
    func appendVector(_ row: Int, query: Bool = false, to out: inout [UInt8]) {
        let source = query ? queryQuantized : quantized
        out.append(UInt8(ascii: "["))
        for i in (row * dim)..<((row + 1) * dim) {
            if i > row * dim { out.append(UInt8(ascii: ",")) }
            var v = Int(source[i])
            if v < 0 {
                out.append(UInt8(ascii: "-"))
                v = -v
            }
            let whole = v / 1000, fraction = v % 1000
            if whole >= 10 { out.append(UInt8(ascii: "0") + UInt8(whole / 10)) }
            out.append(UInt8(ascii: "0") + UInt8(whole % 10))
            out.append(UInt8(ascii: "."))
            out.append(UInt8(ascii: "0") + UInt8(fraction / 100))
            out.append(UInt8(ascii: "0") + UInt8(fraction / 10 % 10))
            out.append(UInt8(ascii: "0") + UInt8(fraction % 10))
        }
        out.append(UInt8(ascii: "]"))
    }

    /// Loads the dataset from `folder/<name>/`, generating and caching it first when absent.
    static func load(_ spec: Spec, folder: String) throws -> Dataset {
        let directory = folder + "/" + spec.name
        let vectorsPath = directory + "/vectors.i16", queriesPath = directory + "/queries.i16"
        if let vectors = readInt16(vectorsPath, count: spec.rows * spec.dim),
            let queries = readInt16(queriesPath, count: spec.queries * spec.dim)
        {
            return Dataset(spec: spec, quantized: vectors, queryQuantized: queries)
        }
        let start = DispatchTime.now().uptimeNanoseconds
        var rng = SplitMix(seed: spec.seed)
        let centers = (0..<(spec.clusters * spec.dim)).map { _ in rng.gaussian() }
        func draw(_ count: Int, _ rng: inout SplitMix) -> [Int16] {
            var out = [Int16](repeating: 0, count: count * spec.dim)
            for r in 0..<count {
                let c = Int(rng.next() % UInt64(spec.clusters)) * spec.dim
                for j in 0..<spec.dim {
                    let x = centers[c + j] + 0.35 * rng.gaussian()
                    out[r * spec.dim + j] = Int16(max(-9.999, min(9.999, x)) * 1000)
                }
            }
            return out
        }
        let vectors = draw(spec.rows, &rng)
        var queryRng = SplitMix(seed: spec.seed ^ 0xABCD_EF01)
        let queries = draw(spec.queries, &queryRng)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try writeInt16(vectors, vectorsPath)
        try writeInt16(queries, queriesPath)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print("dataset: generated \(spec) in \(fmt(seconds)) s, cached in \(directory)")
        return Dataset(spec: spec, quantized: vectors, queryQuantized: queries)
    }

    /// Exact top-100 (L2) of every query, unfiltered and under each filter, computed once with our
    /// own exact scan (the SIMD batched kernel and a heap) and cached beside the data. Row ids
    /// are the primary keys the benchmark inserts; -1 pads a query with fewer matches.
    func groundTruth(folder: String) throws -> [[[Int64]]] {
        let depth = Dataset.groundTruthDepth
        let variants = 1 + Dataset.filters.count
        let path = folder + "/" + spec.name + "/groundtruth-l2-top\(depth).i64"
        let count = variants * spec.queries * depth
        if let data = FileManager.default.contents(atPath: path), data.count == count * 8 {
            let flat = data.withUnsafeBytes { Array($0.bindMemory(to: Int64.self)) }
            return (0..<variants).map { v in (0..<spec.queries).map { q in Array(flat[((v * spec.queries + q) * depth)..<((v * spec.queries + q + 1) * depth)]) } }
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let vectors = allVectors(), queries = allQueries()
        let categories = (0..<spec.rows).map { category($0) }
        let results = Mutex<[[[Int64]]]>(Array(repeating: Array(repeating: [], count: spec.queries), count: variants))
        let progress = Progress(total: spec.queries)
        let dim = self.dim, rows = spec.rows
        DispatchQueue.concurrentPerform(iterations: spec.queries) { q in
            var distances = [Float](repeating: 0, count: rows)
            queries.withUnsafeBufferPointer { qp in
                vectors.withUnsafeBufferPointer { vp in
                    distances.withUnsafeMutableBufferPointer { vf_l2sqr_ny($0.baseAddress!, qp.baseAddress! + q * dim, vp.baseAddress!, dim, rows) }
                }
            }
            var heaps = (0..<variants).map { _ in TopK<Int64>(k: depth) }
            for r in 0..<rows {
                let c = categories[r], d = distances[r]
                heaps[0].push(d, Int64(r))
                if c == 7 { heaps[1].push(d, Int64(r)) }
                if c < 10 { heaps[2].push(d, Int64(r)) }
                if c < 50 { heaps[3].push(d, Int64(r)) }
            }
            let ids = heaps.map { heap in
                let found = heap.sorted().map(\.item)
                return found + Array(repeating: -1, count: depth - found.count)
            }
            results.withLock { for v in 0..<variants { $0[v][q] = ids[v] } }
            progress.step()
        }
        progress.finish()
        let truth = results.withLock { $0 }
        let flat = truth.flatMap { $0.flatMap { $0 } }
        try flat.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: path), options: .atomic) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print("dataset: exact top-\(depth) ground truth for \(spec.queries) queries x \(variants) filters in \(fmt(seconds)) s, cached")
        return truth
    }

    private static func readInt16(_ path: String, count: Int) -> [Int16]? {
        guard let data = FileManager.default.contents(atPath: path), data.count == count * 2 else { return nil }
        return data.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
    }

    private static func writeInt16(_ values: [Int16], _ path: String) throws {
        // Atomic (temporary name, then rename), so an interrupted run never leaves a short file
        // that a later run would mistake for the cache.
        try values.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: path), options: .atomic) }
    }
}

/// Recall@k of `found` against the first k ids of `truth` (ids that exist; -1 pads).
func recall(found: [[Int64]], truth: [[Int64]], k: Int) -> Double {
    var hits = 0, possible = 0
    for (f, t) in zip(found, truth) {
        let expected = Set(t.prefix(k).filter { $0 >= 0 })
        possible += expected.count
        hits += f.prefix(k).filter { expected.contains($0) }.count
    }
    return possible == 0 ? 1 : Double(hits) / Double(possible)
}
