import ElanusCore
import ElanusHTTP
import ElanusTestSupport
import Foundation
import Testing

/// HTTPS against the real binary, with self-signed certificates made by the test (openssl, which
/// Scripts/setup installs): the API works over TLS 1.2+, plain HTTP and old TLS versions are
/// refused cleanly, a client that does not trust the server fails, and mutual TLS admits only
/// clients with a trusted certificate.
@Suite struct TLSTests {
    /// A self-signed P-256 certificate and key for `name`, valid for 127.0.0.1; returns (pem, key).
    static func certificate(_ dir: TemporaryDirectory, _ name: String) throws -> (String, String) {
        let pem = dir.file(name + ".pem"), key = dir.file(name + ".key")
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-keyout", key, "-out", pem, "-subj", "/CN=\(name)", "-addext", "subjectAltName=IP:127.0.0.1",
        ]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        #expect(openssl.terminationStatus == 0, "openssl req failed for \(name)")
        return (pem, key)
    }

    static func environment(mode: Int, server: (String, String), clientCA: String? = nil) -> [String: String] {
        var environment = ["ELANUS_TLS_MODE": "\(mode)", "ELANUS_TLS_SERVER_PEM_PATH": server.0, "ELANUS_TLS_SERVER_KEY_PATH": server.1]
        if let clientCA { environment["ELANUS_TLS_CA_PEM_PATH"] = clientCA }
        return environment
    }

    @Test func httpsServesTheAPIAndRefusesPlainHTTPOldVersionsAndUntrustedServers() throws {
        let dir = TemporaryDirectory()
        let server = try Self.certificate(dir, "server")
        let impostor = try Self.certificate(dir, "impostor")
        let trusting = try TLSContext(trustedCA: server.0)
        let process = ElanusProcess(dataDirectory: dir.file("data"), environment: Self.environment(mode: 1, server: server), tls: trusting)
        try process.start()
        defer { process.terminate() }

        let rest = RESTClient(port: process.port, tls: trusting)
        #expect(try rest.call("collections/create", #"{"collectionName":"c","dimension":2}"#).code == 0)
        #expect(try rest.call("entities/insert", #"{"collectionName":"c","data":[{"id":1,"vector":[1,0]},{"id":2,"vector":[0,1]}]}"#).code == 0)
        let hits = try rest.call("entities/search", #"{"collectionName":"c","data":[[0,1]],"limit":1}"#)
        #expect(hits.data?.serialized().contains("\"id\":2") == true, "\(hits.body.serialized())")
        #expect(["TLSv1.2", "TLSv1.3"].contains(rest.http.tlsVersion ?? ""), "\(rest.http.tlsVersion ?? "none")")
        // Bodies over 1 MiB cross many TLS records both ways (and the server's per-read cap).
        let rows = (3..<50_000).map { #"{"id":\#($0),"vector":[\#($0),1]}"# }.joined(separator: ",")
        #expect(rows.utf8.count > 1 << 20)
        #expect(try rest.call("entities/insert", #"{"collectionName":"c","data":[\#(rows)]}"#).code == 0)
        let count = try rest.call("entities/query", #"{"collectionName":"c","filter":"","outputFields":["count(*)"]}"#)
        #expect(count.data == [["count(*)": 49_999]], "\(count.body.serialized())")
        let all = try rest.call("entities/query", #"{"collectionName":"c","filter":"id > 0","limit":16384,"outputFields":["vector"]}"#)
        #expect(all.body.serialized().utf8.count > 1 << 18)

        // Plain HTTP to the TLS port: a readable 400, then the connection closes.
        let plain = HTTPClient(port: process.port, timeoutMs: 5000)
        try plain.sendRaw(Array("POST /v2/vectordb/collections/list HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}".utf8))
        let reply = String(decoding: try plain.readUntilClose(), as: UTF8.self)
        #expect(reply.hasPrefix("HTTP/1.1 400") && reply.contains("HTTPS"), "\(reply)")

        // A client capped at TLS 1.1, and a client that trusts another certificate, both fail.
        let old = HTTPClient(port: process.port, timeoutMs: 5000, tls: try TLSContext(trustedCA: server.0, maxVersion: TLSContext.tls11))
        #expect(throws: SocketError.self) { try old.post("/v2/vectordb/collections/list", json: "{}") }
        let wary = HTTPClient(port: process.port, timeoutMs: 5000, tls: try TLSContext(trustedCA: impostor.0))
        #expect(throws: SocketError.self) { try wary.post("/v2/vectordb/collections/list", json: "{}") }
        // A peer that stops mid-handshake does not hurt anyone else.
        let stalled = HTTPClient(port: process.port, timeoutMs: 5000)
        try stalled.sendRaw([0x16, 0x03, 0x01, 0x00])

        #expect(try RESTClient(port: process.port, tls: trusting).call("collections/list", "{}").data == ["c"])
        #expect(process.log().contains("tls=on"), "the start-up line names the TLS mode")
    }

    @Test func mutualTLSAdmitsOnlyTrustedClientCertificates() throws {
        let dir = TemporaryDirectory()
        let server = try Self.certificate(dir, "server")
        let client = try Self.certificate(dir, "client")
        let stranger = try Self.certificate(dir, "stranger")
        let admitted = try TLSContext(trustedCA: server.0, certificate: client.0, key: client.1)
        let process = ElanusProcess(
            dataDirectory: dir.file("data"), environment: Self.environment(mode: 2, server: server, clientCA: client.0), tls: admitted)
        try process.start()
        defer { process.terminate() }

        #expect(try RESTClient(port: process.port, tls: admitted).call("collections/list", "{}").code == 0)
        // Without a certificate, or with one the server does not trust: no answer. (With TLS 1.3
        // the client's handshake may finish first; the server's refusal arrives on the first read.)
        for tls in [try TLSContext(trustedCA: server.0), try TLSContext(trustedCA: server.0, certificate: stranger.0, key: stranger.1)] {
            let refused = HTTPClient(port: process.port, timeoutMs: 5000, tls: tls)
            #expect(throws: SocketError.self) { try refused.post("/v2/vectordb/collections/list", json: "{}") }
        }
        #expect(try RESTClient(port: process.port, tls: admitted).call("collections/list", "{}").code == 0)
    }

    @Test func aMissingCertificateStopsStartUpWithAClearMessage() throws {
        let dir = TemporaryDirectory()
        let process = ElanusProcess(dataDirectory: dir.file("data"), environment: Self.environment(mode: 1, server: (dir.file("none.pem"), dir.file("none.key"))))
        #expect(throws: ElanusError.self) { try process.start(timeout: 10) }
        #expect(process.log().contains("cannot set up TLS") && process.log().contains("none.pem"), "\(process.log())")
    }
}
