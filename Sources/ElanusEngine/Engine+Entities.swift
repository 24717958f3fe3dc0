import ElanusCore
import ElanusQuery

/// The DML of the engine (Milvus's proxy + data node): insert, upsert, delete, get, counts, flush.
/// Callers pass the CollectionInfo their rows were decoded against.
extension Engine {
    /// Inserts rows; returns their primary keys (generated ones for autoID).
    public func insert(_ info: CollectionInfo, partitionName: String?, batch: EntityBatch) throws(ElanusError) -> [PrimaryKey] {
        let primary = try primaryField(info)
        var batch = batch
        try generateKeys(&batch, primary)
        try BM25Function.fill(&batch, schema: info.schema)
        let parts = try PartitionRouter.route(batch, info: info, partitionName: partitionName)
        _ = try data(for: info).write { timestamp throws(ElanusError) in
            WriteRecord(timestamp: timestamp, inserts: parts)
        }
        counters.rowsInserted.add(batch.rowCount, ordering: .relaxed)
        return batch.primaryKeys(primary.fieldID)
    }

    /// Upserts rows: deletes every older version of their keys and inserts them, at one
    /// timestamp. `absentFields` (partial update) lists, per row, fields that keep their old value.
    public func upsert(
        _ info: CollectionInfo, partitionName: String?, batch: EntityBatch, absentFields: [[Int64]] = []
    ) throws(ElanusError) -> [PrimaryKey] {
        let primary = try primaryField(info)
        let keys = batch.primaryKeys(primary.fieldID)
        let collection = try data(for: info)
        if !absentFields.isEmpty { try ensureLoaded(info, collection, partitions: nil) }
        _ = try collection.write { timestamp throws(ElanusError) in
            // Under the writer lock, so the old values merged in are those of the newest version.
            // A row of a released partition has only its key in memory: it cannot be merged.
            var merged =
                absentFields.isEmpty
                ? batch
                : try PartialUpdate.merge(batch, absent: absentFields, schema: info.schema, primaryKeys: keys) { key throws(ElanusError) in
                    let (row, released) = collection.read { s -> (EntityBatch?, Bool) in
                        guard let location = s.live[key] else { return (nil, false) }
                        return (Engine.rows(at: [location], of: s), s.segments[location.segmentID]?.released == true)
                    }
                    if released {
                        throw ElanusError(.collectionNotLoaded, "partial update of \(key) needs its partition loaded[collection=\(info.name)]")
                    }
                    return row
                }
            // After the merge, so a partial update that keeps the old text keeps its vector.
            try BM25Function.fill(&merged, schema: info.schema)
            return WriteRecord(
                timestamp: timestamp, deletes: keys,
                inserts: try PartitionRouter.route(merged, info: info, partitionName: partitionName))
        }
        counters.rowsUpserted.add(keys.count, ordering: .relaxed)
        return keys
    }

    /// Deletes the rows matching `filter` (the whole filter language); returns how many live
    /// rows it deleted. `pk in [...]` and `pk == v` go straight to the keys; any other filter is
    /// evaluated over the current rows first, and the keys it matched are deleted.
    /// `cancellation` can stop the scan of a filter; once the delete is written it runs to the end.
    public func delete(
        _ info: CollectionInfo, partitionName: String?, filter: String, params: [(key: String, value: JSON)] = [],
        cancellation: Cancellation? = nil
    ) throws(ElanusError) -> Int {
        let primary = try primaryField(info)
        var scope: Int64?
        if let partitionName, !partitionName.isEmpty {
            guard let partition = info.partition(named: partitionName) else { throw Catalog.partitionNotFound(partitionName) }
            scope = partition.id
        }
        let collection = try data(for: info)
        var keys: [PrimaryKey]
        // ISO literals without an offset are local times of the collection's zone, as Milvus
        // plans a delete.
        let predicate = try FilterChecker.check(filter, schema: info.schema, params: params, timeZone: try timeZone(info))
        if let direct = Engine.primaryKeys(of: predicate, primary) {
            keys = direct
        } else {
            // Any other filter reads the rows' fields, so they must be in memory, as in Milvus.
            try ensureLoaded(info, collection, partitions: scope.map { [$0] })
            let segments = collection.snapshot(partitions: scope.map { [$0] })
            if segments.contains(where: \.released) {
                throw ElanusError(.collectionNotLoaded, "collection not loaded[collection=\(info.name)]: a delete by filter reads the rows, load the collection first")
            }
            keys = []
            try ScanPlan(segments, predicate: predicate, cancellation: cancellation).forEachRow { batch, row in
                switch batch.column(primary.fieldID)?.value(at: row) {
                case .int(let i)?: keys.append(.int(i))
                case .string(let s)?: keys.append(.string(s))
                default: break
                }
                return true
            }
        }
        var seen = Set<PrimaryKey>()
        keys = keys.filter { seen.insert($0).inserted }
        if keys.isEmpty { return 0 }
        // The last point where the delete may stop: past it, it is written.
        try cancellation?.check()
        var deleted = 0
        _ = try collection.write { timestamp throws(ElanusError) in
            deleted = collection.read { s in
                keys.reduce(0) { n, key in
                    guard let location = s.live[key], scope == nil || scope == location.partitionID else { return n }
                    return n + 1
                }
            }
            return WriteRecord(timestamp: timestamp, deletes: keys, deletePartition: scope)
        }
        counters.rowsDeleted.add(deleted, ordering: .relaxed)
        return deleted
    }

