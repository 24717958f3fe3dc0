import Dispatch
import Foundation
import Glibc
import Synchronization

/// A fixed set of threads that run submitted jobs in order of arrival. Handlers may block (disk
/// syncs, index searches), which is why they run here and never on Swift's cooperative pool.
final class WorkerPool: Sendable {
    private let jobs = Mutex<[@Sendable () -> Void]>([])
    private let available = DispatchSemaphore(value: 0)
    private let finished = DispatchGroup()
    private let stopping = Atomic<Bool>(false)

    init(threads: Int, name: String, stackSize: Int = 8 << 20) {
        for i in 0..<max(1, threads) {
            finished.enter()
            let thread = Thread { [self] in
                ThreadName.set("\(name)-\(i)")
                self.run()
                self.finished.leave()
            }
            thread.name = "\(name)-\(i)"
            thread.stackSize = stackSize
            thread.start()
        }
    }

    func submit(_ job: @escaping @Sendable () -> Void) {
        jobs.withLock { $0.append(job) }
        available.signal()
    }

    private func run() {
        while true {
            available.wait()
            let job: (@Sendable () -> Void)? = jobs.withLock { $0.isEmpty ? nil : $0.removeFirst() }
            guard let job else {
                if stopping.load(ordering: .acquiring) { return }
                continue
            }
            job()
        }
    }

    /// Lets queued jobs finish, then ends every thread.
    func stop(threads: Int) {
        stopping.store(true, ordering: .releasing)
        for _ in 0..<max(1, threads) { available.signal() }
        finished.wait()
    }
}
