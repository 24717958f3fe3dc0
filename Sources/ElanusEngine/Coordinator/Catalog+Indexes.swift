import ElanusCore
import ElanusQuery

/// Index specs in the catalog (the index coordinator's records).
extension Catalog {
    /// Adds an index spec. Milvus allows one index per field (per JSON path on a JSON field) and
    /// unique index names; creating the same spec again is accepted and changes nothing.
    public func createIndex(database: String, collection: String, _ spec: IndexSpec) throws(ElanusError) {
        // The name Milvus makes up for a JSON path index (`meta/color`) is no valid user name.
        let field = try self.collection(database: database, name: collection).schema.field(named: spec.fieldName)
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
