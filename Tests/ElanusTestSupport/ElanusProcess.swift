import ElanusCore
import ElanusHTTP
import Foundation

/// The real `elanus` binary, started on a free port with its own data directory, the way a user
/// starts it. Tests talk to it over HTTP and may kill it with SIGKILL or SIGTERM.
public final class ElanusProcess: @unchecked Sendable {
    public let dataDirectory: String
    public private(set) var port: Int
    public let logPath: String
    private var process: Process?
    private let extraArguments: [String]
    private let environment: [String: String]

    /// The binary beside the test bundle (`.build/<config>/elanus`), or `ELANUS_BINARY`.
    public static var binaryPath: String {
        if let path = ProcessInfo.processInfo.environment["ELANUS_BINARY"] { return path }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // swift test runs .build/<triple>/<config>/ElanusPackageTests.xctest
        if dir.lastPathComponent.hasSuffix(".xctest") { dir.deleteLastPathComponent() }
        return dir.appendingPathComponent("elanus").path
    }

    /// For a server started with TLS: how the readiness probe and `client()` connect.
    public let tls: TLSContext?

    public init(dataDirectory: String, port: Int = freePort(), arguments: [String] = [], environment: [String: String] = [:], tls: TLSContext? = nil) {
        self.tls = tls
        self.dataDirectory = dataDirectory
        self.port = port
        self.logPath = dataDirectory + ".log"
        self.extraArguments = arguments
        self.environment = environment
    }

    deinit { kill() }

    /// Starts the binary and waits until `/health` answers 200.
    public func start(timeout: Double = 20) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ElanusProcess.binaryPath)
        p.arguments = ["serve", "--data-dir", dataDirectory, "--port", String(port), "--log-level", "debug"] + extraArguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ELANUS_") }
        for (k, v) in environment { env[k] = v }
        p.environment = env
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)!
        log.seekToEndOfFile()
        p.standardError = log
        p.standardOutput = log
        try p.run()
        process = p
        try waitUntilHealthy(timeout: timeout)
    }

    public func waitUntilHealthy(timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let process, !process.isRunning {
                throw ElanusError(.unexpected, "elanus exited with \(process.terminationStatus) during start-up:\n\(log())")
            }
            let client = HTTPClient(port: port, timeoutMs: 1000, tls: tls)
            if let r = try? client.request("GET", "/health"), r.status == 200 { return }
            usleep(50_000)
        }
        throw ElanusError(.unexpected, "elanus did not become healthy in \(timeout)s:\n\(log())")
    }

    /// Objects that must live as long as the server: the temporary directory that holds its data
    /// directory, when the function that made both returns only the server (its deinit would
    /// remove the data directory under the running server).
    private var kept: [AnyObject] = []
    public func keepAlive(_ object: AnyObject) { kept.append(object) }

    public var isRunning: Bool { process?.isRunning ?? false }
    public var pid: Int32 { process?.processIdentifier ?? 0 }

    /// SIGKILL: no shutdown code runs, as in a crash or power loss.
    public func kill() {
        guard let process, process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM and wait; returns the exit status.
    @discardableResult
    public func terminate(timeout: Double = 20) -> Int32 {
        guard let process else { return -1 }
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill() }
        return process.terminationStatus
    }

    public func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    public func client() -> HTTPClient { HTTPClient(port: port, tls: tls) }
}

/// A REST v2 helper over one keep-alive connection.
public final class RESTClient {
    public let http: HTTPClient

    /// `sourceHost` connects from another loopback address ("127.0.0.2"), to play a second client machine.
    public init(port: Int, tls: TLSContext? = nil, sourceHost: String? = nil) { http = HTTPClient(port: port, tls: tls, sourceHost: sourceHost) }

    public struct Reply {
        public var status: Int
        public var body: JSON
        public var code: Int64? { if case .int(let c)? = body["code"] { return c } else { return nil } }
        public var message: String { if case .string(let m)? = body["message"] { return m } else { return "" } }
        public var data: JSON? { body["data"] }
    }

    /// POST /v2/vectordb/<route> with a raw body.
    public func call(_ route: String, _ body: String, headers: [(String, String)] = []) throws -> Reply {
        let response = try http.post("/v2/vectordb/" + route, json: body, headers: headers)
        let json = (try? JSON.parse(response.body)) ?? .string(response.text)
        return Reply(status: response.status, body: json)
    }
}
