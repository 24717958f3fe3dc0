import Dispatch
import ElanusHTTP
import ElanusTestSupport
import Foundation
import Synchronization
import Testing

/// A live server on a free port whose handler echoes the request, for transport tests.
final class EchoServer {
    let server: HTTPServer
    let port: Int

    init(_ configure: (inout HTTPServer.Configuration) -> Void = { _ in }) throws {
        var configuration = HTTPServer.Configuration()
        configuration.port = 0
        configuration.workerThreads = 4
        configuration.extraHeaders = [("X-Test", "1")]
        configure(&configuration)
        server = HTTPServer(configuration: configuration, handler: HTTPHandlerFunction { request in
            if request.path == "/slow" { usleep(300_000) }
            if request.path == "/peer" { return HTTPResponse(status: 200, body: Array(request.peer.utf8)) }
            let text = "\(request.method) \(request.target) \(request.body.count) " + String(decoding: request.body, as: UTF8.self)
            return HTTPResponse(status: 200, body: Array(text.utf8))
        })
        port = try server.start()
    }

    deinit { server.shutdown(graceMs: 1000) }
}

@Suite(.serialized) struct HTTPServerTests {
    @Test func keepAliveServesManyRequestsOnOneConnection() throws {
        let echo = try EchoServer()
        let client = HTTPClient(port: echo.port)
        for i in 0..<50 {
            let r = try client.post("/x\(i)", json: "body\(i)")
            #expect(r.status == 200)
            #expect(r.text == "POST /x\(i) \(4 + String(i).count) body\(i)")
            #expect(r.headers["X-Test"] == "1")
        }
        #expect(echo.server.connectionCount == 1)
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let echo = try EchoServer()
        let client = HTTPClient(port: echo.port)
        var batch = ""
        for i in 0..<10 { batch += "POST /p\(i) HTTP/1.1\r\nContent-Length: 1\r\n\r\n\(i)" }
        try client.sendRaw(Array(batch.utf8))
        for i in 0..<10 {
            let r = try client.readResponse()
            #expect(r.text == "POST /p\(i) 1 \(i)")
        }
    }

    @Test func expectContinueAndChunkedUploads() throws {
        let echo = try EchoServer()
        let client = HTTPClient(port: echo.port)
        try client.sendRaw(Array("POST /e HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n".utf8))
        // The interim response arrives before we send the body; readResponse skips it after.
        usleep(100_000)
        try client.sendRaw(Array("data".utf8))
        #expect(try client.readResponse().text == "POST /e 4 data")
        try client.sendRaw(Array("POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n".utf8))
        #expect(try client.readResponse().text == "POST /c 3 abc")
    }

    @Test func oversizedBodiesGet413AndMalformedRequestsGet400() throws {
        let echo = try EchoServer { $0.maxBodyBytes = 1000 }
        let big = HTTPClient(port: echo.port)
        try big.sendRaw(Array("POST /big HTTP/1.1\r\nContent-Length: 5000\r\n\r\n".utf8))
        #expect(try big.readResponse().status == 413)
        let bad = HTTPClient(port: echo.port)
        try bad.sendRaw(Array("NOT HTTP AT ALL\r\n\r\n".utf8))
        let reply = String(decoding: try bad.readUntilClose(), as: UTF8.self)
        #expect(reply.hasPrefix("HTTP/1.1 400 Bad Request"))
        #expect(reply.contains("X-Test: 1"))
        // The server is still fine.
        #expect(try HTTPClient(port: echo.port).post("/ok", json: "").status == 200)
    }

    @Test func slowHeadersTimeOutAndIdleConnectionsAreClosed() throws {
        let echo = try EchoServer {
            $0.headerTimeoutMs = 300
            $0.idleTimeoutMs = 300
        }
        let slow = HTTPClient(port: echo.port)
        try slow.sendRaw(Array("GET / HTTP/1.1\r\nX-Slow: ".utf8))
        let start = Date()
        let reply = String(decoding: try slow.readUntilClose(), as: UTF8.self)
        #expect(reply.hasPrefix("HTTP/1.1 408"))
        #expect(Date().timeIntervalSince(start) < 5)
        let idle = HTTPClient(port: echo.port)
        try idle.connect()
        #expect(try idle.readUntilClose().isEmpty)
    }

