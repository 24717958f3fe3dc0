import ElanusCore
import ElanusStorage

/// The object-store file formats of the data node (DESIGN.md section 6, README "On-disk layout").
///
/// Segment file `<collection>/segment-<id>.seg`, magic `ELSEGMNT`, version 1 (ChecksummedFile
/// framing: every section carries its CRC-32C):
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

    static func encode(_ segment: Segment, collectionID: Int64) -> [UInt8] {
        var header = ByteWriter(capacity: 64)
        header.write(collectionID)
        header.write(segment.partitionID)
        header.write(segment.id)
        header.write(UInt32(segment.chunks.count))
        header.write(UInt64(segment.rowCount))
        var sections = [header.bytes]
        for chunk in segment.chunks {
            var w = ByteWriter(capacity: chunk.batch.estimatedBytes + 64)
            w.write(chunk.timestamp)
            w.write(chunk.position)
            chunk.batch.encode(into: &w)
            sections.append(w.bytes)
        }
        return ChecksummedFile.encode(magic: segmentMagic, version: version, sections: sections)
    }

    /// A flushed segment read back; every chunk starts with no dead rows (the delta file has them).
    static func decode(_ bytes: [UInt8], name: String, createdAt: UInt64) throws(ElanusError) -> Segment {
        let (fileVersion, sections) = try ChecksummedFile.decode(bytes, magic: segmentMagic, name: name)
        guard fileVersion == version else { throw .unexpected("\(name): unsupported segment file version \(fileVersion)") }
        guard let first = sections.first else { throw .unexpected("\(name) is corrupt: no header") }
        var h = ByteReader(first, what: name)
        _ = try h.read(Int64.self)
        let partitionID = try h.read(Int64.self)
        let segmentID = try h.read(Int64.self)
        let chunkCount = Int(try h.read(UInt32.self))
        let rowCount = Int(try h.read(UInt64.self))
        guard sections.count == chunkCount + 1 else {
            throw .unexpected("\(name) is corrupt: \(sections.count - 1) of \(chunkCount) chunks present")
        }
        var chunks: [Segment.Chunk] = []
        for section in sections.dropFirst() {
            var r = ByteReader(section, what: name)
            let timestamp = try r.read(UInt64.self)
            let position = try r.read(UInt64.self)
            let batch = try EntityBatch.decode(from: &r)
            chunks.append(Segment.Chunk(timestamp: timestamp, position: position, batch: batch))
        }
        let segment = Segment(id: segmentID, partitionID: partitionID, state: .flushed, chunks: chunks, createdAt: createdAt)
        guard segment.rowCount == rowCount else { throw .unexpected("\(name) is corrupt: \(segment.rowCount) rows, header says \(rowCount)") }
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
