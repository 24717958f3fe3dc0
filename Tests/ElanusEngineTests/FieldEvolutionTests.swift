import ElanusCore
import ElanusEngine
import ElanusTestSupport
import Testing

/// Schema evolution inside one process: a field added to a collection whose rows sit in a
/// segment file, in a growing segment and in WAL records written before the add. Every row
/// written before reads the field's default (or null) before and after a restart; rows written
/// after carry their own values.
@Suite struct FieldEvolutionTests {
    static let score = FieldSchema(name: "score", dataType: .int64, nullable: true, defaultValue: .int(7))
    static let tag = FieldSchema(name: "tag", dataType: .varChar, nullable: true, typeParams: [KeyValue("max_length", "8")])

    /// A loaded collection `c` (id, v with dim 4, an index spec on v), so that a restart keeps
    /// its flushed segments' columns in memory.
    static func create(_ engine: Engine) throws -> CollectionInfo {
        try engine.catalog.createCollection(CatalogTests.request("c", dim: EngineWriteTests.dim))
        try engine.load(database: "default", collection: "c")
        return try engine.catalog.collection(database: "default", name: "c")
    }

    func values(_ batch: EntityBatch, _ field: Int64) -> [FieldValue] {
        guard let column = batch.column(field) else { return [] }
        return (0..<batch.rowCount).map { column.value(at: $0) }
    }

    @Test func rowsWrittenBeforeTheAddReadTheDefaultAcrossRestart() throws {
        let dir = TemporaryDirectory()
        let keys: [PrimaryKey] = [1, 2, 3, 4, 5, 6].map { .int($0) }
        do {
            let engine = try EngineWriteTests.open(dir)
            defer { engine.close() }
            let old = try Self.create(engine)
            _ = try engine.insert(old, partitionName: nil, batch: EngineWriteTests.batch([1, 2]))
            try engine.flush(old)  // rows 1, 2: a segment file without the new columns
            _ = try engine.insert(old, partitionName: nil, batch: EngineWriteTests.batch([3, 4]))  // growing, WAL only

            try engine.addField(database: "default", collection: "c", Self.score)
            try engine.addField(database: "default", collection: "c", Self.tag)
            let info = try engine.catalog.collection(database: "default", name: "c")
            #expect(info.schema.fields.map(\.fieldID) == [100, 101, 102, 103])
            #expect(info.schema.fields.map(\.name) == ["id", "v", "score", "tag"])

            // Decoded under the old schema but written after the add (a write racing the add):
            // it reads as a row written before.
            _ = try engine.insert(old, partitionName: nil, batch: EngineWriteTests.batch([5]))
            var batch = EngineWriteTests.batch([6])
            batch.columns.append(Column(fieldID: 102, values: .int64([60]), valid: [true]))
            batch.columns.append(Column(fieldID: 103, values: .string(["six"]), valid: [true]))
            _ = try engine.insert(info, partitionName: nil, batch: batch)

            let rows = try engine.get(info, keys: keys)
            #expect(values(rows, 102) == [7, 7, 7, 7, 7, 60].map { .int($0) })
            #expect(values(rows, 103) == [.null, .null, .null, .null, .null, .string("six")])
        }
        // The restart loads the old segment file and replays WAL records from before and after.
        let engine = try EngineWriteTests.open(dir)
        defer { engine.close() }
        let info = try engine.catalog.collection(database: "default", name: "c")
        #expect(info.schema.fields.map(\.fieldID) == [100, 101, 102, 103])
        let rows = try engine.get(info, keys: keys)
        #expect(values(rows, 102) == [7, 7, 7, 7, 7, 60].map { .int($0) })
        #expect(values(rows, 103) == [.null, .null, .null, .null, .null, .string("six")])
        // Flushed now, every row is in a segment file with the columns, and reads the same.
        try engine.flush(info)
        #expect(values(try engine.get(info, keys: keys), 102) == [7, 7, 7, 7, 7, 60].map { .int($0) })
    }

    /// A released collection keeps only the keys of its flushed segments; loaded again after a
    /// field was added, the segments read back from their (older) files get the column too.
    @Test func segmentsReleasedDuringTheAddReadTheDefaultOnceLoaded() throws {
        let dir = TemporaryDirectory()
        let engine = try EngineWriteTests.open(dir)
        defer { engine.close() }
        let old = try Self.create(engine)
        _ = try engine.insert(old, partitionName: nil, batch: EngineWriteTests.batch([1, 2, 3]))
        try engine.flush(old)
        try engine.release(database: "default", collection: "c")
        try engine.addField(database: "default", collection: "c", Self.score)
        try engine.load(database: "default", collection: "c")
        let info = try engine.catalog.collection(database: "default", name: "c")
        let rows = try engine.get(info, keys: [1, 2, 3].map { .int($0) })
        #expect(values(rows, 102) == [7, 7, 7].map { .int($0) })
    }

