/// Cuts a byte stream into frames (RFC 9113 §4.1) and checks each frame's own rules (§6).
///
/// Checks here are the ones a frame can fail on its own: length against SETTINGS_MAX_FRAME_SIZE,
/// fixed lengths, stream 0 versus non-zero, padding. Rules that need connection or stream state
/// live in `HTTP2Connection`. A frame that fails with a stream error is consumed before the
/// error is thrown, so the caller can reset that stream and keep reading.
///
/// Not thread-safe; owned by one connection.
public struct HTTP2FrameDecoder: Sendable {
    /// The largest payload we accept: the value we advertised in SETTINGS_MAX_FRAME_SIZE.
    public var maxFrameSize: Int

    private var buffer = ByteQueue()

    public init(maxFrameSize: Int = HTTP2Constants.defaultMaxFrameSize) {
        self.maxFrameSize = maxFrameSize
    }

    /// Bytes received but not yet returned as frames; once `nextFrame()` returns nil, at most
    /// one partial frame.
    public var bufferedByteCount: Int { buffer.count }

    public mutating func append(_ bytes: some Collection<UInt8>) {
        buffer.append(bytes)
    }

    /// The next complete frame, or nil when more bytes are needed.
    public mutating func nextFrame() throws(HTTP2ProtocolError) -> HTTP2Frame? {
        guard buffer.count >= HTTP2Constants.frameHeaderLength else { return nil }
        let length = Int(buffer[0]) << 16 | Int(buffer[1]) << 8 | Int(buffer[2])
        let type = buffer[3]
        let flags = buffer[4]
        let streamID = buffer.uint32(at: 5) & HTTP2Constants.maxStreamID
        // Checked before waiting for the payload, so an oversized length never makes us buffer it.
        guard length <= maxFrameSize else {
            throw .connection(.frameSizeError, "frame of \(length) bytes exceeds SETTINGS_MAX_FRAME_SIZE \(maxFrameSize)")
        }
        guard buffer.count >= HTTP2Constants.frameHeaderLength + length else { return nil }
        let payload = buffer.slice(HTTP2Constants.frameHeaderLength, length)
        buffer.discard(HTTP2Constants.frameHeaderLength + length)
        return try Self.parse(type: type, flags: flags, streamID: streamID, payload: payload)
    }

