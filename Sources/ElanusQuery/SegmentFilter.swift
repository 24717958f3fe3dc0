import ElanusCore

/// Evaluates a filter over a whole segment (its chunks in row order, numbered as its indexes
/// number them), with SQL's three-valued logic as `FilterEvaluator`.
///
/// Two things make it cheaper than evaluating every clause on every row:
/// - a leaf that a scalar index covers (a comparison, an `in` list, a prefix `like`, `is null`
///   on an indexed column) is answered by binary searches in the index;
/// - in an `and` (or an `or`), the clauses the indexes answer go first, and once fewer than an
///   eighth of the rows are still undecided, each further clause is evaluated only on those
///   rows (a selective `category == 7 and json["a"] > 3` reads the JSON of few rows).
public struct SegmentFilter {
    let batches: [EntityBatch]
    let offsets: [Int]
    let rowCount: Int
    /// Scalar indexes by field id, over the same row numbering.
    let indexes: [Int64: SortedIndex]

    public init(batches: [EntityBatch], indexes: [Int64: SortedIndex] = [:]) {
        self.batches = batches
        var offsets: [Int] = []
        var total = 0
        for batch in batches {
            offsets.append(total)
            total += batch.rowCount
        }
        self.offsets = offsets
        rowCount = total
        self.indexes = indexes.filter { $0.value.rowCount == total }
    }

    private static let no = FilterEvaluator.no
    private static let yes = FilterEvaluator.yes
    private static let unknown = FilterEvaluator.unknown

    /// One state per row of the segment. When `cancellation` stops the request the states are
    /// incomplete: the caller checks it before using them.
    public func evaluate(_ predicate: Predicate, cancellation: Cancellation? = nil) -> [UInt8] {
        switch predicate {
        case .and(let items): return combine(items, isAnd: true, cancellation)
        case .or(let items): return combine(items, isAnd: false, cancellation)
        case .not(let inner): return evaluate(inner, cancellation: cancellation).map { $0 == Self.unknown ? Self.unknown : 1 - $0 }
        default: return lookup(predicate) ?? scan(predicate, cancellation)
        }
    }

    private func combine(_ items: [Predicate], isAnd: Bool, _ cancellation: Cancellation?) -> [UInt8] {
        // The state that settles a row: no for `and`, yes for `or`.
        let settled = isAnd ? Self.no : Self.yes
        @inline(__always) func merge(_ current: UInt8, _ next: UInt8) -> UInt8 {
            if next == settled { return settled }
            return next == Self.unknown ? Self.unknown : current
        }
        var out = [UInt8](repeating: isAnd ? Self.yes : Self.no, count: rowCount)
        let ordered = items.filter { indexFor($0) != nil } + items.filter { indexFor($0) == nil }
        var open = rowCount
        for item in ordered {
            if open == 0 || cancellation?.isCancelled == true { break }
            if open * 8 < rowCount {
                for (c, batch) in batches.enumerated() {
                    let base = offsets[c]
                    var evaluated = 0
                    for r in 0..<batch.rowCount where out[base + r] != settled {
                        evaluated += 1
                        if evaluated % FilterEvaluator.rowsPerCancellationCheck == 0, cancellation?.isCancelled == true { break }
                        out[base + r] = merge(out[base + r], FilterEvaluator.evaluateRow(item, batch, r))
                    }
                }
            } else {
                let next = evaluate(item, cancellation: cancellation)
                for i in 0..<rowCount where out[i] != settled { out[i] = merge(out[i], next[i]) }
            }
            open = out.count(where: { $0 != settled })
        }
        return out
    }

    /// The index that can answer a leaf, if any.
    private func indexFor(_ predicate: Predicate) -> SortedIndex? {
        switch predicate {
        case .compare(.scalar(let fieldID, _), _, _), .inList(.scalar(let fieldID, _), _, _), .isNull(.scalar(let fieldID, _), _):
            return indexes[fieldID]
        case .like(.scalar(let fieldID, _), let pattern) where pattern.literalPrefix != nil:
            return indexes[fieldID]
        default:
            return nil
        }
    }

    /// A leaf answered by its index; nil when no index covers it.
    private func lookup(_ predicate: Predicate) -> [UInt8]? {
        guard let index = indexFor(predicate) else { return nil }
        switch predicate {
        case .compare(_, let op, let value):
            return index.positions(op, value).map { index.states($0) }
        case .inList(_, let values, let negated):
            var ranges: [Range<Int>] = []
            for value in values {
                // A constant of another type leaves rows unknown rather than no: scan those.
                guard let found = index.positions(.eq, value) else { return nil }
                ranges += found
            }
            return index.states(ranges, hit: negated ? Self.no : Self.yes, miss: negated ? Self.yes : Self.no)
        case .like(_, let pattern):
            guard let (text, exact) = pattern.literalPrefix else { return nil }
            if exact { return index.positions(.eq, .string(text)).map { index.states($0) } }
            return index.positions(prefix: text).map { index.states([$0]) }
        case .isNull(_, let negated):
            var out = [UInt8](repeating: negated ? Self.yes : Self.no, count: rowCount)
            for r in index.nulls { out[Int(r)] = negated ? Self.no : Self.yes }
            return out
        default:
            return nil
        }
    }

    private func scan(_ predicate: Predicate, _ cancellation: Cancellation?) -> [UInt8] {
        if batches.count == 1 { return FilterEvaluator.evaluate(predicate, batches[0], cancellation: cancellation) }
        var out: [UInt8] = []
        out.reserveCapacity(rowCount)
        for batch in batches { out += FilterEvaluator.evaluate(predicate, batch, cancellation: cancellation) }
        return out
    }
}
