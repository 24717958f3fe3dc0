import ElanusCore
import ElanusStorage

/// One segment's index on one field: row i of the index is row i of the segment (chunks
/// concatenated in order). Immutable once built, so any number of readers share it.
protocol SegmentIndex: AnyObject, Sendable {
    var plan: IndexPlan { get }
    var rows: Int { get }
    /// Writes the index's own serialized form, the body of its index file, as one section.
    func writeBody(to writer: ChecksummedFileWriter) throws(ElanusError)
}

/// An index with our own layout, serialized into memory whole (small beside faiss's).
protocol SerializedSegmentIndex: SegmentIndex {
    func serialized() throws(ElanusError) -> [UInt8]
}

extension SerializedSegmentIndex {
    func writeBody(to writer: ChecksummedFileWriter) throws(ElanusError) { try writer.append(serialized()) }
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
    /// SCANN: how many candidates the refine step re-ranks (at least k).
    var reorderK: Int?
    /// HNSW_SQ/HNSW_PQ with a refine step: candidates re-ranked, as a multiple of k (>= 1).
    var refineK: Double?

    /// These options for a search that asks for `rows` rows: HNSW's ef covers them.
    func covering(_ rows: Int) -> IndexSearchOptions {
        var options = self
        options.ef = max(ef ?? rows, rows)
        return options
    }
}

/// Building indexes of every kind, and their files.
///
/// The index file `<collection>/index-<segment>-<field>.idx`: ChecksummedFile framing, magic
/// `ELINDEX1`, version 2, with a header section (segment id i64, field id i64, row count u64,
/// dim u32, index type string, plan signature string; version 1 files lack the signature) and
/// the body: faiss's own serialization for faiss indexes, our
/// own layout for the binary IVF, sparse inverted and scalar indexes (see their types).
enum IndexFile {
    static let magic = "ELINDEX1"
    static let version: UInt32 = 2

    /// Builds `plan`'s index over `field`'s vectors in `segment`. Runs on the index node's
    /// threads; faiss may use `threads` threads, and HNSW builds report to `progress`.
    static func build(_ plan: IndexPlan, segment: Segment, field: FieldSchema, threads: Int, progress: BuildProgress? = nil) throws(ElanusError) -> any SegmentIndex {
        switch plan.kind {
        case .exact:
            throw .unexpected("index type \(plan.indexType) has nothing to build")
        case .hnsw, .ivf, .hnswQuantized, .scann:
            // IVF and PQ training multiply through BLAS: the build's threads go to OpenBLAS too.
            return try BLASThreads.duringBuild(threads: threads) { () throws(ElanusError) in
                try FaissIndex.build(plan, segment: segment, field: field, threads: threads, progress: progress)
            }
        case .binaryIVF(let nlist):
            var codes: [UInt8] = []
            for chunk in segment.chunks { if case .binaryVector(let bytes)? = chunk.batch.column(field.fieldID)?.values { codes += bytes } }
            return BinaryIVFIndex.build(plan, codes: codes, bytesPerRow: (field.dim ?? 8) / 8, nlist: nlist)
        case .sparseInverted(let dropRatio):
            var rows: [SparseVector] = []
            for chunk in segment.chunks { if case .sparseVector(let vectors)? = chunk.batch.column(field.fieldID)?.values { rows += vectors } }
            return SparseInvertedIndex.build(plan, rows: rows, dropRatio: dropRatio)
        case .scalarSorted, .ngram, .rtree:
            return try ScalarIndex.build(plan, segment: segment, field: field)
        case .textMatch:
            return try TextMatchIndex.build(plan, segment: segment, field: field)
        case .termStatistics:
            return TermStatisticsIndex.build(plan, segment: segment, field: field)
        }
    }

