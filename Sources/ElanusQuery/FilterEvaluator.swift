import ElanusCore

/// Evaluates a Predicate over the rows of one batch (a segment chunk) with SQL's three-valued
/// logic: 1 true, 0 false, 2 unknown (a null value, a missing JSON key, a JSON value of another
/// type). Only rows that end up 1 match. Comparisons of typed columns with constants run as
/// tight loops over the column arrays; everything else goes row by row through `Cell`.
public enum FilterEvaluator {
    public static let no: UInt8 = 0
    public static let yes: UInt8 = 1
    public static let unknown: UInt8 = 2

    /// Rows evaluated one by one between two looks at the request's `Cancellation`.
    static let rowsPerCancellationCheck = 64

    /// One state per row of `batch`. When `cancellation` stops the request the states are
    /// incomplete: the caller checks it before using them.
    public static func evaluate(_ predicate: Predicate, _ batch: EntityBatch, cancellation: Cancellation? = nil) -> [UInt8] {
        let n = batch.rowCount
        switch predicate {
        case .constant(let b):
            return [UInt8](repeating: b ? yes : no, count: n)
        case .and(let items):
            var out = [UInt8](repeating: yes, count: n)
            for item in items {
                let r = evaluate(item, batch, cancellation: cancellation)
                for i in 0..<n where out[i] != no { out[i] = r[i] == no ? no : (r[i] == unknown ? unknown : out[i]) }
            }
            return out
        case .or(let items):
            var out = [UInt8](repeating: no, count: n)
            for item in items {
                let r = evaluate(item, batch, cancellation: cancellation)
                for i in 0..<n where out[i] != yes { out[i] = r[i] == yes ? yes : (r[i] == unknown ? unknown : out[i]) }
            }
            return out
        case .not(let inner):
            return evaluate(inner, batch, cancellation: cancellation).map { $0 == unknown ? unknown : 1 - $0 }
        case .compare(.scalar(let fieldID, _), let op, let value):
            if let column = batch.column(fieldID), let fast = compareColumn(column, op, value) { return fast }
        case .inList(.scalar(let fieldID, _), let values, let negated) where values.count > 4:
            if let column = batch.column(fieldID), let fast = inColumn(column, Set(values), negated: negated) { return fast }
        case .like(.scalar(let fieldID, _), let pattern):
            if let column = batch.column(fieldID), case .string(let strings) = column.values {
                return like(strings, column.valid, pattern, cancellation)
            }
        case .spatial(let fieldID, let filter):
            // A batch written before the field was added has no column: every row reads null.
            guard let column = batch.column(fieldID), case .string(let strings) = column.values else {
                return [UInt8](repeating: unknown, count: n)
            }
            return filter.evaluate(strings, column.valid, cancellation)
        case .textMatch(let filter):
            return filter.evaluate(batch)
        default:
            break
        }
        // Row by row, each row may cost a lot (a like over long text, a deep JSON path): the
        // request's cancellation is polled every `rowsPerCancellationCheck` rows.
        var out = [UInt8](repeating: no, count: n)
        for row in 0..<n {
            if row % rowsPerCancellationCheck == 0, let cancellation, cancellation.isCancelled { break }
            out[row] = evaluateRow(predicate, batch, row)
        }
        return out
    }

    /// Text matched by `like` between two looks at the cancellation, at most: a row's cost grows
    /// with its length (up to 64 KiB of VarChar), so long rows are polled more often than every
    /// `rowsPerCancellationCheck`.
    static let likeBytesPerCancellationCheck = 64 << 10

    /// `like` straight over a VarChar column's strings.
    static func like(_ strings: [String], _ valid: [Bool]?, _ pattern: LikePattern, _ cancellation: Cancellation?) -> [UInt8] {
        var out = [UInt8](repeating: no, count: strings.count)
        var rows = 0
        var bytes = 0
        for row in strings.indices {
            if let cancellation, rows == 0 || rows >= rowsPerCancellationCheck || bytes >= likeBytesPerCancellationCheck {
                if cancellation.isCancelled { break }
                rows = 0
                bytes = 0
            }
            rows += 1
            bytes += strings[row].utf8.count
            out[row] = valid?[row] == false ? unknown : pattern.matches(strings[row]) ? yes : no
        }
        return out
    }

