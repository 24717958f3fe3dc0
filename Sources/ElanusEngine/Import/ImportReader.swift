import ElanusCore
import Foundation

/// Reads one file group of an import job into batches checked against the schema, exactly as an
/// insert would check them. A group is one row-based file (JSON, JSON lines or CSV) or one
/// `.npy` file per field. The first bad value stops the read with 2100 naming the file and the
/// line (or, for `.npy`, the row).
struct ImportReader {
    enum Format: String {
        case json, jsonLines = "jsonl", csv, numpy = "npy"
    }

    /// Rows per batch: enough to amortize decoding, small enough to bound what one batch holds.
    static let sliceRows = 8192

    let schema: CollectionSchema
    /// The zone of Timestamptz values without an offset (the collection's, else its database's).
    var timeZone = Timestamptz.utc
    /// CSV's cell separator (option `sep`, one character, default `,`).
    var separator = UInt8(ascii: ",")
    /// The CSV cell text that means null (option `nullkey`, default empty).
    var nullKey = ""

    /// The format a file name says, or nil for a type Elanus does not import.
    static func format(of name: String) -> Format? {
        switch (name as NSString).pathExtension.lowercased() {
        case "json": .json
        case "jsonl", "ndjson": .jsonLines
        case "csv": .csv
        case "npy": .numpy
        default: nil
        }
    }

    /// The format of a whole group: one row-based file, or `.npy` files only.
    static func format(ofGroup names: [String]) throws(ElanusError) -> Format {
        guard !names.isEmpty else { throw .invalidParameter("an import file group is empty") }
        var formats: [Format] = []
        for name in names {
            guard let format = format(of: name) else {
                throw ElanusError(.importFailed, "unexpected file type, files=[\(name)]: Elanus imports .json, .jsonl, .csv and .npy files")
            }
            formats.append(format)
        }
        if formats.allSatisfy({ $0 == .numpy }) { return .numpy }
        guard names.count == 1 else {
            throw .invalidParameter("a file group holds one JSON or CSV file, or one .npy file per field; got \(names)")
        }
        return formats[0]
    }

    /// Reads the group (`files` are (name shown to the user, path)), calling `body` per batch
    /// with the share of the group's rows read so far (0 to 1).
    func read(_ files: [(name: String, path: String)], body: (EntityBatch, Double) throws(ElanusError) -> Void) throws(ElanusError) {
        let format = try ImportReader.format(ofGroup: files.map(\.name))
        if format == .numpy {
            try readNumpy(files, body: body)
            return
        }
        let (name, path) = files[0]
        let bytes = try ImportReader.contents(path, name: name)
        let texts: RowTexts
        do throws(RowTexts.Failure) {
            switch format {
            case .json: texts = try RowTexts.json(bytes)
            case .jsonLines: texts = try RowTexts.jsonLines(bytes)
            default: texts = try RowTexts.csv(bytes, schema: schema, separator: separator, nullKey: nullKey)
            }
        } catch {
            throw ImportReader.failure(name, line: error.line, error.reason)
        }
        if texts.rows.isEmpty { throw ImportReader.failure(name, line: 0, "the file holds no rows") }
        var start = 0
        while start < texts.rows.count {
            let end = min(start + ImportReader.sliceRows, texts.rows.count)
            try body(try decode(texts, start..<end, name: name), Double(end) / Double(texts.rows.count))
            start = end
        }
    }

    /// Decodes rows `range` of `texts` as one insert's `data` array. On a bad row, each row is
    /// decoded alone to find the first bad one and name its line.
    private func decode(_ texts: RowTexts, _ range: Range<Int>, name: String) throws(ElanusError) -> EntityBatch {
        var array: [UInt8] = [UInt8(ascii: "[")]
        for i in range {
            if i > range.lowerBound { array.append(UInt8(ascii: ",")) }
            array.append(contentsOf: texts.buffer[texts.rows[i].start..<texts.rows[i].end])
        }
        array.append(UInt8(ascii: "]"))
        do {
            return try decodeArray(array)
        } catch {
            for i in range {
                let row = texts.rows[i]
                do {
                    _ = try decodeArray([UInt8(ascii: "[")] + texts.buffer[row.start..<row.end] + [UInt8(ascii: "]")])
                } catch {
                    throw ImportReader.failure(name, line: row.line, ImportReader.reason(error))
                }
            }
            throw ImportReader.failure(name, line: texts.rows[range.lowerBound].line, ImportReader.reason(error))
        }
    }

