import ElanusCore

/// A scalar index over one column of a sealed segment: the non-null values sorted, each with
/// its row number, plus the rows that are null. Comparisons, `in` lists, prefix `like`
/// patterns and `is null` become binary searches that mark the matching rows, instead of a
/// test of every row. STL_SORT, TRIE, INVERTED, BITMAP and scalar AUTOINDEX all build it: a
/// sorted array answers point, range and prefix lookups alike, and its memory (a key and an
/// Int32 per row) is what a term dictionary with posting lists costs for a unique column.
///
/// Strings sort by their UTF-8 bytes, which is the order and the equality the filter evaluator
/// uses, so an indexed filter and a scan give the same rows.
public struct SortedIndex: Sendable, Equatable {
    public enum Keys: Sendable, Equatable {
        case ints([Int64])
        /// Bools as 0 and 1; they compare only with bool constants.
        case bools([Int64])
        case doubles([Double])
        case strings([String])

        var count: Int {
            switch self {
            case .ints(let k), .bools(let k): k.count
            case .doubles(let k): k.count
            case .strings(let k): k.count
            }
        }
    }

    public let rowCount: Int
    public let keys: Keys
    /// `rows[i]` holds `keys[i]`.
    public let rows: [Int32]
    /// Rows whose value is null, ascending.
    public let nulls: [Int32]

    public init(rowCount: Int, keys: Keys, rows: [Int32], nulls: [Int32]) {
        self.rowCount = rowCount
        self.keys = keys
        self.rows = rows
        self.nulls = nulls
    }

