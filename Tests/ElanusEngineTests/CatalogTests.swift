import ElanusCore
import ElanusEngine
import ElanusStorage
import ElanusTestSupport
import Testing

@Suite struct CatalogTests {
    static func schema(dim: Int = 8) -> CollectionSchema {
        CollectionSchema(fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimary: true),
            FieldSchema(name: "v", dataType: .floatVector, typeParams: [KeyValue("dim", String(dim))]),
        ])
    }

    static func request(_ name: String, db: String = "default", dim: Int = 8, indexed: Bool = true) -> CreateCollectionRequest {
        CreateCollectionRequest(
            database: db, name: name, schema: schema(dim: dim),
            indexes: indexed ? [IndexSpec(indexName: "v", fieldName: "v", indexType: "AUTOINDEX", metricType: "L2")] : [])
    }

    @Test func createAssignsStableIDsThatSurviveRestart() throws {
        let dir = TemporaryDirectory()
        var created: CollectionInfo
        do {
            let store = try RocksMetaStore(path: dir.file("meta"))
            let catalog = try Catalog(store: store)
            created = try catalog.createCollection(Self.request("c1")).info
            try catalog.load(database: "default", name: "c1")
            created = try catalog.collection(database: "default", name: "c1")
            #expect(created.loaded)
            #expect(created.schema.fields.map(\.fieldID) == [100, 101])
            #expect(created.partitions.map(\.name) == ["_default"])
            store.close()
        }
        let store = try RocksMetaStore(path: dir.file("meta"))
        defer { store.close() }
        let catalog = try Catalog(store: store)
        #expect(try catalog.collection(database: "default", name: "c1") == created)
        let second = try catalog.createCollection(Self.request("c2")).info
        #expect(second.id > created.id)
        #expect(second.partitions[0].id > created.partitions[0].id)
    }

    @Test func identicalRecreateSucceedsAndDifferentSchemaIsRefused() throws {
        let catalog = try Catalog(store: MemoryMetaStore())
        let first = try catalog.createCollection(Self.request("c"))
        let again = try catalog.createCollection(Self.request("c"))
        #expect(first.created && !again.created)
        #expect(first.info.id == again.info.id)
        do {
            try catalog.createCollection(Self.request("c", dim: 16))
            Issue.record("accepted a different schema")
        } catch {
            #expect(error.code == .unexpected)
            #expect(error.message == "create duplicate collection with different parameters, collection: c")
        }
    }

    @Test func unknownNamesGiveMilvusCodes() throws {
        let catalog = try Catalog(store: MemoryMetaStore())
        #expect(throws: ElanusError.collectionNotFound(database: "default", collection: "x")) {
            try catalog.collection(database: "default", name: "x")
        }
        #expect(throws: ElanusError.databaseNotFound("nodb")) { try catalog.listCollections(database: "nodb") }
        #expect(throws: ElanusError.databaseNotFound("nodb")) { try catalog.createCollection(Self.request("c", db: "nodb")) }
    }

    @Test func loadNeedsAnIndexOnEveryVectorField() throws {
        let catalog = try Catalog(store: MemoryMetaStore())
        try catalog.createCollection(Self.request("c", indexed: false))
        do {
            try catalog.load(database: "default", name: "c")
            Issue.record("loaded without an index")
        } catch {
            #expect(error.code == .indexNotFound)
        }
        #expect(try catalog.collection(database: "default", name: "c").loaded == false)
    }

    @Test func renameMovesBetweenDatabasesAndKeepsTheID() throws {
        let catalog = try Catalog(store: MemoryMetaStore())
        try catalog.createDatabase("other")
        let info = try catalog.createCollection(Self.request("c")).info
        try catalog.createCollection(Self.request("taken"))
        #expect(throws: ElanusError.self) { try catalog.renameCollection(database: "default", name: "c", newDatabase: nil, newName: "taken") }
        try catalog.renameCollection(database: "default", name: "c", newDatabase: "other", newName: "moved")
        #expect(try catalog.collection(database: "other", name: "moved").id == info.id)
        #expect(try catalog.hasCollection(database: "default", name: "c") == false)
        #expect(try catalog.listCollections(database: "other") == ["moved"])
    }

    @Test func databasesLifecycleAndLimits() throws {
        let catalog = try Catalog(store: MemoryMetaStore())
        #expect(catalog.listDatabases() == ["default"])
        try catalog.createDatabase("a", properties: [KeyValue("k", "v")])
        #expect(throws: ElanusError.badRequest("database already exist: a")) { try catalog.createDatabase("a") }
        #expect(throws: ElanusError.self) { try catalog.createDatabase("bad-name") }
        try catalog.alterDatabase("a", set: [KeyValue("k", "w"), KeyValue("x", "1")])
        #expect(try catalog.database("a").properties == [KeyValue("k", "w"), KeyValue("x", "1")])
        try catalog.alterDatabase("a", remove: ["k"])
        #expect(try catalog.database("a").properties == [KeyValue("x", "1")])
        try catalog.createCollection(Self.request("c", db: "a"))
        #expect(throws: ElanusError.self) { try catalog.dropDatabase("a") }
        try catalog.dropCollection(database: "a", name: "c")
        try catalog.dropDatabase("a")
        try catalog.dropDatabase("a")  // idempotent
        #expect(throws: ElanusError.badRequest("can not drop default database")) { try catalog.dropDatabase("default") }
        for i in 0..<(Catalog.maxDatabases - 1) { try catalog.createDatabase("db\(i)") }
        do {
            try catalog.createDatabase("onemore")
            Issue.record("exceeded the database limit")
        } catch {
            #expect(error.code == .databaseNumLimit)
        }
    }

    @Test func partitionKeyCreatesPartitions() throws {
        let catalog = try Catalog(store: MemoryMetaStore())
        var request = Self.request("c")
        request.schema.fields.append(FieldSchema(name: "tenant", dataType: .varChar, isPartitionKey: true, typeParams: [KeyValue("max_length", "32")]))
        request.partitionsNum = 4
        let info = try catalog.createCollection(request).info
        #expect(info.partitions.map(\.name) == ["_default_0", "_default_1", "_default_2", "_default_3"])
        var noKey = Self.request("d")
        noKey.partitionsNum = 4
        #expect(throws: ElanusError.self) { try catalog.createCollection(noKey) }
    }

    @Test func propertiesAreValidatedAndPersisted() throws {
        let catalog = try Catalog(store: MemoryMetaStore())
        try catalog.createCollection(Self.request("c"))
        try catalog.alterCollectionProperties(database: "default", name: "c", set: [KeyValue("collection.ttl.seconds", "60"), KeyValue("mmap.enabled", "true")])
        #expect(throws: ElanusError.self) {
            try catalog.alterCollectionProperties(database: "default", name: "c", set: [KeyValue("collection.ttl.seconds", "-2")])
        }
        try catalog.dropCollectionProperties(database: "default", name: "c", keys: ["mmap.enabled"])
        // The zone is fixed at creation (Milvus copies the database's, else UTC).
        #expect(try catalog.collection(database: "default", name: "c").properties == [KeyValue("timezone", "UTC"), KeyValue("collection.ttl.seconds", "60")])
    }
}
