import ElanusCore

/// The delete filters the write path understands before the query engine exists:
/// `<pk> in [v1, v2, ...]` and `<pk> == v`, with integer or quoted string keys.
/// Anything else is refused with a plan error that says what is supported.
enum PrimaryKeyFilter {
    static func keys(_ filter: String, primaryField: FieldSchema) throws(ElanusError) -> [PrimaryKey] {
        let text = filter.trimmingSpaces
        guard text.hasPrefix(primaryField.name) else { throw unsupported(filter, primaryField) }
        var rest = Substring(text.dropFirst(primaryField.name.count)).trimmingSpaces
        let values: String
        if rest.hasPrefix("==") {
            values = String(rest.dropFirst(2))
        } else if rest.lowercased().hasPrefix("in") {
            rest = rest.dropFirst(2).trimmingSpaces
            guard rest.hasPrefix("["), rest.hasSuffix("]") else { throw unsupported(filter, primaryField) }
            values = String(rest.dropFirst().dropLast())
        } else {
            throw unsupported(filter, primaryField)
        }
        let literals: JSON
        do { literals = try JSON.parse("[" + values.replacingSingleQuotes + "]") } catch {
            throw plan(filter, "the values are not a list of \(primaryField.dataType == .int64 ? "integers" : "strings")")
        }
        guard case .array(let items) = literals, !items.isEmpty else { throw plan(filter, "no primary key values given") }
        var keys: [PrimaryKey] = []
        for item in items {
            switch (item, primaryField.dataType) {
            case (.int(let i), .int64): keys.append(.int(i))
            case (.string(let s), .varChar): keys.append(.string(s))
            default: throw plan(filter, "\(item.serialized()) is not a \(primaryField.dataType.rawValue) primary key")
            }
        }
        return keys
    }

    static func plan(_ filter: String, _ reason: String) -> ElanusError {
        .invalidParameter("failed to create query plan: cannot parse expression: \(filter), error: \(reason)")
    }

    static func unsupported(_ filter: String, _ field: FieldSchema) -> ElanusError {
        plan(filter, "deletes support `\(field.name) in [...]` and `\(field.name) == value` filters until the query engine lands")
    }
}

extension StringProtocol {
    var trimmingSpaces: Substring {
        let s = self[...].drop(while: { $0 == " " || $0 == "\t" || $0 == "\n" })
        var end = s.endIndex
        while end > s.startIndex, [" ", "\t", "\n"].contains(s[s.index(before: end)]) { end = s.index(before: end) }
        return Substring(s[s.startIndex..<end])
    }

    /// 'abc' -> "abc", so single-quoted string literals parse as JSON (no escapes inside).
    var replacingSingleQuotes: String {
        var out = ""
        var inDouble = false
        for c in self {
            if c == "\"" { inDouble.toggle() }
            out.append(c == "'" && !inDouble ? "\"" : c)
        }
        return out
    }
}
