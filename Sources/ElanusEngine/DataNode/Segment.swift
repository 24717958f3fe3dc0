import ElanusCore
import ElanusQuery

/// The rows of one partition in one segment: a list of immutable chunks (one per applied batch,
/// with the batch's timestamp and WAL position), columnar within each chunk.
///
/// A segment is growing while inserts append to it. The seal policy freezes it (no more
/// appends; a new growing segment takes the partition's inserts), the flusher writes it to the
/// object store, and it is flushed once the meta store records it. Sealing changes no row and
/// moves none, so a reader sees the same rows before, during and after the swap. Only the
/// dead-row bitmaps keep changing, through deletes and newer versions of a key.
///
/// It is a value: the applier changes its own copy and publishes it under the collection's short
/// state lock, so a reader holding an earlier copy keeps a consistent view and never waits.
struct Segment: Sendable {
    enum State: UInt8, Sendable {
        case growing = 0
        case sealed = 1
        case flushed = 2
    }

    struct Chunk: Sendable {
        let timestamp: UInt64
        /// The WAL position of the record that inserted these rows.
        let position: UInt64
        let batch: EntityBatch
        /// One bit per row, set once the row is no longer its key's live version (deleted, or
        /// superseded by a newer insert or upsert). Readers scan only rows whose bit is clear.
        var dead: [UInt64]
        /// BM25 term statistics of the rows, computed when a search first needs them and shared
        /// by every copy of the chunk (the rows never change).
        let terms = ChunkTermCache()
        /// Match indexes of its `enable_match` fields, built when a text_match or phrase_match
        /// first reads the chunk and shared by every copy of it, like `terms`.
        let text = TextIndexCache()

        init(timestamp: UInt64, position: UInt64, batch: EntityBatch, dead: [UInt64]? = nil) {
            self.timestamp = timestamp
            self.position = position
            self.batch = batch
            self.dead = dead ?? [UInt64](repeating: 0, count: (batch.rowCount + 63) / 64)
        }

        func isLive(_ row: Int) -> Bool { dead[row >> 6] & (1 << UInt64(row & 63)) == 0 }

        /// Rows whose dead bit is clear (bits past the last row are never set).
        var liveCount: Int { batch.rowCount - dead.reduce(0) { $0 + $1.nonzeroBitCount } }
        var hasLiveRows: Bool { liveCount > 0 }
    }

    let id: Int64
    let partitionID: Int64
    var state: State
    private(set) var chunks: [Chunk]
    private(set) var rowCount = 0
    /// Rows whose dead bit is set, kept with every change to the bitmaps: a search learns that
    /// nothing is deleted without reading a bitmap.
    private(set) var deadRows = 0
    /// Where each chunk starts in the segment's row numbering (the numbering of its indexes),
    /// kept as chunks are appended so that a search allocates nothing to map rows.
    private(set) var chunkOffsets: [Int] = []
    /// Approximate bytes of column data, for the seal policy.
    private(set) var byteSize = 0
    /// When the first row arrived (monotonic nanoseconds), for the seal policy's age limit.
    let createdAt: UInt64
    /// Built indexes of a flushed segment, by field id (the index node swaps them in): vector
    /// indexes for search, scalar indexes for filters.
    var indexes: [Int64: any SegmentIndex] = [:]
    /// Set when the segment's partition is released: only the primary keys stay in memory (the
    /// writer still needs them for deletes and upserts), and the other columns and the indexes
    /// wait on disk until the partition is loaded again.
    private(set) var released = false
    /// The fields whose index file exists, while released.
    private(set) var releasedIndexFields: Set<Int64> = []

    /// The fields with a built index, loaded or not.
    var indexedFields: Set<Int64> { released ? releasedIndexFields : Set(indexes.keys) }

    init(id: Int64, partitionID: Int64, state: State = .growing, chunks: [Chunk] = [], createdAt: UInt64) {
        self.id = id
        self.partitionID = partitionID
        self.state = state
        self.chunks = []
        self.createdAt = createdAt
        for chunk in chunks { append(chunk) }
    }

