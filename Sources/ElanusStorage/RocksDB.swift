import CRocksDB
import Dispatch
import ElanusCore
import Foundation
import Glibc
import Synchronization

/// A failure reported by RocksDB, with its own message.
public struct RocksDBError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var message: String
    /// Refused by the disk reserve before RocksDB saw it; `message` is the whole explanation.
    public var refusedForSpace = false
    public var description: String { "rocksdb \(operation): \(message)" }

    public init(operation: String, message: String, refusedForSpace: Bool = false) {
        self.operation = operation
        self.message = message
        self.refusedForSpace = refusedForSpace
    }

    /// The file system ran out of space (ENOSPC, as RocksDB words it).
    public var isNoSpace: Bool { message.contains("No space left on device") }

    var asElanusError: ElanusError {
        if refusedForSpace { return ElanusError(.diskLimitExceeded, message) }
        if isNoSpace {
            return ElanusError(
                .diskLimitExceeded,
                "disk limit exceeded: the data directory's file system is full (\(description)); reads go on, and writes resume by themselves once space is freed")
        }
        return .unexpected(description)
    }
}

/// The one wrapper over the RocksDB C API. It owns the database handle and its option objects.
///
/// Thread-safety: RocksDB's DB object is safe for concurrent reads and writes, so every call takes
/// only a read lock; `close()` takes the write lock, so it waits for calls in progress and later
/// calls fail cleanly instead of touching a freed handle.
public final class RocksDB: @unchecked Sendable {
    public struct Options: Sendable {
        public var createIfMissing = true
        public var parallelism: Int32 = 2
        /// Memtable size. RocksDB preallocates each log file at 1.1 times it (fallocate, so the
        /// blocks are really taken on ext4): the default 64 MiB made two stores need about
        /// 150 MB free just to open. 16 MiB keeps that near 40 MB.
        public var writeBufferBytes = 16 << 20
        /// The MANIFEST file's preallocation (RocksDB's default is 4 MiB).
        public var manifestPreallocationBytes = 1 << 20
        /// Writes that add data are refused below it (see `DiskReserve`).
        public var reserve: DiskReserve?
        public init() {}

        /// About the free space opening a store takes: a new log and a new MANIFEST file, with
        /// their preallocations, and room for the first flush.
        public var bytesNeededToOpen: Int { writeBufferBytes + writeBufferBytes / 10 + manifestPreallocationBytes + (2 << 20) }
    }

    public enum Mutation: Sendable {
        case put(key: [UInt8], value: [UInt8])
        case delete(key: [UInt8])
        /// Deletes every key in [start, end).
        case deleteRange(start: [UInt8], end: [UInt8])
    }

    private var db: OpaquePointer?
    /// Set by a failed write: RocksDB then refuses every write (its background error) until it
    /// is reopened, which `write` does by itself once the file system has room again.
    private let failedWrite = Mutex<(failed: Bool, lastTry: UInt64)>((false, 0))
    /// Set by `close`: a store closed on purpose is never reopened by a late write.
    private var closedForGood = false
    public let configured: Options
    private let options: OpaquePointer
    private let readOptions: OpaquePointer
    private let syncWrite: OpaquePointer
    private let plainWrite: OpaquePointer
    private let lock = ReadWriteLock()
    public let path: String

    public init(path: String, options: Options = Options()) throws(RocksDBError) {
        self.path = path
        self.configured = options
        self.options = rocksdb_options_create()
        rocksdb_options_set_create_if_missing(self.options, options.createIfMissing ? 1 : 0)
        rocksdb_options_increase_parallelism(self.options, options.parallelism)
        rocksdb_options_set_write_buffer_size(self.options, options.writeBufferBytes)
        rocksdb_options_set_manifest_preallocation_size(self.options, options.manifestPreallocationBytes)
        readOptions = rocksdb_readoptions_create()
        syncWrite = rocksdb_writeoptions_create()
        rocksdb_writeoptions_set_sync(syncWrite, 1)
        plainWrite = rocksdb_writeoptions_create()
        // No cleanup on failure: every stored property is initialised, so Swift runs deinit for
        // this failed init, and deinit releases the option objects (doing it here too double-frees).
        db = try RocksDB.open(self.options, path)
    }

    private static func open(_ options: OpaquePointer, _ path: String) throws(RocksDBError) -> OpaquePointer? {
        var error: UnsafeMutablePointer<CChar>?
        let handle = rocksdb_open(options, path, &error)
        if let error {
            let message = String(cString: error)
            rocksdb_free(error)
            if message.contains("lock") {
                throw RocksDBError(operation: "open \(path)", message: "\(message) (is another elanus process using this data directory?)")
            }
            if message.contains("No space left on device") {
                let free = DiskReserve.freeBytes(path)
                throw RocksDBError(
                    operation: "open \(path)",
                    message: "\(message) (opening it needs about \(DiskReserve.megabytes(Options().bytesNeededToOpen)) free; \(DiskReserve.megabytes(free)) are)")
            }
            throw RocksDBError(operation: "open \(path)", message: message)
        }
        return handle
    }

