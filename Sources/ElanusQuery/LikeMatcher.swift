import Glibc

/// The compiled form of a `like` pattern, built once when the filter is checked and then run on
/// each row's UTF-8 bytes in place: no allocation per row, and no backtracking.
///
/// The pattern is cut at its `%` wildcards into runs of literal characters and `_`. A row
/// matches when the first run matches at its start (unless the pattern opens with `%`), the last
/// run at its end (unless it closes with `%`), and the runs in between, in order, in what is left.
/// Taking each middle run at its earliest end is never worse than any later one, so no choice is
/// ever revisited, and each run's search starts where the previous one's match ended. A run is
/// found in time linear in the bytes it scans: a run without `_` by Knuth-Morris-Pratt over
/// bytes (memchr skips to its first byte), a run with `_` by the bit-parallel Shift-And over
/// characters, a word of state per 64 characters of the run. A row therefore costs about its
/// length x (1 + longest run with `_` / 64) plus the pattern's length, whatever both contain
/// (the old matcher, greedy with one backtrack point, cost text x pattern on `%aaa…ab%`).
///
/// `_` is one Unicode scalar (1 to 4 bytes), as before. Literal bytes compare as bytes: Swift
/// strings are valid UTF-8, so a match of a valid literal can only start on a character boundary.
struct LikeMatcher: Sendable {
    /// A token of a run: a byte of a literal character, or `_`.
    static let any: Int16 = -1

    struct Run: Sendable {
        /// The run as bytes, with `LikeMatcher.any` for each `_`.
        let tokens: [Int16]
        /// How to find it among the middle runs.
        let search: Search
    }

    enum Search: Sendable {
        /// A run without `_`: its bytes and their KMP failure table.
        case literal([UInt8], failure: [Int])
        case shiftAnd(ShiftAnd)
    }

    let runs: [Run]
    /// Whether the pattern opens (closes) without `%`: the first (last) run is anchored there.
    let anchoredStart: Bool
    let anchoredEnd: Bool

    /// From the parsed pieces of a pattern (`%` already collapsed).
    init(_ pieces: [LikePattern.Piece]) {
        var runs: [Run] = []
        var scalars: [Unicode.Scalar?] = []  // nil for `_`
        func close() {
            guard !scalars.isEmpty else { return }
            runs.append(LikeMatcher.run(scalars))
            scalars = []
        }
        for piece in pieces {
            switch piece {
            case .literal(let l): scalars += l.map { Optional($0) }
            case .one: scalars.append(nil)
            case .any: close()
            }
        }
        close()
        self.runs = runs
        anchoredStart = pieces.first != .any
        anchoredEnd = pieces.last != .any
    }

    private static func run(_ scalars: [Unicode.Scalar?]) -> Run {
        var tokens: [Int16] = []
        for scalar in scalars {
            if let scalar { tokens += UTF8.encode(scalar)!.map { Int16($0) } } else { tokens.append(any) }
        }
        if scalars.contains(where: { $0 == nil }) { return Run(tokens: tokens, search: .shiftAnd(ShiftAnd(scalars))) }
        let bytes = tokens.map { UInt8($0) }
        return Run(tokens: tokens, search: .literal(bytes, failure: failureTable(bytes)))
    }

    /// failure[i]: the length of the longest proper prefix of bytes[0...i] that is also its suffix.
    private static func failureTable(_ bytes: [UInt8]) -> [Int] {
        var failure = [Int](repeating: 0, count: bytes.count)
        var k = 0
        for i in 1..<max(1, bytes.count) {
            while k > 0 && bytes[i] != bytes[k] { k = failure[k - 1] }
            if bytes[i] == bytes[k] { k += 1 }
            failure[i] = k
        }
        return failure
    }

    func matches(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { matches($0) }
    }

    func matches(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = text.count
        guard !runs.isEmpty else { return !anchoredStart || n == 0 }  // "" or "%"
        var low = 0
        var high = n
        var first = 0
        var last = runs.count - 1
        if anchoredStart {
            guard let end = LikeMatcher.matchForward(runs[0].tokens, text, at: 0) else { return false }
            if runs.count == 1 && anchoredEnd { return end == n }
            low = end
            first = 1
        }
        if anchoredEnd {
            guard let start = LikeMatcher.matchBackward(runs[last].tokens, text, endingAt: n), start >= low else { return false }
            high = start
            last -= 1
        }
        if first <= last {
            for i in first...last {
                guard let end = LikeMatcher.find(runs[i].search, text, from: low, to: high) else { return false }
                low = end
            }
        }
        return true
    }

    /// The byte length of the UTF-8 character that starts with `lead`.
    @inline(__always) static func scalarLength(_ lead: UInt8) -> Int {
        lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
    }

    /// Where the run ends when it matches at `start`, or nil.
    static func matchForward(_ tokens: [Int16], _ text: UnsafeBufferPointer<UInt8>, at start: Int) -> Int? {
        var p = start
        let n = text.count
        for token in tokens {
            guard p < n else { return nil }
            if token == any {
                p += scalarLength(text[p])
            } else {
                guard text[p] == UInt8(token) else { return nil }
                p += 1
            }
        }
        return p <= n ? p : nil
    }

