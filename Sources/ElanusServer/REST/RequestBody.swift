import ElanusCore

/// A decoded JSON request body with typed, Milvus-flavoured accessors:
/// - an empty body is refused with 1801 and the literal `null` reads as `{}`, as gin does;
/// - a value of the wrong JSON type is 1801 with Go's "cannot unmarshal" wording;
/// - a missing required key (`binding:"required"`) is 1802 naming the Go struct field.
///
/// Keys are found the way Go's `encoding/json` finds them (GoJSON.keyMatches): the body of a Go
/// struct (`keys == .goStruct`) matches a key to a field exactly or case-insensitively, so
/// `CollectionName`, `collectionname` and `collectionName` are the same field; the body of a Go
/// map (`params`, `properties`, `exprParams`, `searchParams`, ...) matches exactly. Every key
/// that matches a field is decoded into it in order, as Go does:
/// - into a scalar field (string, number, bool) the last value wins and `null` changes nothing;
/// - into a map or an `interface{}` field `null` clears it, and maps merge key by key;
/// - into a nested struct every object merges into the same struct;
/// - into a slice the last array wins, element by element into a slice of structs.
/// A value of the wrong type in any of them is an error, as Go reports it.
struct RequestBody {
    enum Keys {
        /// The body of a Go struct: fields matched as `encoding/json` matches them.
        case goStruct
        /// The body of a Go map: keys are data, matched exactly.
        case exact
    }

    let members: [(key: String, value: JSON)]
    /// The Go request struct name, used in error messages (e.g. "CollectionNameReq").
    let structName: String
    let keys: Keys

    init(bytes: [UInt8], structName: String) throws(ElanusError) {
        self.structName = structName
        keys = .goStruct
        try RequestBody.checkNotEmpty(bytes)
        let json: JSON
        do { json = try JSON.parse(bytes) } catch {
            throw ElanusError(.invalidJSON, "can only accept json format request, error: \(error.description)")
        }
        switch json {
        case .null: members = []
        case .object(let m): members = m
        default:
            throw ElanusError(.invalidJSON, "can only accept json format request, error: json: cannot unmarshal \(json.typeName) into Go value of type httpserver.\(structName)")
        }
    }

