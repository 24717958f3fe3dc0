import ElanusCore

/// Evaluates a filter over a whole segment (its chunks in row order, numbered as its indexes
/// number them), with SQL's three-valued logic as `FilterEvaluator`.
///
/// Two things make it cheaper than evaluating every clause on every row:
/// - a leaf that a scalar index covers (a comparison, an `in` list, a prefix `like`, `is null`
///   on an indexed column) is answered by binary searches in the index;
/// - a `like` on a column (or JSON path) with an n-gram index is matched only on the index's
///   candidate rows (and the rows it does not cover); the others cannot match;
/// - a comparison or `in` list on a JSON path with an index of the constant's type is answered
///   by that index, and the rows whose value did not cast are evaluated one by one;
/// - `text_match` and `phrase_match` read each chunk's match index (`TextIndex`, built once per
///   chunk and kept in its `TextIndexCache`) instead of analyzing the rows;
/// - in an `and` (or an `or`), the clauses the indexes answer go first, and once fewer than an
///   eighth of the rows are still undecided, each further clause is evaluated only on those
///   rows (a selective `category == 7 and json["a"] > 3` reads the JSON of few rows).
public struct SegmentFilter {
    let batches: [EntityBatch]
    let offsets: [Int]
    let rowCount: Int
    /// Scalar indexes by field id, over the same row numbering.
    let indexes: [Int64: SortedIndex]
    /// N-gram indexes by field id.
    let ngrams: [Int64: NgramIndex]
    /// Indexes on JSON paths, several per field.
    let jsonPaths: [JSONPathIndex]
    /// RTREE indexes by Geometry field id.
    let spatial: [Int64: SpatialIndex]
    /// Match indexes over the whole segment by field id (a flushed segment's), and each batch's
    /// own (one cache per batch) for the fields without one.
    let text: [Int64: TextIndex]
    let textIndexes: [TextIndexCache]

