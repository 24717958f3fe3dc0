import ElanusCore
import ElanusProto
import ElanusGeometry
import Foundation

/// Columns between Milvus's `schema.FieldData` (what gRPC inserts and query results carry) and
/// Elanus's EntityBatch. Decoding checks each value with the same rules as REST rows
/// (`FieldValue.convert`: integer ranges, string lengths, array capacity, JSON, dimensions);
/// only float vectors, the bulk of a payload, take a direct path with the same checks.
enum GRPCFieldDataCodec {
    struct Decoded {
        var batch: EntityBatch
        var absentFields: [[Int64]]
    }

    static func decode(
        _ fieldsData: [Milvus_Proto_Schema_FieldData], numRows declared: UInt32, schema: CollectionSchema, options: EntityRowDecoder.Options
    ) throws(ElanusError) -> Decoded {
        var byName: [String: Milvus_Proto_Schema_FieldData] = [:]
        var dynamicData: Milvus_Proto_Schema_FieldData?
        for data in fieldsData {
            if data.isDynamic || data.fieldName == "$meta" {
                guard schema.enableDynamicField else { throw ElanusError.invalidParameter("the collection has no dynamic field, but $meta data was given") }
                dynamicData = data
                continue
            }
            guard schema.field(named: data.fieldName) != nil else {
                throw ElanusError.invalidParameter("field \(data.fieldName) does not exist in the collection schema")
            }
            guard byName.updateValue(data, forKey: data.fieldName) == nil else {
                throw ElanusError.invalidParameter("duplicated field name \(data.fieldName) in the request")
            }
        }
        let rows = Int(declared)
        guard rows > 0 else { throw ElanusError(.insertData, "fail to deal the insert data, error: num_rows is 0") }
        guard rows <= EntityRowDecoder.maxRows else {
            throw ElanusError(.insertData, "fail to deal the insert data: a batch may hold at most \(EntityRowDecoder.maxRows) rows; split it into several requests")
        }
        var columns: [Column] = []
        var absent = [[Int64]](repeating: [], count: options.partialUpdate ? rows : 0)
        for field in schema.fields {
            var builder = ColumnBuilder(field: field)
            builder.reserve(rows)
            let computed = schema.isFunctionOutput(field.name)
            if computed && byName[field.name] != nil { throw ElanusError.invalidParameter(EntityRowDecoder.functionOutputGiven(field)) }
            guard let data = byName[field.name] else {
                for row in 0..<rows {
                    if computed {
                        // Computed by the engine from the function's input, after decoding.
                        builder.append(.sparseVector(SparseVector(indices: [], values: [])))
                    } else if field.isPrimary && field.autoID && options.generatedPrimaryKey {
                        builder.append(.int(0))
                    } else if options.partialUpdate && !field.isPrimary {
                        absent[row].append(field.fieldID)
                        builder.append(field.nullable ? .null : FieldValue.zero(for: field))
                    } else if let value = FieldValue.missing(field) {
                        builder.append(value)
                    } else {
                        throw ElanusError.invalidParameter("fieldSchema(\(field.name)) has no corresponding fieldData pass in")
                    }
                }
                columns.append(builder.build())
                continue
            }
            if field.isPrimary && field.autoID && options.generatedPrimaryKey {
                throw ElanusError.invalidParameter("the primary key field '\(field.name)' is auto-generated (autoID); do not pass it")
            }
            try decodeColumn(data, field: field, rows: rows, timeZone: options.timeZone, into: &builder)
            columns.append(builder.build())
        }
        var dynamic: [JSON]?
        if schema.enableDynamicField {
            dynamic = [JSON](repeating: .object([]), count: rows)
            if let dynamicData {
                let documents = dynamicData.scalars.jsonData.data
                guard documents.count == rows else {
                    throw ElanusError.invalidParameter("the dynamic field $meta has \(documents.count) rows, but num_rows is \(rows)")
                }
                for (row, bytes) in documents.enumerated() {
                    guard let parsed = try? JSON.parse(Array(bytes)), case .object(let members) = parsed else {
                        throw ElanusError(.insertData, "row \(row): the dynamic field $meta must be a JSON object")
                    }
                    for member in members where schema.field(named: member.key) != nil {
                        throw ElanusError(.insertData, "row \(row): dynamic key \(member.key) is also a field of the schema")
                    }
                    dynamic?[row] = parsed
                }
            }
        }
        return Decoded(batch: EntityBatch(rowCount: rows, columns: columns, dynamic: dynamic), absentFields: absent)
    }

