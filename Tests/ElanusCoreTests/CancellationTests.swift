import ElanusCore
import Synchronization
import Testing

/// The request token on its own, with an injected clock.
@Suite struct CancellationTests {
    /// A clock that moves only when told.
    final class ManualClock: Sendable {
        let ns = Atomic<Int>(1_000_000_000)
        func advance(ms: Int) { ns.add(ms * 1_000_000, ordering: .relaxed) }
        var read: @Sendable () -> Int { { self.ns.load(ordering: .relaxed) } }
    }

    @Test func aTokenWithoutDeadlineRunsUntilCancelled() throws {
        let clock = ManualClock()
        let token = Cancellation(clock: clock.read)
        clock.advance(ms: 365 * 24 * 3_600_000)
        #expect(token.reason == nil)
        try token.check()
        token.cancel()
        token.cancel(.deadlineExceeded)  // the first reason wins
        #expect(token.reason == .canceled)
        #expect(throws: ElanusError(.canceled, "request canceled: the client closed its connection or the server is stopping")) { try token.check() }
    }

    @Test func theDeadlinePassesForGoodAndOnlyMovesEarlier() {
        let clock = ManualClock()
        let token = Cancellation(timeoutMs: 2000, clock: clock.read)
        token.limit(timeoutMs: 5000)  // later than the deadline: ignored
        clock.advance(ms: 1999)
        #expect(!token.isCancelled)
        clock.advance(ms: 1)
        #expect(token.reason == .deadlineExceeded)
        token.cancel()
        #expect(token.reason == .deadlineExceeded, "a stopped request keeps its first reason")
        #expect(throws: ElanusError(.timeout, "request timeout: the request was stopped at its time limit of 2.0 s")) { try token.check() }

        let shortened = Cancellation(timeoutMs: 30_000, clock: clock.read)
        clock.advance(ms: 100)
        shortened.limit(timeoutMs: 1500)
        clock.advance(ms: 1499)
        #expect(!shortened.isCancelled)
        clock.advance(ms: 1)
        #expect(shortened.reason == .deadlineExceeded)
        #expect(throws: ElanusError(.timeout, "request timeout: the request was stopped at its time limit of 1.6 s")) { try shortened.check() }
    }
}
