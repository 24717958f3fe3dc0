import CGEOS
import Foundation

/// Milvus 2.6's spatial filter functions, named as the filter language spells them (lowercased).
/// Each reads `op(field, 'WKT')`: the row's geometry first, the query geometry second, so
/// `st_contains(geo, 'POINT (1 1)')` keeps rows whose geometry contains the point and
/// `st_within(geo, 'POLYGON (...)')` rows inside the polygon. `st_dwithin(geo, 'POINT (lon lat)', meters)`
/// keeps rows within that many meters of the point, measured as Milvus 2.6 measures them (see
/// `SpatialMatcher.matches`).
public enum SpatialOp: String, CaseIterable, Sendable {
    case equals = "st_equals"
    case touches = "st_touches"
    case overlaps = "st_overlaps"
    case crosses = "st_crosses"
    case contains = "st_contains"
    case intersects = "st_intersects"
    case within = "st_within"
    case dwithin = "st_dwithin"
}

/// The query side of one spatial filter, parsed (and for contains / within / intersects,
/// prepared: GEOS indexes its edges once) for the rows of one evaluation.
///
/// Not thread-safe (it holds a GEOS context); make one per chunk evaluation.
public final class SpatialMatcher {
    /// The Earth radius of Milvus's haversine distance, for `st_dwithin` between points.
    public static let earthRadiusMeters = 6_371_000.0
    /// Milvus's meters per degree of latitude, for `st_dwithin` from other shapes.
    public static let metersPerDegreeOfLatitude = 111_320.0

    let context = GEOSContext()
    let op: SpatialOp
    let query: Geometry
    let distance: Double
    private let prepared: OpaquePointer?

    /// Refuses text GEOS cannot read, and for `st_dwithin` anything but a point and a finite,
    /// non-negative distance.
    public init(_ op: SpatialOp, wkt: String, distance: Double = 0) throws(GeometryError) {
        self.op = op
        self.distance = distance
        query = try context.read(wkt: wkt)
        if op == .dwithin {
            guard query.point != nil else { throw GeometryError("st_dwithin takes a POINT (longitude latitude) as its second argument") }
            guard distance.isFinite, distance >= 0 else { throw GeometryError("st_dwithin takes a distance in meters of 0 or more") }
        }
        switch op {
        case .contains, .within, .intersects: prepared = GEOSPrepare_r(context.handle, query.pointer)
        default: prepared = nil
        }
    }

    deinit {
        if let prepared { GEOSPreparedGeom_destroy_r(context.handle, prepared) }
    }

    /// Whether the row's geometry (its stored WKT) relates to the query; nil when the row cannot
    /// be read or GEOS fails on it (an invalid polygon), which a filter treats as unknown.
    public func matches(_ rowWKT: String) -> Bool? {
        guard let row = try? context.read(wkt: rowWKT) else { return nil }
        return matches(row)
    }

    func matches(_ row: Geometry) -> Bool? {
        let h = context.handle
        let r: CChar
        switch op {
        case .equals: r = GEOSEquals_r(h, row.pointer, query.pointer)
        case .touches: r = GEOSTouches_r(h, row.pointer, query.pointer)
        case .overlaps: r = GEOSOverlaps_r(h, row.pointer, query.pointer)
        case .crosses: r = GEOSCrosses_r(h, row.pointer, query.pointer)
        // row contains query <=> query within row; row within query <=> query contains row.
        case .contains: r = GEOSPreparedWithin_r(h, prepared, row.pointer)
        case .within: r = GEOSPreparedContains_r(h, prepared, row.pointer)
        case .intersects: r = GEOSPreparedIntersects_r(h, prepared, row.pointer)
        case .dwithin:
            guard let center = query.point, !row.isEmpty else { return nil }
            // As Milvus's segcore measures it: a point row by the haversine distance; any other
            // shape by GEOS's planar distance in degrees (0 when it covers the center), turned
            // into meters with the scale at the center's latitude.
            if let point = row.point { return Self.greatCircleMeters(center, point) <= distance }
            guard let degrees = row.distance(to: query) else { return nil }
            return degrees * Self.metersPerDegree(atLatitude: center.y) <= distance
        }
        return r == 2 ? nil : r == 1
    }

    /// Meters per degree of planar distance near latitude `latitude` (degrees): Milvus's mean of
    /// a degree of latitude and one of longitude there, 111320 * sqrt((1 + cos²φ) / 2).
    public static func metersPerDegree(atLatitude latitude: Double) -> Double {
        let c = cos(latitude * Double.pi / 180)
        return metersPerDegreeOfLatitude * ((1 + c * c) / 2).squareRoot()
    }

    /// The haversine distance between two (longitude, latitude) points in degrees.
    public static func greatCircleMeters(_ a: (x: Double, y: Double), _ b: (x: Double, y: Double)) -> Double {
        let radians = Double.pi / 180
        let dLat = (b.y - a.y) * radians
        let dLon = (b.x - a.x) * radians
        let h = sin(dLat / 2) * sin(dLat / 2) + cos(a.y * radians) * cos(b.y * radians) * sin(dLon / 2) * sin(dLon / 2)
        return 2 * earthRadiusMeters * asin(min(1, h.squareRoot()))
    }
}

/// Geometry values as a field stores them: checked by GEOS and written back as its WKT.
public enum GeometryText {
    /// The envelope of each stored WKT (nil for null, empty or unreadable ones), through one context.
    public static func envelopes(_ texts: [String?]) -> [(minX: Double, minY: Double, maxX: Double, maxY: Double)?] {
        let context = GEOSContext()
        return texts.map { text in text.flatMap { try? context.read(wkt: $0) }?.envelope }
    }

    /// The envelope of a query geometry (nil when it has none).
    public static func envelope(wkt text: String) -> (minX: Double, minY: Double, maxX: Double, maxY: Double)? {
        let context = GEOSContext()
        return (try? context.read(wkt: text))?.envelope
    }

    /// The stored form of WKT input; throws GEOS's reason when it is not a geometry.
    public static func normalize(wkt text: String) throws(GeometryError) -> String {
        let context = GEOSContext()
        return context.wkt(try context.read(wkt: text))
    }

    /// The stored form of WKB input (what milvus-proto's GeometryArray carries).
    public static func normalize(wkb bytes: [UInt8]) throws(GeometryError) -> String {
        let context = GEOSContext()
        return context.wkt(try context.read(wkb: bytes))
    }
}
