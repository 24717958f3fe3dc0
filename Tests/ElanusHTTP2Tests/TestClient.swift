@testable import ElanusHTTP2

/// A tiny HTTP/2 client for tests: it encodes frames the way a peer would and decodes what the
/// server wrote, so each test reads as a conversation.
struct TestClient {
    let connection: HTTP2Connection
    private var serverFrames = HTTP2FrameDecoder(maxFrameSize: HTTP2Constants.maxAllowedFrameSize)
    private var hpack = HPACKDecoder(maxTableSize: 65_536, maxHeaderListSize: 1 << 20)
    private let encoder = HPACKEncoder()

    init(limits: HTTP2Limits = HTTP2Limits(), clock: (() -> Duration)? = nil) {
        connection = HTTP2Connection(limits: limits, clock: clock)
    }

    /// Preface + empty SETTINGS (+ ACK of the server's); returns the events, draining output.
    @discardableResult
    mutating func handshake(settings: [HTTP2Setting] = []) -> [HTTP2Event] {
        var bytes = HTTP2Preface.bytes
        bytes += HTTP2FrameEncoder.encode(HTTP2Frame(streamID: 0, payload: .settings(ack: false, settings)))
        bytes += HTTP2FrameEncoder.encode(HTTP2Frame(streamID: 0, payload: .settings(ack: true, [])))
        let events = connection.feed(bytes)
        _ = read()
        return events
    }

    @discardableResult
    func send(_ frames: HTTP2Frame...) -> [HTTP2Event] { send(frames) }

    @discardableResult
    func send(_ frames: [HTTP2Frame]) -> [HTTP2Event] {
        var bytes: [UInt8] = []
        for frame in frames { HTTP2FrameEncoder.encode(frame, into: &bytes) }
        return connection.feed(bytes)
    }

    func headersFrame(_ id: UInt32, path: String = "/pkg.Service/Method", extra: [HTTP2Header] = [], endStream: Bool = false) -> HTTP2Frame {
        let headers = [HTTP2Header(":method", "POST"), HTTP2Header(":scheme", "http"), HTTP2Header(":path", path),
                       HTTP2Header(":authority", "localhost"), HTTP2Header("content-type", "application/grpc")] + extra
        return HTTP2Frame(streamID: id, payload: .headers(block: encoder.encode(headers), endStream: endStream, endHeaders: true, priority: nil, padding: nil))
    }

    func block(_ headers: [HTTP2Header]) -> [UInt8] { encoder.encode(headers) }

    /// Frames the server wrote since the last read, header blocks decoded into `headers`.
    mutating func read() -> [ServerFrame] {
        serverFrames.append(connection.takeOutput())
        var out: [ServerFrame] = []
        while let frame = try? serverFrames.nextFrame() {
            var headers: [HTTP2Header] = []
            if case .headers(let block, _, true, _, _) = frame.payload { headers = (try? hpack.decode(block).headers) ?? [] }
            out.append(ServerFrame(frame: frame, headers: headers))
        }
        return out
    }
}

struct ServerFrame {
    var frame: HTTP2Frame
    var headers: [HTTP2Header]

    var goawayCode: HTTP2ErrorCode? {
        if case .goaway(_, let code, _) = frame.payload { return code }
        return nil
    }
    var resetCode: HTTP2ErrorCode? {
        if case .rstStream(let code) = frame.payload { return code }
        return nil
    }
    var dataBytes: [UInt8]? {
        if case .data(let bytes, _, _) = frame.payload { return bytes }
        return nil
    }
    var endStream: Bool {
        switch frame.payload {
        case .data(_, let end, _), .headers(_, let end, _, _, _): end
        default: false
        }
    }
}

extension [ServerFrame] {
    var goawayCode: HTTP2ErrorCode? { compactMap(\.goawayCode).first }
    func resetCode(_ id: UInt32) -> HTTP2ErrorCode? { first { $0.frame.streamID == id && $0.resetCode != nil }?.resetCode }
    func data(_ id: UInt32) -> [UInt8] { filter { $0.frame.streamID == id }.compactMap(\.dataBytes).flatMap { $0 } }
}
