import Testing
@testable import ElanusHTTP2

/// Each defence against a hostile peer, and each protocol violation, gets its RFC error code.
struct HTTP2LimitTests {
    @Test("streams over SETTINGS_MAX_CONCURRENT_STREAMS are refused with REFUSED_STREAM")
    func concurrentStreams() {
        var limits = HTTP2Limits()
        limits.maxConcurrentStreams = 2
        var client = TestClient(limits: limits)
        client.handshake()
        let events = client.send(client.headersFrame(1), client.headersFrame(3), client.headersFrame(5))
        #expect(events.count == 2)
        let frames = client.read()
        #expect(frames.resetCode(5) == .refusedStream)
        #expect(frames.goawayCode == nil)
        // Late DATA for the refused stream is ignored, not an error.
        client.send(HTTP2Frame(streamID: 5, payload: .data(bytes: [1], endStream: true, padding: nil)))
        #expect(client.read().isEmpty)
    }

    @Test("a header list over the advertised size gets 431 on that stream only")
    func headerListSize() {
        var limits = HTTP2Limits()
        limits.maxHeaderListSize = 1_000
        var client = TestClient(limits: limits)
        client.handshake()
        let events = client.send(client.headersFrame(1, extra: [HTTP2Header("x-big", String(repeating: "a", count: 2_000))]))
        #expect(events.isEmpty)
        let frames = client.read()
        #expect(frames.first?.headers.first(":status") == "431")
        #expect(frames.resetCode(1) == HTTP2ErrorCode.noError)
        // The connection still works: HPACK stayed in sync.
        #expect(client.send(client.headersFrame(3)).count == 1)
    }

    @Test("CONTINUATION floods end the connection with ENHANCE_YOUR_CALM", arguments: [true, false])
    func continuationFlood(manyFrames: Bool) {
        var limits = HTTP2Limits()
        limits.maxContinuationFrames = 8
        limits.maxHeaderBlockBytes = 4_000
        var client = TestClient(limits: limits)
        client.handshake()
        var frames = [HTTP2Frame(streamID: 1, payload: .headers(block: [0x82], endStream: false, endHeaders: false, priority: nil, padding: nil))]
        let fragment = manyFrames ? [UInt8]() : [UInt8](repeating: 0x82, count: 1_000)
        for _ in 0..<10 { frames.append(HTTP2Frame(streamID: 1, payload: .continuation(block: fragment, endHeaders: false))) }
        let events = client.send(frames)
        guard case .closed(.connectionError(.enhanceYourCalm, _))? = events.last else { Issue.record("\(events)"); return }
        #expect(client.read().goawayCode == .enhanceYourCalm)
    }

    @Test("PING or SETTINGS floods without draining output get ENHANCE_YOUR_CALM", arguments: [true, false])
    func controlFlood(ping: Bool) {
        var limits = HTTP2Limits()
        limits.maxPendingControlFrames = 50
        let frame = ping ? HTTP2Frame(streamID: 0, payload: .ping(ack: false, opaque: 9)) : HTTP2Frame(streamID: 0, payload: .settings(ack: false, []))

        var polite = TestClient(limits: limits)
        polite.handshake()
        for _ in 0..<10 {
            polite.send([HTTP2Frame](repeating: frame, count: 40))
            _ = polite.read()
        }
        #expect(!polite.connection.isFinished)

        var hostile = TestClient(limits: limits)
        hostile.handshake()
        hostile.send([HTTP2Frame](repeating: frame, count: 30))
        hostile.send([HTTP2Frame](repeating: frame, count: 30))
        #expect(hostile.read().goawayCode == .enhanceYourCalm)
    }

    @Test("rapid reset (CVE-2023-44487) is cut off, slow resets are not")
    func rapidReset() {
        final class Clock: @unchecked Sendable { var now: Duration = .zero }
        var limits = HTTP2Limits()
        limits.maxPeerResetsPerWindow = 10
        limits.peerResetWindow = .seconds(1)
        for slow in [true, false] {
            let clock = Clock()
            var client = TestClient(limits: limits, clock: { clock.now })
            client.handshake()
            var id: UInt32 = 1
            for _ in 0..<30 {
                client.send(client.headersFrame(id), HTTP2Frame(streamID: id, payload: .rstStream(.cancel)))
                id += 2
                if slow { clock.now += .milliseconds(200) }
            }
            #expect((client.read().goawayCode == .enhanceYourCalm) == !slow)
        }
    }

