import ElanusHTTP2
import Foundation
import Glibc
import SwiftProtobuf

/// The benchmark's gRPC client: one HTTP/2 connection over a blocking socket, one unary call at a
/// time, written from the same frame and HPACK code the server uses, so that the gRPC figures
/// are measured with a client as lean as the REST load generator's. It opens a large receive
/// window at once and returns credit as answers arrive, and honours the server's windows when
/// it sends, so big inserts and big answers both flow.
final class GRPCBenchClient {
    struct CallError: Error, CustomStringConvertible {
        var description: String
    }

    private let fd: Int32
    private var decoder = HTTP2FrameDecoder(maxFrameSize: HTTP2Constants.defaultMaxFrameSize)
    private var hpack = HPACKDecoder()
    private let encoder = HPACKEncoder(useHuffman: false)
    private var nextStream: UInt32 = 1
    private var sendWindow = 65_535
    private var streamSendWindow = 65_535
    private var peerInitialWindow = 65_535
    private var peerMaxFrame = HTTP2Constants.defaultMaxFrameSize
    private var received = 0
    /// One receive buffer for the connection's life (not a fresh one per read).
    private var readBuffer = [UInt8](repeating: 0, count: 256 << 10)
    private let authority: String

    init(port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CallError(description: "socket failed") }
        self.fd = fd
        authority = "127.0.0.1:\(port)"
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { throw CallError(description: "connect failed: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var out = HTTP2Preface.bytes
        HTTP2FrameEncoder.encode(
            HTTP2Frame(streamID: 0, payload: .settings(ack: false, [HTTP2Setting(.initialWindowSize, 1 << 30), HTTP2Setting(.enablePush, 0)])), into: &out)
        HTTP2FrameEncoder.encode(HTTP2Frame(streamID: 0, payload: .windowUpdate(increment: (1 << 30) - 65_535)), into: &out)
        try write(out)
    }

    deinit { close(fd) }

    /// One unary call: the request message in, the response message out (a non-OK grpc-status throws).
    func call<Response: SwiftProtobuf.Message>(_ path: String, _ request: some SwiftProtobuf.Message, as _: Response.Type) throws -> Response {
        try Response(serializedBytes: call(path, serialized: try request.serializedBytes()))
    }

    /// One unary call with the request already serialized, returning the response still
    /// serialized: the timed phases encode before and decode after, as the REST load generator
    /// sends prebuilt bodies and only checks the answer's code, so the client costs the same.
    func call(_ path: String, serialized: [UInt8]) throws -> [UInt8] {
        let stream = nextStream
        nextStream += 2
        let headers = [
            HTTP2Header(":method", "POST"), HTTP2Header(":scheme", "http"), HTTP2Header(":path", path), HTTP2Header(":authority", authority),
            HTTP2Header("content-type", "application/grpc"), HTTP2Header("te", "trailers"),
        ]
        // HEADERS and the DATA that fits go out in one write, as gRPC's own clients coalesce them.
        var out: [UInt8] = []
        HTTP2FrameEncoder.encode(
            HTTP2Frame(streamID: stream, payload: .headers(block: encoder.encode(headers), endStream: false, endHeaders: true, priority: nil, padding: nil)),
            into: &out)
        let message = GRPCMessageEncoder.encode(serialized)
        streamSendWindow = peerInitialWindow
        var offset = 0
        while offset < message.count {
            if min(sendWindow, streamSendWindow) <= 0 {
                try write(out)
                out.removeAll(keepingCapacity: true)
                while min(sendWindow, streamSendWindow) <= 0 { try readFrame(stream: stream, body: nil) }
            }
            let size = min(message.count - offset, peerMaxFrame, sendWindow, streamSendWindow)
            let end = offset + size
            HTTP2FrameEncoder.encode(
                HTTP2Frame(streamID: stream, payload: .data(bytes: Array(message[offset..<end]), endStream: end == message.count, padding: nil)), into: &out)
            sendWindow -= size
            streamSendWindow -= size
            offset = end
        }
        try write(out)
        var body: [UInt8] = []
        var status: String?
        var statusMessage = ""
        while status == nil {
            if let trailers = try readFrame(stream: stream, body: &body) {
                status = trailers.first("grpc-status")
                statusMessage = trailers.first("grpc-message") ?? ""
            }
        }
        guard status == "0" else { throw CallError(description: "\(path): grpc-status \(status ?? "?") \(GRPCPercentEncoding.decode(statusMessage))") }
        var messages = GRPCMessageDecoder(maxMessageSize: 1 << 30)
        guard let bytes = try messages.decode(body).first else { throw CallError(description: "\(path): no response message") }
        return bytes
    }

    /// Reads one frame; returns the headers that ended `stream`, if this frame did.
    @discardableResult
    private func readFrame(stream: UInt32, body: UnsafeMutablePointer<[UInt8]>?) throws -> [HTTP2Header]? {
        while true {
            if let frame = try decoder.nextFrame() { return try handle(frame, stream: stream, body: body) }
            let n = readBuffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            guard n > 0 else { throw CallError(description: "the server closed the connection") }
            decoder.append(readBuffer[0..<n])
        }
    }

    private func readFrame(stream: UInt32, body: inout [UInt8]) throws -> [HTTP2Header]? {
        try withUnsafeMutablePointer(to: &body) { try readFrame(stream: stream, body: $0) }
    }

    private func handle(_ frame: HTTP2Frame, stream: UInt32, body: UnsafeMutablePointer<[UInt8]>?) throws -> [HTTP2Header]? {
        switch frame.payload {
        case .settings(let ack, let settings):
            guard !ack else { return nil }
            for setting in settings {
                if setting.id == .initialWindowSize {
                    streamSendWindow += Int(setting.value) - peerInitialWindow
                    peerInitialWindow = Int(setting.value)
                }
                if setting.id == .maxFrameSize { peerMaxFrame = Int(setting.value) }
            }
            try write(HTTP2FrameEncoder.encode(HTTP2Frame(streamID: 0, payload: .settings(ack: true, []))))
        case .ping(let ack, let opaque):
            if !ack { try write(HTTP2FrameEncoder.encode(HTTP2Frame(streamID: 0, payload: .ping(ack: true, opaque: opaque)))) }
        case .windowUpdate(let increment):
            if frame.streamID == 0 { sendWindow += Int(increment) } else if frame.streamID == stream { streamSendWindow += Int(increment) }
        case .data(let bytes, let endStream, _):
            if frame.streamID == stream { body?.pointee += bytes }
            received += frame.flowControlledLength
            // Give the credit back in large steps: a window of 1 GiB is never in danger.
            if received > 256 << 20 {
                try write(HTTP2FrameEncoder.encode(HTTP2Frame(streamID: 0, payload: .windowUpdate(increment: UInt32(received)))))
                received = 0
            }
            if endStream && frame.streamID == stream { return [HTTP2Header("grpc-status", "13"), HTTP2Header("grpc-message", "no trailers")] }
        case .headers(let block, let endStream, _, _, _):
            let decoded = try hpack.decode(block).headers
            if endStream && frame.streamID == stream { return decoded }
        case .goaway(_, let code, let debug):
            throw CallError(description: "GOAWAY \(code): \(String(decoding: debug, as: UTF8.self))")
        case .rstStream(let code):
            if frame.streamID == stream { throw CallError(description: "RST_STREAM \(code)") }
        default:
            break
        }
        return nil
    }

    private func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw CallError(description: "send failed: errno \(errno)") }
            offset += n
        }
    }
}