    /// The index of `columns` (one per chunk of the segment, in row order), or nil for a column
    /// type it does not cover (or a float column holding NaN, which has no place in an order).
    public static func build(_ columns: [Column]) -> SortedIndex? {
        var nulls: [Int32] = []
        var present: [Int32] = []
        var offset = 0
        for column in columns {
            for r in 0..<column.rowCount {
                if let valid = column.valid, !valid[r] { nulls.append(Int32(offset + r)) } else { present.append(Int32(offset + r)) }
            }
            offset += column.rowCount
        }
        let rowCount = offset
        func gather<T>(_ extract: (ColumnValues) -> [T]?) -> [T]? {
            var all: [T] = []
            all.reserveCapacity(rowCount)
            for column in columns {
                guard let values = extract(column.values) else { return nil }
                all += values
            }
            return all
        }
        // Sorts (key, row) pairs; ties keep row order, so lookups mark rows in ascending order.
        func sorted<T>(_ all: [T], by less: (T, T) -> Bool) -> ([T], [Int32]) {
            var pairs = present.map { (all[Int($0)], $0) }
            pairs.sort { less($0.0, $1.0) || (!less($1.0, $0.0) && $0.1 < $1.1) }
            return (pairs.map(\.0), pairs.map(\.1))
        }
        guard let first = columns.first else { return nil }
        switch first.values {
        case .int8, .int16, .int32, .int64:
            guard let all = gather(Self.integers) else { return nil }
            let (keys, rows) = sorted(all, by: <)
            return SortedIndex(rowCount: rowCount, keys: .ints(keys), rows: rows, nulls: nulls)
        case .bool:
            guard let all = gather({ if case .bool(let a) = $0 { a.map { $0 ? Int64(1) : 0 } } else { nil } }) else { return nil }
            let (keys, rows) = sorted(all, by: <)
            return SortedIndex(rowCount: rowCount, keys: .bools(keys), rows: rows, nulls: nulls)
        case .float, .double:
            guard let all = gather(Self.reals), !present.contains(where: { all[Int($0)].isNaN }) else { return nil }
            let (keys, rows) = sorted(all, by: <)
            return SortedIndex(rowCount: rowCount, keys: .doubles(keys), rows: rows, nulls: nulls)
        case .string:
            guard let all = gather({ if case .string(let a) = $0 { a } else { nil } }) else { return nil }
            let (keys, rows) = sorted(all) { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            return SortedIndex(rowCount: rowCount, keys: .strings(keys), rows: rows, nulls: nulls)
        default:
            return nil
        }
    }

    private static func integers(_ values: ColumnValues) -> [Int64]? {
        switch values {
        case .int8(let a): a.map(Int64.init)
        case .int16(let a): a.map(Int64.init)
        case .int32(let a): a.map(Int64.init)
        case .int64(let a): a
        default: nil
        }
    }

    private static func reals(_ values: ColumnValues) -> [Double]? {
        switch values {
        case .float(let a): a.map(Double.init)
        case .double(let a): a
        default: nil
        }
    }

    // MARK: - Lookups

    /// How the key at sorted position `i` orders against `value`: negative, zero or positive;
    /// nil when the two do not compare (the evaluator's "unknown" for every non-null row).
    private func order(of value: FilterValue) -> ((Int) -> Int)? {
        func sign<T: Comparable>(_ a: T, _ b: T) -> Int { a < b ? -1 : (a == b ? 0 : 1) }
        switch (keys, value) {
        case (.ints(let k), .int(let v)): return { sign(k[$0], v) }
        case (.ints(let k), .float(let v)): return { sign(Double(k[$0]), v) }
        case (.doubles(let k), .int(let v)): return { sign(k[$0], Double(v)) }
        case (.doubles(let k), .float(let v)): return { sign(k[$0], v) }
        case (.bools(let k), .bool(let v)): return { sign(k[$0], v ? 1 : 0) }
        case (.strings(let k), .string(let v)):
            return { i in
                let key = k[i].utf8
                if key.lexicographicallyPrecedes(v.utf8) { return -1 }
                return v.utf8.lexicographicallyPrecedes(key) ? 1 : 0
            }
        default: return nil
        }
    }

    /// The first sorted position at which `before` turns false (it must be true, then false).
    private func partition(_ before: (Int) -> Bool) -> Int {
        var low = 0
        var high = keys.count
        while low < high {
            let mid = (low + high) / 2
            if before(mid) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Sorted positions whose key satisfies `key <op> value`; nil when the types do not compare.
    public func positions(_ op: CompareOp, _ value: FilterValue) -> [Range<Int>]? {
        guard let order = order(of: value) else { return nil }
        let n = keys.count
        let lower = partition { order($0) < 0 }  // first key >= value
        let upper = partition { order($0) <= 0 }  // first key > value
        switch op {
        case .eq: return [lower..<upper]
        case .ne: return [0..<lower, upper..<n]
        case .lt: return [0..<lower]
        case .le: return [0..<upper]
        case .gt: return [upper..<n]
        case .ge: return [lower..<n]
        }
    }

    /// Sorted positions of strings that start with `prefix` (UTF-8 bytes); nil for other keys.
    public func positions(prefix: String) -> Range<Int>? {
        guard case .strings(let k) = keys else { return nil }
        let p = Array(prefix.utf8)
        let lower = partition { k[$0].utf8.lexicographicallyPrecedes(p) }
        var upper = lower
        while upper < k.count, k[upper].utf8.starts(with: p) { upper += 1 }
        return lower..<upper
    }

    /// Filter states for every row of the segment (FilterEvaluator's yes, no, unknown): rows at
    /// `positions` are `hit`, null rows are unknown, the rest `miss`.
    public func states(_ positions: [Range<Int>], hit: UInt8 = FilterEvaluator.yes, miss: UInt8 = FilterEvaluator.no) -> [UInt8] {
        var out = [UInt8](repeating: miss, count: rowCount)
        for range in positions {
            for i in range { out[Int(rows[i])] = hit }
        }
        for r in nulls { out[Int(r)] = FilterEvaluator.unknown }
        return out
    }

    // MARK: - Serialization

    /// The index as bytes: row count, key kind, keys, rows, nulls.
    public func encode(into w: inout ByteWriter) {
        w.write(UInt64(rowCount))
        switch keys {
        case .ints(let k):
            w.write(UInt8(0))
            w.writeArray(k)
        case .bools(let k):
            w.write(UInt8(1))
            w.writeArray(k)
        case .doubles(let k):
            w.write(UInt8(2))
            w.writeArray(k)
        case .strings(let k):
            w.write(UInt8(3))
            w.write(UInt64(k.count))
            for s in k { w.write(s) }
        }
        w.writeArray(rows)
        w.writeArray(nulls)
    }

    public static func decode(from r: inout ByteReader) throws(ElanusError) -> SortedIndex {
        let rowCount = try r.readCount()
        let keys: Keys
        switch try r.read(UInt8.self) {
        case 0: keys = .ints(try r.readArray(Int64.self))
        case 1: keys = .bools(try r.readArray(Int64.self))
        case 2: keys = .doubles(try r.readArray(Double.self))
        case 3:
            let count = try r.readCount()
            guard count <= rowCount else { throw r.corrupt("\(count) keys for \(rowCount) rows") }
            var strings: [String] = []
            strings.reserveCapacity(count)
            for _ in 0..<count { strings.append(try r.readString()) }
            keys = .strings(strings)
        case let kind: throw r.corrupt("unknown key kind \(kind)")
        }
        let rows = try r.readArray(Int32.self)
        let nulls = try r.readArray(Int32.self)
        guard rows.count == keys.count, rows.count + nulls.count == rowCount,
            (rows + nulls).allSatisfy({ $0 >= 0 && Int($0) < rowCount })
        else { throw r.corrupt("rows do not match the keys") }
        return SortedIndex(rowCount: rowCount, keys: keys, rows: rows, nulls: nulls)
    }
}
