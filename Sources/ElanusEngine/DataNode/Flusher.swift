import Dispatch
import ElanusCore
import Foundation
import Logging
import Synchronization

/// The background thread that seals segments past their age limit and flushes sealed segments
/// (the data coordinator's seal policy and the data node's flush, in one loop). It wakes when a
/// segment seals and at least every `interval` seconds. A failed flush is logged and retried on
/// the next round: until it succeeds the rows stay in the WAL, so nothing is lost.
final class Flusher: Sendable {
    private let wakeUp = DispatchSemaphore(value: 0)
    private let exited = DispatchSemaphore(value: 0)
    private let running = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private let interval: Double
    private let logger: Logger
    private let onFlushed: @Sendable () -> Void

    init(interval: Double, logger: Logger, onFlushed: @escaping @Sendable () -> Void) {
        self.interval = interval
        self.logger = logger
        self.onFlushed = onFlushed
    }

    func start(collections: @escaping @Sendable () -> [CollectionData]) {
        running.store(true, ordering: .sequentiallyConsistent)
        let thread = Thread { [self] in
            while !stopping.load(ordering: .sequentiallyConsistent) {
                _ = wakeUp.wait(timeout: .now() + interval)
                if stopping.load(ordering: .sequentiallyConsistent) { break }
                for data in collections() {
                    data.sealGrowing(all: false)
                    do {
                        let count = try data.flushSealed()
                        if count > 0 {
                            logger.info("segments flushed", metadata: ["collection": "\(data.collectionID)", "segments": "\(count)"])
                            onFlushed()
                        }
                    } catch {
                        logger.error("flush failed; will retry", metadata: ["collection": "\(data.collectionID)", "error": "\(error)"])
                    }
                }
            }
            exited.signal()
        }
        thread.name = "elanus-flush"
        thread.start()
    }

    func wake() { wakeUp.signal() }

    /// Stops the thread after its current round.
    func stop() {
        guard running.exchange(false, ordering: .sequentiallyConsistent) else { return }
        stopping.store(true, ordering: .sequentiallyConsistent)
        wakeUp.signal()
        exited.wait()
    }
}
