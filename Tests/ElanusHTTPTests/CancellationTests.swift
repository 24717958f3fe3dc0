import ElanusCore
import ElanusHTTP
import ElanusTestSupport
import Foundation
import Synchronization
import Testing

/// The server's side of request cancellation: a client that hangs up cancels the request in
/// flight (by FIN or by reset), a request past the server's deadline sees it, and pipelined
/// requests followed by a half-close are all still answered.
@Suite(.serialized) struct HTTPCancellationTests {
    /// A server whose `/spin` handler works until its request is cancelled (at most 20 s), then
    /// answers with the reason; every other path answers at once. Each request's outcome is kept.
    final class SpinServer: Sendable {
        final class State: Sendable {
            let started = Atomic<Int>(0)
            let outcomes = Mutex<[String]>([])
        }

        let server: HTTPServer
        let port: Int
        let state = State()

        init(handlerTimeoutMs: Int = 0) throws {
            var configuration = HTTPServer.Configuration()
            configuration.port = 0
            configuration.workerThreads = 4
            configuration.handlerTimeoutMs = handlerTimeoutMs
            let state = state
            server = HTTPServer(configuration: configuration, handler: HTTPHandlerFunction { request in
                guard request.path == "/spin" else { return HTTPResponse(status: 200, body: Array("quick \(request.target)".utf8)) }
                state.started.add(1, ordering: .relaxed)
                let give = Date().addingTimeInterval(20)
                while !request.cancellation.isCancelled && Date() < give { usleep(1000) }
                let outcome = request.cancellation.reason.map { "\($0)" } ?? "finished"
                state.outcomes.withLock { $0.append(outcome) }
                return HTTPResponse(status: 200, body: Array(outcome.utf8))
            })
            port = try server.start()
        }

        deinit { server.shutdown(graceMs: 1000) }

        /// Waits (up to 10 s) until `n` outcomes are in, and returns them.
        func outcomes(_ n: Int) -> [String] {
            let give = Date().addingTimeInterval(10)
            while state.outcomes.withLock({ $0.count }) < n && Date() < give { usleep(2000) }
            return state.outcomes.withLock { $0 }
        }

        func waitStarted(_ n: Int) {
            let give = Date().addingTimeInterval(10)
            while state.started.load(ordering: .relaxed) < n && Date() < give { usleep(2000) }
        }
    }

    @Test func aClientThatHangsUpCancelsItsRequest() throws {
        let spin = try SpinServer()
        let closing = HTTPClient(port: spin.port)
        try closing.sendRaw(Array("POST /spin HTTP/1.1\r\nContent-Length: 0\r\n\r\n".utf8))
        let resetting = HTTPClient(port: spin.port)
        try resetting.sendRaw(Array("POST /spin HTTP/1.1\r\nContent-Length: 0\r\n\r\n".utf8))
        spin.waitStarted(2)
        let start = Date()
        closing.close()
        resetting.reset()
        #expect(spin.outcomes(2) == ["canceled", "canceled"])
        #expect(Date().timeIntervalSince(start) < 5, "the handlers saw the hang-ups long before their 20 s ran out")
        // The workers are free again, and the server answers as before.
        #expect(try HTTPClient(port: spin.port).post("/after", json: "").text == "quick /after")
    }

    @Test func aRequestPastTheDeadlineSeesItAndTheConnectionLivesOn() throws {
        let spin = try SpinServer(handlerTimeoutMs: 200)
        let client = HTTPClient(port: spin.port)
        #expect(try client.post("/spin", json: "").text == "deadlineExceeded")
        #expect(try client.post("/quick", json: "").text == "quick /quick")
        #expect(spin.server.connectionCount == 1)
    }

    @Test func pipelinedRequestsThenAHalfCloseAreAllAnswered() throws {
        let spin = try SpinServer()
        let client = HTTPClient(port: spin.port)
        var batch = ""
        for i in 0..<5 { batch += "POST /p\(i) HTTP/1.1\r\nContent-Length: 0\r\n\r\n" }
        try client.sendRaw(Array(batch.utf8))
        client.shutdownWrite()
        for i in 0..<5 { #expect(try client.readResponse().text == "quick /p\(i)") }
        // Then the server closes: nothing more can come from a half-closed client.
        #expect(try client.readUntilClose().isEmpty)
    }

    @Test func aHalfClosedClientStillReadsTheAnswerOfItsCancelledRequest() throws {
        let spin = try SpinServer()
        let client = HTTPClient(port: spin.port)
        try client.sendRaw(Array("POST /spin HTTP/1.1\r\nContent-Length: 0\r\n\r\n".utf8))
        spin.waitStarted(1)
        client.shutdownWrite()
        #expect(try client.readResponse().text == "canceled")
    }
}
