/// A key/value pair as Milvus lists type params and properties: `[{"key":"dim","value":"128"}]`.
public struct KeyValue: Codable, Equatable, Sendable {
    public var key: String
    public var value: String
    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }
}

extension Array where Element == KeyValue {
    public subscript(key: String) -> String? { last(where: { $0.key == key })?.value }

    /// Sets `key` to `value`, keeping the position of an existing key.
    public mutating func set(_ key: String, _ value: String) {
        if let i = firstIndex(where: { $0.key == key }) { self[i].value = value } else { append(KeyValue(key, value)) }
    }
}

/// A field's default value, typed by the field's data type.
public enum ScalarValue: Codable, Equatable, Sendable {
    case bool(Bool)
    case int(Int64)
    case float(Float)
    case double(Double)
    case string(String)
}

/// One field of a collection schema, as the catalog stores it.
public struct FieldSchema: Codable, Equatable, Sendable {
    public var fieldID: Int64
    public var name: String
    public var description: String
    public var dataType: DataType
    /// The element type of an Array field.
    public var elementType: DataType?
    public var isPrimary: Bool
    public var isPartitionKey: Bool
    public var isClusteringKey: Bool
    public var autoID: Bool
    public var nullable: Bool
    public var defaultValue: ScalarValue?
    /// Type params in the order the user gave them (`dim`, `max_length`, `max_capacity`, ...),
    /// with values as strings, the way Milvus keeps them.
    public var typeParams: [KeyValue]

    public init(
        fieldID: Int64 = 0, name: String, description: String = "", dataType: DataType, elementType: DataType? = nil,
        isPrimary: Bool = false, isPartitionKey: Bool = false, isClusteringKey: Bool = false, autoID: Bool = false,
        nullable: Bool = false, defaultValue: ScalarValue? = nil, typeParams: [KeyValue] = []
    ) {
        self.fieldID = fieldID
        self.name = name
        self.description = description
        self.dataType = dataType
        self.elementType = elementType
        self.isPrimary = isPrimary
        self.isPartitionKey = isPartitionKey
        self.isClusteringKey = isClusteringKey
        self.autoID = autoID
        self.nullable = nullable
        self.defaultValue = defaultValue
        self.typeParams = typeParams
    }

    public var dim: Int? { typeParams["dim"].flatMap { Int($0) } }
    public var maxLength: Int? { typeParams["max_length"].flatMap { Int($0) } }
    public var maxCapacity: Int? { typeParams["max_capacity"].flatMap { Int($0) } }
}

/// A collection's schema. The hidden dynamic field `$meta` is implied by `enableDynamicField`.
public struct CollectionSchema: Codable, Equatable, Sendable {
    public var fields: [FieldSchema]
    public var enableDynamicField: Bool
    public var description: String
    /// Functions that compute fields (BM25). Catalogs written before functions existed have none.
    public var functions: [FunctionSchema]

    public init(fields: [FieldSchema], enableDynamicField: Bool = false, description: String = "", functions: [FunctionSchema] = []) {
        self.fields = fields
        self.enableDynamicField = enableDynamicField
        self.description = description
        self.functions = functions
    }

    private enum CodingKeys: String, CodingKey { case fields, enableDynamicField, description, functions }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        fields = try c.decode([FieldSchema].self, forKey: .fields)
        enableDynamicField = try c.decode(Bool.self, forKey: .enableDynamicField)
        description = try c.decode(String.self, forKey: .description)
        functions = try c.decodeIfPresent([FunctionSchema].self, forKey: .functions) ?? []
    }

    public var primaryField: FieldSchema? { fields.first(where: \.isPrimary) }
    public var vectorFields: [FieldSchema] { fields.filter { $0.dataType.isVector } }
    public var partitionKeyField: FieldSchema? { fields.first(where: \.isPartitionKey) }
    public func field(named name: String) -> FieldSchema? { fields.first(where: { $0.name == name }) }
}

/// Milvus consistency levels. `Customized` is accepted as Milvus accepts it.
public enum ConsistencyLevel: String, CaseIterable, Codable, Sendable {
    case strong = "Strong"
    case session = "Session"
    case bounded = "Bounded"
    case eventually = "Eventually"
    case customized = "Customized"

    public static func parse(_ text: String) throws(ElanusError) -> ConsistencyLevel {
        guard let level = ConsistencyLevel(rawValue: text) else {
            throw ElanusError.invalidParameter(
                "consistencyLevel can only be [Strong, Session, Bounded, Eventually, Customized], default: Bounded, got: \(text)")
        }
        return level
    }
}
