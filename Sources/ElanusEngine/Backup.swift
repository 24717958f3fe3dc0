import Dispatch
import ElanusCore
import ElanusStorage
import Foundation

/// What a backup holds, written last into it as `BACKUP.json`: a directory without it is not a
/// finished backup.
public struct BackupManifest: Codable, Sendable {
    public static let fileName = "BACKUP.json"
    public static let currentFormat = 1
    public var format: Int
    /// Wall-clock milliseconds when the snapshot was taken.
    public var createdAt: UInt64
    public var collections: Int
    public var files: Int
    public var bytes: Int
    public var seconds: Double
}

/// Backups and restores of a data directory. A backup is `meta/` and `wal/` as RocksDB
/// checkpoints and `objects/` as hard links (the object store's files are immutable), plus the
/// manifest. A restore copies it into a new data directory, where the usual recovery does the
/// rest: it loads the segments the meta store names and replays the WAL after the checkpoint.
public enum Backup {
    /// Writes a backup of stores that are consistent with each other right now; `meta` and `wal`
    /// checkpoint them into the paths they are given. Everything goes into `<path>.partial`,
    /// renamed to `path` once complete.
    static func write(
        to path: String, objects: String, collections: Int, meta: (String) throws(ElanusError) -> Void, wal: (String) throws(ElanusError) -> Void
    ) throws(ElanusError) -> BackupManifest {
        let start = DispatchTime.now().uptimeNanoseconds
        guard !FileManager.default.fileExists(atPath: path) else { throw .invalidParameter("backup target \(path) already exists") }
        let partial = path + ".partial"
        ObjectStore.removeTree(partial)
        do {
            try FileManager.default.createDirectory(atPath: partial, withIntermediateDirectories: true)
        } catch {
            throw .unexpected("cannot create \(partial): \(error.localizedDescription)")
        }
        do throws(ElanusError) {
            // The meta store first: it names the segment files and the WAL checkpoint; the WAL,
            // taken after, holds every record past that checkpoint (nothing truncates it while the
            // caller holds the flush locks), and the object files it names exist until then too.
            try meta(partial + "/meta")
            try wal(partial + "/wal")
            let copied = try FileTree.replicate(objects, to: partial + "/objects", link: true)
            let manifest = BackupManifest(
                format: BackupManifest.currentFormat, createdAt: UInt64(Date().timeIntervalSince1970 * 1000), collections: collections,
                files: copied.files, bytes: copied.bytes, seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            // Everything durable before the manifest that declares it complete, and the
            // manifest durable before the rename that publishes it.
            try FileTree.syncTree(partial)
            try write(manifest, to: partial + "/" + BackupManifest.fileName)
            try FileTree.syncChecked(partial)
            guard rename(partial, path) == 0 else { throw ElanusError.unexpected("cannot rename \(partial) to \(path): \(String(cString: strerror(errno)))") }
            try FileTree.syncChecked(FileTree.parent(path))
            return manifest
        } catch {
            ObjectStore.removeTree(partial)
            throw error
        }
    }

    /// A backup of a data directory no server is using. Opening its RocksDB stores takes their
    /// locks, so this fails if a server has them open.
    public static func offline(dataDirectory: String, to path: String) throws(ElanusError) -> BackupManifest {
        guard FileManager.default.fileExists(atPath: dataDirectory + "/meta") else { throw .invalidParameter("\(dataDirectory) is not an Elanus data directory (no meta/)") }
        let meta = try RocksMetaStore(path: dataDirectory + "/meta")
        defer { meta.close() }
        let wal = try RocksLogBroker(path: dataDirectory + "/wal")
        defer { wal.close() }
        let collections = (try? FileManager.default.contentsOfDirectory(atPath: dataDirectory + "/objects").count) ?? 0
        return try write(to: path, objects: dataDirectory + "/objects", collections: collections, meta: meta.checkpoint(to:), wal: wal.checkpoint(to:))
    }

    /// Copies the backup at `path` into `dataDirectory`, which must not exist or be empty.
    public static func restore(from path: String, to dataDirectory: String) throws(ElanusError) -> BackupManifest {
        let manifest = try read(path)
        let manager = FileManager.default
        if manager.fileExists(atPath: dataDirectory) {
            guard ((try? manager.contentsOfDirectory(atPath: dataDirectory)) ?? ["?"]).isEmpty else {
                throw .invalidParameter("restore target \(dataDirectory) is not empty: restore into a new data directory")
            }
            ObjectStore.removeTree(dataDirectory)
        }
        let partial = dataDirectory + ".partial"
        ObjectStore.removeTree(partial)
        do throws(ElanusError) {
            // RocksDB appends to some of its files: those are copied, never linked.
            try FileTree.replicate(path + "/meta", to: partial + "/meta", link: false)
            try FileTree.replicate(path + "/wal", to: partial + "/wal", link: false)
            try FileTree.replicate(path + "/objects", to: partial + "/objects", link: true)
            try FileTree.syncTree(partial)
            guard rename(partial, dataDirectory) == 0 else { throw ElanusError.unexpected("cannot rename \(partial) to \(dataDirectory): \(String(cString: strerror(errno)))") }
            try FileTree.syncChecked(FileTree.parent(dataDirectory))
        } catch {
            ObjectStore.removeTree(partial)
            throw error
        }
        return manifest
    }

    /// Moves a finished backup: renamed, or across file systems copied into `<target>.partial`
    /// with the manifest last, made durable, and renamed to `target`; the source is removed only
    /// then. A crash or failure at any point leaves `target` complete or absent, and the source
    /// whole until the target is complete.
    public static func move(_ source: String, to target: String) throws(ElanusError) {
        if rename(source, target) == 0 {
            try FileTree.syncChecked(FileTree.parent(target))
            return
        }
        guard errno == EXDEV else { throw .unexpected("cannot move \(source) to \(target): \(String(cString: strerror(errno)))") }
        _ = try read(source)
        let partial = target + ".partial"
        ObjectStore.removeTree(partial)
        do throws(ElanusError) {
            try FileTree.replicate(source, to: partial, link: false, skipping: [BackupManifest.fileName])
            try FileTree.syncTree(partial)
            do {
                try FileManager.default.copyItem(atPath: source + "/" + BackupManifest.fileName, toPath: partial + "/" + BackupManifest.fileName)
            } catch {
                throw ElanusError.unexpected("cannot copy the manifest of \(source): \(error.localizedDescription)")
            }
            try FileTree.syncChecked(partial + "/" + BackupManifest.fileName)
            try FileTree.syncChecked(partial)
            guard rename(partial, target) == 0 else { throw ElanusError.unexpected("cannot rename \(partial) to \(target): \(String(cString: strerror(errno)))") }
            try FileTree.syncChecked(FileTree.parent(target))
        } catch {
            ObjectStore.removeTree(partial)
            throw error
        }
        ObjectStore.removeTree(source)
    }

    /// The manifest of a finished backup.
    public static func read(_ path: String) throws(ElanusError) -> BackupManifest {
        guard let data = FileManager.default.contents(atPath: path + "/" + BackupManifest.fileName) else {
            throw .invalidParameter("\(path) is not a finished Elanus backup (no \(BackupManifest.fileName))")
        }
        do {
            let manifest = try JSONDecoder().decode(BackupManifest.self, from: data)
            guard manifest.format == BackupManifest.currentFormat else { throw ElanusError.invalidParameter("\(path) is a backup of format \(manifest.format); this build reads \(BackupManifest.currentFormat)") }
            return manifest
        } catch let error as ElanusError {
            throw error
        } catch {
            throw .invalidParameter("\(path)/\(BackupManifest.fileName) is damaged: \(error)")
        }
    }

    static func write(_ manifest: BackupManifest, to file: String) throws(ElanusError) {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(manifest).write(to: URL(fileURLWithPath: file))
            FileTree.sync(file)
        } catch {
            throw .unexpected("cannot write \(file): \(error.localizedDescription)")
        }
    }
}

