import ElanusGeometry
import Testing

/// GEOS through ElanusGeometry: WKT and WKB read and written back, refusals with GEOS's reason,
/// each ST_* relation in Milvus's argument order on shapes whose answer is known, and ST_DWITHIN's
/// great-circle distance.
@Suite struct SpatialMatcherTests {
    @Test func normalizesWKT() throws {
        #expect(try GeometryText.normalize(wkt: "POINT(13.399710 52.518010)") == "POINT (13.39971 52.51801)")
        #expect(try GeometryText.normalize(wkt: "polygon((0 0,1 0,1 1,0 0))") == "POLYGON ((0 0, 1 0, 1 1, 0 0))")
        #expect(try GeometryText.normalize(wkt: "POINT EMPTY") == "POINT EMPTY")
        // Little-endian WKB of POINT (1 2).
        let wkb: [UInt8] = [1, 1, 0, 0, 0] + [0, 0, 0, 0, 0, 0, 0xF0, 0x3F] + [0, 0, 0, 0, 0, 0, 0, 0x40]
        #expect(try GeometryText.normalize(wkb: wkb) == "POINT (1 2)")
    }

    @Test(arguments: ["", "POINT(1)", "POINT (1 2", "CIRCLE (0 0, 1)", "POINT (1 2)\u{0}junk", "LINESTRING (0 0)"])
    func refusesText(_ text: String) {
        #expect(throws: GeometryError.self) { try GeometryText.normalize(wkt: text) }
    }

    @Test func refusesBadWKB() {
        #expect(throws: GeometryError.self) { try GeometryText.normalize(wkb: []) }
        #expect(throws: GeometryError.self) { try GeometryText.normalize(wkb: [1, 1, 0, 0, 0, 1, 2]) }
    }

    static let square = "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0))"

    /// (op, row geometry, query geometry, expected)
    static let relations: [(SpatialOp, String, String, Bool)] = [
        (.within, "POINT (5 5)", square, true),
        (.within, "POINT (15 5)", square, false),
        (.within, "POINT (10 5)", square, false),  // on the boundary: not within
        (.contains, square, "POINT (5 5)", true),
        (.contains, "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 8 2, 8 8, 2 8, 2 2))", "POINT (5 5)", false),  // in the hole
        (.intersects, "LINESTRING (-5 5, 5 5)", square, true),
        (.intersects, "LINESTRING (-5 -5, -1 -1)", square, false),
        (.touches, "POLYGON ((10 0, 20 0, 20 10, 10 10, 10 0))", square, true),
        (.touches, "POLYGON ((5 0, 20 0, 20 10, 5 10, 5 0))", square, false),
        (.overlaps, "POLYGON ((5 0, 20 0, 20 10, 5 10, 5 0))", square, true),
        (.overlaps, "POLYGON ((2 2, 3 2, 3 3, 2 3, 2 2))", square, false),  // inside: not overlapping
        (.crosses, "LINESTRING (-5 5, 5 5)", square, true),
        (.crosses, "LINESTRING (1 1, 5 5)", square, false),
        (.equals, "POLYGON ((10 10, 0 10, 0 0, 10 0, 10 10))", square, true),
        (.equals, "POINT (5 5)", "POINT (5 5)", true),
        (.equals, "POINT (5 5)", "POINT (5 6)", false),
    ]

    @Test(arguments: relations) func relates(_ op: SpatialOp, _ row: String, _ query: String, _ expected: Bool) throws {
        #expect(try SpatialMatcher(op, wkt: query).matches(row) == expected, "\(op.rawValue)(\(row), \(query))")
    }

    @Test func unreadableRowsAreUnknown() throws {
        #expect(try SpatialMatcher(.intersects, wkt: Self.square).matches("POINT (") == nil)
    }

    @Test func distanceWithin() throws {
        // One degree of latitude on Milvus's haversine sphere (radius 6371000 m) is 111194.93 m.
        let degree = SpatialMatcher.greatCircleMeters((0, 0), (0, 1))
        #expect(abs(degree - 111_194.93) < 0.01)
        let berlin = try SpatialMatcher(.dwithin, wkt: "POINT (13.4 52.52)", distance: 1000)
        #expect(berlin.matches("POINT (13.4 52.528)") == true)  // 890 m north
        #expect(berlin.matches("POINT (13.4 52.53)") == false)  // 1112 m north
        // A polygon covering the center is at distance 0.
        #expect(berlin.matches("POLYGON ((13 52, 14 52, 14 53, 13 53, 13 52))") == true)
        // Other shapes as Milvus measures them: GEOS's planar distance in degrees times
        // 111320 * sqrt((1 + cos²φ) / 2) at the center's latitude φ, here 92142.2 m a degree. A
        // line 0.01° north is 921.4 m away by that (its great-circle distance is 1113 m), one
        // 0.01° east too (great-circle: 677 m); a multipoint is such a shape as well.
        let scale = SpatialMatcher.metersPerDegree(atLatitude: 52.52)
        #expect(abs(scale - 92_142.2) < 0.1)
        for row in ["LINESTRING (13 52.53, 14 52.53)", "LINESTRING (13.41 52, 13.41 53)", "MULTIPOINT ((13.41 52.52), (20 20))"] {
            #expect(berlin.matches(row) == true, "\(row)")
            #expect(try SpatialMatcher(.dwithin, wkt: "POINT (13.4 52.52)", distance: 921).matches(row) == false, "\(row)")
        }
        #expect(throws: GeometryError.self) { try SpatialMatcher(.dwithin, wkt: Self.square, distance: 1) }
        #expect(throws: GeometryError.self) { try SpatialMatcher(.dwithin, wkt: "POINT (0 0)", distance: -1) }
        #expect(throws: GeometryError.self) { try SpatialMatcher(.dwithin, wkt: "POINT (0 0)", distance: .nan) }
    }
}

/// Nesting past the bound is refused before GEOS recurses into it, as text and as WKB.
@Suite struct GeometryNestingTests {
    static func collection(_ depth: Int) -> String {
        String(repeating: "GEOMETRYCOLLECTION (", count: depth) + "POINT (1 2)" + String(repeating: ")", count: depth)
    }

    /// Little-endian WKB of `depth` collections, each holding the next, around POINT (1 2).
    static func wkb(_ depth: Int) -> [UInt8] {
        var out: [UInt8] = []
        for _ in 0..<depth { out += [1, 7, 0, 0, 0, 1, 0, 0, 0] }
        return out + [1, 1, 0, 0, 0] + [0, 0, 0, 0, 0, 0, 0xF0, 0x3F] + [0, 0, 0, 0, 0, 0, 0, 0x40]
    }

    @Test func deepGeometriesAreRefused() throws {
        #expect(try GeometryText.normalize(wkt: Self.collection(5)).hasPrefix("GEOMETRYCOLLECTION (GEOMETRYCOLLECTION"))
        #expect(try GeometryText.normalize(wkb: Self.wkb(5)).hasPrefix("GEOMETRYCOLLECTION (GEOMETRYCOLLECTION"))
        for depth in [40, 100_000] {
            #expect(throws: GeometryError.self) { try GeometryText.normalize(wkt: Self.collection(depth)) }
            #expect(throws: GeometryError.self) { try GeometryText.normalize(wkb: Self.wkb(depth)) }
            #expect(throws: GeometryError.self) { try SpatialMatcher(.intersects, wkt: Self.collection(depth)) }
        }
    }
}
