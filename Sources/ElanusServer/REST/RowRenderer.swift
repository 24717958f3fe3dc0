import ElanusCore
import Foundation

/// Renders stored rows as Milvus's REST API returns them (section 4.4 of the reference):
/// JSON fields as JSON text strings, Array fields in their typed proto wrapper, binary and
/// half-precision vectors as base64, sparse vectors as `{"index": value}`, dynamic keys
/// flattened into the row, and Int64 as strings when the client disallows 64-bit integers.
struct RowRenderer {
    let schema: CollectionSchema
    /// The schema fields to output, in schema order.
    let fields: [FieldSchema]
    /// Dynamic keys to output: nil for all of them (`*`), else the names asked for.
    let dynamicKeys: [String]?
    let allowInt64: Bool
    /// The zone Timestamptz values are written in (the request's, else the collection's).
    let timeZone: TimeZone

    /// `outputFields` as Milvus reads them: `*` (or nothing) means every field and dynamic key;
    /// names not in the schema are dynamic keys when the dynamic field is on. The primary key is
    /// always included.
    init(schema: CollectionSchema, outputFields: [String], allowInt64: Bool, timeZone: TimeZone = Timestamptz.utc) throws(ElanusError) {
        self.schema = schema
        self.allowInt64 = allowInt64
        self.timeZone = timeZone
        let all = outputFields.isEmpty || outputFields.contains("*")
        var named = Set<String>()
        var dynamic: [String] = []
        for name in outputFields where name != "*" {
            if schema.field(named: name) != nil {
                // A BM25 output is an index input, not data: Milvus never returns it.
                if schema.bm25Function(output: name) != nil { throw .invalidParameter("not allowed to retrieve raw data of field \(name)") }
                named.insert(name)
            } else if schema.enableDynamicField {
                dynamic.append(name == "$meta" ? "*" : name)
            } else {
                throw ElanusError(.fieldNotFound, "field \(name) not exist: field not found[field=\(name)]")
            }
        }
        fields = schema.fields.filter { (all && schema.bm25Function(output: $0.name) == nil) || named.contains($0.name) || $0.isPrimary }
        dynamicKeys = all || dynamic.contains("*") ? nil : dynamic
    }

    /// The zone Timestamptz output is written in: the body's `timezone` (or its `searchParams`'),
    /// else the collection's, else its database's, else UTC.
    static func timeZone(_ body: RequestBody, info: CollectionInfo, context: RouteContext) throws(ElanusError) -> TimeZone {
        var requested = try body.string(Timestamptz.propertyKey)
        if requested == nil, case .string(let text)? = try body.map("searchParams")?[Timestamptz.propertyKey] { requested = text }
        return try context.engine.timeZone(info, requested: requested)
    }

    func render(_ batch: EntityBatch) -> [JSON] {
        let columns = fields.map { field in (field, batch.column(field.fieldID)) }
        return (0..<batch.rowCount).map { row in render(row, batch, columns) }
    }

    /// Rows where they lie (search hits): only the output fields are read, so a hit's vector
    /// is never copied unless it is asked for.
    func render(_ refs: [(batch: EntityBatch, row: Int)]) -> [JSON] {
        refs.map { ref in render(ref.row, ref.batch, fields.map { field in (field, ref.batch.column(field.fieldID)) }) }
    }

    /// One row where it lies.
    func render(row: Int, of batch: EntityBatch) -> JSON {
        render(row, batch, fields.map { field in (field, batch.column(field.fieldID)) })
    }

    private func render(_ row: Int, _ batch: EntityBatch, _ columns: [(FieldSchema, Column?)]) -> JSON {
        var members: [(key: String, value: JSON)] = []
        members.reserveCapacity(columns.count + 1)
        for (field, column) in columns {
            members.append((key: field.name, value: column.map { render($0.value(at: row), field) } ?? .null))
        }
        if schema.enableDynamicField, case .object(let extra)? = batch.dynamic?[row] {
            for member in extra where dynamicKeys == nil || dynamicKeys!.contains(member.key) {
                members.append(member)
            }
        }
        return .object(members)
    }

    func render(_ value: FieldValue, _ field: FieldSchema) -> JSON {
        switch value {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i):
            if field.dataType == .timestamptz { return .string(Timestamptz.format(i, zone: timeZone)) }
            return field.dataType == .int64 && !allowInt64 ? .string(String(i)) : .int(i)
        case .float(let f): return RowRenderer.float(f)
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .json(let j):
            if field.dataType == .array { return arrayWrapper(j, element: field.elementType ?? .int64) }
            return .string(j.serialized())
        case .floatVector(let v): return .array(v.map(RowRenderer.float))
        case .binaryVector(let bytes): return .string(Base64.encode(bytes))
        case .halfVector(let bits):
            var bytes: [UInt8] = []
            bytes.reserveCapacity(bits.count * 2)
            for b in bits { bytes += [UInt8(b & 0xFF), UInt8(b >> 8)] }
            return .string(Base64.encode(bytes))
        case .int8Vector(let v): return .array(v.map { .int(Int64($0)) })
        case .sparseVector(let v):
            return .object(zip(v.indices, v.values).map { (key: String($0), value: RowRenderer.float($1)) })
        }
    }

    /// A float32 printed with float32 precision (0.1 stays 0.1), as Go prints float32.
    static func float(_ f: Float) -> JSON { .double(Double(f.description) ?? Double(f)) }

    /// `{"Data":{"LongData":{"data":[1,2]}}}` and friends.
    func arrayWrapper(_ value: JSON, element: DataType) -> JSON {
        let key: String =
            switch element {
            case .bool: "BoolData"
            case .int8, .int16, .int32: "IntData"
            case .int64: "LongData"
            case .float: "FloatData"
            case .double: "DoubleData"
            default: "StringData"
            }
        guard case .array(let items) = value else { return .null }
        let data: [JSON] = element == .float ? items.map { if case .double(let d) = $0 { RowRenderer.float(Float(d)) } else { $0 } } : items
        let inner: JSON = .object([(key: "data", value: .array(data))])
        return .object([(key: "Data", value: .object([(key: key, value: inner)]))])
    }
}
