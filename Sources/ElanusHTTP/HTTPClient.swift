import CSystem
import Glibc

/// A small blocking HTTP/1.1 client with one keep-alive connection, for tests and the benchmark's
/// load generator. It understands Content-Length and close-delimited responses (all this server
/// sends) and skips interim 1xx responses. Not thread-safe: use one client per thread.
public final class HTTPClient {
    public struct Response: Sendable {
        public var status: Int
        public var headers: HTTPHeaders
        public var body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    public let host: String
    public let port: Int
    public let timeoutMs: Int
    /// Set for HTTPS: the server's certificate is verified against the context's CA and `host`.
    public let tls: TLSContext?
    /// The local address to connect from (any port), e.g. "127.0.0.2": every 127.x.y.z address
    /// is this machine, so tests can play several clients that the server tells apart. nil lets
    /// the system choose.
    public let sourceHost: String?
    private var fd: Int32 = -1
    private var session: TLSSession?
    private var inbox: [UInt8] = []

    public init(host: String = "127.0.0.1", port: Int, timeoutMs: Int = 30_000, tls: TLSContext? = nil, sourceHost: String? = nil) {
        self.host = host
        self.port = port
        self.timeoutMs = timeoutMs
        self.tls = tls
        self.sourceHost = sourceHost
    }

    /// The negotiated TLS version ("TLSv1.3"), nil on plain HTTP or before connecting.
    public var tlsVersion: String? { session?.version }

    deinit { close() }

    public var isConnected: Bool { fd >= 0 }

    public func connect() throws(SocketError) {
        close()
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
            throw SocketError(operation: "getaddrinfo(\(host))", errno: EINVAL)
        }
        defer { freeaddrinfo(result) }
        let s = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { throw SocketError(operation: "socket", errno: errno) }
        var tv = timeval(tv_sec: timeoutMs / 1000, tv_usec: (timeoutMs % 1000) * 1000)
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        if let sourceHost {
            do {
                try Self.bind(s, to: sourceHost, family: info.pointee.ai_family)
            } catch {
                Glibc.close(s)
                throw error
            }
        }
        guard Glibc.connect(s, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let e = errno
            Glibc.close(s)
            throw SocketError(operation: "connect(\(host):\(port))", errno: e)
        }
        Socket.setNoDelay(s)
        fd = s
        inbox = []
        if let tls {
            // The socket is blocking (with the timeouts above), so the handshake runs to its end here.
            let outcome: TLSSession.Outcome
            do {
                let session = try TLSSession(context: tls, fd: s, verifyHost: host)
                self.session = session
                outcome = session.handshake()
            } catch {
                close()
                throw SocketError(operation: "TLS setup: \(error)", errno: EPROTO)
            }
            guard case .done = outcome else {
                close()
                throw SocketError(operation: "TLS handshake with \(host):\(port) (\(outcome))", errno: EPROTO)
            }
        }
    }

    private static func bind(_ s: Int32, to sourceHost: String, family: Int32) throws(SocketError) {
        var hints = addrinfo()
        hints.ai_family = family
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(sourceHost, "0", &hints, &result) == 0, let info = result else {
            throw SocketError(operation: "getaddrinfo(\(sourceHost))", errno: EINVAL)
        }
        defer { freeaddrinfo(result) }
        guard Glibc.bind(s, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            throw SocketError(operation: "bind(\(sourceHost))", errno: errno)
        }
    }

    public func close() {
        session?.shutdown()
        session = nil
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
        inbox = []
    }

    /// Sends one request and reads its response. A keep-alive connection that the server closed
    /// while idle is reopened once.
    public func request(
        _ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = []
    ) throws(SocketError) -> Response {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" || method == "PUT" { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        let bytes = Array(head.utf8) + body
        let reused = isConnected
        if !isConnected { try connect() }
        do {
            try sendRaw(bytes)
            return try readResponse()
        } catch {
            guard reused else { throw error }
            try connect()
            try sendRaw(bytes)
            return try readResponse()
        }
    }

    public func post(_ path: String, json: String, headers: [(String, String)] = []) throws(SocketError) -> Response {
        try request("POST", path, headers: [("Content-Type", "application/json")] + headers, body: Array(json.utf8))
    }

    /// Closes the sending side only (a TCP half-close): the server reads the end of the stream,
    /// and its replies can still be read.
    public func shutdownWrite() {
        if fd >= 0 { Glibc.shutdown(fd, Int32(SHUT_WR)) }
    }