    /// The segment without its columns other than the primary key, and without its indexes.
    func releasing(keep primaryFieldID: Int64, indexedFields fields: Set<Int64>? = nil) -> Segment {
        let kept = chunks.map { chunk in
            Chunk(timestamp: chunk.timestamp, position: chunk.position,
                  batch: EntityBatch(rowCount: chunk.batch.rowCount, columns: chunk.batch.column(primaryFieldID).map { [$0] } ?? []), dead: chunk.dead)
        }
        var out = Segment(id: id, partitionID: partitionID, state: state, chunks: kept, createdAt: createdAt)
        out.released = true
        out.releasedIndexFields = fields ?? indexedFields
        return out
    }

    /// A released segment brought back: the columns and indexes of `full` (read from disk), with
    /// this segment's dead rows, which are newer than the files'.
    func restoring(_ full: Segment) -> Segment {
        var out = Segment(
            id: id, partitionID: partitionID, state: state,
            chunks: zip(full.chunks, chunks).map { Chunk(timestamp: $0.timestamp, position: $0.position, batch: $0.batch, dead: $1.dead) },
            createdAt: createdAt)
        out.indexes = full.indexes
        return out
    }

    /// The segment with every chunk at `timestamp` (an imported segment, once its import commits).
    func stamped(_ timestamp: UInt64) -> Segment {
        var out = Segment(
            id: id, partitionID: partitionID, state: state,
            chunks: chunks.map { Chunk(timestamp: timestamp, position: $0.position, batch: $0.batch, dead: $0.dead) }, createdAt: createdAt)
        out.indexes = indexes
        return out
    }

    /// Swaps in `field`'s built index. When the index keeps the raw vectors exactly (see
    /// `FaissIndex.rawVectors`), each chunk's column of that field is replaced by a window on
    /// them, and the segment's own copy is freed once no reader holds an older snapshot.
    mutating func attach(_ index: any SegmentIndex, field: Int64) {
        indexes[field] = index
        guard let raw = (index as? FaissIndex)?.rawVectors, let base = raw.buffer.baseAddress, raw.buffer.count % max(rowCount, 1) == 0 else { return }
        let dim = raw.buffer.count / max(rowCount, 1)
        var row = 0
        for c in chunks.indices {
            let rows = chunks[c].batch.rowCount
            defer { row += rows }
            guard let position = chunks[c].batch.columns.firstIndex(where: { $0.fieldID == field }),
                  case .floatVector = chunks[c].batch.columns[position].values
            else { continue }
            var batch = chunks[c].batch
            batch.columns[position].values = .borrowedFloatVector(FloatRows(owner: raw.owner, base: base + row * dim, count: rows * dim))
            chunks[c] = Chunk(timestamp: chunks[c].timestamp, position: chunks[c].position, batch: batch, dead: chunks[c].dead)
        }
    }

    /// Removes `field`'s index; vectors borrowed from it are copied back into the segment first,
    /// so the index's memory goes with it.
    mutating func detachIndex(field: Int64) {
        guard indexes.removeValue(forKey: field) != nil else { return }
        for c in chunks.indices where chunks[c].batch.column(field).map({ if case .borrowedFloatVector = $0.values { true } else { false } }) == true {
            chunks[c] = Chunk(timestamp: chunks[c].timestamp, position: chunks[c].position, batch: chunks[c].batch.owned([field]), dead: chunks[c].dead)
        }
    }

    var liveRowCount: Int { chunks.reduce(0) { $0 + $1.liveCount } }

    var firstPosition: UInt64? { chunks.first?.position }
    var lastPosition: UInt64? { chunks.last?.position }

    mutating func markDead(chunk: Int, row: Int) {
        let bit: UInt64 = 1 << UInt64(row & 63)
        if chunks[chunk].dead[row >> 6] & bit == 0 { deadRows += 1 }
        chunks[chunk].dead[row >> 6] |= bit
    }

    /// Appends a batch and returns its chunk index.
    mutating func append(_ batch: EntityBatch, timestamp: UInt64, position: UInt64) -> Int {
        append(Chunk(timestamp: timestamp, position: position, batch: batch))
        return chunks.count - 1
    }