    /// gin refuses a body of nothing but white space (the literal `null` is fine).
    static func checkNotEmpty(_ bytes: [UInt8]) throws(ElanusError) {
        guard bytes.contains(where: { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D) }) else {
            throw ElanusError(.invalidJSON, "can only accept json format request, the request body should be nil, however {} is valid")
        }
    }

    init(members: [(key: String, value: JSON)], structName: String, keys: Keys = .goStruct) {
        self.members = members
        self.structName = structName
        self.keys = keys
    }

    /// Whether the member key `key` is the field (or map key) `name`.
    func matches(_ key: String, _ name: String) -> Bool {
        switch keys {
        case .goStruct: GoJSON.keyMatches(key, field: name)
        case .exact: key.utf8.elementsEqual(name.utf8)
        }
    }

    /// Every value given for `name`, in body order.
    func occurrences(_ name: String) -> [JSON] {
        // A filter, not `compactMap { ... ? value : nil }`: JSON is nil-literal expressible,
        // so that `nil` would be a JSON null, not a missing value.
        members.filter { matches($0.key, name) }.map(\.value)
    }

    /// The value of an `interface{}` field (or a map entry): the last one given, `null` included.
    subscript(key: String) -> JSON? { members.last(where: { matches($0.key, key) })?.value }

    /// The first value of exactly `key`, as Milvus reads a few keys with gjson (`gjson.Get`
    /// stops at the first match and is case-sensitive): insert and search `data`, get's `id`.
    func firstExact(_ key: String) -> JSON? { members.first(where: { $0.key.utf8.elementsEqual(key.utf8) })?.value }

    private func goField(_ key: String) -> String { key.prefix(1).uppercased() + key.dropFirst() }

    func missing(_ key: String) -> ElanusError {
        let field = goField(key)
        return ElanusError(
            .missingRequired,
            "missing required parameters, error: Key: '\(structName).\(field)' Error:Field validation for '\(field)' failed on the 'required' tag")
    }

    func wrongType(_ key: String, _ value: JSON, expected: String) -> ElanusError {
        ElanusError(
            .invalidJSON,
            "can only accept json format request, error: json: cannot unmarshal \(value.typeName) into Go struct field \(structName).\(key) of type \(expected)")
    }

    /// The value of a scalar field: in a struct, the last non-null value (each checked by
    /// `accepts`); in a map, the last value, where `null` means none.
    private func scalar(_ key: String, expected: String, _ accepts: (JSON) -> Bool) throws(ElanusError) -> JSON? {
        var result: JSON?
        for value in occurrences(key) {
            if value.isNull {
                if keys == .exact { result = nil }
                continue
            }
            guard accepts(value) else { throw wrongType(key, value, expected: expected) }
            result = value
        }
        return result
    }

    /// A string value; `required` treats "" as missing, as Go's validator does.
    func string(_ key: String, required: Bool = false) throws(ElanusError) -> String? {
        guard case .string(let s)? = try scalar(key, expected: "string", { if case .string = $0 { true } else { false } }) else {
            if required { throw missing(key) }
            return nil
        }
        if required && s.isEmpty { throw missing(key) }
        return s
    }

    func int(_ key: String, required: Bool = false) throws(ElanusError) -> Int64? {
        guard case .int(let i)? = try scalar(key, expected: "int64", { if case .int = $0 { true } else { false } }) else {
            if required { throw missing(key) }
            return nil
        }
        return i
    }

    func bool(_ key: String) throws(ElanusError) -> Bool? {
        guard case .bool(let b)? = try scalar(key, expected: "bool", { if case .bool = $0 { true } else { false } }) else { return nil }
        return b
    }

    /// A nested Go struct (`schema`, `rerank`): every object given merges into one, and `null`
    /// changes nothing. Its own keys are matched as struct fields.
    func structure(_ key: String, structName: String? = nil) throws(ElanusError) -> RequestBody? {
        var merged: [(key: String, value: JSON)]?
        for value in occurrences(key) {
            switch value {
            case .null: continue
            // Appended in place: a key repeated many times must not copy the members each time.
            case .object(let m):
                if merged == nil { merged = m } else { merged!.append(contentsOf: m) }
            default: throw wrongType(key, value, expected: "httpserver.\(structName ?? goField(key))")
            }
        }
        return merged.map { RequestBody(members: $0, structName: structName ?? self.structName) }
    }

    /// A Go map (`params`, `properties`, `exprParams`, `searchParams`): objects merge, `null`
    /// clears it, and its keys are matched exactly.
    func map(_ key: String) throws(ElanusError) -> RequestBody? {
        var merged: [(key: String, value: JSON)]?
        for value in occurrences(key) {
            switch value {
            case .null: merged = nil
            case .object(let m):
                if merged == nil { merged = m } else { merged!.append(contentsOf: m) }
            default: throw wrongType(key, value, expected: "map[string]interface {}")
            }
        }
        return merged.map { RequestBody(members: $0, structName: structName, keys: .exact) }
    }

    /// A slice: the last array given (`null` clears it).
    func array(_ key: String, required: Bool = false) throws(ElanusError) -> [JSON]? {
        var result: [JSON]?
        for value in occurrences(key) {
            switch value {
            case .null: result = nil
            case .array(let a): result = a
            default: throw wrongType(key, value, expected: "[]")
            }
        }
        if result == nil && required { throw missing(key) }
        return result
    }

    /// A slice of Go structs (`schema.fields`, `indexParams`, `search`). Go decodes a second
    /// array into the elements the first one left, so a repeated key merges element by element.
    func records(_ key: String, structName: String, required: Bool = false) throws(ElanusError) -> [RequestBody]? {
        var result: [[(key: String, value: JSON)]]?
        for value in occurrences(key) {
            switch value {
            case .null: result = nil
            case .array(let elements):
                let previous = result ?? []
                var next: [[(key: String, value: JSON)]] = []
                for (i, element) in elements.enumerated() {
                    let base = i < previous.count ? previous[i] : []
                    switch element {
                    case .null: next.append(base)
                    case .object(let m): next.append(base + m)
                    default: throw wrongType(key, element, expected: "httpserver.\(structName)")
                    }
                }
                result = next
            default: throw wrongType(key, value, expected: "[]httpserver.\(structName)")
            }
        }
        if result == nil && required { throw missing(key) }
        return result?.map { RequestBody(members: $0, structName: structName) }
    }

    func stringArray(_ key: String, required: Bool = false) throws(ElanusError) -> [String]? {
        var result: [String]?
        for value in occurrences(key) {
            switch value {
            case .null: result = nil
            case .array(let elements):
                var strings: [String] = []
                for element in elements {
                    guard case .string(let s) = element else { throw wrongType(key, element, expected: "[]string") }
                    strings.append(s)
                }
                result = strings
            default: throw wrongType(key, value, expected: "[]string")
            }
        }
        if result == nil && required { throw missing(key) }
        return result
    }

    /// A `{k: v}` map whose values Milvus stringifies (properties, type params); a repeated key
    /// keeps its last value, in the place it first had.
    func stringMap(_ key: String) throws(ElanusError) -> [KeyValue]? {
        guard let map = try map(key) else { return nil }
        var pairs: [KeyValue] = []
        // Key -> its place in `pairs`: linear in the members, however many there are.
        var places: [String: Int] = [:]
        for member in map.members {
            let value = RequestBody.stringify(member.value)
            if let i = places[member.key] {
                pairs[i].value = value
            } else {
                places[member.key] = pairs.count
                pairs.append(KeyValue(member.key, value))
            }
        }
        return pairs
    }

    /// Strings stay as they are; numbers, bools and objects become their JSON text.
    static func stringify(_ value: JSON) -> String {
        if case .string(let s) = value { return s }
        return value.serialized()
    }
}
