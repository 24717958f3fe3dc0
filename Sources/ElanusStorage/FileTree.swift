import ElanusCore
import Foundation
import Glibc

/// Whole directory trees, for backups and restores.
public enum FileTree {
    /// Recreates `source`'s tree at `target` (which must not exist). With `link`, each file is
    /// hard-linked, falling back to a copy across file systems; only immutable files may be
    /// linked, since both names then share one file. Returns the files and bytes carried over.
    /// Nothing is durable until `syncTree(target)`; `skipping` names relative paths left out
    /// (a manifest that must be written last).
    @discardableResult
    public static func replicate(_ source: String, to target: String, link: Bool, skipping: Set<String> = []) throws(ElanusError) -> (files: Int, bytes: Int) {
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
                if relative.hasSuffix(".tmp") || skipping.contains(relative) { continue }
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

    /// Flushes a file or directory to disk, best effort (a failure is not reported).
    public static func sync(_ path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    /// Flushes a file or directory to disk; throws if it cannot (a failing fsync means the data
    /// may not be there, so whatever depends on it must not be acknowledged).
    public static func syncChecked(_ path: String) throws(ElanusError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unexpected("cannot open \(path) to sync it: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .unexpected("fsync of \(path) failed: \(String(cString: strerror(errno)))") }
    }

    /// Flushes every file of a tree, then every directory, deepest first, so that each name and
    /// what it names are on disk before the tree's own entry is made durable by the caller.
    /// Copies (`copyItem`) and hard links are not durable until this runs.
    public static func syncTree(_ root: String) throws(ElanusError) {
        let manager = FileManager.default
        guard let walker = manager.enumerator(atPath: root) else { throw .unexpected("cannot read directory \(root)") }
        var directories: [String] = [root]
        while let relative = walker.nextObject() as? String {
            let path = root + "/" + relative
            if (walker.fileAttributes?[.type] as? FileAttributeType) == .typeDirectory {
                directories.append(path)
            } else {
                try syncChecked(path)
            }
        }
        for directory in directories.reversed() { try syncChecked(directory) }
    }

    /// The directory holding `path`, whose entry for it a rename or create changes.
    public static func parent(_ path: String) -> String {
        let parent = (path as NSString).deletingLastPathComponent
        return parent.isEmpty ? "." : parent
    }
}
