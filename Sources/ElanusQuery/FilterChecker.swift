import ElanusCore
import ElanusGeometry
import struct Foundation.TimeZone

/// Turns filter text into a checked Predicate for one schema: resolves names (schema fields, then
/// dynamic keys), fills `{templates}` from exprParams, folds constant arithmetic, and refuses
/// type mismatches and unsupported forms with a plan error (1100) that says why and where.
public enum FilterChecker {
    /// `timeZone` reads `ISO '...'` literals without an offset: Milvus's plan reads them in the
    /// request's zone, else the collection's.
    public static func check(
        _ filter: String, schema: CollectionSchema, params: [(key: String, value: JSON)] = [], timeZone: TimeZone = Timestamptz.utc
    ) throws(ElanusError) -> Predicate {
        do {
            var checker = Checker(schema: schema, params: params, timeZone: timeZone)
            return try checker.predicate(try FilterParser.parse(filter))
        } catch {
            throw error.planError(filter)
        }
    }
}

/// One operand after resolution: a constant, a column, arithmetic on a column, or array_length.
enum Operand {
    case value(FilterValue)
    case column(ColumnRef)
    case arithmetic(ColumnRef, ArithmeticOp, FilterValue)
    case arrayLength(ColumnRef)
}

struct Checker {
    let schema: CollectionSchema
    let params: [(key: String, value: JSON)]
    /// The zone of ISO literals without an offset.
    let timeZone: TimeZone
    /// UTF-8 bytes of the `like` patterns seen so far (placeholders resolved).
    var likeBytes = 0

    /// Refuses a pattern past `LikePattern.maxBytes`, or one that takes the filter's patterns
    /// past `LikePattern.maxTotalBytes`: each bounds the matching work of every row.
    mutating func countLikePattern(_ pattern: String, _ offset: Int) throws(FilterError) {
        let bytes = pattern.utf8.count
        guard bytes <= LikePattern.maxBytes else {
            throw FilterError("the pattern of 'like' is \(bytes) bytes long, more than the limit of \(LikePattern.maxBytes) bytes", offset: offset)
        }
        likeBytes += bytes
        guard likeBytes <= LikePattern.maxTotalBytes else {
            throw FilterError("the 'like' patterns of the expression are \(likeBytes) bytes long in all, more than the limit of \(LikePattern.maxTotalBytes) bytes", offset: offset)
        }
    }

    mutating func predicate(_ syntax: FilterSyntax) throws(FilterError) -> Predicate {
        switch syntax {
        case .and(let items):
            var out: [Predicate] = []
            for item in items { out.append(try predicate(item)) }
            return flatten(.and(out))
        case .or(let items):
            var out: [Predicate] = []
            for item in items { out.append(try predicate(item)) }
            return flatten(.or(out))
        case .not(let inner):
            return .not(try predicate(inner))
        case .compare(let op, let left, let right, let offset):
            return try compare(CompareOp(rawValue: op)!, try operand(left), try operand(right), offset)
        case .inList(let left, let right, let negated, let offset):
            guard case .column(let column) = try operand(left) else { throw FilterError("the left side of 'in' must be a field", offset: offset) }
            guard case .value(.list(let values)) = try operand(right) else { throw FilterError("the right side of 'in' must be a list of constants", offset: offset) }
            for value in values { try checkComparable(column, value, offset) }
            return .inList(column, values, negated: negated)
        case .like(let left, let right, let offset):
            guard case .column(let column) = try operand(left) else { throw FilterError("the left side of 'like' must be a field", offset: offset) }
            guard case .value(.string(let pattern)) = try operand(right) else { throw FilterError("the pattern of 'like' must be a string", offset: offset) }
            try countLikePattern(pattern, offset)
            switch column {
            case .scalar(_, .varChar), .json, .arrayElement(_, .varChar, _): return .like(column, LikePattern(pattern))
            default: throw FilterError("'like' needs a VarChar or JSON field", offset: offset)
            }
        case .isNull(let inner, let negated, let offset):
            guard case .column(let column) = try operand(inner) else { throw FilterError("'is null' needs a field", offset: offset) }
            return .isNull(column, negated: negated)
        case .exists(let inner, let offset):
            guard case .column(let column) = try operand(inner), case .json = column else {
                throw FilterError("'exists' needs a JSON path such as meta[\"key\"]", offset: offset)
            }
            return .exists(column)
        case .call(let name, let arguments, let offset):
            return try call(name, arguments, offset)
        case .bool(let b):
            return .constant(b)
        case .path(_, _, let offset):
            // A bare Bool field (or JSON path) is a predicate on its own: `flag`, `not flag`.
            guard case .column(let column) = try operand(syntax) else { throw FilterError("expected a condition", offset: offset) }
            switch column {
            case .scalar(_, .bool), .json, .arrayElement(_, .bool, _): return .compare(column, .eq, .bool(true))
            default: throw FilterError("a field of this type is not a condition by itself; compare it with something", offset: offset)
            }
        case .template(_, let offset):
            guard case .value(.bool(let b)) = try operand(syntax) else { throw FilterError("this placeholder is not a bool", offset: offset) }
            return .constant(b)
        default:
            throw FilterError("expected a condition, found a value")
        }
    }

