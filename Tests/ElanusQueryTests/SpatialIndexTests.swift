import ElanusCore
import ElanusQuery
import Testing

/// The packed R-tree against a brute force over random boxes: every query region's candidates
/// are exactly the rows whose envelope meets it, before and after a round trip through bytes.
@Suite struct SpatialIndexTests {
    @Test(arguments: [0, 1, 15, 16, 17, 300, 5000]) func candidatesMatchBruteForce(_ n: Int) throws {
        var g = SystemRandomNumberGenerator()
        func box(_ size: Double) -> Envelope {
            let x = Double.random(in: -180...180, using: &g), y = Double.random(in: -90...90, using: &g)
            return Envelope(minX: x, minY: y, maxX: x + Double.random(in: 0...size, using: &g), maxY: y + Double.random(in: 0...size, using: &g))
        }
        let envelopes: [Envelope?] = (0..<n).map { i in i % 11 == 5 ? nil : box(10) }
        let isNull = (0..<n).map { $0 % 13 == 7 }
        let index = SpatialIndex.build(envelopes, isNull: isNull)
        var w = ByteWriter()
        index.encode(into: &w)
        var r = ByteReader(w.bytes, what: "test")
        let decoded = try SpatialIndex.decode(from: &r)
        #expect(decoded == index && r.atEnd)
        #expect(index.nulls == (0..<n).filter { isNull[$0] }.map(Int32.init))
        #expect(index.unindexed == (0..<n).filter { !isNull[$0] && envelopes[$0] == nil }.map(Int32.init))
        for _ in 0..<50 {
            let q = box(60)
            let want = (0..<n).filter { i in
                guard !isNull[i], let e = envelopes[i] else { return false }
                return e.minX <= q.maxX && q.minX <= e.maxX && e.minY <= q.maxY && q.minY <= e.maxY
            }.map(Int32.init)
            #expect(index.candidates(q) == want)
            #expect(decoded.candidates(q) == want)
        }
    }
}
