import ElanusGeometry

/// Limits from Milvus's paramtable that schema validation enforces.
public struct SchemaLimits: Sendable {
    public var maxNameLength = 255
    public var maxFields = 64
    public var maxVectorFields = 10
    public var maxShards = 16
    public var maxPartitions = 1024
    public var maxDim = 32768
    public var maxVarCharLength = 65535
    public var maxArrayCapacity = 4096

    public init() {}
}

/// What a name names, for validation messages ("Invalid collection name: ...").
public enum NameKind: String, Sendable {
    case collection, field, database, partition, alias, index
}

/// Milvus's naming rule for collections, fields, databases, partitions and aliases: a letter or
/// `_` first, then letters, digits or `_`, at most 255 characters.
public func validateName(_ name: String, kind: NameKind, limits: SchemaLimits = SchemaLimits()) throws(ElanusError) {
    func invalid(_ reason: String) -> ElanusError {
        let message = "Invalid \(kind.rawValue) name: \(name). \(reason)"
        return kind == .database ? ElanusError(.databaseInvalidName, message) : .invalidParameter(message)
    }
    guard let first = name.unicodeScalars.first else { throw invalid("\(kind.rawValue) name should not be empty") }
    if name.utf8.count > limits.maxNameLength {
        throw invalid("the length of a \(kind.rawValue) name must be less than \(limits.maxNameLength) characters")
    }
    func isLetter(_ s: Unicode.Scalar) -> Bool { (s >= "a" && s <= "z") || (s >= "A" && s <= "Z") }
    guard first == "_" || isLetter(first) else {
        throw invalid("the first character of a \(kind.rawValue) name must be an underscore or letter")
    }
    for s in name.unicodeScalars where !(s == "_" || isLetter(s) || (s >= "0" && s <= "9")) {
        throw invalid("\(kind.rawValue) name can only contain numbers, letters and underscores")
    }
}

extension CollectionSchema {
    /// Checks everything Milvus checks when a collection is created; throws 1100 with the reason.
    public func validate(limits: SchemaLimits = SchemaLimits()) throws(ElanusError) {
        if fields.count > limits.maxFields {
            throw .invalidParameter("maximum field's number should be limited to \(limits.maxFields)")
        }
        var seen = Set<String>()
        for field in fields {
            try validateName(field.name, kind: .field, limits: limits)
            if field.name == "$meta" { throw .invalidParameter("field name $meta is reserved for the dynamic field") }
            guard seen.insert(field.name).inserted else { throw .invalidParameter("duplicated field name: \(field.name)") }
            try field.validate(limits: limits)
        }

        let primaries = fields.filter(\.isPrimary)
        guard let primary = primaries.first else { throw .invalidParameter("primary key is not specified") }
        if primaries.count > 1 {
            throw .invalidParameter("there are more than one primary key, field name = \(primaries[1].name)")
        }
        guard primary.dataType == .int64 || primary.dataType == .varChar else {
            throw .invalidParameter("the data type of primary key should be Int64 or VarChar")
        }
        if primary.nullable { throw .invalidParameter("primary field not support null") }
        if primary.defaultValue != nil { throw .invalidParameter("primary field not support default_value") }

        let vectors = vectorFields
        if vectors.isEmpty { throw .invalidParameter("schema does not contain vector field") }
        if vectors.count > limits.maxVectorFields {
            throw .invalidParameter("maximum vector field's number should be limited to \(limits.maxVectorFields)")
        }

        let partitionKeys = fields.filter(\.isPartitionKey)
        if partitionKeys.count > 1 { throw .invalidParameter("there are more than one partition key") }
        if let key = partitionKeys.first {
            if key.isPrimary { throw .invalidParameter("the partition key field must not be primary field") }
            guard key.dataType == .int64 || key.dataType == .varChar else {
                throw .invalidParameter("the data type of partition key should be Int64 or VarChar")
            }
            if key.nullable { throw .invalidParameter("partition key field not support nullable") }
        }
        if fields.filter(\.isClusteringKey).count > 1 {
            throw .invalidParameter("there are more than one clustering key")
        }
        try validateFunctions()
    }
}

