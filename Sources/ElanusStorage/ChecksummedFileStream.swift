import CSystem
import ElanusCore
import Glibc

/// Writes a ChecksummedFile section by section into a PendingFile, so a file of any size is
/// never assembled in memory. The caller commits the pending file when every section is in.
public struct ChecksummedFileWriter {
    public let file: PendingFile

    public init(_ file: PendingFile, magic: String, version: UInt32) throws(ElanusError) {
        precondition(magic.utf8.count == 8)
        self.file = file
        var w = ByteWriter(capacity: 12)
        for byte in magic.utf8 { w.write(byte) }
        w.write(version)
        try file.write(w.bytes)
    }

    public func append(_ section: [UInt8]) throws(ElanusError) {
        var w = ByteWriter(capacity: 12)
        w.write(UInt64(section.count))
        w.write(section.withUnsafeBytes { csys_crc32c(0, $0.baseAddress, $0.count) })
        try file.write(w.bytes)
        try file.write(section)
    }

    /// A section whose payload `body` writes itself through `file.descriptor`, returning its
    /// length and CRC-32C; the section header is written before it and filled in afterwards.
    public func appendStreamed(_ body: (PendingFile) throws(ElanusError) -> (length: UInt64, crc: UInt32)) throws(ElanusError) {
        let headerAt = file.size
        try file.write([UInt8](repeating: 0, count: 12))
        let (length, crc) = try body(file)
        file.advance(by: Int(length))
        var w = ByteWriter(capacity: 12)
        w.write(length)
        w.write(crc)
        try file.patch(w.bytes, at: headerAt)
    }
}

/// Reads a ChecksummedFile from disk section by section (pread), so loading a large file holds
/// one section at a time. Every section's checksum is verified before its bytes are used.
public final class ChecksummedFileReader {
    /// The file's path, for error messages.
    public let name: String
    public let descriptor: Int32
    public let version: UInt32
    public let size: Int
    private var offset = 12
    private var index = 0

    public init(path: String, magic: String) throws(ElanusError) {
        name = path
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ObjectStore.failure("open", path) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            close(descriptor)
            throw ObjectStore.failure("stat", path)
        }
        size = Int(info.st_size)
        var header = [UInt8](repeating: 0, count: 12)
        guard size >= 12, (try? ChecksummedFileReader.read(descriptor, into: &header, count: 12, at: 0, path: path)) != nil,
              Array(header[0..<8]) == Array(magic.utf8)
        else {
            close(descriptor)
            throw .unexpected("\(path) is corrupt: not a \(magic) file")
        }
        var r = ByteReader(header, what: path)
        _ = try r.readBytes(8)
        version = try r.read(UInt32.self)
    }

    deinit { close(descriptor) }

    /// The next section's payload, its checksum verified; nil after the last.
    public func next() throws(ElanusError) -> [UInt8]? {
        guard let (at, length, crc) = try nextHeader() else { return nil }
        var payload = [UInt8](repeating: 0, count: length)
        try ChecksummedFileReader.read(descriptor, into: &payload, count: length, at: at, path: name)
        guard payload.withUnsafeBytes({ csys_crc32c(0, $0.baseAddress, $0.count) }) == crc else { throw mismatch() }
        return payload
    }

    /// The next section's place in the file, after reading it through in blocks to verify its
    /// checksum without keeping it (for a payload a C library reads itself); nil after the last.
    public func nextVerifiedRange() throws(ElanusError) -> (offset: Int, length: Int)? {
        guard let (at, length, crc) = try nextHeader() else { return nil }
        var block = [UInt8](repeating: 0, count: min(length, 4 << 20))
        var running: UInt32 = 0
        var done = 0
        while done < length {
            let n = min(block.count, length - done)
            try ChecksummedFileReader.read(descriptor, into: &block, count: n, at: at + done, path: name)
            running = block.withUnsafeBytes { csys_crc32c(running, $0.baseAddress, n) }
            done += n
        }
        guard running == crc else { throw mismatch() }
        return (at, length)
    }

    private func mismatch() -> ElanusError { .unexpected("\(name) is corrupt: checksum mismatch in section \(index - 1)") }

    private func nextHeader() throws(ElanusError) -> (offset: Int, length: Int, crc: UInt32)? {
        guard offset < size else { return nil }
        guard size - offset >= 12 else { throw .unexpected("\(name) is corrupt: section \(index) is truncated") }
        var header = [UInt8](repeating: 0, count: 12)
        try ChecksummedFileReader.read(descriptor, into: &header, count: 12, at: offset, path: name)
        var r = ByteReader(header, what: name)
        let length = try r.read(UInt64.self)
        let crc = try r.read(UInt32.self)
        guard length <= UInt64(size - offset - 12) else { throw .unexpected("\(name) is corrupt: section \(index) is truncated") }
        let at = offset + 12
        offset = at + Int(length)
        index += 1
        return (at, Int(length), crc)
    }

    /// Reads `count` bytes at `offset` into the start of `buffer`.
    static func read(_ fd: Int32, into buffer: inout [UInt8], count: Int, at offset: Int, path: String) throws(ElanusError) {
        var done = 0
        while done < count {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw n == 0 ? .unexpected("\(path) is corrupt: it ends early") : ObjectStore.failure("read", path) }
            done += n
        }
    }
}
