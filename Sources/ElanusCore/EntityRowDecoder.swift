import ElanusGeometry
import Foundation

/// Decodes the `data` rows of an insert or upsert (`[{"id":1,"vector":[...],...}, ...]`) straight
/// from the request bytes into columns, checking every value against the schema.
///
/// Float vectors, the bulk of every payload, are read number by number into the column without
/// building JSON values; everything else goes through `JSON` values and `FieldValue.convert`.
/// The first bad row stops decoding, so a batch with one bad row writes nothing.
public struct EntityRowDecoder {
    public struct Options: Sendable {
        /// An autoID primary key must be absent; the decoder fills a placeholder the engine replaces.
        public var generatedPrimaryKey = false
        /// Upsert with `partialUpdate`: absent fields are reported instead of defaulted.
        public var partialUpdate = false
        /// The zone of Timestamptz values given without an offset (the collection's or database's).
        public var timeZone = Timestamptz.utc
        public init(generatedPrimaryKey: Bool = false, partialUpdate: Bool = false, timeZone: TimeZone = Timestamptz.utc) {
            self.generatedPrimaryKey = generatedPrimaryKey
            self.partialUpdate = partialUpdate
            self.timeZone = timeZone
        }
    }

    /// Rows one insert or upsert may carry. The body-size limit alone would let a body of tiny
    /// rows become millions of rows held at once; bigger loads belong in several batches.
    public static let maxRows = 100_000

    public struct Result: Sendable {
        public var batch: EntityBatch
        /// For partial updates: per row, the IDs of the fields the row did not give.
        public var absentFields: [[Int64]]
    }

    let schema: CollectionSchema
    let options: Options
    let fieldIndex: [String: Int]
    /// Per field: a function (BM25) computes it, so rows must not carry it.
    let functionOutput: [Bool]

    public init(schema: CollectionSchema, options: Options) {
        self.schema = schema
        self.options = options
        var index: [String: Int] = [:]
        for (i, field) in schema.fields.enumerated() { index[field.name] = i }
        fieldIndex = index
        functionOutput = schema.fields.map { schema.isFunctionOutput($0.name) }
    }

    /// Milvus's refusal of a value for a function's output field.
    public static func functionOutputGiven(_ field: FieldSchema) -> String {
        "attempt to insert bm25 function output field \(field.name): the server computes it from the function's input"
    }

