import ElanusCore

/// One unary gRPC call as the transport hands it to a service: the method's path
/// (`/milvus.proto.milvus.MilvusService/Search`), the request metadata (lower-case names, as
/// HTTP/2 sends them), and the one request message, still serialized.
public struct GRPCCall: Sendable {
    public var path: String
    public var metadata: HTTPHeaders
    public var message: [UInt8]
    /// The client's numeric IP address.
    public var peer: String
    /// Cancelled when the client resets the stream or goes away, or past its `grpc-timeout`.
    public var cancellation: Cancellation

    public init(path: String, metadata: HTTPHeaders, message: [UInt8], peer: String, cancellation: Cancellation) {
        self.path = path
        self.metadata = metadata
        self.message = message
        self.peer = peer
        self.cancellation = cancellation
    }
}

/// A unary call's outcome: the response message (serialized) with status OK, or a gRPC status
/// code and message and no response.
public struct GRPCReply: Sendable {
    public var status: Int
    public var message: String
    public var payload: [UInt8]?

    public init(status: Int = 0, message: String = "", payload: [UInt8]?) {
        self.status = status
        self.message = message
        self.payload = payload
    }

    public static func ok(_ payload: [UInt8]) -> GRPCReply { GRPCReply(payload: payload) }

    public static func failure(_ status: Int, _ message: String) -> GRPCReply { GRPCReply(status: status, message: message, payload: nil) }
}

/// What answers gRPC calls on the shared port; the HTTP server knows only bytes and paths.
public protocol GRPCService: Sendable {
    func handle(_ call: GRPCCall) -> GRPCReply
}
