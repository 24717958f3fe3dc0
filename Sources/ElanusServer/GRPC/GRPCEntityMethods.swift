import ElanusCore
import ElanusEngine
import ElanusProto
import ElanusQuery
import Foundation

/// Insert, upsert, delete and query.
enum GRPCEntityMethods {
    static func register(_ table: inout MethodTable) {
        table.on(.insert, route: "entities/insert") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_InsertRequest) -> Milvus_Proto_Milvus_MutationResult in
            let info = try context.collection(request.dbName, request.collectionName)
            try checkSchemaVersion(request.schemaTimestamp, info)
            let generated = info.schema.primaryField?.autoID ?? false
            let decoded = try GRPCFieldDataCodec.decode(
                request.fieldsData, numRows: request.numRows, schema: info.schema, options: .init(generatedPrimaryKey: generated, timeZone: try context.engine.timeZone(info)))
            let keys = try context.engine.insert(info, partitionName: request.partitionName.isEmpty ? nil : request.partitionName, batch: decoded.batch)
            return try mutation(keys, info: info, count: \.insertCnt, context)
        }
        table.on(.upsert, route: "entities/upsert") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_UpsertRequest) -> Milvus_Proto_Milvus_MutationResult in
            let info = try context.collection(request.dbName, request.collectionName)
            try checkSchemaVersion(request.schemaTimestamp, info)
            guard request.fieldOps.isEmpty else { throw ElanusError.invalidParameter("field_ops (ARRAY_APPEND / ARRAY_REMOVE) are not supported yet") }
            let decoded = try GRPCFieldDataCodec.decode(
                request.fieldsData, numRows: request.numRows, schema: info.schema, options: .init(partialUpdate: request.partialUpdate, timeZone: try context.engine.timeZone(info)))
            let keys = try context.engine.upsert(
                info, partitionName: request.partitionName.isEmpty ? nil : request.partitionName, batch: decoded.batch,
                absentFields: request.partialUpdate ? decoded.absentFields : [])
            return try mutation(keys, info: info, count: \.upsertCnt, context)
        }
        table.on(.delete, route: "entities/delete") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_DeleteRequest) -> Milvus_Proto_Milvus_MutationResult in
            let info = try context.collection(request.dbName, request.collectionName)
            let count = try context.engine.delete(
                info, partitionName: request.partitionName.isEmpty ? nil : request.partitionName, filter: request.expr,
                params: try templateValues(request.exprTemplateValues), cancellation: context.cancellation)
            var result = Milvus_Proto_Milvus_MutationResult()
            result.deleteCnt = Int64(count)
            result.timestamp = try context.engine.allocateTimestamp()
            return result
        }
        table.on(.query, route: "entities/query") { (context: GRPCCallContext, request: Milvus_Proto_Milvus_QueryRequest) -> Milvus_Proto_Milvus_QueryResults in
            try query(context, request)
        }
    }

    private static func mutation(
        _ keys: [PrimaryKey], info: CollectionInfo, count: WritableKeyPath<Milvus_Proto_Milvus_MutationResult, Int64>, _ context: GRPCCallContext
    ) throws(ElanusError) -> Milvus_Proto_Milvus_MutationResult {
        var result = Milvus_Proto_Milvus_MutationResult()
        result.ids = GRPCFieldDataCodec.ids(keys, type: info.schema.primaryField?.dataType ?? .int64)
        result[keyPath: count] = Int64(keys.count)
        result.succIndex = (0..<UInt32(keys.count)).map { $0 }
        // The write is acknowledged once durable; a timestamp after it reads it (Strong reads always do).
        result.timestamp = try context.engine.allocateTimestamp()
        return result
    }

    /// A client that built its rows from an older schema (pymilvus caches DescribeCollection and
    /// sends its `update_timestamp` back) is told so; pymilvus then describes again and retries.
    static func checkSchemaVersion(_ timestamp: UInt64, _ info: CollectionInfo) throws(ElanusError) {
        guard timestamp != 0, timestamp < info.schemaTimestamp else { return }
        throw ElanusError(.collectionSchemaMismatch, "collection schema mismatch[collection=\(info.name)]: the schema changed after the client read it")
    }

    /// `expr_template_values` as the filter's `{placeholders}` (REST's exprParams).
    static func templateValues(_ values: [String: Milvus_Proto_Schema_TemplateValue]) throws(ElanusError) -> [(key: String, value: JSON)] {
        var out: [(key: String, value: JSON)] = []
        for key in values.keys.sorted() {
            out.append((key: key, value: try json(values[key]!)))
        }
        return out
    }

    private static func json(_ value: Milvus_Proto_Schema_TemplateValue) throws(ElanusError) -> JSON {
        switch value.val {
        case .boolVal(let b)?: return .bool(b)
        case .int64Val(let i)?: return .int(i)
        case .floatVal(let d)?: return .double(d)
        case .stringVal(let s)?: return .string(s)
        case .arrayVal(let array)?:
            switch array.data {
            case .boolData(let a)?: return .array(a.data.map { .bool($0) })
            case .longData(let a)?: return .array(a.data.map { .int($0) })
            case .doubleData(let a)?: return .array(a.data.map { .double($0) })
            case .stringData(let a)?: return .array(a.data.map { .string($0) })
            case .jsonData(let a)?:
                var items: [JSON] = []
                for bytes in a.data {
                    guard let parsed = try? JSON.parse(Array(bytes)) else { throw ElanusError.invalidParameter("a JSON template value does not parse") }
                    items.append(parsed)
                }
                return .array(items)
            default: throw ElanusError.invalidParameter("nested array template values are not supported yet")
            }
        case nil: return .null
        }
    }

    /// The value of `key` in Milvus's key/value parameter lists.
    static func param(_ pairs: [Milvus_Proto_Common_KeyValuePair], _ key: String) -> String? {
        pairs.last(where: { $0.key == key })?.value
    }

    static func integerParam(_ pairs: [Milvus_Proto_Common_KeyValuePair], _ key: String) throws(ElanusError) -> Int64? {
        guard let text = param(pairs, key) else { return nil }
        guard let value = Int64(text) else { throw ElanusError.invalidParameter("\(key) [\(text)] is invalid") }
        return value
    }

    private static func query(_ context: GRPCCallContext, _ request: Milvus_Proto_Milvus_QueryRequest) throws(ElanusError) -> Milvus_Proto_Milvus_QueryResults {
        let info = try context.collection(request.dbName, request.collectionName)
        let params = request.queryParams
        let filter = request.expr.allSatisfy(\.isWhitespace) ? nil : request.expr
        let zone = try context.engine.timeZone(info, requested: param(params, Timestamptz.propertyKey))
        let predicate = try filter.map { f throws(ElanusError) in
            try FilterChecker.check(f, schema: info.schema, params: try templateValues(request.exprTemplateValues), timeZone: zone)
        }
        let partitions = request.partitionNames
        var results = Milvus_Proto_Milvus_QueryResults()
        results.collectionName = info.name
        results.primaryFieldName = info.schema.primaryField?.name ?? ""
        let outputs = request.outputFields
        if outputs.contains(where: { $0.lowercased() == "count(*)" }) {
            guard outputs.count == 1 else { throw ElanusError.invalidParameter("count(*) cannot be combined with other output fields") }
            let n = try context.engine.count(info, predicate: predicate, partitionNames: partitions, cancellation: context.cancellation)
            var data = Milvus_Proto_Schema_FieldData()
            data.fieldName = "count(*)"
            data.type = .int64
            var scalars = Milvus_Proto_Schema_ScalarField()
            var longs = Milvus_Proto_Schema_LongArray()
            longs.data = [Int64(n)]
            scalars.longData = longs
            data.scalars = scalars
            results.fieldsData = [data]
            results.outputFields = ["count(*)"]
            return results
        }
        // gRPC queries have no default limit: without one every match is returned (bounded by
        // the output size), which Milvus refuses without a filter.
        let limit = try integerParam(params, "limit")
        let offset = try integerParam(params, "offset") ?? 0
        if limit == nil && predicate == nil { throw ReadRequest.emptyFilterWithoutLimit }
        if let limit {
            guard limit >= 0, offset >= 0, limit <= Int64(ReadRequest.maxResultWindow), offset <= Int64(ReadRequest.maxResultWindow) - limit else {
                throw ElanusError.invalidParameter("invalid max query result window, (offset+limit) should be in range [1, \(ReadRequest.maxResultWindow)], but got limit \(limit), offset \(offset)")
            }
        }
        let selection = try RowRenderer(schema: info.schema, outputFields: outputs, allowInt64: true, timeZone: zone)
        var refs: [(batch: EntityBatch, row: Int)] = []
        let cap = limit.map { Int($0) } ?? Int.max
        var bytes = 0
        if cap > 0 {
            try context.engine.scan(info, predicate: predicate, partitionNames: partitions, offset: Int(offset), cancellation: context.cancellation) {
                batch, row throws(ElanusError) in
                refs.append((batch, row))
                for field in selection.fields { bytes += approximateBytes(batch.column(field.fieldID)?.value(at: row)) }
                // The dynamic field's document goes out too (all of it, or the keys asked for:
                // counting all of it keeps the bound safe).
                if info.schema.enableDynamicField, let document = batch.dynamic?[row] { bytes += document.approximateByteCount }
                if bytes > ReadRequest.maxOutputBytes { throw ElanusError.badRequest("query results exceed the maxOutputSize Limit \(ReadRequest.maxOutputBytes)") }
                return refs.count < cap
            }
        }
        results.fieldsData = GRPCFieldDataCodec.encode(refs, fields: selection.fields, dynamicKeys: selection.dynamicKeys, schema: info.schema, timeZone: zone)
        results.outputFields = selection.fields.map(\.name) + (info.schema.enableDynamicField ? (selection.dynamicKeys ?? []) : [])
        return results
    }

    /// About what a value takes in a result, for the output-size bound.
    static func approximateBytes(_ value: FieldValue?) -> Int {
        switch value {
        case .string(let s)?: s.utf8.count + 2
        case .json(let j)?: j.approximateByteCount
        case .floatVector(let v)?: v.count * 4
        case .binaryVector(let b)?: b.count
        case .halfVector(let h)?: h.count * 2
        case .int8Vector(let v)?: v.count * 4
        case .sparseVector(let v)?: v.indices.count * 8
        default: 8
        }
    }
}
