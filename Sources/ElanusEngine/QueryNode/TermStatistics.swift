import Foundation
import ElanusCore
import Synchronization

/// The term statistics of one chunk's BM25 field over all its rows: each row's document length
/// (the sum of its term frequencies), their total, and in how many rows each term occurs.
///
/// A chunk's rows never change (only its dead-row bitmap does), so these are computed once, the
/// first time a search needs them, and shared by every copy of the chunk: a growing segment's new
/// chunk costs one pass over its own vectors, never a pass over the corpus.
struct ChunkTermStatistics: Sendable {
    var documentLengths: [Float] = []
    var tokens: Double = 0
    var documentFrequency: [UInt32: Int32] = [:]

    /// A chunk without the field's column: every row an empty document.
    init(rows: Int) {
        documentLengths = [Float](repeating: 0, count: rows)
    }

    /// Statistics read back from a file (`TermStatisticsIndex`).
    init(documentLengths: [Float], documentFrequency: [UInt32: Int32]) {
        self.documentLengths = documentLengths
        self.documentFrequency = documentFrequency
        tokens = documentLengths.reduce(0) { $0 + Double($1) }
    }

    init(_ vectors: [SparseVector]) {
        documentLengths.reserveCapacity(vectors.count)
        for vector in vectors {
            var length: Float = 0
            for (term, count) in zip(vector.indices, vector.values) {
                length += count
                documentFrequency[term, default: 0] += 1
            }
            documentLengths.append(length)
            tokens += Double(length)
        }
    }
}

/// The lazily computed statistics of a chunk, by field id (see ChunkTermStatistics).
final class ChunkTermCache: Sendable {
    private let byField = Mutex<[Int64: ChunkTermStatistics]>([:])

    func statistics(_ field: Int64, of batch: EntityBatch) -> ChunkTermStatistics? {
        if let known = byField.withLock({ $0[field] }) { return known }
        guard case .sparseVector(let vectors)? = batch.column(field)?.values else { return nil }
        let computed = ChunkTermStatistics(vectors)
        byField.withLock { $0[field] = computed }
        return computed
    }

    /// Whether `field`'s statistics were computed (for tests: a segment whose statistics come
    /// from its file never computes them).
    func isComputed(_ field: Int64) -> Bool { byField.withLock { $0[field] != nil } }
}

/// BM25 corpus statistics of one field over a snapshot's live rows, exact: every segment,
/// growing or flushed, with deleted and superseded rows taken out. Milvus's IDF formula,
/// `ln(1 + (N - df + 0.5) / (df + 0.5))`, and average document length `tokens / N`.
struct BM25Corpus: Sendable {
    var documents: Int64 = 0
    var tokens: Double = 0
    /// Document frequency of the terms asked for.
    var documentFrequency: [UInt32: Int64] = [:]

    var averageLength: Double { documents > 0 ? tokens / Double(documents) : 0 }

    func idf(_ term: UInt32) -> Double {
        let n = Double(documents)
        let df = Double(documentFrequency[term] ?? 0)
        return log(1 + (n - df + 0.5) / (df + 0.5))
    }

    /// The statistics of `field` over the live rows of `segments`, with frequencies of `terms`.
    init(_ segments: [Segment], field: Int64, terms: Set<UInt32>) {
        for term in terms { documentFrequency[term] = 0 }
        for segment in segments {
            // A flushed segment's statistics from its file, when the index node has written one:
            // its totals at once, then per chunk only the live count and the dead rows.
            let file = segment.indexes[IndexPlan.termStatisticsKey(field)] as? TermStatisticsIndex
            let persisted = file?.statistics(for: segment)
            if let file, persisted != nil {
                tokens += file.tokens
                for term in terms { documentFrequency[term]! += file.documentFrequency[term] ?? 0 }
            }
            for (c, chunk) in segment.chunks.enumerated() where chunk.batch.rowCount > 0 {
                guard let stats = persisted?[c] ?? chunk.terms.statistics(field, of: chunk.batch) else { continue }
                let live = chunk.liveCount
                documents += Int64(live)
                if persisted == nil {
                    tokens += stats.tokens
                    for term in terms { documentFrequency[term]! += Int64(stats.documentFrequency[term] ?? 0) }
                }
                guard live < chunk.batch.rowCount, case .sparseVector(let vectors)? = chunk.batch.column(field)?.values else { continue }
                // Take the dead rows back out: only they are read, not the live ones.
                for (w, word) in chunk.dead.enumerated() where word != 0 {
                    var bits = word
                    while bits != 0 {
                        let row = w * 64 + bits.trailingZeroBitCount
                        bits &= bits - 1
                        guard row < vectors.count else { continue }
                        tokens -= Double(stats.documentLengths[row])
                        for term in vectors[row].indices where terms.contains(term) { documentFrequency[term]! -= 1 }
                    }
                }
            }
        }
    }
}