    private static func rowError(_ row: Int, _ field: FieldSchema, _ reason: String) -> ElanusError {
        ElanusError(.insertData, "fail to deal the insert data, error: row \(row), field \(field.name): \(reason)")
    }

    /// One field's column. With `valid_data`, null rows take the default value, else null; the
    /// values may list every row or only the valid ones, as pymilvus sends them.
    private static func decodeColumn(
        _ data: Milvus_Proto_Schema_FieldData, field: FieldSchema, rows: Int, timeZone: TimeZone, into builder: inout ColumnBuilder
    ) throws(ElanusError) {
        let valid = data.validData
        guard valid.isEmpty || valid.count == rows else {
            throw ElanusError.invalidParameter("field \(field.name): valid_data has \(valid.count) entries, but num_rows is \(rows)")
        }
        if !valid.isEmpty && !field.nullable && field.defaultValue == nil && valid.contains(false) {
            throw ElanusError.invalidParameter("field \(field.name) is not nullable and has no default value, but valid_data marks a row null")
        }
        let values = try rowValues(data, field: field)
        let validCount = valid.isEmpty ? rows : valid.reduce(0) { $0 + ($1 ? 1 : 0) }
        let compacted: Bool
        if values.count == rows {
            compacted = false
        } else if values.count == validCount {
            compacted = true
        } else {
            throw ElanusError.invalidParameter("the num_rows (\(rows)) of field \(field.name) doesn't equal to the number of its values (\(values.count))")
        }
        var next = 0
        for row in 0..<rows {
            let isValid = valid.isEmpty || valid[row]
            if !isValid {
                if !compacted { next += 1 }
                guard let value = FieldValue.missing(field) else { throw rowError(row, field, "null is not allowed") }
                builder.append(value)
                continue
            }
            let value = values[next]
            next += 1
            switch value {
            case .converted(let v): builder.append(v)
            case .json(let json):
                do { builder.append(try FieldValue.convert(json, for: field, row: row, timeZone: timeZone)) } catch { throw rowError(row, field, error.reason) }
            }
        }
    }

    private enum RowValue {
        case converted(FieldValue)
        case json(JSON)
    }

    /// Every value the field data carries, in order.
    private static func rowValues(_ data: Milvus_Proto_Schema_FieldData, field: FieldSchema) throws(ElanusError) -> [RowValue] {
        switch data.field {
        case .scalars(let scalars)?:
            return try scalarValues(scalars, field: field).map { .json($0) }
        case .vectors(let vectors)?:
            return try vectorValues(vectors, field: field)
        case nil:
            return []
        default:
            throw ElanusError.invalidParameter("field \(field.name): struct array data is not supported by Elanus yet")
        }
    }

    private static func scalarValues(_ scalars: Milvus_Proto_Schema_ScalarField, field: FieldSchema) throws(ElanusError) -> [JSON] {
        switch scalars.data {
        case .boolData(let a)?: return a.data.map { .bool($0) }
        case .intData(let a)?: return a.data.map { .int(Int64($0)) }
        case .longData(let a)?: return a.data.map { .int($0) }
        case .floatData(let a)?: return a.data.map { .double(Double($0)) }
        case .doubleData(let a)?: return a.data.map { .double($0) }
        case .stringData(let a)?: return a.data.map { .string($0) }
        case .geometryWktData(let a)?: return a.data.map { .string($0) }
        case .geometryData(let a)?:
            // WKB, as milvus-proto's GeometryArray carries it: read into WKT, then checked as text is.
            var out: [JSON] = []
            out.reserveCapacity(a.data.count)
            for (row, bytes) in a.data.enumerated() {
                do { out.append(.string(try GeometryText.normalize(wkb: Array(bytes)))) } catch {
                    throw rowError(row, field, "invalid WKB geometry: \(error.message)")
                }
            }
            return out
        case .jsonData(let a)?:
            // A JSON field's value arrives as text and is parsed by the field's own rules.
            return a.data.map { .string(String(decoding: $0, as: UTF8.self)) }
        case .arrayData(let a)?:
            var out: [JSON] = []
            out.reserveCapacity(a.data.count)
            for element in a.data { out.append(.array(try scalarValues(element, field: field))) }
            return out
        case nil: return []
        default: throw ElanusError.invalidParameter("field \(field.name): this kind of scalar data is not supported by Elanus yet")
        }
    }