extension Engine {
    /// A consistent backup of the running engine at `path`, taken without stopping writes: every
    /// collection's flush lock is held for the moment of the copy, so no flush, compaction or
    /// import commit moves a checkpoint, truncates the WAL or removes a file meanwhile, while
    /// inserts and deletes go on into the WAL.
    public func backup(to path: String) throws(ElanusError) -> BackupManifest {
        let all = loadedCollections().map(\.data).sorted { $0.collectionID < $1.collectionID }
        let registered = jobs.begin(.backup, collection: nil, detail: path)
        defer { jobs.end(registered) }
        let manifest = try Engine.holdingFlushLocks(all[...]) { () throws(ElanusError) -> BackupManifest in
            try Backup.write(
                to: path, objects: objects.root, collections: all.count, meta: metaStore.checkpoint(to:), wal: broker.checkpoint(to:))
        }
        logger.info("backup written", metadata: ["path": "\(path)", "files": "\(manifest.files)", "bytes": "\(manifest.bytes)", "seconds": "\(String(format: "%.2f", manifest.seconds))"])
        return manifest
    }

    /// Runs `body` holding the flush locks of `datas`, taken in collection-id order (one at a
    /// time everywhere else, so no order can deadlock against this).
    private static func holdingFlushLocks(
        _ datas: ArraySlice<CollectionData>, _ body: () throws(ElanusError) -> BackupManifest
    ) throws(ElanusError) -> BackupManifest {
        guard let first = datas.first else { return try body() }
        return try first.flushLock.withLock { (_: inout Bool) throws(ElanusError) -> BackupManifest in
            try holdingFlushLocks(datas.dropFirst(), body)
        }
    }
}
