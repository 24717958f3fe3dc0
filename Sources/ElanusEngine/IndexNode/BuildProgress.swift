import Dispatch

/// Where a long index build has got to, passed on at most once per interval (the first time
/// after one interval, so short builds say nothing). Used on the building thread only.
final class BuildProgress {
    private let interval: UInt64
    private var last: UInt64
    private let report: (_ done: Int, _ total: Int) -> Void

    init(every seconds: Double, report: @escaping (_ done: Int, _ total: Int) -> Void) {
        interval = UInt64(seconds * 1e9)
        last = DispatchTime.now().uptimeNanoseconds
        self.report = report
    }

    func update(done: Int, total: Int) {
        let now = DispatchTime.now().uptimeNanoseconds
        guard now &- last >= interval else { return }
        last = now
        report(done, total)
    }
}
