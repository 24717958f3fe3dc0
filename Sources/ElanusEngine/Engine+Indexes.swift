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

    /// The collection's indexes: each spec's field, plan and key (`IndexPlan.key`: the field id,
    /// or a JSON path's own key). Specs the catalog holds were validated when created, so one that
    /// no longer validates is skipped rather than fatal.
    /// Each VarChar field with `enable_match` also gets its implicit match index (see
    /// `TextMatchIndex`), and each BM25 function's output its term statistics (see
    /// `TermStatisticsIndex`), which no spec names.
    func indexTargets(_ info: CollectionInfo) -> [(field: FieldSchema, plan: IndexPlan, key: Int64)] {
        let specified: [(field: FieldSchema, plan: IndexPlan, key: Int64)] = info.indexes.compactMap { spec in
            guard let field = info.schema.field(named: spec.fieldName),
                let plan = try? IndexPlan.make(spec, field: field)
            else { return nil }
            return (field, plan, plan.key(fieldID: field.fieldID))
        }
        let implicit = info.schema.fields.filter { $0.dataType == .varChar && $0.enableAnalyzer && $0.enableMatch }.map { field in
            (field: field, plan: IndexPlan.textMatch(field), key: IndexPlan.textMatchKey(field.fieldID))
        }
        let statistics = info.schema.functions.filter { $0.type == .bm25 }.compactMap { function in
            function.outputFieldNames.first.flatMap { info.schema.field(named: $0) }.map { field in
                (field: field, plan: IndexPlan.termStatistics, key: IndexPlan.termStatisticsKey(field.fieldID))
            }
        }
        return specified + implicit + statistics
    }

    /// The plans of the collection's indexes, by key (the field id for a whole column).
    func indexPlans(_ info: CollectionInfo) -> [Int64: IndexPlan] {
        Dictionary(indexTargets(info).map { ($0.key, $0.plan) }) { $1 }
    }

    /// The key of an index spec's segment indexes (its field id when it does not validate).
    func indexKey(_ spec: IndexSpec, field: FieldSchema) -> Int64 {
        (try? IndexPlan.make(spec, field: field))?.key(fieldID: field.fieldID) ?? field.fieldID
    }

    /// Every (collection, field, plan) whose flushed segments the index node should index.
    func indexJobs() -> [IndexBuilder.Job] {
        var jobs: [IndexBuilder.Job] = []
        for info in catalog.allCollections() {
            guard let data = loadedData(info.id) else { continue }
            for (field, plan, key) in indexTargets(info) where plan.kind != .exact {
                let collectionID = info.id
                jobs.append(IndexBuilder.Job(data: data, field: field, plan: plan, key: key) { [weak self] in
                    guard let self, let current = catalog.collection(id: collectionID) else { return nil }
                    return indexPlans(current)[key]
                })
            }
        }
        return jobs
    }

    /// `indexes/create`: records the spec; the index node builds it for every flushed segment.
    public func createIndex(database: String, collection: String, _ spec: IndexSpec) throws(ElanusError) {
        let info = try catalog.collection(database: database, name: collection)
        guard let field = info.schema.field(named: spec.fieldName) else { throw ElanusError(.fieldNotFound, "field not found[field=\(spec.fieldName)]") }
        let plan = try IndexPlan.make(spec, field: field)
        try catalog.createIndex(database: database, collection: collection, spec)
        indexBuilder.clearFailure(collection: info.id, field: plan.key(fieldID: field.fieldID))
        indexBuilder.wake()
    }

    /// `indexes/drop`: removes the spec, then every segment's index file for it.
    public func dropIndex(database: String, collection: String, indexName: String) throws(ElanusError) {
        let info = try catalog.collection(database: database, name: collection)
        guard let spec = try catalog.dropIndex(database: database, collection: collection, indexName: indexName),
            let field = info.schema.field(named: spec.fieldName)
        else { return }
        let key = indexKey(spec, field: field)
        jobs.cancel(collection: info.id, field: key, kinds: [.indexBuild])
        try data(for: info).dropIndexes(field: key)
        indexBuilder.clearFailure(collection: info.id, field: key)
    }

    /// Build progress of one index over the collection's flushed segments (growing rows are not
    /// indexed, as in Milvus: `collections/flush` first).
    public func indexProgress(_ info: CollectionInfo, _ spec: IndexSpec) throws(ElanusError) -> IndexProgress {
        guard let field = info.schema.field(named: spec.fieldName) else { throw ElanusError(.fieldNotFound, "field not found[field=\(spec.fieldName)]") }
        let plan = try? IndexPlan.make(spec, field: field)
        let builds = plan.map { $0.kind != .exact } ?? false
        let minRows = max(indexBuilder.minSegmentRows, plan?.minimumRows ?? 1)
        let key = indexKey(spec, field: field)
        let (total, indexed) = try data(for: info).indexProgress(field: key, minRows: minRows, builds: builds)
        let failure = indexBuilder.status.withLock { $0.failures[info.id]?[key] }
        let state = failure != nil ? "Failed" : (indexed < total ? "InProgress" : "Finished")
        return IndexProgress(totalRows: total, indexedRows: indexed, pendingRows: total - indexed, state: state, failReason: failure ?? "")
    }
}
