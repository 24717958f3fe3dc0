import ElanusCore
import ElanusStorage

/// The object-store file formats of the data node (DESIGN.md section 6, README "On-disk layout").
///
/// Segment file `<collection>/segment-<id>.seg`, magic `ELSEGMNT`, version 1 (ChecksummedFile
/// framing: every section carries its CRC-32C; written and read one section at a time):
/// - section 0, header: collection id i64, partition id i64, segment id i64, chunk count u32,
///   row count u64;
/// - one section per chunk: timestamp u64, WAL position u64, then the EntityBatch binary form
///   (all columns, the primary keys among them, and the dynamic field).
///
/// Delta file `<collection>/deltas-<sequence>.del`, magic `ELDELTAS`, version 1: one section
/// per flushed segment with its id i64, chunk count u32, and each chunk's dead-row bitmap (u64
/// words). Deletes and superseded versions of sealed rows live here, not in the segment file, so
/// a segment file never changes after it is written.
enum SegmentFile {
    static let segmentMagic = "ELSEGMNT"
    static let deltaMagic = "ELDELTAS"
    static let version: UInt32 = 1

    static func segmentPath(collection: Int64, segment: Int64) -> String { "\(collection)/segment-\(segment).seg" }
    static func deltaPath(collection: Int64, sequence: UInt64) -> String { "\(collection)/deltas-\(sequence).del" }

    /// Writes `segment`'s file at `relative`, one chunk section at a time (temporary name,
    /// fsync, rename); returns its size.
    static func write(_ segment: Segment, collectionID: Int64, to objects: ObjectStore, _ relative: String) throws(ElanusError) -> Int {
        // The whole file's size against the disk reserve, before its first byte.
        let file = try objects.create(relative, expectedBytes: segment.byteSize)
        let writer = try ChecksummedFileWriter(file, magic: segmentMagic, version: version)
        var header = ByteWriter(capacity: 64)
        header.write(collectionID)
        header.write(segment.partitionID)
        header.write(segment.id)
        header.write(UInt32(segment.chunks.count))
        header.write(UInt64(segment.rowCount))
        try writer.append(header.bytes)
        for chunk in segment.chunks {
            var w = ByteWriter(capacity: chunk.batch.estimatedBytes + 64)
            w.write(chunk.timestamp)
            w.write(chunk.position)
            chunk.batch.encode(into: &w)
            try writer.append(w.bytes)
        }
        try file.commit()
        return file.size
    }

    /// A flushed segment read back one chunk section at a time; every chunk starts with no dead
    /// rows (the delta file has them). A float vector field in `borrowing` takes its values from
    /// those raw vectors (an index that holds them, already checked to have the segment's row
    /// count) instead of a copy of the file's.
    /// With `only`, the other columns are stepped over (a released partition's segments keep
    /// only their primary keys in memory).
    static func read(path: String, createdAt: UInt64, borrowing: [Int64: FloatRows] = [:], only: Set<Int64>? = nil) throws(ElanusError) -> Segment {
        let reader = try ChecksummedFileReader(path: path, magic: segmentMagic)
        guard reader.version == version else { throw .unexpected("\(path): unsupported segment file version \(reader.version)") }
        guard let first = try reader.next() else { throw .unexpected("\(path) is corrupt: no header") }
        var h = ByteReader(first, what: path)
        _ = try h.read(Int64.self)
        let partitionID = try h.read(Int64.self)
        let segmentID = try h.read(Int64.self)
        let chunkCount = Int(try h.read(UInt32.self))
        let rowCount = try h.readCount()
        var chunks: [Segment.Chunk] = []
        var floatOffset: [Int64: Int] = [:]
        let substitute: (Int64, Int) -> ColumnValues? = { field, floats in
            guard let rows = borrowing[field] else { return nil }
            let start = floatOffset[field, default: 0]
            guard start + floats <= rows.buffer.count, let base = rows.buffer.baseAddress else { return nil }
            floatOffset[field] = start + floats
            return .borrowedFloatVector(FloatRows(owner: rows.owner, base: base + start, count: floats))
        }
        while let section = try reader.next() {
            var r = ByteReader(section, what: path)
            let timestamp = try r.read(UInt64.self)
            let position = try r.read(UInt64.self)
            let batch = try EntityBatch.decode(from: &r, substitute: borrowing.isEmpty ? nil : substitute, only: only)
            chunks.append(Segment.Chunk(timestamp: timestamp, position: position, batch: batch))
        }
        guard chunks.count == chunkCount else { throw .unexpected("\(path) is corrupt: \(chunks.count) of \(chunkCount) chunks present") }
        let segment = Segment(id: segmentID, partitionID: partitionID, state: .flushed, chunks: chunks, createdAt: createdAt)
        guard segment.rowCount == rowCount else { throw .unexpected("\(path) is corrupt: \(segment.rowCount) rows, header says \(rowCount)") }
        // A field stored in another type (Float16, BFloat16 or Int8 vectors, which an index holds
        // as floats) never borrows: it keeps its own column, and has no float count to check.
        for (field, rows) in borrowing where floatOffset[field].map({ $0 != rows.buffer.count }) ?? false {
            throw .unexpected("\(path): field \(field) holds \(floatOffset[field] ?? 0) floats, its index \(rows.buffer.count)")
        }
        return segment
    }

    static func encodeDeltas(_ segments: [Segment]) -> [UInt8] {
        let sections = segments.map { segment in
            var w = ByteWriter(capacity: 16 + segment.rowCount / 8)
            w.write(segment.id)
            w.write(UInt32(segment.chunks.count))
            for chunk in segment.chunks { w.writeArray(chunk.dead) }
            return w.bytes
        }
        return ChecksummedFile.encode(magic: deltaMagic, version: version, sections: sections)
    }

    /// Segment id -> the dead-row bitmap of each chunk.
    static func decodeDeltas(_ bytes: [UInt8], name: String) throws(ElanusError) -> [Int64: [[UInt64]]] {
        let (fileVersion, sections) = try ChecksummedFile.decode(bytes, magic: deltaMagic, name: name)
        guard fileVersion == version else { throw .unexpected("\(name): unsupported delta file version \(fileVersion)") }
        var out: [Int64: [[UInt64]]] = [:]
        for section in sections {
            var r = ByteReader(section, what: name)
            let id = try r.read(Int64.self)
            let count = Int(try r.read(UInt32.self))
            var bitmaps: [[UInt64]] = []
            for _ in 0..<count { bitmaps.append(try r.readArray(UInt64.self)) }
            out[id] = bitmaps
        }
        return out
    }
}
