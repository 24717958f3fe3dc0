/// The k best candidates seen so far, by a key where smaller is better (distances as they are,
/// similarities negated). A binary max-heap on the key, so the worst kept candidate is at the
/// root and a candidate that cannot make it costs one comparison.
///
/// Inlinable so each caller gets it specialized for its item type: an unspecialized push per
/// candidate (witness tables, metadata lookups) cost more than the heap work itself.
public struct TopK<Item> {
    public let k: Int
    @usableFromInline var keys: [Float] = []
    @usableFromInline var items: [Item] = []

    @inlinable public init(k: Int) {
        self.k = k
        keys.reserveCapacity(min(k, 4096))
        items.reserveCapacity(min(k, 4096))
    }

    /// The key a candidate must beat to get in (infinity until the heap is full).
    @inlinable public var threshold: Float { keys.count < k ? .infinity : keys[0] }

    @inlinable public mutating func push(_ key: Float, _ item: Item) {
        guard k > 0 else { return }
        if keys.count < k {
            keys.append(key)
            items.append(item)
            var i = keys.count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                guard keys[parent] < keys[i] else { break }
                keys.swapAt(parent, i)
                items.swapAt(parent, i)
                i = parent
            }
        } else if key < keys[0] {
            keys[0] = key
            items[0] = item
            var i = 0
            while true {
                let l = 2 * i + 1
                let r = l + 1
                var largest = i
                if l < keys.count && keys[l] > keys[largest] { largest = l }
                if r < keys.count && keys[r] > keys[largest] { largest = r }
                if largest == i { break }
                keys.swapAt(largest, i)
                items.swapAt(largest, i)
                i = largest
            }
        }
    }

    /// The kept candidates, best first.
    @inlinable public func sorted() -> [(key: Float, item: Item)] {
        zip(keys, items).map { (key: $0, item: $1) }.sorted { $0.key < $1.key }
    }
}

/// Vector metrics, and how their scores order: distances ascending, similarities descending.
public enum Metric: String, Sendable, CaseIterable {
    case l2 = "L2"
    case ip = "IP"
    case cosine = "COSINE"
    case hamming = "HAMMING"
    case jaccard = "JACCARD"
    /// Full-text relevance of a BM25 function's output field, scored from corpus statistics.
    case bm25 = "BM25"

    public var higherIsBetter: Bool { self == .ip || self == .cosine || self == .bm25 }

    /// The heap key of a score: smaller is better.
    @inline(__always) public func key(_ score: Float) -> Float { higherIsBetter ? -score : score }

    /// Range search: whether a score lies in (radius, rangeFilter] for similarities, or
    /// [rangeFilter, radius) for distances, as Milvus defines it.
    public func inRange(_ score: Float, radius: Float?, rangeFilter: Float?) -> Bool {
        if higherIsBetter {
            if let radius, !(score > radius) { return false }
            if let rangeFilter, !(score <= rangeFilter) { return false }
        } else {
            if let radius, !(score < radius) { return false }
            if let rangeFilter, !(score >= rangeFilter) { return false }
        }
        return true
    }
}
