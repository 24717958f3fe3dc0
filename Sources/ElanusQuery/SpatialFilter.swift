import ElanusCore
import ElanusGeometry
import Foundation

/// A checked spatial filter (`st_within(geo, 'POLYGON (...)')`, `st_dwithin(geo, 'POINT (x y)', 500)`)
/// on one Geometry field: its query geometry already read once by GEOS, so evaluation cannot
/// meet a bad literal.
public struct SpatialFilter: Equatable, Sendable {
    public let op: SpatialOp
    public let wkt: String
    /// Meters, for `st_dwithin`; 0 otherwise.
    public let distance: Double

    init(_ op: SpatialOp, wkt: String, distance: Double) throws(GeometryError) {
        self.op = op
        self.wkt = wkt
        self.distance = distance
        _ = try SpatialMatcher(op, wkt: wkt, distance: distance)
    }

    /// The state of every row of a Geometry column (its stored WKT): yes, no, or unknown for a
    /// null row, one GEOS cannot read, or one GEOS fails on. One matcher serves the whole column.
    func evaluate(_ strings: [String], _ valid: [Bool]?, _ cancellation: Cancellation?) -> [UInt8] {
        var out = [UInt8](repeating: FilterEvaluator.unknown, count: strings.count)
        guard let matcher = try? SpatialMatcher(op, wkt: wkt, distance: distance) else { return out }
        for row in strings.indices {
            if row % FilterEvaluator.rowsPerCancellationCheck == 0, let cancellation, cancellation.isCancelled { break }
            if valid?[row] == false { continue }
            if let r = matcher.matches(strings[row]) { out[row] = r ? FilterEvaluator.yes : FilterEvaluator.no }
        }
        return out
    }

    /// The box a matching row's envelope must meet (see `SpatialIndex`); nil when it cannot be
    /// bounded (an empty query geometry, or a distance reaching a pole or across ±180°).
    var region: Envelope? {
        guard let e = GeometryText.envelope(wkt: wkt) else { return nil }
        guard op == .dwithin else { return Envelope(minX: e.minX, minY: e.minY, maxX: e.maxX, maxY: e.maxY) }
        // The center's latitude band is exact on the sphere; the longitude half-width is the
        // great-circle bound asin(sin δ / cos φ), widened by 1% against rounding.
        let degrees = 180 / Double.pi
        let delta = distance / SpatialMatcher.earthRadiusMeters
        let dLat = delta * degrees * 1.01 + 1e-9
        let latitude = e.minY / degrees
        let ratio = sin(min(delta, Double.pi / 2)) / cos(latitude)
        guard abs(e.minY) + dLat < 90, ratio < 1 else { return nil }
        // A shape other than a point matches by planar distance in degrees (see
        // `SpatialMatcher`), at most the distance over the scale at the center's latitude in
        // either axis: the box is widened to that too.
        let planar = distance / SpatialMatcher.metersPerDegree(atLatitude: e.minY) * 1.01 + 1e-9
        let halfLat = max(dLat, planar)
        let dLon = max(asin(ratio) * degrees * 1.01 + 1e-9, planar)
        guard abs(e.minY) + halfLat < 90, e.minX - dLon > -180, e.minX + dLon < 180 else { return nil }
        return Envelope(minX: e.minX - dLon, minY: e.minY - halfLat, maxX: e.minX + dLon, maxY: e.minY + halfLat)
    }

    /// One row's state, for the row-by-row evaluation (a matcher of its own).
    func evaluate(_ text: String) -> UInt8 {
        evaluate([text], nil, nil)[0]
    }
}

extension Checker {
    /// `st_<op>(field, 'WKT')` and `st_dwithin(field, 'POINT (x y)', meters)`, as Milvus 2.6 spells them.
    mutating func spatial(_ op: SpatialOp, _ arguments: [FilterSyntax], _ offset: Int) throws(FilterError) -> Predicate {
        let name = op.rawValue
        let count = op == .dwithin ? 3 : 2
        guard arguments.count == count else {
            throw FilterError(op == .dwithin ? "\(name) takes a Geometry field, a WKT point and a distance in meters" : "\(name) takes a Geometry field and a WKT string", offset: offset)
        }
        guard case .column(.scalar(let fieldID, .geometry)) = try operand(arguments[0]) else {
            throw FilterError("the first argument of \(name) must be a Geometry field", offset: offset)
        }
        guard case .value(.string(let wkt)) = try operand(arguments[1]) else {
            throw FilterError("the second argument of \(name) must be a WKT string", offset: offset)
        }
        var distance = 0.0
        if op == .dwithin {
            switch try operand(arguments[2]) {
            case .value(.int(let i)): distance = Double(i)
            case .value(.float(let f)): distance = f
            default: throw FilterError("the third argument of \(name) must be a distance in meters", offset: offset)
            }
        }
        do { return .spatial(fieldID: fieldID, try SpatialFilter(op, wkt: wkt, distance: distance)) } catch {
            throw FilterError("\(name): invalid geometry '\(wkt.prefix(80))': \(error.message)", offset: offset)
        }
    }
}