    func flatten(_ p: Predicate) -> Predicate {
        switch p {
        case .and(let items): return .and(items.flatMap { if case .and(let inner) = $0 { inner } else { [$0] } })
        case .or(let items): return .or(items.flatMap { if case .or(let inner) = $0 { inner } else { [$0] } })
        default: return p
        }
    }

    // MARK: - Operands

    mutating func operand(_ syntax: FilterSyntax) throws(FilterError) -> Operand {
        switch syntax {
        case .int(let i): return .value(.int(i))
        case .float(let f): return .value(.float(f))
        case .bool(let b): return .value(.bool(b))
        case .string(let s): return .value(.string(s))
        case .list(let items):
            var values: [FilterValue] = []
            for item in items {
                guard case .value(let v) = try operand(item) else { throw FilterError("a list may hold only constants") }
                values.append(v)
            }
            return .value(.list(values))
        case .template(let name, let offset):
            guard let json = params.last(where: { $0.key == name })?.value else {
                throw FilterError("placeholder {\(name)} has no value in exprParams", offset: offset)
            }
            return .value(try value(json, offset))
        case .path(let name, let accessors, let offset):
            return .column(try resolve(name, accessors, offset))
        case .isoTime(let text, let offset):
            // A Timestamptz compares as its instant; a literal without an offset is a local
            // time in the zone of the request.
            guard let micros = Timestamptz.parse(text, zone: timeZone) else {
                throw FilterError("invalid ISO 8601 time '\(text)': expected YYYY-MM-DDThh:mm:ss[.ffffff][Z|+hh:mm]", offset: offset)
            }
            return .value(.int(micros))
        case .interval(let text, let offset):
            guard let micros = Timestamptz.interval(text) else {
                throw FilterError("invalid ISO 8601 interval '\(text)': expected a duration of weeks, days, hours, minutes and seconds such as P1DT2H", offset: offset)
            }
            return .value(.int(micros))
        case .negate(let inner):
            switch try operand(inner) {
            case .value(.int(let i)): return .value(.int(0 &- i))
            case .value(.float(let f)): return .value(.float(-f))
            default: throw FilterError("'-' applies only to numbers and constant expressions")
            }
        case .arithmetic(let op, let left, let right, let offset):
            return try arithmetic(op, try operand(left), try operand(right), offset)
        case .call("array_length", let arguments, let offset):
            guard arguments.count == 1, case .column(let column) = try operand(arguments[0]) else {
                throw FilterError("array_length takes one Array or JSON field", offset: offset)
            }
            switch column {
            case .array, .json: return .arrayLength(column)
            default: throw FilterError("array_length needs an Array or JSON field", offset: offset)
            }
        default:
            throw FilterError("a condition cannot be used as a value here")
        }
    }

    func value(_ json: JSON, _ offset: Int) throws(FilterError) -> FilterValue {
        switch json {
        case .int(let i): return .int(i)
        case .double(let d): return .float(d)
        case .bool(let b): return .bool(b)
        case .string(let s): return .string(s)
        case .array(let items):
            var values: [FilterValue] = []
            for item in items { values.append(try value(item, offset)) }
            return .list(values)
        default: throw FilterError("exprParams values must be numbers, strings, bools or lists", offset: offset)
        }
    }

    /// Names resolve to schema fields first, then (with the dynamic field) to `$meta` keys.
    func resolve(_ name: String, _ accessors: [PathAccessor], _ offset: Int) throws(FilterError) -> ColumnRef {
        if let field = schema.field(named: name) {
            if field.dataType.isVector { throw FilterError("filtering on the vector field \(name) is not supported", offset: offset) }
            switch field.dataType {
            case .json:
                return .json(fieldID: field.fieldID, path: accessors)
            case .array:
                let element = field.elementType ?? .int64
                if accessors.isEmpty { return .array(fieldID: field.fieldID, element: element) }
                guard accessors.count == 1, case .index(let i) = accessors[0] else {
                    throw FilterError("an Array field takes one integer index, like \(name)[0]", offset: offset)
                }
                return .arrayElement(fieldID: field.fieldID, element: element, index: i)
            default:
                guard accessors.isEmpty else { throw FilterError("the \(field.dataType.rawValue) field \(name) has no elements to index", offset: offset) }
                return .scalar(fieldID: field.fieldID, type: field.dataType)
            }
        }
        guard schema.enableDynamicField else { throw FilterError("field \(name) not exist", offset: offset) }
        if name == "$meta" { return .json(fieldID: nil, path: accessors) }
        return .json(fieldID: nil, path: [.key(name)] + accessors)
    }

