/// Frames gRPC messages with the 5-byte length prefix (uncompressed: identity only).
public enum GRPCMessageEncoder {
    public static func encode(_ message: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        encode(message, into: &out)
        return out
    }

    public static func encode(_ message: some Collection<UInt8>, into out: inout [UInt8]) {
        out.reserveCapacity(out.count + GRPCMessageDecoder.prefixLength + message.count)
        out.append(0)
        appendUInt32(UInt32(clamping: message.count), to: &out)
        out.append(contentsOf: message)
    }
}
