import Dispatch
import ElanusCore
import ElanusEngine
import ElanusStorage
import ElanusTestSupport
import Testing

/// The write path inside one process: WAL, growing segments, primary-key index and replay, with
/// the real RocksDB underneath and the engine closed and reopened as a restart.
@Suite struct EngineWriteTests {
    static let dim = 4

    static func batch(_ keys: [Int64], seed: Float = 0, tag: String = "") -> EntityBatch {
        EntityBatch(
            rowCount: keys.count,
            columns: [
                Column(fieldID: 100, values: .int64(keys)),
                Column(fieldID: 101, width: dim, values: .floatVector(keys.flatMap { k in (0..<dim).map { Float(k) + seed + Float($0) } })),
            ],
            dynamic: keys.map { _ in ["tag": .string(tag)] })
    }

    static func open(_ dir: TemporaryDirectory) throws -> Engine {
        try Engine(configuration: .init(dataDirectory: dir.file("data")))
    }

    static func create(_ engine: Engine) throws -> CollectionInfo {
        var schema = CatalogTests.schema(dim: dim)
        schema.enableDynamicField = true
        try engine.catalog.createCollection(CreateCollectionRequest(database: "default", name: "c", schema: schema))
        try engine.catalog.createPartition(database: "default", collection: "c", name: "p1")
        return try engine.catalog.collection(database: "default", name: "c")
    }

    func keys(_ batch: EntityBatch) -> [Int64] {
        guard case .int64(let keys)? = batch.column(100)?.values else { return [] }
        return keys
    }

    @Test func upsertDeleteAndPartitionsReplayAfterRestart() throws {
        let dir = TemporaryDirectory()
        do {
            let engine = try Self.open(dir)
            defer { engine.close() }
            let info = try Self.create(engine)
            #expect(try engine.insert(info, partitionName: nil, batch: Self.batch([1, 2, 3])) == [.int(1), .int(2), .int(3)])
            _ = try engine.insert(info, partitionName: "p1", batch: Self.batch([10, 11]))
            _ = try engine.upsert(info, partitionName: nil, batch: Self.batch([2, 10], seed: 100, tag: "new"))
            #expect(try engine.delete(info, partitionName: nil, filter: "id in [1, 99]") == 1)
            // A delete limited to p1 does not touch keys that live in _default.
            #expect(try engine.delete(info, partitionName: "p1", filter: "id == 3") == 0)
            #expect(try engine.rowCount(info) == 4)
            #expect(try engine.rowCount(info, partitionName: "p1") == 1)
        }
        let engine = try Self.open(dir)
        defer { engine.close() }
        let info = try engine.catalog.collection(database: "default", name: "c")
        #expect(try engine.rowCount(info) == 4)
        let rows = try engine.get(info, keys: [1, 2, 3, 10, 11].map { .int($0) })
        #expect(keys(rows) == [2, 3, 10, 11])
        #expect(rows.column(101)?.value(at: 0) == .floatVector([102, 103, 104, 105]))
        #expect(rows.dynamic?[0] == ["tag": "new"])
        // Dropping a partition drops its rows, now and after the next restart.
        try engine.catalog.releasePartitions(database: "default", collection: "c", names: ["p1"])
        try engine.dropPartition(database: "default", collection: "c", name: "p1")
        let after = try engine.catalog.collection(database: "default", name: "c")
        #expect(try engine.rowCount(after) == 3)
        #expect(keys(try engine.get(after, keys: [11].map { .int($0) })) == [])
    }

