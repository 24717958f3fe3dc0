import ArgumentParser
import CSystem
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
        subcommands: [Serve.self],
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

Elanus.main()
