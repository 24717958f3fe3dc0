import ElanusCore
import ElanusEngine
import ElanusStorage
import ElanusTestSupport
import Testing

@Suite struct PartitionCatalogTests {
    @Test func createDropAndLoadPartitions() throws {
        let catalog = try Catalog(store: MemoryMetaStore())
        try catalog.createCollection(CatalogTests.request("c"))
        try catalog.createPartition(database: "default", collection: "c", name: "p1")
        try catalog.createPartition(database: "default", collection: "c", name: "p1")  // idempotent
        #expect(try catalog.partitions(database: "default", collection: "c").map(\.name) == ["_default", "p1"])
        #expect(throws: ElanusError.self) { try catalog.createPartition(database: "default", collection: "c", name: "bad name") }

        try catalog.loadPartitions(database: "default", collection: "c", names: ["p1"])
        var info = try catalog.collection(database: "default", name: "c")
        #expect(info.loaded)
        #expect(info.partition(named: "_default")?.loaded == false)
        #expect(throws: ElanusError.badRequest("partition cannot be dropped, partition is loaded, please release it first")) {
            try catalog.dropPartition(database: "default", collection: "c", name: "p1")
        }
        #expect(throws: ElanusError(.partitionNotFound, "partition not found[partition=nope]")) {
            try catalog.loadPartitions(database: "default", collection: "c", names: ["p1", "nope"])
        }
        // A partition created while the collection is loaded is loaded too.
        try catalog.createPartition(database: "default", collection: "c", name: "p2")
        #expect(try catalog.partition(database: "default", collection: "c", name: "p2").loaded)

        try catalog.release(database: "default", name: "c")
        info = try catalog.collection(database: "default", name: "c")
        #expect(!info.loaded)
        try catalog.dropPartition(database: "default", collection: "c", name: "p1")
        try catalog.dropPartition(database: "default", collection: "c", name: "p1")  // idempotent
        #expect(throws: ElanusError.badRequest("default partition cannot be deleted")) {
            try catalog.dropPartition(database: "default", collection: "c", name: "_default")
        }
        #expect(try catalog.partitions(database: "default", collection: "c").map(\.name) == ["_default", "p2"])
    }

    @Test func partitionKeyCollectionsManageTheirOwnPartitions() throws {
        let catalog = try Catalog(store: MemoryMetaStore())
        var request = CatalogTests.request("k")
        request.schema.fields.append(FieldSchema(name: "tenant", dataType: .int64, isPartitionKey: true))
        try catalog.createCollection(request)
        for call in [
            { try catalog.createPartition(database: "default", collection: "k", name: "p") },
            { try catalog.dropPartition(database: "default", collection: "k", name: "_default_0") },
        ] as [() throws -> Void] {
            do {
                try call()
                Issue.record("accepted")
            } catch let error as ElanusError {
                #expect(error.code == .invalidParameter)
                #expect(error.message.contains("partition key mode"))
            }
        }
    }

    @Test func partitionIDsAreUniqueAndSurviveRestart() throws {
        let dir = TemporaryDirectory()
        var ids: [Int64] = []
        do {
            let store = try RocksMetaStore(path: dir.file("meta"))
            let catalog = try Catalog(store: store)
            try catalog.createCollection(CatalogTests.request("c"))
            for i in 0..<5 { try catalog.createPartition(database: "default", collection: "c", name: "p\(i)") }
            ids = try catalog.partitions(database: "default", collection: "c").map(\.id)
            store.close()
        }
        let store = try RocksMetaStore(path: dir.file("meta"))
        defer { store.close() }
        let catalog = try Catalog(store: store)
        #expect(try catalog.partitions(database: "default", collection: "c").map(\.id) == ids)
        #expect(Set(ids).count == 6)
        try catalog.createPartition(database: "default", collection: "c", name: "later")
        #expect(try catalog.partition(database: "default", collection: "c", name: "later").id > ids.max()!)
    }
}
