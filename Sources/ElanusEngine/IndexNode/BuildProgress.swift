import Dispatch

/// Where a long index build has got to, passed on at most once per interval (the first time
/// after one interval, so short builds say nothing), and whether it should stop: `update`
/// answers true once `cancelled` says so. Used on the building thread only.
final class BuildProgress {
    private let interval: UInt64
    private var last: UInt64
    private let report: (_ done: Int, _ total: Int) -> Void
    private let cancelled: () -> Bool

    init(every seconds: Double, cancelled: @escaping () -> Bool = { false }, report: @escaping (_ done: Int, _ total: Int) -> Void) {
        interval = UInt64(seconds * 1e9)
        last = DispatchTime.now().uptimeNanoseconds
        self.report = report
        self.cancelled = cancelled
    }

    /// Passes progress on when due; returns whether the build should stop.
    @discardableResult
    func update(done: Int, total: Int) -> Bool {
        let now = DispatchTime.now().uptimeNanoseconds
        if now &- last >= interval {
            last = now
            report(done, total)
        }
        return cancelled()
    }

    var isCancelled: Bool { cancelled() }
}
