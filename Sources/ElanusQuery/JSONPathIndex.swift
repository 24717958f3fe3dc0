import ElanusCore

/// What a JSON path index covers: one path inside one JSON field, and the type its values are
/// cast to (Milvus's `json_path` and `json_cast_type` index params).
public struct JSONIndexTarget: Sendable, Hashable {
    /// Milvus 2.6's cast types (INVERTEDChecker's list).
    public enum Cast: String, Sendable, CaseIterable {
        case bool = "BOOL", double = "DOUBLE", varchar = "VARCHAR"
        case arrayBool = "ARRAY_BOOL", arrayDouble = "ARRAY_DOUBLE", arrayVarchar = "ARRAY_VARCHAR", json = "JSON"
    }

    public let fieldID: Int64
    public let path: [PathAccessor]
    public let cast: Cast

    public init(fieldID: Int64, path: [PathAccessor], cast: Cast) {
        self.fieldID = fieldID
        self.path = path
        self.cast = cast
    }

    /// Parses a `json_path` param, an identifier of the filter language (`meta`, `meta["a"]`,
    /// `meta['a']["b"][0]`): the field it names and the accessors after it.
    public static func parsePath(_ text: String) throws(ElanusError) -> (field: String, path: [PathAccessor]) {
        let syntax: FilterSyntax
        do {
            syntax = try FilterParser.parse(text)
        } catch {
            throw .invalidParameter("cannot parse identifier: \(text), error: \(error.reason)")
        }
        guard case .path(let name, let accessors, _) = syntax else { throw .invalidParameter("cannot parse identifier: \(text)") }
        return (name, accessors)
    }

    /// The path as the JSON Pointer Milvus stores and names default indexes by (`/a/b`, with `~`
    /// and `/` escaped; empty for the whole field).
    public static func pointer(_ path: [PathAccessor]) -> String {
        path.map { accessor in
            switch accessor {
            case .key(let k): "/" + k.map { $0 == "~" ? "~0" : $0 == "/" ? "~1" : String($0) }.joined()
            case .index(let i): "/\(i)"
            }
        }.joined()
    }

    /// The value of row `json` at `path` as the cast type's scalar, or nil when it is missing or
    /// of another type (Milvus leaves such rows out of the index). Integers beyond 2^53 are left
    /// out of a DOUBLE index: as doubles they would compare unlike the scan's exact integers.
    func castValue(_ json: JSON) -> JSON? {
        var current = json
        for accessor in path {
            switch (accessor, current) {
            case (.key(let k), .object):
                guard let next = current[k] else { return nil }
                current = next
            case (.index(let i), .array(let items)):
                guard i < items.count else { return nil }
                current = items[i]
            default:
                return nil
            }
        }
        switch (cast, current) {
        case (.bool, .bool), (.varchar, .string): return current
        case (.double, .double(let d)) where !d.isNaN: return current
        case (.double, .int(let i)) where i.magnitude <= 1 << 53: return .double(Double(i))
        default: return nil
        }
    }
}

/// A segment's index on one JSON path: a sorted index (INVERTED, AUTOINDEX) or an n-gram index
/// (NGRAM) over the values that cast, one row each. Rows whose value does not cast are the
/// index's nulls (or its `unindexed`): a filter evaluates them itself, so an indexed filter and a
/// scan give the same rows whatever the documents hold.
public struct JSONPathIndex: Sendable {
    public enum Content: Sendable, Equatable {
        case sorted(SortedIndex)
        case ngram(NgramIndex)
        /// A Geometry field's RTREE (never on a JSON path).
        case spatial(SpatialIndex)
    }

    public let target: JSONIndexTarget
    public let content: Content

    public init(target: JSONIndexTarget, content: Content) {
        self.target = target
        self.content = content
    }

    /// The cast values of the JSON field in `columns` (one per chunk, in row order): nil where
    /// the row is null or its value does not cast.
    public static func values(_ columns: [Column], target: JSONIndexTarget) -> [JSON?] {
        var out: [JSON?] = []
        for column in columns {
            for r in 0..<column.rowCount {
                if case .json(let json) = column.value(at: r) { out.append(target.castValue(json)) } else { out.append(nil) }
            }
        }
        return out
    }

    /// The sorted index of `values` (BOOL, DOUBLE and VARCHAR casts); values that did not cast
    /// are its nulls.
    public static func sorted(_ values: [JSON?], cast: JSONIndexTarget.Cast) -> SortedIndex? {
        let valid = values.map { $0 != nil }
        let column: Column
        switch cast {
        case .bool: column = Column(fieldID: 0, values: .bool(values.map { if case .bool(let b)? = $0 { b } else { false } }), valid: valid)
        case .double: column = Column(fieldID: 0, values: .double(values.map { if case .double(let d)? = $0 { d } else { 0 } }), valid: valid)
        case .varchar: column = Column(fieldID: 0, values: .string(values.map { if case .string(let s)? = $0 { s } else { "" } }), valid: valid)
        default: return nil
        }
        return SortedIndex.build([column])
    }

    /// Whether the index answers a comparison with `value` exactly as the scan would: the
    /// constant must be of the cast type (an integer within 2^53 for DOUBLE).
    func covers(_ value: FilterValue) -> Bool {
        switch (target.cast, value) {
        case (.bool, .bool), (.varchar, .string): true
        case (.double, .float(let f)): !f.isNaN
        case (.double, .int(let i)): i.magnitude <= 1 << 53
        default: false
        }
    }
}
