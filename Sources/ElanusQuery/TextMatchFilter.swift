import ElanusCore
import ElanusText

/// A checked `text_match(field, 'query' [, minimum_should_match=n])` or
/// `phrase_match(field, 'phrase' [, slop])` on a VarChar field with `enable_match`: the query
/// already analyzed by the field's analyzer, as Milvus analyzes it.
///
/// - `text_match` matches a row holding at least `minimum_should_match` (default 1) of the
///   query's tokens; a token repeated in the query counts once per occurrence, as tantivy counts
///   its clauses.
/// - `phrase_match` matches a row holding every token of the phrase at positions that keep the
///   phrase's shape within `slop` (default 0): with `p_i` the row position chosen for the
///   phrase's token `i` and `o_i` that token's position in the phrase, the spread
///   `max(p_i - o_i) - min(p_i - o_i)` is at most `slop`. So slop 0 is the exact phrase, slop 1
///   lets one other token in, and slop 2 also matches two tokens swapped ("learning machine" for
///   "machine learning"), as Milvus's documentation describes. Positions dropped by filters
///   (stop words) keep their gaps on both sides.
/// - An empty query (no tokens) matches nothing; a null row is unknown.
public struct TextMatchFilter: Equatable, Sendable {
    public enum Mode: Equatable, Sendable {
        case any(minimumShouldMatch: Int)
        case phrase(slop: Int)
    }

    public let fieldID: Int64
    public let mode: Mode
    /// The query's tokens in order, and each one's position.
    public let tokens: [String]
    public let offsets: [Int]
    public let analyzer: Analyzer

    public init(fieldID: Int64, mode: Mode, query: String, analyzer: Analyzer) {
        self.fieldID = fieldID
        self.mode = mode
        self.analyzer = analyzer
        let analyzed = analyzer.analyze(query)
        tokens = analyzed.map(\.text)
        offsets = analyzed.map(\.position)
    }

    /// A column's strings, nil for null rows (and every row of a chunk written before the field
    /// was added, which has no column).
    public static func texts(_ fieldID: Int64, _ batch: EntityBatch) -> [String?] {
        guard let column = batch.column(fieldID), case .string(let strings) = column.values else {
            return [String?](repeating: nil, count: batch.rowCount)
        }
        guard let valid = column.valid else { return strings }
        return strings.indices.map { valid[$0] ? strings[$0] : nil }
    }

    /// Every row of a batch without an index: analyzed here, once (the scan path).
    func evaluate(_ batch: EntityBatch) -> [UInt8] {
        TextIndex.build(Self.texts(fieldID, batch), analyzer: analyzer).evaluate(self)
    }

    /// One row's state, analyzing its text.
    func evaluate(_ text: String?) -> UInt8 {
        guard let text else { return FilterEvaluator.unknown }
        return TextIndex.build([text], analyzer: analyzer).evaluate(self)[0]
    }

    /// Whether one row position per phrase token can be chosen so that the positions, each less
    /// its token's offset in the phrase, spread over at most `slop`. `found[i]` holds token `i`'s
    /// positions in the row, ascending.
    static func phraseMatches(_ found: [ArraySlice<Int32>], offsets: [Int], slop: Int) -> Bool {
        guard !found.isEmpty, found.allSatisfy({ !$0.isEmpty }) else { return false }
        // The best window starts at some token's shifted position: try each as the smallest.
        for (j, list) in found.enumerated() {
            for position in list {
                let start = Int(position) - offsets[j]
                var fits = true
                for (i, other) in found.enumerated() where i != j {
                    // The first of token i's positions at or after start + o_i must lie within the window.
                    let low = start + offsets[i]
                    var lo = other.startIndex
                    var hi = other.endIndex
                    while lo < hi {
                        let mid = (lo + hi) / 2
                        if Int(other[mid]) < low { lo = mid + 1 } else { hi = mid }
                    }
                    if lo == other.endIndex || Int(other[lo]) > low + slop {
                        fits = false
                        break
                    }
                }
                if fits { return true }
            }
        }
        return false
    }
}

