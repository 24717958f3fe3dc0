import ElanusCore
import ElanusText
import Synchronization

/// The match index of one chunk's VarChar column with `enable_match`: its strings analyzed once
/// by the field's analyzer, then each distinct token with the ascending rows it occurs in and,
/// per row, the token's positions (for `phrase_match`). Milvus keeps the same information in a
/// tantivy index per segment; `text_match` and `phrase_match` read postings here instead of
/// analyzing the rows again.
///
/// Memory: 4 bytes per token occurrence, 8 per (token, row) pair, plus the distinct tokens.
public struct TextIndex: Sendable {
    public let rowCount: Int
    /// Token to its number in `postingStart`.
    let terms: [String: Int32]
    /// Term `t`'s rows are `rows[postingStart[t]..<postingStart[t + 1]]`, ascending.
    let postingStart: [Int32]
    let rows: [Int32]
    /// Posting `p`'s positions are `positions[positionStart[p]..<positionStart[p + 1]]`, ascending.
    let positionStart: [Int32]
    let positions: [Int32]
    /// Rows whose value is null: a match on them is unknown, as any comparison with null.
    public let nulls: [Int32]

    /// Rows analyzed at a time while building: bounds the memory of the analyzer's token values.
    static let rowsPerAnalysis = 4096

    /// The index of `texts` (nil for a null row) under `analyzer`. Every token occurrence is
    /// recorded in three flat arrays as the rows are analyzed (a few thousand at a time), then
    /// sorted by term with a counting sort that keeps row order, so a million rows cost a few
    /// flat arrays rather than an allocation per posting.
    public static func build(_ texts: [String?], analyzer: Analyzer) -> TextIndex {
        var nulls: [Int32] = []
        var termIDs: [String: Int32] = [:]
        var occurrenceTerm: [Int32] = []
        var occurrenceRow: [Int32] = []
        var occurrencePosition: [Int32] = []
        var batchRows: [Int32] = []
        var batchTexts: [String] = []
        func analyzeBatch() {
            for (i, tokens) in analyzer.analyze(batchTexts).enumerated() {
                for token in tokens {
                    let id: Int32
                    if let known = termIDs[token.text] {
                        id = known
                    } else {
                        id = Int32(termIDs.count)
                        termIDs[token.text] = id
                    }
                    occurrenceTerm.append(id)
                    occurrenceRow.append(batchRows[i])
                    occurrencePosition.append(Int32(token.position))
                }
            }
            batchRows.removeAll(keepingCapacity: true)
            batchTexts.removeAll(keepingCapacity: true)
        }
        for (row, text) in texts.enumerated() {
            guard let text else {
                nulls.append(Int32(row))
                continue
            }
            batchRows.append(Int32(row))
            batchTexts.append(text)
            if batchTexts.count == rowsPerAnalysis { analyzeBatch() }
        }
        if !batchTexts.isEmpty { analyzeBatch() }

        // Counting sort of the occurrences by term; within a term they stay in row order, and
        // within a row in token order (positions ascend: filters keep the tokenizer's positions).
        var termStart = [Int](repeating: 0, count: termIDs.count + 1)
        for t in occurrenceTerm { termStart[Int(t) + 1] += 1 }
        for t in 0..<termIDs.count { termStart[t + 1] += termStart[t] }
        var fill = termStart
        var sortedRow = [Int32](repeating: 0, count: occurrenceTerm.count)
        var sortedPosition = [Int32](repeating: 0, count: occurrenceTerm.count)
        for i in occurrenceTerm.indices {
            let t = Int(occurrenceTerm[i])
            sortedRow[fill[t]] = occurrenceRow[i]
            sortedPosition[fill[t]] = occurrencePosition[i]
            fill[t] += 1
        }
        occurrenceTerm = []
        occurrenceRow = []
        occurrencePosition = []

        var postingStart: [Int32] = [0]
        var rows: [Int32] = []
        var positionStart: [Int32] = [0]
        postingStart.reserveCapacity(termIDs.count + 1)
        for t in 0..<termIDs.count {
            for i in termStart[t]..<termStart[t + 1] where i == termStart[t] || sortedRow[i] != sortedRow[i - 1] {
                if i > termStart[t] { positionStart.append(Int32(i)) }
                rows.append(sortedRow[i])
            }
            if termStart[t + 1] > termStart[t] { positionStart.append(Int32(termStart[t + 1])) }
            postingStart.append(Int32(rows.count))
        }
        return TextIndex(
            rowCount: texts.count, terms: termIDs, postingStart: postingStart, rows: rows, positionStart: positionStart,
            positions: sortedPosition, nulls: nulls)
    }

    /// Postings of `token`: the slice of `rows` (and of `positionStart`) it owns.
    func postings(_ token: String) -> Range<Int> {
        guard let t = terms[token].map(Int.init) else { return 0..<0 }
        return Int(postingStart[t])..<Int(postingStart[t + 1])
    }

    func positions(ofPosting p: Int) -> ArraySlice<Int32> {
        positions[Int(positionStart[p])..<Int(positionStart[p + 1])]
    }

