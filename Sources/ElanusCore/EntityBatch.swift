/// A primary key value: Milvus allows Int64 and VarChar primary keys.
public enum PrimaryKey: Hashable, Sendable, CustomStringConvertible {
    case int(Int64)
    case string(String)

    public var description: String {
        switch self {
        case .int(let i): String(i)
        case .string(let s): "\"\(s)\""
        }
    }
}

/// A sparse vector: strictly increasing indices, each with its value.
public struct SparseVector: Equatable, Sendable {
    public var indices: [UInt32]
    public var values: [Float]
    public init(indices: [UInt32], values: [Float]) {
        self.indices = indices
        self.values = values
    }
}

/// One field's value in one row, the unit that decoders produce and renderers consume.
public enum FieldValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case float(Float)
    case double(Double)
    case string(String)
    /// A JSON field's document, or an Array field's elements as a JSON array.
    case json(JSON)
    case floatVector([Float])
    /// A binary vector's bytes (dim / 8 of them).
    case binaryVector([UInt8])
    /// Float16 or BFloat16 bit patterns, one per dimension.
    case halfVector([UInt16])
    /// An Int8Vector's values, one per dimension.
    case int8Vector([Int8])
    case sparseVector(SparseVector)
}

/// A column's values, in the storage type of its field. Nullable slots hold a zero value and are
/// marked invalid in `Column.valid`. JSON and Array fields both hold JSON values.
public enum ColumnValues: Equatable, Sendable {
    case bool([Bool])
    case int8([Int8])
    case int16([Int16])
    case int32([Int32])
    case int64([Int64])
    case float([Float])
    case double([Double])
    case string([String])
    case json([JSON])
    /// Row-major, `dim` floats per row.
    case floatVector([Float])
    /// The same, borrowed from an index that keeps the raw vectors (a flushed segment's column
    /// once its index is built; see FloatRows).
    case borrowedFloatVector(FloatRows)
    /// Row-major, `dim / 8` bytes per row.
    case binaryVector([UInt8])
    /// Row-major, `dim` bit patterns per row (Float16 or BFloat16, as the field says).
    case halfVector([UInt16])
    /// Row-major, `dim` signed bytes per row: an Int8Vector is kept as int8 (a quarter of the
    /// floats' memory), converted to floats only where a kernel or an index needs them.
    case int8Vector([Int8])
    case sparseVector([SparseVector])

    /// An empty column for a field's type.
    public static func empty(for type: DataType) -> ColumnValues {
        switch type {
        case .bool: .bool([])
        case .int8: .int8([])
        case .int16: .int16([])
        case .int32: .int32([])
        case .int64, .timestamptz: .int64([])
        case .float: .float([])
        case .double: .double([])
        case .varChar, .string, .text, .geometry: .string([])
        case .floatVector: .floatVector([])
        case .binaryVector: .binaryVector([])
        case .float16Vector, .bfloat16Vector: .halfVector([])
        case .int8Vector: .int8Vector([])
        case .sparseFloatVector: .sparseVector([])
        default: .json([])
        }
    }
}

/// One field's column in a batch.
public struct Column: Equatable, Sendable {
    public var fieldID: Int64
    /// Elements per row for vector columns (dim for float and half vectors, dim/8 for binary),
    /// 1 otherwise.
    public var width: Int
    public var values: ColumnValues
    /// Per row, whether the value is present; nil when every value is (non-nullable fields).
    public var valid: [Bool]?

    public init(fieldID: Int64, width: Int = 1, values: ColumnValues, valid: [Bool]? = nil) {
        self.fieldID = fieldID
        self.width = width
        self.values = values
        self.valid = valid
    }

    public var rowCount: Int {
        switch values {
        case .bool(let a): a.count
        case .int8(let a): a.count
        case .int16(let a): a.count
        case .int32(let a): a.count
        case .int64(let a): a.count
        case .float(let a): a.count
        case .double(let a): a.count
        case .string(let a): a.count
        case .json(let a): a.count
        case .floatVector(let a): a.count / max(width, 1)
        case .borrowedFloatVector(let a): a.buffer.count / max(width, 1)
        case .binaryVector(let a): a.count / max(width, 1)
        case .halfVector(let a): a.count / max(width, 1)
        case .int8Vector(let a): a.count / max(width, 1)
        case .sparseVector(let a): a.count
        }
    }

