import Testing
@testable import ElanusHTTP2

struct HTTP2ConnectionTests {
    @Test("preface detection answers yes, no and need-more")
    func preface() {
        let preface = HTTP2Preface.bytes
        #expect(HTTP2Connection.detectPreface(preface[...]) == .yes)
        #expect(HTTP2Connection.detectPreface((preface + [0, 1])[...]) == .yes)
        #expect(HTTP2Connection.detectPreface(preface[0..<10]) == .needMore)
        #expect(HTTP2Connection.detectPreface([][...]) == .needMore)
        #expect(HTTP2Connection.detectPreface(Array("POST / HTTP/1.1\r\n".utf8)[...]) == .no)
        #expect(HTTP2Connection.detectPreface(Array("PRI * HTTP/1.1".utf8)[...]) == .no)
    }

    @Test("full conversation: SETTINGS first, ACK, request, response with trailers")
    func conversation() throws {
        var client = TestClient()
        // The server preface is ready before the client says anything.
        let opening = client.read()
        guard case .settings(false, let settings)? = opening.first?.frame.payload else {
            Issue.record("first frame is not SETTINGS"); return
        }
        #expect(settings.contains(HTTP2Setting(.maxConcurrentStreams, 100)))
        #expect(settings.contains(HTTP2Setting(.enablePush, 0)))
        #expect(opening.dropFirst().first?.frame.payload == .windowUpdate(increment: UInt32((4 << 20) - 65_535)))

        var bytes = HTTP2Preface.bytes
        bytes += HTTP2FrameEncoder.encode(HTTP2Frame(streamID: 0, payload: .settings(ack: false, [HTTP2Setting(.initialWindowSize, 100_000)])))
        bytes += HTTP2FrameEncoder.encode(client.headersFrame(1))
        bytes += HTTP2FrameEncoder.encode(HTTP2Frame(streamID: 1, payload: .data(bytes: [0, 0, 0, 0, 2, 8, 1], endStream: true, padding: 3)))
        bytes += HTTP2FrameEncoder.encode(HTTP2Frame(streamID: 0, payload: .ping(ack: false, opaque: 42)))
        // Fed one byte at a time: the engine must not care how reads are split.
        var events: [HTTP2Event] = []
        for byte in bytes { events += client.connection.feed([byte]) }
        #expect(events.count == 2)
        guard case .request(1, let headers, false) = events.first else { Issue.record("no request: \(events)"); return }
        #expect(headers.first(":path") == "/pkg.Service/Method")
        #expect(events.last == .data(streamID: 1, bytes: [0, 0, 0, 0, 2, 8, 1], endStream: true))

        var frames = client.read()
        #expect(frames.map(\.frame.payload).contains(.settings(ack: true, [])))
        #expect(frames.map(\.frame.payload).contains(.ping(ack: true, opaque: 42)))

        try client.connection.sendHeaders(streamID: 1, headers: [HTTP2Header(":status", "200"), HTTP2Header("content-type", "application/grpc")])
        try client.connection.sendData(streamID: 1, bytes: [0, 0, 0, 0, 1, 7])
        try client.connection.sendTrailers(streamID: 1, headers: [HTTP2Header("grpc-status", "0")])
        frames = client.read()
        #expect(frames.count == 3)
        #expect(frames[0].headers.first(":status") == "200")
        #expect(frames[1].dataBytes == [0, 0, 0, 0, 1, 7])
        #expect(frames[2].headers == [HTTP2Header("grpc-status", "0")])
        #expect(frames[2].endStream)
        #expect(client.connection.activeStreamCount == 0)
        #expect(throws: HTTP2SendError.unknownStream(1)) { try client.connection.sendData(streamID: 1, bytes: [1]) }
    }

    @Test("a bad preface closes without GOAWAY; a non-SETTINGS first frame gets PROTOCOL_ERROR")
    func badStart() {
        let connection = HTTP2Connection()
        _ = connection.takeOutput()
        #expect(connection.feed(Array("GET / HTTP/1.1\r\n".utf8)).last == .closed(.connectionError(.protocolError, "invalid connection preface")))
        #expect(connection.takeOutput().isEmpty)
        #expect(connection.isFinished)

        let client = TestClient()
        _ = client.connection.takeOutput()
        let events = client.connection.feed(HTTP2Preface.bytes + HTTP2FrameEncoder.encode(HTTP2Frame(streamID: 0, payload: .ping(ack: false, opaque: 1))))
        guard case .closed(.connectionError(.protocolError, _))? = events.last else { Issue.record("\(events)"); return }
    }

    @Test("sendData beyond the peer's windows waits for WINDOW_UPDATE and keeps order")
    func flowControl() throws {
        var client = TestClient()
        client.handshake()
        client.send(client.headersFrame(1, endStream: true))
        let body = (0..<200_000).map { UInt8(truncatingIfNeeded: $0) }
        try client.connection.sendHeaders(streamID: 1, headers: [HTTP2Header(":status", "200")])
        try client.connection.sendData(streamID: 1, bytes: body, endStream: true)
        var frames = client.read()
        // Connection and stream windows both default to 65,535.
        #expect(frames.data(1).count == 65_535)
        #expect(client.connection.queuedBytes(streamID: 1) == 200_000 - 65_535)
        #expect(!frames.contains { $0.endStream && $0.dataBytes != nil })

        // A stream update alone is not enough: the connection window is still closed.
        client.send(HTTP2Frame(streamID: 1, payload: .windowUpdate(increment: 200_000)))
        #expect(client.read().data(1).isEmpty)
        client.send(HTTP2Frame(streamID: 0, payload: .windowUpdate(increment: 100_000)))
        frames = client.read()
        #expect(frames.data(1).count == 100_000)
        client.send(HTTP2Frame(streamID: 0, payload: .windowUpdate(increment: 100_000)))
        let rest = client.read()
        #expect(rest.last?.endStream == true)
        let received = (frames + rest).data(1)
        #expect(received == Array(body[65_535...]))
        #expect(rest.allSatisfy { ($0.dataBytes?.count ?? 0) <= 16_384 })
        #expect(client.connection.queuedBytesTotal == 0)
        #expect(client.connection.activeStreamCount == 0)
    }

