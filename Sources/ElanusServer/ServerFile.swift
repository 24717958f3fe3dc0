import ElanusCore
import ElanusEngine
import ElanusHTTP
import Foundation
import Glibc

/// `<dataDir>/server.json`: how to reach the server that has the data directory open, written
/// once it is ready and removed when it stops, so that `elanus backup --data-dir D` can ask a
/// running server for a consistent backup instead of opening its locked stores.
struct ServerFile: Codable {
    static func path(_ dataDirectory: String) -> String { dataDirectory + "/server.json" }

    var pid: Int32
    var host: String
    var port: Int
    var tls: Bool

    func write(_ dataDirectory: String) {
        guard let data = try? JSONEncoder().encode(self) else { return }
        try? data.write(to: URL(fileURLWithPath: ServerFile.path(dataDirectory)), options: .atomic)
    }

    static func remove(_ dataDirectory: String) { unlink(path(dataDirectory)) }

    /// The file's server if that process is alive.
    static func live(_ dataDirectory: String) -> ServerFile? {
        guard let data = FileManager.default.contents(atPath: path(dataDirectory)),
            let file = try? JSONDecoder().decode(ServerFile.self, from: data), kill(file.pid, 0) == 0
        else { return nil }
        return file
    }
}

/// The `elanus backup` and `elanus restore` commands.
public enum BackupCommand {
    /// Backs up `dataDirectory` into `target`. With a server running on it, the server takes the
    /// backup (under its backup directory) and it is then moved to `target`; otherwise the stores
    /// are opened and copied directly. `authorization` is an `Authorization` header value for a
    /// server with authentication on. Returns a one-line summary.
    public static func backup(dataDirectory: String, to target: String, authorization: String?) throws(ElanusError) -> String {
        guard !FileManager.default.fileExists(atPath: target) else { throw .invalidParameter("backup target \(target) already exists") }
        guard let server = ServerFile.live(dataDirectory) else {
            let manifest = try Backup.offline(dataDirectory: dataDirectory, to: target)
            return "backup of \(dataDirectory) (no server running) written to \(target): \(manifest.files) object files, \(manifest.bytes) bytes"
        }
        guard !server.tls else {
            throw .invalidParameter("the server on \(dataDirectory) speaks HTTPS: call POST /v2/vectordb/backups/create with curl and its certificate instead")
        }
        let name = "cli-\(UInt64(Date().timeIntervalSince1970 * 1000))-\(getpid())"
        let client = HTTPClient(host: server.host == "0.0.0.0" ? "127.0.0.1" : server.host, port: server.port, timeoutMs: 3_600_000)
        let response: HTTPClient.Response
        do {
            response = try client.post(
                "/v2/vectordb/backups/create", json: #"{"backupName":"\#(name)"}"#, headers: authorization.map { [("Authorization", $0)] } ?? [])
        } catch {
            throw .unexpected("cannot reach the server on port \(server.port): \(error)")
        }
        let body = (try? JSON.parse(response.body)) ?? .null
        guard case .int(0)? = body["code"], case .string(let written)? = body["data"]?["path"] else {
            throw .unexpected("the server refused the backup: \(response.text)")
        }
        // The server wrote it under its backup directory; move it where it was asked for.
        try Backup.move(written, to: target)
        return "backup of the running server (pid \(server.pid), port \(server.port)) written to \(target)"
    }

    public static func restore(from source: String, to dataDirectory: String) throws(ElanusError) -> String {
        if ServerFile.live(dataDirectory) != nil { throw .invalidParameter("a server is running on \(dataDirectory): restore into a new data directory") }
        let manifest = try Backup.restore(from: source, to: dataDirectory)
        let taken = Date(timeIntervalSince1970: Double(manifest.createdAt) / 1000)
        return "restored the backup taken at \(ISO8601DateFormatter().string(from: taken)) into \(dataDirectory): start the server with --data-dir \(dataDirectory)"
    }
}
