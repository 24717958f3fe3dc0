import ElanusCore
import ElanusEngine
import ElanusStorage
import ElanusTestSupport
import Foundation
import Synchronization
import Testing

@Suite struct TimestampOracleTests {
    /// A clock the test moves by hand.
    final class ManualClock: Sendable {
        let ms = Atomic<UInt64>(1_000_000)
        var now: @Sendable () -> UInt64 { { [self] in self.ms.load(ordering: .relaxed) } }
    }

    @Test func timestampsStrictlyIncreaseEvenWhenTheClockStands() throws {
        let clock = ManualClock()
        let tso = try TimestampOracle(store: MemoryMetaStore(), clock: clock.now)
        var last: UInt64 = 0
        for i in 0..<10_000 {
            if i % 1000 == 0 { clock.ms.add(1, ordering: .relaxed) }
            let ts = try tso.next()
            #expect(ts > last)
            last = ts
        }
        #expect(HybridTimestamp.physicalMs(last) == 1_000_010)
    }

    @Test func neverGoesBackwardsAcrossARestartWithTheClockSteppedBack() throws {
        let dir = TemporaryDirectory()
        let clock = ManualClock()
        var last: UInt64 = 0
        do {
            let store = try RocksMetaStore(path: dir.file("meta"))
            let tso = try TimestampOracle(store: store, windowMs: 3000, clock: clock.now)
            for _ in 0..<100 {
                clock.ms.add(100, ordering: .relaxed)  // 10 s in all: crosses three windows
                last = try tso.next()
            }
            store.close()  // as after a SIGKILL, nothing else is written on the way out
        }
        clock.ms.store(500_000, ordering: .relaxed)  // the wall clock went back ~8 minutes
        let store = try RocksMetaStore(path: dir.file("meta"))
        defer { store.close() }
        let tso = try TimestampOracle(store: store, clock: clock.now)
        #expect(try tso.next() > last)
    }

    @Test func concurrentCallersNeverSeeTheSameTimestamp() async throws {
        let tso = try TimestampOracle(store: MemoryMetaStore())
        let all = await withTaskGroup(of: [UInt64].self) { group in
            for _ in 0..<4 { group.addTask { (0..<2000).compactMap { _ in try? tso.next() } } }
            var out: [UInt64] = []
            for await part in group { out += part }
            return out
        }
        #expect(all.count == 8000)
        #expect(Set(all).count == 8000)
    }
}