    /// Closes with a reset instead of a FIN (SO_LINGER 0), as when a client process is killed
    /// with data unread.
    public func reset() {
        if fd >= 0 {
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        }
        session = nil
        close()
    }

    public func sendRaw(_ bytes: [UInt8]) throws(SocketError) {
        if !isConnected { try connect() }
        if let session {
            guard session.writeAll(fd, bytes, timeoutMs: timeoutMs) else {
                close()
                throw SocketError(operation: "TLS send", errno: EPIPE)
            }
            return
        }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 {
                if n < 0 && errno == EINTR { continue }
                let e = errno
                close()
                throw SocketError(operation: "send", errno: e)
            }
            offset += n
        }
    }

    /// Reads one final (non-1xx) response.
    public func readResponse() throws(SocketError) -> Response {
        while true {
            let response = try readOneResponse()
            if response.status >= 200 { return response }
        }
    }

    /// Reads whatever arrives until the server closes the connection (for tests of raw replies).
    public func readUntilClose() throws(SocketError) -> [UInt8] {
        while try fill() {}
        let out = inbox
        close()
        return out
    }

    private func fill() throws(SocketError) -> Bool {
        // Closed already (say, after a `Connection: close` answer): nothing more can arrive, and
        // a recv on the stale descriptor would fail with EBADF, or read someone else's socket.
        guard fd >= 0 else { return false }
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        if let session {
            // Blocking socket: a want-read or want-write here means the socket timed out.
            switch chunk.withUnsafeMutableBytes({ session.read($0) }) {
            case .done(let n):
                inbox.append(contentsOf: chunk[0..<n])
                return true
            case .closed: return false
            case .wantRead, .wantWrite:
                close()
                throw SocketError(operation: "TLS recv", errno: EAGAIN)
            case .failed(let reason):
                close()
                throw SocketError(operation: "TLS recv (\(reason))", errno: EPROTO)
            }
        }
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n > 0 {
                inbox.append(contentsOf: chunk[0..<n])
                return true
            }
            if n == 0 { return false }
            if errno == EINTR { continue }
            let e = errno
            close()
            throw SocketError(operation: "recv", errno: e)
        }
    }

    private func readOneResponse() throws(SocketError) -> Response {
        var headEnd: Int?
        var searchFrom = 0
        while headEnd == nil {
            if let end = findHeadEnd(from: searchFrom) {
                headEnd = end
                break
            }
            searchFrom = max(0, inbox.count - 3)
            guard try fill() else {
                close()
                throw SocketError(operation: "read response head", errno: ECONNRESET)
            }
        }
        let head = String(decoding: inbox[0..<headEnd!], as: UTF8.self)
        var lines = head.components(separatedByCRLF: ())
        let statusLine = lines.removeFirst()
        let statusParts = statusLine.split(separator: " ", maxSplits: 2)
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            close()
            throw SocketError(operation: "parse status line '\(statusLine)'", errno: EPROTO)
        }
        var headers = HTTPHeaders()
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.add(String(line[..<colon]), line[line.index(after: colon)...].trimmingSpaces())
        }
        inbox.removeSubrange(0..<(headEnd! + 4))
        if status < 200 || status == 204 || status == 304 {
            return Response(status: status, headers: headers, body: [])
        }
        let body: [UInt8]
        if let lengthText = headers["Content-Length"], let length = Int(lengthText) {
            while inbox.count < length {
                guard try fill() else {
                    close()
                    throw SocketError(operation: "read response body", errno: ECONNRESET)
                }
            }
            body = Array(inbox[0..<length])
            inbox.removeSubrange(0..<length)
        } else {
            while try fill() {}
            body = inbox
            inbox = []
        }
        if headers["Connection"]?.lowercased() == "close" { close() }
        return Response(status: status, headers: headers, body: body)
    }

    private func findHeadEnd(from start: Int) -> Int? {
        var i = start
        while i + 3 < inbox.count {
            if inbox[i] == 0x0D && inbox[i + 1] == 0x0A && inbox[i + 2] == 0x0D && inbox[i + 3] == 0x0A { return i }
            i += 1
        }
        return nil
    }
}

extension String {
    func components(separatedByCRLF: ()) -> [Substring] {
        var out: [Substring] = []
        var rest = self[...]
        while let range = rest.range(of: "\r\n") {
            out.append(rest[..<range.lowerBound])
            rest = rest[range.upperBound...]
        }
        out.append(rest)
        return out
    }
}
