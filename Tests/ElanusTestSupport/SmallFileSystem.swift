import Foundation

/// A tmpfs of a few bytes' room, mounted for a test that needs a file system to run out of
/// space (a full disk) or a second file system (a cross-device move). Mounting needs root; where
/// the test cannot mount, `mount` returns nil and the test skips that part, saying so.
public final class SmallFileSystem: @unchecked Sendable {
    public let path: String

    private init(path: String) { self.path = path }

    /// Mounts a tmpfs of `bytes` at `path` (created if missing); nil where mounting fails.
    public static func mount(at path: String, bytes: Int) -> SmallFileSystem? {
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        guard run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(bytes)", "tmpfs", path]) == 0 else { return nil }
        return SmallFileSystem(path: path)
    }

    /// Bytes still free on the file system.
    public var freeBytes: Int {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else { return 0 }
        return Int(stats.f_bavail) * Int(stats.f_frsize)
    }

    /// Fills the file system up to `leaving` free bytes with a file named `name`.
    public func fill(leaving: Int = 0, name: String = "ballast") {
        let handle = FileManager.default.createFile(atPath: path + "/" + name, contents: nil) ? FileHandle(forWritingAtPath: path + "/" + name) : nil
        let chunk = Data(count: 4096)
        while freeBytes > leaving + chunk.count, let handle {
            do { try handle.write(contentsOf: chunk) } catch { break }
        }
        try? handle?.close()
    }

    /// Removes the ballast `fill` wrote.
    public func drain(name: String = "ballast") { try? FileManager.default.removeItem(atPath: path + "/" + name) }

    deinit { _ = SmallFileSystem.run("/bin/umount", ["-l", path]) }

    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
