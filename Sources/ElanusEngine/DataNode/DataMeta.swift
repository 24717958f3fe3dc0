import ElanusCore

/// The meta-store records of a collection's flushed data (the data coordinator's part of the
/// catalog). Written in one commit with each flush, so a restart finds the segment files, the
/// delta file and the WAL checkpoint that belong together.
struct DataState: Codable, Sendable {
    /// Every WAL record at or below this position is reflected in the flushed segments and the
    /// delta file; recovery replays only the records after it.
    var checkpoint: UInt64
    /// The delta file holding the flushed segments' dead-row bitmaps, if any.
    var deltaFile: String?
    /// Numbers the delta files, so each commit names a new one.
    var deltaSequence: UInt64?
}

struct SegmentRecord: Codable, Sendable {
    var id: Int64
    var partitionID: Int64
    var rows: Int
    var file: String
    var bytes: Int
    /// WAL positions of the first and last records whose rows the segment holds.
    var firstPosition: UInt64
    var lastPosition: UInt64
    /// Index files by vector field id (as a string), once built.
    var indexes: [String: String]?
    /// Set for a segment written by a bulk import: its file was written before the import's
    /// timestamp was chosen (at commit), so the file's chunks carry 0 and this is their timestamp.
    var importTimestamp: UInt64?
}

enum DataKeys {
    static func prefix(_ collection: Int64) -> String { "data/\(Keys.padded(collection))/" }
    static func state(_ collection: Int64) -> String { prefix(collection) + "state" }
    static func segmentPrefix(_ collection: Int64) -> String { prefix(collection) + "segment/" }
    static func segment(_ collection: Int64, _ segment: Int64) -> String { segmentPrefix(collection) + Keys.padded(segment) }
}
