import ElanusCore
import ElanusHTTP
import ElanusTestSupport
import Foundation
import Glibc
import Testing

/// Hostile traffic against the real binary: hundreds of idle and half-sent connections do not
/// keep a normal client waiting, and per-user rate limits refuse the excess with 1807.
@Suite struct AbuseTests {
    /// Makes sure this process (and the server it spawns) may open `count` more descriptors.
    static func allowDescriptors(_ count: Int) {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        let wanted = rlim_t(count + 1024)
        if limit.rlim_cur < wanted {
            limit.rlim_cur = min(wanted, limit.rlim_max)
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
    }

    @Test func hundredsOfIdleAndHalfSentConnectionsDoNotStarveANormalClient() throws {
        Self.allowDescriptors(1200)
        let dir = TemporaryDirectory()
        // Short timeouts so the test also sees the server shed the stalled peers. All 600 come
        // from 127.0.0.1, like the normal client: the per-address cap is lifted so that this test
        // measures the reactor under load (ConnectionFairnessTests covers the cap).
        let environment = [
            "ELANUS_SERVER_HEADER_TIMEOUT_SECONDS": "2", "ELANUS_SERVER_REQUEST_TIMEOUT_SECONDS": "3",
            "ELANUS_SERVER_IDLE_TIMEOUT_SECONDS": "3", "ELANUS_SERVER_MAX_CONNECTIONS_PER_ADDRESS": "1024",
        ]
        let server = ElanusProcess(dataDirectory: dir.file("data"), environment: environment)
        try server.start()
        defer { server.terminate() }
        let rest = RESTClient(port: server.port)
        #expect(try rest.call("collections/create", #"{"collectionName":"c","dimension":2}"#).code == 0)
        #expect(try rest.call("entities/insert", #"{"collectionName":"c","data":[{"id":1,"vector":[1,0]},{"id":2,"vector":[0,1]}]}"#).code == 0)

        var stalled: [HTTPClient] = []
        for i in 0..<600 {
            let client = HTTPClient(port: server.port, timeoutMs: 10_000)
            switch i % 3 {
            case 0: try client.connect()  // idle: connected, nothing sent
            case 1: try client.sendRaw(Array("POST /v2/vectordb/collections/list HTTP/1.1\r\nHost: x\r\nX-Slow".utf8))  // half a head
            default:  // a whole head, a sliver of a big body
                try client.sendRaw(Array("POST /v2/vectordb/entities/insert HTTP/1.1\r\nContent-Length: 100000\r\n\r\n{\"collectionName\":".utf8))
            }
            stalled.append(client)
        }
        // A normal client, on new connections and on a kept-alive one, is served within a second.
        let kept = RESTClient(port: server.port)
        for round in 0..<20 {
            let start = Date()
            let fresh = try RESTClient(port: server.port).call("collections/list", "{}")
            let search = try kept.call("entities/search", #"{"collectionName":"c","data":[[1,0]],"limit":1}"#)
            let elapsed = Date().timeIntervalSince(start)
            #expect(fresh.code == 0 && search.code == 0, "round \(round)")
            #expect(elapsed < 1, "round \(round) took \(elapsed) s with 600 stalled connections open")
        }
        // The server sheds every stalled peer on its own: 408 for the half-sent, a close for the idle.
        var answered408 = 0
        for client in stalled {
            let reply = String(decoding: (try? client.readUntilClose()) ?? [], as: UTF8.self)
            if reply.hasPrefix("HTTP/1.1 408") { answered408 += 1 }
        }
        #expect(answered408 == 400, "\(answered408) of 400 half-sent requests got 408")
        #expect(try RESTClient(port: server.port).call("collections/list", "{}").code == 0)
    }

    @Test func perUserRateLimitRefusesTheExcess() throws {
        let dir = TemporaryDirectory()
        let server = try AuthTests.start(dir, arguments: ["--auth"], rootPassword: AuthTests.rootPassword, extraEnvironment: ["ELANUS_AUTH_USER_REQUESTS_PER_SECOND": "5"])
        defer { server.terminate() }
        let rest = RESTClient(port: server.port)
        let root = AuthTests.bearer("root:" + AuthTests.rootPassword)
        var codes: [Int64] = []
        for _ in 0..<12 { codes.append(try rest.call("collections/list", "{}", headers: root).code ?? -1) }
        let limited = codes.filter { $0 == 1807 }.count
        #expect(codes.filter { $0 == 0 }.count >= 5 && limited >= 5, "\(codes)")
        let reply = try rest.call("collections/list", "{}", headers: root)
        #expect(reply.code == 1807 && reply.message.contains("5.0 requests per second"), "\(reply.body.serialized())")
        usleep(1_100_000)
        #expect(try rest.call("collections/list", "{}", headers: root).code == 0)
    }
}
