import ElanusCore
import ElanusQuery
import ElanusStorage

/// BIN_IVF_FLAT: binary vectors clustered into `nlist` lists around binary centroids (k-modes:
/// Hamming assignment, per-bit majority update); a search ranks the centroids by Hamming
/// distance and scans the `nprobe` nearest lists exactly, with HAMMING or JACCARD.
///
/// Our own rather than faiss's `IndexBinaryIVF`: in faiss 1.7.3 binary indexes take no search
/// parameters, so neither a per-request nprobe nor an ID selector (the facts file). Here both
/// come with every search, and the scan is XOR + popcount over 64-bit words.
///
/// Body layout: nlist u32, words per row u32, then arrays (u64 count + items): centroids
/// (nlist x words u64), list offsets (nlist + 1 i64), row ids in list order (i32), and the codes
/// in list order (words u64 per row, zero-padded).
final class BinaryIVFIndex: VectorIndex, SerializedSegmentIndex {
    let plan: IndexPlan
    let rows: Int
    private let nlist: Int
    private let words: Int
    private let centroids: [UInt64]
    private let offsets: [Int64]
    private let ids: [Int32]
    private let codes: [UInt64]

    private init(plan: IndexPlan, rows: Int, nlist: Int, words: Int, centroids: [UInt64], offsets: [Int64], ids: [Int32], codes: [UInt64]) {
        self.plan = plan
        self.rows = rows
        self.nlist = nlist
        self.words = words
        self.centroids = centroids
        self.offsets = offsets
        self.ids = ids
        self.codes = codes
    }

    /// Training iterations, and training points per list (faiss samples 256 per centroid too).
    static let iterations = 10
    static let samplesPerList = 256

    /// `codes` holds `bytesPerRow` bytes per row. Lists are capped at rows/39, as for IVF.
    static func build(_ plan: IndexPlan, codes bytes: [UInt8], bytesPerRow: Int, nlist requested: Int) -> BinaryIVFIndex {
        let rows = bytesPerRow > 0 ? bytes.count / bytesPerRow : 0
        let words = max(1, (bytesPerRow + 7) / 8)
        var padded = [UInt64](repeating: 0, count: rows * words)
        for r in 0..<rows {
            for b in 0..<bytesPerRow { padded[r * words + b / 8] |= UInt64(bytes[r * bytesPerRow + b]) << UInt64((b % 8) * 8) }
        }
        let nlist = max(1, min(requested, rows / 39))
        // Initial centroids: rows spread evenly over the segment; training on an even sample.
        let step = max(1, rows / max(1, nlist))
        var centroids = [UInt64](repeating: 0, count: nlist * words)
        for c in 0..<nlist where rows > 0 {
            let r = min(rows - 1, c * step)
            for w in 0..<words { centroids[c * words + w] = padded[r * words + w] }
        }
        let sampleStep = max(1, rows / max(1, nlist * samplesPerList))
        let sample = Array(stride(from: 0, to: rows, by: sampleStep))
        for _ in 0..<iterations {
            var counts = [Int32](repeating: 0, count: nlist * words * 64)
            var members = [Int32](repeating: 0, count: nlist)
            for r in sample {
                let c = nearest(padded, r * words, centroids, nlist: nlist, words: words)
                members[c] += 1
                for w in 0..<words {
                    var bits = padded[r * words + w]
                    while bits != 0 {
                        counts[(c * words + w) * 64 + bits.trailingZeroBitCount] += 1
                        bits &= bits - 1
                    }
                }
            }
            var changed = false
            for c in 0..<nlist where members[c] > 0 {
                for w in 0..<words {
                    var word: UInt64 = 0
                    for bit in 0..<64 where 2 * counts[(c * words + w) * 64 + bit] > members[c] { word |= 1 << UInt64(bit) }
                    if centroids[c * words + w] != word {
                        centroids[c * words + w] = word
                        changed = true
                    }
                }
            }
            if !changed { break }
        }
        var lists = [[Int32]](repeating: [], count: nlist)
        for r in 0..<rows { lists[nearest(padded, r * words, centroids, nlist: nlist, words: words)].append(Int32(r)) }
        var offsets: [Int64] = [0]
        var ids: [Int32] = []
        var ordered: [UInt64] = []
        ids.reserveCapacity(rows)
        ordered.reserveCapacity(rows * words)
        for list in lists {
            for r in list {
                ids.append(r)
                ordered += padded[Int(r) * words..<(Int(r) + 1) * words]
            }
            offsets.append(Int64(ids.count))
        }
        return BinaryIVFIndex(plan: plan, rows: rows, nlist: nlist, words: words, centroids: centroids, offsets: offsets, ids: ids, codes: ordered)
    }

