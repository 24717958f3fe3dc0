import ElanusCore

/// What `collections/create` asks the coordinator for, after the server has decoded the JSON.
/// Field IDs are ignored: the catalog assigns them (100, 101, ... in schema order).
public struct CreateCollectionRequest: Sendable {
    public var database: String
    public var name: String
    public var schema: CollectionSchema
    public var shardsNum: Int
    public var consistencyLevel: ConsistencyLevel
    public var properties: [KeyValue]
    /// Partitions to create when the schema has a partition key (Milvus default 16).
    public var partitionsNum: Int?
    public var indexes: [IndexSpec]

    public init(
        database: String, name: String, schema: CollectionSchema, shardsNum: Int = 1,
        consistencyLevel: ConsistencyLevel = .bounded, properties: [KeyValue] = [], partitionsNum: Int? = nil,
        indexes: [IndexSpec] = []
    ) {
        self.database = database
        self.name = name
        self.schema = schema
        self.shardsNum = shardsNum
        self.consistencyLevel = consistencyLevel
        self.properties = properties
        self.partitionsNum = partitionsNum
        self.indexes = indexes
    }
}
