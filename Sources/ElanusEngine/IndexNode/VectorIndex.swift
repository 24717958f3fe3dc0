import ElanusCore
import ElanusStorage

/// One segment's index on one field: row i of the index is row i of the segment (chunks
/// concatenated in order). Immutable once built, so any number of readers share it.
protocol SegmentIndex: AnyObject, Sendable {
    var plan: IndexPlan { get }
    var rows: Int { get }
    /// The index's own serialized form: the body of its index file.
    func serialized() throws(ElanusError) -> [UInt8]
}

/// An index on a vector field, which searches.
protocol VectorIndex: SegmentIndex {
    /// The k best rows among those set in `bitmap` (all when nil): (score, row), best first, with
    /// the metric's own scores (as the exact scan computes them).
    func search(_ query: QueryVector, k: Int, options: IndexSearchOptions, bitmap: [UInt8]?) throws(ElanusError) -> [(score: Float, row: Int)]
}

/// Per-request search parameters (`searchParams.params`); nil means the index's default.
struct IndexSearchOptions: Sendable {
    var ef: Int?
    var nprobe: Int?
    var dropRatio: Double?
}

/// Building indexes of every kind, and their files.
///
/// The index file `<collection>/index-<segment>-<field>.idx`: ChecksummedFile framing, magic
/// `ELINDEX1`, version 1, with a header section (segment id i64, field id i64, row count u64,
/// dim u32, index type string) and the body: faiss's own serialization for faiss indexes, our
/// own layout for the binary IVF, sparse inverted and scalar indexes (see their types).
enum IndexFile {
    static let magic = "ELINDEX1"
    static let version: UInt32 = 1

    /// Builds `plan`'s index over `field`'s vectors in `segment`. Runs on the index node's
    /// threads; faiss may use `threads` OpenMP threads.
    static func build(_ plan: IndexPlan, segment: Segment, field: FieldSchema, threads: Int) throws(ElanusError) -> any SegmentIndex {
        switch plan.kind {
        case .exact:
            throw .unexpected("index type \(plan.indexType) has nothing to build")
        case .hnsw, .ivf:
            return try FaissIndex.build(plan, vectors: segment.floatVectors(field), dim: field.dim ?? 0, threads: threads)
        case .binaryIVF(let nlist):
            var codes: [UInt8] = []
            for chunk in segment.chunks { if case .binaryVector(let bytes)? = chunk.batch.column(field.fieldID)?.values { codes += bytes } }
            return BinaryIVFIndex.build(plan, codes: codes, bytesPerRow: (field.dim ?? 8) / 8, nlist: nlist)
        case .sparseInverted(let dropRatio):
            var rows: [SparseVector] = []
            for chunk in segment.chunks { if case .sparseVector(let vectors)? = chunk.batch.column(field.fieldID)?.values { rows += vectors } }
            return SparseInvertedIndex.build(plan, rows: rows, dropRatio: dropRatio)
        case .scalarSorted:
            return try ScalarIndex.build(plan, segment: segment, field: field)
        }
    }

    static func encode(_ index: any SegmentIndex, segmentID: Int64, fieldID: Int64, dim: Int) throws(ElanusError) -> [UInt8] {
        var header = ByteWriter()
        header.write(segmentID)
        header.write(fieldID)
        header.write(UInt64(index.rows))
        header.write(UInt32(dim))
        header.write(index.plan.indexType)
        return ChecksummedFile.encode(magic: magic, version: version, sections: [header.bytes, try index.serialized()])
    }

    static func decode(_ bytes: [UInt8], name: String, plan: IndexPlan, expectRows: Int) throws(ElanusError) -> any SegmentIndex {
        let (fileVersion, sections) = try ChecksummedFile.decode(bytes, magic: magic, name: name)
        guard fileVersion == version, sections.count == 2 else { throw .unexpected("\(name) is corrupt: unexpected layout") }
        var h = ByteReader(sections[0], what: name)
        _ = try h.read(Int64.self)
        _ = try h.read(Int64.self)
        let rows = Int(try h.read(UInt64.self))
        let dim = Int(try h.read(UInt32.self))
        guard rows == expectRows else { throw .unexpected("\(name) indexes \(rows) rows, the segment has \(expectRows)") }
        switch plan.kind {
        case .exact: throw .unexpected("\(name): index type \(plan.indexType) has no index file")
        case .hnsw, .ivf: return try FaissIndex.deserialize(sections[1], name: name, plan: plan, dim: dim, rows: rows)
        case .binaryIVF: return try BinaryIVFIndex.deserialize(sections[1], name: name, plan: plan, rows: rows)
        case .sparseInverted: return try SparseInvertedIndex.deserialize(sections[1], name: name, plan: plan, rows: rows)
        case .scalarSorted: return try ScalarIndex.deserialize(sections[1], name: name, plan: plan, rows: rows)
        }
    }
}
