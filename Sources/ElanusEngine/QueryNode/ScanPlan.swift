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

    /// The given rows only (an index's candidates, scored again exactly).
    init(parts: [Part]) { self.parts = parts }

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
                guard n > 0 else { continue }
                let allLive = segment.deadRows == 0 || chunk.dead.allSatisfy { $0 == 0 }
                if mask == nil && allLive {
                    parts.append(Part(batch: chunk.batch, rows: nil))
                    continue
                }
                let yes = FilterEvaluator.yes
                // Every row of every chunk per request: raw pointers, and no branch per row (a
                // 10% filter mispredicted one in ten): each row's number is written, and the
                // count moves past it only when the row is kept. States are 0 (no), 1 (yes) or
                // 2 (unknown), so the low bit is the filter's answer.
                let rows = [Int32](unsafeUninitializedCapacity: n) { out, initialized in
                    var count = 0
                    chunk.dead.withUnsafeBufferPointer { deadWords in
                        let dead = deadWords.baseAddress!
                        @inline(__always) func live(_ r: Int) -> Int { Int(truncatingIfNeeded: (dead[r >> 6] >> UInt64(r & 63)) & 1 ^ 1) }
                        if let mask {
                            mask.withUnsafeBufferPointer { m in
                                let states = m.baseAddress! + base
                                if allLive {
                                    for r in 0..<n {
                                        out[count] = Int32(truncatingIfNeeded: r)
                                        count &+= Int(states[r] & yes)
                                    }
                                } else {
                                    for r in 0..<n {
                                        out[count] = Int32(truncatingIfNeeded: r)
                                        count &+= Int(states[r] & yes) & live(r)
                                    }
                                }
                            }
                        } else {
                            for r in 0..<n {
                                out[count] = Int32(truncatingIfNeeded: r)
                                count &+= live(r)
                            }
                        }
                    }
                    initialized = count
                }
                if !rows.isEmpty { parts.append(Part(batch: chunk.batch, rows: rows)) }
            }
        }
        self.parts = parts
    }

    var rowCount: Int { parts.reduce(0) { $0 + $1.count } }

    /// How many rows a plan of `segments` would allow, without building its row lists: count(*)
    /// needs only the number, and the lists cost four bytes a row per request.
    static func count(_ segments: [Segment], predicate: Predicate?, cancellation: Cancellation? = nil) throws(ElanusError) -> Int {
        var total = 0
        for segment in segments {
            try cancellation?.check()
            guard let predicate else {
                total += segment.chunks.reduce(0) { $0 + $1.liveCount }
                continue
            }
            let mask = segment.filter(predicate, cancellation: cancellation)
            // A filter stopped part way leaves its mask incomplete: never counted.
            try cancellation?.check()
            let yes = FilterEvaluator.yes
            var base = 0
            for chunk in segment.chunks {
                let n = chunk.batch.rowCount
                defer { base += n }
                guard n > 0 else { continue }
                // The low bit of a state is the filter's yes (0 no, 1 yes, 2 unknown); a live
                // row's dead bit is 0. No branch per row.
                mask.withUnsafeBufferPointer { m in
                    let states = m.baseAddress! + base
                    var count = 0
                    if segment.deadRows == 0 || chunk.dead.allSatisfy({ $0 == 0 }) {
                        // Eight states a step: their low bits, added up by one multiply.
                        let lowBits: UInt64 = 0x0101_0101_0101_0101
                        var r = 0
                        while r + 8 <= n {
                            let word = UnsafeRawPointer(states + r).loadUnaligned(as: UInt64.self)
                            count &+= Int(truncatingIfNeeded: ((word & lowBits) &* lowBits) >> 56)
                            r += 8
                        }
                        while r < n {
                            count &+= Int(states[r] & yes)
                            r += 1
                        }
                    } else {
                        chunk.dead.withUnsafeBufferPointer { dead in
                            for r in 0..<n { count &+= Int(states[r] & yes) & Int(truncatingIfNeeded: (dead[r >> 6] >> UInt64(r & 63)) & 1 ^ 1) }
                        }
                    }
                    total += count
                }
            }
        }
        return total
    }

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
