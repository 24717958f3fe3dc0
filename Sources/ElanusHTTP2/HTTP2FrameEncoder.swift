/// Serializes frames to wire bytes (RFC 9113 §4.1, §6).
///
/// The encoder trusts its input: splitting header blocks and DATA to the peer's
/// SETTINGS_MAX_FRAME_SIZE is the connection's job, because only it knows that size.
public enum HTTP2FrameEncoder {
    public static func encode(_ frame: HTTP2Frame) -> [UInt8] {
        var out: [UInt8] = []
        encode(frame, into: &out)
        return out
    }

    public static func encode(_ frame: HTTP2Frame, into out: inout [UInt8]) {
        var flags = HTTP2FrameFlags()
        var body: [UInt8] = []
        let type: UInt8
        switch frame.payload {
        case .data(let bytes, let endStream, let padding):
            type = HTTP2FrameType.data.rawValue
            if endStream { flags.insert(.endStream) }
            body = padded(bytes, padding, &flags)
        case .headers(let block, let endStream, let endHeaders, let priority, let padding):
            type = HTTP2FrameType.headers.rawValue
            if endStream { flags.insert(.endStream) }
            if endHeaders { flags.insert(.endHeaders) }
            var inner: [UInt8] = []
            if let priority {
                flags.insert(.priority)
                appendPriority(priority, to: &inner)
            }
            inner.append(contentsOf: block)
            body = padded(inner, padding, &flags)
        case .priority(let info):
            type = HTTP2FrameType.priority.rawValue
            appendPriority(info, to: &body)
        case .rstStream(let code):
            type = HTTP2FrameType.rstStream.rawValue
            appendUInt32(code.rawValue, to: &body)
        case .settings(let ack, let settings):
            type = HTTP2FrameType.settings.rawValue
            if ack { flags.insert(.ack) }
            for setting in settings {
                body.append(UInt8(setting.id.rawValue >> 8))
                body.append(UInt8(setting.id.rawValue & 0xff))
                appendUInt32(setting.value, to: &body)
            }
        case .pushPromise(let promised, let block, let endHeaders, let padding):
            type = HTTP2FrameType.pushPromise.rawValue
            if endHeaders { flags.insert(.endHeaders) }
            var inner: [UInt8] = []
            appendUInt32(promised & HTTP2Constants.maxStreamID, to: &inner)
            inner.append(contentsOf: block)
            body = padded(inner, padding, &flags)
        case .ping(let ack, let opaque):
            type = HTTP2FrameType.ping.rawValue
            if ack { flags.insert(.ack) }
            appendUInt32(UInt32(opaque >> 32), to: &body)
            appendUInt32(UInt32(opaque & 0xffff_ffff), to: &body)
        case .goaway(let last, let code, let debugData):
            type = HTTP2FrameType.goaway.rawValue
            appendUInt32(last & HTTP2Constants.maxStreamID, to: &body)
            appendUInt32(code.rawValue, to: &body)
            body.append(contentsOf: debugData)
        case .windowUpdate(let increment):
            type = HTTP2FrameType.windowUpdate.rawValue
            appendUInt32(increment & HTTP2Constants.maxStreamID, to: &body)
        case .continuation(let block, let endHeaders):
            type = HTTP2FrameType.continuation.rawValue
            if endHeaders { flags.insert(.endHeaders) }
            body = block
        case .unknown(let rawType, let rawFlags, let payload):
            type = rawType
            flags = HTTP2FrameFlags(rawValue: rawFlags)
            body = payload
        }
        appendHeader(length: body.count, type: type, flags: flags.rawValue, streamID: frame.streamID, to: &out)
        out.append(contentsOf: body)
    }

    /// Writes a 9-byte frame header; `length` must fit in 24 bits.
    static func appendHeader(length: Int, type: UInt8, flags: UInt8, streamID: UInt32, to out: inout [UInt8]) {
        out.append(UInt8(truncatingIfNeeded: length >> 16))
        out.append(UInt8(truncatingIfNeeded: length >> 8))
        out.append(UInt8(truncatingIfNeeded: length))
        out.append(type)
        out.append(flags)
        appendUInt32(streamID & HTTP2Constants.maxStreamID, to: &out)
    }

    private static func padded(_ bytes: [UInt8], _ padding: UInt8?, _ flags: inout HTTP2FrameFlags) -> [UInt8] {
        guard let padding else { return bytes }
        flags.insert(.padded)
        var out: [UInt8] = [padding]
        out.append(contentsOf: bytes)
        out.append(contentsOf: repeatElement(0, count: Int(padding)))
        return out
    }

    private static func appendPriority(_ info: HTTP2PriorityInfo, to out: inout [UInt8]) {
        appendUInt32((info.dependency & HTTP2Constants.maxStreamID) | (info.exclusive ? 0x8000_0000 : 0), to: &out)
        out.append(info.weight)
    }
}

@inline(__always)
func appendUInt32(_ value: UInt32, to out: inout [UInt8]) {
    out.append(UInt8(value >> 24))
    out.append(UInt8(truncatingIfNeeded: value >> 16))
    out.append(UInt8(truncatingIfNeeded: value >> 8))
    out.append(UInt8(truncatingIfNeeded: value))
}
