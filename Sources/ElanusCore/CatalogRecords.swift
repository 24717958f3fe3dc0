/// Catalog records: the plain values the coordinator persists in the meta store and the server
/// renders in describe responses.

public struct DatabaseInfo: Codable, Equatable, Sendable {
    public var id: Int64
    public var name: String
    public var properties: [KeyValue]
    public var createdAt: UInt64

    public init(id: Int64, name: String, properties: [KeyValue] = [], createdAt: UInt64 = 0) {
        self.id = id
        self.name = name
        self.properties = properties
        self.createdAt = createdAt
    }
}

public struct PartitionInfo: Codable, Equatable, Sendable {
    public var id: Int64
    public var name: String
    public var createdAt: UInt64
    /// Whether the query node serves this partition (collections/load, partitions/load).
    public var loaded: Bool

    public init(id: Int64, name: String, createdAt: UInt64, loaded: Bool = false) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
        self.loaded = loaded
    }

    enum CodingKeys: String, CodingKey { case id, name, createdAt, loaded }

    // Records written before per-partition load state existed have no "loaded" key.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(Int64.self, forKey: .id)
        name = try c.decode(String.self, forKey: .name)
        createdAt = try c.decode(UInt64.self, forKey: .createdAt)
        loaded = try c.decodeIfPresent(Bool.self, forKey: .loaded) ?? false
    }
}

/// An index as declared (name, field, type, metric, params). Building indexes is the index
/// node's work; the catalog only records what was asked for.
public struct IndexSpec: Codable, Equatable, Sendable {
    public var indexName: String
    public var fieldName: String
    public var indexType: String
    public var metricType: String
    public var params: [KeyValue]

    public init(indexName: String, fieldName: String, indexType: String, metricType: String, params: [KeyValue] = []) {
        self.indexName = indexName
        self.fieldName = fieldName
        self.indexType = indexType
        self.metricType = metricType
        self.params = params
    }
}

public enum LoadState: String, Codable, Sendable {
    case notLoad = "LoadStateNotLoad"
    case loading = "LoadStateLoading"
    case loaded = "LoadStateLoaded"
}

public struct CollectionInfo: Codable, Equatable, Sendable {
    public var id: Int64
    public var databaseID: Int64
    public var name: String
    public var schema: CollectionSchema
    public var shardsNum: Int
    public var consistencyLevel: ConsistencyLevel
    public var properties: [KeyValue]
    public var partitions: [PartitionInfo]
    public var indexes: [IndexSpec]
    public var createdAt: UInt64
    /// When the schema last changed (a field added or altered), in the same milliseconds as
    /// `createdAt`; nil until it first does. Clients holding an older schema are told so.
    public var schemaUpdatedAt: UInt64?

    /// The schema's version as Milvus's `update_timestamp`: a hybrid timestamp.
    public var schemaTimestamp: UInt64 { (schemaUpdatedAt ?? createdAt) << UInt64(HybridTimestamp.logicalBits) }

    /// A collection is loaded when any of its partitions is (Milvus reports partial loads so).
    public var loaded: Bool { partitions.contains(where: \.loaded) }

    public func partition(named name: String) -> PartitionInfo? { partitions.first(where: { $0.name == name }) }

    public init(
        id: Int64, databaseID: Int64, name: String, schema: CollectionSchema, shardsNum: Int,
        consistencyLevel: ConsistencyLevel, properties: [KeyValue], partitions: [PartitionInfo],
        indexes: [IndexSpec], createdAt: UInt64
    ) {
        self.id = id
        self.databaseID = databaseID
        self.name = name
        self.schema = schema
        self.shardsNum = shardsNum
        self.consistencyLevel = consistencyLevel
        self.properties = properties
        self.partitions = partitions
        self.indexes = indexes
        self.createdAt = createdAt
    }
}

/// A collection alias: another name, in the collection's database, that resolves to it.
public struct AliasInfo: Codable, Equatable, Sendable {
    public var name: String
    public var databaseID: Int64
    public var collectionID: Int64
    public var createdAt: UInt64

    public init(name: String, databaseID: Int64, collectionID: Int64, createdAt: UInt64) {
        self.name = name
        self.databaseID = databaseID
        self.collectionID = collectionID
        self.createdAt = createdAt
    }
}
