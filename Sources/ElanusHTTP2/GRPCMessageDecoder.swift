/// Reassembles gRPC length-prefixed messages (a 1-byte compressed flag, a 4-byte big-endian
/// length, then the message) from request DATA, however the frames split them.
///
/// Only the identity encoding is supported, so a set compressed flag is an INTERNAL error (the
/// gRPC spec's answer to a compressed message without a `grpc-encoding` we accepted). The size
/// limit is checked as soon as a prefix is read, before any of the message is buffered.
/// Not thread-safe; one per stream.
public struct GRPCMessageDecoder: Sendable {
    public static let prefixLength = 5
    public var maxMessageSize: Int

    private var buffer = ByteQueue()

    /// - Parameter maxMessageSize: the largest message accepted (gRPC's usual default is 4 MiB).
    public init(maxMessageSize: Int = 4 << 20) {
        self.maxMessageSize = maxMessageSize
    }

    /// Bytes held for a message not yet complete.
    public var bufferedByteCount: Int { buffer.count }

    public mutating func append(_ bytes: some Collection<UInt8>) {
        buffer.append(bytes)
    }

    /// The next complete message, or nil when more bytes are needed.
    public mutating func next() throws(GRPCStatus) -> [UInt8]? {
        guard buffer.count >= Self.prefixLength else { return nil }
        let flag = buffer[0]
        guard flag == 0 else {
            throw GRPCStatus(.internal, flag == 1 ? "compressed message without a supported grpc-encoding" : "invalid message flag \(flag)")
        }
        let length = Int(buffer.uint32(at: 1))
        guard length <= maxMessageSize else {
            throw GRPCStatus(.resourceExhausted, "message of \(length) bytes exceeds the limit of \(maxMessageSize)")
        }
        guard buffer.count - Self.prefixLength >= length else { return nil }
        buffer.discard(Self.prefixLength)
        return buffer.take(length)
    }

    /// Appends `bytes` and returns every message they complete.
    public mutating func decode(_ bytes: some Collection<UInt8>) throws(GRPCStatus) -> [[UInt8]] {
        append(bytes)
        var messages: [[UInt8]] = []
        while let message = try next() { messages.append(message) }
        return messages
    }

    /// Call at END_STREAM: a partial message left over means the request was cut short.
    public func finish() throws(GRPCStatus) {
        if bufferedByteCount > 0 { throw GRPCStatus(.internal, "request ended inside a message") }
    }
}