    /// Decodes the array at the reader's cursor.
    public func decode(_ reader: inout JSONReader) throws(ElanusError) -> Result {
        var builders = schema.fields.map { ColumnBuilder(field: $0) }
        var dynamic: [JSON]? = schema.enableDynamicField ? [] : nil
        var absent: [[Int64]] = []
        var seen = [Bool](repeating: false, count: schema.fields.count)
        var floatScratch: [Float] = []
        var row = 0
        do {
            guard reader.peek() == UInt8(ascii: "[") else {
                var probe = reader
                let value = try probe.readValue()
                throw ElanusError(
                    .invalidJSON,
                    "can only accept json format request, error: json: cannot unmarshal \(value.typeName) into Go struct field .data of type []map[string]interface {}")
            }
            try reader.beginArray()
            var firstRow = true
            while try reader.nextElement(&firstRow) {
                guard row < EntityRowDecoder.maxRows else {
                    throw ElanusError(.insertData, "fail to deal the insert data: a batch may hold at most \(EntityRowDecoder.maxRows) rows; split it into several requests")
                }
                guard reader.peek() == UInt8(ascii: "{") else {
                    throw rowError(row, "a row must be a JSON object, got \(try reader.readValue().typeName)")
                }
                try reader.beginObject()
                for i in seen.indices { seen[i] = false }
                var extra: [(key: String, value: JSON)] = []
                var firstKey = true
                while let key = try reader.nextMember(&firstKey) {
                    guard let i = fieldIndex[key] else {
                        if key == "$meta" { throw rowError(row, "the key $meta is reserved for the dynamic field and cannot be given in a row") }
                        guard dynamic != nil else {
                            throw rowError(row, "field '\(key)' is not in the schema: has pass more field without dynamic schema, please check it")
                        }
                        if extra.contains(where: { $0.key == key }) { throw rowError(row, "duplicated key '\(key)' in the row") }
                        extra.append((key: key, value: try reader.readValue()))
                        continue
                    }
                    let field = schema.fields[i]
                    if functionOutput[i] { throw ElanusError.invalidParameter(EntityRowDecoder.functionOutputGiven(field)) }
                    if seen[i] { throw rowError(row, "duplicated field '\(key)' in the row") }
                    seen[i] = true
                    if field.isPrimary && field.autoID && options.generatedPrimaryKey {
                        throw rowError(row, "the primary key field '\(key)' is auto-generated (autoID); do not pass it")
                    }
                    if field.dataType == .floatVector, reader.peek() == UInt8(ascii: "[") {
                        let start = reader.index
                        if try readFloats(&reader, into: &floatScratch) {
                            guard floatScratch.count == field.dim else {
                                throw rowError(row, field, "the dimension is \(field.dim ?? 0) but the vector has \(floatScratch.count) elements")
                            }
                            floatScratch.withUnsafeBufferPointer { builders[i].appendFloatRow($0) }
                            continue
                        }
                        reader.rewind(to: start)  // not all numbers: take the general path for the error
                    }
                    let value = try reader.readValue()
                    do {
                        builders[i].append(try FieldValue.convert(value, for: field, row: row, timeZone: options.timeZone))
                    } catch {
                        throw rowError(row, field, error.reason)
                    }
                }
                var rowAbsent: [Int64] = []
                for (i, field) in schema.fields.enumerated() where !seen[i] {
                    if functionOutput[i] {
                        // Computed by the engine from the function's input, after decoding.
                        builders[i].append(.sparseVector(SparseVector(indices: [], values: [])))
                    } else if field.isPrimary && field.autoID && options.generatedPrimaryKey {
                        builders[i].append(.int(0))
                    } else if options.partialUpdate && !field.isPrimary {
                        rowAbsent.append(field.fieldID)
                        builders[i].append(field.nullable ? .null : FieldValue.zero(for: field))
                    } else if let value = FieldValue.missing(field) {
                        builders[i].append(value)
                    } else if field.dataType.isVector {
                        throw rowError(row, field, "the vector field is missing from the row")
                    } else {
                        throw rowError(row, field, "the field is missing from the row and is neither nullable nor has a default value")
                    }
                }
                if options.partialUpdate { absent.append(rowAbsent) }
                dynamic?.append(.object(extra))
                row += 1
            }
        } catch let error as JSONParseError {
            throw ElanusError(.invalidJSON, "can only accept json format request, error: \(error.description)")
        } catch let error as ElanusError {
            throw error
        } catch {
            throw .unexpected("\(error)")
        }
        if row == 0 { throw ElanusError(.insertData, "fail to deal the insert data, error: no rows in data") }
        return Result(batch: EntityBatch(rowCount: row, columns: builders.map { $0.build() }, dynamic: dynamic), absentFields: absent)
    }

    /// Reads `[n, n, ...]` into `out` if every element is a number; false (cursor wherever) if not.
    private func readFloats(_ reader: inout JSONReader, into out: inout [Float]) throws(JSONParseError) -> Bool {
        out.removeAll(keepingCapacity: true)
        try reader.beginArray()
        var first = true
        while try reader.nextElement(&first) {
            guard let d = try reader.readDouble() else { return false }
            let f = Float(d)
            if !f.isFinite { return false }
            out.append(f)
        }
        return true
    }

    func rowError(_ row: Int, _ reason: String) -> ElanusError {
        ElanusError(.insertData, "fail to deal the insert data, error: row \(row): \(reason)")
    }

    func rowError(_ row: Int, _ field: FieldSchema, _ reason: String) -> ElanusError {
        rowError(row, "field '\(field.name)' (\(field.dataType.rawValue)): \(reason)")
    }
}

/// Why a JSON value does not fit a field.
public struct FieldConversionError: Error, Sendable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
}

extension FieldValue {
    /// The value stored for a field the row left out (or gave as null), or nil when that is an
    /// error: the default value if there is one, else null for nullable fields.
    public static func missing(_ field: FieldSchema) -> FieldValue? {
        if let d = field.defaultValue { return FieldValue(d, for: field) }
        return field.nullable ? .null : nil
    }

