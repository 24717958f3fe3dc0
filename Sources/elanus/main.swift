import ArgumentParser
import CSystem
import ElanusEngine
import ElanusServer
import Foundation
import Logging

// Before any thread exists: every thread inherits this mask, so SIGINT and SIGTERM reach only
// the sigwait in Daemon.run, and a closed peer never raises SIGPIPE.
csys_block_shutdown_signals()
csys_line_buffer_stdio()

struct Elanus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "elanus",
        abstract: "A standalone vector database server that speaks the Milvus RESTful v2 API.",
        subcommands: [Serve.self, BackupData.self, RestoreData.self, InspectWAL.self, InspectSegment.self],
        defaultSubcommand: Serve.self)
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the server.",
        discussion: "Settings come from the defaults, then --config FILE, then these flags, then ELANUS_* environment variables (highest).")

    @Option(help: "A YAML configuration file (see Config/elanus.yaml).")
    var config: String?

    @Option(name: .customLong("data-dir"), help: "The data directory (default ./data).")
    var dataDir: String?

    @Option(help: "The address to listen on (default 127.0.0.1).")
    var host: String?

    @Option(help: "The port to listen on (default 19530; 0 picks a free one).")
    var port: Int?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String?

    @Flag(help: "Require credentials on every API request (auth.enabled).")
    var auth = false

    func run() throws {
        var flags: [String: String] = [:]
        if let dataDir { flags["storage.dataDir"] = dataDir }
        if let host { flags["server.host"] = host }
        if let port { flags["server.port"] = String(port) }
        if let logLevel { flags["log.level"] = logLevel }
        if auth { flags["auth.enabled"] = "true" }
        let settings: ServerConfiguration
        do {
            settings = try ConfigurationLoader.load(file: config, flags: flags, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw ValidationError("\(error)")
        }
        let level = settings.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let code = Daemon.run(configuration: settings, logger: Logger(label: "elanus"))
        if code != 0 { throw ExitCode(code) }
    }
}

/// A command that failed at run time: ArgumentParser prints the message (without the usage) and exits 1.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
}

struct BackupData: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Take a consistent backup of a data directory, running server or not.",
        discussion: "With a server running on the directory, the server takes the backup without stopping writes (its backups/create route); otherwise the stores are copied directly.")

    @Option(name: .customLong("data-dir"), help: "The data directory to back up.")
    var dataDir = "./data"

    @Option(help: "Where to write the backup (a new directory).")
    var to: String

    @Option(help: "For a server with authentication on: user:password or an API key (also ELANUS_TOKEN).")
    var token: String?

    func run() throws {
        let credential = token ?? ProcessInfo.processInfo.environment["ELANUS_TOKEN"]
        do {
            print(try BackupCommand.backup(dataDirectory: dataDir, to: to, authorization: credential.map { "Bearer \($0)" }))
        } catch {
            throw CommandFailure(description: error.message)
        }
    }
}

struct RestoreData: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restore", abstract: "Restore a backup into a new data directory.")

    @Option(help: "The backup directory (written by elanus backup).")
    var from: String

    @Option(name: .customLong("data-dir"), help: "The new data directory (must not exist or be empty).")
    var dataDir: String

    func run() throws {
        do {
            print(try BackupCommand.restore(from: from, to: dataDir))
        } catch {
            throw CommandFailure(description: error.message)
        }
    }
}

struct InspectWAL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect-wal", abstract: "Print the write-ahead log records a restart would replay (the server must be stopped).")

    @Option(name: .customLong("data-dir"), help: "The data directory.")
    var dataDir = "./data"

    @Option(help: "Only this collection (name or id).")
    var collection: String?

    @Option(help: "At most this many records per collection.")
    var limit = 100

    @Option(help: "Primary keys shown per record.")
    var keys = 5

    func run() throws {
        do {
            try Inspect.wal(dataDirectory: dataDir, collection: collection, limit: limit, keys: keys) { print($0) }
        } catch {
            throw CommandFailure(description: error.message)
        }
    }
}

struct InspectSegment: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect-segment", abstract: "Print what a segment file (.seg) or delta file (.del) holds, verifying its checksums.")

    @Argument(help: "The file, under <data-dir>/objects/<collection id>/.")
    var file: String

    @Option(help: "Primary keys shown per chunk.")
    var keys = 5

    func run() throws {
        do {
            try Inspect.segment(file: file, keys: keys) { print($0) }
        } catch {
            throw CommandFailure(description: error.message)
        }
    }
}

Elanus.main()
