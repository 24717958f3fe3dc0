/// What the server calls for each complete request. Handlers run on the server's worker threads
/// and may block; they must be safe to call from several threads at once.
public protocol HTTPHandler: Sendable {
    func handle(_ request: HTTPRequest) -> HTTPResponse
}

/// A handler made from a closure.
public struct HTTPHandlerFunction: HTTPHandler {
    let body: @Sendable (HTTPRequest) -> HTTPResponse
    public init(_ body: @escaping @Sendable (HTTPRequest) -> HTTPResponse) { self.body = body }
    public func handle(_ request: HTTPRequest) -> HTTPResponse { body(request) }
}
