/// The parse tree of a filter, before names and types are checked against a schema.
indirect enum FilterSyntax: Equatable {
    case int(Int64)
    case float(Double)
    case bool(Bool)
    case string(String)
    case list([FilterSyntax])
    /// A name with `["key"]` / `[0]` accessors: `age`, `meta["a"][0]`, `$meta["k"]`.
    case path(name: String, accessors: [PathAccessor], offset: Int)
    /// A `{name}` placeholder, filled from exprParams.
    case template(String, offset: Int)
    case negate(FilterSyntax)
    case arithmetic(String, FilterSyntax, FilterSyntax, offset: Int)
    case compare(String, FilterSyntax, FilterSyntax, offset: Int)
    /// Chains are kept flat (`a or b or c` is one node), so a long chain is not a deep tree.
    case and([FilterSyntax])
    case or([FilterSyntax])
    case not(FilterSyntax)
    case inList(FilterSyntax, FilterSyntax, negated: Bool, offset: Int)
    case like(FilterSyntax, FilterSyntax, offset: Int)
    case isNull(FilterSyntax, negated: Bool, offset: Int)
    case exists(FilterSyntax, offset: Int)
    case call(String, [FilterSyntax], offset: Int)
    /// `ISO '2025-01-01T00:00:00+08:00'`: a Timestamptz literal, checked when resolved.
    case isoTime(String, offset: Int)
    /// `INTERVAL 'P1DT2H'`: an ISO 8601 duration, added to or subtracted from a Timestamptz field.
    case interval(String, offset: Int)
    /// `name=value`, only as a function's argument: text_match's `minimum_should_match=2`.
    case named(String, FilterSyntax, offset: Int)
}

public enum PathAccessor: Equatable, Hashable, Sendable {
    case key(String)
    case index(Int)
}

/// A recursive-descent parser for the grammar of Plan.g4, lowest precedence first:
/// or, and, not, comparison (with chained ranges, in, like, is null), + -, * / %, **, unary.
/// Depth and length are bounded, so no expression can exhaust the stack.
struct FilterParser {
    static let maxDepth = 100
    static let maxLength = 65_536

    let tokens: [FilterToken]
    var position = 0
    var depth = 0

    static func parse(_ text: String) throws(FilterError) -> FilterSyntax {
        guard text.utf8.count <= maxLength else { throw FilterError("the expression is longer than \(maxLength) bytes") }
        var parser = FilterParser(tokens: try FilterLexer.tokenize(text))
        guard parser.peek.kind != .end else { throw FilterError("the expression is empty") }
        let expression = try parser.orExpression()
        guard parser.peek.kind == .end else { throw parser.unexpected("end of expression") }
        return expression
    }

    var peek: FilterToken { tokens[position] }

    mutating func advance() -> FilterToken {
        defer { if position < tokens.count - 1 { position += 1 } }
        return tokens[position]
    }

    mutating func accept(_ symbol: String) -> Bool {
        if peek.kind == .symbol(symbol) {
            position += 1
            return true
        }
        return false
    }

    mutating func acceptKeyword(_ word: String) -> Bool {
        if peek.kind == .keyword(word) {
            position += 1
            return true
        }
        return false
    }

    func unexpected(_ expected: String) -> FilterError {
        let found: String =
            switch peek.kind {
            case .end: "the end of the expression"
            case .identifier(let s): "'\(s)'"
            case .int(let i): "\(i)"
            case .float(let f): "\(f)"
            case .string(let s): "\"\(s)\""
            case .symbol(let s): "'\(s)'"
            case .keyword(let k): "'\(k)'"
            }
        return FilterError("expected \(expected) but found \(found)", offset: peek.offset)
    }

    mutating func enter() throws(FilterError) {
        depth += 1
        if depth > FilterParser.maxDepth { throw FilterError("the expression is nested more than \(FilterParser.maxDepth) levels deep", offset: peek.offset) }
    }

    mutating func orExpression() throws(FilterError) -> FilterSyntax {
        try enter()
        defer { depth -= 1 }
        var items = [try andExpression()]
        while acceptKeyword("or") || accept("||") { items.append(try andExpression()) }
        return items.count == 1 ? items[0] : .or(items)
    }

    mutating func andExpression() throws(FilterError) -> FilterSyntax {
        var items = [try notExpression()]
        while acceptKeyword("and") || accept("&&") { items.append(try notExpression()) }
        return items.count == 1 ? items[0] : .and(items)
    }

    mutating func notExpression() throws(FilterError) -> FilterSyntax {
        if acceptKeyword("not") || accept("!") {
            try enter()
            defer { depth -= 1 }
            return .not(try notExpression())
        }
        return try comparison()
    }

    static let comparisons: Set<String> = ["==", "!=", "<", "<=", ">", ">="]

