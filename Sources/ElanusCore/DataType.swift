/// Milvus's DataType enum (milvus-proto schema.proto), spelled exactly as the REST API spells it.
/// Names are matched case-sensitively: "VARCHAR" is not a type.
public enum DataType: String, CaseIterable, Codable, Sendable {
    case bool = "Bool"
    case int8 = "Int8"
    case int16 = "Int16"
    case int32 = "Int32"
    case int64 = "Int64"
    case float = "Float"
    case double = "Double"
    case string = "String"
    case varChar = "VarChar"
    case array = "Array"
    case json = "JSON"
    case geometry = "Geometry"
    case text = "Text"
    case timestamptz = "Timestamptz"
    case binaryVector = "BinaryVector"
    case floatVector = "FloatVector"
    case float16Vector = "Float16Vector"
    case bfloat16Vector = "BFloat16Vector"
    case sparseFloatVector = "SparseFloatVector"
    case int8Vector = "Int8Vector"
    case arrayOfVector = "ArrayOfVector"
    case arrayOfStruct = "ArrayOfStruct"
    case structType = "Struct"

    /// The numeric value of the proto enum.
    public var protoValue: Int {
        switch self {
        case .bool: 1
        case .int8: 2
        case .int16: 3
        case .int32: 4
        case .int64: 5
        case .float: 10
        case .double: 11
        case .string: 20
        case .varChar: 21
        case .array: 22
        case .json: 23
        case .geometry: 24
        case .text: 25
        case .timestamptz: 26
        case .binaryVector: 100
        case .floatVector: 101
        case .float16Vector: 102
        case .bfloat16Vector: 103
        case .sparseFloatVector: 104
        case .int8Vector: 105
        case .arrayOfVector: 106
        case .arrayOfStruct: 200
        case .structType: 201
        }
    }

    public var isVector: Bool {
        switch self {
        case .binaryVector, .floatVector, .float16Vector, .bfloat16Vector, .sparseFloatVector, .int8Vector, .arrayOfVector: true
        default: false
        }
    }

    /// Vector types that carry a fixed `dim`.
    public var isDenseVector: Bool { isVector && self != .sparseFloatVector && self != .arrayOfVector }

    public var isInteger: Bool { self == .int8 || self == .int16 || self == .int32 || self == .int64 }

    /// Types Elanus stores. The rest are recognised (so the error can say so) but refused.
    public var isSupportedFieldType: Bool {
        switch self {
        case .bool, .int8, .int16, .int32, .int64, .float, .double, .varChar, .array, .json, .timestamptz, .geometry,
            .binaryVector, .floatVector, .float16Vector, .bfloat16Vector, .sparseFloatVector, .int8Vector:
            true
        default: false
        }
    }

    /// Element types an Array field may hold.
    public var isValidArrayElement: Bool {
        switch self {
        case .bool, .int8, .int16, .int32, .int64, .float, .double, .varChar: true
        default: false
        }
    }
}