    private static func nearest(_ codes: [UInt64], _ start: Int, _ centroids: [UInt64], nlist: Int, words: Int) -> Int {
        var best = 0
        var bestDistance = Int.max
        for c in 0..<nlist {
            var d = 0
            for w in 0..<words { d += (codes[start + w] ^ centroids[c * words + w]).nonzeroBitCount }
            if d < bestDistance {
                bestDistance = d
                best = c
            }
        }
        return best
    }

    func search(_ query: QueryVector, k: Int, options: IndexSearchOptions, bitmap: [UInt8]?) throws(ElanusError) -> [(score: Float, row: Int)] {
        guard case .binary(let bytes) = query, k > 0 else { return [] }
        var q = [UInt64](repeating: 0, count: words)
        for (b, byte) in bytes.enumerated() where b / 8 < words { q[b / 8] |= UInt64(byte) << UInt64((b % 8) * 8) }
        // Milvus probes 8 lists unless told otherwise.
        let nprobe = min(nlist, max(1, options.nprobe ?? 8))
        var probes = TopK<Int>(k: nprobe)
        for c in 0..<nlist {
            var d = 0
            for w in 0..<words { d += (q[w] ^ centroids[c * words + w]).nonzeroBitCount }
            probes.push(Float(d), c)
        }
        let jaccard = plan.metric == .jaccard
        var top = TopK<Int>(k: k)
        for probe in probes.sorted() {
            let list = probe.item
            for i in Int(offsets[list])..<Int(offsets[list + 1]) {
                let row = Int(ids[i])
                if let bitmap, bitmap[row >> 3] & (1 << UInt8(row & 7)) == 0 { continue }
                let base = i * words
                let score: Float
                if jaccard {
                    var and = 0
                    var or = 0
                    for w in 0..<words {
                        and += (q[w] & codes[base + w]).nonzeroBitCount
                        or += (q[w] | codes[base + w]).nonzeroBitCount
                    }
                    score = or == 0 ? 0 : 1 - Float(and) / Float(or)
                } else {
                    var d = 0
                    for w in 0..<words { d += (q[w] ^ codes[base + w]).nonzeroBitCount }
                    score = Float(d)
                }
                top.push(score, row)
            }
        }
        return top.sorted().map { (score: $0.key, row: $0.item) }
    }

    func serialized() throws(ElanusError) -> [UInt8] {
        var w = ByteWriter(capacity: 64 + codes.count * 8 + ids.count * 4 + centroids.count * 8)
        w.write(UInt32(nlist))
        w.write(UInt32(words))
        w.writeArray(centroids)
        w.writeArray(offsets)
        w.writeArray(ids)
        w.writeArray(codes)
        return w.bytes
    }

    static func deserialize(_ body: [UInt8], name: String, plan: IndexPlan, rows: Int) throws(ElanusError) -> BinaryIVFIndex {
        var r = ByteReader(body, what: name)
        let nlist = Int(try r.read(UInt32.self))
        let words = Int(try r.read(UInt32.self))
        let centroids = try r.readArray(UInt64.self)
        let offsets = try r.readArray(Int64.self)
        let ids = try r.readArray(Int32.self)
        let codes = try r.readArray(UInt64.self)
        guard nlist > 0, words > 0, centroids.count == nlist * words, offsets.count == nlist + 1, offsets.first == 0,
            offsets.last == Int64(rows), ids.count == rows, codes.count == rows * words,
            zip(offsets, offsets.dropFirst()).allSatisfy({ $0 <= $1 }), ids.allSatisfy({ $0 >= 0 && Int($0) < rows })
        else { throw .unexpected("\(name) is corrupt: inconsistent binary IVF lists") }
        return BinaryIVFIndex(plan: plan, rows: rows, nlist: nlist, words: words, centroids: centroids, offsets: offsets, ids: ids, codes: codes)
    }
}
