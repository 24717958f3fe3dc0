import Testing
@testable import ElanusHTTP2

struct HTTP2FrameTests {
    static let samples: [HTTP2Frame] = [
        HTTP2Frame(streamID: 1, payload: .data(bytes: [1, 2, 3], endStream: true, padding: nil)),
        HTTP2Frame(streamID: 3, payload: .data(bytes: [9], endStream: false, padding: 4)),
        HTTP2Frame(streamID: 5, payload: .headers(block: [0x82, 0x86], endStream: false, endHeaders: true, priority: nil, padding: nil)),
        HTTP2Frame(streamID: 7, payload: .headers(block: [0x82], endStream: true, endHeaders: false,
                                                  priority: HTTP2PriorityInfo(exclusive: true, dependency: 3, weight: 200), padding: 2)),
        HTTP2Frame(streamID: 9, payload: .priority(HTTP2PriorityInfo(exclusive: false, dependency: 1, weight: 0))),
        HTTP2Frame(streamID: 11, payload: .rstStream(.cancel)),
        HTTP2Frame(streamID: 0, payload: .settings(ack: false, [HTTP2Setting(.maxConcurrentStreams, 100), HTTP2Setting(HTTP2SettingID(rawValue: 0x99), 7)])),
        HTTP2Frame(streamID: 0, payload: .settings(ack: true, [])),
        HTTP2Frame(streamID: 1, payload: .pushPromise(promisedStreamID: 2, block: [0x82], endHeaders: true, padding: 1)),
        HTTP2Frame(streamID: 0, payload: .ping(ack: true, opaque: 0x0102_0304_0506_0708)),
        HTTP2Frame(streamID: 0, payload: .goaway(lastStreamID: 13, code: .enhanceYourCalm, debugData: Array("calm".utf8))),
        HTTP2Frame(streamID: 0, payload: .windowUpdate(increment: 65_535)),
        HTTP2Frame(streamID: 3, payload: .continuation(block: [1, 2], endHeaders: true)),
        HTTP2Frame(streamID: 3, payload: .unknown(type: 0xfa, flags: 0x3, payload: [7, 7])),
    ]

    @Test("every frame type round-trips, whole and byte by byte")
    func roundTrip() throws {
        var wire: [UInt8] = []
        for frame in Self.samples { HTTP2FrameEncoder.encode(frame, into: &wire) }
        var whole = HTTP2FrameDecoder()
        whole.append(wire)
        var decoded: [HTTP2Frame] = []
        while let frame = try whole.nextFrame() { decoded.append(frame) }
        #expect(decoded == Self.samples)

        var trickle = HTTP2FrameDecoder()
        decoded = []
        for byte in wire {
            trickle.append([byte])
            while let frame = try trickle.nextFrame() { decoded.append(frame) }
        }
        #expect(decoded == Self.samples)
        #expect(trickle.bufferedByteCount == 0)
    }

    @Test("flow-controlled length counts padding and the pad-length octet")
    func flowControlledLength() {
        #expect(Self.samples[1].flowControlledLength == 1 + 4 + 1)
        #expect(Self.samples[0].flowControlledLength == 3)
        #expect(Self.samples[2].flowControlledLength == 0)
    }

    static let invalid: [(type: UInt8, flags: UInt8, stream: UInt32, payload: [UInt8], error: HTTP2ProtocolError)] = [
        (0, 0, 0, [1], .connection(.protocolError, "")),
        (0, 0x8, 1, [5, 1, 2], .connection(.protocolError, "")),
        (1, 0x20, 1, [0, 0], .connection(.frameSizeError, "")),
        (2, 0, 1, [0, 0, 0, 0], .stream(1, .frameSizeError, "")),
        (2, 0, 3, [0, 0, 0, 3, 9], .stream(3, .protocolError, "")),
        (3, 0, 1, [0, 0, 0], .connection(.frameSizeError, "")),
        (4, 0, 1, [], .connection(.protocolError, "")),
        (4, 1, 0, [0, 1, 0, 0, 0, 1], .connection(.frameSizeError, "")),
        (4, 0, 0, [0, 1, 0], .connection(.frameSizeError, "")),
        (6, 0, 0, [0, 1], .connection(.frameSizeError, "")),
        (7, 0, 0, [0, 0, 0], .connection(.frameSizeError, "")),
        (8, 0, 1, [0, 0, 0, 0], .stream(1, .protocolError, "")),
        (8, 0, 0, [0, 0, 0, 0], .connection(.protocolError, "")),
        (9, 0, 0, [], .connection(.protocolError, "")),
    ]

    @Test("frame-local violations get the RFC 9113 error kind and code", arguments: 0..<invalid.count)
    func invalidFrames(_ n: Int) {
        let c = Self.invalid[n]
        do {
            _ = try HTTP2FrameDecoder.parse(type: c.type, flags: c.flags, streamID: c.stream, payload: c.payload[...])
            Issue.record("case \(n) parsed")
        } catch {
            switch (error, c.error) {
            case (.connection(let a, _), .connection(let b, _)): #expect(a == b, "case \(n)")
            case (.stream(let s1, let a, _), .stream(let s2, let b, _)): #expect(a == b && s1 == s2, "case \(n)")
            default: Issue.record("case \(n): got \(error)")
            }
        }
    }

    @Test("a length above SETTINGS_MAX_FRAME_SIZE fails before the payload arrives")
    func oversizedFrame() {
        var decoder = HTTP2FrameDecoder(maxFrameSize: 16_384)
        decoder.append([0x00, 0x40, 0x01, 0x0, 0x0, 0, 0, 0, 1])  // 16385 bytes announced
        #expect(throws: HTTP2ProtocolError.self) { try decoder.nextFrame() }
    }
}