    /// A zero of the field's type, a placeholder for a value that a partial update fills in.
    public static func zero(for field: FieldSchema) -> FieldValue {
        switch field.dataType {
        case .bool: .bool(false)
        case .int8, .int16, .int32, .int64, .timestamptz: .int(0)
        case .float: .float(0)
        case .double: .double(0)
        case .varChar: .string("")
        default: .null
        }
    }

    /// A default value in the field's storage type.
    public init(_ scalar: ScalarValue, for field: FieldSchema) {
        switch (scalar, field.dataType) {
        case (.bool(let b), _): self = .bool(b)
        case (.int(let i), .float): self = .float(Float(i))
        case (.int(let i), .double): self = .double(Double(i))
        case (.int(let i), _): self = .int(i)
        case (.float(let f), .double): self = .double(Double(f))
        case (.float(let f), _): self = .float(f)
        case (.double(let d), .float): self = .float(Float(d))
        case (.double(let d), _): self = .double(d)
        case (.string(let s), _): self = .string(s)
        }
    }

    /// Converts a JSON value to the field's type, checking it: ranges of small integers, string
    /// lengths in bytes, array capacity and element types, vector dimensions, finite floats.
    /// `timeZone` is the zone of a Timestamptz value given without an offset.
    public static func convert(_ json: JSON, for field: FieldSchema, row: Int, timeZone: TimeZone = Timestamptz.utc) throws(FieldConversionError) -> FieldValue {
        if json.isNull {
            guard let value = missing(field) else { throw FieldConversionError("null is not allowed: the field is not nullable") }
            return value
        }
        switch field.dataType {
        case .bool:
            guard case .bool(let b) = json else { throw wrongType(json, "a bool") }
            return .bool(b)
        case .int8, .int16, .int32, .int64:
            let value: Int64
            switch json {
            case .int(let i): value = i
            case .string(let s) where field.dataType == .int64:
                // Clients that cannot hold 64-bit integers send them as strings.
                guard let i = Int64(s) else { throw FieldConversionError("\"\(s)\" is not an int64") }
                value = i
            default: throw wrongType(json, "an integer")
            }
            let range: ClosedRange<Int64> =
                switch field.dataType {
                case .int8: Int64(Int8.min)...Int64(Int8.max)
                case .int16: Int64(Int16.min)...Int64(Int16.max)
                case .int32: Int64(Int32.min)...Int64(Int32.max)
                default: Int64.min...Int64.max
                }
            guard range.contains(value) else { throw FieldConversionError("\(value) is out of range for \(field.dataType.rawValue)") }
            return .int(value)
        case .float:
            let f = Float(try number(json))
            guard f.isFinite else { throw FieldConversionError("\(json.serialized()) is out of range for Float") }
            return .float(f)
        case .double:
            return .double(try number(json))
        case .varChar:
            guard case .string(let s) = json else { throw wrongType(json, "a string") }
            let maxLength = field.maxLength ?? Int.max
            guard s.utf8.count <= maxLength else {
                throw FieldConversionError("the string is \(s.utf8.count) bytes long, which exceeds max_length \(maxLength)")
            }
            return .string(s)
        case .json:
            if case .string(let text) = json {
                do { return .json(try JSON.parse(text)) } catch {
                    throw FieldConversionError("the string is not valid JSON text: \(error.description)")
                }
            }
            return .json(json)
        case .array:
            return .json(try arrayValue(json, field))
        case .floatVector:
            return .floatVector(try floats(json, count: field.dim ?? 0))
        case .float16Vector, .bfloat16Vector:
            let dim = field.dim ?? 0
            if case .string(let text) = json {
                guard let bytes = Base64.decode(text) else { throw FieldConversionError("the string is not valid base64") }
                guard bytes.count == 2 * dim else {
                    throw FieldConversionError("the dimension is \(dim), so \(2 * dim) bytes are expected, but the base64 string holds \(bytes.count)")
                }
                return .halfVector((0..<dim).map { UInt16(bytes[2 * $0]) | UInt16(bytes[2 * $0 + 1]) << 8 })
            }
            let values = try floats(json, count: dim)
            let bits = field.dataType == .float16Vector ? values.map(HalfFloat.float16Bits) : values.map(HalfFloat.bfloat16Bits)
            if field.dataType == .float16Vector, bits.contains(where: { $0 & 0x7C00 == 0x7C00 }) {
                throw FieldConversionError("a value is out of the float16 range (65504)")
            }
            return .halfVector(bits)
        case .int8Vector:
            return .int8Vector(try int8s(json, count: field.dim ?? 0))
        case .geometry:
            // Stored as GEOS's WKT of the value, so every row reads back in one spelling.
            guard case .string(let text) = json else { throw wrongType(json, "a WKT geometry string") }
            guard text.utf8.count <= FieldValue.maxGeometryBytes else {
                throw FieldConversionError("the WKT text is \(text.utf8.count) bytes long, more than \(FieldValue.maxGeometryBytes)")
            }
            do { return .string(try GeometryText.normalize(wkt: text)) } catch {
                throw FieldConversionError("invalid geometry \(excerpt(json)): \(error.message)")
            }
        case .timestamptz:
            // Stored as the instant, microseconds since the epoch in UTC.
            guard case .string(let text) = json else { throw wrongType(json, "an ISO 8601 time string") }
            guard let micros = Timestamptz.parse(text, zone: timeZone) else {
                throw FieldConversionError("\(excerpt(json)) is not an ISO 8601 time (YYYY-MM-DDThh:mm:ss[.ffffff][Z|+hh:mm], years 1 to 9999)")
            }
            return .int(micros)
        case .binaryVector:
            let count = (field.dim ?? 0) / 8
            let bytes: [UInt8]
            switch json {
            case .string(let text):
                guard let decoded = Base64.decode(text) else { throw FieldConversionError("the string is not valid base64") }
                bytes = decoded
            case .array(let elements):
                var out: [UInt8] = []
                for element in elements {
                    guard case .int(let i) = element, (0...255).contains(i) else {
                        throw FieldConversionError("a binary vector given as an array must hold bytes (0 to 255), got \(element.serialized())")
                    }
                    out.append(UInt8(i))
                }
                bytes = out
            default: throw wrongType(json, "a base64 string or an array of bytes")
            }
            guard bytes.count == count else {
                throw FieldConversionError("the dimension is \(field.dim ?? 0), so \(count) bytes are expected, got \(bytes.count)")
            }
            return .binaryVector(bytes)
        case .sparseFloatVector:
            return .sparseVector(try sparse(json))
        default:
            throw FieldConversionError("the type is not supported for insert")
        }
    }

