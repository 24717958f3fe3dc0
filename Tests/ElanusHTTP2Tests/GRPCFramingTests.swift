import Testing
@testable import ElanusHTTP2

struct GRPCFramingTests {
    @Test("messages reassemble when the stream is split at every byte boundary")
    func splitEverywhere() throws {
        let messages: [[UInt8]] = [[], [1], Array(0..<200), [9, 9, 9]]
        var wire: [UInt8] = []
        for message in messages { GRPCMessageEncoder.encode(message, into: &wire) }
        for cut1 in 0...wire.count {
            for cut2 in [cut1, min(wire.count, cut1 + 3), wire.count] where cut2 >= cut1 {
                var decoder = GRPCMessageDecoder()
                var out = try decoder.decode(wire[0..<cut1])
                out += try decoder.decode(wire[cut1..<cut2])
                out += try decoder.decode(wire[cut2...])
                #expect(out == messages, "cut at \(cut1), \(cut2)")
                try decoder.finish()
            }
        }
    }

    @Test("compressed flag, bad flag, oversize and truncated input are gRPC errors")
    func decoderErrors() {
        var decoder = GRPCMessageDecoder()
        #expect(throws: GRPCStatus.self) { try decoder.decode([1, 0, 0, 0, 1, 7]) }
        decoder = GRPCMessageDecoder()
        #expect(throws: GRPCStatus(.internal, "invalid message flag 2")) { try decoder.decode([2, 0, 0, 0, 0]) }
        decoder = GRPCMessageDecoder(maxMessageSize: 10)
        // Rejected from the prefix alone, before the 11 bytes arrive.
        #expect(throws: GRPCStatus(.resourceExhausted, "message of 11 bytes exceeds the limit of 10")) { try decoder.decode([0, 0, 0, 0, 11]) }
        decoder = GRPCMessageDecoder()
        _ = try? decoder.decode([0, 0, 0, 0, 3, 1])
        #expect(throws: GRPCStatus(.internal, "request ended inside a message")) { try decoder.finish() }
    }

    @Test("grpc-timeout parsing", arguments: [
        ("1S", UInt64(1_000_000_000)), ("100m", 100_000_000), ("5u", 5_000), ("7n", 7), ("2M", 120_000_000_000),
        ("1H", 3_600_000_000_000), ("99999999H", UInt64.max), ("00000001m", 1_000_000),
    ])
    func timeouts(value: String, nanoseconds: UInt64) {
        #expect(GRPCTimeout(headerValue: value)?.nanoseconds == nanoseconds)
    }

    @Test("malformed grpc-timeout values", arguments: ["", "S", "1", "123456789S", "1s", "-1S", "1.5S", " 1S", "1SS"])
    func badTimeouts(value: String) {
        #expect(GRPCTimeout(headerValue: value) == nil)
    }

    @Test("grpc-message percent-encoding round trips and tolerates bad escapes")
    func percentEncoding() {
        #expect(GRPCPercentEncoding.encode("plain text") == "plain text")
        #expect(GRPCPercentEncoding.encode("50% done\n") == "50%25 done%0A")
        #expect(GRPCPercentEncoding.encode("héllo") == "h%C3%A9llo")
        for text in ["", "a%b", "collection \"x\" not found", "日本語\r\n\t%%"] {
            #expect(GRPCPercentEncoding.decode(GRPCPercentEncoding.encode(text)) == text)
        }
        #expect(GRPCPercentEncoding.decode("100%") == "100%")
        #expect(GRPCPercentEncoding.decode("%zz%4") == "%zz%4")
        #expect(GRPCPercentEncoding.decode("%41%62") == "Ab")
    }

    @Test("status codes 0-16 have their canonical names")
    func statusNames() {
        #expect(GRPCStatus.Code.allCases.count == 17)
        #expect(GRPCStatus.Code.allCases.map(\.rawValue) == Array(0...16))
        #expect(GRPCStatus.Code.deadlineExceeded.name == "DEADLINE_EXCEEDED")
        #expect(GRPCStatus.Code.unauthenticated.name == "UNAUTHENTICATED")
        #expect(GRPCStatus.code(fromHeader: "12") == .unimplemented)
        #expect(GRPCStatus.code(fromHeader: "99") == .unknown)
        #expect(GRPCStatus(.notFound, "no such collection").description == "NOT_FOUND: no such collection")
    }

    private static let base = [HTTP2Header(":method", "POST"), HTTP2Header(":scheme", "http"),
                               HTTP2Header(":path", "/milvus.proto.milvus.MilvusService/Search"),
                               HTTP2Header("content-type", "application/grpc"), HTTP2Header("te", "trailers")]

    @Test("a valid gRPC request yields service, method, timeout and metadata")
    func validRequest() throws {
        let headers = Self.base + [HTTP2Header("grpc-timeout", "5S"), HTTP2Header("authorization", "Bearer t"),
                                   HTTP2Header("grpc-accept-encoding", "gzip, identity")]
        let request = try GRPCRequest.validate(headers).get()
        #expect(request.service == "milvus.proto.milvus.MilvusService")
        #expect(request.method == "Search")
        #expect(request.timeout == GRPCTimeout(nanoseconds: 5_000_000_000))
        #expect(request.metadata == [HTTP2Header("authorization", "Bearer t")])
        var proto = Self.base
        proto[3] = HTTP2Header("content-type", "application/grpc+proto")
        #expect((try? GRPCRequest.validate(proto).get()) != nil)
        for accepted in ["Application/GRPC", "application/grpc;charset=utf-8"] {
            #expect(GRPCRequest.isGRPCContentType(accepted), "\(accepted)")
        }
    }

