import ElanusCore

/// An axis-aligned box: a geometry's envelope, or the region a spatial filter can match in.
public struct Envelope: Equatable, Sendable {
    public var minX: Double, minY: Double, maxX: Double, maxY: Double

    public init(minX: Double, minY: Double, maxX: Double, maxY: Double) {
        (self.minX, self.minY, self.maxX, self.maxY) = (minX, minY, maxX, maxY)
    }

    /// Boxes sharing any point, their edges included (touching shapes share an edge point).
    func intersects(_ o: Envelope) -> Bool { minX <= o.maxX && o.minX <= maxX && minY <= o.maxY && o.minY <= maxY }

    func union(_ o: Envelope) -> Envelope {
        Envelope(minX: min(minX, o.minX), minY: min(minY, o.minY), maxX: max(maxX, o.maxX), maxY: max(maxY, o.maxY))
    }
}

/// A segment's RTREE index on one Geometry field: every row's envelope in a static, packed
/// R-tree (Sort-Tile-Recursive: leaves of `fanout` boxes sorted by x, then y within vertical
/// slices; each level above boxes `fanout` nodes of the one below), so that a spatial filter
/// tests with GEOS only the rows whose envelope meets the region it can match in.
///
/// Every ST_* relation except ST_DWITHIN needs the two geometries' envelopes to intersect, and
/// ST_DWITHIN needs the row's envelope to meet the query point's box widened by the distance;
/// the candidates are then decided exactly, so answers never change with the index.
/// Null rows (`nulls`) are unknown to every spatial filter; empty geometries and rows GEOS could
/// not read at build time (`unindexed`) are always evaluated.
public struct SpatialIndex: Equatable, Sendable {
    static let fanout = 16

    public let rowCount: Int
    /// Rows in leaf order, with their envelopes.
    let rows: [Int32]
    let boxes: [Envelope]
    /// The box of each node, level by level from the leaves' parents up; `levels[0][i]` bounds
    /// leaf entries `i * fanout ..< (i + 1) * fanout`.
    let levels: [[Envelope]]
    public let nulls: [Int32]
    public let unindexed: [Int32]

    /// `envelopes[r]`: row r's envelope, nil for an empty or unreadable geometry; `isNull[r]` for null rows.
    public static func build(_ envelopes: [Envelope?], isNull: [Bool]) -> SpatialIndex {
        var entries: [(Int32, Envelope)] = []
        var nulls: [Int32] = []
        var unindexed: [Int32] = []
        for (r, envelope) in envelopes.enumerated() {
            if isNull[r] { nulls.append(Int32(r)) } else if let envelope { entries.append((Int32(r), envelope)) } else { unindexed.append(Int32(r)) }
        }
        // Sort-Tile-Recursive packing: ceil(sqrt(leaves)) vertical slices by x centre, each
        // sorted by y centre.
        entries.sort { ($0.1.minX + $0.1.maxX) < ($1.1.minX + $1.1.maxX) }
        let leaves = (entries.count + fanout - 1) / fanout
        let slices = max(1, Int(Double(leaves).squareRoot().rounded(.up)))
        let perSlice = slices * fanout
        var packed: [(Int32, Envelope)] = []
        packed.reserveCapacity(entries.count)
        for start in stride(from: 0, to: entries.count, by: perSlice) {
            packed += entries[start..<min(entries.count, start + perSlice)].sorted { ($0.1.minY + $0.1.maxY) < ($1.1.minY + $1.1.maxY) }
        }
        return SpatialIndex(rowCount: envelopes.count, rows: packed.map(\.0), boxes: packed.map(\.1), nulls: nulls, unindexed: unindexed)
    }

    init(rowCount: Int, rows: [Int32], boxes: [Envelope], nulls: [Int32], unindexed: [Int32]) {
        self.rowCount = rowCount
        self.rows = rows
        self.boxes = boxes
        self.nulls = nulls
        self.unindexed = unindexed
        var levels: [[Envelope]] = []
        var below = boxes
        while below.count > 1 || levels.isEmpty {
            let level = stride(from: 0, to: below.count, by: Self.fanout).map { start in
                below[start..<min(below.count, start + Self.fanout)].dropFirst().reduce(below[start]) { $0.union($1) }
            }
            levels.append(level)
            if level.count <= 1 { break }
            below = level
        }
        self.levels = boxes.isEmpty ? [] : levels
    }

    /// The rows whose envelope meets `region`, ascending.
    public func candidates(_ region: Envelope) -> [Int32] {
        guard let top = levels.last else { return [] }
        var out: [Int32] = []
        // Depth-first from the root level: (level, node index).
        var stack: [(Int, Int)] = top.indices.filter { top[$0].intersects(region) }.map { (levels.count - 1, $0) }
        while let (level, node) = stack.popLast() {
            let first = node * Self.fanout
            if level == 0 {
                for i in first..<min(boxes.count, first + Self.fanout) where boxes[i].intersects(region) { out.append(rows[i]) }
            } else {
                let children = levels[level - 1]
                for i in first..<min(children.count, first + Self.fanout) where children[i].intersects(region) { stack.append((level - 1, i)) }
            }
        }
        out.sort()
        return out
    }

    // MARK: - Serialization

    /// Row count, nulls, unindexed rows, then the leaf entries in packed order (the levels above
    /// are recomputed on load).
    public func encode(into w: inout ByteWriter) {
        w.write(UInt64(rowCount))
        w.writeArray(nulls)
        w.writeArray(unindexed)
        w.writeArray(rows)
        w.writeArray(boxes.flatMap { [$0.minX, $0.minY, $0.maxX, $0.maxY] })
    }

    public static func decode(from r: inout ByteReader) throws(ElanusError) -> SpatialIndex {
        let rowCount = try r.readCount()
        let nulls = try r.readArray(Int32.self)
        let unindexed = try r.readArray(Int32.self)
        let rows = try r.readArray(Int32.self)
        let flat = try r.readArray(Double.self)
        guard flat.count == rows.count * 4, nulls.count + unindexed.count + rows.count == rowCount,
              (nulls + unindexed + rows).allSatisfy({ $0 >= 0 && Int($0) < rowCount })
        else { throw r.corrupt("the spatial index's rows do not cover its \(rowCount) rows") }
        let boxes = stride(from: 0, to: flat.count, by: 4).map { Envelope(minX: flat[$0], minY: flat[$0 + 1], maxX: flat[$0 + 2], maxY: flat[$0 + 3]) }
        return SpatialIndex(rowCount: rowCount, rows: rows, boxes: boxes, nulls: nulls, unindexed: unindexed)
    }
}