    /// Parses one frame payload whose header has already been read.
    public static func parse(
        type rawType: UInt8, flags rawFlags: UInt8, streamID: UInt32, payload: ArraySlice<UInt8>
    ) throws(HTTP2ProtocolError) -> HTTP2Frame {
        let flags = HTTP2FrameFlags(rawValue: rawFlags)
        guard let type = HTTP2FrameType(rawValue: rawType) else {
            return HTTP2Frame(streamID: streamID, payload: .unknown(type: rawType, flags: rawFlags, payload: Array(payload)))
        }
        switch type {
        case .data:
            try requireStream(streamID, type)
            let (body, padding) = try stripPadding(payload, flags)
            return HTTP2Frame(streamID: streamID, payload: .data(bytes: Array(body), endStream: flags.contains(.endStream), padding: padding))
        case .headers:
            try requireStream(streamID, type)
            var (body, padding) = try stripPadding(payload, flags)
            var priority: HTTP2PriorityInfo?
            if flags.contains(.priority) {
                guard body.count >= 5 else { throw .connection(.frameSizeError, "HEADERS too short for its priority fields") }
                // A self-dependency here is judged by the connection after the block is
                // decoded: throwing now would skip the block and desynchronise HPACK.
                priority = try parsePriority(body.prefix(5), streamID: streamID, rejectSelfDependency: false)
                body = body.dropFirst(5)
            }
            return HTTP2Frame(streamID: streamID, payload: .headers(
                block: Array(body), endStream: flags.contains(.endStream), endHeaders: flags.contains(.endHeaders),
                priority: priority, padding: padding))
        case .priority:
            try requireStream(streamID, type)
            guard payload.count == 5 else { throw .stream(streamID, .frameSizeError, "PRIORITY length \(payload.count) is not 5") }
            return HTTP2Frame(streamID: streamID, payload: .priority(try parsePriority(payload, streamID: streamID)))
        case .rstStream:
            try requireStream(streamID, type)
            guard payload.count == 4 else { throw .connection(.frameSizeError, "RST_STREAM length \(payload.count) is not 4") }
            return HTTP2Frame(streamID: streamID, payload: .rstStream(HTTP2ErrorCode(rawValue: readUInt32(payload, payload.startIndex))))
        case .settings:
            try requireConnection(streamID, type)
            let ack = flags.contains(.ack)
            if ack && !payload.isEmpty { throw .connection(.frameSizeError, "SETTINGS ACK with a payload") }
            guard payload.count % 6 == 0 else { throw .connection(.frameSizeError, "SETTINGS length \(payload.count) is not a multiple of 6") }
            var settings: [HTTP2Setting] = []
            settings.reserveCapacity(payload.count / 6)
            var i = payload.startIndex
            while i < payload.endIndex {
                let id = UInt16(payload[i]) << 8 | UInt16(payload[i + 1])
                settings.append(HTTP2Setting(HTTP2SettingID(rawValue: id), readUInt32(payload, i + 2)))
                i += 6
            }
            return HTTP2Frame(streamID: streamID, payload: .settings(ack: ack, settings))
        case .pushPromise:
            try requireStream(streamID, type)
            let (body, padding) = try stripPadding(payload, flags)
            guard body.count >= 4 else { throw .connection(.frameSizeError, "PUSH_PROMISE too short") }
            let promised = readUInt32(body, body.startIndex) & HTTP2Constants.maxStreamID
            return HTTP2Frame(streamID: streamID, payload: .pushPromise(
                promisedStreamID: promised, block: Array(body.dropFirst(4)), endHeaders: flags.contains(.endHeaders), padding: padding))
        case .ping:
            try requireConnection(streamID, type)
            guard payload.count == 8 else { throw .connection(.frameSizeError, "PING length \(payload.count) is not 8") }
            let opaque = UInt64(readUInt32(payload, payload.startIndex)) << 32 | UInt64(readUInt32(payload, payload.startIndex + 4))
            return HTTP2Frame(streamID: streamID, payload: .ping(ack: flags.contains(.ack), opaque: opaque))
        case .goaway:
            try requireConnection(streamID, type)
            guard payload.count >= 8 else { throw .connection(.frameSizeError, "GOAWAY shorter than 8 bytes") }
            let last = readUInt32(payload, payload.startIndex) & HTTP2Constants.maxStreamID
            let code = HTTP2ErrorCode(rawValue: readUInt32(payload, payload.startIndex + 4))
            return HTTP2Frame(streamID: streamID, payload: .goaway(lastStreamID: last, code: code, debugData: Array(payload.dropFirst(8))))
        case .windowUpdate:
            guard payload.count == 4 else { throw .connection(.frameSizeError, "WINDOW_UPDATE length \(payload.count) is not 4") }
            let increment = readUInt32(payload, payload.startIndex) & HTTP2Constants.maxStreamID
            if increment == 0 {
                // §6.9: a zero increment is a stream error, or a connection error on stream 0.
                if streamID == 0 { throw .connection(.protocolError, "WINDOW_UPDATE with increment 0") }
                throw .stream(streamID, .protocolError, "WINDOW_UPDATE with increment 0")
            }
            return HTTP2Frame(streamID: streamID, payload: .windowUpdate(increment: increment))
        case .continuation:
            try requireStream(streamID, type)
            return HTTP2Frame(streamID: streamID, payload: .continuation(block: Array(payload), endHeaders: flags.contains(.endHeaders)))
        }
    }

    private static func requireStream(_ streamID: UInt32, _ type: HTTP2FrameType) throws(HTTP2ProtocolError) {
        if streamID == 0 { throw .connection(.protocolError, "\(type) frame on stream 0") }
    }

    private static func requireConnection(_ streamID: UInt32, _ type: HTTP2FrameType) throws(HTTP2ProtocolError) {
        if streamID != 0 { throw .connection(.protocolError, "\(type) frame on stream \(streamID)") }
    }

    /// Removes the pad-length octet and the padding (§6.1); padding that covers the whole
    /// payload is a connection PROTOCOL_ERROR.
    private static func stripPadding(
        _ payload: ArraySlice<UInt8>, _ flags: HTTP2FrameFlags
    ) throws(HTTP2ProtocolError) -> (ArraySlice<UInt8>, UInt8?) {
        guard flags.contains(.padded) else { return (payload, nil) }
        guard let padLength = payload.first else { throw .connection(.frameSizeError, "PADDED frame without a pad length") }
        let rest = payload.dropFirst()
        guard Int(padLength) <= rest.count else {
            throw .connection(.protocolError, "padding of \(padLength) exceeds the frame payload")
        }
        return (rest.dropLast(Int(padLength)), padLength)
    }

    private static func parsePriority(
        _ bytes: ArraySlice<UInt8>, streamID: UInt32, rejectSelfDependency: Bool = true
    ) throws(HTTP2ProtocolError) -> HTTP2PriorityInfo {
        let word = readUInt32(bytes, bytes.startIndex)
        let info = HTTP2PriorityInfo(
            exclusive: word & 0x8000_0000 != 0, dependency: word & HTTP2Constants.maxStreamID, weight: bytes[bytes.startIndex + 4])
        if rejectSelfDependency && info.dependency == streamID { throw .stream(streamID, .protocolError, "stream \(streamID) depends on itself") }
        return info
    }
}

/// Big-endian 32-bit read; callers have already checked that four bytes are there.
@inline(__always)
func readUInt32<C: Collection<UInt8>>(_ bytes: C, _ at: C.Index) -> UInt32 where C.Index == Int {
    UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
}
