import ElanusCore
import ElanusStorage
import Foundation
import Synchronization

/// The timestamp oracle (Milvus's TSO): strictly increasing hybrid timestamps that never go
/// backwards, even across a SIGKILL or a wall clock that steps back.
///
/// Durability: before handing out any timestamp whose physical part reaches the persisted upper
/// bound, the oracle durably stores a new bound `window` milliseconds ahead. Every timestamp ever
/// issued is therefore below the stored bound, and a restarted oracle starts at or above it. This
/// costs one synced meta-store write per window rather than one per timestamp.
public final class TimestampOracle: Sendable {
    static let upperBoundKey = "tso/upper-bound-ms"

    struct State {
        var physicalMs: UInt64
        var logical: UInt64
        var persistedUpperMs: UInt64
    }

    private let store: any MetaStore
    private let clock: @Sendable () -> UInt64
    private let windowMs: UInt64
    private let state: Mutex<State>

    public init(
        store: any MetaStore, windowMs: UInt64 = 3000,
        clock: @escaping @Sendable () -> UInt64 = { UInt64(Date().timeIntervalSince1970 * 1000) }
    ) throws(ElanusError) {
        self.store = store
        self.clock = clock
        self.windowMs = windowMs
        let persisted = try store.get(TimestampOracle.upperBoundKey).flatMap { UInt64(String(decoding: $0, as: UTF8.self)) } ?? 0
        // Start at the stored bound when the clock is behind it: nothing issued before the restart
        // can be at or above that bound.
        let start = max(clock(), persisted)
        let upper = start + windowMs
        try store.commit([.put(TimestampOracle.upperBoundKey, Array(String(upper).utf8))])
        state = Mutex(State(physicalMs: start, logical: 0, persistedUpperMs: upper))
    }

    /// The next timestamp, greater than every timestamp issued before it.
    public func next() throws(ElanusError) -> UInt64 {
        try reserve(1)
    }

    /// Reserves `count` consecutive timestamps and returns the first; all of them are greater than
    /// every timestamp issued before and smaller than every one issued after. AutoID primary keys
    /// come from here, which is what makes them unique across restarts.
    public func reserve(_ count: Int) throws(ElanusError) -> UInt64 {
        let count = UInt64(max(1, count))
        return try state.withLock { s throws(ElanusError) in
            let now = clock()
            if now > s.physicalMs {
                s.physicalMs = now
                s.logical = 0
            } else {
                s.logical += 1
            }
            // A range longer than what is left of this millisecond borrows the following ones.
            if s.logical + count - 1 > HybridTimestamp.logicalMask {
                let needed = (s.logical + count - 1) >> HybridTimestamp.logicalBits
                s.physicalMs += needed
                s.logical = 0
            }
            let first = HybridTimestamp.compose(physicalMs: s.physicalMs, logical: s.logical)
            s.logical += count - 1
            if s.logical > HybridTimestamp.logicalMask {
                s.physicalMs += s.logical >> HybridTimestamp.logicalBits
                s.logical &= HybridTimestamp.logicalMask
            }
            if s.physicalMs >= s.persistedUpperMs {
                let upper = s.physicalMs + windowMs
                try store.commit([.put(TimestampOracle.upperBoundKey, Array(String(upper).utf8))])
                s.persistedUpperMs = upper
            }
            return first
        }
    }
}
