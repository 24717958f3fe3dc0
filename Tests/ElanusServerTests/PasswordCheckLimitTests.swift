import Dispatch
import Foundation
import Synchronization
import Testing

@testable import ElanusServer

/// The two bounds on slow password checks, on their own: the per-address failure window (with
/// an injected clock) and the gate's slots and queue.
@Suite struct PasswordCheckLimitTests {
    @Test func failuresPerAddressAreRefusedUntilTheWindowEnds() {
        let limiter = LoginFailureLimiter(limit: 3, windowMs: 1000)
        for t in [0, 10, 20] {
            #expect(limiter.retryAfterMs("10.0.0.1", nowMs: t) == nil)
            limiter.recordFailure("10.0.0.1", nowMs: t)
        }
        // Three failures in the window opened at 0: refused until 1000, and only this address.
        #expect(limiter.retryAfterMs("10.0.0.1", nowMs: 30) == 970)
        #expect(limiter.retryAfterMs("10.0.0.1", nowMs: 999) == 1)
        #expect(limiter.retryAfterMs("10.0.0.2", nowMs: 30) == nil)
        #expect(limiter.retryAfterMs("10.0.0.1", nowMs: 1000) == nil)
        // A failure after the window opens a new one with a count of one.
        limiter.recordFailure("10.0.0.1", nowMs: 1000)
        #expect(limiter.retryAfterMs("10.0.0.1", nowMs: 1001) == nil)
        // 0 turns it off.
        let off = LoginFailureLimiter(limit: 0, windowMs: 1000)
        for _ in 0..<100 { off.recordFailure("10.0.0.1", nowMs: 0) }
        #expect(off.retryAfterMs("10.0.0.1", nowMs: 1) == nil)
    }

    @Test func theGateRunsSlotsChecksQueuesAsManyAndRefusesMore() {
        let gate = PasswordCheckGate(slots: 1, queue: 1)
        let release = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        let results = Mutex<[Int?]>([])
        let group = DispatchGroup()
        // The first check holds the only slot until released.
        DispatchQueue.global().async(group: group) {
            let r = gate.run { () -> Int in
                started.signal()
                release.wait()
                return 1
            }
            results.withLock { $0.append(r) }
        }
        started.wait()
        // The second waits in the queue (it cannot finish before the first is released).
        DispatchQueue.global().async(group: group) {
            let r = gate.run { 2 }
            results.withLock { $0.append(r) }
        }
        let deadline = Date().addingTimeInterval(10)
        while gate.occupied < 2 && Date() < deadline { usleep(1000) }
        // The third finds the slot and the queue taken, and is refused at once.
        #expect(gate.occupied == 2)
        #expect(gate.run { 3 } == nil)
        #expect(results.withLock { $0 }.isEmpty)
        release.signal()
        group.wait()
        #expect(results.withLock { $0 }.sorted { ($0 ?? 0) < ($1 ?? 0) } == [1, 2])
        #expect(gate.run { 4 } == 4)
    }
}