    func arithmetic(_ op: String, _ left: Operand, _ right: Operand, _ offset: Int) throws(FilterError) -> Operand {
        if case .value(let a) = left, case .value(let b) = right { return .value(try fold(op, a, b, offset)) }
        guard let arithmeticOp = ArithmeticOp(rawValue: op) else {
            throw FilterError("'\(op)' is allowed only between constants", offset: offset)
        }
        switch (left, right) {
        case (.column(let c), .value(let v)) where v.isNumber:
            try checkNumericColumn(c, offset)
            return .arithmetic(c, arithmeticOp, v)
        case (.value(let v), .column(let c)) where v.isNumber && (arithmeticOp == .add || arithmeticOp == .mul):
            try checkNumericColumn(c, offset)
            return .arithmetic(c, arithmeticOp, v)
        default:
            throw FilterError("arithmetic is supported only as field \(op) constant (one field, no nesting)", offset: offset)
        }
    }

    func checkNumericColumn(_ column: ColumnRef, _ offset: Int) throws(FilterError) {
        switch column {
        case .scalar(_, let type) where type.isInteger || type == .float || type == .double || type == .timestamptz: return
        case .json, .arrayElement: return
        default: throw FilterError("arithmetic needs a numeric field", offset: offset)
        }
    }

    func fold(_ op: String, _ a: FilterValue, _ b: FilterValue, _ offset: Int) throws(FilterError) -> FilterValue {
        switch (a, b) {
        case (.int(let x), .int(let y)):
            switch op {
            case "+": return .int(x &+ y)
            case "-": return .int(x &- y)
            case "*": return .int(x &* y)
            case "/", "%":
                guard y != 0 else { throw FilterError("division by zero", offset: offset) }
                if x == .min && y == -1 { return op == "/" ? .int(.min) : .int(0) }
                return .int(op == "/" ? x / y : x % y)
            case "**":
                guard y >= 0 else { return .float(try power(Double(x), Double(y), offset)) }
                var result: Int64 = 1
                for _ in 0..<min(y, 64) { result = result &* x }
                return .int(result)
            default: break
            }
        case (.int, .float), (.float, .int), (.float, .float):
            let x = a.doubleValue!
            let y = b.doubleValue!
            switch op {
            case "+": return .float(x + y)
            case "-": return .float(x - y)
            case "*": return .float(x * y)
            case "/":
                guard y != 0 else { throw FilterError("division by zero", offset: offset) }
                return .float(x / y)
            case "**": return .float(try power(x, y, offset))
            case "%": throw FilterError("'%' needs integers", offset: offset)
            default: break
            }
        default: break
        }
        throw FilterError("'\(op)' does not apply to \(a.typeName) and \(b.typeName)", offset: offset)
    }

    // MARK: - Comparisons and functions

    func compare(_ op: CompareOp, _ left: Operand, _ right: Operand, _ offset: Int) throws(FilterError) -> Predicate {
        switch (left, right) {
        case (.value(let a), .value(let b)):
            return .constant(FilterEvaluator.compareConstants(a, op, b) ?? false)
        case (.value, _):
            return try compare(op.flipped, right, left, offset)
        case (.column(let c), .value(let v)):
            if case .array = c { throw FilterError("an Array field cannot be compared as a whole; use array_contains or an index", offset: offset) }
            try checkComparable(c, v, offset)
            return .compare(c, op, v)
        case (.column(let a), .column(let b)):
            switch (a, b) {
            case (.scalar(_, let ta), .scalar(_, let tb)):
                let numeric: (DataType) -> Bool = { $0.isInteger || $0 == .float || $0 == .double || $0 == .timestamptz }
                guard (numeric(ta) && numeric(tb)) || ta == tb else {
                    throw FilterError("cannot compare a \(ta.rawValue) field with a \(tb.rawValue) field", offset: offset)
                }
                return .compareColumns(a, op, b)
            default:
                throw FilterError("only scalar fields can be compared with each other", offset: offset)
            }
        case (.arithmetic(let c, let aop, let operand), .value(let v)):
            guard v.isNumber else { throw FilterError("arithmetic results compare only with numbers", offset: offset) }
            if aop == .mod, case .scalar(_, let t) = c, !t.isInteger { throw FilterError("'%' needs an integer field", offset: offset) }
            // A zero divisor would make every row's value undefined: refused, not "matches nothing".
            if aop == .mod || aop == .div, operand.doubleValue == 0 {
                throw FilterError("division or modulus by zero", offset: offset)
            }
            return .arithmetic(c, aop, operand, op, v)
        case (.arrayLength(let c), .value(.int(let n))):
            return .arrayLength(c, op, n)
        case (.arrayLength, _):
            throw FilterError("array_length compares only with an integer", offset: offset)
        default:
            throw FilterError("unsupported comparison", offset: offset)
        }
    }

