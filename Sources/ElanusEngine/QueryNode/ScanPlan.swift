import ElanusCore
import ElanusQuery

/// The rows a query or search may look at, chunk by chunk: live (not deleted or superseded)
/// and matching the filter. Built once per request from a snapshot, then shared by every query
/// vector of the request.
struct ScanPlan {
    struct Part {
        let batch: EntityBatch
        /// Allowed rows in order; nil when every row of the chunk is (the batched-kernel path).
        let rows: [Int32]?

        var count: Int { rows?.count ?? batch.rowCount }
    }

    let parts: [Part]

    /// Throws when `cancellation` stops the request while the filter runs (checked per segment,
    /// and inside the filter every few rows).
    init(_ segments: [Segment], predicate: Predicate?, cancellation: Cancellation? = nil) throws(ElanusError) {
        var filtered: [(segment: Segment, mask: [UInt8]?)] = []
        for segment in segments {
            try cancellation?.check()
            // The filter runs over each whole segment, so its scalar indexes can answer it.
            filtered.append((segment, predicate.map { segment.filter($0, cancellation: cancellation) }))
        }
        // A filter stopped part way leaves its mask incomplete: never used.
        try cancellation?.check()
        self.init(filtered)
    }

    /// Segments with their filter states already computed (nil: no filter).
    init(_ filtered: [(segment: Segment, mask: [UInt8]?)]) {
        var parts: [Part] = []
        for (segment, mask) in filtered {
            // Without a filter or a dead row, every chunk is scanned whole: no bitmap is read.
            if mask == nil && segment.deadRows == 0 {
                for chunk in segment.chunks where chunk.batch.rowCount > 0 { parts.append(Part(batch: chunk.batch, rows: nil)) }
                continue
            }
            var base = 0
            for chunk in segment.chunks {
                let n = chunk.batch.rowCount
                defer { base += n }
                let allLive = segment.deadRows == 0 || chunk.dead.allSatisfy { $0 == 0 }
                if mask == nil && allLive {
                    parts.append(Part(batch: chunk.batch, rows: nil))
                    continue
                }
                var rows: [Int32] = []
                let yes = FilterEvaluator.yes
                // Every row of every chunk per request: raw pointers, no bounds checks.
                chunk.dead.withUnsafeBufferPointer { dead in
                    func live(_ r: Int) -> Bool { dead[r >> 6] & (1 << UInt64(r & 63)) == 0 }
                    if let mask {
                        mask.withUnsafeBufferPointer { m in
                            let states = m.baseAddress! + base
                            for r in 0..<n where states[r] == yes && live(r) { rows.append(Int32(r)) }
                        }
                    } else {
                        for r in 0..<n where live(r) { rows.append(Int32(r)) }
                    }
                }
                if !rows.isEmpty { parts.append(Part(batch: chunk.batch, rows: rows)) }
            }
        }
        self.parts = parts
    }

    var rowCount: Int { parts.reduce(0) { $0 + $1.count } }

    /// Calls `body` with each allowed (batch, row) in order until it returns false.
    func forEachRow(_ body: (EntityBatch, Int) -> Bool) {
        for part in parts {
            if let rows = part.rows {
                for r in rows where !body(part.batch, Int(r)) { return }
            } else {
                for r in 0..<part.batch.rowCount where !body(part.batch, r) { return }
            }
        }
    }
}