    @Test func addedFieldsGetTheNextIDAndTheChecksOfMilvus() throws {
        let dir = TemporaryDirectory()
        let engine = try EngineWriteTests.open(dir)
        defer { engine.close() }
        _ = try EngineWriteTests.create(engine)
        func refusal(_ field: FieldSchema) -> String? {
            do {
                try engine.addField(database: "default", collection: "c", field)
                return nil
            } catch {
                return "\(error.code.rawValue) \(error.message)"
            }
        }
        #expect(refusal(FieldSchema(name: "n", dataType: .int64)) == "1100 added field must be nullable, please check it, field name = n: invalid parameter")
        #expect(refusal(FieldSchema(name: "n", dataType: .int64, defaultValue: .int(1))) == "1100 added field must be nullable, please check it, field name = n: invalid parameter")
        #expect(refusal(FieldSchema(name: "id", dataType: .int64, nullable: true)) == "1100 duplicate field name: id: invalid parameter")
        #expect(refusal(FieldSchema(name: "k", dataType: .int64, isPrimary: true, nullable: true)) == "1100 not support to add pk field, field name = k: invalid parameter")
        #expect(refusal(FieldSchema(name: "k", dataType: .int64, isPartitionKey: true, nullable: true)) == "1100 not support to add partition key field, field name  = k: invalid parameter")
        #expect(refusal(FieldSchema(name: "w", dataType: .floatVector, typeParams: [KeyValue("dim", "4")])) == "1100 not support to add vector field, field name = w: invalid parameter")
        #expect(refusal(FieldSchema(name: "$meta", dataType: .json, nullable: true)) == "1100 not support to add system field, field name = $meta: invalid parameter")
        #expect(refusal(FieldSchema(name: "s", dataType: .varChar, nullable: true))?.hasPrefix("1100 type param(max_length) should be specified") == true)
        #expect(refusal(FieldSchema(name: "1s", dataType: .int8, nullable: true))?.hasPrefix("1100 Invalid field name: 1s.") == true)
        do {
            try engine.addField(database: "default", collection: "nope", Self.score)
            Issue.record("added to a collection that does not exist")
        } catch {
            #expect(error.code == .collectionNotFound)
        }
        // Refusals change nothing; a field id is never reused, even after one more field.
        try engine.addField(database: "default", collection: "c", Self.score)
        #expect(refusal(Self.score) == "1100 duplicate field name: score: invalid parameter")
        try engine.addField(database: "default", collection: "c", Self.tag)
        #expect(try engine.catalog.collection(database: "default", name: "c").schema.fields.map(\.fieldID) == [100, 101, 102, 103])
    }

    @Test func alteredFieldPropertiesAreStoredAndCheckedAsMilvusChecksThem() throws {
        let dir = TemporaryDirectory()
        let engine = try EngineWriteTests.open(dir)
        defer { engine.close() }
        _ = try EngineWriteTests.create(engine)
        try engine.addField(database: "default", collection: "c", Self.tag)
        let catalog = engine.catalog
        func refusal(_ field: String, _ set: [KeyValue]) -> String? {
            do {
                try catalog.alterFieldProperties(database: "default", collection: "c", field: field, set: set)
                return nil
            } catch {
                return "\(error.code.rawValue) \(error.message)"
            }
        }
        #expect(refusal("tag", [KeyValue("max_length", "64")]) == nil)
        #expect(refusal("tag", [KeyValue("mmap_enabled", "true")]) == nil)
        let tag = try catalog.collection(database: "default", name: "c").schema.field(named: "tag")
        #expect(tag?.typeParams == [KeyValue("max_length", "64"), KeyValue("mmap.enabled", "true")])
        #expect(refusal("id", [KeyValue("max_length", "64")]) == "1100  can not modify the maxlength for non-string types: invalid parameter")
        #expect(refusal("tag", [KeyValue("max_length", "x")]) == "1100 max_length should be an integer, but got string: invalid parameter")
        #expect(refusal("tag", [KeyValue("max_length", "70000")]) == "1100 70000 exceeds the maximum allowed value 65535: invalid parameter")
        #expect(refusal("tag", [KeyValue("max_capacity", "8")]) == "1100  can not modify the maxcapacity for non-array types: invalid parameter")
        #expect(refusal("tag", [KeyValue("dim", "8")]) == "1100 dim does not allow update in collection field param: invalid parameter")
        #expect(refusal("nope", [KeyValue("mmap.enabled", "false")]) == "1100 field nope does not exist in collection: invalid parameter")
        #expect(refusal("tag", []) == "65535 The field properties to alter and keys to delete must not be empty at the same time")
        #expect(refusal("id", [KeyValue("allow_insert_auto_id", "true")]) == "1100 the value for allow_insert_auto_id must be false when autoID is false: invalid parameter")
    }
}
