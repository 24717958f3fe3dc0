import ElanusCore
import ElanusEngine

/// Turns a `collections/create` body into a CreateCollectionRequest: quick-setup mode (no
/// schema fields: `dimension`, `idType`, `metricType`, ...) or schema mode (`schema.fields`,
/// `indexParams`). Decoding errors are JSON-shape errors (1801/1802) or 1100; the schema's own
/// rules are checked by ElanusCore's validator when the catalog creates the collection.
enum CreateCollectionDecoder {
    struct Decoded {
        var request: CreateCollectionRequest
        /// Quick setup and schema mode with indexParams load the collection after creating it.
        var loadAfterCreate: Bool
    }

    static func decode(_ body: RequestBody, database: String) throws(ElanusError) -> Decoded {
        let name = try body.string("collectionName", required: true)!
        let params = try body.map("params") ?? RequestBody(members: [], structName: body.structName, keys: .exact)
        let schemaBody = try body.structure("schema", structName: "CollectionSchema")
        let fieldBodies = try schemaBody?.records("fields", structName: "FieldSchema") ?? []

        var request = CreateCollectionRequest(database: database, name: name, schema: CollectionSchema(fields: []))
        // Milvus reads `params` values as text (`fmt.Sprintf("%v")`) and parses the numbers it
        // needs with strconv.ParseInt, keeping its default when that fails.
        request.shardsNum = Int(paramText(params, "shardsNum").flatMap { Int64($0) } ?? 1)
        if let level = params["consistencyLevel"] {
            request.consistencyLevel = try ConsistencyLevel.parse(GoJSON.stringVerb(level))
        }
        if let ttl = paramText(params, "ttlSeconds") { request.properties.set("collection.ttl.seconds", ttl) }
        if let mmap = paramText(params, "mmap.enabled") {
            // The catalog checks the value; Go's spellings of a boolean are all accepted.
            request.properties.set("mmap.enabled", GoJSON.parseBool(mmap).map { String($0) } ?? mmap)
        }
        if let isolation = paramText(params, "partitionKeyIsolation") {
            guard let enabled = GoJSON.parseBool(isolation.lowercased()) else {
                throw .invalidParameter("failed to parse partition key isolation: \(GoJSON.parseBoolError(isolation.lowercased()))")
            }
            request.properties.set("partitionkey.isolation", String(enabled))
        }

        var loadAfterCreate = false
        if fieldBodies.isEmpty {
            // Quick setup: an id primary key, one float vector field, an AUTOINDEX, loaded.
            guard let dimension = try body.int("dimension"), dimension > 0 else {
                throw .invalidParameter("dimension is required for quickly create collection(default metric type: COSINE)")
            }
            let primaryName = try body.string("primaryFieldName").flatMap { $0.isEmpty ? nil : $0 } ?? "id"
            let vectorName = try body.string("vectorFieldName").flatMap { $0.isEmpty ? nil : $0 } ?? "vector"
            let metric = try body.string("metricType").flatMap { $0.isEmpty ? nil : $0 } ?? "COSINE"
            var primary = FieldSchema(name: primaryName, dataType: .int64, isPrimary: true, autoID: try body.bool("autoID") ?? false)
            switch try body.string("idType") ?? "" {
            case "", "Int64", "int64": break
            case "VarChar", "Varchar":
                guard let text = paramText(params, "max_length") else {
                    throw .invalidParameter("max_length is required in params for a VarChar primary key")
                }
                guard let maxLength = Int64(text) else { throw .invalidParameter("max_length must be an integer, got \(text)") }
                primary.dataType = .varChar
                primary.typeParams = [KeyValue("max_length", String(maxLength))]
            case let other:
                throw .invalidParameter("idType can only be [Int64, VarChar], default: Int64, got: \(other)")
            }
            // Only quick setup reads `params.enableDynamicField`, with strconv.ParseBool; Milvus
            // answers a value it cannot parse with the bare strconv error (code 65535).
            var enableDynamic = true
            if let value = params["enableDynamicField"] {
                let text = GoJSON.text(value)
                guard let parsed = GoJSON.parseBool(text) else {
                    throw .badRequest("parse enableDynamicField fail, err:\(GoJSON.parseBoolError(text))")
                }
                enableDynamic = parsed
            }
            let vector = FieldSchema(name: vectorName, dataType: .floatVector, typeParams: [KeyValue("dim", String(dimension))])
            request.schema = CollectionSchema(fields: [primary, vector], enableDynamicField: enableDynamic)
            let spec = IndexSpec(indexName: vectorName, fieldName: vectorName, indexType: "AUTOINDEX", metricType: metric)
            try IndexRules.validate(spec, field: vector)
            request.indexes = [spec]
            loadAfterCreate = true
        } else {
            let schemaBody = schemaBody!
            // The schema's autoID applies to its primary field; a field has no autoID key of its
            // own in Milvus's REST schema. enableDynamicField is a strict boolean here.
            let autoID = try schemaBody.bool("autoID") ?? false
            var fields: [FieldSchema] = []
            for fieldBody in fieldBodies { fields.append(try decodeField(fieldBody, autoID: autoID)) }
            request.schema = CollectionSchema(fields: fields, enableDynamicField: try schemaBody.bool("enableDynamicField") ?? false)
            request.schema.functions = try (schemaBody.records("functions", structName: "FunctionSchema") ?? []).map(decodeFunction)
            // partitionsNum counts only with a partition key, and is dropped when not an integer.
            if fields.contains(where: \.isPartitionKey), let n = paramText(params, "partitionsNum").flatMap({ Int64($0) }), n > 0 {
                request.partitionsNum = Int(n)
            }
            if let indexParams = try body.records("indexParams", structName: "IndexParam"), !indexParams.isEmpty {
                request.indexes = try indexParams.map { (index) throws(ElanusError) -> IndexSpec in
                    try decodeIndex(index, schema: request.schema)
                }
                loadAfterCreate = true
            }
        }
        request.schema.description = try body.string("description") ?? ""
        return Decoded(request: request, loadAfterCreate: loadAfterCreate)
    }