    @Test("invalid gRPC requests are rejected with HTTP or gRPC status", arguments: [
        (3, HTTP2Header("content-type", "application/json"), GRPCRequest.Rejection.http(status: 415, reason: "content-type is not application/grpc")),
        (3, HTTP2Header("content-type", "application/grpcx"), .http(status: 415, reason: "content-type is not application/grpc")),
        (0, HTTP2Header(":method", "GET"), .http(status: 405, reason: "gRPC requires POST")),
        (2, HTTP2Header(":path", "/NoMethod"), .grpc(GRPCStatus(.unimplemented, "malformed method name: /NoMethod"))),
        (2, HTTP2Header(":path", "/a/b/c"), .grpc(GRPCStatus(.unimplemented, "malformed method name: /a/b/c"))),
        (2, HTTP2Header(":path", "//Search"), .grpc(GRPCStatus(.unimplemented, "malformed method name: //Search"))),
        (2, HTTP2Header(":path", "/s/"), .grpc(GRPCStatus(.unimplemented, "malformed method name: /s/"))),
        (2, HTTP2Header(":path", "s/m"), .grpc(GRPCStatus(.unimplemented, "malformed method name: s/m"))),
        (3, HTTP2Header("content-type", "application/grp"), .http(status: 415, reason: "content-type is not application/grpc")),
        (4, HTTP2Header("grpc-encoding", "gzip"), .grpc(GRPCStatus(.unimplemented, "grpc-encoding gzip is not supported; use identity"))),
        (4, HTTP2Header("grpc-timeout", "soon"), .grpc(GRPCStatus(.internal, "malformed grpc-timeout: soon"))),
    ])
    func invalidRequests(index: Int, replacement: HTTP2Header, expected: GRPCRequest.Rejection) {
        var headers = Self.base
        headers[index] = replacement
        guard case .failure(let rejection) = GRPCRequest.validate(headers) else { Issue.record("accepted"); return }
        #expect(rejection == expected)
    }

    @Test("response headers, trailers and the trailers-only form")
    func responseHeaders() {
        #expect(GRPCResponseHeaders.headers().prefix(2) == [HTTP2Header(":status", "200"), HTTP2Header("content-type", "application/grpc")])
        #expect(GRPCResponseHeaders.trailers(.ok) == [HTTP2Header("grpc-status", "0")])
        let failed = GRPCStatus(.notFound, "collection \"c\" 100% gone")
        let trailers = GRPCResponseHeaders.trailers(failed)
        #expect(trailers == [HTTP2Header("grpc-status", "5"), HTTP2Header("grpc-message", "collection \"c\" 100%25 gone")])
        #expect(GRPCResponseHeaders.status(fromTrailers: trailers) == failed)
        let only = GRPCResponseHeaders.trailersOnly(GRPCStatus(.unimplemented, "x"))
        #expect(only.first == HTTP2Header(":status", "200"))
        #expect(only.first("grpc-status") == "12")
        #expect(GRPCResponseHeaders.httpError(status: 415).first(":status") == "415")
    }

    @Test("a unary gRPC call end to end over HTTP2Connection, with a trailers-only error")
    func unaryCall() throws {
        var client = TestClient()
        client.handshake()
        let message = Array("request".utf8)
        var events = client.send(client.headersFrame(1), client.headersFrame(3, path: "/bad"))
        events += client.send(HTTP2Frame(streamID: 1, payload: .data(bytes: GRPCMessageEncoder.encode(message), endStream: true, padding: nil)))
        var decoder = GRPCMessageDecoder()
        for event in events {
            switch event {
            case .request(let id, let headers, _):
                if case .failure(.grpc(let status)) = GRPCRequest.validate(headers) {
                    try client.connection.sendHeaders(streamID: id, headers: GRPCResponseHeaders.trailersOnly(status), endStream: true)
                }
            case .data(1, let bytes, true):
                #expect(try decoder.decode(bytes) == [message])
                client.connection.consumed(streamID: 1, byteCount: bytes.count)
                try client.connection.sendHeaders(streamID: 1, headers: GRPCResponseHeaders.headers())
                try client.connection.sendData(streamID: 1, bytes: GRPCMessageEncoder.encode(Array("reply".utf8)))
                try client.connection.sendTrailers(streamID: 1, headers: GRPCResponseHeaders.trailers(.ok))
            default:
                Issue.record("unexpected \(event)")
            }
        }
        let frames = client.read()
        let stream3 = frames.filter { $0.frame.streamID == 3 }
        // The client never half-closed stream 3, so the complete answer is followed by
        // RST_STREAM(NO_ERROR) (RFC 9113 §8.1).
        #expect(stream3.count == 2 && stream3[0].endStream)
        #expect(stream3.last?.resetCode == HTTP2ErrorCode.noError)
        #expect(GRPCResponseHeaders.status(fromTrailers: stream3[0].headers)?.code == .unimplemented)
        var replies = GRPCMessageDecoder()
        #expect(try replies.decode(frames.data(1)) == [Array("reply".utf8)])
        #expect(GRPCResponseHeaders.status(fromTrailers: frames.last { $0.frame.streamID == 1 }?.headers ?? []) == .ok)
        #expect(client.connection.activeStreamCount == 0)
    }
}