    /// The filter's state for every row (yes, no, or unknown for a null row).
    public func evaluate(_ filter: TextMatchFilter) -> [UInt8] {
        var out = [UInt8](repeating: FilterEvaluator.no, count: rowCount)
        switch filter.mode {
        case .any(let minimum):
            if minimum <= 1 {
                // Row numbers were checked against rowCount when the index was built or read.
                out.withUnsafeMutableBufferPointer { states in
                    rows.withUnsafeBufferPointer { rows in
                        for token in filter.tokens {
                            for p in postings(token) { states[Int(rows[p])] = FilterEvaluator.yes }
                        }
                    }
                }
            } else {
                // Each query token (repeats included, as tantivy counts its clauses) that a row holds.
                var counts = [Int32](repeating: 0, count: rowCount)
                for token in filter.tokens {
                    for p in postings(token) { counts[Int(rows[p])] += 1 }
                }
                for row in counts.indices where counts[row] >= minimum { out[row] = FilterEvaluator.yes }
            }
        case .phrase(let slop):
            phrase(filter, slop: slop, into: &out)
        }
        for row in nulls { out[Int(row)] = FilterEvaluator.unknown }
        return out
    }

    /// Rows holding every token of the phrase (the shortest posting list walked, the others
    /// probed by binary search), then their positions checked.
    private func phrase(_ filter: TextMatchFilter, slop: Int, into out: inout [UInt8]) {
        guard !filter.tokens.isEmpty else { return }
        let lists = filter.tokens.map(postings)
        guard let shortest = lists.indices.min(by: { lists[$0].count < lists[$1].count }) else { return }
        var cursor = lists.map(\.lowerBound)
        var found: [ArraySlice<Int32>] = Array(repeating: [], count: lists.count)
        candidates: for p in lists[shortest] {
            let row = rows[p]
            for i in lists.indices {
                // The lists ascend and so do the candidates: each cursor only moves forward.
                var low = cursor[i]
                var high = lists[i].upperBound
                while low < high {
                    let mid = (low + high) / 2
                    if rows[mid] < row { low = mid + 1 } else { high = mid }
                }
                cursor[i] = low
                guard low < lists[i].upperBound, rows[low] == row else { continue candidates }
                found[i] = positions(ofPosting: low)
            }
            if TextMatchFilter.phraseMatches(found, offsets: filter.offsets, slop: slop) { out[Int(row)] = FilterEvaluator.yes }
        }
    }
}

/// A chunk's match indexes by field, built the first time a filter needs one and shared by every
/// copy of the chunk (its rows never change). The build holds the lock, so concurrent filters
/// on a new chunk analyze it once.
public final class TextIndexCache: Sendable {
    private let byField = Mutex<[Int64: TextIndex]>([:])

    public init() {}

    public func index(_ fieldID: Int64, of batch: EntityBatch, analyzer: Analyzer) -> TextIndex {
        byField.withLock { cache in
            if let known = cache[fieldID] { return known }
            let built = TextIndex.build(TextMatchFilter.texts(fieldID, batch), analyzer: analyzer)
            cache[fieldID] = built
            return built
        }
    }

    /// Whether `fieldID`'s index is built (for tests and diagnostics).
    public func isBuilt(_ fieldID: Int64) -> Bool { byField.withLock { $0[fieldID] != nil } }
}

extension TextIndex {
    /// The index as bytes: row count, null rows, the tokens in term order, then the posting and
    /// position arrays.
    public func encode(into w: inout ByteWriter) {
        w.write(UInt64(rowCount))
        w.writeArray(nulls)
        var ordered = [String](repeating: "", count: terms.count)
        for (token, t) in terms { ordered[Int(t)] = token }
        w.write(UInt64(ordered.count))
        for token in ordered { w.write(token) }
        w.writeArray(postingStart)
        w.writeArray(rows)
        w.writeArray(positionStart)
        w.writeArray(positions)
    }

    /// Reads `encode`'s bytes, checking every range and row against the others, so a corrupt
    /// file can never index out of bounds at query time.
    public static func decode(from r: inout ByteReader) throws(ElanusError) -> TextIndex {
        let rowCount = try r.readCount()
        let nulls = try r.readArray(Int32.self)
        let termCount = try r.readCount()
        var terms: [String: Int32] = [:]
        terms.reserveCapacity(termCount)
        for t in 0..<termCount { terms[try r.readString()] = Int32(t) }
        let postingStart = try r.readArray(Int32.self)
        let rows = try r.readArray(Int32.self)
        let positionStart = try r.readArray(Int32.self)
        let positions = try r.readArray(Int32.self)
        func ascending(_ a: [Int32], last: Int) -> Bool {
            a.first == 0 && a.last == Int32(last) && zip(a, a.dropFirst()).allSatisfy { $0 <= $1 }
        }
        guard terms.count == termCount, postingStart.count == termCount + 1, ascending(postingStart, last: rows.count),
            positionStart.count == rows.count + 1, ascending(positionStart, last: positions.count),
            rows.allSatisfy({ $0 >= 0 && Int($0) < rowCount }), nulls.allSatisfy({ $0 >= 0 && Int($0) < rowCount })
        else { throw r.corrupt("posting lists do not match the tokens") }
        return TextIndex(
            rowCount: rowCount, terms: terms, postingStart: postingStart, rows: rows, positionStart: positionStart, positions: positions, nulls: nulls)
    }
}