    static func decodeField(_ body: RequestBody, autoID: Bool) throws(ElanusError) -> FieldSchema {
        let name = try body.string("fieldName", required: true)!
        let typeName = try body.string("dataType", required: true)!
        guard let type = DataType(rawValue: typeName) else {
            throw .invalidParameter("invalid data type \(typeName) of field \(name), the names are case-sensitive (e.g. Int64, VarChar, FloatVector)")
        }
        var field = FieldSchema(name: name, dataType: type)
        field.description = try body.string("description") ?? ""
        if let elementName = try body.string("elementDataType"), !elementName.isEmpty {
            guard let element = DataType(rawValue: elementName) else {
                throw .invalidParameter("invalid element data type \(elementName) of field \(name)")
            }
            field.elementType = element
        }
        field.isPrimary = try body.bool("isPrimary") ?? false
        field.isPartitionKey = try body.bool("isPartitionKey") ?? false
        field.isClusteringKey = try body.bool("isClusteringKey") ?? false
        field.nullable = try body.bool("nullable") ?? false
        field.autoID = field.isPrimary && autoID
        // `enable_analyzer`, `enable_match` and `analyzer_params` (an object, kept as its JSON
        // text) are checked with the rest of the schema.
        field.typeParams = try body.stringMap("elementTypeParams") ?? []
        if let value = body["defaultValue"], !value.isNull {
            if field.isPrimary { throw .invalidParameter("primary field not support default_value") }
            field.defaultValue = try ScalarValue.defaultValue(from: value, for: type, field: name)
        }
        return field
    }

    /// One of `schema.functions`: `{"name", "type", "inputFieldNames", "outputFieldNames",
    /// "description", "params"}`; the schema validator checks what it names.
    static func decodeFunction(_ body: RequestBody) throws(ElanusError) -> FunctionSchema {
        let typeName = try body.string("type", required: true)!
        guard let type = FunctionSchema.Kind(rawValue: typeName) ?? FunctionSchema.Kind.allCases.first(where: { $0.rawValue.lowercased() == typeName.lowercased() }) else {
            throw .invalidParameter("unknown function type \(typeName), expected BM25, TextEmbedding or Rerank")
        }
        return FunctionSchema(
            name: try body.string("name") ?? "", description: try body.string("description") ?? "", type: type,
            inputFieldNames: try body.stringArray("inputFieldNames") ?? [], outputFieldNames: try body.stringArray("outputFieldNames") ?? [],
            params: try body.stringMap("params") ?? [])
    }

