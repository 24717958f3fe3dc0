import ElanusCore
import ElanusStorage
import ElanusTestSupport
import Foundation
import Testing

/// One suite, every LogBroker: the memory reference and the RocksDB WAL must behave alike.
@Suite struct LogBrokerConformanceTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible {
        case memory, rocksdb
        var testDescription: String { rawValue }
    }

    func make(_ kind: Kind) throws -> (any LogBroker, TemporaryDirectory?) {
        switch kind {
        case .memory: return (MemoryLogBroker(), nil)
        case .rocksdb:
            let dir = TemporaryDirectory()
            return (try RocksLogBroker(path: dir.file("wal")), dir)
        }
    }

    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test(arguments: Kind.allCases)
    func positionsAreConsecutivePerChannelAndReadsReturnThemInOrder(kind: Kind) throws {
        let (log, dir) = try make(kind)
        defer { log.close(); _ = dir }
        #expect(try log.lastPosition(channel: "a") == 0)
        #expect(try log.append(channel: "a", payload: bytes("a1")) == 1)
        #expect(try log.append(channel: "b", payload: bytes("b1")) == 1)
        #expect(try log.append(channel: "a", payload: bytes("a2")) == 2)
        #expect(try log.append(channel: "a", payload: []) == 3)
        #expect(try log.lastPosition(channel: "a") == 3)
        #expect(try log.read(channel: "a", from: 0, limit: 100) == [
            LogRecord(position: 1, payload: bytes("a1")), LogRecord(position: 2, payload: bytes("a2")), LogRecord(position: 3, payload: []),
        ])
        #expect(try log.read(channel: "a", from: 2, limit: 1) == [LogRecord(position: 2, payload: bytes("a2"))])
        #expect(try log.read(channel: "b", from: 2, limit: 10) == [])
        #expect(try log.read(channel: "none", from: 1, limit: 10) == [])
    }

    @Test(arguments: Kind.allCases)
    func truncateKeepsTheLastRecordSoPositionsContinue(kind: Kind) throws {
        let (log, dir) = try make(kind)
        defer { log.close(); _ = dir }
        for i in 1...5 { _ = try log.append(channel: "c", payload: [UInt8(i)]) }
        try log.truncate(channel: "c", below: 3)
        #expect(try log.read(channel: "c", from: 0, limit: 10).map(\.position) == [3, 4, 5])
        try log.truncate(channel: "c", below: 100)
        #expect(try log.read(channel: "c", from: 0, limit: 10).map(\.position) == [5])
        #expect(try log.append(channel: "c", payload: [6]) == 6)
        try log.drop(channel: "c")
        #expect(try log.read(channel: "c", from: 0, limit: 10) == [])
        #expect(try log.lastPosition(channel: "c") == 0)
    }

    /// A broker "as after a restart": the same memory broker, or the RocksDB WAL closed and
    /// opened again on its directory, compacted first so that records leave level 0 as restarts
    /// and RocksDB's own compactions move them.
    func restarted(_ log: any LogBroker, _ kind: Kind, _ dir: TemporaryDirectory?) throws -> any LogBroker {
        guard kind == .rocksdb, let rocks = log as? RocksLogBroker, let dir else { return log }
        try rocks.compactForTesting()
        rocks.close()
        return try RocksLogBroker(path: dir.file("wal"))
    }

    /// Issue 20, item 1: truncating at the last record after a compaction removed the table file
    /// holding that record (an inclusive range end), and positions restarted at 1.
    @Test(arguments: Kind.allCases)
    func positionsNeverGoBackAfterTruncationCompactionAndRestart(kind: Kind) throws {
        var (log, dir) = try make(kind)
        defer { log.close(); _ = dir }
        for round in 0..<6 {
            let first = UInt64(round * 3)
            for i in 1...3 { #expect(try log.append(channel: "c", payload: [UInt8(round), UInt8(i)]) == first + UInt64(i)) }
            log = try restarted(log, kind, dir)
            // A flush whose checkpoint is the last record: the cut is the last position.
            try log.truncate(channel: "c", below: first + 4)
            log = try restarted(log, kind, dir)
            #expect(try log.lastPosition(channel: "c") == first + 3)
            #expect(try log.read(channel: "c", from: first + 1, limit: 10).map(\.position).contains(first + 3))
        }
        #expect(try log.append(channel: "c", payload: [9]) == 19)
        log = try restarted(log, kind, dir)
        #expect(try log.read(channel: "c", from: 19, limit: 10) == [LogRecord(position: 19, payload: [9])])
    }

    @Test(arguments: Kind.allCases)
    func reserveMovesPositionsForwardOnlyAndDurably(kind: Kind) throws {
        var (log, dir) = try make(kind)
        defer { log.close(); _ = dir }
        _ = try log.append(channel: "r", payload: [1])
        try log.reserve(channel: "r", through: 40)
        #expect(try log.lastPosition(channel: "r") == 40)
        try log.reserve(channel: "r", through: 7)
        log = try restarted(log, kind, dir)
        #expect(try log.lastPosition(channel: "r") == 40)
        #expect(try log.append(channel: "r", payload: [2]) == 41)
        #expect(try log.read(channel: "r", from: 0, limit: 10).map(\.position) == [1, 41])
    }

    @Test(arguments: Kind.allCases)
    func concurrentSubmittersGetDistinctGaplessPositions(kind: Kind) throws {
        let (log, dir) = try make(kind)
        defer { log.close(); _ = dir }
        let threads = 8, each = 40
        let group = DispatchGroup()
        for t in 0..<threads {
            group.enter()
            Thread {
                for i in 0..<each { _ = try? log.append(channel: "ch\(t % 2)", payload: [UInt8(t), UInt8(i)]) }
                group.leave()
            }.start()
        }
        group.wait()
        for channel in ["ch0", "ch1"] {
            let records = try log.read(channel: channel, from: 1, limit: 10_000)
            #expect(records.map(\.position) == Array(1...UInt64(threads / 2 * each)))
            // Each writer's own records stay in its submission order.
            for t in 0..<threads where "ch\(t % 2)" == channel {
                let mine = records.filter { $0.payload[0] == UInt8(t) }.map { Int($0.payload[1]) }
                #expect(mine == Array(0..<each))
            }
        }
    }

    @Test(arguments: Kind.allCases)
    func closedBrokerRefuses(kind: Kind) throws {
        let (log, dir) = try make(kind)
        _ = dir
        _ = try log.append(channel: "a", payload: [1])
        log.close()
        #expect(throws: ElanusError.self) { try log.append(channel: "a", payload: [2]) }
        #expect(throws: ElanusError.self) { try log.read(channel: "a", from: 1, limit: 1) }
    }
}

