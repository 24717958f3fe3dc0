import ElanusCore
import ElanusEngine
import Foundation

/// `backups/create` (an Elanus addition; Milvus backs up with a separate tool): a consistent
/// backup of the running server under the configured backup directory, taken without stopping
/// writes. It needs the `BackupRBAC` privilege (root, admin and ClusterAdmin hold it).
enum BackupRoutes {
    static func register(into routes: inout [String: RouteHandler]) {
        routes["backups/create"] = { context in
            let body = try context.body("CreateBackupReq")
            _ = try context.database(body)  // checked for its type, as every request's dbName is
            let name = try body.string("backupName", required: true)!
            guard name.utf8.count <= 128, name.first != ".",
                name.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) })
            else {
                throw ElanusError.invalidParameter("backupName \(name) must be 1 to 128 letters, digits, '-', '_' or '.', not starting with '.'")
            }
            // Absolute, so that `elanus backup`, which moves the result, finds it from any directory.
            let directory = context.engine.configuration.backupDirectory
            let path = (directory.hasPrefix("/") ? directory : FileManager.default.currentDirectoryPath + "/" + directory) + "/" + name
            let manifest = try context.engine.backup(to: path)
            return Envelope.success([
                "backupName": .string(name), "path": .string(path), "files": .int(Int64(manifest.files)), "bytes": .int(Int64(manifest.bytes)),
                "createdAt": .int(Int64(manifest.createdAt)),
            ])
        }
    }
}