extension FieldSchema {
    func validate(limits: SchemaLimits) throws(ElanusError) {
        guard dataType.isSupportedFieldType else {
            if dataType == .string {
                throw .invalidParameter("string data type not supported yet, please use VarChar type instead")
            }
            throw .invalidParameter("data type \(dataType.rawValue) of field \(name) is not supported by Elanus yet")
        }
        try validateText()
        if dataType == .varChar || (dataType == .array && elementType == .varChar) {
            try validateMaxLength(limits: limits)
        }
        if dataType.isDenseVector {
            guard let text = typeParams["dim"] else {
                throw .invalidParameter("dimension is not defined in field type params of field \(name)")
            }
            guard let dim = Int(text) else { throw .invalidParameter("dim of field \(name) should be an integer, got \(text)") }
            guard dim >= 1 && dim <= limits.maxDim else {
                throw .invalidParameter("invalid dimension: \(dim) of field \(name). should be in range 1 ~ \(limits.maxDim)")
            }
            if dataType == .binaryVector && dim % 8 != 0 {
                throw .invalidParameter("invalid dimension: \(dim) of field \(name). binary vector dimension should be multiple of 8")
            }
        }
        if dataType == .sparseFloatVector && typeParams["dim"] != nil {
            throw .invalidParameter("dim should not be specified for sparse vector field \(name)")
        }
        if dataType == .array {
            guard let element = elementType else {
                throw .invalidParameter("element data type is required for array field \(name)")
            }
            guard element.isValidArrayElement else {
                throw .invalidParameter("element data type \(element.rawValue) is not valid for array field \(name)")
            }
            guard let text = typeParams["max_capacity"] else {
                throw .invalidParameter("type param(max_capacity) should be specified for array field \(name)")
            }
            guard let capacity = Int(text), capacity >= 1 && capacity <= limits.maxArrayCapacity else {
                throw .invalidParameter(
                    "the maximum capacity specified for a Array should be in (0, \(limits.maxArrayCapacity)], but got \(text) for field \(name)")
            }
        } else if elementType != nil {
            throw .invalidParameter("elementDataType is only valid for Array fields, field \(name) is \(dataType.rawValue)")
        }
        if dataType.isVector {
            if nullable { throw .invalidParameter("vector field \(name) does not support nullable") }
            if defaultValue != nil { throw .invalidParameter("vector field \(name) does not support default_value") }
            if isPartitionKey { throw .invalidParameter("the data type of partition key should be Int64 or VarChar") }
        }
        if dataType == .timestamptz, let value = defaultValue {
            // An instant, or ISO text still to be read in the collection's zone (see
            // `resolveTimestamptzDefault`).
            let valid: Bool =
                switch value {
                case .int: true
                case .string(let text): Timestamptz.parse(text, zone: Timestamptz.utc) != nil
                default: false
                }
            if !valid { throw .invalidParameter("the default value of Timestamptz field \(name) must be an ISO 8601 time") }
        }
        if (dataType == .json || dataType == .array) && defaultValue != nil && !isPrimary {
            throw .invalidParameter("\(dataType.rawValue) field \(name) does not support default_value")
        }
        if case .string(let s)? = defaultValue, let maxLength, s.utf8.count > maxLength {
            throw .invalidParameter(
                "the length (\(s.utf8.count)) of string exceeds max length (\(maxLength)) of default value of field \(name)")
        }
    }

    private func validateMaxLength(limits: SchemaLimits) throws(ElanusError) {
        guard let text = typeParams["max_length"] else {
            throw .invalidParameter("type param(max_length) should be specified for the field(\(name)) of collection")
        }
        guard let length = Int(text), length >= 1 && length <= limits.maxVarCharLength else {
            throw .invalidParameter(
                "the maximum length specified for the field(\(name)) should be in (0, \(limits.maxVarCharLength)], but got \(text) instead")
        }
    }
}

extension ScalarValue {
    /// Converts a JSON default value for a field of `type`. Milvus requires the JSON type to
    /// match the field type exactly ("convert defaultValue fail").
    public static func defaultValue(from json: JSON, for type: DataType, field: String) throws(ElanusError) -> ScalarValue {
        func fail(_ why: String) -> ElanusError {
            .invalidParameter("convert defaultValue fail, field \(field): \(why)")
        }
        switch (type, json) {
        case (.bool, .bool(let b)): return .bool(b)
        case (.int8, .int(let i)), (.int16, .int(let i)), (.int32, .int(let i)), (.int64, .int(let i)):
            let range: ClosedRange<Int64> =
                switch type {
                case .int8: Int64(Int8.min)...Int64(Int8.max)
                case .int16: Int64(Int16.min)...Int64(Int16.max)
                case .int32: Int64(Int32.min)...Int64(Int32.max)
                default: Int64.min...Int64.max
                }
            guard range.contains(i) else { throw fail("value \(i) is out of range for \(type.rawValue)") }
            return .int(i)
        case (.float, .int(let i)): return .float(Float(i))
        case (.float, .double(let d)):
            guard abs(d) <= Double(Float.greatestFiniteMagnitude) else { throw fail("value \(d) is out of range for Float") }
            return .float(Float(d))
        case (.double, .int(let i)): return .double(Double(i))
        case (.double, .double(let d)): return .double(d)
        case (.varChar, .string(let s)): return .string(s)
        case (.geometry, .string(let s)):
            guard let text = try? GeometryText.normalize(wkt: s) else { throw fail("\(s) is not a WKT geometry") }
            return .string(text)
        case (.timestamptz, .string(let s)):
            // Kept as its text until the catalog knows the collection's zone, which reads it when
            // it has no offset; it is stored as the instant (see `resolveTimestamptzDefault`).
            guard Timestamptz.parse(s, zone: Timestamptz.utc) != nil else { throw fail("\(s) is not an ISO 8601 time") }
            return .string(s)
        default:
            throw fail("\(json.typeName) value does not match data type \(type.rawValue)")
        }
    }
}