    @Test("DATA beyond the stream window resets the stream; beyond the connection window ends it")
    func receiveWindows() {
        var limits = HTTP2Limits()
        limits.initialStreamWindowSize = 1_000
        limits.connectionWindowSize = 65_535
        var client = TestClient(limits: limits)
        client.handshake()
        client.send(client.headersFrame(1))
        client.send(HTTP2Frame(streamID: 1, payload: .data(bytes: [UInt8](repeating: 0, count: 1_001), endStream: false, padding: nil)))
        #expect(client.read().resetCode(1) == .flowControlError)

        client.send(client.headersFrame(3))
        client.send(HTTP2Frame(streamID: 3, payload: .data(bytes: [UInt8](repeating: 0, count: 900), endStream: false, padding: 99)))
        #expect(client.read().resetCode(3) == nil)  // padding counts: 900 + 99 + 1 = 1,000 exactly
        var frames: [HTTP2Frame] = []
        for n in 0..<70 {
            frames.append(client.headersFrame(UInt32(5 + 2 * n)))
            frames.append(HTTP2Frame(streamID: UInt32(5 + 2 * n), payload: .data(bytes: [UInt8](repeating: 0, count: 1_000), endStream: true, padding: nil)))
        }
        client.send(frames)
        #expect(client.read().goawayCode == .flowControlError)
    }

    static let violations: [(name: String, frames: @Sendable (TestClient) -> [HTTP2Frame], expect: HTTP2ErrorCode, connection: Bool)] = [
        ("even stream id", { [$0.headersFrame(2)] }, .protocolError, true),
        ("decreasing stream id", { [$0.headersFrame(5), $0.headersFrame(3)] }, .protocolError, true),
        ("DATA on idle stream", { _ in [HTTP2Frame(streamID: 7, payload: .data(bytes: [1], endStream: false, padding: nil))] }, .protocolError, true),
        ("RST_STREAM on idle stream", { _ in [HTTP2Frame(streamID: 7, payload: .rstStream(.cancel))] }, .protocolError, true),
        ("WINDOW_UPDATE on idle stream", { _ in [HTTP2Frame(streamID: 7, payload: .windowUpdate(increment: 1))] }, .protocolError, true),
        ("PUSH_PROMISE from a client", { [$0.headersFrame(1), HTTP2Frame(streamID: 1, payload: .pushPromise(promisedStreamID: 2, block: [], endHeaders: true, padding: nil))] }, .protocolError, true),
        ("frame inside a header block", { _ in [
            HTTP2Frame(streamID: 1, payload: .headers(block: [0x82], endStream: false, endHeaders: false, priority: nil, padding: nil)),
            HTTP2Frame(streamID: 0, payload: .ping(ack: false, opaque: 0))] }, .protocolError, true),
        ("CONTINUATION without HEADERS", { _ in [HTTP2Frame(streamID: 1, payload: .continuation(block: [], endHeaders: true))] }, .protocolError, true),
        ("HPACK garbage", { _ in [HTTP2Frame(streamID: 1, payload: .headers(block: [0xff, 0xff], endStream: true, endHeaders: true, priority: nil, padding: nil))] }, .compressionError, true),
        ("SETTINGS_INITIAL_WINDOW_SIZE over 2^31-1", { _ in [HTTP2Frame(streamID: 0, payload: .settings(ack: false, [HTTP2Setting(.initialWindowSize, 0x8000_0000)]))] }, .flowControlError, true),
        ("SETTINGS_MAX_FRAME_SIZE too small", { _ in [HTTP2Frame(streamID: 0, payload: .settings(ack: false, [HTTP2Setting(.maxFrameSize, 100)]))] }, .protocolError, true),
        ("SETTINGS_ENABLE_PUSH 2", { _ in [HTTP2Frame(streamID: 0, payload: .settings(ack: false, [HTTP2Setting(.enablePush, 2)]))] }, .protocolError, true),
        ("connection window overflow", { _ in [HTTP2Frame(streamID: 0, payload: .windowUpdate(increment: 0x7fff_ffff))] }, .flowControlError, true),
        ("stream window overflow", { [$0.headersFrame(1), HTTP2Frame(streamID: 1, payload: .windowUpdate(increment: 0x7fff_ffff))] }, .flowControlError, false),
        ("DATA after END_STREAM", { [$0.headersFrame(1, endStream: true), HTTP2Frame(streamID: 1, payload: .data(bytes: [1], endStream: false, padding: nil))] }, .streamClosed, false),
        ("upper-case header name", { [$0.headersFrame(1, extra: [HTTP2Header("X-Bad", "1")])] }, .protocolError, false),
        ("connection-specific header", { [$0.headersFrame(1, extra: [HTTP2Header("connection", "close")])] }, .protocolError, false),
        ("keep-alive header", { [$0.headersFrame(1, extra: [HTTP2Header("keep-alive", "1")])] }, .protocolError, false),
        ("pseudo-header after a regular field", { [$0.headersFrame(1, extra: [HTTP2Header(":status", "200")])] }, .protocolError, false),
        ("duplicate :path", { [HTTP2Frame(streamID: 1, payload: .headers(block: $0.block([HTTP2Header(":method", "GET"), HTTP2Header(":scheme", "http"), HTTP2Header(":path", "/a"), HTTP2Header(":path", "/b")]), endStream: true, endHeaders: true, priority: nil, padding: nil))] }, .protocolError, false),
        ("unknown pseudo-header", { [HTTP2Frame(streamID: 1, payload: .headers(block: $0.block([HTTP2Header(":method", "GET"), HTTP2Header(":scheme", "http"), HTTP2Header(":path", "/a"), HTTP2Header(":protocol", "x")]), endStream: true, endHeaders: true, priority: nil, padding: nil))] }, .protocolError, false),
        ("colon inside a header name", { [$0.headersFrame(1, extra: [HTTP2Header("x:y", "1")])] }, .protocolError, false),
        ("missing :path", { [HTTP2Frame(streamID: 1, payload: .headers(block: $0.block([HTTP2Header(":method", "GET"), HTTP2Header(":scheme", "http")]), endStream: true, endHeaders: true, priority: nil, padding: nil))] }, .protocolError, false),
        ("trailers without END_STREAM", { [$0.headersFrame(1), HTTP2Frame(streamID: 1, payload: .headers(block: $0.block([HTTP2Header("x", "y")]), endStream: false, endHeaders: true, priority: nil, padding: nil))] }, .protocolError, false),
        ("PRIORITY depending on itself", { _ in [HTTP2Frame(streamID: 9, payload: .unknown(type: 2, flags: 0, payload: [0, 0, 0, 9, 16]))] }, .protocolError, false),
    ]