    private static func vectorValues(_ vectors: Milvus_Proto_Schema_VectorField, field: FieldSchema) throws(ElanusError) -> [RowValue] {
        let dim = field.dim ?? 0
        switch (vectors.data, field.dataType) {
        case (.floatVector(let a)?, .floatVector):
            guard dim > 0, a.data.count % dim == 0 else {
                throw ElanusError.invalidParameter("the dim (\(dim)) of field \(field.name) does not divide the \(a.data.count) floats given")
            }
            var out: [RowValue] = []
            out.reserveCapacity(a.data.count / dim)
            for start in stride(from: 0, to: a.data.count, by: dim) {
                let row = Array(a.data[start..<start + dim])
                guard row.allSatisfy(\.isFinite) else { throw ElanusError.invalidParameter("float vector of field \(field.name) contains NaN or Inf") }
                out.append(.converted(.floatVector(row)))
            }
            return out
        case (.float16Vector(let bytes)?, .float16Vector), (.bfloat16Vector(let bytes)?, .bfloat16Vector):
            let width = dim * 2
            guard dim > 0, bytes.count % width == 0 else {
                throw ElanusError.invalidParameter("the dim (\(dim)) of field \(field.name) does not divide the \(bytes.count) bytes given")
            }
            let all = Array(bytes)
            return stride(from: 0, to: all.count, by: width).map { start in
                .converted(.halfVector((0..<dim).map { UInt16(all[start + 2 * $0]) | UInt16(all[start + 2 * $0 + 1]) << 8 }))
            }
        case (.int8Vector(let bytes)?, .int8Vector):
            guard dim > 0, bytes.count % dim == 0 else {
                throw ElanusError.invalidParameter("the dim (\(dim)) of field \(field.name) does not divide the \(bytes.count) bytes given")
            }
            let all = Array(bytes)
            return stride(from: 0, to: all.count, by: dim).map { start in .converted(.int8Vector(all[start..<start + dim].map { Int8(bitPattern: $0) })) }
        case (.binaryVector(let bytes)?, .binaryVector):
            let width = dim / 8
            guard width > 0, bytes.count % width == 0 else {
                throw ElanusError.invalidParameter("the dim (\(dim)) of field \(field.name) does not divide the \(bytes.count) bytes given")
            }
            let all = Array(bytes)
            return stride(from: 0, to: all.count, by: width).map { .converted(.binaryVector(Array(all[$0..<$0 + width]))) }
        case (.sparseFloatVector(let sparse)?, .sparseFloatVector):
            var out: [RowValue] = []
            for content in sparse.contents {
                let bytes = Array(content)
                guard bytes.count % 8 == 0 else { throw ElanusError.invalidParameter("a sparse vector row of field \(field.name) is not (uint32, float32) pairs") }
                var members: [(key: String, value: JSON)] = []
                for offset in stride(from: 0, to: bytes.count, by: 8) {
                    let index = UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
                    let bits = UInt32(bytes[offset + 4]) | UInt32(bytes[offset + 5]) << 8 | UInt32(bytes[offset + 6]) << 16 | UInt32(bytes[offset + 7]) << 24
                    members.append((key: String(index), value: .double(Double(Float(bitPattern: bits)))))
                }
                out.append(.json(.object(members)))
            }
            return out
        case (nil, _):
            return []
        default:
            throw ElanusError.invalidParameter("the vector data given for field \(field.name) does not match its type \(field.dataType.rawValue)")
        }
    }

    // MARK: - Encoding results