    // MARK: - Fast paths over typed columns

    static func compareColumn(_ column: Column, _ op: CompareOp, _ value: FilterValue) -> [UInt8]? {
        var out: [UInt8]
        switch (column.values, value) {
        case (.int64(let a), .int(let v)): out = compare(a, op, v) { $0 }
        case (.int32(let a), .int(let v)): out = compare(a, op, v) { Int64($0) }
        case (.int16(let a), .int(let v)): out = compare(a, op, v) { Int64($0) }
        case (.int8(let a), .int(let v)): out = compare(a, op, v) { Int64($0) }
        case (.float(let a), _):
            guard let v = value.doubleValue else { return nil }
            out = compare(a, op, v) { Double($0) }
        case (.double(let a), _):
            guard let v = value.doubleValue else { return nil }
            out = compare(a, op, v) { $0 }
        case (.string(let a), .string(let v)) where op == .eq || op == .ne:
            out = states(a) { sameBytes($0, v) == (op == .eq) }
        default:
            return nil
        }
        if let valid = column.valid { for i in out.indices where !valid[i] { out[i] = unknown } }
        return out
    }

    /// `value(a[i]) op v` for every element. The operator is chosen once, outside the loop, so
    /// each loop is a plain comparison the compiler can vectorize (filters over a 1M-row segment
    /// run this on every search).
    @inline(__always) static func compare<T, U: Comparable>(_ a: [T], _ op: CompareOp, _ v: U, _ value: (T) -> U) -> [UInt8] {
        switch op {
        case .eq: states(a) { value($0) == v }
        case .ne: states(a) { value($0) != v }
        case .lt: states(a) { value($0) < v }
        case .le: states(a) { value($0) <= v }
        case .gt: states(a) { value($0) > v }
        case .ge: states(a) { value($0) >= v }
        }
    }