extension Checker {
    /// `text_match(field, 'query' [, minimum_should_match=n])` and
    /// `phrase_match(field, 'phrase' [, slop])`, checked with Milvus 2.6's messages.
    mutating func textMatch(_ name: String, _ arguments: [FilterSyntax], _ offset: Int) throws(FilterError) -> Predicate {
        let phrase = name == "phrase_match"
        guard arguments.count == 2 || arguments.count == 3 else {
            throw FilterError(phrase ? "phrase_match takes a field, a phrase and an optional slop" : "text_match takes a field, a query and an optional minimum_should_match=n", offset: offset)
        }
        guard case .path(let fieldName, let accessors, let fieldOffset) = arguments[0], accessors.isEmpty else {
            throw FilterError("the first argument of \(name) must be a field", offset: offset)
        }
        let field = schema.field(named: fieldName)
        guard let field, field.dataType == .varChar else {
            if field == nil && !schema.enableDynamicField { throw FilterError("field \(fieldName) not exist", offset: fieldOffset) }
            throw FilterError(phrase ? "phrase match operation on non-string is unsupported" : "text match operation on non-string is unsupported", offset: offset)
        }
        guard field.enableMatch else { throw FilterError("field \"\(fieldName)\" does not enable match", offset: offset) }
        guard case .value(.string(let query)) = try operand(arguments[1]) else {
            throw FilterError("the second argument of \(name) must be a string", offset: offset)
        }
        let analyzer: Analyzer
        do { analyzer = try field.analyzer() } catch { throw FilterError("field \"\(fieldName)\" has invalid analyzer params: \(error.reason)", offset: offset) }
        var mode = phrase ? TextMatchFilter.Mode.phrase(slop: 0) : .any(minimumShouldMatch: 1)
        if arguments.count == 3 {
            mode = phrase ? .phrase(slop: try slop(arguments[2], offset)) : .any(minimumShouldMatch: try minimumShouldMatch(arguments[2], offset))
        }
        return .textMatch(TextMatchFilter(fieldID: field.fieldID, mode: mode, query: query, analyzer: analyzer))
    }

    private mutating func minimumShouldMatch(_ syntax: FilterSyntax, _ offset: Int) throws(FilterError) -> Int {
        guard case .named(let key, let value, _) = syntax, key.lowercased() == "minimum_should_match" else {
            throw FilterError("the third argument of text_match must be minimum_should_match=n", offset: offset)
        }
        guard case .value(.int(let n)) = try operand(value) else {
            throw FilterError("minimum_should_match should be a const integer expression", offset: offset)
        }
        guard n >= 1 else { throw FilterError("minimum_should_match should be >= 1, got \(n)", offset: offset) }
        guard n <= 1000 else { throw FilterError("minimum_should_match should be <= 1000, got \(n)", offset: offset) }
        return Int(n)
    }

    private mutating func slop(_ syntax: FilterSyntax, _ offset: Int) throws(FilterError) -> Int {
        let shown = syntax.compactText
        if case .named = syntax {
            throw FilterError("\"slop\" should be a const integer expression with \"uint32\" value. \"slop\" expression passed: \(shown)", offset: offset)
        }
        guard case .value(.int(let n)) = try operand(syntax) else {
            throw FilterError("\"slop\" should be a const integer expression with \"uint32\" value. \"slop\" expression passed: \(shown)", offset: offset)
        }
        guard n >= 0 else { throw FilterError("\"slop\" should not be a negative interger. \"slop\" passed: \(shown)", offset: offset) }
        guard n <= Int64(UInt32.max) else {
            throw FilterError("\"slop\" exceeds the range of \"uint32\". \"slop\" expression passed: \(shown)", offset: offset)
        }
        return Int(n)
    }
}

extension FilterSyntax {
    /// The expression as ANTLR's GetText shows it in Milvus's messages: tokens without spaces.
    var compactText: String {
        switch self {
        case .int(let i): "\(i)"
        case .float(let f): "\(f)"
        case .bool(let b): "\(b)"
        case .string(let s): "'\(s)'"
        case .negate(let inner): "-" + inner.compactText
        case .template(let name, _): "{\(name)}"
        case .path(let name, _, _): name
        case .arithmetic(let op, let a, let b, _): a.compactText + op + b.compactText
        case .named(let key, let value, _): key + "=" + value.compactText
        default: "an expression"
        }
    }
}
