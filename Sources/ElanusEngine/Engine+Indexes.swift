import ElanusCore

/// Vector and scalar indexes: their plans, creation and removal, and build progress as
/// `indexes/describe` reports it.
extension Engine {
    public struct IndexProgress: Sendable, Equatable {
        public var totalRows: Int
        public var indexedRows: Int
        public var pendingRows: Int
        /// "Finished", "InProgress" or "Failed".
        public var state: String
        public var failReason: String

        public init(totalRows: Int, indexedRows: Int, pendingRows: Int, state: String, failReason: String) {
            self.totalRows = totalRows
            self.indexedRows = indexedRows
            self.pendingRows = pendingRows
            self.state = state
            self.failReason = failReason
        }
    }

    /// The plans of the collection's indexes, by field id. Specs the catalog holds were
    /// validated when created, so one that no longer validates is skipped rather than fatal.
    func indexPlans(_ info: CollectionInfo) -> [Int64: IndexPlan] {
        var plans: [Int64: IndexPlan] = [:]
        for spec in info.indexes {
            guard let field = info.schema.field(named: spec.fieldName),
                let plan = try? IndexPlan.make(spec, field: field)
            else { continue }
            plans[field.fieldID] = plan
        }
        return plans
    }

    /// Every (collection, field, plan) whose flushed segments the index node should index.
    func indexJobs() -> [IndexBuilder.Job] {
        var jobs: [IndexBuilder.Job] = []
        for info in catalog.allCollections() {
            guard let data = loadedData(info.id) else { continue }
            for (fieldID, plan) in indexPlans(info) where plan.kind != .exact {
                guard let field = info.schema.fields.first(where: { $0.fieldID == fieldID }) else { continue }
                let collectionID = info.id
                jobs.append(IndexBuilder.Job(data: data, field: field, plan: plan) { [weak self] in
                    guard let self, let current = catalog.collection(id: collectionID) else { return nil }
                    return indexPlans(current)[fieldID]
                })
            }
        }
        return jobs
    }

    /// `indexes/create`: records the spec; the index node builds it for every flushed segment.
    public func createIndex(database: String, collection: String, _ spec: IndexSpec) throws(ElanusError) {
        let info = try catalog.collection(database: database, name: collection)
        guard let field = info.schema.field(named: spec.fieldName) else { throw ElanusError(.fieldNotFound, "field not found[field=\(spec.fieldName)]") }
        _ = try IndexPlan.make(spec, field: field)
        try catalog.createIndex(database: database, collection: collection, spec)
        indexBuilder.clearFailure(collection: info.id, field: field.fieldID)
        indexBuilder.wake()
    }

    /// `indexes/drop`: removes the spec, then every segment's index file for it.
    public func dropIndex(database: String, collection: String, indexName: String) throws(ElanusError) {
        let info = try catalog.collection(database: database, name: collection)
        guard let spec = try catalog.dropIndex(database: database, collection: collection, indexName: indexName),
            let field = info.schema.field(named: spec.fieldName)
        else { return }
        jobs.cancel(collection: info.id, field: field.fieldID, kinds: [.indexBuild])
        try data(for: info).dropIndexes(field: field.fieldID)
        indexBuilder.clearFailure(collection: info.id, field: field.fieldID)
    }

    /// Build progress of one index over the collection's flushed segments (growing rows are not
    /// indexed, as in Milvus: `collections/flush` first).
    public func indexProgress(_ info: CollectionInfo, _ spec: IndexSpec) throws(ElanusError) -> IndexProgress {
        guard let field = info.schema.field(named: spec.fieldName) else { throw ElanusError(.fieldNotFound, "field not found[field=\(spec.fieldName)]") }
        let plan = try? IndexPlan.make(spec, field: field)
        let builds = plan.map { $0.kind != .exact } ?? false
        let minRows = max(indexBuilder.minSegmentRows, plan?.minimumRows ?? 1)
        let (total, indexed) = try data(for: info).indexProgress(field: field.fieldID, minRows: minRows, builds: builds)
        let failure = indexBuilder.status.withLock { $0.failures[info.id]?[field.fieldID] }
        let state = failure != nil ? "Failed" : (indexed < total ? "InProgress" : "Finished")
        return IndexProgress(totalRows: total, indexedRows: indexed, pendingRows: total - indexed, state: state, failReason: failure ?? "")
    }
}
