import ElanusCore
import ElanusStorage
import ElanusTestSupport
import Testing

/// One suite, every MetaStore: the memory reference and the RocksDB store must behave alike.
@Suite struct MetaStoreConformanceTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible {
        case memory, rocksdb
        var testDescription: String { rawValue }
    }

    /// A store plus what keeps it alive (the temporary directory for RocksDB).
    func makeStore(_ kind: Kind) throws -> (any MetaStore, TemporaryDirectory?) {
        switch kind {
        case .memory: return (MemoryMetaStore(), nil)
        case .rocksdb:
            let dir = TemporaryDirectory()
            return (try RocksMetaStore(path: dir.file("meta")), dir)
        }
    }

    @Test(arguments: Kind.allCases)
    func putGetDelete(kind: Kind) throws {
        let (store, dir) = try makeStore(kind)
        defer { store.close(); _ = dir }
        #expect(try store.get("a") == nil)
        try store.commit([.put("a", [1, 2, 3])])
        #expect(try store.get("a") == [1, 2, 3])
        try store.commit([.put("a", [])])
        #expect(try store.get("a") == [])
        try store.commit([.delete("a")])
        #expect(try store.get("a") == nil)
        try store.commit([.delete("never-there")])
    }

    @Test(arguments: Kind.allCases)
    func commitsAreAppliedInOrderAndAtomically(kind: Kind) throws {
        let (store, dir) = try makeStore(kind)
        defer { store.close(); _ = dir }
        try store.commit([.put("k", [1]), .put("k", [2]), .put("x", [9]), .delete("x")])
        #expect(try store.get("k") == [2])
        #expect(try store.get("x") == nil)
    }

    @Test(arguments: Kind.allCases)
    func scanReturnsThePrefixInByteOrder(kind: Kind) throws {
        let (store, dir) = try makeStore(kind)
        defer { store.close(); _ = dir }
        try store.commit([.put("p/b", [2]), .put("p/a", [1]), .put("q/a", [3]), .put("p/c", [4]), .put("p", [0])])
        let scanned = try store.scan(prefix: "p/")
        #expect(scanned.map(\.key) == ["p/a", "p/b", "p/c"])
        #expect(scanned.map(\.value) == [[1], [2], [4]])
        #expect(try store.scan(prefix: "z").isEmpty)
        #expect(try store.scan(prefix: "").count == 5)
    }

    @Test(arguments: Kind.allCases)
    func callsAfterCloseThrow(kind: Kind) throws {
        let (store, dir) = try makeStore(kind)
        _ = dir
        store.close()
        #expect(throws: ElanusError.self) { try store.get("a") }
        #expect(throws: ElanusError.self) { try store.commit([.put("a", [1])]) }
        #expect(throws: ElanusError.self) { try store.scan(prefix: "") }
    }

    @Test(arguments: Kind.allCases)
    func concurrentCommitsAllLand(kind: Kind) async throws {
        let (store, dir) = try makeStore(kind)
        defer { store.close(); _ = dir }
        await withTaskGroup(of: Void.self) { group in
            for t in 0..<4 {
                group.addTask {
                    for i in 0..<25 { try? store.commit([.put("t\(t)/\(i)", [UInt8(i)])]) }
                }
            }
        }
        #expect(try store.scan(prefix: "t").count == 100)
    }
}

@Suite struct RocksMetaStoreDurabilityTests {
    @Test func committedDataSurvivesReopen() throws {
        let dir = TemporaryDirectory()
        do {
            let store = try RocksMetaStore(path: dir.file("meta"))
            try store.commit([.put("catalog/x", Array("hello".utf8))])
            store.close()
        }
        let reopened = try RocksMetaStore(path: dir.file("meta"))
        defer { reopened.close() }
        #expect(try reopened.get("catalog/x") == Array("hello".utf8))
    }

    @Test func secondOpenOfTheSameDirectoryIsRefusedClearly() throws {
        let dir = TemporaryDirectory()
        let first = try RocksMetaStore(path: dir.file("meta"))
        defer { first.close() }
        do {
            _ = try RocksMetaStore(path: dir.file("meta"))
            Issue.record("second open succeeded")
        } catch {
            #expect(error.message.contains("another elanus process"), "\(error.message)")
        }
    }
}
