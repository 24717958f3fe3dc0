import ElanusCore
import ElanusTestSupport
import Foundation
import Testing

/// Geometry fields over HTTP against the real binary: random points, segments, rectangles and
/// rectangles with holes on an integer grid; ST_* filters with query rectangles and points on
/// half-integer coordinates (so no boundary is ever shared and the answer is unambiguous),
/// checked against a brute force over the shapes computed here, alone and combined with other
/// operators, in query, search, count and delete, before and after a flush; WKT output; errors.
@Suite struct GeometryTests {
    enum Shape {
        case point(Int, Int)
        case segment(x0: Int, x1: Int, y: Int)
        case rect(x0: Int, y0: Int, x1: Int, y1: Int)
        /// A rectangle with a rectangular hole strictly inside it.
        case holed(x0: Int, y0: Int, x1: Int, y1: Int, hole: (Int, Int, Int, Int))

        var wkt: String {
            func ring(_ a: Int, _ b: Int, _ c: Int, _ d: Int) -> String { "(\(a) \(b), \(c) \(b), \(c) \(d), \(a) \(d), \(a) \(b))" }
            switch self {
            case .point(let x, let y): return "POINT (\(x) \(y))"
            case .segment(let x0, let x1, let y): return "LINESTRING (\(x0) \(y), \(x1) \(y))"
            case .rect(let x0, let y0, let x1, let y1): return "POLYGON (\(ring(x0, y0, x1, y1)))"
            case .holed(let x0, let y0, let x1, let y1, let h): return "POLYGON (\(ring(x0, y0, x1, y1)), \(ring(h.0, h.1, h.2, h.3)))"
            }
        }
    }

    /// A query rectangle with half-integer corners.
    struct Box {
        var x0: Double, y0: Double, x1: Double, y1: Double
        var wkt: String { "POLYGON ((\(x0) \(y0), \(x1) \(y0), \(x1) \(y1), \(x0) \(y1), \(x0) \(y0)))" }
        func inside(_ x: Double, _ y: Double) -> Bool { x > x0 && x < x1 && y > y0 && y < y1 }
    }

    static func within(_ s: Shape, _ q: Box) -> Bool {
        switch s {
        case .point(let x, let y): q.inside(Double(x), Double(y))
        case .segment(let x0, let x1, let y): q.inside(Double(x0), Double(y)) && q.inside(Double(x1), Double(y))
        case .rect(let x0, let y0, let x1, let y1), .holed(let x0, let y0, let x1, let y1, _):
            q.inside(Double(x0), Double(y0)) && q.inside(Double(x1), Double(y1))
        }
    }

    static func intersects(_ s: Shape, _ q: Box) -> Bool {
        func overlap(_ a0: Double, _ a1: Double, _ b0: Double, _ b1: Double) -> Bool { a0 < b1 && b0 < a1 }
        switch s {
        case .point(let x, let y): return q.inside(Double(x), Double(y))
        case .segment(let x0, let x1, let y): return Double(y) > q.y0 && Double(y) < q.y1 && overlap(Double(x0), Double(x1), q.x0, q.x1)
        case .rect(let x0, let y0, let x1, let y1):
            return overlap(Double(x0), Double(x1), q.x0, q.x1) && overlap(Double(y0), Double(y1), q.y0, q.y1)
        case .holed(let x0, let y0, let x1, let y1, let h):
            guard overlap(Double(x0), Double(x1), q.x0, q.x1) && overlap(Double(y0), Double(y1), q.y0, q.y1) else { return false }
            // Disjoint only when the query lies wholly inside the hole.
            return !(q.x0 > Double(h.0) && q.x1 < Double(h.2) && q.y0 > Double(h.1) && q.y1 < Double(h.3))
        }
    }

