import ElanusServer
import ElanusTestSupport
import Foundation
import Testing

@Suite struct ConfigurationLoaderTests {
    @Test func defaultsMatchTheDocumentedConfigFile() throws {
        // Config/elanus.yaml documents every key with its default: loading it must change nothing.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let loaded = try ConfigurationLoader.load(file: root.appendingPathComponent("Config/elanus.yaml").path, flags: [:], environment: [:])
        #expect(loaded == ServerConfiguration())
    }

    @Test func fileThenFlagsThenEnvironment() throws {
        let dir = TemporaryDirectory()
        let file = dir.file("c.yaml")
        try "server:\n  port: 1000\n  host: 0.0.0.0\n  maxBodyBytes: 2048\nlog:\n  level: debug\n".write(toFile: file, atomically: true, encoding: .utf8)
        let c = try ConfigurationLoader.load(
            file: file, flags: ["server.port": "2000", "storage.dataDir": "/flag"],
            environment: ["ELANUS_PORT": "3000", "ELANUS_SERVER_MAX_BODY_BYTES": "4096", "UNRELATED": "x"])
        #expect(c.port == 3000)
        #expect(c.host == "0.0.0.0")
        #expect(c.maxBodyBytes == 4096)
        #expect(c.dataDirectory == "/flag")
        #expect(c.logLevel == .debug)
    }

    @Test(arguments: [
        ("server:\n  prot: 1\n", "unknown configuration key 'server.prot'"),
        ("server:\n  port: seventy\n", "server.port"),
        ("server:\n  port: 70000\n", "server.port"),
        ("log:\n  level: loud\n", "log.level"),
        ("server: [1, 2\n", "invalid YAML"),
        ("server:\n  idleTimeoutSeconds: -1\n", "server.idleTimeoutSeconds"),
        ("auth:\n  enabled: maybe\n", "auth.enabled"),
        ("auth:\n  rootPassword: abc\n", "auth.rootPassword must have 6 to 72 characters"),
        ("auth:\n  userRequestsPerSecond: -2\n", "auth.userRequestsPerSecond"),
        ("server:\n  maxInFlightRequests: 0\n", "server.maxInFlightRequests"),
        ("tls:\n  mode: 3\n", "tls.mode"),
        ("tls:\n  mode: 1\n  serverPemPath: a.pem\n", "tls.mode 1 needs tls.serverPemPath and tls.serverKeyPath"),
        ("tls:\n  mode: 2\n  serverPemPath: a.pem\n  serverKeyPath: a.key\n", "tls.mode 2 (mutual TLS) needs tls.caPemPath"),
    ])
    func badFilesAreRejectedWithTheKeyNamed(yaml: String, fragment: String) throws {
        let dir = TemporaryDirectory()
        let file = dir.file("c.yaml")
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        do {
            _ = try ConfigurationLoader.load(file: file, flags: [:], environment: [:])
            Issue.record("accepted \(yaml)")
        } catch {
            #expect("\(error)".contains(fragment), "\(error)")
        }
    }

    @Test func missingFileIsAnError() {
        #expect(throws: (any Error).self) { try ConfigurationLoader.load(file: "/nonexistent.yaml", flags: [:], environment: [:]) }
    }
}
