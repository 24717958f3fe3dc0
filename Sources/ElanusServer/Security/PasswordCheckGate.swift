import Dispatch
import Synchronization

/// Bounds the slow password checks (PBKDF2: a fraction of a second of one core each), which run
/// on HTTP worker threads: at most `slots` run at once and at most `queue` more wait; one more
/// is refused at once. Unbounded, a flood of failed logins takes every worker and every core,
/// and normal requests wait behind it (8 flooders took a normal request from 0.9 to 328 ms).
///
/// Thread-safe: `run` is called from any number of workers at once.
final class PasswordCheckGate: Sendable {
    let slots: Int
    let queue: Int
    /// Checks running or waiting; never above slots + queue.
    private let admitted = Atomic<Int>(0)
    private let free: DispatchSemaphore

    init(slots: Int, queue: Int) {
        self.slots = max(1, slots)
        self.queue = max(0, queue)
        free = DispatchSemaphore(value: self.slots)
    }

    /// Checks running or waiting now.
    var occupied: Int { admitted.load(ordering: .acquiring) }

    /// Runs `check` once a slot is free and returns its result; returns nil at once, without
    /// running it, when every slot and every place in the queue is taken.
    func run<T>(_ check: () -> T) -> T? {
        // The count is taken before waiting, so a waiter holds its place in the bound.
        guard admitted.add(1, ordering: .acquiringAndReleasing).oldValue < slots + queue else {
            admitted.subtract(1, ordering: .acquiringAndReleasing)
            return nil
        }
        free.wait()
        defer {
            free.signal()
            admitted.subtract(1, ordering: .acquiringAndReleasing)
        }
        return check()
    }
}