    /// The longest WKT a Geometry value may have (Milvus bounds a row, not a geometry; this keeps
    /// one value's parse and its WKT in memory small).
    public static let maxGeometryBytes = 1 << 20

    static func wrongType(_ json: JSON, _ expected: String) -> FieldConversionError {
        FieldConversionError("expected \(expected), got \(json.typeName) \(excerpt(json))")
    }

    static func excerpt(_ json: JSON) -> String {
        let text = json.serialized()
        return text.count > 40 ? String(text.prefix(40)) + "..." : text
    }

    static func number(_ json: JSON) throws(FieldConversionError) -> Double {
        switch json {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: throw wrongType(json, "a number")
        }
    }

    static func floats(_ json: JSON, count: Int) throws(FieldConversionError) -> [Float] {
        guard case .array(let elements) = json else { throw wrongType(json, "an array of \(count) numbers") }
        guard elements.count == count else {
            throw FieldConversionError("the dimension is \(count) but the vector has \(elements.count) elements")
        }
        var out: [Float] = []
        out.reserveCapacity(count)
        for (i, element) in elements.enumerated() {
            let d: Double
            switch element {
            case .int(let v): d = Double(v)
            case .double(let v): d = v
            default: throw FieldConversionError("element \(i) is not a number: \(excerpt(element))")
            }
            guard Float(d).isFinite else {
                throw FieldConversionError("element \(i) (\(element.serialized())) is not a finite float32 (NaN and Inf are not allowed)")
            }
            out.append(Float(d))
        }
        return out
    }

