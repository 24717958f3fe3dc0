import ElanusCore
import Synchronization

/// A LogBroker in memory: the reference implementation for the conformance suite. Records are
/// "durable" the moment they are submitted; nothing survives the process.
public final class MemoryLogBroker: LogBroker {
    private struct State {
        var channels: [String: [LogRecord]] = [:]
        /// The greatest position handed out per channel (positions never go back).
        var heads: [String: UInt64] = [:]
        var closed = false
    }

    private let state = Mutex(State())

    public init() {}

    /// A new, open broker holding the same records and positions, as a restart finds them (the
    /// engine closes the broker it was given when it closes).
    public func reopened() -> MemoryLogBroker {
        let broker = MemoryLogBroker()
        let (channels, heads) = state.withLock { ($0.channels, $0.heads) }
        broker.state.withLock { s in
            s.channels = channels
            s.heads = heads
        }
        return broker
    }

    public func submit(channel: String, payload: [UInt8]) -> LogTicket {
        state.withLock { s in
            if s.closed { return LogTicket(failed: .unexpected("log broker is closed")) }
            let position = (s.heads[channel] ?? 0) + 1
            s.heads[channel] = position
            s.channels[channel, default: []].append(LogRecord(position: position, payload: payload))
            let ticket = LogTicket(position: position)
            ticket.complete(nil)
            return ticket
        }
    }

    private func open(_ s: State) throws(ElanusError) {
        if s.closed { throw .unexpected("log broker is closed") }
    }

    public func read(channel: String, from position: UInt64, limit: Int) throws(ElanusError) -> [LogRecord] {
        try state.withLock { s throws(ElanusError) in
            try open(s)
            return Array((s.channels[channel] ?? []).filter { $0.position >= position }.prefix(limit))
        }
    }

    public func lastPosition(channel: String) throws(ElanusError) -> UInt64 {
        try state.withLock { s throws(ElanusError) in
            try open(s)
            return s.heads[channel] ?? 0
        }
    }

    public func truncate(channel: String, below position: UInt64) throws(ElanusError) {
        try state.withLock { s throws(ElanusError) in
            try open(s)
            guard let records = s.channels[channel], let last = records.last else { return }
            let cut = min(position, last.position)
            s.channels[channel] = records.filter { $0.position >= cut }
        }
    }

    public func drop(channel: String) throws(ElanusError) {
        try state.withLock { s throws(ElanusError) in
            try open(s)
            s.channels[channel] = nil
            s.heads[channel] = nil
        }
    }

    public func reserve(channel: String, through position: UInt64) throws(ElanusError) {
        try state.withLock { s throws(ElanusError) in
            try open(s)
            s.heads[channel] = max(s.heads[channel] ?? 0, position)
        }
    }

    public func checkpoint(to path: String) throws(ElanusError) {
        throw ElanusError(.unimplemented, "service unimplemented: a backup needs the RocksDB write-ahead log, not the in-memory one")
    }

    public func close() { state.withLock { $0.closed = true } }
}
