/// How deeply geometries nest (a GEOMETRYCOLLECTION inside a GEOMETRYCOLLECTION ...), checked
/// before GEOS reads them: GEOS's readers, writer and predicates recurse once per level on the
/// calling thread's stack, so a deep enough collection from a client would overflow it.
enum GeometryNesting {
    /// Levels of parentheses a WKT may open, and of collections a WKB may nest. A multipolygon
    /// in a collection needs 4; real data never comes near.
    static let maxDepth = 32

    /// Whether `text`'s parentheses nest at most `maxDepth` deep.
    static func wktWithinLimit(_ text: String) -> Bool {
        var depth = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: "(") {
                depth += 1
                if depth > maxDepth { return false }
            } else if byte == UInt8(ascii: ")") {
                depth -= 1
            }
        }
        return true
    }

    /// Whether the WKB's collections nest at most `maxDepth` deep. Bytes that do not parse as
    /// WKB pass: GEOS then refuses them with its own reason, without recursing past them.
    static func wkbWithinLimit(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        return walk(bytes, &offset, depth: 0) != false
    }

    /// Steps over one geometry at `offset`: false when too deep, nil when the bytes end or are
    /// not WKB this walk knows, true otherwise.
    private static func walk(_ b: [UInt8], _ offset: inout Int, depth: Int) -> Bool? {
        guard depth <= maxDepth else { return false }
        guard offset + 5 <= b.count, b[offset] <= 1 else { return nil }
        let little = b[offset] == 1
        func u32(_ at: Int) -> Int? {
            guard at >= 0, at + 4 <= b.count else { return nil }
            let v = little
                ? UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
                : UInt32(b[at + 3]) | UInt32(b[at + 2]) << 8 | UInt32(b[at + 1]) << 16 | UInt32(b[at]) << 24
            return Int(v)
        }
        guard let rawType = u32(offset + 1) else { return nil }
        offset += 5
        // EWKB flags (Z, M, SRID) and ISO's thousands (1000 Z, 2000 M, 3000 ZM).
        var dims = 2
        if rawType & 0x8000_0000 != 0 { dims += 1 }
        if rawType & 0x4000_0000 != 0 { dims += 1 }
        if rawType & 0x2000_0000 != 0 { offset += 4 }
        let iso = rawType & 0x0FFF_FFFF
        switch iso / 1000 {
        case 1, 2: dims += 1
        case 3: dims += 2
        default: break
        }
        let pointBytes = dims * 8
        // Counts are bounded by the bytes left, so no product below can overflow.
        func count() -> Int? {
            guard let n = u32(offset), n <= b.count else { return nil }
            offset += 4
            return n
        }
        switch iso % 1000 {
        case 1: offset += pointBytes
        case 2:
            guard let n = count() else { return nil }
            offset += n * pointBytes
        case 3:
            guard let rings = count() else { return nil }
            for _ in 0..<rings {
                guard let n = count() else { return nil }
                offset += n * pointBytes
                guard offset <= b.count else { return nil }
            }
        case 4, 5, 6, 7:
            guard let parts = count() else { return nil }
            for _ in 0..<parts {
                guard let r = walk(b, &offset, depth: depth + 1) else { return nil }
                if !r { return false }
            }
        default: return nil
        }
        return offset <= b.count ? true : nil
    }
}
