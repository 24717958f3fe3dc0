import ElanusCore

/// HTTP header fields in arrival order; names compare case-insensitively.
public struct HTTPHeaders: Sendable, Sequence {
    public private(set) var fields: [(name: String, value: String)] = []

    public init(_ fields: [(String, String)] = []) {
        self.fields = fields.map { (name: $0.0, value: $0.1) }
    }

    public mutating func add(_ name: String, _ value: String) { fields.append((name: name, value: value)) }

    /// The first value of `name`, if any.
    public subscript(name: String) -> String? {
        fields.first(where: { $0.name.utf8.count == name.utf8.count && $0.name.lowercased() == name.lowercased() })?.value
    }

    public func values(_ name: String) -> [String] {
        let lower = name.lowercased()
        return fields.filter { $0.name.lowercased() == lower }.map(\.value)
    }

    public func contains(_ name: String) -> Bool { self[name] != nil }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }
}

/// A complete request as the server hands it to a handler.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The request target as sent (path and query).
    public var target: String
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// False for HTTP/1.0 without keep-alive and for `Connection: close`.
    public var keepAlive: Bool
    /// The client's numeric IP address as the socket saw it ("127.0.0.1", "2001:db8::1"; an
    /// IPv4 client of a dual-stack socket reads as IPv4). Not a forwarded-for header: a proxy in
    /// front of the server makes every request come from the proxy. "" when unknown.
    public var peer: String
    /// Stops the request's work: the server cancels it when the client closes its connection
    /// (or the server stops), and it carries the server's deadline (`handlerTimeoutMs`), counted
    /// from the moment the request was complete. A handler passes it to the work that can be long.
    public var cancellation: Cancellation

    public init(
        method: String, target: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [], keepAlive: Bool = true, peer: String = "",
        cancellation: Cancellation = Cancellation()
    ) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
        self.keepAlive = keepAlive
        self.peer = peer
        self.cancellation = cancellation
    }

    /// The target without its query string.
    public var path: Substring {
        target.firstIndex(of: "?").map { target[..<$0] } ?? target[...]
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func text(_ status: Int, _ text: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: HTTPHeaders([("Content-Type", "text/plain; charset=utf-8")]), body: Array(text.utf8))
    }

    /// Wire bytes: status line, the response's headers, `extraHeaders`, Content-Length and
    /// Connection. 204 and 304 carry no body and no Content-Length; HEAD gets the headers only.
    public func serialized(keepAlive: Bool, extraHeaders: [(String, String)] = [], headOnly: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        let bodyAllowed = status != 204 && status != 304 && status >= 200
        out.reserveCapacity(160 + (bodyAllowed && !headOnly ? body.count : 0))
        out.append(contentsOf: "HTTP/1.1 \(status) \(HTTPResponse.reasonPhrase(status))\r\n".utf8)
        for field in headers.fields {
            out.append(contentsOf: "\(field.name): \(field.value)\r\n".utf8)
        }
        for (name, value) in extraHeaders where !headers.contains(name) {
            out.append(contentsOf: "\(name): \(value)\r\n".utf8)
        }
        if bodyAllowed { out.append(contentsOf: "Content-Length: \(body.count)\r\n".utf8) }
        out.append(contentsOf: (keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n").utf8)
        if bodyAllowed && !headOnly { out.append(contentsOf: body) }
        return out
    }

    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 200: "OK"
        case 204: "No Content"
        case 304: "Not Modified"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 411: "Length Required"
        case 413: "Payload Too Large"
        case 417: "Expectation Failed"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 505: "HTTP Version Not Supported"
        default: "Status \(status)"
        }
    }
}
