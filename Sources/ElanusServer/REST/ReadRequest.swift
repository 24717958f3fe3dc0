import ElanusCore
import struct Foundation.TimeZone
import ElanusEngine
import ElanusQuery

/// The parts of query, search and hybrid_search requests that are shared: limits, filters with
/// their exprParams, consistency levels, and search vectors in every encoding Milvus accepts.
enum ReadRequest {
    static let maxResultWindow = 16_384
    /// Hits one search request may ask for in all (nq x (limit + offset) x groupSize): Milvus's
    /// `proxy.maxResultEntries`, which Elanus always enforces. 1,000 vectors x 16,384 took 3.6 GB.
    static let maxResultEntries = 1 << 20
    /// Bytes of rows one read answers with: Milvus's `quotaAndLimits.limits.maxOutputSize`.
    static let maxOutputBytes = 100 << 20

    /// Throws Milvus's error when a search asks for more hits than `maxResultEntries`. Each
    /// factor is already bounded (16,384 at most), so the product cannot overflow.
    static func checkResultEntries(nq: Int, limit: Int, offset: Int, groupSize: Int) throws(ElanusError) {
        let entries = nq * (limit + offset) * groupSize
        guard entries <= maxResultEntries else {
            throw .badRequest(
                "number of result entries is too large: nq (\(nq)) x (limit + offset) (\(limit + offset))\(groupSize > 1 ? " x groupSize (\(groupSize))" : "") = \(entries), at most \(maxResultEntries)")
        }
    }

    /// Counts rendered rows against `maxOutputBytes`; throws Milvus's error past it.
    struct OutputBudget {
        let what: String
        var used = 0

        mutating func add(_ row: JSON) throws(ElanusError) {
            used += row.approximateByteCount
            if used > ReadRequest.maxOutputBytes {
                throw .badRequest("\(what) results exceed the maxOutputSize Limit \(ReadRequest.maxOutputBytes)")
            }
        }
    }

    /// `limit` and `offset`, checked as Milvus checks them (65535 with "invalid" when out of
    /// range). Each is bounded on its own before they are added: an offset near 2^63 must not
    /// overflow the sum.
    static func window(_ body: RequestBody, defaultLimit: Int = 100) throws(ElanusError) -> (limit: Int, offset: Int) {
        let limit = try body.int("limit") ?? Int64(defaultLimit)
        let offset = try body.int("offset") ?? 0
        guard limit >= 1 && limit <= Int64(maxResultWindow) else {
            throw .badRequest("invalid limit \(limit): limit should be in range [1, \(maxResultWindow)]")
        }
        guard offset >= 0 && offset <= Int64(maxResultWindow) - limit else {
            let sum = offset.addingReportingOverflow(limit)
            let shown = sum.overflow ? "more than \(Int64.max)" : String(sum.partialValue)
            throw .badRequest("invalid max query result window, (offset+limit) should be in range [1, \(maxResultWindow)], but got \(offset < 0 ? "offset \(offset)" : shown)")
        }
        return (Int(limit), Int(offset))
    }

    /// `limit` and `offset` of a query as Milvus's handler passes them on: an absent limit is
    /// 100, and a limit of 0 or less is not passed on at all, which asks for every match (and
    /// then the offset is not read either); nil means that. Milvus refuses it without a filter
    /// (`emptyFilterWithoutLimit`). Every match is still bounded by `maxOutputBytes`.
    static func queryWindow(_ body: RequestBody) throws(ElanusError) -> (limit: Int, offset: Int)? {
        let limit = try body.int("limit") ?? 100
        if limit <= 0 { return nil }
        // Milvus checks a query's limit only as part of limit + offset.
        guard limit <= Int64(maxResultWindow) else {
            throw .badRequest("invalid max query result window, (offset+limit) should be in range [1, \(maxResultWindow)], but got \(limit)")
        }
        return try window(body)
    }

    static let emptyFilterWithoutLimit = ElanusError.invalidParameter("empty expression should be used with limit")

    /// The checked filter of a request (nil when empty), with `{placeholders}` from exprParams
    /// and ISO literals without an offset read in `timeZone`.
    /// `timeZone` reads ISO literals without an offset; it is looked up only when the filter
    /// may hold one (the zone costs a catalog read, and the gRPC bridge builds a route context
    /// for it).
    static func predicate(
        _ body: RequestBody, schema: CollectionSchema, timeZone: () throws(ElanusError) -> TimeZone
    ) throws(ElanusError) -> Predicate? {
        guard let filter = try body.string("filter"), !filter.allSatisfy(\.isWhitespace) else { return nil }
        let params = try body.map("exprParams")?.members ?? []
        let zone = filter.lowercased().contains("iso") ? try timeZone() : Timestamptz.utc
        return try FilterChecker.check(filter, schema: schema, params: params, timeZone: zone)
    }