    @inline(__always) static func states<T>(_ a: [T], _ test: (T) -> Bool) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: a.count) { out, initialized in
            a.withUnsafeBufferPointer { p in
                for i in 0..<p.count { out[i] = test(p[i]) ? yes : no }
            }
            initialized = a.count
        }
    }

    static func inColumn(_ column: Column, _ set: Set<FilterValue>, negated: Bool) -> [UInt8]? {
        let hit = negated ? no : yes
        let miss = negated ? yes : no
        var out: [UInt8]
        switch column.values {
        case .int64(let a): out = a.map { set.contains(.int($0)) ? hit : miss }
        case .string(let a):
            // Set membership is canonical equivalence; a hit is confirmed byte for byte.
            out = a.map { s in set.contains(.string(s)) && set.contains { if case .string(let v) = $0 { sameBytes(s, v) } else { false } } ? hit : miss }
        default: return nil
        }
        if let valid = column.valid { for i in out.indices where !valid[i] { out[i] = unknown } }
        return out
    }

    /// String equality as bytes (Milvus's, and the order scalar indexes sort by), not Swift's
    /// canonical equivalence, so an indexed lookup and a scan agree.
    @inline(__always) static func sameBytes(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && a.utf8.elementsEqual(b.utf8)
    }

    @inline(__always) static func ordered<T: Comparable>(_ a: T, _ op: CompareOp, _ b: T) -> Bool {
        switch op {
        case .eq: a == b
        case .ne: a != b
        case .lt: a < b
        case .le: a <= b
        case .gt: a > b
        case .ge: a >= b
        }
    }

    // MARK: - Row by row

    static func evaluateRow(_ predicate: Predicate, _ batch: EntityBatch, _ row: Int) -> UInt8 {
        switch predicate {
        case .constant(let b): return b ? yes : no
        case .and(let items):
            var result = yes
            for item in items {
                let r = evaluateRow(item, batch, row)
                if r == no { return no }
                if r == unknown { result = unknown }
            }
            return result
        case .or(let items):
            var result = no
            for item in items {
                let r = evaluateRow(item, batch, row)
                if r == yes { return yes }
                if r == unknown { result = unknown }
            }
            return result
        case .not(let inner):
            let r = evaluateRow(inner, batch, row)
            return r == unknown ? unknown : 1 - r
        case .compare(let ref, let op, let value):
            return compare(cell(ref, batch, row), op, value)
        case .compareColumns(let a, let op, let b):
            guard let right = cell(b, batch, row).filterValue else { return unknown }
            return compare(cell(a, batch, row), op, right)
        case .arithmetic(let ref, let aop, let operand, let op, let value):
            guard let computed = arithmetic(cell(ref, batch, row), aop, operand) else { return unknown }
            return compare(computed, op, value)
        case .inList(let ref, let values, let negated):
            let c = cell(ref, batch, row)
            var result = no
            for v in values {
                let r = compare(c, .eq, v)
                if r == yes { result = yes; break }
                if r == unknown { result = unknown }
            }
            return negated && result != unknown ? 1 - result : result
        case .like(let ref, let pattern):
            guard case .string(let s) = cell(ref, batch, row) else { return unknown }
            return pattern.matches(s) ? yes : no
        case .isNull(let ref, let negated):
            let isNull = cell(ref, batch, row).isNull
            return isNull != negated ? yes : no
        case .exists(let ref):
            if case .missing = cell(ref, batch, row) { return no }
            return yes
        case .contains(let ref, let mode, let values):
            guard let elements = cell(ref, batch, row).elements else { return unknown }
            func has(_ v: FilterValue) -> Bool { elements.contains { compare($0, .eq, v) == yes } }
            switch mode {
            case .one, .any: return values.contains(where: has) ? yes : no
            case .all: return values.allSatisfy(has) ? yes : no
            }
        case .arrayLength(let ref, let op, let n):
            guard let elements = cell(ref, batch, row).elements else { return unknown }
            return ordered(Int64(elements.count), op, n) ? yes : no
        case .spatial(let fieldID, let filter):
            guard case .string(let text) = cell(.scalar(fieldID: fieldID, type: .geometry), batch, row) else { return unknown }
            return filter.evaluate(text)
        case .textMatch(let filter):
            guard case .string(let text) = cell(.scalar(fieldID: filter.fieldID, type: .varChar), batch, row) else { return FilterEvaluator.unknown }
            return filter.evaluate(text)
        }
    }

    /// A constant comparison, folded by the checker; nil when the types do not compare.
    static func compareConstants(_ a: FilterValue, _ op: CompareOp, _ b: FilterValue) -> Bool? {
        let r = compare(Cell(a), op, b)
        return r == unknown ? nil : r == yes
    }

    static func compare(_ c: Cell, _ op: CompareOp, _ v: FilterValue) -> UInt8 {
        switch (c, v) {
        case (.int(let a), .int(let b)): return ordered(a, op, b) ? yes : no
        case (.int(let a), .float(let b)): return ordered(Double(a), op, b) ? yes : no
        case (.float(let a), .int(let b)): return ordered(a, op, Double(b)) ? yes : no
        case (.float(let a), .float(let b)): return ordered(a, op, b) ? yes : no
        case (.string(let a), .string(let b)):
            switch op {
            case .eq: return sameBytes(a, b) ? yes : no
            case .ne: return sameBytes(a, b) ? no : yes
            default:
                let less = a.utf8.lexicographicallyPrecedes(b.utf8)
                let greater = b.utf8.lexicographicallyPrecedes(a.utf8)
                let r: Bool =
                    switch op {
                    case .lt: less
                    case .le: !greater
                    case .gt: greater
                    default: !less
                    }
                return r ? yes : no
            }
        case (.bool(let a), .bool(let b)):
            switch op {
            case .eq: return a == b ? yes : no
            case .ne: return a != b ? yes : no
            default: return ordered(a ? 1 : 0, op, b ? 1 : 0) ? yes : no
            }
        default:
            return unknown
        }
    }

    static func arithmetic(_ c: Cell, _ op: ArithmeticOp, _ operand: FilterValue) -> Cell? {
        switch (c, operand) {
        case (.int(let a), .int(let b)):
            switch op {
            case .add: return .int(a &+ b)
            case .sub: return .int(a &- b)
            case .mul: return .int(a &* b)
            case .div: return b == 0 || (a == .min && b == -1) ? nil : .int(a / b)
            case .mod: return b == 0 || (a == .min && b == -1) ? nil : .int(a % b)
            }
        default:
            guard let a = c.doubleValue, let b = operand.doubleValue else { return nil }
            switch op {
            case .add: return .float(a + b)
            case .sub: return .float(a - b)
            case .mul: return .float(a * b)
            case .div: return b == 0 ? nil : .float(a / b)
            case .mod: return nil
            }
        }
    }

    // MARK: - Cells

    static func cell(_ ref: ColumnRef, _ batch: EntityBatch, _ row: Int) -> Cell {
        switch ref {
        case .scalar(let fieldID, _):
            guard let column = batch.column(fieldID) else { return .null }
            return Cell(column.value(at: row))
        case .json(let fieldID, let path):
            let root: JSON
            if let fieldID {
                guard let column = batch.column(fieldID), case .json(let j) = column.value(at: row) else { return .null }
                root = j
            } else {
                guard let dynamic = batch.dynamic else { return .missing }
                root = dynamic[row]
            }
            var current = root
            for accessor in path {
                switch (accessor, current) {
                case (.key(let k), .object):
                    guard let next = current[k] else { return .missing }
                    current = next
                case (.index(let i), .array(let items)):
                    guard i < items.count else { return .missing }
                    current = items[i]
                default:
                    return .missing
                }
            }
            return Cell(current)
        case .arrayElement(let fieldID, _, let index):
            guard let column = batch.column(fieldID), case .json(.array(let items)) = column.value(at: row) else { return .null }
            return index < items.count ? Cell(items[index]) : .missing
        case .array(let fieldID, _):
            guard let column = batch.column(fieldID) else { return .null }
            return Cell(column.value(at: row))
        }
    }
}

