import Foundation
import Logging
import Yams

/// Builds a ServerConfiguration from, in increasing precedence: the defaults, the YAML file,
/// command-line flags, and `ELANUS_*` environment variables.
///
/// Every setting has a dotted key (`server.port`) and an environment name derived from it
/// (`ELANUS_SERVER_PORT`); a few common ones also have short names (`ELANUS_PORT`).
public struct ConfigurationLoader {
    public struct Error: Swift.Error, CustomStringConvertible {
        public var description: String
    }

    /// The settings by dotted key, and how each is applied.
    static let settings: [(key: String, short: String?, apply: @Sendable (inout ServerConfiguration, String) throws -> Void)] = [
        ("server.host", "ELANUS_HOST", { c, v in c.host = v }),
        ("server.port", "ELANUS_PORT", { c, v in c.port = try int(v, "server.port", 0...65535) }),
        ("server.maxConnections", nil, { c, v in c.maxConnections = try int(v, "server.maxConnections", 1...1_000_000) }),
        ("server.maxConnectionsPerAddress", nil, { c, v in c.maxConnectionsPerAddress = try int(v, "server.maxConnectionsPerAddress", 1...1_000_000) }),
        ("server.maxInFlightRequests", nil, { c, v in c.maxInFlightRequests = try int(v, "server.maxInFlightRequests", 1...1_000_000) }),
        ("server.workerThreads", nil, { c, v in c.workerThreads = try int(v, "server.workerThreads", 0...1024) }),
        ("server.maxHeaderBytes", nil, { c, v in c.maxHeaderBytes = try int(v, "server.maxHeaderBytes", 1024...(16 << 20)) }),
        ("server.maxBodyBytes", nil, { c, v in c.maxBodyBytes = try int(v, "server.maxBodyBytes", 1024...(1 << 31)) }),
        ("server.idleTimeoutSeconds", nil, { c, v in c.idleTimeoutSeconds = try seconds(v, "server.idleTimeoutSeconds") }),
        ("server.headerTimeoutSeconds", nil, { c, v in c.headerTimeoutSeconds = try seconds(v, "server.headerTimeoutSeconds") }),
        ("server.requestTimeoutSeconds", nil, { c, v in c.requestTimeoutSeconds = try seconds(v, "server.requestTimeoutSeconds") }),
        ("server.queryTimeoutSeconds", nil, { c, v in c.queryTimeoutSeconds = try seconds(v, "server.queryTimeoutSeconds") }),
        ("server.writeTimeoutSeconds", nil, { c, v in c.writeTimeoutSeconds = try seconds(v, "server.writeTimeoutSeconds") }),
        ("server.shutdownGraceSeconds", nil, { c, v in c.shutdownGraceSeconds = try seconds(v, "server.shutdownGraceSeconds") }),
        ("storage.dataDir", "ELANUS_DATA_DIR", { c, v in c.dataDirectory = v }),
        ("storage.importDir", "ELANUS_IMPORT_DIR", { c, v in c.importDirectory = v }),
        ("storage.backupDir", nil, { c, v in c.backupDirectory = v }),
        ("storage.diskReserveBytes", nil, { c, v in c.diskReserveBytes = try int(v, "storage.diskReserveBytes", 0...(1 << 50)) }),
        ("segment.maxRows", nil, { c, v in c.segmentMaxRows = try int(v, "segment.maxRows", 1...100_000_000) }),
        ("segment.maxBytes", nil, { c, v in c.segmentMaxBytes = try int(v, "segment.maxBytes", 1024...(1 << 40)) }),
        ("segment.maxAgeSeconds", nil, { c, v in c.segmentMaxAgeSeconds = try seconds(v, "segment.maxAgeSeconds") }),
        ("index.buildThreads", nil, { c, v in c.indexBuildThreads = try int(v, "index.buildThreads", 0...1024) }),
        ("index.minSegmentRows", nil, { c, v in c.indexMinSegmentRows = try int(v, "index.minSegmentRows", 1...100_000_000) }),
        ("compaction.enabled", nil, { c, v in c.compactionEnabled = try bool(v, "compaction.enabled") }),
        ("compaction.intervalSeconds", nil, { c, v in c.compactionIntervalSeconds = try seconds(v, "compaction.intervalSeconds") }),
        ("compaction.deleteRatio", nil, { c, v in c.compactionDeleteRatio = try ratio(v, "compaction.deleteRatio") }),
        ("compaction.minSmallSegments", nil, { c, v in c.compactionMinSmallSegments = try int(v, "compaction.minSmallSegments", 2...10_000) }),
        ("segment.flushIntervalSeconds", nil, { c, v in c.flushIntervalSeconds = try seconds(v, "segment.flushIntervalSeconds") }),
        ("auth.enabled", nil, { c, v in c.authEnabled = try bool(v, "auth.enabled") }),
        ("auth.userRequestsPerSecond", nil, { c, v in
            guard let rate = Double(v.trimmingCharacters(in: .whitespaces)), rate >= 0, rate <= 1_000_000 else {
                throw Error(description: "auth.userRequestsPerSecond: '\(v)' is not a number of requests in [0, 1000000]")
            }
            c.userRequestsPerSecond = rate
        }),
        ("auth.rootPassword", nil, { c, v in
            guard UserRoutes.passwordLength.contains(v.count) else { throw Error(description: "auth.rootPassword must have 6 to 72 characters") }
            c.rootPassword = v
        }),
        ("auth.maxConcurrentPasswordChecks", nil, { c, v in c.maxConcurrentPasswordChecks = try int(v, "auth.maxConcurrentPasswordChecks", 0...1024) }),
        ("auth.maxFailedLoginsPerAddress", nil, { c, v in c.maxFailedLoginsPerAddress = try int(v, "auth.maxFailedLoginsPerAddress", 0...1_000_000) }),
        ("auth.failedLoginWindowSeconds", nil, { c, v in c.failedLoginWindowSeconds = try seconds(v, "auth.failedLoginWindowSeconds") }),
        ("tls.mode", nil, { c, v in c.tlsMode = try int(v, "tls.mode", 0...2) }),
        ("tls.serverPemPath", nil, { c, v in c.tlsCertificate = v }),
        ("tls.serverKeyPath", nil, { c, v in c.tlsKey = v }),
        ("tls.caPemPath", nil, { c, v in c.tlsClientCA = v }),
        ("log.level", "ELANUS_LOG_LEVEL", { c, v in
            guard let level = Logger.Level(rawValue: v.lowercased()) else {
                throw Error(description: "log.level: '\(v)' is not one of trace, debug, info, notice, warning, error, critical")
            }
            c.logLevel = level
        }),
    ]

