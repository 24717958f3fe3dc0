import ElanusHTTP
import ElanusTestSupport
import Testing

@Suite struct HTTPRequestParserTests {
    /// Feeds `text` and collects every complete request (method, target, body).
    func parseAll(_ text: String, limits: HTTPRequestParser.Limits = .init()) throws -> [(String, String, String)] {
        var parser = HTTPRequestParser(limits: limits)
        parser.append(Array(text.utf8))
        var out: [(String, String, String)] = []
        while true {
            switch try parser.next() {
            case .needMore: return out
            case .expectContinue: continue
            case .request(let head, let body): out.append((head.method, head.target, String(decoding: body, as: UTF8.self)))
            }
        }
    }

    func status(_ text: String, limits: HTTPRequestParser.Limits = .init()) -> Int? {
        do {
            _ = try parseAll(text, limits: limits)
            return nil
        } catch {
            return (error as? HTTPRequestParser.ParseError)?.status
        }
    }

    @Test func contentLengthAndPipelining() throws {
        let text = "POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /b?x=1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /c HTTP/1.1\r\ncontent-length: 2\r\n\r\nhi"
        let requests = try parseAll(text)
        #expect(requests.map(\.0) == ["POST", "GET", "POST"])
        #expect(requests.map(\.1) == ["/a", "/b?x=1", "/c"])
        #expect(requests.map(\.2) == ["hello", "", "hi"])
    }

    @Test func chunkedBodies() throws {
        let text = "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n"
        let requests = try parseAll(text)
        #expect(requests.count == 1)
        #expect(requests[0].2 == "hello world")
    }

    @Test func byteAtATimeGivesTheSameResult() throws {
        let text = "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz"
        var parser = HTTPRequestParser()
        var bodies: [String] = []
        for byte in text.utf8 {
            parser.append([byte])
            while case .request(_, let body) = try parser.next() { bodies.append(String(decoding: body, as: UTF8.self)) }
        }
        #expect(bodies == ["abc", "xyz"])
    }

    @Test func expectContinueIsReportedOnceBeforeTheBody() throws {
        var parser = HTTPRequestParser()
        parser.append(Array("POST /a HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n".utf8))
        #expect(try parser.next() == .expectContinue)
        #expect(try parser.next() == .needMore)
        parser.append(Array("abc".utf8))
        guard case .request(_, let body) = try parser.next() else { Issue.record("no request"); return }
        #expect(body == Array("abc".utf8))
    }

    @Test func keepAliveRules() throws {
        func keepAlive(_ text: String) throws -> Bool {
            var parser = HTTPRequestParser()
            parser.append(Array(text.utf8))
            guard case .request(let head, _) = try parser.next() else { return false }
            return head.keepAlive
        }
        #expect(try keepAlive("GET / HTTP/1.1\r\n\r\n"))
        #expect(try !keepAlive("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"))
        #expect(try !keepAlive("GET / HTTP/1.0\r\n\r\n"))
        #expect(try keepAlive("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"))
    }

    @Test(arguments: [
        ("GARBAGE\r\n\r\n", 400),
        ("GET /\r\n\r\n", 400),
        ("GET / HTTP/2.0\r\n\r\n", 505),
        ("GET / FTP/1.1\r\n\r\n", 400),
        ("G(T / HTTP/1.1\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", 400),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", 400),
        ("POST / HTTP/1.1\r\nExpect: something\r\n\r\n", 417),
        ("GET / HTTP/1.1\nHost: x\n\n", nil),
    ] as [(String, Int?)])
    func malformedRequestsGetAStatus(text: String, expected: Int?) {
        #expect(status(text) == expected)
    }

    @Test func limitsAreEnforcedBeforeBuffering() {
        let limits = HTTPRequestParser.Limits(maxHeaderBytes: 1024, maxBodyBytes: 100)
        #expect(status("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", limits: limits) == 413)
        #expect(status("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 2000), limits: limits) == 431)
        #expect(status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n" + String(repeating: "a", count: 100) + "\r\n1\r\n", limits: limits) == 413)
    }

    /// Random, mutated and truncated requests: the parser must answer with a request, needMore or
    /// a 4xx/5xx error for every input, and never trap.
    @Test func randomizedGarbageNeverCrashes() {
        var rng = SeededGenerator(seed: 20261121)
        let valid = Array("POST /v2/vectordb/collections/list HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nnull".utf8)
        let chunked = Array("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nnull\r\n0\r\n\r\n".utf8)
        let alphabet = Array("\r\n :;0123456789abcdefHTTP/1.GETPOSTContent-LengthTransfer-Encodingchunked".utf8)
        for round in 0..<20_000 {
            var bytes = round % 2 == 0 ? valid : chunked
            switch round % 4 {
            case 0: bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &rng)))
            case 1:
                for _ in 0..<Int.random(in: 1...6, using: &rng) {
                    let i = Int.random(in: 0..<bytes.count, using: &rng)
                    bytes[i] = Bool.random(using: &rng) ? alphabet.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
                }
            case 2: bytes = (0..<Int.random(in: 0..<200, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            default:
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                bytes.insert(contentsOf: (0..<Int.random(in: 1...20, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: i)
            }
            var parser = HTTPRequestParser(limits: .init(maxHeaderBytes: 512, maxBodyBytes: 1024))
            parser.append(bytes)
            var steps = 0
            loop: while steps < 100 {
                steps += 1
                do {
                    switch try parser.next() {
                    case .needMore: break loop
                    case .expectContinue, .request: continue
                    }
                } catch {
                    #expect((400...505).contains(error.status))
                    break loop
                }
            }
            #expect(steps < 100)
        }
    }
}
