/// Builds one column row by row. Each storage type has its own array, so every append is an
/// amortised O(1) in-place append (an enum payload cannot be grown in place).
public struct ColumnBuilder: Sendable {
    enum Storage: Sendable {
        case bool, int8, int16, int32, int64, float, double, string, json, floatVector, binaryVector, halfVector, int8Vector, sparseVector
    }

    public let fieldID: Int64
    public let width: Int
    let storage: Storage
    var bools: [Bool] = []
    var ints: [Int64] = []
    var floats: [Float] = []
    var doubles: [Double] = []
    var strings: [String] = []
    var jsons: [JSON] = []
    var bytes: [UInt8] = []
    var halves: [UInt16] = []
    var signedBytes: [Int8] = []
    var sparse: [SparseVector] = []
    var valid: [Bool]?
    public private(set) var rowCount = 0

    /// An empty builder for `field`'s storage type.
    public init(field: FieldSchema) {
        let dim = field.dim ?? 1
        fieldID = field.fieldID
        switch field.dataType {
        case .binaryVector: width = dim / 8
        case .floatVector, .float16Vector, .bfloat16Vector, .int8Vector: width = dim
        default: width = 1
        }
        storage = ColumnBuilder.storage(for: .empty(for: field.dataType))
        valid = field.nullable ? [] : nil
    }

    /// An empty builder with the same shape as `column`.
    public init(like column: Column) {
        fieldID = column.fieldID
        width = column.width
        storage = ColumnBuilder.storage(for: column.values)
        valid = column.valid == nil ? nil : []
    }

    static func storage(for values: ColumnValues) -> Storage {
        switch values {
        case .bool: .bool
        case .int8: .int8
        case .int16: .int16
        case .int32: .int32
        case .int64: .int64
        case .float: .float
        case .double: .double
        case .string: .string
        case .json: .json
        case .floatVector, .borrowedFloatVector: .floatVector
        case .binaryVector: .binaryVector
        case .halfVector: .halfVector
        case .int8Vector: .int8Vector
        case .sparseVector: .sparseVector
        }
    }

    public mutating func reserve(_ rows: Int) {
        switch storage {
        case .floatVector: floats.reserveCapacity(rows * width)
        case .int8, .int16, .int32, .int64: ints.reserveCapacity(rows)
        case .string: strings.reserveCapacity(rows)
        default: break
        }
    }

    /// Appends a value already checked against the field (the decoders' job); `.null` appends an
    /// invalid slot holding a zero value.
    public mutating func append(_ value: FieldValue) {
        rowCount += 1
        if valid != nil { valid!.append(value != .null) }
        switch storage {
        case .bool:
            if case .bool(let v) = value { bools.append(v) } else { bools.append(false) }
        case .int8, .int16, .int32, .int64:
            if case .int(let v) = value { ints.append(v) } else { ints.append(0) }
        case .float:
            if case .float(let v) = value { floats.append(v) } else { floats.append(0) }
        case .double:
            if case .double(let v) = value { doubles.append(v) } else { doubles.append(0) }
        case .string:
            if case .string(let v) = value { strings.append(v) } else { strings.append("") }
        case .json:
            if case .json(let v) = value { jsons.append(v) } else { jsons.append(.null) }
        case .floatVector:
            if case .floatVector(let v) = value { floats.append(contentsOf: v) } else { floats.append(contentsOf: repeatElement(0, count: width)) }
        case .binaryVector:
            if case .binaryVector(let v) = value { bytes.append(contentsOf: v) } else { bytes.append(contentsOf: repeatElement(0, count: width)) }
        case .halfVector:
            if case .halfVector(let v) = value { halves.append(contentsOf: v) } else { halves.append(contentsOf: repeatElement(0, count: width)) }
        case .int8Vector:
            if case .int8Vector(let v) = value { signedBytes.append(contentsOf: v) } else { signedBytes.append(contentsOf: repeatElement(0, count: width)) }
        case .sparseVector:
            if case .sparseVector(let v) = value { sparse.append(v) } else { sparse.append(SparseVector(indices: [], values: [])) }
        }
    }

    /// The hot path of float-vector decoding: appends one row's floats without boxing them.
    public mutating func appendFloatRow(_ row: UnsafeBufferPointer<Float>) {
        rowCount += 1
        if valid != nil { valid!.append(true) }
        floats.append(contentsOf: row)
    }

    public func build() -> Column {
        let values: ColumnValues
        switch storage {
        case .bool: values = .bool(bools)
        case .int8: values = .int8(ints.map { Int8(truncatingIfNeeded: $0) })
        case .int16: values = .int16(ints.map { Int16(truncatingIfNeeded: $0) })
        case .int32: values = .int32(ints.map { Int32(truncatingIfNeeded: $0) })
        case .int64: values = .int64(ints)
        case .float: values = .float(floats)
        case .double: values = .double(doubles)
        case .string: values = .string(strings)
        case .json: values = .json(jsons)
        case .floatVector: values = .floatVector(floats)
        case .binaryVector: values = .binaryVector(bytes)
        case .halfVector: values = .halfVector(halves)
        case .int8Vector: values = .int8Vector(signedBytes)
        case .sparseVector: values = .sparseVector(sparse)
        }
        return Column(fieldID: fieldID, width: width, values: values, valid: valid)
    }
}
