import ElanusCore

/// An n-gram inverted index over one string column (or one JSON path cast to VARCHAR) of a
/// sealed segment: for each gram length, the distinct grams of the rows' UTF-8 bytes, each with
/// the ascending rows that contain it. A `like` filter asks it for candidates, the rows holding
/// every gram of the pattern's literal runs, and only those rows are matched by `LikeMatcher`;
/// the others cannot match. Milvus's NGRAM index answers `like` the same way (its tantivy
/// n-gram tokenizer, then a verification of the candidates).
///
/// Grams are bytes, not characters: a literal occurs in a string exactly when its bytes do
/// (both are valid UTF-8), and a gram of up to 8 bytes packs into a UInt64 key. So lengths above
/// 8 bytes are indexed as 8: `min_gram` and `max_gram` still decide which literals are long
/// enough to use the index, and a literal longer than the longest gram is covered by several.
///
/// Memory: about 4 bytes per byte of text per indexed gram length (at most 8 lengths), plus 12
/// bytes per distinct gram; building sorts one length at a time (16 bytes per gram occurrence).
/// Work per query: at most `maxGramsPerQuery` posting lists are intersected, shortest first.
public struct NgramIndex: Sendable, Equatable {
    /// The grams of one length: `keys` sorted, the rows of `keys[i]` at
    /// `rows[offsets[i]..<offsets[i + 1]]`, ascending.
    public struct Table: Sendable, Equatable {
        public let length: Int
        public let keys: [UInt64]
        public let offsets: [Int32]
        public let rows: [Int32]

        func postings(_ key: UInt64) -> ArraySlice<Int32> {
            var low = 0
            var high = keys.count
            while low < high {
                let mid = (low + high) / 2
                if keys[mid] < key { low = mid + 1 } else { high = mid }
            }
            guard low < keys.count, keys[low] == key else { return [] }
            return rows[Int(offsets[low])..<Int(offsets[low + 1])]
        }
    }

    /// The longest gram, in bytes, that a key holds.
    public static let maxGramBytes = 8
    /// Posting lists intersected per literal pattern, at most: past a few grams the candidates
    /// rarely shrink, and each list costs its length to merge.
    public static let maxGramsPerQuery = 8
    /// Below this many candidates, checking them is cheaper than intersecting further lists.
    static let enoughCandidates = 64

    public let rowCount: Int
    /// The index's parameters as created (`min_gram`, `max_gram`), in bytes.
    public let minGram: Int
    public let maxGram: Int
    /// One table per indexed length, shortest first.
    public let tables: [Table]
    /// Rows without a string (null, or a JSON value that is not a string), ascending: the index
    /// knows nothing of them, so a filter evaluates them itself.
    public let unindexed: [Int32]

    public init(rowCount: Int, minGram: Int, maxGram: Int, tables: [Table], unindexed: [Int32]) {
        self.rowCount = rowCount
        self.minGram = minGram
        self.maxGram = maxGram
        self.tables = tables
        self.unindexed = unindexed
    }

    /// The gram lengths a key can hold: `minGram...maxGram` with both capped at 8 bytes.
    static func lengths(minGram: Int, maxGram: Int) -> ClosedRange<Int> {
        min(minGram, maxGramBytes)...min(maxGram, maxGramBytes)
    }

    @inline(__always) static func key(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ length: Int) -> UInt64 {
        var key: UInt64 = 0
        for i in start..<(start + length) { key = key << 8 | UInt64(bytes[i]) }
        return key
    }

    /// Indexes `values` (row i is `values[i]`; nil for a row without a string).
    public static func build(_ values: [String?], minGram: Int, maxGram: Int) -> NgramIndex {
        precondition(minGram >= 1 && minGram <= maxGram)
        var unindexed: [Int32] = []
        for (row, value) in values.enumerated() where value == nil { unindexed.append(Int32(row)) }
        var tables: [Table] = []
        for length in lengths(minGram: minGram, maxGram: maxGram) {
            // Every (gram, row) occurrence of this length, then sorted: equal pairs (a gram
            // repeated in one row) fall together and are kept once.
            var pairs: [(key: UInt64, row: Int32)] = []
            for (row, value) in values.enumerated() {
                guard var text = value, text.utf8.count >= length else { continue }
                text.withUTF8 { bytes in
                    for start in 0...(bytes.count - length) { pairs.append((key(bytes, start, length), Int32(row))) }
                }
            }
            pairs.sort { $0.key < $1.key || ($0.key == $1.key && $0.row < $1.row) }
            var keys: [UInt64] = []
            var offsets: [Int32] = []
            var rows: [Int32] = []
            rows.reserveCapacity(pairs.count)
            for (i, pair) in pairs.enumerated() {
                if i > 0, pairs[i - 1].key == pair.key {
                    if pairs[i - 1].row != pair.row { rows.append(pair.row) }
                    continue
                }
                keys.append(pair.key)
                offsets.append(Int32(rows.count))
                rows.append(pair.row)
            }
            offsets.append(Int32(rows.count))
            tables.append(Table(length: length, keys: keys, offsets: offsets, rows: rows))
        }
        return NgramIndex(rowCount: values.count, minGram: minGram, maxGram: maxGram, tables: tables, unindexed: unindexed)
    }

