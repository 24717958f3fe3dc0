import ElanusCore

/// One record of a channel, at its position (1, 2, 3, ... within the channel).
public struct LogRecord: Equatable, Sendable {
    public var position: UInt64
    public var payload: [UInt8]
    public init(position: UInt64, payload: [UInt8]) {
        self.position = position
        self.payload = payload
    }
}

/// The write-ahead log, Milvus's log broker: named channels (one per collection shard) of
/// checksummed records.
///
/// Contract every implementation keeps:
/// - `submit` returns at once with the record's position. Positions of one channel are
///   consecutive and follow submission order; callers that need a global order (the collection's
///   writer) submit under their own lock.
/// - A record is durable once its ticket's `wait()` returns without error; records of one channel
///   become durable (or fail) in position order: when a ticket's `wait()` returns, every earlier
///   ticket of the channel has completed. Nothing is acknowledged before it is durable.
/// - A failed ticket's position is a hole that no record fills; later positions may succeed.
/// - `read` returns records of a channel from a position on, in order, verifying each checksum.
/// - `truncate(below:)` deletes records before a position but always keeps the last record.
/// - Positions never go back: after any truncation, compaction or restart, the next position is
///   greater than every position ever handed out (and `lastPosition` is at least that great).
///   Recovery and the apply logic rely on it: a reused position would be skipped as "already
///   flushed" and its row silently lost.
/// - All methods may be called from any thread; after `close()`, calls fail.
public protocol LogBroker: Sendable {
    func submit(channel: String, payload: [UInt8]) -> LogTicket
    func read(channel: String, from position: UInt64, limit: Int) throws(ElanusError) -> [LogRecord]
    /// The position of the channel's last record, 0 when it has none.
    func lastPosition(channel: String) throws(ElanusError) -> UInt64
    func truncate(channel: String, below position: UInt64) throws(ElanusError)
    /// Makes every later position of the channel greater than `position`, durably (recovery
    /// re-seeds a channel whose head fell below its checkpoint). Never moves positions back.
    func reserve(channel: String, through position: UInt64) throws(ElanusError)
    /// Deletes a channel and all its records (the collection was dropped).
    func drop(channel: String) throws(ElanusError)
    /// A consistent copy of the log as of now in `path` (a backup); brokers that cannot make
    /// one throw saying so.
    func checkpoint(to path: String) throws(ElanusError)
    func close()
}

extension LogBroker {
    /// Submits and waits: returns the position once the record is durable.
    public func append(channel: String, payload: [UInt8]) throws(ElanusError) -> UInt64 {
        let ticket = submit(channel: channel, payload: payload)
        try ticket.wait()
        return ticket.position
    }
}

/// A submitted record: its position, and a wait for its durability.
public final class LogTicket: @unchecked Sendable {
    public let position: UInt64
    private let done = DispatchSemaphoreBox()
    private var failure: ElanusError?

    init(position: UInt64) { self.position = position }

    init(failed error: ElanusError) {
        position = 0
        failure = error
        done.signal()
    }

    /// Called once by the broker when the record's group is synced (or failed).
    func complete(_ error: ElanusError?) {
        failure = error
        done.signal()
    }

    /// Blocks until the record is durable; throws if it could not be made durable.
    public func wait() throws(ElanusError) {
        done.wait()
        // The semaphore orders the broker's write of `failure` before this read.
        if let failure { throw failure }
    }
}

import Dispatch

/// A one-shot latch: `wait()` returns once `signal()` has been called, however many times it waits.
final class DispatchSemaphoreBox: @unchecked Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    func signal() { semaphore.signal() }
    func wait() {
        semaphore.wait()
        semaphore.signal()  // leave it open for later waits
    }
}