    /// An Int8Vector's values: an array of integers in -128...127, or a base64 string of `count`
    /// bytes, each read as a signed byte (two's complement, as numpy's int8 `tobytes()` gives).
    static func int8s(_ json: JSON, count: Int) throws(FieldConversionError) -> [Int8] {
        switch json {
        case .string(let text):
            guard let bytes = Base64.decode(text) else { throw FieldConversionError("the string is not valid base64") }
            guard bytes.count == count else {
                throw FieldConversionError("the dimension is \(count), so \(count) bytes are expected, but the base64 string holds \(bytes.count)")
            }
            return bytes.map { Int8(bitPattern: $0) }
        case .array(let elements):
            guard elements.count == count else {
                throw FieldConversionError("the dimension is \(count) but the vector has \(elements.count) elements")
            }
            var out: [Int8] = []
            out.reserveCapacity(count)
            for (i, element) in elements.enumerated() {
                guard case .int(let v) = element else { throw FieldConversionError("element \(i) is not an integer: \(excerpt(element))") }
                guard let byte = Int8(exactly: v) else { throw FieldConversionError("element \(i) (\(v)) is out of range for int8 [-128, 127]") }
                out.append(byte)
            }
            return out
        default:
            throw wrongType(json, "an array of \(count) integers in [-128, 127] or a base64 string")
        }
    }

    static func arrayValue(_ json: JSON, _ field: FieldSchema) throws(FieldConversionError) -> JSON {
        guard case .array(let elements) = json else { throw wrongType(json, "an array") }
        let capacity = field.maxCapacity ?? Int.max
        guard elements.count <= capacity else {
            throw FieldConversionError("the array has \(elements.count) elements, which exceeds max_capacity \(capacity)")
        }
        guard let elementType = field.elementType else { throw FieldConversionError("the array field has no element type") }
        var element = field
        element.dataType = elementType
        element.nullable = false
        element.defaultValue = nil
        var out: [JSON] = []
        out.reserveCapacity(elements.count)
        for (i, item) in elements.enumerated() {
            let value: FieldValue
            do { value = try convert(item, for: element, row: 0) } catch {
                throw FieldConversionError("element \(i): \(error.reason)")
            }
            switch value {
            case .bool(let b): out.append(.bool(b))
            case .int(let v): out.append(.int(v))
            case .float(let f): out.append(.double(Double(f)))
            case .double(let d): out.append(.double(d))
            case .string(let s): out.append(.string(s))
            default: throw FieldConversionError("element \(i) has an unsupported type")
            }
        }
        return .array(out)
    }

    /// A sparse vector in "dok" form (`{"3": 0.5, "17": 0.1}`) or "coo" form
    /// (`{"indices": [3, 17], "values": [0.5, 0.1]}`); indices come out sorted.
    static func sparse(_ json: JSON) throws(FieldConversionError) -> SparseVector {
        guard case .object(let members) = json else { throw wrongType(json, "a sparse vector object") }
        var pairs: [(UInt32, Float)] = []
        if let indices = json["indices"], let values = json["values"], members.count == 2 {
            guard case .array(let i) = indices, case .array(let v) = values, i.count == v.count else {
                throw FieldConversionError("the coo form needs arrays 'indices' and 'values' of equal length")
            }
            for (index, value) in zip(i, v) {
                guard case .int(let n) = index else { throw FieldConversionError("sparse index \(index.serialized()) is not an integer") }
                pairs.append((try sparseIndex(n), try sparseValue(value)))
            }
        } else {
            for member in members {
                guard let n = Int64(member.key) else { throw FieldConversionError("sparse index \"\(member.key)\" is not an integer") }
                pairs.append((try sparseIndex(n), try sparseValue(member.value)))
            }
        }
        pairs.sort { $0.0 < $1.0 }
        for i in pairs.indices.dropFirst() where pairs[i].0 == pairs[i - 1].0 {
            throw FieldConversionError("sparse index \(pairs[i].0) appears twice")
        }
        return SparseVector(indices: pairs.map(\.0), values: pairs.map(\.1))
    }

    static func sparseIndex(_ n: Int64) throws(FieldConversionError) -> UInt32 {
        guard n >= 0 && n < Int64(UInt32.max) else { throw FieldConversionError("sparse index \(n) is out of range [0, 4294967295)") }
        return UInt32(n)
    }

    static func sparseValue(_ json: JSON) throws(FieldConversionError) -> Float {
        let f = Float(try number(json))
        guard f.isFinite else { throw FieldConversionError("sparse value \(json.serialized()) is not a finite float32") }
        return f
    }
}