    @Test("the send queue is bounded per stream and per connection")
    func sendQueueBound() throws {
        var limits = HTTP2Limits()
        limits.maxQueuedBytesPerStream = 100_000
        limits.maxQueuedBytesPerConnection = 150_000
        var client = TestClient(limits: limits)
        client.handshake(settings: [HTTP2Setting(.initialWindowSize, 0)])
        client.send(client.headersFrame(1), client.headersFrame(3))
        for id: UInt32 in [1, 3] { try client.connection.sendHeaders(streamID: id, headers: [HTTP2Header(":status", "200")]) }
        try client.connection.sendData(streamID: 1, bytes: [UInt8](repeating: 1, count: 90_000))
        #expect(throws: HTTP2SendError.queueFull(streamID: 1, queued: 90_000, limit: 100_000)) {
            try client.connection.sendData(streamID: 1, bytes: [UInt8](repeating: 1, count: 20_000))
        }
        try client.connection.sendData(streamID: 3, bytes: [UInt8](repeating: 1, count: 50_000))
        #expect(throws: HTTP2SendError.queueFull(streamID: 3, queued: 140_000, limit: 150_000)) {
            try client.connection.sendData(streamID: 3, bytes: [UInt8](repeating: 1, count: 20_000))
        }
        #expect(client.connection.queuedBytesTotal == 140_000)
        // A peer reset releases that stream's share.
        client.send(HTTP2Frame(streamID: 1, payload: .rstStream(.cancel)))
        #expect(client.connection.queuedBytesTotal == 50_000)
    }

    @Test("many concurrent streams are served fairly and completely")
    func manyStreams() throws {
        var client = TestClient()
        client.handshake()
        let ids = (0..<50).map { UInt32(2 * $0 + 1) }
        let events = client.send(ids.map { client.headersFrame($0, endStream: true) })
        #expect(events.count == 50)
        for id in ids {
            try client.connection.sendHeaders(streamID: id, headers: [HTTP2Header(":status", "200")])
            try client.connection.sendData(streamID: id, bytes: [UInt8](repeating: UInt8(id & 0xff), count: 40_000), endStream: true)
        }
        client.send(HTTP2Frame(streamID: 0, payload: .windowUpdate(increment: 4_000_000)))
        for id in ids { client.send(HTTP2Frame(streamID: id, payload: .windowUpdate(increment: 40_000))) }
        let frames = client.read()
        for id in ids {
            #expect(frames.data(id) == [UInt8](repeating: UInt8(id & 0xff), count: 40_000))
        }
        #expect(client.connection.activeStreamCount == 0)
    }

    @Test("consumed DATA is credited back with WINDOW_UPDATE once half a window is owed")
    func receiveCredit() {
        var limits = HTTP2Limits()
        limits.initialStreamWindowSize = 20_000
        limits.connectionWindowSize = 40_000
        var client = TestClient(limits: limits)
        client.handshake()
        client.send(client.headersFrame(1))
        client.send(HTTP2Frame(streamID: 1, payload: .data(bytes: [UInt8](repeating: 0, count: 15_000), endStream: false, padding: nil)))
        client.connection.consumed(streamID: 1, byteCount: 5_000)
        #expect(client.read().isEmpty)
        client.connection.consumed(streamID: 1, byteCount: 10_000)
        let updates = client.read().map(\.frame)
        #expect(updates.contains(HTTP2Frame(streamID: 1, payload: .windowUpdate(increment: 15_000))))
        // The connection owes 15,000 of 40,000: not yet half.
        #expect(!updates.contains { $0.streamID == 0 })
    }
}

struct HTTP2StreamStateTests {
    @Test("stream lifecycle transitions follow RFC 9113 §5.1")
    func transitions() {
        #expect(HTTP2StreamState.open.receivedEndStream() == .halfClosedRemote)
        #expect(HTTP2StreamState.open.sentEndStream() == .halfClosedLocal)
        #expect(HTTP2StreamState.halfClosedRemote.sentEndStream() == .closed)
        #expect(HTTP2StreamState.halfClosedLocal.receivedEndStream() == .closed)
        #expect(HTTP2StreamState.open.canSend && HTTP2StreamState.open.canReceive)
        #expect(HTTP2StreamState.halfClosedRemote.canSend && !HTTP2StreamState.halfClosedRemote.canReceive)
        #expect(!HTTP2StreamState.halfClosedLocal.canSend && HTTP2StreamState.halfClosedLocal.canReceive)
        #expect(!HTTP2StreamState.closed.canSend && !HTTP2StreamState.closed.canReceive)
    }
}