    private mutating func append(_ chunk: Chunk) {
        chunks.append(chunk)
        chunkOffsets.append(rowCount)
        rowCount += chunk.batch.rowCount
        deadRows += chunk.batch.rowCount - chunk.liveCount
        byteSize += chunk.batch.estimatedBytes
    }

    /// Replaces the dead-row bitmaps (a flushed segment's, loaded with its delta file).
    mutating func setDead(_ bitmaps: [[UInt64]]) {
        for (c, bitmap) in bitmaps.enumerated() where c < chunks.count && bitmap.count == chunks[c].dead.count {
            chunks[c].dead = bitmap
        }
        deadRows = rowCount - liveRowCount
    }

    /// The filter's state (FilterEvaluator's yes, no, unknown) for every row, in the segment's
    /// numbering, using the segment's scalar indexes.
    func filter(_ predicate: Predicate, cancellation: Cancellation? = nil) -> [UInt8] {
        var sorted: [Int64: SortedIndex] = [:]
        var ngrams: [Int64: NgramIndex] = [:]
        var spatial: [Int64: SpatialIndex] = [:]
        var jsonPaths: [JSONPathIndex] = []
        var text: [Int64: TextIndex] = [:]
        for (field, index) in indexes {
            if let index = index as? TextMatchIndex {
                text[field &- IndexPlan.textMatchKey(0)] = index.index
                continue
            }
            guard let index = index as? ScalarIndex else { continue }
            if let target = index.plan.json {
                jsonPaths.append(JSONPathIndex(target: target, content: index.content))
                continue
            }
            switch index.content {
            case .sorted(let index): sorted[field] = index
            case .ngram(let index): ngrams[field] = index
            case .spatial(let index): spatial[field] = index
            }
        }
        return SegmentFilter(batches: chunks.map(\.batch), indexes: sorted, ngrams: ngrams, jsonPaths: jsonPaths, spatial: spatial, text: text, textIndexes: chunks.map(\.text))
            .evaluate(predicate, cancellation: cancellation)
    }

    /// A float vector field's values over every row, in row order (half-precision converted).
    func floatVectors(_ field: FieldSchema) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(rowCount * (field.dim ?? 0))
        forEachFloatChunk(field) { out += $0 }
        return out
    }

    /// A float vector field's values chunk by chunk, in row order, each as one buffer (valid only
    /// during the call; half-precision chunks are converted into a temporary array).
    func forEachFloatChunk<E: Error>(_ field: FieldSchema, _ body: (UnsafeBufferPointer<Float>) throws(E) -> Void) throws(E) {
        for chunk in chunks {
            switch chunk.batch.column(field.fieldID)?.values {
            case .floatVector(let values)?:
                try values.withUnsafeBufferPointer { (p: UnsafeBufferPointer<Float>) throws(E) in try body(p) }
            case .borrowedFloatVector(let rows)?:
                try body(rows.buffer)
            case .halfVector(let bits)?:
                let values = bits.map { HalfFloat.float($0, bfloat16: field.dataType == .bfloat16Vector) }
                try values.withUnsafeBufferPointer { (p: UnsafeBufferPointer<Float>) throws(E) in try body(p) }
            case .int8Vector(let bytes)?:
                // Converted one chunk at a time: only the index build sees floats, the segment keeps int8.
                let values = bytes.map { Float($0) }
                try values.withUnsafeBufferPointer { (p: UnsafeBufferPointer<Float>) throws(E) in try body(p) }
            default: break
            }
        }
    }
}

/// Where a primary key's newest live version is.
struct RowLocation: Sendable {
    var partitionID: Int64
    var segmentID: Int64
    var chunk: Int32
    var row: Int32
}

/// When segments seal: whichever limit a growing segment reaches first.
public struct SegmentPolicy: Sendable {
    public var maxRows: Int
    public var maxBytes: Int
    public var maxAgeSeconds: Double
    public init(maxRows: Int = 1_000_000, maxBytes: Int = 1 << 30, maxAgeSeconds: Double = 600) {
        self.maxRows = maxRows
        self.maxBytes = maxBytes
        self.maxAgeSeconds = maxAgeSeconds
    }
}