    private func decodeArray(_ array: [UInt8]) throws(ElanusError) -> EntityBatch {
        let generated = schema.fields.contains { $0.isPrimary && $0.autoID }
        let decoder = EntityRowDecoder(schema: schema, options: .init(generatedPrimaryKey: generated, timeZone: timeZone))
        return try array.withUnsafeBufferPointer { (buffer: UnsafeBufferPointer<UInt8>) throws(ElanusError) -> EntityBatch in
            var reader = JSONReader(bytes: buffer)
            var batch = try decoder.decode(&reader).batch
            // Imported rows get their BM25 vectors as inserted ones do.
            try BM25Function.fill(&batch, schema: schema)
            return batch
        }
    }

    /// An insert error's message without the insert framing ("fail to deal the insert data,
    /// error: row 0: "), which means nothing in a file.
    static func reason(_ error: ElanusError) -> String {
        var message = error.message
        for prefix in ["fail to deal the insert data, error: row 0: ", "fail to deal the insert data, error: ", "can only accept json format request, error: "] {
            if message.hasPrefix(prefix) {
                message.removeFirst(prefix.count)
                break
            }
        }
        return message
    }

    static func failure(_ name: String, line: Int, _ reason: String) -> ElanusError {
        ElanusError(.importFailed, "import failed: file \(name)\(line > 0 ? " line \(line)" : ""): \(reason)")
    }

