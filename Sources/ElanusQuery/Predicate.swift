import ElanusCore

/// A constant of the filter language after folding and template substitution.
public indirect enum FilterValue: Equatable, Hashable, Sendable {
    case int(Int64)
    case float(Double)
    case bool(Bool)
    case string(String)
    case list([FilterValue])

    var typeName: String {
        switch self {
        case .int: "an integer"
        case .float: "a float"
        case .bool: "a bool"
        case .string: "a string"
        case .list: "a list"
        }
    }

    var isNumber: Bool {
        switch self {
        case .int, .float: true
        default: false
        }
    }
}

/// What a predicate reads from a row.
public enum ColumnRef: Equatable, Hashable, Sendable {
    /// A Bool, integer, Float, Double or VarChar column.
    case scalar(fieldID: Int64, type: DataType)
    /// A path inside a JSON field, or inside the dynamic field `$meta` when fieldID is nil.
    case json(fieldID: Int64?, path: [PathAccessor])
    /// One element of an Array field.
    case arrayElement(fieldID: Int64, element: DataType, index: Int)
    /// A whole Array field (for array_contains and array_length).
    case array(fieldID: Int64, element: DataType)
}

public enum CompareOp: String, Sendable {
    case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="

    /// The operator with its operands swapped (`5 < a` is `a > 5`).
    var flipped: CompareOp {
        switch self {
        case .lt: .gt
        case .le: .ge
        case .gt: .lt
        case .ge: .le
        default: self
        }
    }
}

public enum ArithmeticOp: String, Sendable {
    case add = "+", sub = "-", mul = "*", div = "/", mod = "%"
}

public enum ContainsMode: Sendable {
    case one, all, any
}

/// A checked filter: every name resolved against the schema, every constant typed and folded.
/// Evaluated per segment chunk into a row mask by `FilterEvaluator`.
public indirect enum Predicate: Equatable, Sendable {
    case constant(Bool)
    case compare(ColumnRef, CompareOp, FilterValue)
    case compareColumns(ColumnRef, CompareOp, ColumnRef)
    /// `(column <op> operand) <cmp> value`, e.g. `a % 2 == 0`.
    case arithmetic(ColumnRef, ArithmeticOp, FilterValue, CompareOp, FilterValue)
    case inList(ColumnRef, [FilterValue], negated: Bool)
    case like(ColumnRef, LikePattern)
    case isNull(ColumnRef, negated: Bool)
    case exists(ColumnRef)
    case contains(ColumnRef, ContainsMode, [FilterValue])
    case arrayLength(ColumnRef, CompareOp, Int64)
    /// A spatial relation between a Geometry field and a constant geometry.
    case spatial(fieldID: Int64, SpatialFilter)
    /// `text_match` or `phrase_match` on a VarChar field with `enable_match`.
    case textMatch(TextMatchFilter)
    case and([Predicate])
    case or([Predicate])
    case not(Predicate)
}

/// A `like` pattern: `%` any run, `_` one character, `\` escapes either.
///
/// Compiled once into a `LikeMatcher`; two patterns are equal when their pieces are.
public struct LikePattern: Hashable, Sendable {
    /// The longest pattern accepted, in UTF-8 bytes. Milvus 2.6 has no limit of its own; this one
    /// is far above any real prefix, suffix or infix search. The matcher is linear in the row
    /// whatever the pattern, but its tables grow with the pattern and a run with `_` costs a
    /// word of work per 64 characters per byte of text: this keeps both small.
    public static let maxBytes = 4096
    /// The like patterns of one filter, in all: a short `{placeholder}` can repeat one long
    /// exprParams pattern, so the expression's own length does not bound them.
    public static let maxTotalBytes = 65_536

    enum Piece: Equatable, Hashable {
        case literal([Unicode.Scalar])
        case one
        case any
    }

    let pieces: [Piece]
    let matcher: LikeMatcher

    public init(_ pattern: String) {
        var pieces: [Piece] = []
        var literal: [Unicode.Scalar] = []
        var escaped = false
        for scalar in pattern.unicodeScalars {
            if escaped {
                literal.append(scalar)
                escaped = false
            } else if scalar == "\\" {
                escaped = true
            } else if scalar == "%" || scalar == "_" {
                if !literal.isEmpty { pieces.append(.literal(literal)) }
                literal = []
                if scalar == "_" { pieces.append(.one) } else if pieces.last != .any { pieces.append(.any) }
            } else {
                literal.append(scalar)
            }
        }
        if escaped { literal.append("\\") }
        if !literal.isEmpty { pieces.append(.literal(literal)) }
        self.pieces = pieces
        matcher = LikeMatcher(pieces)
    }

    public static func == (a: LikePattern, b: LikePattern) -> Bool { a.pieces == b.pieces }
    public func hash(into hasher: inout Hasher) { hasher.combine(pieces) }

    /// The pattern as a literal: `abc%` is ("abc", exact: false), `abc` is ("abc", exact: true);
    /// nil when it has any other wildcard (a scalar index answers only these two forms).
    var literalPrefix: (text: String, exact: Bool)? {
        func text(_ l: [Unicode.Scalar]) -> String { String(String.UnicodeScalarView(l)) }
        switch pieces.count {
        case 0: return ("", true)
        case 1: if case .literal(let l) = pieces[0] { return (text(l), true) }
        case 2: if case .literal(let l) = pieces[0], pieces[1] == .any { return (text(l), false) }
        default: break
        }
        return nil
    }

    /// Whether `text` matches the whole pattern, in time linear in the text (see `LikeMatcher`).
    public func matches(_ text: String) -> Bool { matcher.matches(text) }
}