    /// The value at `row`.
    public func value(at row: Int) -> FieldValue {
        if let valid, !valid[row] { return .null }
        let w = width
        switch values {
        case .bool(let a): return .bool(a[row])
        case .int8(let a): return .int(Int64(a[row]))
        case .int16(let a): return .int(Int64(a[row]))
        case .int32(let a): return .int(Int64(a[row]))
        case .int64(let a): return .int(a[row])
        case .float(let a): return .float(a[row])
        case .double(let a): return .double(a[row])
        case .string(let a): return .string(a[row])
        case .json(let a): return .json(a[row])
        case .floatVector(let a): return .floatVector(Array(a[row * w..<(row + 1) * w]))
        case .borrowedFloatVector(let a): return .floatVector(Array(a.buffer[row * w..<(row + 1) * w]))
        case .binaryVector(let a): return .binaryVector(Array(a[row * w..<(row + 1) * w]))
        case .halfVector(let a): return .halfVector(Array(a[row * w..<(row + 1) * w]))
        case .int8Vector(let a): return .int8Vector(Array(a[row * w..<(row + 1) * w]))
        case .sparseVector(let a): return .sparseVector(a[row])
        }
    }

    /// The rows at `indices`, in that order.
    public func rows(_ indices: [Int]) -> Column {
        var builder = ColumnBuilder(like: self)
        for i in indices { builder.append(value(at: i)) }
        return builder.build()
    }
}

/// Rows of one collection in columnar form: one column per schema field (in schema order), plus
/// the dynamic field's `$meta` objects when the schema has one.
public struct EntityBatch: Equatable, Sendable {
    public var rowCount: Int
    public var columns: [Column]
    /// One JSON object per row (empty objects for rows without dynamic keys).
    public var dynamic: [JSON]?

    public init(rowCount: Int = 0, columns: [Column], dynamic: [JSON]? = nil) {
        self.rowCount = rowCount
        self.columns = columns
        self.dynamic = dynamic
    }

    public func column(_ fieldID: Int64) -> Column? { columns.first(where: { $0.fieldID == fieldID }) }

    /// The batch with borrowed vector columns copied into arrays of its own (only `fields`'
    /// columns when given).
    public func owned(_ fields: Set<Int64>? = nil) -> EntityBatch {
        var out = self
        for c in out.columns.indices where fields?.contains(out.columns[c].fieldID) ?? true {
            if case .borrowedFloatVector(let rows) = out.columns[c].values { out.columns[c].values = .floatVector(Array(rows.buffer)) }
        }
        return out
    }

    /// The rows at `indices`, in that order.
    public func rows(_ indices: [Int]) -> EntityBatch {
        EntityBatch(rowCount: indices.count, columns: columns.map { $0.rows(indices) }, dynamic: dynamic.map { d in indices.map { d[$0] } })
    }
}

extension EntityBatch {
    /// One batch made of rows taken from other batches, in the order given, with `shape`'s
    /// columns. Columns are matched by field id, not position: a batch written before a field
    /// was added lacks its column (the row reads null), and one read under a newer schema than
    /// `shape`'s has a column more (left out).
    public static func gather(_ rows: [(batch: EntityBatch, row: Int)], shape: EntityBatch) -> EntityBatch {
        var builders = shape.columns.map { ColumnBuilder(like: $0) }
        var dynamic: [JSON]? = shape.dynamic == nil ? nil : []
        for (batch, row) in rows {
            for c in builders.indices {
                let id = builders[c].fieldID
                // Same schema, same positions: the common case needs no search.
                let column = c < batch.columns.count && batch.columns[c].fieldID == id ? batch.columns[c] : batch.column(id)
                builders[c].append(column?.value(at: row) ?? .null)
            }
            dynamic?.append(batch.dynamic?[row] ?? .object([]))
        }
        return EntityBatch(rowCount: rows.count, columns: builders.map { $0.build() }, dynamic: dynamic)
    }

    /// An empty batch with one column per field of `schema`.
    public init(emptyFor schema: CollectionSchema) {
        self.init(rowCount: 0, columns: schema.fields.map { ColumnBuilder(field: $0).build() }, dynamic: schema.enableDynamicField ? [] : nil)
    }
}

extension EntityBatch {
    /// Approximate in-memory bytes of the column data (strings and JSON estimated), for seal
    /// policies and memory reports; not an exact accounting.
    public var estimatedBytes: Int {
        var total = 0
        for column in columns {
            switch column.values {
            case .bool(let a): total += a.count
            case .int8(let a): total += a.count
            case .int16(let a): total += a.count * 2
            case .int32(let a): total += a.count * 4
            case .int64(let a): total += a.count * 8
            case .float(let a): total += a.count * 4
            case .double(let a): total += a.count * 8
            case .string(let a): total += a.reduce(0) { $0 + $1.utf8.count + 16 }
            case .json(let a): total += a.count * 64
            case .floatVector(let a): total += a.count * 4
            case .borrowedFloatVector: break  // the index's memory
            case .binaryVector(let a): total += a.count
            case .halfVector(let a): total += a.count * 2
            case .int8Vector(let a): total += a.count
            case .sparseVector(let a): total += a.reduce(0) { $0 + $1.indices.count * 8 + 16 }
            }
            total += column.valid?.count ?? 0
        }
        return total + (dynamic?.count ?? 0) * 64
    }
}