    static func checkConsistency(_ body: RequestBody) throws(ElanusError) {
        if let level = try body.string("consistencyLevel"), !level.isEmpty { _ = try ConsistencyLevel.parse(level) }
    }

    /// The vector field searched: `annsField`, or the only vector field.
    static func annsField(_ body: RequestBody, schema: CollectionSchema) throws(ElanusError) -> FieldSchema {
        if let name = try body.string("annsField"), !name.isEmpty {
            guard let field = schema.field(named: name) else { throw ElanusError(.fieldNotFound, "field not found[field=\(name)]: annsField \(name) is not in the schema") }
            guard field.dataType.isVector else { throw .invalidParameter("annsField \(name) is not a vector field") }
            return field
        }
        let vectors = schema.vectorFields
        guard vectors.count == 1 else {
            throw ElanusError(.invalidJSON, "search without annsField, but already found multiple vector fields: [\(vectors.map(\.name).joined(separator: ", "))]")
        }
        return vectors[0]
    }

    /// The metric: the field's index metric when it has one, else the request's, else the
    /// type's default. A snake-case `metric_type` that contradicts the index is an error.
    static func metric(_ body: RequestBody, field: FieldSchema, info: CollectionInfo) throws(ElanusError) -> Metric {
        let params = try body.map("searchParams")
        var requested = try params?.string("metricType")
        var snake = try params?.string("metric_type")
        if snake == nil { snake = try params?.map("params")?.string("metric_type") }
        if let snake {
            if let indexed = info.indexes.first(where: { $0.fieldName == field.name })?.metricType, indexed.uppercased() != snake.uppercased() {
                throw .invalidParameter("metric type not match: invalid parameter[expected=\(indexed)][actual=\(snake)]")
            }
            requested = snake
        }
        if requested == nil { requested = try body.string("metricType") }
        let name = info.indexes.first(where: { $0.fieldName == field.name })?.metricType ?? requested
        let fallback: Metric = field.dataType == .binaryVector ? .hamming : (field.dataType == .sparseFloatVector ? .ip : .cosine)
        guard let name, !name.isEmpty else { return fallback }
        guard let metric = Metric(rawValue: name.uppercased()) else { throw .invalidParameter("metric type \(name) is not supported") }
        let allowed: [Metric] =
            switch field.dataType {
            case .binaryVector: [.hamming, .jaccard]
            case .sparseFloatVector: [.ip, .bm25]
            default: [.l2, .ip, .cosine]
            }
        guard allowed.contains(metric) else {
            throw .invalidParameter("metric type \(metric.rawValue) is not valid for \(field.dataType.rawValue) field \(field.name)")
        }
        return metric
    }

    /// A search's `searchParams` and the `params` inside it, merged once per request (each
    /// accessor below used to merge them again).
    struct SearchParams {
        let flat: RequestBody?
        let nested: RequestBody?

        init(_ body: RequestBody) throws(ElanusError) {
            flat = try body.map("searchParams")
            nested = try flat?.map("params")
        }
    }

    /// A search parameter given in `searchParams.params` or flat in `searchParams`.
    static func searchParam(_ params: SearchParams, _ key: String) throws(ElanusError) -> Double? {
        guard let flatParams = params.flat else { return nil }
        let nested = params.nested?[key]
        let flat = flatParams[key]
        if let nested, let flat, nested != flat {
            throw .invalidParameter("ambiguous parameter: \(key) is given in both searchParams and searchParams.params with different values")
        }
        let value: Double?
        switch nested ?? flat {
        case .int(let i)?: value = Double(i)
        case .double(let d)?: value = d
        case .string(let s)?: value = Double(s)
        default: value = nil
        }
        // "nan", "inf" and numbers past Float's range parse as doubles but compare as nothing
        // or everything; no search parameter takes them.
        if let value, !Float(value).isFinite {
            throw .invalidParameter("search param \(key) must be a finite number, got \(value)")
        }
        return value
    }

    /// An integer search parameter (`ef`, `nprobe`) within Milvus's range.
    static func intSearchParam(_ params: SearchParams, _ key: String, _ range: ClosedRange<Int>) throws(ElanusError) -> Int? {
        guard let value = try searchParam(params, key) else { return nil }
        guard value == value.rounded(), value >= Double(range.lowerBound), value <= Double(range.upperBound) else {
            throw .invalidParameter("search param \(key) (\(value)) should be an integer in range [\(range.lowerBound), \(range.upperBound)]")
        }
        return Int(value)
    }

