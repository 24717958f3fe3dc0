/// Builds the header blocks of a gRPC response: headers, DATA, then trailers — or, when the
/// call fails before any message, one trailers-only block that ends the stream.
public enum GRPCResponseHeaders {
    /// Response headers: `:status 200` then `content-type` (pseudo-headers must come first).
    public static func headers(metadata: [HTTP2Header] = []) -> [HTTP2Header] {
        [HTTP2Header(":status", "200"), HTTP2Header("content-type", "application/grpc"),
         HTTP2Header("grpc-accept-encoding", "identity")] + metadata
    }

    /// Trailers: `grpc-status`, and `grpc-message` percent-encoded when there is a message.
    public static func trailers(_ status: GRPCStatus, metadata: [HTTP2Header] = []) -> [HTTP2Header] {
        var out = [HTTP2Header("grpc-status", String(status.code.rawValue))]
        if !status.message.isEmpty { out.append(HTTP2Header("grpc-message", GRPCPercentEncoding.encode(status.message))) }
        return out + metadata
    }

    /// Trailers-only: the whole response in one HEADERS frame with END_STREAM.
    public static func trailersOnly(_ status: GRPCStatus, metadata: [HTTP2Header] = []) -> [HTTP2Header] {
        headers() + trailers(status, metadata: metadata)
    }

    /// A plain HTTP answer for requests that are not gRPC (see `GRPCRequest.Rejection.http`).
    public static func httpError(status: Int) -> [HTTP2Header] {
        [HTTP2Header(":status", String(status)), HTTP2Header("content-type", "text/plain; charset=utf-8")]
    }

    /// The status a client reads from trailers (or a trailers-only block).
    public static func status(fromTrailers trailers: [HTTP2Header]) -> GRPCStatus? {
        guard let code = trailers.first("grpc-status") else { return nil }
        return GRPCStatus(GRPCStatus.code(fromHeader: code), trailers.first("grpc-message").map(GRPCPercentEncoding.decode) ?? "")
    }
}