    /// Writes `index`'s file at `relative` (temporary name, fsync, rename); returns its size.
    static func write(_ index: any SegmentIndex, segmentID: Int64, fieldID: Int64, dim: Int, to objects: ObjectStore, _ relative: String) throws(ElanusError) -> Int {
        // About the file's size, checked against the disk reserve before its first byte: the
        // vectors (an HNSW or flat store keeps them whole; the others less) and a graph's links.
        let (vectors, overflow) = index.rows.multipliedReportingOverflow(by: max(1, dim) * 4 + 128)
        let file = try objects.create(relative, expectedBytes: overflow ? Int.max / 2 : vectors)
        let writer = try ChecksummedFileWriter(file, magic: magic, version: version)
        var header = ByteWriter()
        header.write(segmentID)
        header.write(fieldID)
        header.write(UInt64(index.rows))
        header.write(UInt32(dim))
        header.write(index.plan.indexType)
        header.write(index.plan.signature)
        try writer.append(header.bytes)
        try index.writeBody(to: writer)
        try file.commit()
        return file.size
    }

    /// Reads an index file section by section; every checksum is verified before faiss or our
    /// decoders see the bytes.
    /// The header must name the segment, the field and the plan the caller loads it for: a file
    /// left by an index that was dropped (or replaced) is refused, and the index rebuilt.
    static func read(path: String, plan: IndexPlan, segmentID: Int64, fieldID: Int64, expectRows: Int) throws(ElanusError) -> any SegmentIndex {
        let reader = try ChecksummedFileReader(path: path, magic: magic)
        guard reader.version == 1 || reader.version == version, let headerBytes = try reader.next() else { throw .unexpected("\(path) is corrupt: unexpected layout") }
        var h = ByteReader(headerBytes, what: path)
        let segment = try h.read(Int64.self)
        let field = try h.read(Int64.self)
        let rows64 = try h.read(UInt64.self)
        let dim = Int(try h.read(UInt32.self))
        let indexType = try h.readString()
        let signature = reader.version >= 2 ? try h.readString() : nil
        guard segment == segmentID, field == fieldID else {
            throw .unexpected("\(path) indexes segment \(segment) field \(field), expected segment \(segmentID) field \(fieldID)")
        }
        guard indexType.uppercased() == plan.indexType.uppercased(), signature == nil || signature == plan.signature else {
            throw .unexpected("\(path) was built as \(signature ?? indexType), the index is now \(plan.signature)")
        }
        guard rows64 == UInt64(expectRows) else { throw .unexpected("\(path) indexes \(rows64) rows, the segment has \(expectRows)") }
        let rows = expectRows
        let index: any SegmentIndex
        switch plan.kind {
        case .exact: throw .unexpected("\(path): index type \(plan.indexType) has no index file")
        case .hnsw, .ivf, .hnswQuantized, .scann:
            guard let (offset, length) = try reader.nextVerifiedRange() else { throw .unexpected("\(path) is corrupt: no index body") }
            index = try FaissIndex.read(reader, at: offset, length: length, plan: plan, dim: dim, rows: rows)
        case .binaryIVF, .sparseInverted, .scalarSorted, .ngram, .rtree, .textMatch, .termStatistics:
            guard let body = try reader.next() else { throw .unexpected("\(path) is corrupt: no index body") }
            switch plan.kind {
            case .binaryIVF: index = try BinaryIVFIndex.deserialize(body, name: path, plan: plan, rows: rows)
            case .sparseInverted: index = try SparseInvertedIndex.deserialize(body, name: path, plan: plan, rows: rows)
            case .textMatch: index = try TextMatchIndex.deserialize(body, name: path, plan: plan, rows: rows)
            case .termStatistics: index = try TermStatisticsIndex.deserialize(body, name: path, plan: plan, rows: rows)
            default: index = try ScalarIndex.deserialize(body, name: path, plan: plan, rows: rows)
            }
        }
        guard try reader.next() == nil else { throw .unexpected("\(path) is corrupt: unexpected layout") }
        return index
    }
}
