import ElanusCore
import ElanusQuery

/// Index specs in the catalog (the index coordinator's records).
extension Catalog {
    /// Adds an index spec. Milvus allows one index per field (per JSON path on a JSON field) and
    /// unique index names; creating the same spec again is accepted and changes nothing.
    public func createIndex(database: String, collection: String, _ spec: IndexSpec) throws(ElanusError) {
        // The name Milvus makes up for a JSON path index (`meta/color`) is no valid user name.
        let schema = try self.collection(database: database, name: collection).schema
        let field = schema.field(named: spec.fieldName)
        try BM25Parameters.checkMetric(spec, schema: schema)
        if field.map({ spec.indexName != IndexPlan.defaultIndexName(spec, field: $0) }) ?? true {
            try validateName(spec.indexName, kind: .index, limits: limits)
        }
        let path = field.flatMap { $0.dataType == .json ? try? IndexPlan.jsonPath(spec, field: $0) : nil }
        try update(database: database, name: collection) { info throws(ElanusError) in
            let sameTarget = info.indexes.filter { existing in
                guard existing.fieldName == spec.fieldName else { return false }
                guard let path, let field else { return true }
                return (try? IndexPlan.jsonPath(existing, field: field)) == path
            }
            if let existing = sameTarget.first {
                // Properties set since (indexes/alter_properties) do not make it another index.
                guard Catalog.withoutProperties(existing) == Catalog.withoutProperties(spec) else {
                    throw .invalidParameter("at most one distinct index is allowed per field, field \(spec.fieldName) already has index \(existing.indexName)")
                }
                return
            }
            guard !info.indexes.contains(where: { $0.indexName == spec.indexName }) else {
                throw .invalidParameter("index name \(spec.indexName) is already used by another field")
            }
            info.indexes.append(spec)
        }
    }

    /// Removes an index spec and returns it. A vector index of a loaded collection cannot be
    /// dropped, as in Milvus.
    @discardableResult
    public func dropIndex(database: String, collection: String, indexName: String) throws(ElanusError) -> IndexSpec? {
        var dropped: IndexSpec?
        try update(database: database, name: collection) { info throws(ElanusError) in
            guard let spec = info.indexes.first(where: { $0.indexName == indexName }) else { return }
            if info.loaded, info.schema.field(named: spec.fieldName)?.dataType.isVector == true {
                throw .invalidParameter("vector index cannot be dropped on loaded collection: \(info.name)")
            }
            info.indexes.removeAll { $0.indexName == indexName }
            dropped = spec
        }
        return dropped
    }

    /// The index properties `indexes/alter_properties` and `drop_properties` change (Milvus's
    /// configurable index params), kept in the spec's params as Milvus keeps them in the index's
    /// user params, so `indexes/describe` shows them there too.
    public static let indexProperties: Set<String> = ["mmap.enabled", "indexoffsetcache.enabled", "warmup"]

    static func withoutProperties(_ spec: IndexSpec) -> IndexSpec {
        var spec = spec
        spec.params.removeAll { indexProperties.contains($0.key) }
        return spec
    }

    /// `indexes/alter_properties`: sets properties of an index, as Milvus's proxy and data
    /// coordinator check them: configurable keys only (1100), on a released collection (104,
    /// since Milvus applies them when it loads), boolean values for the two switches.
    public func alterIndexProperties(database: String, collection: String, indexName: String, set: [KeyValue]) throws(ElanusError) {
        try checkPropertyKeys(set.map(\.key))
        try updateIndex(database: database, collection: collection, indexName: indexName) { spec throws(ElanusError) in
            for kv in set {
                switch kv.key {
                case "mmap.enabled":
                    guard ["true", "false"].contains(kv.value.lowercased()) else { throw .invalidParameter("invalid mmap.enabled value: \(kv.value), expected: true, false") }
                case "indexoffsetcache.enabled":
                    guard ["true", "false"].contains(kv.value.lowercased()) else { throw .invalidParameter("invalid offset cache index params") }
                default: break
                }
                spec.params.set(kv.key, kv.value)
            }
        }
    }

    /// `indexes/drop_properties`: removes properties of an index, under the same rules.
    public func dropIndexProperties(database: String, collection: String, indexName: String, keys: [String]) throws(ElanusError) {
        try checkPropertyKeys(keys)
        try updateIndex(database: database, collection: collection, indexName: indexName) { spec in
            spec.params.removeAll { keys.contains($0.key) }
        }
    }

    private func checkPropertyKeys(_ keys: [String]) throws(ElanusError) {
        // Milvus's own spelling, which clients match on.
        if let key = keys.first(where: { !Catalog.indexProperties.contains($0) }) { throw .invalidParameter("\(key) is not a configable index proptery") }
    }

    /// Changes one index spec of a released collection through the catalog's durable update.
    private func updateIndex(database: String, collection: String, indexName: String, _ change: (inout IndexSpec) throws(ElanusError) -> Void) throws(ElanusError) {
        try update(database: database, name: collection) { info throws(ElanusError) in
            if info.loaded {
                throw ElanusError(.collectionLoaded, "can't alter index on loaded collection, please release the collection first: collection already loaded[collection=\(info.name)]")
            }
            guard let i = info.indexes.firstIndex(where: { $0.indexName == indexName }) else {
                throw ElanusError(.indexNotFound, "index not found[indexName=\(indexName)]")
            }
            try change(&info.indexes[i])
        }
    }
}