    /// Whether a constant may be compared with a column of this type.
    func checkComparable(_ column: ColumnRef, _ value: FilterValue, _ offset: Int) throws(FilterError) {
        let type: DataType
        switch column {
        case .json: return  // typed per row
        case .array: throw FilterError("an Array field cannot be compared as a whole", offset: offset)
        case .scalar(_, let t): type = t
        case .arrayElement(_, let t, _): type = t
        }
        let ok: Bool =
            switch type {
            case .bool: value == .bool(true) || value == .bool(false)
            case .varChar: { if case .string = value { true } else { false } }()
            // Milvus's plan passes a template value for a Timestamptz field through as it is,
            // and its segments read it as the int64 instant: microseconds since 1970 UTC.
            case .timestamptz: { if case .int = value { true } else { false } }()
            default: value.isNumber
            }
        if !ok, type == .timestamptz {
            throw FilterError(
                "cannot compare a Timestamptz field with \(value.typeName): write the time as ISO '2025-01-01T00:00:00Z', or give its instant as an integer of microseconds since 1970-01-01T00:00:00Z (a template value, as Milvus takes it)",
                offset: offset)
        }
        guard ok else {
            throw FilterError("cannot compare a \(type.rawValue) field with \(value.typeName)", offset: offset)
        }
    }

    func call(_ name: String, _ arguments: [FilterSyntax], _ offset: Int) throws(FilterError) -> Predicate {
        let families: [String: ContainsMode] = [
            "json_contains": .one, "json_contains_all": .all, "json_contains_any": .any,
            "array_contains": .one, "array_contains_all": .all, "array_contains_any": .any,
        ]
        if let op = SpatialOp(rawValue: name) {
            var me = self
            return try me.spatial(op, arguments, offset)
        }
        if name == "text_match" || name == "phrase_match" {
            var me = self
            return try me.textMatch(name, arguments, offset)
        }
        guard let mode = families[name] else {
            if name == "random_sample" || name.hasPrefix("st_") {
                throw FilterError("function \(name) is not supported by Elanus", offset: offset)
            }
            if name == "array_length" { throw FilterError("array_length must be compared, e.g. array_length(a) == 2", offset: offset) }
            throw FilterError("unknown function \(name)", offset: offset)
        }
        guard arguments.count == 2 else { throw FilterError("\(name) takes a field and a value", offset: offset) }
        var me = self
        guard case .column(let column) = try me.operand(arguments[0]) else { throw FilterError("the first argument of \(name) must be a field", offset: offset) }
        guard case .value(let value) = try me.operand(arguments[1]) else { throw FilterError("the second argument of \(name) must be a constant", offset: offset) }
        switch column {
        case .json, .array: break
        default: throw FilterError("\(name) needs a JSON or Array field", offset: offset)
        }
        if mode == .one {
            if case .array(_, let element) = column { try checkComparable(.scalar(fieldID: 0, type: element), value, offset) }
            return .contains(column, .one, [value])
        }
        guard case .list(let values) = value else { throw FilterError("the second argument of \(name) must be a list", offset: offset) }
        if case .array(_, let element) = column {
            for v in values { try checkComparable(.scalar(fieldID: 0, type: element), v, offset) }
        }
        return .contains(column, mode, values)
    }
}

extension FilterValue {
    var doubleValue: Double? {
        switch self {
        case .int(let i): Double(i)
        case .float(let f): f
        default: nil
        }
    }
}

/// x ** y for integral exponents (by repeated squaring: no Foundation in this module).
func power(_ x: Double, _ y: Double, _ offset: Int) throws(FilterError) -> Double {
    guard y == y.rounded(), abs(y) < 1024 else { throw FilterError("'**' needs an integral exponent below 1024", offset: offset) }
    var result = 1.0
    var base = x
    var n = Int(abs(y))
    while n > 0 {
        if n & 1 == 1 { result *= base }
        base *= base
        n >>= 1
    }
    return y < 0 ? 1 / result : result
}