    /// After a failed write: reopens the store when the last try is a second old and the file
    /// system has room to open it again, so writes resume without a restart. RocksDB replays its
    /// own log on open: every write it acknowledged is there.
    private func recoverFromFailedWrite() throws(RocksDBError) {
        let now = DispatchTime.now().uptimeNanoseconds
        let due = failedWrite.withLock { state -> Bool in
            guard state.failed, now &- state.lastTry >= 1_000_000_000 else { return false }
            state.lastTry = now
            return true
        }
        guard due else {
            if failedWrite.withLock({ $0.failed }) { throw lastFailure() }
            return
        }
        guard DiskReserve.freeBytes(path) >= configured.bytesNeededToOpen else { throw lastFailure() }
        try lock.withWriteLock { () throws(RocksDBError) in
            guard failedWrite.withLock({ $0.failed }), !closedForGood else { return }
            if let db { rocksdb_close(db) }
            db = nil
            db = try RocksDB.open(options, path)
            failedWrite.withLock { $0.failed = false }
        }
    }

    private func lastFailure() -> RocksDBError {
        RocksDBError(
            operation: "write",
            message: "an earlier write failed: No space left on device (\(DiskReserve.megabytes(DiskReserve.freeBytes(path))) free in \(path), \(DiskReserve.megabytes(configured.bytesNeededToOpen)) needed)")
    }

    deinit {
        close()
        destroyOptions()
    }

    private func destroyOptions() {
        rocksdb_options_destroy(options)
        rocksdb_readoptions_destroy(readOptions)
        rocksdb_writeoptions_destroy(syncWrite)
        rocksdb_writeoptions_destroy(plainWrite)
    }

    /// Closes the database. RocksDB flushes its memtables and releases the directory lock.
    public func close() {
        lock.withWriteLock {
            closedForGood = true
            if let db { rocksdb_close(db) }
            db = nil
        }
    }

    private func withDB<T>(_ operation: String, _ body: (OpaquePointer) throws(RocksDBError) -> T) throws(RocksDBError) -> T {
        try lock.withReadLock { () throws(RocksDBError) -> T in
            guard let db else { throw RocksDBError(operation: operation, message: "database is closed") }
            return try body(db)
        }
    }

