import ElanusCore
import ElanusStorage
import Foundation
import Synchronization

/// The coordinator's catalog: databases and collections with their schemas, partitions, declared
/// indexes, properties and load state, persisted in the meta store.
///
/// Ordering and durability: every change is validated against the in-memory state, committed to
/// the meta store as one atomic batch (synced before `commit` returns), and only then applied in
/// memory. A caller that got success therefore knows the change survives a SIGKILL, and readers
/// never see a change that could still be lost. The lock is held across the commit so that two
/// DDL calls cannot interleave between validation and persistence; DDL is rare, so the fsync
/// under the lock costs nothing that matters.
public final class Catalog: Sendable {
    public static let defaultDatabase = "default"
    public static let maxDatabases = 64
    public static let defaultPartition = "_default"
    public static let defaultPartitionsWithKey = 16

    struct State {
        var databases: [String: DatabaseInfo] = [:]
        var collections: [Int64: CollectionInfo] = [:]
        /// database id -> collection name -> collection id
        var names: [Int64: [String: Int64]] = [:]
        /// database id -> alias -> collection id. An alias never equals a collection name in its
        /// database, so a name resolves to at most one collection.
        var aliases: [Int64: [String: AliasInfo]] = [:]
        var nextID: Int64 = 0
    }

    let store: any MetaStore
    /// Lock order: `addField` runs its `beforePublish` under this lock, which takes the engine's
    /// collection map and then a collection's data-node state lock; no code holding either of
    /// those calls into the catalog.
    let state: Mutex<State>
    let limits: SchemaLimits
    let clock: @Sendable () -> UInt64

    /// Loads the catalog from `store`, creating the default database on first start.
    /// `clock` gives wall-clock milliseconds (injected so tests control it).
    public init(
        store: any MetaStore, limits: SchemaLimits = SchemaLimits(),
        clock: @escaping @Sendable () -> UInt64 = { UInt64(Date().timeIntervalSince1970 * 1000) }
    ) throws(ElanusError) {
        self.store = store
        self.limits = limits
        self.clock = clock
        var loaded = State()
        for (_, value) in try store.scan(prefix: Keys.databasePrefix) {
            let db: DatabaseInfo = try Keys.decode(value)
            loaded.databases[db.name] = db
            loaded.names[db.id, default: [:]] = [:]
        }
        for (_, value) in try store.scan(prefix: Keys.collectionPrefix) {
            let collection: CollectionInfo = try Keys.decode(value)
            loaded.collections[collection.id] = collection
            loaded.names[collection.databaseID, default: [:]][collection.name] = collection.id
        }
        for (_, value) in try store.scan(prefix: Keys.aliasPrefix) {
            let alias: AliasInfo = try Keys.decode(value)
            loaded.aliases[alias.databaseID, default: [:]][alias.name] = alias
        }
        // IDs never repeat: start past both the persisted high-water mark and every ID in use.
        let persistedNext = try store.get(Keys.nextID).flatMap { Int64(String(decoding: $0, as: UTF8.self)) } ?? 0
        let maxUsed = (loaded.collections.values.flatMap { [$0.id] + $0.partitions.map(\.id) } + loaded.databases.values.map(\.id)).max() ?? 0
        loaded.nextID = max(persistedNext, maxUsed + 1, Int64(clock()) << 18)
        if loaded.databases[Catalog.defaultDatabase] == nil {
            let db = DatabaseInfo(id: 1, name: Catalog.defaultDatabase, createdAt: clock())
            try store.commit([.put(Keys.database(db.id), try Keys.encode(db))])
            loaded.databases[db.name] = db
            loaded.names[db.id] = [:]
        }
        state = Mutex(loaded)
    }

    // MARK: - Databases

    public func listDatabases() -> [String] {
        state.withLock { s in s.databases.values.sorted { $0.id < $1.id }.map(\.name) }
    }

    public func database(_ name: String) throws(ElanusError) -> DatabaseInfo {
        try state.withLock { s throws(ElanusError) in try s.database(name) }
    }

    public func createDatabase(_ name: String, properties: [KeyValue] = []) throws(ElanusError) {
        try validateName(name, kind: .database, limits: limits)
        for kv in properties where kv.key == Timestamptz.propertyKey { _ = try Timestamptz.zone(kv.value) }
        try state.withLock { s throws(ElanusError) in
            if s.databases[name] != nil { throw .badRequest("database already exist: \(name)") }
            if s.databases.count >= Catalog.maxDatabases {
                throw ElanusError(.databaseNumLimit, "database number (\(s.databases.count)) exceeds max configuration (\(Catalog.maxDatabases))")
            }
            let id = s.nextID
            let db = DatabaseInfo(id: id, name: name, properties: properties, createdAt: clock())
            try store.commit([.put(Keys.database(id), try Keys.encode(db)), .put(Keys.nextID, Keys.idBytes(id + 1))])
            s.nextID = id + 1
            s.databases[name] = db
            s.names[id] = [:]
        }
    }