    @Test func connectionCapAnswers503WhenNoConnectionIsIdle() throws {
        let echo = try EchoServer { $0.maxConnections = 2 }
        // Both slots hold a request in progress (half a head), so neither may be closed for c.
        let a = HTTPClient(port: echo.port)
        let b = HTTPClient(port: echo.port)
        try a.sendRaw(Array("POST /a HTTP/1.1\r\nX-Half: ".utf8))
        try b.sendRaw(Array("POST /b HTTP/1.1\r\nX-Half: ".utf8))
        usleep(100_000)  // the reactor reads both partial heads before c arrives
        let c = HTTPClient(port: echo.port)
        try c.connect()
        let reply = String(decoding: try c.readUntilClose(), as: UTF8.self)
        #expect(reply.hasPrefix("HTTP/1.1 503"))
        #expect(reply.contains("too many connections"))
        a.close()
        usleep(200_000)
        #expect(try HTTPClient(port: echo.port).post("/d", json: "").status == 200)
    }

    @Test func atTheConnectionCapTheLongestIdleConnectionMakesRoom() throws {
        let echo = try EchoServer {
            $0.maxConnections = 2
            $0.idleTimeoutMs = 5000
        }
        let a = HTTPClient(port: echo.port)
        let b = HTTPClient(port: echo.port)
        _ = try a.post("/a", json: "")
        usleep(10_000)  // so a's and b's last activity differ on the server's millisecond clock
        _ = try b.post("/b", json: "")
        let c = HTTPClient(port: echo.port)
        #expect(try c.post("/c", json: "").status == 200)
        // a, idle longest, was closed to make room (at once, not at the 5 s idle timeout).
        let start = Date()
        #expect(try a.readUntilClose().isEmpty)
        #expect(Date().timeIntervalSince(start) < 2)
        #expect(echo.server.connectionCount == 2)
    }

