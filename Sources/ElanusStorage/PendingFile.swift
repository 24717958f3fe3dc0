import CSystem
import ElanusCore
import Glibc

/// An object-store file being written: a temporary file beside its final name. `commit` fsyncs
/// it, renames it over the final name and fsyncs the directory, so a crash at any point leaves
/// either the whole new file or none under the final name. Released without a commit, the
/// temporary file is removed.
public final class PendingFile {
    public let final: String
    let temporary: String
    /// The open descriptor, positioned at the end of what was written (for writers in C).
    public let descriptor: Int32
    public private(set) var size = 0
    private var finished = false

    /// Checked again before each write: another writer may have taken the room since the file
    /// was created.
    private let reserve: DiskReserve?

    init(final: String, reserve: DiskReserve? = nil) throws(ElanusError) {
        self.final = final
        self.reserve = reserve
        temporary = final + ".tmp"
        descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw ObjectStore.failure("create", temporary) }
    }

    deinit {
        if !finished {
            close(descriptor)
            unlink(temporary)
        }
    }

    /// Appends `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(ElanusError) {
        try reserve?.check(writing: bytes.count, what: "writing \(final)")
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(descriptor, bytes.baseAddress! + offset, min(bytes.count - offset, 1 << 26))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw ObjectStore.failure("write", temporary) }
            offset += n
        }
        size += bytes.count
    }

    public func write(_ bytes: [UInt8]) throws(ElanusError) {
        // Array's closure-taking accessors rethrow untyped errors, so the pointer is taken here.
        let failed = bytes.withUnsafeBytes { raw -> ElanusError? in
            do throws(ElanusError) { try write(raw) } catch { return error }
            return nil
        }
        if let failed { throw failed }
    }

    /// Overwrites bytes already written at `offset` (a header completed afterwards).
    public func patch(_ bytes: [UInt8], at offset: Int) throws(ElanusError) {
        guard offset + bytes.count <= size else { throw .unexpected("object store: patch past the end of \(temporary)") }
        let n = bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, off_t(offset)) }
        guard n == bytes.count else { throw ObjectStore.failure("write", temporary) }
    }

    /// Records that `count` bytes were appended through `descriptor` by someone else.
    public func advance(by count: Int) { size += count }

    /// Makes the file durable and visible under its final name.
    public func commit() throws(ElanusError) {
        // The data must be on disk before the rename makes it visible under the final name.
        guard fsync(descriptor) == 0 else { throw ObjectStore.failure("fsync", temporary) }
        finished = true
        close(descriptor)
        guard rename(temporary, final) == 0 else {
            let error = ObjectStore.failure("rename", final)
            unlink(temporary)
            throw error
        }
        // And the rename itself must be durable before a meta record names the file.
        try ObjectStore.syncDirectory(ObjectStore.parent(final))
    }
}