    static func decodeIndex(_ body: RequestBody, schema: CollectionSchema) throws(ElanusError) -> IndexSpec {
        let fieldName = try body.string("fieldName", required: true)!
        guard let field = schema.field(named: fieldName) else {
            throw ElanusError(.missingRequired, "missing required parameters, error: field \(fieldName) of indexParams does not exist in the schema")
        }
        var params = try body.stringMap("params") ?? []
        var indexType = try body.string("indexType") ?? ""
        if indexType.isEmpty, let fromParams = params["index_type"] { indexType = fromParams }
        params.removeAll { $0.key == "index_type" || $0.key == "metric_type" }
        var spec = IndexSpec(
            indexName: try body.string("indexName") ?? "",
            fieldName: fieldName, indexType: indexType.isEmpty ? "AUTOINDEX" : indexType,
            metricType: try body.string("metricType") ?? "", params: params)
        try IndexRules.validate(spec, field: field)
        // Milvus names an index after its field, and a JSON path index after its path too.
        if spec.indexName.isEmpty { spec.indexName = IndexPlan.defaultIndexName(spec, field: field) }
        return spec
    }

    /// A `params` value as Milvus's handler reads it, `fmt.Sprintf("%v", value)`; nil when the
    /// key is absent. (A JSON number is a float64 to Go: `1000000` reads as `1e+06`.)
    static func paramText(_ params: RequestBody, _ key: String) -> String? {
        params[key].map(GoJSON.text)
    }
}

/// Which index types and metrics a field accepts; IndexPlan checks the parameters. The catalog
/// records only specs that a Milvus user could have created.
enum IndexRules {
    static let floatTypes: Set<String> = ["AUTOINDEX", "FLAT", "IVF_FLAT", "IVF_SQ8", "IVF_PQ", "HNSW", "HNSW_SQ", "HNSW_PQ", "SCANN"]
    /// Milvus 2.6 indexes an Int8Vector with HNSW only (AUTOINDEX picks it; FLAT is the exact scan).
    static let int8Types: Set<String> = ["AUTOINDEX", "FLAT", "HNSW"]
    static let binaryTypes: Set<String> = ["AUTOINDEX", "BIN_FLAT", "BIN_IVF_FLAT"]
    static let sparseTypes: Set<String> = ["AUTOINDEX", "SPARSE_INVERTED_INDEX", "SPARSE_WAND"]
    static let scalarTypes: Set<String> = ["AUTOINDEX", "STL_SORT", "Trie", "TRIE", "INVERTED", "BITMAP", "NGRAM", "RTREE"]

    static func validate(_ spec: IndexSpec, field: FieldSchema) throws(ElanusError) {
        let (types, metrics): (Set<String>, Set<String>) =
            switch field.dataType {
            case .floatVector, .float16Vector, .bfloat16Vector: (floatTypes, ["L2", "IP", "COSINE"])
            case .int8Vector: (int8Types, ["L2", "IP", "COSINE"])
            case .binaryVector: (binaryTypes, ["HAMMING", "JACCARD", "SUBSTRUCTURE", "SUPERSTRUCTURE"])
            case .sparseFloatVector: (sparseTypes, ["IP", "BM25"])
            default: (scalarTypes, [])
            }
        // Milvus's types Elanus does not build yet go on to IndexPlan, which says so.
        guard types.contains(spec.indexType) || types == floatTypes && IndexPlan.notYetSupported.contains(spec.indexType) else {
            throw .invalidParameter(
                "index type \(spec.indexType) is not supported for field \(field.name) of type \(field.dataType.rawValue), supported: \(types.sorted().joined(separator: ", "))")
        }
        if field.dataType.isVector {
            guard spec.metricType.isEmpty || metrics.contains(spec.metricType.uppercased()) else {
                throw .invalidParameter(
                    "metric type \(spec.metricType) is not supported for field \(field.name) of type \(field.dataType.rawValue), supported: \(metrics.sorted().joined(separator: ", "))")
            }
        }
        // Parameter names, ranges, defaults and field types as Milvus checks them.
        _ = try IndexPlan.make(spec, field: field)
    }
}