@Suite struct RocksLogBrokerTests {
    @Test func recordsSurviveReopenAndPositionsContinue() throws {
        let dir = TemporaryDirectory()
        do {
            let log = try RocksLogBroker(path: dir.file("wal"))
            for i in 1...3 { _ = try log.append(channel: "7_0", payload: [UInt8(i)]) }
            try log.truncate(channel: "7_0", below: 3)
            log.close()
        }
        let log = try RocksLogBroker(path: dir.file("wal"))
        defer { log.close() }
        #expect(try log.lastPosition(channel: "7_0") == 3)
        #expect(try log.append(channel: "7_0", payload: [4]) == 4)
        #expect(try log.read(channel: "7_0", from: 1, limit: 10).map(\.payload) == [[3], [4]])
    }

    @Test func corruptionIsDetectedAndNamed() throws {
        let dir = TemporaryDirectory()
        let log = try RocksLogBroker(path: dir.file("wal"))
        defer { log.close() }
        _ = try log.append(channel: "9_0", payload: Array("hello".utf8))
        _ = try log.append(channel: "9_0", payload: Array("world".utf8))
        // A bit flip in the payload, then a valid record of position 1 copied under position 2.
        var value = try #require(try log.read(channel: "9_0", from: 2, limit: 1).first).payload
        value[0] ^= 1
        try log.overwriteRawValueForTesting(channel: "9_0", position: 2, value: [0, 0, 0, 0] + value)
        do {
            _ = try log.read(channel: "9_0", from: 1, limit: 10)
            Issue.record("corruption not detected")
        } catch {
            #expect(error.message.contains("9_0@2"))
            #expect(error.message.contains("checksum"))
        }
    }

    /// Concurrent appenders share fsyncs: many records, far fewer synced batches.
    @Test func groupCommitSharesSyncsBetweenConcurrentWriters() throws {
        let dir = TemporaryDirectory()
        let log = try RocksLogBroker(path: dir.file("wal"))
        defer { log.close() }
        let threads = 8, each = 25
        let group = DispatchGroup()
        for t in 0..<threads {
            group.enter()
            Thread {
                for _ in 0..<each { _ = try? log.append(channel: "g_\(t % 3)", payload: [UInt8](repeating: 1, count: 100)) }
                group.leave()
            }.start()
        }
        group.wait()
        let syncs = log.syncCount.load(ordering: .relaxed)
        #expect(syncs < threads * each, "syncs \(syncs) for \(threads * each) appends")
    }
}