    @Test func autoIDsStayUniqueAcrossRestartsAndPartitionKeysSpreadRows() throws {
        let dir = TemporaryDirectory()
        var first: [PrimaryKey] = []
        do {
            let engine = try Self.open(dir)
            defer { engine.close() }
            var schema = CatalogTests.schema(dim: Self.dim)
            schema.fields[0].autoID = true
            schema.fields.append(FieldSchema(name: "k", dataType: .int64, isPartitionKey: true))
            try engine.catalog.createCollection(CreateCollectionRequest(database: "default", name: "auto", schema: schema, partitionsNum: 4))
            let info = try engine.catalog.collection(database: "default", name: "auto")
            var batch = Self.batch(Array(repeating: 0, count: 200))
            batch.columns[1] = Column(fieldID: 101, width: Self.dim, values: .floatVector(Array(repeating: 1, count: 200 * Self.dim)))
            batch.columns.append(Column(fieldID: 102, values: .int64((0..<200).map { Int64($0) })))
            batch.dynamic = nil
            first = try engine.insert(info, partitionName: nil, batch: batch)
            #expect(Set(first).count == 200)
            let counts = try info.partitions.map { try engine.rowCount(info, partitionName: $0.name) }
            #expect(counts.reduce(0, +) == 200)
            #expect(counts.allSatisfy { $0 > 20 }, "partition key hashing spreads rows: \(counts)")
            #expect(throws: ElanusError.self) { try engine.insert(info, partitionName: "_default_0", batch: batch) }
        }
        let engine = try Self.open(dir)
        defer { engine.close() }
        let info = try engine.catalog.collection(database: "default", name: "auto")
        var batch = Self.batch([0])
        batch.columns.append(Column(fieldID: 102, values: .int64([5])))
        batch.dynamic = nil
        let second = try engine.insert(info, partitionName: nil, batch: batch)
        #expect(Set(first).isDisjoint(with: second))
        if case .int(let a) = second[0], case .int(let b) = first.last! { #expect(a > b) }
        #expect(try engine.rowCount(info) == 201)
    }

    @Test func partialUpdateKeepsAbsentFields() throws {
        let dir = TemporaryDirectory()
        let engine = try Self.open(dir)
        defer { engine.close() }
        let info = try Self.create(engine)
        _ = try engine.insert(info, partitionName: nil, batch: Self.batch([1], seed: 5, tag: "old"))
        var update = Self.batch([1, 2], seed: 0, tag: "x")
        update.dynamic = [["extra": 1], ["extra": 2]]
        // Row 0 leaves the vector out: it keeps the stored one. Row 1 is new, so it cannot.
        #expect(throws: ElanusError.self) {
            try engine.upsert(info, partitionName: nil, batch: update, absentFields: [[101], [101]])
        }
        _ = try engine.upsert(info, partitionName: nil, batch: update, absentFields: [[101], []])
        let rows = try engine.get(info, keys: [.int(1), .int(2)])
        #expect(rows.column(101)?.value(at: 0) == .floatVector([6, 7, 8, 9]))
        #expect(rows.column(101)?.value(at: 1) == .floatVector([2, 3, 4, 5]))
        #expect(rows.dynamic?[0] == ["tag": "old", "extra": 1])
    }

    @Test func concurrentWritersShareSyncsAndLoseNothing() throws {
        let dir = TemporaryDirectory()
        let engine = try Self.open(dir)
        let info = try Self.create(engine)
        DispatchQueue.concurrentPerform(iterations: 8) { writer in
            for b in 0..<25 {
                let base = Int64(writer * 1000 + b * 10)
                _ = try? engine.insert(info, partitionName: b % 2 == 0 ? nil : "p1", batch: Self.batch(Array(base..<base + 10)))
            }
        }
        #expect(try engine.rowCount(info) == 2000)
        engine.close()
        let reopened = try Self.open(dir)
        defer { reopened.close() }
        #expect(try reopened.rowCount(try reopened.catalog.collection(database: "default", name: "c")) == 2000)
    }

    /// A WAL whose channel lost its tail below the flushed checkpoint (what the inclusive file
    /// removal did) is re-seeded at start: later writes get positions past the checkpoint and are
    /// neither skipped on apply nor on replay.
    @Test func aChannelBelowItsCheckpointIsReseededAndLosesNothing() throws {
        let dir = TemporaryDirectory()
        var channel = ""
        do {
            let engine = try Self.open(dir)
            defer { engine.close() }
            let info = try Self.create(engine)
            try engine.createIndex(database: "default", collection: "c", IndexSpec(indexName: "v", fieldName: "v", indexType: "FLAT", metricType: "L2"))
            try engine.catalog.load(database: "default", name: "c")
            channel = "collection-\(info.id)"
            for k in Int64(1)...5 { _ = try engine.insert(info, partitionName: nil, batch: Self.batch([k])) }
            try engine.flush(info)
        }
        do {
            // The records and the head are gone, as if a truncation had removed them.
            let wal = try RocksLogBroker(path: dir.file("data") + "/wal")
            try wal.drop(channel: channel)
            wal.close()
        }
        do {
            let engine = try Self.open(dir)
            defer { engine.close() }
            let info = try engine.catalog.collection(database: "default", name: "c")
            _ = try engine.insert(info, partitionName: nil, batch: Self.batch([6, 7]))
            _ = try engine.upsert(info, partitionName: nil, batch: Self.batch([3], seed: 50))
            #expect(keys(try engine.get(info, keys: (1...7).map { .int($0) })) == [1, 2, 3, 4, 5, 6, 7])
        }
        let engine = try Self.open(dir)
        defer { engine.close() }
        let info = try engine.catalog.collection(database: "default", name: "c")
        let rows = try engine.get(info, keys: (1...7).map { .int($0) })
        #expect(keys(rows) == [1, 2, 3, 4, 5, 6, 7])
        #expect(rows.column(101)?.value(at: 2) == .floatVector([53, 54, 55, 56]))
    }
}