    /// Where the run starts when it matches ending at `end`, or nil.
    static func matchBackward(_ tokens: [Int16], _ text: UnsafeBufferPointer<UInt8>, endingAt end: Int) -> Int? {
        var p = end
        for token in tokens.reversed() {
            guard p > 0 else { return nil }
            p -= 1
            if token == any {
                while p > 0 && text[p] & 0xC0 == 0x80 { p -= 1 }  // back over continuation bytes
            } else if text[p] != UInt8(token) {
                return nil
            }
        }
        return p
    }

    /// The end of the earliest-ending match of a run inside text[low..<high], or nil.
    static func find(_ search: Search, _ text: UnsafeBufferPointer<UInt8>, from low: Int, to high: Int) -> Int? {
        switch search {
        case .literal(let needle, let failure): return findLiteral(needle, failure, text, from: low, to: high)
        case .shiftAnd(let automaton): return automaton.find(text, from: low, to: high)
        }
    }

    private static func findLiteral(_ needle: [UInt8], _ failure: [Int], _ text: UnsafeBufferPointer<UInt8>, from low: Int, to high: Int) -> Int? {
        let m = needle.count
        guard m <= high - low, let base = text.baseAddress else { return nil }
        return needle.withUnsafeBufferPointer { needle in
            failure.withUnsafeBufferPointer { failure in
                var j = 0
                var i = low
                while i < high {
                    if j == 0 {
                        // Nothing matched yet: jump to the next occurrence of the first byte.
                        guard let hit = memchr(base + i, Int32(needle[0]), high - i) else { return nil }
                        i = UnsafeRawPointer(hit) - UnsafeRawPointer(base)
                    }
                    let c = text[i]
                    while j > 0 && needle[j] != c { j = failure[j - 1] }
                    if needle[j] == c { j += 1 }
                    i += 1
                    if j == m { return i }
                }
                return nil
            }
        }
    }
}

/// Shift-And over the characters of one run with `_`: bit i of the state says that the run's
/// first i + 1 characters end at the current character. Each character of the text costs one
/// shift and one AND per 64 characters of the run. The masks come from a table per run: ASCII by
/// byte, other characters (keyed by their UTF-8 bytes) by dictionary; a character the run does
/// not name gets the mask of its `_` positions only.
struct ShiftAnd: Sendable {
    let length: Int
    let words: Int
    /// Masks, `words` per class; class 0 is "a character the run does not name".
    let masks: [UInt64]
    let asciiClass: [Int32]
    let otherClass: [UInt32: Int32]

    init(_ scalars: [Unicode.Scalar?]) {
        length = scalars.count
        words = (scalars.count + 63) / 64
        var classes: [UInt32: Int32] = [:]
        for case let scalar? in scalars where classes[ShiftAnd.key(scalar)] == nil {
            classes[ShiftAnd.key(scalar)] = Int32(classes.count + 1)
        }
        var masks = [UInt64](repeating: 0, count: (classes.count + 1) * words)
        for (i, scalar) in scalars.enumerated() {
            let bit = UInt64(1) << UInt64(i & 63)
            if let scalar {
                masks[Int(classes[ShiftAnd.key(scalar)]!) * words + i >> 6] |= bit
            } else {
                // `_` accepts every character: its bit is set in every class.
                for c in 0...classes.count { masks[c * words + i >> 6] |= bit }
            }
        }
        self.masks = masks
        var ascii = [Int32](repeating: 0, count: 128)
        var other: [UInt32: Int32] = [:]
        for (key, c) in classes {
            if key < 0x80 { ascii[Int(key)] = c } else { other[key] = c }
        }
        asciiClass = ascii
        otherClass = other
    }

    /// A character's UTF-8 bytes packed into a key (ASCII keys are the byte itself).
    static func key(_ scalar: Unicode.Scalar) -> UInt32 {
        UTF8.encode(scalar)!.reduce(0) { $0 << 8 | UInt32($1) }
    }

    func find(_ text: UnsafeBufferPointer<UInt8>, from low: Int, to high: Int) -> Int? {
        let top = length - 1
        let topWord = top >> 6
        let topBit = UInt64(1) << UInt64(top & 63)
        let words = words
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: words) { state in
            state.initialize(repeating: 0)
            return masks.withUnsafeBufferPointer { masks in
                var p = low
                while p < high {
                    let lead = text[p]
                    var c: Int32
                    if lead < 0x80 {
                        c = asciiClass[Int(lead)]
                        p += 1
                    } else {
                        let end = min(high, p + LikeMatcher.scalarLength(lead))
                        var key: UInt32 = 0
                        while p < end {
                            key = key << 8 | UInt32(text[p])
                            p += 1
                        }
                        c = otherClass.isEmpty ? 0 : otherClass[key] ?? 0
                    }
                    let mask = masks.baseAddress! + Int(c) * words
                    var carry: UInt64 = 1  // a match may start at every character
                    for w in 0..<words {
                        let next = state[w] >> 63
                        state[w] = (state[w] << 1 | carry) & mask[w]
                        carry = next
                    }
                    if state[topWord] & topBit != 0 { return p }
                }
                return nil
            }
        }
    }
}