    /// The columns of `fields` (and the dynamic field's keys) for rows `refs`, as query and
    /// search results carry them. Nullable fields list every row, with `valid_data`.
    static func encode(
        _ refs: [(batch: EntityBatch, row: Int)], fields: [FieldSchema], dynamicKeys: [String]?, schema: CollectionSchema, timeZone: TimeZone = Timestamptz.utc
    ) -> [Milvus_Proto_Schema_FieldData] {
        var out: [Milvus_Proto_Schema_FieldData] = []
        for field in fields {
            var data = Milvus_Proto_Schema_FieldData()
            data.fieldName = field.name
            data.fieldID = field.fieldID
            data.type = GRPCSchemaCodec.proto(field.dataType)
            let values = refs.map { ref in ref.batch.column(field.fieldID)?.value(at: ref.row) ?? .null }
            if field.nullable { data.validData = values.map { $0 != .null } }
            encode(values, field: field, timeZone: timeZone, into: &data)
            out.append(data)
        }
        if schema.enableDynamicField {
            var data = Milvus_Proto_Schema_FieldData()
            data.fieldName = "$meta"
            data.type = .json
            data.isDynamic = true
            var json = Milvus_Proto_Schema_JSONArray()
            json.data = refs.map { ref in
                var members: [(key: String, value: JSON)] = []
                if case .object(let extra)? = ref.batch.dynamic?[ref.row] {
                    members = extra.filter { dynamicKeys == nil || dynamicKeys!.contains($0.key) }
                }
                return Data(JSON.object(members).serializedBytes())
            }
            var scalars = Milvus_Proto_Schema_ScalarField()
            scalars.jsonData = json
            data.scalars = scalars
            out.append(data)
        }
        return out
    }

    private static func encode(_ values: [FieldValue], field: FieldSchema, timeZone: TimeZone, into data: inout Milvus_Proto_Schema_FieldData) {
        var scalars = Milvus_Proto_Schema_ScalarField()
        var vectors = Milvus_Proto_Schema_VectorField()
        vectors.dim = Int64(field.dim ?? 0)
        switch field.dataType {
        case .bool:
            var a = Milvus_Proto_Schema_BoolArray()
            a.data = values.map { if case .bool(let b) = $0 { b } else { false } }
            scalars.boolData = a
        case .int8, .int16, .int32:
            var a = Milvus_Proto_Schema_IntArray()
            a.data = values.map { if case .int(let i) = $0 { Int32(clamping: i) } else { 0 } }
            scalars.intData = a
        case .int64:
            var a = Milvus_Proto_Schema_LongArray()
            a.data = values.map { if case .int(let i) = $0 { i } else { 0 } }
            scalars.longData = a
        case .float:
            var a = Milvus_Proto_Schema_FloatArray()
            a.data = values.map { if case .float(let f) = $0 { f } else { 0 } }
            scalars.floatData = a
        case .double:
            var a = Milvus_Proto_Schema_DoubleArray()
            a.data = values.map { if case .double(let d) = $0 { d } else { 0 } }
            scalars.doubleData = a
        case .geometry:
            // WKT, in the slot pymilvus reads a Geometry from.
            var a = Milvus_Proto_Schema_GeometryWktArray()
            a.data = values.map { if case .string(let s) = $0 { s } else { "" } }
            scalars.geometryWktData = a
        case .timestamptz:
            // As Milvus 2.6 answers: RFC 3339 text in the zone that applies (pymilvus reads string_data).
            var a = Milvus_Proto_Schema_StringArray()
            a.data = values.map { if case .int(let i) = $0 { Timestamptz.format(i, zone: timeZone) } else { "" } }
            scalars.stringData = a
        case .varChar, .string, .text:
            var a = Milvus_Proto_Schema_StringArray()
            a.data = values.map { if case .string(let s) = $0 { s } else { "" } }
            scalars.stringData = a
        case .json:
            var a = Milvus_Proto_Schema_JSONArray()
            a.data = values.map { if case .json(let j) = $0 { Data(j.serializedBytes()) } else { Data() } }
            scalars.jsonData = a
        case .array:
            var a = Milvus_Proto_Schema_ArrayArray()
            let element = field.elementType ?? .int64
            a.elementType = GRPCSchemaCodec.proto(element)
            a.data = values.map { value in
                guard case .json(.array(let items)) = value else { return Milvus_Proto_Schema_ScalarField() }
                return arrayCell(items, element: element)
            }
            scalars.arrayData = a
        case .floatVector:
            var a = Milvus_Proto_Schema_FloatArray()
            a.data.reserveCapacity(values.count * (field.dim ?? 0))
            for value in values { if case .floatVector(let v) = value { a.data.append(contentsOf: v) } }
            vectors.floatVector = a
        case .float16Vector, .bfloat16Vector:
            var bytes = Data()
            for value in values {
                if case .halfVector(let bits) = value { for b in bits { bytes.append(contentsOf: [UInt8(b & 0xFF), UInt8(b >> 8)]) } }
            }
            if field.dataType == .float16Vector { vectors.float16Vector = bytes } else { vectors.bfloat16Vector = bytes }
        case .int8Vector:
            var bytes = Data()
            bytes.reserveCapacity(values.count * (field.dim ?? 0))
            for value in values { if case .int8Vector(let v) = value { bytes.append(contentsOf: v.map { UInt8(bitPattern: $0) }) } }
            vectors.int8Vector = bytes
        case .binaryVector:
            var bytes = Data()
            for value in values { if case .binaryVector(let b) = value { bytes.append(contentsOf: b) } }
            vectors.binaryVector = bytes
        case .sparseFloatVector:
            var sparse = Milvus_Proto_Schema_SparseFloatArray()
            var maxDim: Int64 = 0
            for value in values {
                var row = Data()
                if case .sparseVector(let v) = value {
                    for (index, x) in zip(v.indices, v.values) {
                        maxDim = max(maxDim, Int64(index) + 1)
                        withUnsafeBytes(of: index.littleEndian) { row.append(contentsOf: $0) }
                        withUnsafeBytes(of: x.bitPattern.littleEndian) { row.append(contentsOf: $0) }
                    }
                }
                sparse.contents.append(row)
            }
            sparse.dim = maxDim
            vectors.dim = maxDim
            vectors.sparseFloatVector = sparse
        default:
            break
        }
        if field.dataType.isVector { data.vectors = vectors } else { data.scalars = scalars }
    }

