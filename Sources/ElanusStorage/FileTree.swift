import ElanusCore
import Foundation
import Glibc

/// Whole directory trees, for backups and restores.
public enum FileTree {
    /// Recreates `source`'s tree at `target` (which must not exist). With `link`, each file is
    /// hard-linked, falling back to a copy across file systems; only immutable files may be
    /// linked, since both names then share one file. Returns the files and bytes carried over.
    @discardableResult
    public static func replicate(_ source: String, to target: String, link: Bool) throws(ElanusError) -> (files: Int, bytes: Int) {
        let manager = FileManager.default
        guard let walker = manager.enumerator(atPath: source) else { throw .unexpected("cannot read directory \(source)") }
        var files = 0
        var bytes = 0
        do {
            try manager.createDirectory(atPath: target, withIntermediateDirectories: true)
            while let relative = walker.nextObject() as? String {
                let from = source + "/" + relative
                let to = target + "/" + relative
                let attributes = try manager.attributesOfItem(atPath: from)
                if attributes[.type] as? FileAttributeType == .typeDirectory {
                    try manager.createDirectory(atPath: to, withIntermediateDirectories: true)
                    continue
                }
                // Half-written files of the object store (`*.tmp`) are never part of a copy.
                if relative.hasSuffix(".tmp") { continue }
                if !link || Glibc.link(from, to) != 0 { try manager.copyItem(atPath: from, toPath: to) }
                files += 1
                bytes += (attributes[.size] as? Int) ?? 0
            }
        } catch let error as ElanusError {
            throw error
        } catch {
            throw .unexpected("cannot copy \(source) to \(target): \(error.localizedDescription)")
        }
        return (files, bytes)
    }

    /// Flushes a file or directory to disk.
    public static func sync(_ path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