    /// Drops an empty database. Dropping one that does not exist succeeds, as in Milvus.
    public func dropDatabase(_ name: String) throws(ElanusError) {
        if name == Catalog.defaultDatabase { throw .badRequest("can not drop default database") }
        try state.withLock { s throws(ElanusError) in
            guard let db = s.databases[name] else { return }
            if let names = s.names[db.id], !names.isEmpty {
                throw .badRequest("database:\(name) not empty, must drop all collections before drop database")
            }
            try store.commit([.delete(Keys.database(db.id))])
            s.databases[name] = nil
            s.names[db.id] = nil
        }
    }

    /// Sets (`set`) and removes (`remove`) database properties.
    public func alterDatabase(_ name: String, set: [KeyValue] = [], remove: [String] = []) throws(ElanusError) {
        for kv in set where kv.key == Timestamptz.propertyKey { _ = try Timestamptz.zone(kv.value) }
        try state.withLock { s throws(ElanusError) in
            var db = try s.database(name)
            for kv in set { db.properties.set(kv.key, kv.value) }
            db.properties.removeAll { remove.contains($0.key) }
            try store.commit([.put(Keys.database(db.id), try Keys.encode(db))])
            s.databases[name] = db
        }
    }

    // MARK: - Collections

    public func listCollections(database: String) throws(ElanusError) -> [String] {
        try state.withLock { s throws(ElanusError) in
            let db = try s.database(database)
            return (s.names[db.id] ?? [:]).values.compactMap { s.collections[$0] }.sorted { $0.id < $1.id }.map(\.name)
        }
    }

    public func collection(database: String, name: String) throws(ElanusError) -> CollectionInfo {
        try state.withLock { s throws(ElanusError) in try s.collection(database: database, name: name) }
    }

    public func hasCollection(database: String, name: String) throws(ElanusError) -> Bool {
        try state.withLock { s throws(ElanusError) in
            let db = try s.database(database)
            return s.names[db.id]?[name] != nil || s.aliases[db.id]?[name] != nil
        }
    }

