import ElanusCore

/// A decoded JSON request body with typed, Milvus-flavoured accessors:
/// - an empty body is refused with 1801 and the literal `null` reads as `{}`, as gin does;
/// - a value of the wrong JSON type is 1801 with Go's "cannot unmarshal" wording;
/// - a missing required key (`binding:"required"`) is 1802 naming the Go struct field.
struct RequestBody {
    let members: [(key: String, value: JSON)]
    /// The Go request struct name, used in error messages (e.g. "CollectionNameReq").
    let structName: String

    init(bytes: [UInt8], structName: String) throws(ElanusError) {
        self.structName = structName
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

    init(members: [(key: String, value: JSON)], structName: String) {
        self.members = members
        self.structName = structName
    }

    subscript(key: String) -> JSON? { members.last(where: { $0.key == key })?.value }

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

    /// A string value; `required` treats "" as missing, as Go's validator does.
    func string(_ key: String, required: Bool = false) throws(ElanusError) -> String? {
        switch self[key] {
        case nil, .null?:
            if required { throw missing(key) }
            return nil
        case .string(let s)?:
            if required && s.isEmpty { throw missing(key) }
            return s
        case let value?:
            throw wrongType(key, value, expected: "string")
        }
    }

    func int(_ key: String, required: Bool = false) throws(ElanusError) -> Int64? {
        switch self[key] {
        case nil, .null?:
            if required { throw missing(key) }
            return nil
        case .int(let i)?: return i
        case let value?: throw wrongType(key, value, expected: "int64")
        }
    }

    func bool(_ key: String) throws(ElanusError) -> Bool? {
        switch self[key] {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        case let value?: throw wrongType(key, value, expected: "bool")
        }
    }

    func object(_ key: String, required: Bool = false) throws(ElanusError) -> RequestBody? {
        switch self[key] {
        case nil, .null?:
            if required { throw missing(key) }
            return nil
        case .object(let m)?: return RequestBody(members: m, structName: structName)
        case let value?: throw wrongType(key, value, expected: "map[string]interface {}")
        }
    }

    func array(_ key: String, required: Bool = false) throws(ElanusError) -> [JSON]? {
        switch self[key] {
        case nil, .null?:
            if required { throw missing(key) }
            return nil
        case .array(let a)?: return a
        case let value?: throw wrongType(key, value, expected: "[]")
        }
    }

    func stringArray(_ key: String, required: Bool = false) throws(ElanusError) -> [String]? {
        guard let array = try array(key, required: required) else { return nil }
        var out: [String] = []
        for element in array {
            guard case .string(let s) = element else { throw wrongType(key, element, expected: "[]string") }
            out.append(s)
        }
        return out
    }

    /// A `{k: v}` object whose values Milvus stringifies (properties, type params).
    func stringMap(_ key: String) throws(ElanusError) -> [KeyValue]? {
        guard let object = try object(key) else { return nil }
        return object.members.map { KeyValue($0.key, RequestBody.stringify($0.value)) }
    }

    /// Strings stay as they are; numbers, bools and objects become their JSON text.
    static func stringify(_ value: JSON) -> String {
        if case .string(let s) = value { return s }
        return value.serialized()
    }
}