    static func contains(_ s: Shape, _ x: Double, _ y: Double) -> Bool {
        switch s {
        case .point, .segment: false  // integer shapes never hold a half-integer point
        case .rect(let x0, let y0, let x1, let y1): x > Double(x0) && x < Double(x1) && y > Double(y0) && y < Double(y1)
        case .holed(let x0, let y0, let x1, let y1, let h):
            x > Double(x0) && x < Double(x1) && y > Double(y0) && y < Double(y1) && !(x > Double(h.0) && x < Double(h.2) && y > Double(h.1) && y < Double(h.3))
        }
    }

    static func randomShape(_ g: inout some RandomNumberGenerator) -> Shape {
        let x = Int.random(in: 0..<90, using: &g), y = Int.random(in: 0..<90, using: &g)
        let w = Int.random(in: 1...12, using: &g), h = Int.random(in: 1...12, using: &g)
        switch Int.random(in: 0..<4, using: &g) {
        case 0: return .point(x, y)
        case 1: return .segment(x0: x, x1: x + w, y: y)
        case 2: return .rect(x0: x, y0: y, x1: x + w, y1: y + h)
        default:
            let W = w + 4, H = h + 4
            return .holed(x0: x, y0: y, x1: x + W, y1: y + H, hole: (x + 1, y + 1, x + W - 1, y + H - 1))
        }
    }

    static func randomBox(_ g: inout some RandomNumberGenerator) -> Box {
        let x = Double(Int.random(in: -5..<95, using: &g)) + 0.5, y = Double(Int.random(in: -5..<95, using: &g)) + 0.5
        return Box(x0: x, y0: y, x1: x + Double(Int.random(in: 1...40, using: &g)), y1: y + Double(Int.random(in: 1...40, using: &g)))
    }

    static func ids(_ reply: RESTClient.Reply) -> Set<Int> {
        guard case .array(let rows)? = reply.data else { return [] }
        return Set(rows.compactMap { if case .int(let id)? = $0["id"] { Int(id) } else { nil } })
    }

