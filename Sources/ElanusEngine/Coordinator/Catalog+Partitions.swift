import ElanusCore

/// Partition DDL. A collection with a partition key manages its partitions itself
/// (`_default_0` ... `_default_{n-1}`), so users may not create or drop them there, as in Milvus.
extension Catalog {
    public func partitions(database: String, collection: String) throws(ElanusError) -> [PartitionInfo] {
        try self.collection(database: database, name: collection).partitions
    }

    public func partition(database: String, collection: String, name: String) throws(ElanusError) -> PartitionInfo {
        let info = try self.collection(database: database, name: collection)
        guard let partition = info.partition(named: name) else { throw Catalog.partitionNotFound(name) }
        return partition
    }

    static func partitionNotFound(_ name: String) -> ElanusError {
        ElanusError(.partitionNotFound, "partition not found[partition=\(name)]")
    }

    /// Creates a partition; creating one that exists succeeds. A partition created in a loaded
    /// collection is loaded too.
    public func createPartition(database: String, collection: String, name: String) throws(ElanusError) {
        try validateName(name, kind: .partition, limits: limits)
        try update(database: database, name: collection) { (info: inout CollectionInfo, nextID: inout Int64) throws(ElanusError) in
            if info.schema.partitionKeyField != nil {
                throw .invalidParameter("disable create partition if partition key mode is used")
            }
            if info.partition(named: name) != nil { return }
            if info.partitions.count >= limits.maxPartitions {
                throw .badRequest("partition number (\(info.partitions.count)) exceeds max configuration (\(limits.maxPartitions))")
            }
            info.partitions.append(PartitionInfo(id: nextID, name: name, createdAt: clock(), loaded: info.loaded))
            nextID += 1
        }
    }

    /// Drops a partition and returns its ID; dropping one that does not exist succeeds (nil).
    /// The engine drops the partition's data after this.
    @discardableResult
    public func dropPartition(database: String, collection: String, name: String) throws(ElanusError) -> Int64? {
        var droppedID: Int64?
        try update(database: database, name: collection) { info throws(ElanusError) in
            if info.schema.partitionKeyField != nil {
                throw .invalidParameter("disable drop partition if partition key mode is used")
            }
            if name == Catalog.defaultPartition { throw .badRequest("default partition cannot be deleted") }
            guard let partition = info.partition(named: name) else { return }
            if partition.loaded {
                throw .badRequest("partition cannot be dropped, partition is loaded, please release it first")
            }
            info.partitions.removeAll { $0.name == name }
            droppedID = partition.id
        }
        return droppedID
    }

    /// Loads the named partitions (all must exist; the collection needs its vector indexes).
    public func loadPartitions(database: String, collection: String, names: [String]) throws(ElanusError) {
        try setLoaded(database: database, collection: collection, names: names, loaded: true)
    }

    public func releasePartitions(database: String, collection: String, names: [String]) throws(ElanusError) {
        try setLoaded(database: database, collection: collection, names: names, loaded: false)
    }

    private func setLoaded(database: String, collection: String, names: [String], loaded: Bool) throws(ElanusError) {
        try update(database: database, name: collection) { info throws(ElanusError) in
            for name in names where info.partition(named: name) == nil { throw Catalog.partitionNotFound(name) }
            if loaded { try Catalog.checkIndexedForLoad(info) }
            for i in info.partitions.indices where names.contains(info.partitions[i].name) {
                info.partitions[i].loaded = loaded
            }
        }
    }
}
