import Glibc
import Synchronization

/// Whether a request may go on working: one per request, made by the front end that received it
/// (the HTTP server today, a gRPC one later) and handed down to the engine with the request.
///
/// Two things end it, whichever comes first and for good:
/// - `cancel()`: nobody will read the answer (the client closed its connection, the server is
///   stopping). The work stops and the front end answers nothing;
/// - its deadline passes: the work stops and the request is answered with Milvus's timeout
///   error (10001).
///
/// Long loops poll `isCancelled` every few thousand rows, per chunk or per segment, never per
/// row: an atomic load, plus a clock read when a deadline is set. A loop that stops early leaves
/// its result incomplete, so whoever started the work calls `check()` before using it; because
/// the state never goes back, that check sees whatever stopped the loop. Safe from any thread.
public final class Cancellation: Sendable {
    public enum Reason: UInt8, Sendable {
        case canceled = 1
        case deadlineExceeded = 2
    }

    /// 0 while the work may go on, else a Reason's raw value. Set once: the first reason wins.
    private let state = Atomic<UInt8>(0)
    /// On `clock`'s scale, in nanoseconds; Int.max when there is none.
    private let deadlineNs: Atomic<Int>
    private let startNs: Int
    private let clock: @Sendable () -> Int

    /// `timeoutMs`: the deadline, from now; nil for none. `clock` gives nanoseconds on a
    /// monotonic scale (injected by tests).
    public init(timeoutMs: Int? = nil, clock: @escaping @Sendable () -> Int = Cancellation.monotonicNs) {
        let now = clock()
        self.clock = clock
        startNs = now
        deadlineNs = Atomic(timeoutMs.map { now + max(0, $0) * 1_000_000 } ?? .max)
    }

    /// Stops the work for good. Nothing happens when it has already stopped.
    public func cancel(_ reason: Reason = .canceled) {
        _ = state.compareExchange(expected: 0, desired: reason.rawValue, ordering: .relaxed)
    }

    /// Brings the deadline forward to `timeoutMs` from now; never moves it later.
    public func limit(timeoutMs: Int) {
        let wanted = clock() + max(0, timeoutMs) * 1_000_000
        var current = deadlineNs.load(ordering: .relaxed)
        while wanted < current {
            let (exchanged, original) = deadlineNs.compareExchange(expected: current, desired: wanted, ordering: .relaxed)
            if exchanged { break }
            current = original
        }
    }

    /// Why the work must stop, or nil while it may go on.
    public var reason: Reason? {
        let s = state.load(ordering: .relaxed)
        if s != 0 { return Reason(rawValue: s) }
        let deadline = deadlineNs.load(ordering: .relaxed)
        guard deadline != .max, clock() >= deadline else { return nil }
        cancel(.deadlineExceeded)
        return Reason(rawValue: state.load(ordering: .relaxed))
    }

    public var isCancelled: Bool { reason != nil }

    /// Throws the error a stopped request answers with (10000 canceled, 10001 timeout).
    public func check() throws(ElanusError) {
        guard let reason else { return }
        switch reason {
        case .canceled:
            throw ElanusError(.canceled, "request canceled: the client closed its connection or the server is stopping")
        case .deadlineExceeded:
            let ms = (deadlineNs.load(ordering: .relaxed) - startNs) / 1_000_000
            throw ElanusError(.timeout, "request timeout: the request was stopped at its time limit of \(ms / 1000).\(ms % 1000 / 100) s")
        }
    }

    /// CLOCK_MONOTONIC in nanoseconds.
    public static func monotonicNs() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int(ts.tv_sec) * 1_000_000_000 + Int(ts.tv_nsec)
    }
}
