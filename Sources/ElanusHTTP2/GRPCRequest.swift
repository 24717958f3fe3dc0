/// A validated gRPC call head: which method, its deadline and its custom metadata.
public struct GRPCRequest: Equatable, Sendable {
    /// Fully qualified service, e.g. "milvus.proto.milvus.MilvusService".
    public var service: String
    public var method: String
    public var timeout: GRPCTimeout?
    /// Request headers other than pseudo-headers and the gRPC/HTTP fields read here.
    public var metadata: [HTTP2Header]

    /// How a request that is not an acceptable gRPC call must be answered.
    public enum Rejection: Error, Equatable, Sendable {
        /// Not gRPC at all: answer with this HTTP status and no gRPC trailers (the gRPC spec
        /// asks for 415 on a wrong content-type so non-gRPC clients understand).
        case http(status: Int, reason: String)
        /// gRPC, but not servable: answer trailers-only with this status.
        case grpc(GRPCStatus)
    }

    private static let consumedHeaders: Set<String> = [
        "content-type", "te", "grpc-timeout", "grpc-encoding", "grpc-accept-encoding", "user-agent", "content-length",
    ]

    /// Validates request headers as a gRPC call.
    public static func validate(_ headers: [HTTP2Header]) -> Result<GRPCRequest, Rejection> {
        guard headers.first(":method") == "POST" else { return .failure(.http(status: 405, reason: "gRPC requires POST")) }
        guard let contentType = headers.first("content-type"), isGRPCContentType(contentType) else {
            return .failure(.http(status: 415, reason: "content-type is not application/grpc"))
        }
        if let encoding = headers.first("grpc-encoding"), encoding != "identity" {
            return .failure(.grpc(GRPCStatus(.unimplemented, "grpc-encoding \(encoding) is not supported; use identity")))
        }
        // grpc-accept-encoding only lists what the client could decode; identity always works,
        // so it needs no check: we never compress.
        guard let path = headers.first(":path"), let (service, method) = splitPath(path) else {
            return .failure(.grpc(GRPCStatus(.unimplemented, "malformed method name: \(headers.first(":path") ?? "")")))
        }
        var timeout: GRPCTimeout?
        if let value = headers.first("grpc-timeout") {
            guard let parsed = GRPCTimeout(headerValue: value) else {
                return .failure(.grpc(GRPCStatus(.internal, "malformed grpc-timeout: \(value)")))
            }
            timeout = parsed
        }
        let metadata = headers.filter { !$0.name.hasPrefix(":") && !consumedHeaders.contains($0.name) }
        return .success(GRPCRequest(service: service, method: method, timeout: timeout, metadata: metadata))
    }

    /// "application/grpc", optionally followed by "+format" or ";parameters".
    public static func isGRPCContentType(_ value: String) -> Bool {
        let prefix = "application/grpc".utf8
        let bytes = value.utf8
        guard bytes.count >= prefix.count else { return false }
        // Compared byte by byte, ASCII letters folded: no lower-cased copy per request.
        var index = bytes.startIndex
        for expected in prefix {
            let byte = bytes[index]
            guard (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte) == expected else { return false }
            index = bytes.index(after: index)
        }
        return index == bytes.endIndex || bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: ";")
    }

    /// "/package.Service/Method" -> ("package.Service", "Method").
    static func splitPath(_ path: String) -> (String, String)? {
        let bytes = path.utf8
        guard bytes.first == UInt8(ascii: "/") else { return nil }
        let rest = bytes.dropFirst()
        guard let slash = rest.firstIndex(of: UInt8(ascii: "/")) else { return nil }
        let service = rest[..<slash]
        let method = rest[bytes.index(after: slash)...]
        guard !service.isEmpty, !method.isEmpty, !method.contains(UInt8(ascii: "/")) else { return nil }
        return (String(Substring(service)), String(Substring(method)))
    }
}