    /// `ignore_growing` (or Milvus's older `ignoreGrowing`) in `searchParams`, or in a hybrid
    /// sub-search's `params`: any value Go's `strconv.ParseBool` takes, as Milvus parses it.
    static func ignoreGrowing(_ searchParams: SearchParams) throws(ElanusError) -> Bool {
        guard let params = searchParams.flat else { return false }
        let nested = searchParams.nested
        var result = false
        for key in ["ignore_growing", "ignoreGrowing"] {
            for value in [params[key], nested?[key]].compactMap({ $0 }) {
                let text: String
                switch value {
                case .string(let s): text = s
                case .bool(let b): text = b ? "true" : "false"
                case .int(let i): text = String(i)
                default: text = value.serialized()
                }
                guard let flag = GoJSON.parseBool(text) else {
                    throw .invalidParameter("parse ignore growing field failed: \(GoJSON.parseBoolError(text))")
                }
                result = result || flag
            }
        }
        return result
    }

    /// `refine_k` for HNSW_SQ/HNSW_PQ with a refine step: at least 1, as knowhere's range.
    static func refineK(_ params: SearchParams) throws(ElanusError) -> Double? {
        guard let value = try searchParam(params, "refine_k") else { return nil }
        guard value >= 1 else { throw .invalidParameter("search param refine_k (\(value)) should be in range [1, 3.4028234663852886e+38]") }
        return value
    }

    /// `drop_ratio_search` for sparse inverted indexes, in [0, 1).
    static func dropRatio(_ params: SearchParams) throws(ElanusError) -> Double? {
        guard let value = try searchParam(params, "drop_ratio_search") else { return nil }
        guard value >= 0, value < 1 else { throw .invalidParameter("search param drop_ratio_search (\(value)) should be in range [0, 1)") }
        return value
    }

    /// Query vectors from `data`, in the field's encoding.
    /// Milvus's `quotaAndLimits.limits.maxNQ`.
    static let maxNQ = 16384

    static func vectors(_ data: [JSON], field: FieldSchema) throws(ElanusError) -> [QueryVector] {
        guard !data.isEmpty else { throw .invalidParameter("data is empty: at least one query vector is needed") }
        // Milvus's bound on nq: a request cannot ask for more searches than this at once.
        guard data.count <= maxNQ else {
            throw .invalidParameter("nq (number of search vector per search request) should be in range [1, \(maxNQ)], but got \(data.count)")
        }
        var out: [QueryVector] = []
        for item in data {
            switch field.dataType {
            case .floatVector, .float16Vector, .bfloat16Vector:
                let dim = field.dim ?? 0
                if case .array(let elements) = item {
                    guard elements.count == dim else {
                        throw ElanusError(.invalidJSON, "can only accept json format request, error: dimension: \(dim), but length of []float: \(elements.count)")
                    }
                    var floats: [Float] = []
                    for e in elements {
                        switch e {
                        case .int(let i): floats.append(Float(i))
                        case .double(let d) where Float(d).isFinite: floats.append(Float(d))
                        default: throw ElanusError(.invalidJSON, "can only accept json format request, error: \(e.serialized()) is not a finite float32 in a query vector")
                        }
                    }
                    out.append(.dense(floats))
                } else if field.dataType != .floatVector, case .halfVector(let bits) = try convert(item, field) {
                    out.append(.dense(bits.map { HalfFloat.float($0, bfloat16: field.dataType == .bfloat16Vector) }))
                } else {
                    throw ElanusError(.invalidJSON, "can only accept json format request, error: a query vector for \(field.name) must be an array of \(dim) floats")
                }
            case .int8Vector:
                // Milvus takes an Int8Vector's query as int8 values, as the rows were given.
                guard case .int8Vector(let values) = try convert(item, field) else { throw .invalidParameter("bad int8 vector") }
                out.append(.dense(values.map { Float($0) }))
            case .binaryVector:
                guard case .binaryVector(let bytes) = try convert(item, field) else { throw .invalidParameter("bad binary vector") }
                out.append(.binary(bytes))
            case .sparseFloatVector:
                if case .string(let text) = item {
                    out.append(.text(text))
                    continue
                }
                guard case .sparseVector(let v) = try convert(item, field) else { throw .invalidParameter("bad sparse vector") }
                out.append(.sparse(v))
            default:
                throw .invalidParameter("field \(field.name) is not a vector field")
            }
        }
        return out
    }

    static func convert(_ item: JSON, _ field: FieldSchema) throws(ElanusError) -> FieldValue {
        do { return try FieldValue.convert(item, for: field, row: 0) } catch {
            throw ElanusError(.invalidJSON, "can only accept json format request, error: query vector for \(field.name): \(error.reason)")
        }
    }
}
