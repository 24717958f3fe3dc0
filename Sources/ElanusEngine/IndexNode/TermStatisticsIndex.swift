import ElanusCore

/// The BM25 term statistics of a flushed segment's BM25 output field, chunk by chunk
/// (`ChunkTermStatistics`: each row's document length, the chunk's total, each term's document
/// count), kept in an index file so that a restart reads them instead of passing over every
/// sparse vector again. Like the match index it has no index spec: `Engine.indexTargets` adds one
/// implicit target per BM25 output field, and the index node builds it, writes it beside the
/// segment, loads it at start-up and rebuilds it with compaction. `BM25Corpus` prefers it to
/// the chunk's own lazily computed statistics; deletes are still taken out at search time, from
/// the dead-row bitmaps, since they change after the file is written.
final class TermStatisticsIndex: SerializedSegmentIndex {
    let plan: IndexPlan
    let chunks: [ChunkTermStatistics]
    let rows: Int
    /// Every chunk's tokens and term document counts added up: a search reads a segment's
    /// statistics with one lookup per query term, not one per chunk and term.
    let tokens: Double
    let documentFrequency: [UInt32: Int64]

    init(plan: IndexPlan, chunks: [ChunkTermStatistics]) {
        self.plan = plan
        self.chunks = chunks
        rows = chunks.reduce(0) { $0 + $1.documentLengths.count }
        tokens = chunks.reduce(0) { $0 + $1.tokens }
        var frequency: [UInt32: Int64] = [:]
        for chunk in chunks {
            for (term, count) in chunk.documentFrequency { frequency[term, default: 0] += Int64(count) }
        }
        documentFrequency = frequency
    }

    static func build(_ plan: IndexPlan, segment: Segment, field: FieldSchema) -> TermStatisticsIndex {
        // The chunks' own statistics when a search already computed them, else computed here.
        TermStatisticsIndex(plan: plan, chunks: segment.chunks.map { chunk in
            chunk.terms.statistics(field.fieldID, of: chunk.batch) ?? ChunkTermStatistics(rows: chunk.batch.rowCount)
        })
    }

    /// The statistics of `segment`'s chunks, when they are this index's (same chunks, same rows).
    func statistics(for segment: Segment) -> [ChunkTermStatistics]? {
        guard chunks.count == segment.chunks.count, zip(chunks, segment.chunks).allSatisfy({ $0.documentLengths.count == $1.batch.rowCount }) else { return nil }
        return chunks
    }

    func serialized() throws(ElanusError) -> [UInt8] {
        var w = ByteWriter(capacity: 16 + rows * 4)
        w.write(UInt64(chunks.count))
        for chunk in chunks {
            w.writeArray(chunk.documentLengths)
            // Terms in ascending order, so the same statistics always make the same bytes.
            let terms = chunk.documentFrequency.keys.sorted()
            w.writeArray(terms)
            w.writeArray(terms.map { chunk.documentFrequency[$0]! })
        }
        return w.bytes
    }

    static func deserialize(_ body: [UInt8], name: String, plan: IndexPlan, rows: Int) throws(ElanusError) -> TermStatisticsIndex {
        var r = ByteReader(body, what: name)
        let count = try r.readCount()
        var chunks: [ChunkTermStatistics] = []
        for _ in 0..<count {
            let lengths = try r.readArray(Float.self)
            let terms = try r.readArray(UInt32.self)
            let frequencies = try r.readArray(Int32.self)
            guard terms.count == frequencies.count, frequencies.allSatisfy({ $0 >= 0 && Int($0) <= lengths.count }) else {
                throw r.corrupt("term counts do not match the terms")
            }
            chunks.append(ChunkTermStatistics(documentLengths: lengths, documentFrequency: Dictionary(uniqueKeysWithValues: zip(terms, frequencies))))
        }
        let index = TermStatisticsIndex(plan: plan, chunks: chunks)
        guard index.rows == rows, r.atEnd else { throw r.corrupt("the statistics cover \(index.rows) rows, the header says \(rows)") }
        return index
    }
}

extension IndexPlan {
    /// The implicit term statistics of a BM25 function's output field.
    static let termStatistics = IndexPlan(indexType: "BM25_STATS", kind: .termStatistics, metric: .l2)

    /// The key of a field's term statistics among the segment's indexes: apart from the match
    /// indexes' keys (`textMatchKey`), the JSON path keys and the field ids.
    static func termStatisticsKey(_ fieldID: Int64) -> Int64 { Int64.min + (1 << 40) + fieldID }
}