    /// `ELANUS_SERVER_MAX_BODY_BYTES` for `server.maxBodyBytes`.
    static func environmentName(_ key: String) -> String {
        var out = "ELANUS_"
        for ch in key {
            if ch == "." {
                out += "_"
            } else if ch.isUppercase {
                out += "_" + String(ch)
            } else {
                out += ch.uppercased()
            }
        }
        return out
    }

    /// Loads the configuration. `flags` are dotted keys given on the command line.
    public static func load(file: String?, flags: [String: String], environment: [String: String]) throws -> ServerConfiguration {
        var values: [String: String] = [:]
        if let file {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw Error(description: "cannot read configuration file \(file)")
            }
            values = try flattenYAML(text, file: file)
        }
        for (key, value) in flags { values[key] = value }
        for setting in settings {
            if let short = setting.short, let value = environment[short] { values[setting.key] = value }
            if let value = environment[environmentName(setting.key)] { values[setting.key] = value }
        }
        var configuration = ServerConfiguration()
        let known = Set(settings.map(\.key))
        for key in values.keys.sorted() where !known.contains(key) {
            throw Error(description: "unknown configuration key '\(key)' (known keys: \(known.sorted().joined(separator: ", ")))")
        }
        for setting in settings {
            if let value = values[setting.key] { try setting.apply(&configuration, value) }
        }
        if configuration.tlsMode > 0 && (configuration.tlsCertificate.isEmpty || configuration.tlsKey.isEmpty) {
            throw Error(description: "tls.mode \(configuration.tlsMode) needs tls.serverPemPath and tls.serverKeyPath")
        }
        if configuration.tlsMode == 2 && configuration.tlsClientCA.isEmpty {
            throw Error(description: "tls.mode 2 (mutual TLS) needs tls.caPemPath, the CA that client certificates must chain to")
        }
        return configuration
    }

    static func flattenYAML(_ text: String, file: String) throws -> [String: String] {
        let node: Any?
        do { node = try Yams.load(yaml: text) } catch { throw Error(description: "\(file): invalid YAML: \(error)") }
        var out: [String: String] = [:]
        func walk(_ value: Any?, _ path: String) throws {
            switch value {
            case nil: return
            case let map as [String: Any]:
                for (k, v) in map { try walk(v, path.isEmpty ? k : path + "." + k) }
            case let map as [AnyHashable: Any]:
                for (k, v) in map { try walk(v, path.isEmpty ? "\(k)" : path + ".\(k)") }
            case is [Any]:
                throw Error(description: "\(file): \(path) must be a scalar, not a list")
            default:
                out[path] = "\(value!)"
            }
        }
        try walk(node, "")
        return out
    }

    static func int(_ text: String, _ key: String, _ range: ClosedRange<Int>) throws -> Int {
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
            throw Error(description: "\(key): '\(text)' is not an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    static func seconds(_ text: String, _ key: String) throws -> Double {
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value > 0, value <= 86_400 else {
            throw Error(description: "\(key): '\(text)' is not a number of seconds in (0, 86400]")
        }
        return value
    }

    static func ratio(_ text: String, _ key: String) throws -> Double {
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value > 0, value <= 1 else {
            throw Error(description: "\(key): '\(text)' is not a ratio in (0, 1]")
        }
        return value
    }

    static func bool(_ text: String, _ key: String) throws -> Bool {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw Error(description: "\(key): '\(text)' is not true or false")
        }
    }
}
