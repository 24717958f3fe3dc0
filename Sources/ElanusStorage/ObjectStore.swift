import CSystem
import ElanusCore
import Glibc

/// The object store: immutable files (sealed segments, delta files, index files) under one root
/// directory on local disk, addressed by relative paths such as `12/segment-7.seg`.
///
/// Durability: `write` puts the bytes in a temporary file, fsyncs it, renames it over the final
/// name and fsyncs the directory. After a crash a reader therefore finds either the whole new
/// file or none; never a torn one under the final name. Callers record a file in the meta store
/// only after `write` returns, and remove a file only after no record names it.
public struct ObjectStore: Sendable {
    public let root: String
    /// New files are refused below it (see `DiskReserve`); removals never are.
    public let reserve: DiskReserve?
    /// Failures to inject into file writes (`Faults.Operation.objectWrite`), for tests.
    public let faults: Faults?

    public init(root: String, reserve: DiskReserve? = nil, faults: Faults? = nil) throws(ElanusError) {
        self.root = root
        self.reserve = reserve
        self.faults = faults
        try ObjectStore.makeDirectories(root)
    }

    public func path(_ relative: String) -> String { root + "/" + relative }

    /// Writes `bytes` at `relative` durably and atomically (see the type's comment).
    public func write(_ relative: String, _ bytes: [UInt8]) throws(ElanusError) {
        try reserve?.check(writing: bytes.count, what: "writing \(relative)")
        try faults?.check(.objectWrite)
        let file = try create(relative)
        try file.write(bytes)
        try file.commit()
    }

    /// A new file at `relative`, written in parts under a temporary name and published by its
    /// `commit` with the same guarantees as `write`; dropped uncommitted, it leaves nothing.
    public func create(_ relative: String, expectedBytes: Int = 0) throws(ElanusError) -> PendingFile {
        try reserve?.check(writing: expectedBytes, what: "writing \(relative)")
        try faults?.check(.objectWrite)
        let final = path(relative)
        try ObjectStore.makeDirectories(ObjectStore.parent(final))
        return try PendingFile(final: final, reserve: reserve)
    }

    /// The whole file, or a clear error naming it when it is missing or unreadable.
    public func read(_ relative: String) throws(ElanusError) -> [UInt8] {
        let full = path(relative)
        let fd = open(full, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ObjectStore.failure("open", full) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ObjectStore.failure("stat", full) }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + offset, $0.count - offset, off_t(offset)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw ObjectStore.failure("read", full) }
            offset += n
        }
        return bytes
    }

    /// Removes a file; a missing file is not an error.
    public func remove(_ relative: String) {
        unlink(path(relative))
    }

    /// Removes a directory and everything under it.
    public func removeTree(_ relative: String) {
        ObjectStore.removeTree(path(relative))
    }

    /// The names in a directory (not recursive), sorted; empty when it does not exist.
    public func list(_ relative: String) -> [String] {
        guard let dir = opendir(path(relative)) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    // MARK: - Helpers

    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }

    static func makeDirectories(_ path: String) throws(ElanusError) {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST { throw failure("mkdir", current) }
        }
    }

    static func syncDirectory(_ path: String) throws(ElanusError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("open directory", path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("fsync directory", path) }
    }

    /// Removes a file or directory tree at an absolute path; a missing one is not an error.
    public static func removeTree(_ path: String) {
        unlink(path)
        if let dir = opendir(path) {
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name == "." || name == ".." { continue }
                let child = path + "/" + name
                if entry.pointee.d_type == UInt8(DT_DIR) { removeTree(child) } else { unlink(child) }
            }
            closedir(dir)
        }
        rmdir(path)
    }

    static func failure(_ operation: String, _ path: String) -> ElanusError {
        let e = errno
        return .unexpected("object store: \(operation) \(path) failed: \(String(cString: strerror(e)))")
    }
}

/// Framed sections with checksums, the unit of every object-store file format: an 8-byte magic
/// and a u32 version, then sections of (u64 length, u32 CRC-32C of the payload, payload).
public enum ChecksummedFile {
    public static func encode(magic: String, version: UInt32, sections: [[UInt8]]) -> [UInt8] {
        var w = ByteWriter(capacity: 16 + sections.reduce(0) { $0 + $1.count + 12 })
        precondition(magic.utf8.count == 8)
        for byte in magic.utf8 { w.write(byte) }
        w.write(version)
        for section in sections {
            w.write(UInt64(section.count))
            w.write(section.withUnsafeBytes { csys_crc32c(0, $0.baseAddress, $0.count) })
            w.append(section)
        }
        return w.bytes
    }

    /// The sections of a file written by `encode`; any damage is an error naming `name`.
    public static func decode(_ bytes: [UInt8], magic: String, name: String) throws(ElanusError) -> (version: UInt32, sections: [[UInt8]]) {
        guard bytes.count >= 12, Array(bytes[0..<8]) == Array(magic.utf8) else {
            throw .unexpected("\(name) is corrupt: not a \(magic) file")
        }
        var r = ByteReader(bytes, what: name)
        _ = try r.readBytes(8)
        let version = try r.read(UInt32.self)
        var sections: [[UInt8]] = []
        while !r.atEnd {
            let length = try r.read(UInt64.self)
            let crc = try r.read(UInt32.self)
            guard length <= UInt64(bytes.count - r.offset) else { throw .unexpected("\(name) is corrupt: section \(sections.count) is truncated") }
            let payload = try r.readBytes(Int(length))
            let actual = payload.withUnsafeBytes { csys_crc32c(0, $0.baseAddress, $0.count) }
            guard actual == crc else { throw .unexpected("\(name) is corrupt: checksum mismatch in section \(sections.count)") }
            sections.append(payload)
        }
        return (version, sections)
    }
}
