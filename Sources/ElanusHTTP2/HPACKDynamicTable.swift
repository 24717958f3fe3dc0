/// The HPACK dynamic table (RFC 7541 §2.3.2, §4): newest entry first, bounded by octet size.
///
/// Sizes are computed from the octets the peer sent, not from the decoded Strings, so a lossy
/// UTF-8 conversion can never make our table size drift from the encoder's.
struct HPACKDynamicTable: Sendable {
    private struct Entry: Sendable {
        var header: HTTP2Header
        var size: Int
    }

    /// Oldest entry at index 0, newest at the end; lookups count from the end.
    private var entries: [Entry] = []
    private(set) var size = 0
    private(set) var maxSize: Int

    init(maxSize: Int) { self.maxSize = maxSize }

    var count: Int { entries.count }

    /// Entry at HPACK dynamic index `index` (1 = newest), or nil when out of range.
    subscript(index: Int) -> HTTP2Header? {
        guard index >= 1, index <= entries.count else { return nil }
        return entries[entries.count - index].header
    }

    /// Adds an entry, evicting oldest ones first; an entry larger than the table empties it (§4.4).
    mutating func add(_ header: HTTP2Header, octets: Int) {
        let entrySize = octets + 32
        evict(toFit: maxSize - entrySize)
        if entrySize <= maxSize {
            entries.append(Entry(header: header, size: entrySize))
            size += entrySize
        }
    }

    mutating func setMaxSize(_ newMax: Int) {
        maxSize = newMax
        evict(toFit: newMax)
    }

    private mutating func evict(toFit limit: Int) {
        var drop = 0
        while size > max(limit, 0) && drop < entries.count {
            size -= entries[drop].size
            drop += 1
        }
        if drop > 0 { entries.removeFirst(drop) }
    }
}