    @Test func spatialFiltersMatchBruteForce() throws {
        let dir = TemporaryDirectory()
        let server = ElanusProcess(dataDirectory: dir.file("data"), environment: ["ELANUS_SEGMENT_MAX_ROWS": "100000", "ELANUS_INDEX_MIN_SEGMENT_ROWS": "100"])
        try server.start()
        defer { server.terminate() }
        var rest = RESTClient(port: server.port)
        let create = try rest.call("collections/create", #"""
            {"collectionName":"geo","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},{"fieldName":"geo","dataType":"Geometry","nullable":true},
             {"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":2}}]},
             "indexParams":[{"fieldName":"v","indexType":"FLAT","metricType":"L2"},{"fieldName":"geo","indexName":"geo","indexType":"RTREE"}]}
            """#)
        #expect(create.code == 0, "\(create.body.serialized())")
        var g = SystemRandomNumberGenerator()
        let n = 400
        let shapes: [Shape?] = (0..<n).map { i in i % 25 == 24 ? nil : Self.randomShape(&g) }
        let data = shapes.enumerated().map { i, s in #"{"id":\#(i),"geo":\#(s.map { "\"\($0.wkt)\"" } ?? "null"),"v":[\#(i % 13),\#(i % 7)]}"# }
        #expect(try rest.call("entities/insert", #"{"collectionName":"geo","data":[\#(data.joined(separator: ","))]}"#).code == 0)

        // Output: the WKT as GEOS writes it back.
        let some = try rest.call("entities/query", #"{"collectionName":"geo","filter":"id < 30","outputFields":["geo"]}"#)
        guard case .array(let outputs)? = some.data, outputs.count == 30 else {
            Issue.record("\(some.body.serialized())")
            return
        }
        for row in outputs {
            guard case .int(let id)? = row["id"] else { continue }
            let expected: JSON = shapes[Int(id)].map { JSON.string($0.wkt) } ?? .null
            #expect(row["geo"] == expected, "\(row.serialized())")
        }

        var checks: [(String, (Int) -> Bool)] = []
        for _ in 0..<8 {
            let q = Self.randomBox(&g)
            let px = Double(Int.random(in: 0..<95, using: &g)) + 0.5, py = Double(Int.random(in: 0..<95, using: &g)) + 0.5
            checks.append(("st_within(geo, '\(q.wkt)')", { i in shapes[i].map { Self.within($0, q) } ?? false }))
            checks.append(("ST_INTERSECTS(geo, '\(q.wkt)')", { i in shapes[i].map { Self.intersects($0, q) } ?? false }))
            checks.append(("st_contains(geo, 'POINT (\(px) \(py))')", { i in shapes[i].map { Self.contains($0, px, py) } ?? false }))
            checks.append(("st_intersects(geo, '\(q.wkt)') and id % 3 == 0", { i in i % 3 == 0 && (shapes[i].map { Self.intersects($0, q) } ?? false) }))
            checks.append(("not st_within(geo, '\(q.wkt)')", { i in shapes[i].map { !Self.within($0, q) } ?? false }))
            checks.append(("st_within(geo, '\(q.wkt)') or id < 10", { i in i < 10 || (shapes[i].map { Self.within($0, q) } ?? false) }))
        }
        func run(_ label: String) throws {
            for (filter, matches) in checks {
                let want = Set((0..<n).filter(matches))
                let reply = try rest.call("entities/query", #"{"collectionName":"geo","filter":"\#(filter)","limit":1000,"outputFields":["id"]}"#)
                #expect(reply.code == 0 && Self.ids(reply) == want, "\(label) \(filter): \(reply.body.serialized().prefix(300))")
                let count = try rest.call("entities/query", #"{"collectionName":"geo","filter":"\#(filter)","outputFields":["count(*)"]}"#)
                #expect(count.data == [["count(*)": .int(Int64(want.count))]], "\(label) count \(filter)")
                let search = try rest.call("entities/search", #"{"collectionName":"geo","data":[[3,3]],"limit":20,"filter":"\#(filter)"}"#)
                let hits = Self.ids(search)
                #expect(hits.isSubset(of: want) && hits.count == min(20, want.count), "\(label) search \(filter)")
            }
        }
        try run("growing")
        // Flushed: the segment's RTREE is built and answers the same, through the index node.
        #expect(try rest.call("collections/flush", #"{"collectionName":"geo"}"#).code == 0)
        let item = try IndexTests.waitForIndex(rest, collection: "geo", "geo")
        #expect(item?["indexState"] == "Finished" && item?["indexedRows"] == .int(Int64(n)), "\(item?.serialized() ?? "")")
        try run("indexed")
        // And again from the index file after a restart.
        _ = server.terminate()
        try server.start()
        rest = RESTClient(port: server.port)
        #expect(try rest.call("collections/load", #"{"collectionName":"geo"}"#).code == 0)
        try run("restarted")

        // Delete by a spatial filter removes exactly its rows.
        let q = Self.randomBox(&g)
        let doomed = Set((0..<n).filter { shapes[$0].map { Self.intersects($0, q) } ?? false })
        let deleted = try rest.call("entities/delete", #"{"collectionName":"geo","filter":"st_intersects(geo, '\#(q.wkt)')"}"#)
        #expect(deleted.code == 0, "\(deleted.body.serialized())")
        let left = try rest.call("entities/query", #"{"collectionName":"geo","filter":"id >= 0","limit":1000,"outputFields":["id"]}"#)
        #expect(Self.ids(left) == Set(0..<n).subtracting(doomed))
    }

    /// Collection `name`: an Int64 key `id`, a Geometry field `geo` and a 2-d vector `v` (FLAT).
    static func createPlaces(_ rest: RESTClient, _ name: String) throws {
        let create = try rest.call("collections/create", #"""
            {"collectionName":"\#(name)","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},{"fieldName":"geo","dataType":"Geometry"},
             {"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":2}}]},"indexParams":[{"fieldName":"v","indexType":"FLAT","metricType":"L2"}]}
            """#)
        #expect(create.code == 0, "\(create.body.serialized())")
    }

    /// ST_DWITHIN from shapes other than points, as Milvus 2.6 measures it: GEOS's planar
    /// distance in degrees times 111320 * sqrt((1 + cos²φ) / 2) at the center's latitude φ
    /// (92142.2 m a degree at 52.52°), the same through the RTREE index, whose box is widened
    /// to that scale (a line 0.01° north is 921 m away by it, outside the great-circle box).
    @Test func distanceFromShapesIsMilvussPlanarDistance() throws {
        let dir = TemporaryDirectory()
        let server = ElanusProcess(dataDirectory: dir.file("data"), environment: ["ELANUS_INDEX_MIN_SEGMENT_ROWS": "1"])
        try server.start()
        defer { server.terminate() }
        let rest = RESTClient(port: server.port)
        try Self.createPlaces(rest, "shapes")
        let shapes = [
            "LINESTRING (13 52.53, 14 52.53)",  // 0.01° north: 921.4 m (great-circle 1113 m)
            "LINESTRING (13.41 52, 13.41 53)",  // 0.01° east: 921.4 m (great-circle 677 m)
            "POLYGON ((13 52, 14 52, 14 53, 13 53, 13 52))",  // covers the center: 0 m
            "POLYGON ((13.42 52.5, 13.5 52.5, 13.5 52.6, 13.42 52.6, 13.42 52.5))",  // 0.02° east: 1842.8 m
            "POINT (13.4 52.528)",  // a point, by haversine: 889.6 m
        ]
        let rows = shapes.enumerated().map { #"{"id":\#($0.offset),"geo":"\#($0.element)","v":[0,0]}"# }
        #expect(try rest.call("entities/insert", #"{"collectionName":"shapes","data":[\#(rows.joined(separator: ","))]}"#).code == 0)
        let expected: [(Double, Set<Int>)] = [(100, [2]), (900, [2, 4]), (950, [0, 1, 2, 4]), (1900, [0, 1, 2, 3, 4])]
        for phase in ["scanned", "indexed"] {
            if phase == "indexed" {
                #expect(try rest.call("indexes/create", #"{"collectionName":"shapes","indexParams":[{"fieldName":"geo","indexName":"geo","indexType":"RTREE"}]}"#).code == 0)
                #expect(try rest.call("collections/flush", #"{"collectionName":"shapes"}"#).code == 0)
                let item = try IndexTests.waitForIndex(rest, collection: "shapes", "geo")
                #expect(item?["indexState"] == "Finished", "\(item?.serialized() ?? "")")
            }
            for (radius, want) in expected {
                let reply = try rest.call("entities/query", #"{"collectionName":"shapes","filter":"st_dwithin(geo, 'POINT (13.4 52.52)', \#(radius))","outputFields":["id"]}"#)
                #expect(Self.ids(reply) == want, "\(phase) \(radius): \(reply.body.serialized())")
            }
        }
    }

    @Test func distanceAndErrors() throws {
        let dir = TemporaryDirectory()
        let server = ElanusProcess(dataDirectory: dir.file("data"), environment: ["ELANUS_INDEX_MIN_SEGMENT_ROWS": "1"])
        try server.start()
        defer { server.terminate() }
        let rest = RESTClient(port: server.port)
        try Self.createPlaces(rest, "pois")
        // Points east of a center in Berlin, 100 m apart; a degree of longitude at latitude φ is
        // 111195 * cos(φ) meters on Milvus's haversine sphere (radius 6371000 m).
        let lat = 52.52, lon = 13.4
        let metersPerDegree = 6_371_000 * Double.pi / 180 * cos(lat * Double.pi / 180)
        let rows = (0..<20).map { i in #"{"id":\#(i),"geo":"POINT (\#(lon + Double(i) * 100 / metersPerDegree) \#(lat))","v":[0,0]}"# }
        #expect(try rest.call("entities/insert", #"{"collectionName":"pois","data":[\#(rows.joined(separator: ","))]}"#).code == 0)
        for radius in [50.0, 450.0, 1050.0] {
            let reply = try rest.call("entities/query", #"{"collectionName":"pois","filter":"st_dwithin(geo, 'POINT (\#(lon) \#(lat))', \#(radius))","outputFields":["id"]}"#)
            #expect(Self.ids(reply) == Set((0..<20).filter { Double($0) * 100 <= radius }), "\(radius): \(reply.body.serialized())")
        }

        let inserts: [(String, String)] = [
            (#""POINT (1)""#, "invalid geometry \"POINT (1)\": ParseException"),
            (#""CIRCLE (0 0, 5)""#, "invalid geometry \"CIRCLE (0 0, 5)\""),
            ("42", "expected a WKT geometry string, got number"),
            ("null", "null is not allowed"),
            // Deep nesting is refused before GEOS recurses into it.
            ("\"" + String(repeating: "GEOMETRYCOLLECTION (", count: 5000) + "POINT (0 0)" + String(repeating: ")", count: 5000) + "\"", "invalid geometry \"GEOMETRYCOLLECTION (GEOMETRYCOLLECTION ...: the geometry nests more than 32 levels deep"),
        ]
        for (value, message) in inserts {
            let reply = try rest.call("entities/insert", #"{"collectionName":"pois","data":[{"id":100,"geo":"POINT (0 0)","v":[0,0]},{"id":101,"geo":\#(value),"v":[0,0]}]}"#)
            #expect(reply.code == 1804 && reply.message.contains("row 1: field 'geo' (Geometry): \(message)"), "\(value.prefix(80)): \(reply.body.serialized().prefix(400))")
        }
        let filters: [(String, String)] = [
            ("st_within(geo, 'POLYGON ((0 0, 1 0')", "st_within: invalid geometry"),
            ("st_within(id, 'POINT (0 0)')", "the first argument of st_within must be a Geometry field"),
            ("st_within(geo)", "st_within takes a Geometry field and a WKT string"),
            ("st_dwithin(geo, 'POLYGON ((0 0, 1 0, 1 1, 0 0))', 5)", "st_dwithin takes a POINT"),
            ("st_dwithin(geo, 'POINT (0 0)', -1)", "a distance in meters of 0 or more"),
            ("st_dwithin(geo, 'POINT (0 0)', 'far')", "the third argument of st_dwithin must be a distance in meters"),
            ("geo == 'POINT (0 0)'", "cannot compare a Geometry field"),
        ]
        for (filter, message) in filters {
            let reply = try rest.call("entities/query", #"{"collectionName":"pois","filter":"\#(filter)"}"#)
            #expect(reply.code == 1100 && reply.message.contains(message), "\(filter): \(reply.body.serialized())")
        }
        let sorted = try rest.call("indexes/create", #"{"collectionName":"pois","indexParams":[{"fieldName":"geo","indexType":"STL_SORT"}]}"#)
        #expect(sorted.code == 1100 && sorted.message.contains("RTREE covers Geometry fields, and is the only index they take"), "\(sorted.body.serialized())")
        let rtreeOnId = try rest.call("indexes/create", #"{"collectionName":"pois","indexParams":[{"fieldName":"id","indexType":"RTREE"}]}"#)
        #expect(rtreeOnId.code == 1100 && rtreeOnId.message.contains("RTREE covers Geometry fields"), "\(rtreeOnId.body.serialized())")
        // ST_DWITHIN through an RTREE gives the same answers.
        #expect(try rest.call("indexes/create", #"{"collectionName":"pois","indexParams":[{"fieldName":"geo","indexName":"geo","indexType":"RTREE"}]}"#).code == 0)
        #expect(try rest.call("collections/flush", #"{"collectionName":"pois"}"#).code == 0)
        _ = try IndexTests.waitForIndex(rest, collection: "pois", "geo")
        for radius in [50.0, 450.0, 1050.0] {
            let reply = try rest.call("entities/query", #"{"collectionName":"pois","filter":"st_dwithin(geo, 'POINT (\#(lon) \#(lat))', \#(radius))","outputFields":["id"]}"#)
            #expect(Self.ids(reply) == Set((0..<20).filter { Double($0) * 100 <= radius }), "indexed \(radius): \(reply.body.serialized())")
        }
    }
}
