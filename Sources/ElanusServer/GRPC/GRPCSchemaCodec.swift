import ElanusCore
import ElanusEngine
import ElanusProto
import Foundation

/// Collection schemas between Milvus's `schema.CollectionSchema` and Elanus's. Decoding keeps
/// what the client said; the schema rules themselves are ElanusCore's validator's, applied when
/// the catalog creates the collection, exactly as for REST.
enum GRPCSchemaCodec {
    static func dataType(_ proto: Milvus_Proto_Schema_DataType) throws(ElanusError) -> DataType {
        guard let type = DataType.allCases.first(where: { $0.protoValue == proto.rawValue }) else {
            throw .invalidParameter("data type \(proto.rawValue) is not a Milvus data type")
        }
        return type
    }

    static func proto(_ type: DataType) -> Milvus_Proto_Schema_DataType {
        Milvus_Proto_Schema_DataType(rawValue: type.protoValue) ?? .none
    }

    static func decode(_ bytes: Data) throws(ElanusError) -> CollectionSchema {
        let message: Milvus_Proto_Schema_CollectionSchema
        do { message = try Milvus_Proto_Schema_CollectionSchema(serializedBytes: bytes) } catch {
            throw .invalidParameter("the schema is not a serialized milvus.proto.schema.CollectionSchema: \(error)")
        }
        guard message.structArrayFields.isEmpty else { throw .invalidParameter("struct array fields are not supported by Elanus yet") }
        var fields: [FieldSchema] = []
        // The dynamic field `$meta` is implied by enable_dynamic_field; clients that list it
        // (marked is_dynamic) describe the same thing.
        for field in message.fields where !field.isDynamic {
            fields.append(try decode(field))
        }
        // The schema-level autoID is deprecated in Milvus but still applied to the primary key.
        if message.autoID, let i = fields.firstIndex(where: \.isPrimary) { fields[i].autoID = true }
        var schema = CollectionSchema(fields: fields, enableDynamicField: message.enableDynamicField, description: message.description_p)
        schema.functions = try message.functions.map(decode)
        return schema
    }

    static func decode(_ function: Milvus_Proto_Schema_FunctionSchema) throws(ElanusError) -> FunctionSchema {
        guard let type = FunctionSchema.Kind(protoValue: function.type.rawValue) else {
            throw .invalidParameter("function \(function.name) has an unknown type \(function.type.rawValue)")
        }
        return FunctionSchema(
            name: function.name, description: function.description_p, type: type, inputFieldNames: function.inputFieldNames,
            outputFieldNames: function.outputFieldNames, params: GRPCServerMethods.keyValues(function.params))
    }

    static func encode(_ function: FunctionSchema, schema: CollectionSchema) -> Milvus_Proto_Schema_FunctionSchema {
        var message = Milvus_Proto_Schema_FunctionSchema()
        message.name = function.name
        message.description_p = function.description
        message.type = Milvus_Proto_Schema_FunctionType(rawValue: function.type.protoValue) ?? .unknown
        message.inputFieldNames = function.inputFieldNames
        message.outputFieldNames = function.outputFieldNames
        message.inputFieldIds = function.inputFieldNames.compactMap { schema.field(named: $0)?.fieldID }
        message.outputFieldIds = function.outputFieldNames.compactMap { schema.field(named: $0)?.fieldID }
        message.params = GRPCServerMethods.proto(function.params)
        return message
    }

    static func decode(_ field: Milvus_Proto_Schema_FieldSchema) throws(ElanusError) -> FieldSchema {
        let type = try dataType(field.dataType)
        var decoded = FieldSchema(
            name: field.name, description: field.description_p, dataType: type,
            elementType: field.elementType == .none ? nil : try dataType(field.elementType), isPrimary: field.isPrimaryKey,
            isPartitionKey: field.isPartitionKey, isClusteringKey: field.isClusteringKey, autoID: field.autoID, nullable: field.nullable,
            typeParams: GRPCServerMethods.keyValues(field.typeParams))
        if field.hasDefaultValue, let value = field.defaultValue.data {
            decoded.defaultValue = try defaultValue(value, type: type, field: field.name)
        }
        return decoded
    }

    private static func defaultValue(_ value: Milvus_Proto_Schema_ValueField.OneOf_Data, type: DataType, field: String) throws(ElanusError) -> ScalarValue {
        switch value {
        case .stringData(let s) where type == .timestamptz:
            // pymilvus sends a Timestamptz default as its ISO text; it is kept as the instant.
            return try ScalarValue.defaultValue(from: .string(s), for: type, field: field)
        case .timestamptzData(let i): return .int(i)
        case .boolData(let b): return .bool(b)
        case .intData(let i): return .int(Int64(i))
        case .longData(let i): return .int(i)
        case .floatData(let f): return .float(f)
        case .doubleData(let d): return .double(d)
        case .stringData(let s): return .string(s)
        default: throw .invalidParameter("the default value of field \(field) has a type Elanus does not take for \(type.rawValue)")
        }
    }

    /// The dynamic field is not listed (Milvus's proxy leaves it out of DescribeCollection too):
    /// `enable_dynamic_field` says it is there.
    static func encode(_ schema: CollectionSchema, name: String, zone: TimeZone) -> Milvus_Proto_Schema_CollectionSchema {
        var message = Milvus_Proto_Schema_CollectionSchema()
        message.name = name
        message.description_p = schema.description
        message.enableDynamicField = schema.enableDynamicField
        message.fields = schema.fields.map { encode($0, zone: zone) }
        for i in message.fields.indices where schema.isFunctionOutput(message.fields[i].name) { message.fields[i].isFunctionOutput = true }
        message.functions = schema.functions.map { encode($0, schema: schema) }
        return message
    }

    /// A Timestamptz default is sent as its RFC 3339 text in `zone` (`string_data`), as Milvus's
    /// DescribeCollection rewrites it.
    static func encode(_ field: FieldSchema, zone: TimeZone) -> Milvus_Proto_Schema_FieldSchema {
        var message = Milvus_Proto_Schema_FieldSchema()
        message.fieldID = field.fieldID
        message.name = field.name
        message.description_p = field.description
        message.dataType = proto(field.dataType)
        if let element = field.elementType { message.elementType = proto(element) }
        message.isPrimaryKey = field.isPrimary
        message.isPartitionKey = field.isPartitionKey
        message.isClusteringKey = field.isClusteringKey
        message.autoID = field.autoID
        message.nullable = field.nullable
        message.typeParams = GRPCServerMethods.proto(field.typeParams)
        if let value = field.defaultValue {
            var proto = Milvus_Proto_Schema_ValueField()
            switch value {
            case .bool(let b): proto.boolData = b
            case .int(let i):
                switch field.dataType {
                case .int64: proto.longData = i
                case .timestamptz: proto.stringData = Timestamptz.format(i, zone: zone)
                default: proto.intData = Int32(clamping: i)
                }
            case .float(let f): proto.floatData = f
            case .double(let d): proto.doubleData = d
            case .string(let s): proto.stringData = s
            }
            message.defaultValue = proto
        }
        return message
    }

    static func consistency(_ level: Milvus_Proto_Common_ConsistencyLevel) -> ConsistencyLevel {
        switch level {
        case .strong: .strong
        case .session: .session
        case .bounded: .bounded
        case .eventually: .eventually
        default: .customized
        }
    }

    static func proto(_ level: ConsistencyLevel) -> Milvus_Proto_Common_ConsistencyLevel {
        switch level {
        case .strong: .strong
        case .session: .session
        case .bounded: .bounded
        case .eventually: .eventually
        case .customized: .customized
        }
    }
}