    @Test func perAddressCapAndThePeerAddress() throws {
        let echo = try EchoServer { $0.maxConnectionsPerAddress = 2 }
        let held = [HTTPClient(port: echo.port), HTTPClient(port: echo.port)]
        for client in held { #expect(try client.post("/peer", json: "").text == "127.0.0.1") }
        let third = HTTPClient(port: echo.port)
        try third.connect()
        let reply = String(decoding: try third.readUntilClose(), as: UTF8.self)
        #expect(reply.hasPrefix("HTTP/1.1 503"), "\(reply)")
        #expect(reply.contains("\"code\":1807") && reply.contains("too many connections from 127.0.0.1"), "\(reply)")
        // Another address is not affected, and the handler sees where each request came from.
        let other = HTTPClient(port: echo.port, sourceHost: "127.0.0.2")
        #expect(try other.post("/peer", json: "").text == "127.0.0.2")
        // A closed connection gives its address a slot back.
        held[0].close()
        var served = false
        for _ in 0..<50 where !served {
            served = (try? HTTPClient(port: echo.port).post("/peer", json: ""))?.status == 200
            if !served { usleep(20_000) }
        }
        #expect(served)
    }

    @Test func inFlightCapAnswers503InsteadOfQueueing() throws {
        // One worker, at most two requests in flight: one running (blocked until released), one queued.
        let release = DispatchSemaphore(value: 0)
        var configuration = HTTPServer.Configuration()
        configuration.port = 0
        configuration.workerThreads = 1
        configuration.maxInFlight = 2
        let server = HTTPServer(configuration: configuration, handler: HTTPHandlerFunction { request in
            if request.path == "/block" { release.wait() }
            return HTTPResponse(status: 200, body: Array(request.path.utf8))
        })
        let port = try server.start()
        defer { server.shutdown(graceMs: 1000) }
        let blocked = [HTTPClient(port: port), HTTPClient(port: port)]
        for client in blocked { try client.sendRaw(Array("POST /block HTTP/1.1\r\nContent-Length: 0\r\n\r\n".utf8)) }
        usleep(200_000)
        let start = Date()
        let refused = HTTPClient(port: port)
        try refused.sendRaw(Array("POST /third HTTP/1.1\r\nContent-Length: 0\r\n\r\n".utf8))
        let reply = String(decoding: try refused.readUntilClose(), as: UTF8.self)
        #expect(reply.hasPrefix("HTTP/1.1 503"), "\(reply)")
        #expect(reply.contains("\"code\":1807") && reply.contains("Retry-After: 1"))
        #expect(Date().timeIntervalSince(start) < 1, "the refusal is immediate, not queued")
        release.signal()
        release.signal()
        for client in blocked { #expect(try client.readResponse().text == "/block") }
        #expect(try HTTPClient(port: port).post("/after", json: "").status == 200)
    }

    /// The request path has no hand-off: the loop thread that read a request runs its handler.
    /// Long requests hold only their own threads: with three of four loop threads busy, the
    /// last one still reads, and hands the next request to a worker rather than run it, so a
    /// quick request is answered while the slow ones run.
    @Test func theReadingThreadRunsTheRequestAndLongOnesStallNobody() throws {
        let release = DispatchSemaphore(value: 0)
        let threads = Mutex<[String]>([])
        var configuration = HTTPServer.Configuration()
        configuration.port = 0
        configuration.workerThreads = 4
        let server = HTTPServer(configuration: configuration, handler: HTTPHandlerFunction { request in
            threads.withLock { $0.append(ThreadName.current) }
            if request.path == "/block" { release.wait() }
            return HTTPResponse(status: 200, body: Array(request.path.utf8))
        })
        let port = try server.start()
        defer { server.shutdown(graceMs: 1000) }
        #expect(try HTTPClient(port: port).post("/first", json: "").text == "/first")
        #expect(threads.withLock { $0 } .allSatisfy { $0.hasPrefix("elanus-loop") }, "\(threads.withLock { $0 })")

        let blocked = (0..<3).map { _ in HTTPClient(port: port) }
        for client in blocked { try client.sendRaw(Array("POST /block HTTP/1.1\r\nContent-Length: 0\r\n\r\n".utf8)) }
        usleep(200_000)
        let start = Date()
        #expect(try HTTPClient(port: port).post("/quick", json: "").text == "/quick")
        #expect(Date().timeIntervalSince(start) < 1, "a quick request is not held behind the slow ones")
        let names = threads.withLock { $0 }
        #expect(names.filter { $0.hasPrefix("elanus-loop") }.count == 4, "\(names)")
        #expect(names.last?.hasPrefix("elanus-worker") == true, "the last free loop thread handed the quick request on: \(names)")
        for _ in blocked { release.signal() }
        for client in blocked { #expect(try client.readResponse().text == "/block") }
    }

    @Test func shutdownFinishesRequestsInFlight() throws {
        let echo = try EchoServer()
        let port = echo.port
        let result = Mutex<String?>(nil)
        let thread = Thread {
            let r = try? HTTPClient(port: port).post("/slow", json: "x")
            result.withLock { $0 = r?.text }
        }
        thread.start()
        usleep(100_000)
        echo.server.shutdown(graceMs: 5000)
        usleep(50_000)
        #expect(result.withLock { $0 } == "POST /slow 1 x")
        #expect(throws: SocketError.self) { try HTTPClient(port: port, timeoutMs: 500).post("/after", json: "") }
    }

    /// Garbage, mutated and truncated requests over real sockets: every one is answered or closed,
    /// and a normal request afterwards still succeeds.
    @Test func randomizedGarbageOverTheWire() throws {
        let echo = try EchoServer { $0.headerTimeoutMs = 200; $0.requestTimeoutMs = 200; $0.idleTimeoutMs = 200 }
        var rng = SeededGenerator(seed: 7)
        let template = Array("POST /v2/vectordb/collections/list HTTP/1.1\r\nContent-Length: 4\r\n\r\nnull".utf8)
        for round in 0..<150 {
            var bytes = template
            if round % 3 == 0 {
                bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &rng)))
            } else {
                for _ in 0..<Int.random(in: 1...8, using: &rng) {
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
            }
            let client = HTTPClient(port: echo.port, timeoutMs: 3000)
            try client.sendRaw(bytes)
            _ = try? client.readUntilClose()
        }
        #expect(try HTTPClient(port: echo.port).post("/still-alive", json: "ok").status == 200)
    }
}