    /// Two byte arrays as the (char*, length) pairs the RocksDB C API takes.
    private static func withCBytes(
        _ a: [UInt8], _ b: [UInt8],
        _ body: (UnsafePointer<CChar>?, Int, UnsafePointer<CChar>?, Int) -> Void
    ) {
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                pa.withMemoryRebound(to: CChar.self) { ca in
                    pb.withMemoryRebound(to: CChar.self) { cb in body(ca.baseAddress, ca.count, cb.baseAddress, cb.count) }
                }
            }
        }
    }

    private static func check(_ error: UnsafeMutablePointer<CChar>?, _ operation: String) throws(RocksDBError) {
        if let error {
            let message = String(cString: error)
            rocksdb_free(error)
            throw RocksDBError(operation: operation, message: message)
        }
    }

    /// A consistent copy of the database as of now in `path` (which must not exist): SST files
    /// are hard-linked when the file system allows, the rest copied. Memtables are flushed first,
    /// so the copy needs no log replay beyond what RocksDB itself does.
    public func checkpoint(to path: String) throws(RocksDBError) {
        try withDB("checkpoint") { (db: OpaquePointer) throws(RocksDBError) in
            var error: UnsafeMutablePointer<CChar>?
            let checkpoint = rocksdb_checkpoint_object_create(db, &error)
            try RocksDB.check(error, "checkpoint")
            defer { rocksdb_checkpoint_object_destroy(checkpoint) }
            rocksdb_checkpoint_create(checkpoint, path, 0, &error)
            try RocksDB.check(error, "checkpoint")
        }
    }

    /// Removes the table files (below level 0) whose keys all lie in [start, end]: both ends
    /// are INCLUSIVE, as RocksDB's DeleteFilesInRange with include_end, which is what the C API
    /// calls. A file whose greatest key is `end` goes too, so pass the greatest key that may be
    /// removed, never the first one to keep. Only for a range that a range deletion already
    /// covers and whose keys are never written again: the space comes back now instead of at
    /// RocksDB's next compaction of those files.
    public func deleteFiles(from start: [UInt8], through end: [UInt8]) throws(RocksDBError) {
        try withDB("delete files in range") { (db: OpaquePointer) throws(RocksDBError) in
            var error: UnsafeMutablePointer<CChar>?
            RocksDB.withCBytes(start, end) { a, al, b, bl in rocksdb_delete_file_in_range(db, a, al, b, bl, &error) }
            try RocksDB.check(error, "delete files in range")
        }
    }

    /// Compacts every key range now, down to the last level (tests use it to put records where
    /// restarts and background compactions would put them over time).
    public func compactAll() throws(RocksDBError) {
        try withDB("compact range") { (db: OpaquePointer) throws(RocksDBError) in
            rocksdb_compact_range(db, nil, 0, nil, 0)
        }
    }

    public func get(_ key: [UInt8]) throws(RocksDBError) -> [UInt8]? {
        try withDB("get") { db throws(RocksDBError) in
            var error: UnsafeMutablePointer<CChar>?
            var length = 0
            let value = key.withUnsafeBufferPointer { k in
                k.withMemoryRebound(to: CChar.self) { rocksdb_get(db, readOptions, $0.baseAddress, k.count, &length, &error) }
            }
            try RocksDB.check(error, "get")
            guard let value else { return nil }
            defer { rocksdb_free(value) }
            return Array(UnsafeRawBufferPointer(start: value, count: length))
        }
    }

    /// Applies the mutations atomically (one WriteBatch). With `sync`, it returns only after the
    /// RocksDB WAL has been fsynced, so the batch survives a SIGKILL or power loss.
    public func write(_ mutations: [Mutation], sync: Bool) throws(RocksDBError) {
        if let reserve = configured.reserve {
            var adding = 0
            for case .put(let key, let value) in mutations { adding += key.count + value.count }
            if adding > 0 {
                do { try reserve.check(writing: adding, what: "a write") } catch {
                    throw RocksDBError(operation: "write", message: error.message, refusedForSpace: true)
                }
            }
        }
        try recoverFromFailedWrite()
        do {
            try writeBatch(mutations, sync: sync)
        } catch {
            // Only space failures reopen the store: any other write error is kept as RocksDB
            // reports it. The store stays usable for reads meanwhile.
            if error.isNoSpace { failedWrite.withLock { $0 = (true, DispatchTime.now().uptimeNanoseconds) } }
            throw error
        }
    }

    private func writeBatch(_ mutations: [Mutation], sync: Bool) throws(RocksDBError) {
        try withDB("write") { db throws(RocksDBError) in
            let batch = rocksdb_writebatch_create()
            defer { rocksdb_writebatch_destroy(batch) }
            for mutation in mutations {
                switch mutation {
                case .put(let key, let value):
                    RocksDB.withCBytes(key, value) { rocksdb_writebatch_put(batch, $0, $1, $2, $3) }
                case .delete(let key):
                    key.withUnsafeBufferPointer { k in
                        k.withMemoryRebound(to: CChar.self) { rocksdb_writebatch_delete(batch, $0.baseAddress, k.count) }
                    }
                case .deleteRange(let start, let end):
                    RocksDB.withCBytes(start, end) { rocksdb_writebatch_delete_range(batch, $0, $1, $2, $3) }
                }
            }
            var error: UnsafeMutablePointer<CChar>?
            rocksdb_write(db, sync ? syncWrite : plainWrite, batch, &error)
            try RocksDB.check(error, "write")
        }
    }

    /// Every key starting with `prefix`, in key order, with its value.
    public func scan(prefix: [UInt8]) throws(RocksDBError) -> [(key: [UInt8], value: [UInt8])] {
        try scan(prefix: prefix, from: prefix, limit: Int.max)
    }

    /// Keys starting with `prefix`, from `start` (inclusive) on, at most `limit` of them.
    public func scan(prefix: [UInt8], from start: [UInt8], limit: Int) throws(RocksDBError) -> [(key: [UInt8], value: [UInt8])] {
        try withDB("scan") { db throws(RocksDBError) in
            let iterator = rocksdb_create_iterator(db, readOptions)
            defer { rocksdb_iter_destroy(iterator) }
            start.withUnsafeBufferPointer { p in
                p.withMemoryRebound(to: CChar.self) { rocksdb_iter_seek(iterator, $0.baseAddress, p.count) }
            }
            var out: [(key: [UInt8], value: [UInt8])] = []
            while rocksdb_iter_valid(iterator) != 0 && out.count < limit {
                var keyLength = 0
                var valueLength = 0
                let k = rocksdb_iter_key(iterator, &keyLength)!
                let key = Array(UnsafeRawBufferPointer(start: k, count: keyLength))
                guard key.starts(with: prefix) else { break }
                let v = rocksdb_iter_value(iterator, &valueLength)
                out.append((key: key, value: v.map { Array(UnsafeRawBufferPointer(start: $0, count: valueLength)) } ?? []))
                rocksdb_iter_next(iterator)
            }
            var error: UnsafeMutablePointer<CChar>?
            rocksdb_iter_get_error(iterator, &error)
            try RocksDB.check(error, "scan")
            return out
        }
    }

    /// The greatest key that starts with `prefix`, if any.
    public func lastKey(prefix: [UInt8]) throws(RocksDBError) -> [UInt8]? {
        try withDB("lastKey") { db throws(RocksDBError) in
            let iterator = rocksdb_create_iterator(db, readOptions)
            defer { rocksdb_iter_destroy(iterator) }
            let bound = prefix + [UInt8](repeating: 0xFF, count: 16)
            bound.withUnsafeBufferPointer { p in
                p.withMemoryRebound(to: CChar.self) { rocksdb_iter_seek_for_prev(iterator, $0.baseAddress, p.count) }
            }
            guard rocksdb_iter_valid(iterator) != 0 else { return nil }
            var length = 0
            let k = rocksdb_iter_key(iterator, &length)!
            let key = Array(UnsafeRawBufferPointer(start: k, count: length))
            return key.starts(with: prefix) ? key : nil
        }
    }
}
