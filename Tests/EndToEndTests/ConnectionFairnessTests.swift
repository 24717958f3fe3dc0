import ElanusHTTP
import ElanusTestSupport
import Foundation
import Testing

/// Connection slots against the real binary: one address that opens many silent connections
/// gets only its share, and at the global cap silent connections make room for working ones.
/// Every 127.x.y.z address is this machine, so 127.0.0.2 plays a second client.
@Suite struct ConnectionFairnessTests {
    @Test func silentConnectionsBeyondThePerAddressCapAreRefusedAndOtherAddressesAreServed() throws {
        AbuseTests.allowDescriptors(200)
        let dir = TemporaryDirectory()
        // A short idle timeout only bounds how long a missing refusal makes the test wait.
        let server = ElanusProcess(
            dataDirectory: dir.file("data"),
            environment: ["ELANUS_SERVER_MAX_CONNECTIONS_PER_ADDRESS": "20", "ELANUS_SERVER_IDLE_TIMEOUT_SECONDS": "5"])
        try server.start()
        defer { server.terminate() }

        try Self.waitUntilNoOtherConnection(port: server.port)
        var silent: [HTTPClient] = []
        for _ in 0..<50 {
            let client = HTTPClient(port: server.port, timeoutMs: 10_000)
            try client.connect()
            silent.append(client)
        }
        // The 30 over the cap are answered at once: 503, code 1807, and closed.
        for client in silent[20...] {
            let start = Date()
            let reply = String(decoding: try client.readUntilClose(), as: UTF8.self)
            #expect(reply.hasPrefix("HTTP/1.1 503") && reply.contains("\"code\":1807"), "\(reply)")
            #expect(reply.contains("too many connections from 127.0.0.1: the server allows 20 per client address"), "\(reply)")
            #expect(Date().timeIntervalSince(start) < 2)
        }
        // 127.0.0.1 is at its cap; 127.0.0.2 is served, on a new connection and on a kept one.
        let refused = HTTPClient(port: server.port)
        try refused.connect()
        #expect(String(decoding: try refused.readUntilClose(), as: UTF8.self).hasPrefix("HTTP/1.1 503"))
        let other = RESTClient(port: server.port, sourceHost: "127.0.0.2")
        for _ in 0..<5 { #expect(try other.call("collections/list", "{}").code == 0) }
        // Closing the silent connections gives 127.0.0.1 its slots back.
        for client in silent { client.close() }
        var code: Int64?
        for _ in 0..<100 where code != 0 {
            code = (try? RESTClient(port: server.port).call("collections/list", "{}"))?.code
            if code != 0 { usleep(20_000) }
        }
        #expect(code == 0)
    }

    @Test func atTheConnectionCapSilentConnectionsMakeRoomForNewClients() throws {
        AbuseTests.allowDescriptors(200)
        let dir = TemporaryDirectory()
        let server = ElanusProcess(
            dataDirectory: dir.file("data"), environment: ["ELANUS_SERVER_MAX_CONNECTIONS": "30", "ELANUS_SERVER_IDLE_TIMEOUT_SECONDS": "30"])
        try server.start()
        defer { server.terminate() }

        try Self.waitUntilNoOtherConnection(port: server.port)
        // A short client timeout: below, a read that times out tells a connection still open.
        var silent: [HTTPClient] = []
        for _ in 0..<30 {
            let client = HTTPClient(port: server.port, timeoutMs: 200)
            try client.connect()
            silent.append(client)
        }
        // Every slot is taken by a silent connection; new clients still get answers, each one
        // admitted by closing a silent connection, and keep their own connection open.
        var working: [RESTClient] = []
        for round in 0..<10 {
            let client = RESTClient(port: server.port)
            let reply = try client.call("collections/list", "{}")
            #expect(reply.status == 200 && reply.code == 0, "round \(round): \(reply.status) \(reply.body.serialized())")
            working.append(client)
        }
        // The connections closed to make room were silent ones, never a working client's:
        // each working connection still answers (sent raw, so a closed one is not reopened).
        for (i, client) in working.enumerated() {
            try client.http.sendRaw(Array("GET /health HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            #expect((try? client.http.readResponse())?.status == 200, "working client \(i) lost its connection")
        }
        var closed = 0
        for client in silent where (try? client.readUntilClose())?.isEmpty == true { closed += 1 }
        #expect(closed == 10, "\(closed) silent connections were closed")
    }

    /// Waits until the server holds no connection but the one asking (the start-up probe's may
    /// linger a moment after the probe closes it), so that the test's connections are the only
    /// ones counted. The question asks for `Connection: close` and is read to the server's
    /// close, which comes after the server dropped it from its table: it lingers nowhere.
    static func waitUntilNoOtherConnection(port: Int) throws {
        for _ in 0..<100 {
            let probe = HTTPClient(port: port)
            try probe.sendRaw(Array("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
            let page = String(decoding: try probe.readUntilClose(), as: UTF8.self)
            if page.contains("\nelanus_open_connections 1\n") { return }
            usleep(20_000)
        }
        Issue.record("the server kept other connections open")
    }
}
