import Testing
@testable import ElanusHTTP2

struct HTTP2ShutdownTests {
    @Test("graceful shutdown: GOAWAY(max) + PING, final GOAWAY on the ACK, then finish when streams end")
    func graceful() throws {
        var client = TestClient()
        client.handshake()
        client.send(client.headersFrame(1, endStream: true))
        client.connection.beginGracefulShutdown()
        var frames = client.read().map(\.frame.payload)
        #expect(frames.first == .goaway(lastStreamID: HTTP2Constants.maxStreamID, code: .noError, debugData: []))
        guard case .ping(false, let opaque)? = frames.last else { Issue.record("no PING"); return }

        // A stream opened in flight before the client saw GOAWAY is still served.
        #expect(client.send(client.headersFrame(3, endStream: true)).count == 1)
        client.send(HTTP2Frame(streamID: 0, payload: .ping(ack: true, opaque: opaque)))
        frames = client.read().map(\.frame.payload)
        #expect(frames == [.goaway(lastStreamID: 3, code: .noError, debugData: [])])
        // Streams above the last id are ignored.
        #expect(client.send(client.headersFrame(5, endStream: true)).isEmpty)
        #expect(!client.connection.isFinished)

        for id: UInt32 in [1, 3] {
            try client.connection.sendHeaders(streamID: id, headers: [HTTP2Header(":status", "200")], endStream: true)
        }
        #expect(client.connection.isFinished)
        #expect(client.send(HTTP2Frame(streamID: 0, payload: .ping(ack: false, opaque: 1))).last == .closed(.gracefulShutdown))
    }

    @Test("peer GOAWAY is reported and the connection finishes when its streams do")
    func peerGoaway() throws {
        var client = TestClient()
        client.handshake()
        client.send(client.headersFrame(1, endStream: true))
        let events = client.send(HTTP2Frame(streamID: 0, payload: .goaway(lastStreamID: 0, code: .noError, debugData: Array("bye".utf8))))
        #expect(events == [.goaway(lastStreamID: 0, code: .noError, debug: "bye")])
        try client.connection.sendHeaders(streamID: 1, headers: [HTTP2Header(":status", "204")], endStream: true)
        #expect(client.connection.isFinished)
    }

    @Test("goAway with an error code closes at once and rejects further sends")
    func immediate() {
        var client = TestClient()
        client.handshake()
        client.send(client.headersFrame(1))
        client.connection.goAway(code: .internalError, debugMessage: "shutting down")
        #expect(client.read().goawayCode == .internalError)
        #expect(throws: HTTP2SendError.connectionClosed) {
            try client.connection.sendHeaders(streamID: 1, headers: [HTTP2Header(":status", "200")])
        }
        #expect(client.connection.feed([0, 0, 0]).isEmpty == false)  // the one `.closed` event
        #expect(client.connection.feed([0, 0, 0]).isEmpty)
    }

    @Test("large response headers are split into CONTINUATION frames; SETTINGS window changes apply by delta")
    func continuationAndWindowDelta() throws {
        var client = TestClient()
        client.handshake()
        client.send(client.headersFrame(1, endStream: true))
        try client.connection.sendHeaders(streamID: 1, headers: [HTTP2Header(":status", "200"), HTTP2Header("x-long", String(repeating: "z", count: 40_000))])
        let frames = client.read()
        #expect(frames.count == 3)
        if case .continuation(_, true)? = frames.last?.frame.payload {} else { Issue.record("no final CONTINUATION") }

        // Window 65,535 spent down to 65,525, then SETTINGS shrinks the initial window by 65,530.
        try client.connection.sendData(streamID: 1, bytes: [UInt8](repeating: 0, count: 10))
        client.send(HTTP2Frame(streamID: 0, payload: .settings(ack: false, [HTTP2Setting(.initialWindowSize, 5)])))
        _ = client.read()
        try client.connection.sendData(streamID: 1, bytes: [1, 2, 3])
        #expect(client.read().data(1).isEmpty)  // window is now -5
        client.send(HTTP2Frame(streamID: 1, payload: .windowUpdate(increment: 8)))
        #expect(client.read().data(1) == [1, 2, 3])
    }
}