    /// Creates a collection. Re-creating an existing one with the same schema succeeds and returns
    /// it unchanged (`created` false); a different schema under the same name is refused.
    @discardableResult
    public func createCollection(_ request: CreateCollectionRequest) throws(ElanusError) -> (info: CollectionInfo, created: Bool) {
        try validateName(request.name, kind: .collection, limits: limits)
        try request.schema.validate(limits: limits)
        try BM25Function.validateAnalyzers(request.schema)
        guard request.shardsNum >= 1 && request.shardsNum <= limits.maxShards else {
            throw .invalidParameter("maximum shards's number should be limited to \(limits.maxShards), got \(request.shardsNum)")
        }
        let hasPartitionKey = request.schema.partitionKeyField != nil
        let partitionsNum = hasPartitionKey ? (request.partitionsNum ?? Catalog.defaultPartitionsWithKey) : 1
        if !hasPartitionKey, let n = request.partitionsNum, n > 0 {
            throw .invalidParameter("partition num should not be set when there is no partition key field")
        }
        guard partitionsNum >= 1 && partitionsNum <= limits.maxPartitions else {
            throw .invalidParameter("partition number (\(partitionsNum)) exceeds max configuration (\(limits.maxPartitions))")
        }
        try validateProperties(request.properties)
        for index in request.indexes where request.schema.field(named: index.fieldName) == nil {
            throw ElanusError(.missingRequired, "missing required parameters, error: field \(index.fieldName) of index \(index.indexName) does not exist in the schema")
        }
        for index in request.indexes {
            try BM25Parameters.checkMetric(index, schema: request.schema)
            // The name Milvus makes up for a JSON path index (`meta/color`) is no valid user name.
            if let field = request.schema.field(named: index.fieldName), index.indexName == IndexPlan.defaultIndexName(index, field: field), field.dataType == .json { continue }
            try validateName(index.indexName, kind: .index, limits: limits)
        }
        return try state.withLock { s throws(ElanusError) in
            let db = try s.database(request.database)
            // The collection's zone is fixed now, as Milvus's root coordinator fixes it: the
            // request's `timezone` property, else a copy of the database's, else UTC. Later
            // changes to the database's zone leave the collection's alone.
            var properties = request.properties
            if properties[Timestamptz.propertyKey] == nil {
                properties.append(KeyValue(Timestamptz.propertyKey, db.properties[Timestamptz.propertyKey] ?? Timestamptz.utcName))
            }
            var schema = request.schema
            try schema.resolveTimestamptzDefaults(in: try Timestamptz.zone(properties[Timestamptz.propertyKey]!))
            if let existingID = s.names[db.id]?[request.name], let existing = s.collections[existingID] {
                guard existing.schema.sameDefinition(as: schema) && existing.shardsNum == request.shardsNum else {
                    throw .badRequest("create duplicate collection with different parameters, collection: \(request.name)")
                }
                return (existing, false)
            }
            if s.aliases[db.id]?[request.name] != nil {
                throw .badRequest("collection name [\(request.name)] conflicts with an existing alias, please choose a unique name")
            }
            var nextID = s.nextID
            func allocate() -> Int64 {
                defer { nextID += 1 }
                return nextID
            }
            for i in schema.fields.indices { schema.fields[i].fieldID = 100 + Int64(i) }
            let now = clock()
            let collectionID = allocate()
            let partitions =
                hasPartitionKey
                ? (0..<partitionsNum).map { PartitionInfo(id: allocate(), name: "\(Catalog.defaultPartition)_\($0)", createdAt: now) }
                : [PartitionInfo(id: allocate(), name: Catalog.defaultPartition, createdAt: now)]
            let info = CollectionInfo(
                id: collectionID, databaseID: db.id, name: request.name, schema: schema, shardsNum: request.shardsNum,
                consistencyLevel: request.consistencyLevel, properties: properties, partitions: partitions,
                indexes: request.indexes, createdAt: now)
            try store.commit([.put(Keys.collection(info.id), try Keys.encode(info)), .put(Keys.nextID, Keys.idBytes(nextID))])
            s.nextID = nextID
            s.collections[info.id] = info
            s.names[db.id, default: [:]][info.name] = info.id
            return (info, true)
        }
    }

    /// Every collection of every database.
    public func allCollections() -> [CollectionInfo] {
        state.withLock { s in s.collections.values.sorted { $0.id < $1.id } }
    }

    /// The collection with this id, if it still exists (background work outlives names).
    /// The name of the database with `id`, if it still exists.
    public func databaseName(id: Int64) -> String? {
        state.withLock { $0.databases.values.first(where: { $0.id == id })?.name }
    }

    public func collection(id: Int64) -> CollectionInfo? {
        state.withLock { $0.collections[id] }
    }

    /// Drops a collection and returns it; dropping one that does not exist succeeds (nil), as in
    /// Milvus.
    @discardableResult
    public func dropCollection(database: String, name: String) throws(ElanusError) -> CollectionInfo? {
        try state.withLock { s throws(ElanusError) in
            let db = try s.database(database)
            if s.aliases[db.id]?[name] != nil { throw .badRequest("cannot drop the collection via alias = \(name)") }
            guard let id = s.names[db.id]?[name], let info = s.collections[id] else { return nil }
            // Milvus keeps a dropped collection's aliases from pointing at nothing (or at a
            // later collection) by refusing the drop until they are gone.
            let aliases = s.aliasNames(of: id)
            if !aliases.isEmpty {
                throw .badRequest(
                    "unable to drop the collection [\(name)] because it has associated aliases [\(aliases.joined(separator: " "))], please remove all aliases before dropping the collection")
            }
            try store.commit([.delete(Keys.collection(id))])
            s.collections[id] = nil
            s.names[db.id]?[name] = nil
            return info
        }
    }

    public func renameCollection(database: String, name: String, newDatabase: String?, newName: String) throws(ElanusError) {
        try validateName(newName, kind: .collection, limits: limits)
        try state.withLock { s throws(ElanusError) in
            let source = try s.database(database)
            if s.aliases[source.id]?[name] != nil { throw .badRequest("unsupported use an alias to rename collection, alias:\(name)") }
            var info = try s.collection(database: database, name: name)
            let target = try s.database(newDatabase ?? database)
            if target.id != source.id && !s.aliasNames(of: info.id).isEmpty {
                throw .badRequest("fail to rename collection to different database, must drop all aliases of collection \(name) before rename")
            }
            if s.aliases[target.id]?[newName] != nil { throw .badRequest("cannot rename collection to an existing alias: \(newName)") }
            if s.names[target.id]?[newName] != nil {
                throw .badRequest("duplicated new collection name \(newName) in database \(target.name) with other collection name or alias")
            }
            let oldDatabaseID = info.databaseID
            info.name = newName
            info.databaseID = target.id
            try store.commit([.put(Keys.collection(info.id), try Keys.encode(info))])
            s.names[oldDatabaseID]?[name] = nil
            s.names[target.id, default: [:]][newName] = info.id
            s.collections[info.id] = info
        }
    }