/// One value read from a row for evaluation.
enum Cell {
    case null
    /// A JSON path that does not exist in the row.
    case missing
    case int(Int64)
    case float(Double)
    case bool(Bool)
    case string(String)
    case array([Cell])
    /// A JSON object (only `is null` and `exists` look at it).
    case object

    init(_ value: FieldValue) {
        switch value {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .float(let f): self = .float(Double(f))
        case .double(let d): self = .float(d)
        case .string(let s): self = .string(s)
        case .json(let j): self = Cell(j)
        default: self = .null
        }
    }

    init(_ json: JSON) {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .float(d)
        case .string(let s): self = .string(s)
        case .array(let items): self = .array(items.map(Cell.init))
        case .object: self = .object
        }
    }

    init(_ value: FilterValue) {
        switch value {
        case .int(let i): self = .int(i)
        case .float(let f): self = .float(f)
        case .bool(let b): self = .bool(b)
        case .string(let s): self = .string(s)
        case .list(let items): self = .array(items.map(Cell.init))
        }
    }

    var isNull: Bool {
        switch self {
        case .null, .missing: true
        default: false
        }
    }

    var elements: [Cell]? { if case .array(let items) = self { items } else { nil } }

    var doubleValue: Double? {
        switch self {
        case .int(let i): Double(i)
        case .float(let f): f
        default: nil
        }
    }

    var filterValue: FilterValue? {
        switch self {
        case .int(let i): .int(i)
        case .float(let f): .float(f)
        case .bool(let b): .bool(b)
        case .string(let s): .string(s)
        default: nil
        }
    }
}
