import ElanusCore

/// The rows of one partition that are not sealed yet: an append-only list of immutable chunks
/// (one per applied batch, with the batch's timestamp), columnar within each chunk.
///
/// It is a value: the applier appends to its own copy and publishes it under the collection's
/// short state lock, so a reader holding an earlier copy keeps a consistent view (its row count
/// is the visible count) and never waits for the writer.
struct GrowingSegment: Sendable {
    struct Chunk: Sendable {
        let timestamp: UInt64
        let batch: EntityBatch
        /// One bit per row, set once the row is no longer its key's live version (deleted, or
        /// superseded by a newer insert or upsert). Readers scan only rows whose bit is clear.
        var dead: [UInt64]

        init(timestamp: UInt64, batch: EntityBatch) {
            self.timestamp = timestamp
            self.batch = batch
            dead = [UInt64](repeating: 0, count: (batch.rowCount + 63) / 64)
        }

        func isLive(_ row: Int) -> Bool { dead[row >> 6] & (1 << UInt64(row & 63)) == 0 }
    }

    let partitionID: Int64
    private(set) var chunks: [Chunk] = []

    init(partitionID: Int64) { self.partitionID = partitionID }

    mutating func markDead(chunk: Int, row: Int) {
        chunks[chunk].dead[row >> 6] |= 1 << UInt64(row & 63)
    }

    /// Appends a batch and returns its chunk index.
    mutating func append(_ batch: EntityBatch, timestamp: UInt64) -> Int {
        chunks.append(Chunk(timestamp: timestamp, batch: batch))
        return chunks.count - 1
    }
}

/// Where a primary key's newest live version is.
struct RowLocation: Sendable {
    var partitionID: Int64
    var chunk: Int32
    var row: Int32
}

/// A delete as recorded: the key, when, and the partition it was limited to (nil: all).
struct DeleteRecord: Sendable {
    var key: PrimaryKey
    var timestamp: UInt64
    var partitionID: Int64?
}