    /// Replaces a collection by an empty one with the same name, schema, properties, indexes,
    /// partitions (by name), load state and aliases, under new collection and partition IDs, in
    /// one commit. Returns the old entry (whose data the caller then removes, as after a drop)
    /// and the new one. New IDs, rather than deleting rows under the old ones, make the truncate
    /// atomic: no reader or restart can see some of the old rows, and a crash after the commit
    /// leaves only orphans under an ID that is never reused.
    public func truncateCollection(database: String, name: String) throws(ElanusError) -> (old: CollectionInfo, new: CollectionInfo) {
        try state.withLock { s throws(ElanusError) in
            let old = try s.collection(database: database, name: name)
            var nextID = s.nextID
            func allocate() -> Int64 {
                defer { nextID += 1 }
                return nextID
            }
            var info = old
            info.id = allocate()
            for i in info.partitions.indices { info.partitions[i].id = allocate() }
            var aliases = s.aliases[old.databaseID]?.values.filter { $0.collectionID == old.id } ?? []
            for i in aliases.indices { aliases[i].collectionID = info.id }
            var mutations: [MetaMutation] = [
                .delete(Keys.collection(old.id)), .put(Keys.collection(info.id), try Keys.encode(info)), .put(Keys.nextID, Keys.idBytes(nextID)),
            ]
            for alias in aliases { mutations.append(.put(Keys.alias(database: alias.databaseID, name: alias.name), try Keys.encode(alias))) }
            try store.commit(mutations)
            s.nextID = nextID
            s.collections[old.id] = nil
            s.collections[info.id] = info
            s.names[info.databaseID, default: [:]][info.name] = info.id
            for alias in aliases { s.aliases[alias.databaseID, default: [:]][alias.name] = alias }
            return (old, info)
        }
    }

    /// Loads every partition. Like Milvus, every vector field needs an index first.
    public func load(database: String, name: String) throws(ElanusError) {
        try update(database: database, name: name) { info throws(ElanusError) in
            try Catalog.checkIndexedForLoad(info)
            for i in info.partitions.indices { info.partitions[i].loaded = true }
        }
    }

    public func release(database: String, name: String) throws(ElanusError) {
        try update(database: database, name: name) { info throws(ElanusError) in
            for i in info.partitions.indices { info.partitions[i].loaded = false }
        }
    }

    static func checkIndexedForLoad(_ info: CollectionInfo) throws(ElanusError) {
        for field in info.schema.vectorFields where !info.indexes.contains(where: { $0.fieldName == field.name }) {
            throw ElanusError(
                .indexNotFound,
                "index not found[collection=\(info.name)]: there is no vector index on field: [\(field.name)], please create index firstly")
        }
    }

    public func alterCollectionProperties(database: String, name: String, set: [KeyValue]) throws(ElanusError) {
        try validateProperties(set)
        try update(database: database, name: name) { info throws(ElanusError) in
            // Milvus reads these at load time, so it refuses to change them under a loaded collection.
            if info.loaded, set.contains(where: { Catalog.loadTimeProperties.contains($0.key) }) {
                throw ElanusError(
                    .collectionLoaded, "can not alter mmap properties if collection loaded: collection already loaded[collection=\(info.name)]")
            }
            for kv in set { info.properties.set(kv.key, kv.value) }
        }
    }

    public func dropCollectionProperties(database: String, name: String, keys: [String]) throws(ElanusError) {
        try update(database: database, name: name) { info throws(ElanusError) in
            if info.loaded, let key = keys.first(where: { Catalog.loadTimeProperties.contains($0) }) {
                let what = key == "mmap.enabled" ? "mmap" : key
                throw ElanusError(
                    .collectionLoaded, "can not delete \(what) properties if collection loaded: collection already loaded[collection=\(info.name)]")
            }
            info.properties.removeAll { keys.contains($0.key) }
        }
    }

    func update(database: String, name: String, _ change: (inout CollectionInfo) throws(ElanusError) -> Void) throws(ElanusError) {
        try update(database: database, name: name) { (info: inout CollectionInfo, _: inout Int64) throws(ElanusError) in try change(&info) }
    }

