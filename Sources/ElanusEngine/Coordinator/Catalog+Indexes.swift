import ElanusCore

/// Index specs in the catalog (the index coordinator's records).
extension Catalog {
    /// Adds an index spec. Milvus allows one index per field and unique index names; creating the
    /// same spec again is accepted and changes nothing.
    public func createIndex(database: String, collection: String, _ spec: IndexSpec) throws(ElanusError) {
        try validateName(spec.indexName, kind: .index, limits: limits)
        try update(database: database, name: collection) { info throws(ElanusError) in
            if let existing = info.indexes.first(where: { $0.fieldName == spec.fieldName }) {
                guard existing == spec else {
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
}
