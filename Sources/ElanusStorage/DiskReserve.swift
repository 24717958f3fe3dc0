import ElanusCore
import Foundation
import Glibc

/// Space kept free on the data directory's file system for the stores' own work.
///
/// RocksDB must never run out of space itself: once a write or a background flush fails with
/// ENOSPC, Debian's build asserts on the failed log writer a few seconds later (the process
/// aborts), and the store accepts no write until it is reopened. So writers are refused, with
/// Milvus's "disk limit exceeded" (7), while the free space is below the reserve: RocksDB's
/// memtable flushes and compactions, and the WAL truncation that a flush brings, still have
/// room, reads go on, and writes resume by themselves once space is freed. Store writes that
/// only delete keys (WAL truncation, dropping a collection's records) are never refused; an
/// entity delete is a WAL record like an insert, so it is refused below the reserve too.
public struct DiskReserve: Sendable {
    /// The data directory (any path on the guarded file system).
    public let root: String
    public let bytes: Int

    public init(root: String, bytes: Int) {
        self.root = root
        self.bytes = bytes
    }

    /// Throws 7 when writing about `size` more bytes would leave less than the reserve free.
    public func check(writing size: Int, what: String) throws(ElanusError) {
        guard bytes > 0 else { return }
        let free = DiskReserve.freeBytes(root)
        let (left, overflow) = free.subtractingReportingOverflow(size)
        guard overflow || left < bytes else { return }
        throw ElanusError(
            .diskLimitExceeded,
            "disk limit exceeded: \(what) refused: the data directory's file system has \(DiskReserve.megabytes(free)) free and \(DiskReserve.megabytes(bytes)) are kept in reserve (storage.diskReserveBytes); reads go on, and writes resume by themselves once space is freed")
    }

    /// Free bytes for an unprivileged writer on the file system holding `path` (or its nearest
    /// existing parent).
    public static func freeBytes(_ path: String) -> Int {
        var stats = statvfs()
        var probe = path
        while statvfs(probe, &stats) != 0 {
            let parent = (probe as NSString).deletingLastPathComponent
            if parent == probe || parent.isEmpty { return 0 }
            probe = parent
        }
        let (product, overflow) = Int(stats.f_bavail).multipliedReportingOverflow(by: Int(stats.f_frsize))
        return overflow ? Int.max : product
    }

    public static func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_000_000) }
}
