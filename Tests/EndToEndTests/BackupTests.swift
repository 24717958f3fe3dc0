import ElanusCore
import ElanusTestSupport
import Foundation
import Synchronization
import Testing

/// `elanus backup` against a running server under write load, then `elanus restore` into a new
/// data directory: every row acknowledged before the backup began is there, every delete
/// acknowledged before it holds, and nothing appears that was never written.
@Suite struct BackupTests {
    static func cli(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ElanusProcess.binaryPath)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    struct Ledger {
        var ackedBefore: Set<Int> = []
        var deletedBefore: Set<Int> = []
        /// Every row a delete was sent for: one in flight when the backup began may be in it.
        var deleteSent: Set<Int> = []
        var attempted: Set<Int> = []
    }

    @Test func aBackupUnderWriteLoadRestoresEveryAcknowledgedRow() throws {
        let dir = TemporaryDirectory()
        let data = dir.file("data")
        // Tiny segments and eager flushes and compactions, so files come and go during the backup.
        let environment = [
            "ELANUS_SEGMENT_MAX_ROWS": "150", "ELANUS_SEGMENT_FLUSH_INTERVAL_SECONDS": "0.02", "ELANUS_COMPACTION_INTERVAL_SECONDS": "0.05",
        ]
        let server = ElanusProcess(dataDirectory: data, environment: environment)
        try server.start()
        defer { server.terminate() }
        let rest = RESTClient(port: server.port)
        #expect(try rest.call("collections/create", #"{"collectionName":"w","dimension":2}"#).code == 0)

        let ledger = Mutex(Ledger())
        let backupStarted = Atomic<Bool>(false)
        let stop = Atomic<Bool>(false)
        let group = DispatchGroup()
        for writer in 0..<3 {
            group.enter()
            Thread {
                defer { group.leave() }
                let client = RESTClient(port: server.port)
                var batch = 0
                while !stop.load(ordering: .acquiring) && batch < 60 {
                    let ids = (0..<40).map { writer * 100_000 + batch * 40 + $0 }
                    ledger.withLock { $0.attempted.formUnion(ids) }
                    let rows = ids.map { #"{"id":\#($0),"vector":[\#($0 % 97),1]}"# }.joined(separator: ",")
                    let before = !backupStarted.load(ordering: .acquiring)
                    // Whether the backup had begun is read before the request is sent: a row
                    // counts as acknowledged-before only if it was acknowledged before that.
                    guard (try? client.call("entities/insert", #"{"collectionName":"w","data":[\#(rows)]}"#).code) == 0 else { continue }
                    if before && !backupStarted.load(ordering: .acquiring) { ledger.withLock { $0.ackedBefore.formUnion(ids) } }
                    if batch % 5 == 4 {
                        let victim = ids[0]
                        let beforeDelete = !backupStarted.load(ordering: .acquiring)
                        ledger.withLock { _ = $0.deleteSent.insert(victim) }
                        if (try? client.call("entities/delete", #"{"collectionName":"w","filter":"id in [\#(victim)]"}"#).code) == 0,
                            beforeDelete && !backupStarted.load(ordering: .acquiring)
                        {
                            ledger.withLock { $0.deletedBefore.insert(victim) }
                        }
                    }
                    batch += 1
                    usleep(10_000)
                }
            }.start()
        }
        usleep(600_000)
        backupStarted.store(true, ordering: .releasing)
        let backup = dir.file("backup")
        let taken = try Self.cli(["backup", "--data-dir", data, "--to", backup])
        #expect(taken.status == 0 && taken.output.contains("running server"), "\(taken.output)")
        usleep(300_000)
        stop.store(true, ordering: .releasing)
        group.wait()

        // The route refuses names that are not plain, and a name already taken.
        #expect(try rest.call("backups/create", #"{"backupName":"../escape"}"#).code == 1100)
        #expect(try rest.call("backups/create", #"{"backupName":"twice"}"#).code == 0)
        #expect(try rest.call("backups/create", #"{"backupName":"twice"}"#).code == 1100)
        #expect(try rest.call("backups/create", "{}").code == 1802)

        let restored = dir.file("restored")
        let restore = try Self.cli(["restore", "--from", backup, "--data-dir", restored])
        #expect(restore.status == 0, "\(restore.output)")
        // A second restore into a directory in use is refused.
        #expect(try Self.cli(["restore", "--from", backup, "--data-dir", restored]).status != 0)

        let copy = ElanusProcess(dataDirectory: restored)
        try copy.start()
        defer { copy.terminate() }
        let reply = try RESTClient(port: copy.port).call("entities/query", #"{"collectionName":"w","filter":"id >= 0","outputFields":["id"],"limit":16384}"#)
        guard case .array(let rows)? = reply.data else { throw ElanusError(.unexpected, "query failed: \(reply.body)") }
        var present = Set<Int>()
        for row in rows { if case .int(let id)? = row["id"] { present.insert(Int(id)) } }
        let book = ledger.withLock { $0 }
        #expect(book.ackedBefore.count > 200, "the writers acknowledged only \(book.ackedBefore.count) rows before the backup")
        let missing = book.ackedBefore.subtracting(book.deleteSent).subtracting(present)
        #expect(missing.isEmpty, "\(missing.count) acknowledged rows missing, e.g. \(missing.sorted().prefix(5))")
        #expect(book.deletedBefore.intersection(present).isEmpty, "deletes acknowledged before the backup were undone")
        #expect(present.isSubset(of: book.attempted), "rows that were never written appeared")
    }

    /// Issue 20, item 3: a backup moved across file systems is complete or absent. Into a
    /// second file system it arrives whole (manifest last, nothing left behind); into one too
    /// small, the move fails, leaves no target, and keeps the source.
    @Test func aBackupMovedAcrossFileSystemsIsCompleteOrAbsent() throws {
        let dir = TemporaryDirectory()
        let data = dir.file("data")
        let server = ElanusProcess(dataDirectory: data)
        try server.start()
        defer { server.terminate() }
        let rest = RESTClient(port: server.port)
        #expect(try rest.call("collections/create", #"{"collectionName":"m","dimension":2}"#).code == 0)
        let rows = (0..<500).map { #"{"id":\#($0),"vector":[\#($0),1]}"# }.joined(separator: ",")
        #expect(try rest.call("entities/insert", #"{"collectionName":"m","data":[\#(rows)]}"#).code == 0)
        #expect(try rest.call("collections/flush", #"{"collectionName":"m"}"#).code == 0)
        guard let tiny = SmallFileSystem.mount(at: dir.file("tiny"), bytes: 8 * 1024), let roomy = SmallFileSystem.mount(at: dir.file("roomy"), bytes: 64 << 20) else {
            print("skipped: cannot mount a tmpfs here (not root?), so no second file system to move a backup to")
            return
        }
        let serverBackups = data + "-backups"
        // Too small: the copy runs out of space half-way.
        let failed = try Self.cli(["backup", "--data-dir", data, "--to", tiny.path + "/b"])
        #expect(failed.status != 0, "\(failed.output)")
        #expect(!FileManager.default.fileExists(atPath: tiny.path + "/b"))
        #expect(!FileManager.default.fileExists(atPath: tiny.path + "/b.partial"))
        let kept = try FileManager.default.contentsOfDirectory(atPath: serverBackups)
        #expect(kept.count == 1, "the source stays when the move fails: \(kept)")
        #expect(FileManager.default.fileExists(atPath: serverBackups + "/" + kept[0] + "/BACKUP.json"))
        // Room enough: whole, and the source is gone.
        let moved = try Self.cli(["backup", "--data-dir", data, "--to", roomy.path + "/b"])
        #expect(moved.status == 0, "\(moved.output)")
        #expect(FileManager.default.fileExists(atPath: roomy.path + "/b/BACKUP.json"))
        #expect(!FileManager.default.fileExists(atPath: roomy.path + "/b.partial"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: serverBackups) == kept)
        let restored = dir.file("restored")
        #expect(try Self.cli(["restore", "--from", roomy.path + "/b", "--data-dir", restored]).status == 0)
        let copy = ElanusProcess(dataDirectory: restored)
        try copy.start()
        defer { copy.terminate() }
        let count = try RESTClient(port: copy.port).call("entities/query", #"{"collectionName":"m","filter":"","outputFields":["count(*)"]}"#)
        #expect(count.data == [["count(*)": 500]])
    }
}