    public init(
        batches: [EntityBatch], indexes: [Int64: SortedIndex] = [:], ngrams: [Int64: NgramIndex] = [:], jsonPaths: [JSONPathIndex] = [],
        spatial: [Int64: SpatialIndex] = [:], text: [Int64: TextIndex] = [:], textIndexes: [TextIndexCache] = []
    ) {
        self.batches = batches
        self.textIndexes = textIndexes.count == batches.count ? textIndexes : []
        var offsets: [Int] = []
        var total = 0
        for batch in batches {
            offsets.append(total)
            total += batch.rowCount
        }
        self.offsets = offsets
        rowCount = total
        self.indexes = indexes.filter { $0.value.rowCount == total }
        self.ngrams = ngrams.filter { $0.value.rowCount == total }
        self.spatial = spatial.filter { $0.value.rowCount == total }
        self.text = text.filter { $0.value.rowCount == total }
        self.jsonPaths = jsonPaths.filter { index in
            switch index.content {
            case .sorted(let sorted): sorted.rowCount == total
            case .ngram(let ngram): ngram.rowCount == total
            case .spatial: false
            }
        }
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
        default: return lookup(predicate, cancellation) ?? scan(predicate, cancellation)
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
        let ordered = items.filter(isIndexed) + items.filter { !isIndexed($0) }
        var open = rowCount
        for item in ordered {
            if open == 0 || cancellation?.isCancelled == true { break }
            // A text match reads postings, cheaper than analyzing even a few rows.
            if open * 8 < rowCount, !isText(item) {
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
    private enum Access {
        case sorted(SortedIndex, residual: Bool)
        case ngram(NgramIndex)
        case spatial(SpatialIndex)
        case text
    }

    private func isText(_ predicate: Predicate) -> Bool {
        if case .textMatch = predicate { return access(predicate) != nil }
        return false
    }

    private func access(_ predicate: Predicate) -> Access? {
        switch predicate {
        case .compare(.scalar(let fieldID, _), _, _), .inList(.scalar(let fieldID, _), _, _), .isNull(.scalar(let fieldID, _), _):
            return indexes[fieldID].map { .sorted($0, residual: false) }
        case .like(.scalar(let fieldID, _), let pattern):
            if pattern.literalPrefix != nil, let sorted = indexes[fieldID] { return .sorted(sorted, residual: false) }
            return ngrams[fieldID].map { .ngram($0) }
        case .compare(.json(let fieldID?, let path), _, let value):
            return jsonIndex(fieldID, path, sortedFor: [value])
        case .inList(.json(let fieldID?, let path), let values, _) where !values.isEmpty:
            return jsonIndex(fieldID, path, sortedFor: values)
        case .like(.json(let fieldID?, let path), let pattern):
            if pattern.literalPrefix != nil, let found = jsonIndex(fieldID, path, sortedFor: [.string("")]) { return found }
            for index in jsonPaths where index.target.fieldID == fieldID && index.target.path == path {
                if case .ngram(let ngram) = index.content { return .ngram(ngram) }
            }
            return nil
        case .spatial(let fieldID, _):
            return spatial[fieldID].map { .spatial($0) }
        case .textMatch(let filter):
            return text[filter.fieldID] != nil || !textIndexes.isEmpty ? .text : nil
        default:
            return nil
        }
    }

    /// A sorted index on the JSON path whose cast type every constant in `values` has.
    private func jsonIndex(_ fieldID: Int64, _ path: [PathAccessor], sortedFor values: [FilterValue]) -> Access? {
        for index in jsonPaths where index.target.fieldID == fieldID && index.target.path == path && values.allSatisfy(index.covers) {
            if case .sorted(let sorted) = index.content { return .sorted(sorted, residual: true) }
        }
        return nil
    }

    private func isIndexed(_ predicate: Predicate) -> Bool {
        guard let access = access(predicate) else { return false }
        // A pattern without a literal as long as the shortest gram is scanned anyway.
        if case .ngram(let ngram) = access, case .like(_, let pattern) = predicate {
            return pattern.literalRuns.contains { $0.utf8.count >= ngram.minGram }
        }
        return true
    }

    /// A leaf answered by its index; nil when no index covers it.
    private func lookup(_ predicate: Predicate, _ cancellation: Cancellation?) -> [UInt8]? {
        switch access(predicate) {
        case nil:
            return nil
        case .text:
            guard case .textMatch(let filter) = predicate else { return nil }
            if let index = text[filter.fieldID] { return index.evaluate(filter) }
            var out: [UInt8] = []
            out.reserveCapacity(rowCount)
            for (c, batch) in batches.enumerated() {
                if cancellation?.isCancelled == true { break }
                out += textIndexes[c].index(filter.fieldID, of: batch, analyzer: filter.analyzer).evaluate(filter)
            }
            if out.count < rowCount { out += [UInt8](repeating: Self.unknown, count: rowCount - out.count) }
            return out
        case .ngram(let ngram):
            guard case .like(_, let pattern) = predicate, let candidates = ngram.candidates(pattern) else { return nil }
            // Rows that are not candidates cannot match; the candidates and the rows the index
            // does not cover (null, or a JSON value that is not a string) are matched as a scan
            // matches them.
            var out = [UInt8](repeating: Self.no, count: rowCount)
            evaluateRows(predicate, candidates, into: &out, cancellation)
            evaluateRows(predicate, ngram.unindexed, into: &out, cancellation)
            return out
        case .spatial(let index):
            // Rows whose envelope misses the region cannot match; null rows are unknown; the
            // candidates and the rows the index could not box are decided by GEOS.
            guard case .spatial(let fieldID, let filter) = predicate, let region = filter.region else { return nil }
            var out = [UInt8](repeating: Self.no, count: rowCount)
            for r in index.nulls { out[Int(r)] = Self.unknown }
            var texts: [String?] = []
            let rows = index.candidates(region) + index.unindexed
            var chunk = 0
            for row in rows.sorted() {
                let r = Int(row)
                while chunk + 1 < offsets.count, offsets[chunk + 1] <= r { chunk += 1 }
                let value = batches[chunk].column(fieldID)?.value(at: r - offsets[chunk])
                if case .string(let text)? = value { texts.append(text) } else { texts.append(nil) }
            }
            // One GEOS matcher for all the candidates.
            let states = filter.evaluate(texts.map { $0 ?? "" }, texts.map { $0 != nil }, cancellation)
            for (i, row) in rows.sorted().enumerated() { out[Int(row)] = states[i] }
            return out
        case .sorted(let index, let residual):
            guard var out = sortedLookup(index, predicate) else { return nil }
            // A JSON path index's nulls are rows whose value did not cast: the scan decides them.
            if residual { evaluateRows(predicate, index.nulls, into: &out, cancellation) }
            return out
        }
    }

    private func sortedLookup(_ index: SortedIndex, _ predicate: Predicate) -> [UInt8]? {
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

    /// Evaluates `predicate` on the segment rows `rows` (ascending) one by one, into `out`.
    private func evaluateRows(_ predicate: Predicate, _ rows: [Int32], into out: inout [UInt8], _ cancellation: Cancellation?) {
        var chunk = 0
        for (i, row) in rows.enumerated() {
            if i % FilterEvaluator.rowsPerCancellationCheck == 0, cancellation?.isCancelled == true { return }
            let r = Int(row)
            while chunk + 1 < offsets.count, offsets[chunk + 1] <= r { chunk += 1 }
            out[r] = FilterEvaluator.evaluateRow(predicate, batches[chunk], r - offsets[chunk])
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