    mutating func comparison() throws(FilterError) -> FilterSyntax {
        let left = try additive()
        let offset = peek.offset
        if case .symbol(let op) = peek.kind, FilterParser.comparisons.contains(op) {
            position += 1
            let middle = try additive()
            // A chained range, `1 < a <= 5`: both comparisons must point the same way.
            if case .symbol(let op2) = peek.kind, FilterParser.comparisons.contains(op2) {
                let offset2 = peek.offset
                position += 1
                let right = try additive()
                let ascending = ["<", "<="]
                let descending = [">", ">="]
                guard (ascending.contains(op) && ascending.contains(op2)) || (descending.contains(op) && descending.contains(op2)) else {
                    throw FilterError("a range must use < and <= or > and >= on both sides", offset: offset2)
                }
                return .and([.compare(op, left, middle, offset: offset), .compare(op2, middle, right, offset: offset2)])
            }
            return .compare(op, left, middle, offset: offset)
        }
        if acceptKeyword("not") {
            guard acceptKeyword("in") else { throw unexpected("'in' after 'not'") }
            return .inList(left, try additive(), negated: true, offset: offset)
        }
        if acceptKeyword("in") { return .inList(left, try additive(), negated: false, offset: offset) }
        if acceptKeyword("like") { return .like(left, try additive(), offset: offset) }
        if acceptKeyword("is") {
            let negated = acceptKeyword("not")
            guard acceptKeyword("null") else { throw unexpected("'null'") }
            return .isNull(left, negated: negated, offset: offset)
        }
        for bitwise in ["&", "|", "^", "<<", ">>"] where peek.kind == .symbol(bitwise) {
            throw FilterError("bitwise operator \(bitwise) is not supported", offset: offset)
        }
        return left
    }

    /// A function's argument: an expression, or `name=expression` (Plan.g4's textMatchOption).
    mutating func argument() throws(FilterError) -> FilterSyntax {
        if case .identifier(let name) = peek.kind, position + 1 < tokens.count, tokens[position + 1].kind == .symbol("=") {
            let offset = advance().offset
            _ = advance()
            return .named(name, try orExpression(), offset: offset)
        }
        return try orExpression()
    }

    mutating func additive() throws(FilterError) -> FilterSyntax {
        var left = try multiplicative()
        while case .symbol(let op) = peek.kind, op == "+" || op == "-" {
            let offset = advance().offset
            left = .arithmetic(op, left, try multiplicative(), offset: offset)
        }
        return left
    }

    mutating func multiplicative() throws(FilterError) -> FilterSyntax {
        var left = try power()
        while case .symbol(let op) = peek.kind, op == "*" || op == "/" || op == "%" {
            let offset = advance().offset
            left = .arithmetic(op, left, try power(), offset: offset)
        }
        return left
    }

    mutating func power() throws(FilterError) -> FilterSyntax {
        let base = try unary()
        if peek.kind == .symbol("**") {
            let offset = advance().offset
            return .arithmetic("**", base, try power(), offset: offset)
        }
        return base
    }

    mutating func unary() throws(FilterError) -> FilterSyntax {
        try enter()
        defer { depth -= 1 }
        if accept("-") { return .negate(try unary()) }
        if accept("+") { return try unary() }
        if peek.kind == .symbol("~") { throw FilterError("bitwise operator ~ is not supported", offset: peek.offset) }
        if peek.kind == .keyword("not") || peek.kind == .symbol("!") { return try notExpression() }
        return try primary()
    }

    mutating func primary() throws(FilterError) -> FilterSyntax {
        let token = advance()
        switch token.kind {
        case .int(let i): return .int(i)
        case .float(let f): return .float(f)
        case .string(let s): return .string(s)
        case .keyword("true"): return .bool(true)
        case .keyword("false"): return .bool(false)
        case .keyword("exists"):
            return .exists(try unary(), offset: token.offset)
        case .symbol("("):
            let inner = try orExpression()
            guard accept(")") else { throw unexpected("')'") }
            return inner
        case .symbol("["):
            var items: [FilterSyntax] = []
            if accept("]") { return .list(items) }
            repeat {
                try enter()
                items.append(try orExpression())
                depth -= 1
            } while accept(",")
            guard accept("]") else { throw unexpected("',' or ']'") }
            return .list(items)
        case .symbol("{"):
            guard case .identifier(let name) = advance().kind else { throw FilterError("expected a placeholder name after '{'", offset: token.offset) }
            guard accept("}") else { throw unexpected("'}'") }
            return .template(name, offset: token.offset)
        case .identifier(let name):
            // Milvus 2.6's typed literals: the keyword, then a string (a field may still be named so).
            if ["ISO", "INTERVAL"].contains(name.uppercased()), case .string(let text) = peek.kind {
                _ = advance()
                return name.uppercased() == "ISO" ? .isoTime(text, offset: token.offset) : .interval(text, offset: token.offset)
            }
            if accept("(") {
                var arguments: [FilterSyntax] = []
                if !accept(")") {
                    repeat { arguments.append(try argument()) } while accept(",")
                    guard accept(")") else { throw unexpected("',' or ')'") }
                }
                return .call(name.lowercased(), arguments, offset: token.offset)
            }
            var accessors: [PathAccessor] = []
            while accept("[") {
                switch advance().kind {
                case .string(let key): accessors.append(.key(key))
                case .int(let i) where i >= 0 && i <= Int64(Int32.max): accessors.append(.index(Int(i)))
                default: throw FilterError("a path accessor must be a string key or a non-negative index", offset: token.offset)
                }
                guard accept("]") else { throw unexpected("']'") }
            }
            return .path(name: name, accessors: accessors, offset: token.offset)
        default:
            position -= token.kind == .end ? 0 : 1
            throw unexpected("a value, a field or '('")
        }
    }
}
