import Testing
@testable import ElanusHTTP2

/// Random input must never trap, and whatever the server writes back must be valid frames.
struct HTTP2FuzzTests {
    private func checkOutput(_ connection: HTTP2Connection) {
        var decoder = HTTP2FrameDecoder(maxFrameSize: HTTP2Constants.maxAllowedFrameSize)
        decoder.append(connection.takeOutput())
        do {
            while try decoder.nextFrame() != nil {}
        } catch {
            Issue.record("server wrote an invalid frame: \(error)")
        }
    }

    @Test("thousands of random frames after a valid handshake")
    func randomFrames() {
        var rng = SeededGenerator(seed: 0xE1A7)
        var client = TestClient()
        client.handshake()
        var connections = 1
        for round in 0..<5_000 {
            if client.connection.isFinished {
                client = TestClient()
                client.handshake()
                connections += 1
            }
            let type = UInt8.random(in: 0...10, using: &rng)
            let flags = UInt8.random(in: 0...255, using: &rng)
            let stream = [0, 1, 2, 3, 5, 7, UInt32(round | 1), 0x7fff_ffff].randomElement(using: &rng)!
            var payload = (0..<Int.random(in: 0..<24, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if type == 1 && Bool.random(using: &rng) {
                payload = client.block([HTTP2Header(":method", "POST"), HTTP2Header(":scheme", "http"), HTTP2Header(":path", "/a.B/C")])
            }
            var bytes: [UInt8] = []
            HTTP2FrameEncoder.appendHeader(length: payload.count, type: type, flags: flags, streamID: stream, to: &bytes)
            bytes += payload
            for event in client.connection.feed(bytes) {
                // Answer some requests so the send path is fuzzed too.
                if case .request(let id, _, _) = event {
                    try? client.connection.sendHeaders(streamID: id, headers: [HTTP2Header(":status", "200")])
                    try? client.connection.sendData(streamID: id, bytes: [UInt8](repeating: 7, count: 70_000), endStream: true)
                }
            }
            client.connection.consumed(streamID: stream, byteCount: Int.random(in: 0..<100, using: &rng))
            checkOutput(client.connection)
        }
        #expect(connections > 1)
    }

    @Test("random bytes after the preface, in random chunk sizes")
    func randomBytes() {
        var rng = SeededGenerator(seed: 99)
        for _ in 0..<300 {
            let connection = HTTP2Connection()
            var bytes = HTTP2Preface.bytes + HTTP2FrameEncoder.encode(HTTP2Frame(streamID: 0, payload: .settings(ack: false, [])))
            bytes += (0..<Int.random(in: 0..<400, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + Int.random(in: 1...64, using: &rng))
                _ = connection.feed(bytes[offset..<end])
                offset = end
            }
            checkOutput(connection)
        }
    }
}
