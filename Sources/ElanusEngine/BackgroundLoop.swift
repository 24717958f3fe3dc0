import Dispatch
import Foundation
import Synchronization

/// A dedicated thread that runs `round` when woken and at least every `interval` seconds, until
/// stopped. The flusher, the index node and the compactor are each one of these: their work
/// blocks in C (fsync, faiss), so it runs on threads of our own, never on Swift's cooperative
/// pool.
final class BackgroundLoop: Sendable {
    private let name: String
    private let interval: Double
    private let wakeUp = DispatchSemaphore(value: 0)
    private let exited = DispatchSemaphore(value: 0)
    private let running = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)

    init(name: String, interval: Double) {
        self.name = name
        self.interval = interval
    }

    /// Whether `stop` has been called: a long round checks it between steps.
    var isStopping: Bool { stopping.load(ordering: .sequentiallyConsistent) }

    func start(_ round: @escaping @Sendable () -> Void) {
        running.store(true, ordering: .sequentiallyConsistent)
        let thread = Thread { [self] in
            while !isStopping {
                _ = wakeUp.wait(timeout: .now() + interval)
                if isStopping { break }
                round()
            }
            exited.signal()
        }
        thread.name = name
        thread.start()
    }

    func wake() { wakeUp.signal() }

    /// Stops the thread after its current round and waits for it.
    func stop() {
        guard running.exchange(false, ordering: .sequentiallyConsistent) else { return }
        stopping.store(true, ordering: .sequentiallyConsistent)
        wakeUp.signal()
        exited.wait()
    }
}