    /// Fills an autoID primary key's placeholders with new keys, reserved from the timestamp
    /// oracle: unique, and never reused after a restart.
    func generateKeys(_ batch: inout EntityBatch, _ primary: FieldSchema) throws(ElanusError) {
        guard primary.autoID else { return }
        let first = try tso.reserve(batch.rowCount)
        let ids = (0..<batch.rowCount).map { Int64(bitPattern: first + UInt64($0)) }
        if let c = batch.columns.firstIndex(where: { $0.fieldID == primary.fieldID }) {
            batch.columns[c] = Column(fieldID: primary.fieldID, values: .int64(ids))
        }
    }

    /// The keys of a filter that only names primary keys (`pk in [...]`, `pk == v`).
    static func primaryKeys(of predicate: Predicate, _ primary: FieldSchema) -> [PrimaryKey]? {
        let values: [FilterValue]
        switch predicate {
        case .inList(.scalar(let id, _), let list, negated: false) where id == primary.fieldID: values = list
        case .compare(.scalar(let id, _), .eq, let value) where id == primary.fieldID: values = [value]
        default: return nil
        }
        return values.compactMap { value in
            switch value {
            case .int(let i): .int(i)
            case .string(let s): .string(s)
            default: nil
            }
        }
    }

    /// The newest live version of each key that exists (in the given partitions, if any), in the
    /// order asked.
    /// `cancellation` is checked once, first: a request that waited past its deadline does no work.
    public func get(
        _ info: CollectionInfo, keys: [PrimaryKey], partitionNames: [String] = [], cancellation: Cancellation? = nil
    ) throws(ElanusError) -> EntityBatch {
        try cancellation?.check()
        let partitions = try partitionIDs(info, partitionNames)
        let collection = try data(for: info)
        try ensureLoaded(info, collection, partitions: partitions)
        return collection.read { s in
            var seen = Set<PrimaryKey>()
            // Rows of released partitions are not read (only their keys are in memory).
            let locations = keys.compactMap { key -> RowLocation? in
                guard seen.insert(key).inserted, let location = s.live[key], s.segments[location.segmentID]?.released == false else { return nil }
                return partitions == nil || partitions!.contains(location.partitionID) ? location : nil
            }
            return Engine.rows(at: locations, of: s, schema: info.schema)
        }
    }

    /// The exact number of live entities, in the collection or in one partition.
    public func rowCount(_ info: CollectionInfo, partitionName: String? = nil) throws(ElanusError) -> Int {
        let partitions = try partitionIDs(info, partitionName.map { [$0] } ?? [])
        return try data(for: info).liveRows(partitions: partitions)
    }

    /// `collections/flush`: seals every growing segment of the collection and writes each
    /// sealed one to the object store, so that a restart loads it instead of replaying the log.
    public func flush(_ info: CollectionInfo) throws(ElanusError) {
        let data = try data(for: info)
        try data.waitApplied()
        data.sealGrowing(all: true)
        if try data.flushSealed() > 0 { indexBuilder.wake() }
    }

    // MARK: - Helpers

    func primaryField(_ info: CollectionInfo) throws(ElanusError) -> FieldSchema {
        guard let field = info.schema.primaryField else { throw .unexpected("collection \(info.name) has no primary key") }
        return field
    }

    func partitionIDs(_ info: CollectionInfo, _ names: [String]) throws(ElanusError) -> Set<Int64>? {
        guard !names.isEmpty else { return nil }
        var ids = Set<Int64>()
        for name in names {
            guard let partition = info.partition(named: name) else { throw Catalog.partitionNotFound(name) }
            ids.insert(partition.id)
        }
        return ids
    }

    /// Copies the rows at `locations` out of the segments into one batch.
    static func rows(at locations: [RowLocation], of s: borrowing CollectionData.Applied, schema: CollectionSchema? = nil) -> EntityBatch {
        var refs: [(batch: EntityBatch, row: Int)] = []
        for location in locations {
            guard let chunk = s.segments[location.segmentID]?.chunks[Int(location.chunk)] else { continue }
            refs.append((chunk.batch, Int(location.row)))
        }
        guard let shape = refs.first?.batch ?? schema.map(EntityBatch.init(emptyFor:)) else { return EntityBatch(columns: []) }
        return EntityBatch.gather(refs, shape: shape)
    }
}