    static func contents(_ path: String, name: String) throws(ElanusError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw ElanusError(.importFailed, "import failed: cannot read file \(name)") }
        return [UInt8](data)
    }

    // MARK: - NumPy

    /// One `.npy` per field, named after it (`$meta.npy` holds the dynamic field's JSON objects).
    private func readNumpy(_ files: [(name: String, path: String)], body: (EntityBatch, Double) throws(ElanusError) -> Void) throws(ElanusError) {
        var arrays: [Int64: (name: String, array: NumpyArray)] = [:]
        var meta: (name: String, array: NumpyArray)?
        for (name, path) in files {
            let fieldName = ((name as NSString).lastPathComponent as NSString).deletingPathExtension
            let array: NumpyArray
            let bytes = try ImportReader.contents(path, name: name)
            do throws(NumpyArray.Failure) {
                array = try NumpyArray(bytes)
            } catch {
                throw ImportReader.failure(name, line: 0, error.reason)
            }
            if fieldName == "$meta" && schema.enableDynamicField {
                meta = (name, array)
                continue
            }
            guard let field = schema.fields.first(where: { $0.name == fieldName }) else {
                throw ImportReader.failure(name, line: 0, "no field of the collection is named \(fieldName) (a .npy file is named after its field)")
            }
            if field.isPrimary && field.autoID { throw ImportReader.failure(name, line: 0, "the primary key field '\(fieldName)' is auto-generated (autoID); do not import it") }
            if schema.isFunctionOutput(field.name) { throw ImportReader.failure(name, line: 0, EntityRowDecoder.functionOutputGiven(field)) }
            guard arrays[field.fieldID] == nil else { throw ImportReader.failure(name, line: 0, "field \(fieldName) is given twice") }
            if let reason = array.headerFault(for: field) { throw ImportReader.failure(name, line: 0, reason) }
            arrays[field.fieldID] = (name, array)
        }
        let counts = Set(arrays.values.map(\.array.rows) + (meta.map { [$0.array.rows] } ?? []))
        guard counts.count == 1, let rows = counts.first, rows > 0 else {
            throw ElanusError(.importFailed, "import failed: the .npy files must all hold the same number of rows, and at least one: \(files.map(\.name)) hold \(counts.sorted())")
        }
        for field in schema.fields
        where arrays[field.fieldID] == nil && !(field.isPrimary && field.autoID) && !schema.isFunctionOutput(field.name) && FieldValue.missing(field) == nil {
            throw ElanusError(.importFailed, "import failed: no file for field \(field.name), which is neither nullable nor has a default value (expected \(field.name).npy)")
        }
        var start = 0
        while start < rows {
            let end = min(start + ImportReader.sliceRows, rows)
            var columns: [Column] = []
            for field in schema.fields {
                var builder = ColumnBuilder(field: field)
                builder.reserve(end - start)
                if let (name, array) = arrays[field.fieldID] {
                    for row in start..<end { try appendNumpy(array, row: row, field: field, name: name, to: &builder) }
                } else if schema.isFunctionOutput(field.name) {
                    // Computed from the function's input below, as for inserted rows.
                    for _ in start..<end { builder.append(.sparseVector(SparseVector(indices: [], values: []))) }
                } else {
                    let value = field.isPrimary && field.autoID ? FieldValue.int(0) : FieldValue.missing(field)!
                    for _ in start..<end { builder.append(value) }
                }
                columns.append(builder.build())
            }
            var dynamic: [JSON]?
            if schema.enableDynamicField {
                dynamic = []
                for row in start..<end {
                    guard let meta else {
                        dynamic!.append(.object([]))
                        continue
                    }
                    let document: JSON
                    do {
                        document = try JSON.parse(Array(try meta.array.string(row).utf8))
                    } catch {
                        throw ImportReader.failure(meta.name, line: 0, "row \(row): the dynamic field must hold a JSON object")
                    }
                    guard case .object = document else { throw ImportReader.failure(meta.name, line: 0, "row \(row): the dynamic field must hold a JSON object") }
                    dynamic!.append(document)
                }
            }
            var batch = EntityBatch(rowCount: end - start, columns: columns, dynamic: dynamic)
            try BM25Function.fill(&batch, schema: schema)
            try body(batch, Double(end) / Double(rows))
            start = end
        }
    }

    private func appendNumpy(_ array: NumpyArray, row: Int, field: FieldSchema, name: String, to builder: inout ColumnBuilder) throws(ElanusError) {
        let fail = { (reason: String) in ImportReader.failure(name, line: 0, "row \(row): field '\(field.name)' (\(field.dataType.rawValue)): \(reason)") }
        let width = array.width
        if field.dataType == .floatVector, case .float = array.kind {
            guard width == field.dim else { throw fail("the dimension is \(field.dim ?? 0) but the array's rows hold \(width) elements") }
            var floats = [Float](repeating: 0, count: width)
            for j in 0..<width {
                floats[j] = Float(array.real(row * width + j))
                guard floats[j].isFinite else { throw fail("element \(j) is not a finite number") }
            }
            floats.withUnsafeBufferPointer { builder.appendFloatRow($0) }
            return
        }
        if field.dataType == .int8Vector {
            // The header was checked: int8 elements, `dim` to a row, taken as they are.
            builder.append(.int8Vector((0..<width).map { Int8(truncatingIfNeeded: array.integer(row * width + $0)) }))
            return
        }
        do {
            var json: JSON
            if field.dataType.isVector || field.dataType == .array {
                var elements: [JSON] = []
                for j in 0..<width { elements.append(try array.json(row: row, element: j)) }
                json = .array(elements)
            } else {
                guard width == 1 else { throw NumpyArray.Failure(reason: "a scalar field needs a one-dimensional array, got shape \(array.shape)") }
                json = try array.json(row: row)
                if field.dataType == .json, case .string(let text) = json {
                    guard let parsed = try? JSON.parse(Array(text.utf8)) else { throw NumpyArray.Failure(reason: "the string is not a JSON document") }
                    json = parsed
                }
            }
            builder.append(try FieldValue.convert(json, for: field, row: row, timeZone: timeZone))
        } catch let error as NumpyArray.Failure {
            throw fail(error.reason)
        } catch let error as FieldConversionError {
            throw fail(error.reason)
        } catch {
            throw fail("\(error)")
        }
    }
}