    @Test("protocol violations get GOAWAY or RST_STREAM with the right code", arguments: 0..<violations.count)
    func violation(_ n: Int) {
        let c = Self.violations[n]
        var client = TestClient()
        client.handshake()
        client.send(c.frames(client))
        let frames = client.read()
        if c.connection {
            #expect(frames.goawayCode == c.expect, "\(c.name)")
            #expect(client.connection.isFinished, "\(c.name)")
        } else {
            #expect(frames.goawayCode == nil, "\(c.name)")
            #expect(frames.contains { $0.resetCode == c.expect }, "\(c.name)")
            #expect(!client.connection.isFinished, "\(c.name)")
        }
    }

    @Test("a self-dependent HEADERS priority resets the stream but keeps HPACK in sync")
    func selfDependentHeaders() {
        var client = TestClient()
        client.handshake()
        // Literal with incremental indexing: the block adds "x-k: v" to the dynamic table.
        let block = client.block([HTTP2Header(":method", "POST"), HTTP2Header(":scheme", "http"), HTTP2Header(":path", "/a.B/C")])
            + [0x40, 3] + Array("x-k".utf8) + [1] + Array("v".utf8)
        client.send(HTTP2Frame(streamID: 1, payload: .headers(block: block, endStream: true, endHeaders: true,
                                                              priority: HTTP2PriorityInfo(dependency: 1), padding: nil)))
        #expect(client.read().resetCode(1) == .protocolError)
        // Index 62 is the entry the reset stream's block inserted.
        let next = client.block([HTTP2Header(":method", "POST"), HTTP2Header(":scheme", "http"), HTTP2Header(":path", "/a.B/C")]) + [0xbe]
        let events = client.send(HTTP2Frame(streamID: 3, payload: .headers(block: next, endStream: true, endHeaders: true, priority: nil, padding: nil)))
        guard case .request(3, let headers, true)? = events.first else { Issue.record("\(events)"); return }
        #expect(headers.last == HTTP2Header("x-k", "v"))
    }

    @Test("PRIORITY is accepted and ignored, even for idle streams, and opens nothing")
    func priorityIgnored() {
        var client = TestClient()
        client.handshake()
        let events = client.send(HTTP2Frame(streamID: 9, payload: .priority(HTTP2PriorityInfo(dependency: 0, weight: 10))),
                                 client.headersFrame(3))
        #expect(events.count == 1)
        #expect(client.read().isEmpty)
    }
}
