import Dispatch
import ElanusCore
import Foundation
import Synchronization

/// One piece of background work: a flush, an index build, a compaction, a load, an import or a
/// backup. Registered while it runs, with what it works on, so that shutdown, a dropped
/// collection or a dropped index can cancel it, and so that its commit can check it was not.
///
/// Cancellation is cooperative: the job checks `isCancelled` between steps (between slices, in
/// the HNSW link loop through its progress callback, before its commit), and a cancelled job
/// commits nothing. Thread-safety: every member may be used from any thread.
final class BackgroundJob: Sendable {
    enum Kind: String, Sendable, CaseIterable {
        case flush, indexBuild = "index build", compaction, load, importing = "import", backup
    }

    let id: Int64
    let kind: Kind
    /// The collection it works on (nil for a backup of everything).
    let collectionID: Int64?
    /// The field, for index builds (a dropped index cancels only its own builds).
    let fieldID: Int64?
    let detail: String
    let startedAt: UInt64
    private let cancelled = Atomic<Bool>(false)
    private let percent = Atomic<Int>(0)

    init(id: Int64, kind: Kind, collectionID: Int64?, fieldID: Int64?, detail: String) {
        self.id = id
        self.kind = kind
        self.collectionID = collectionID
        self.fieldID = fieldID
        self.detail = detail
        startedAt = DispatchTime.now().uptimeNanoseconds
    }

    var isCancelled: Bool { cancelled.load(ordering: .acquiring) }
    func cancel() { cancelled.store(true, ordering: .releasing) }

    /// 0 to 100.
    var progress: Int { percent.load(ordering: .relaxed) }
    func report(done: Int, total: Int) { percent.store(total > 0 ? min(100, done * 100 / total) : 0, ordering: .relaxed) }
}

/// What the registry tells about a running job.
public struct BackgroundJobInfo: Sendable, Equatable {
    public var kind: String
    public var collectionID: Int64?
    public var detail: String
    public var progress: Int
    public var seconds: Double
    public var cancelled: Bool
}

/// The engine's registry of running background jobs (DESIGN.md section 4).
final class JobRegistry: Sendable {
    private struct State {
        var nextID: Int64 = 1
        var jobs: [Int64: BackgroundJob] = [:]
        /// After `cancelAll` (shutdown): new jobs start cancelled.
        var closed = false
    }

    private let state = Mutex(State())

    /// Registers a job; after shutdown has begun it comes back already cancelled.
    func begin(_ kind: BackgroundJob.Kind, collection: Int64?, field: Int64? = nil, detail: String = "") -> BackgroundJob {
        state.withLock { s in
            let job = BackgroundJob(id: s.nextID, kind: kind, collectionID: collection, fieldID: field, detail: detail)
            s.nextID += 1
            s.jobs[job.id] = job
            if s.closed { job.cancel() }
            return job
        }
    }

    func end(_ job: BackgroundJob) { state.withLock { _ = $0.jobs.removeValue(forKey: job.id) } }

    /// Runs `body` as a registered job.
    func run<T>(
        _ kind: BackgroundJob.Kind, collection: Int64?, field: Int64? = nil, detail: String = "", _ body: (BackgroundJob) throws(ElanusError) -> T
    ) throws(ElanusError) -> T {
        let job = begin(kind, collection: collection, field: field, detail: detail)
        defer { end(job) }
        return try body(job)
    }

    /// Cancels the jobs on a collection (all of its jobs, or those of `kinds` on `field`).
    @discardableResult
    func cancel(collection: Int64, field: Int64? = nil, kinds: Set<BackgroundJob.Kind> = Set(BackgroundJob.Kind.allCases)) -> Int {
        state.withLock { s in
            var n = 0
            for job in s.jobs.values where job.collectionID == collection && kinds.contains(job.kind) && (field == nil || job.fieldID == field) {
                job.cancel()
                n += 1
            }
            return n
        }
    }

    /// Shutdown: cancels every job, and every later one as it begins; returns how many ran.
    func cancelAll() -> [BackgroundJobInfo] {
        let running = snapshot()
        state.withLock { s in
            s.closed = true
            for job in s.jobs.values { job.cancel() }
        }
        return running
    }

    /// Waits until no job is registered, at most `seconds`; returns whether none is.
    func waitUntilIdle(seconds: Double) -> Bool {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
        while state.withLock({ !$0.jobs.isEmpty }) {
            if DispatchTime.now().uptimeNanoseconds > deadline { return false }
            usleep(10_000)
        }
        return true
    }

    func snapshot() -> [BackgroundJobInfo] {
        let now = DispatchTime.now().uptimeNanoseconds
        return state.withLock { s in
            s.jobs.values.sorted { $0.id < $1.id }.map { job in
                BackgroundJobInfo(
                    kind: job.kind.rawValue, collectionID: job.collectionID, detail: job.detail, progress: job.progress,
                    seconds: Double(now &- job.startedAt) / 1e9, cancelled: job.isCancelled)
            }
        }
    }
}