    private static func arrayCell(_ items: [JSON], element: DataType) -> Milvus_Proto_Schema_ScalarField {
        var cell = Milvus_Proto_Schema_ScalarField()
        switch element {
        case .bool:
            var a = Milvus_Proto_Schema_BoolArray()
            a.data = items.map { if case .bool(let b) = $0 { b } else { false } }
            cell.boolData = a
        case .int8, .int16, .int32:
            var a = Milvus_Proto_Schema_IntArray()
            a.data = items.map { if case .int(let i) = $0 { Int32(clamping: i) } else { 0 } }
            cell.intData = a
        case .int64:
            var a = Milvus_Proto_Schema_LongArray()
            a.data = items.map { if case .int(let i) = $0 { i } else { 0 } }
            cell.longData = a
        case .float:
            var a = Milvus_Proto_Schema_FloatArray()
            a.data = items.map { number($0).map(Float.init) ?? 0 }
            cell.floatData = a
        case .double:
            var a = Milvus_Proto_Schema_DoubleArray()
            a.data = items.map { number($0) ?? 0 }
            cell.doubleData = a
        default:
            var a = Milvus_Proto_Schema_StringArray()
            a.data = items.map { if case .string(let s) = $0 { s } else { $0.serialized() } }
            cell.stringData = a
        }
        return cell
    }

    private static func number(_ json: JSON) -> Double? {
        switch json {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }

    /// Primary keys as Milvus's `schema.IDs`.
    static func ids(_ keys: [PrimaryKey], type: DataType) -> Milvus_Proto_Schema_IDs {
        var ids = Milvus_Proto_Schema_IDs()
        if type == .varChar {
            var a = Milvus_Proto_Schema_StringArray()
            a.data = keys.map { if case .string(let s) = $0 { s } else { $0.description } }
            ids.strID = a
        } else {
            var a = Milvus_Proto_Schema_LongArray()
            a.data = keys.map { if case .int(let i) = $0 { i } else { 0 } }
            ids.intID = a
        }
        return ids
    }
}
