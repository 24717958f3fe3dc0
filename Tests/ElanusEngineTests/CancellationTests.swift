import ElanusCore
import ElanusEngine
import ElanusQuery
import ElanusTestSupport
import Synchronization
import Testing

/// Every read path of the engine stops with the request's Cancellation: query, count, search,
/// get and the scan of a delete by filter; a token that never fires changes no answer; the
/// filter polls the clock every few rows, not on every row.
@Suite struct EngineCancellationTests {
    static let rows = 4000

    /// A collection of `rows` rows whose dynamic `text` is 200 bytes long, loaded.
    static func world(_ dir: TemporaryDirectory) throws -> (Engine, CollectionInfo) {
        let engine = try Engine(configuration: .init(dataDirectory: dir.file("data")))
        var schema = CatalogTests.schema(dim: 2)
        schema.enableDynamicField = true
        try engine.catalog.createCollection(CreateCollectionRequest(
            database: "default", name: "c", schema: schema,
            indexes: [IndexSpec(indexName: "v", fieldName: "v", indexType: "AUTOINDEX", metricType: "L2")]))
        try engine.catalog.load(database: "default", name: "c")
        let info = try engine.catalog.collection(database: "default", name: "c")
        let keys = (0..<Int64(rows)).map { $0 }
        let batch = EntityBatch(
            rowCount: rows,
            columns: [
                Column(fieldID: 100, values: .int64(keys)),
                Column(fieldID: 101, width: 2, values: .floatVector(keys.flatMap { [Float($0), 1] })),
            ],
            dynamic: keys.map { k in ["text": .string(String(repeating: "ab", count: 100) + (k % 2 == 0 ? "even" : "odd"))] })
        _ = try engine.insert(info, partitionName: nil, batch: batch)
        return (engine, info)
    }

    static let filter = "text like '%b_b%even'"

    @Test func aCancelledRequestStopsEveryReadPath() throws {
        let dir = TemporaryDirectory()
        let (engine, info) = try Self.world(dir)
        defer { engine.close() }
        let predicate = try FilterChecker.check(Self.filter, schema: info.schema)
        let token = Cancellation()
        token.cancel()
        let search = SearchRequest(field: info.schema.fields[1], metric: .l2, vectors: [.dense([1, 1])], limit: 3, predicate: predicate)
        #expect(throws: ElanusError.self) { try engine.query(info, predicate: predicate, limit: 10, cancellation: token) }
        #expect(throws: ElanusError.self) { try engine.count(info, predicate: predicate, cancellation: token) }
        #expect(throws: ElanusError.self) { try engine.search(info, search, cancellation: token) }
        #expect(throws: ElanusError.self) { try engine.get(info, keys: [.int(1)], cancellation: token) }
        do {
            _ = try engine.delete(info, partitionName: nil, filter: Self.filter, cancellation: token)
            Issue.record("the delete ran")
        } catch {
            #expect(error.code == .canceled)
        }
        #expect(try engine.count(info, predicate: nil) == Self.rows, "the cancelled delete deleted nothing")

        // A token that never fires gives the same answers as none.
        let idle = Cancellation(timeoutMs: 60_000)
        #expect(try engine.count(info, predicate: predicate, cancellation: idle) == Self.rows / 2)
        #expect(try engine.query(info, predicate: predicate, limit: 5, cancellation: idle).rowCount == 5)
        #expect(try engine.search(info, search, cancellation: idle)[0].count == 3)
    }

    @Test func aDeadlineStopsTheFilterPartWay() throws {
        let dir = TemporaryDirectory()
        let (engine, info) = try Self.world(dir)
        defer { engine.close() }
        let predicate = try FilterChecker.check(Self.filter, schema: info.schema)
        // Each read of the clock moves it 1 ms: a 20 ms deadline passes at the 21st read, long
        // before the filter's 4,000 rows are done.
        let reads = Atomic<Int>(0)
        let token = Cancellation(timeoutMs: 20) { reads.add(1, ordering: .relaxed).newValue * 1_000_000 }
        do {
            _ = try engine.count(info, predicate: predicate, cancellation: token)
            Issue.record("the count finished")
        } catch {
            #expect(error.code == .timeout)
            #expect(error.message.hasPrefix("request timeout: "))
        }
    }

    @Test func theFilterReadsTheClockEveryFewRowsNotOnEveryRow() throws {
        let dir = TemporaryDirectory()
        let (engine, info) = try Self.world(dir)
        defer { engine.close() }
        let predicate = try FilterChecker.check(Self.filter, schema: info.schema)
        // 1 ms per read again, and a deadline that a poll per row would pass 20 times over.
        let reads = Atomic<Int>(0)
        let token = Cancellation(timeoutMs: Self.rows / 20) { reads.add(1, ordering: .relaxed).newValue * 1_000_000 }
        #expect(try engine.count(info, predicate: predicate, cancellation: token) == Self.rows / 2)
        let clockReads = reads.load(ordering: .relaxed)
        #expect(clockReads < Self.rows / 32, "\(clockReads) clock reads for \(Self.rows) rows")
    }
}