    // MARK: - Candidates

    /// The rows that may match `pattern`, ascending: those holding every gram looked up from its
    /// literal runs (a superset of the matching rows among the indexed ones; `unindexed` rows are
    /// never candidates). Nil when no literal run is `minGram` bytes long: the index cannot narrow
    /// the rows, and the caller scans.
    public func candidates(_ pattern: LikePattern) -> [Int32]? {
        var lists: [ArraySlice<Int32>] = []
        var seen: Set<UInt64> = []
        for literal in pattern.literalRuns {
            let bytes = Array(literal.utf8)
            guard bytes.count >= minGram, let longest = tables.last else { continue }
            let length = min(bytes.count, longest.length)
            guard let table = tables.first(where: { $0.length == length }) else { continue }
            // Windows over the literal, at most `maxGramsPerQuery` of them: the first, the last,
            // and evenly between, so that together they cover it whenever they can.
            let windows = bytes.count - length + 1
            let picked = min(windows, NgramIndex.maxGramsPerQuery)
            bytes.withUnsafeBufferPointer { p in
                for i in 0..<picked {
                    let start = picked == 1 ? 0 : i * (windows - 1) / (picked - 1)
                    let key = NgramIndex.key(p, start, length)
                    // A key is unique within its length's table; lengths differ by table.
                    if seen.insert(key ^ UInt64(length) << 61).inserted { lists.append(table.postings(key)) }
                }
            }
        }
        guard !lists.isEmpty else { return nil }
        lists.sort { $0.count < $1.count }
        var result = Array(lists[0])
        for list in lists.dropFirst().prefix(NgramIndex.maxGramsPerQuery - 1) {
            if result.count <= NgramIndex.enoughCandidates { break }
            result = NgramIndex.intersect(result, list)
        }
        return result
    }

    /// The rows in both ascending lists; binary-searches the longer one from where the last
    /// found row was, so a short list against a long one costs about short x log(long).
    static func intersect(_ a: [Int32], _ b: ArraySlice<Int32>) -> [Int32] {
        var out: [Int32] = []
        var low = b.startIndex
        for row in a {
            var high = b.endIndex
            while low < high {
                let mid = (low + high) / 2
                if b[mid] < row { low = mid + 1 } else { high = mid }
            }
            if low == b.endIndex { break }
            if b[low] == row { out.append(row) }
        }
        return out
    }

    // MARK: - Serialization

    /// The index as bytes: row count, min and max gram, unindexed rows, then each table.
    public func encode(into w: inout ByteWriter) {
        w.write(UInt64(rowCount))
        w.write(UInt32(minGram))
        w.write(UInt32(maxGram))
        w.writeArray(unindexed)
        w.write(UInt32(tables.count))
        for table in tables {
            w.write(UInt32(table.length))
            w.writeArray(table.keys)
            w.writeArray(table.offsets)
            w.writeArray(table.rows)
        }
    }

    public static func decode(from r: inout ByteReader) throws(ElanusError) -> NgramIndex {
        let rowCount = try r.readCount()
        let minGram = Int(try r.read(UInt32.self))
        let maxGram = Int(try r.read(UInt32.self))
        guard minGram >= 1, minGram <= maxGram else { throw r.corrupt("gram lengths \(minGram)...\(maxGram)") }
        let unindexed = try r.readArray(Int32.self)
        let count = Int(try r.read(UInt32.self))
        let expected = lengths(minGram: minGram, maxGram: maxGram)
        guard count == expected.count, unindexed.allSatisfy({ $0 >= 0 && Int($0) < rowCount }) else { throw r.corrupt("tables do not match the gram lengths") }
        var tables: [Table] = []
        for length in expected {
            guard Int(try r.read(UInt32.self)) == length else { throw r.corrupt("a table of an unexpected gram length") }
            let keys = try r.readArray(UInt64.self)
            let offsets = try r.readArray(Int32.self)
            let rows = try r.readArray(Int32.self)
            // Every posting range must lie inside `rows` and every row inside the segment, so a
            // corrupt file can never index out of bounds at query time.
            guard offsets.count == keys.count + 1, offsets.first == 0, offsets.last == Int32(rows.count),
                zip(offsets, offsets.dropFirst()).allSatisfy({ $0 <= $1 }),
                rows.allSatisfy({ $0 >= 0 && Int($0) < rowCount })
            else { throw r.corrupt("posting lists do not match the keys") }
            tables.append(Table(length: length, keys: keys, offsets: offsets, rows: rows))
        }
        return NgramIndex(rowCount: rowCount, minGram: minGram, maxGram: maxGram, tables: tables, unindexed: unindexed)
    }
}

extension LikePattern {
    /// The pattern's runs of literal characters (between wildcards), as strings.
    var literalRuns: [String] {
        pieces.compactMap { piece in
            if case .literal(let l) = piece { String(String.UnicodeScalarView(l)) } else { nil }
        }
    }
}