    /// Applies `change` to a collection under the lock and persists the result (and the ID counter,
    /// when the change allocated IDs from it) in one commit before publishing it in memory.
    func update(
        database: String, name: String, _ change: (inout CollectionInfo, inout Int64) throws(ElanusError) -> Void
    ) throws(ElanusError) {
        try state.withLock { s throws(ElanusError) in
            var info = try s.collection(database: database, name: name)
            var nextID = s.nextID
            try change(&info, &nextID)
            guard info != s.collections[info.id] else { return }
            var mutations: [MetaMutation] = [.put(Keys.collection(info.id), try Keys.encode(info))]
            if nextID != s.nextID { mutations.append(.put(Keys.nextID, Keys.idBytes(nextID))) }
            try store.commit(mutations)
            s.nextID = nextID
            s.collections[info.id] = info
        }
    }

    /// Collection properties Milvus applies when a collection loads: changed only while it is released.
    static let loadTimeProperties: Set<String> = ["mmap.enabled", "lazyload.enabled"]

    /// The longest collection TTL, 100 years (Milvus's `common.MaxTTLSeconds`).
    public static let maxTTLSeconds: Int64 = 3_155_760_000

    /// Checks the collection properties whose values Elanus interprets.
    private func validateProperties(_ properties: [KeyValue]) throws(ElanusError) {
        for kv in properties {
            switch kv.key {
            case "collection.ttl.seconds":
                // Milvus 2.6's range: -1 (no TTL) to 100 years. Bounded so that no arithmetic on
                // it (seconds to milliseconds, to a timestamp) can overflow.
                guard let ttl = Int64(kv.value) else { throw .invalidParameter("collection TTL is not a valid positive integer") }
                guard ttl >= -1 && ttl <= Catalog.maxTTLSeconds else {
                    throw .invalidParameter("collection TTL is out of range, expect [-1, \(Catalog.maxTTLSeconds)], got \(ttl)")
                }
            case "mmap.enabled":
                guard ["true", "false"].contains(kv.value.lowercased()) else {
                    throw .invalidParameter("invalid mmap.enabled value: \(kv.value), expected true or false")
                }
            case Timestamptz.propertyKey:
                // Read at every write and read of a Timestamptz field: a bad name is refused here.
                _ = try Timestamptz.zone(kv.value)
            default: break
            }
        }
    }
}

extension Catalog.State {
    func database(_ name: String) throws(ElanusError) -> DatabaseInfo {
        guard let db = databases[name] else { throw ElanusError.databaseNotFound(name) }
        return db
    }

    func collection(database: String, name: String) throws(ElanusError) -> CollectionInfo {
        let db = try self.database(database)
        guard let id = names[db.id]?[name] ?? aliases[db.id]?[name]?.collectionID, let info = collections[id] else {
            throw ElanusError.collectionNotFound(database: database, collection: name)
        }
        return info
    }
}

extension CollectionSchema {
    /// Equal as a user would define it: field IDs (assigned by the catalog) do not count.
    func sameDefinition(as other: CollectionSchema) -> Bool {
        var a = self
        var b = other
        for i in a.fields.indices { a.fields[i].fieldID = 0 }
        for i in b.fields.indices { b.fields[i].fieldID = 0 }
        return a == b
    }
}

/// Meta-store key layout of the catalog, and its value encoding (JSON, sorted keys).
enum Keys {
    static let databasePrefix = "catalog/database/"
    static let collectionPrefix = "catalog/collection/"
    static let aliasPrefix = "catalog/alias/"
    static let nextID = "catalog/next-id"

    static func database(_ id: Int64) -> String { databasePrefix + padded(id) }
    static func collection(_ id: Int64) -> String { collectionPrefix + padded(id) }
    static func alias(database: Int64, name: String) -> String { aliasPrefix + padded(database) + "/" + name }
    static func padded(_ id: Int64) -> String {
        let digits = String(id)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }
    static func idBytes(_ id: Int64) -> [UInt8] { Array(String(id).utf8) }

    static func encode<T: Encodable>(_ value: T) throws(ElanusError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do { return Array(try encoder.encode(value)) } catch { throw .unexpected("catalog encode failed: \(error)") }
    }

    static func decode<T: Decodable>(_ bytes: [UInt8]) throws(ElanusError) -> T {
        do { return try JSONDecoder().decode(T.self, from: Data(bytes)) } catch {
            throw .unexpected("catalog record is corrupt: \(error)")
        }
    }
}
