extension HTTPServer {
    /// Everything the transport needs to know; the daemon fills it from Config/elanus.yaml.
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        /// 0 picks a free port (tests); `HTTPServer.port` reports the one bound.
        public var port = 19530
        /// At the cap, the connection idle longest (keep-alive, no request in progress) is closed
        /// to admit a new one; only when none is idle is the new one answered 503 and closed.
        public var maxConnections = 1024
        /// Open connections one client address may hold; one more is answered 503 and closed, so
        /// one address cannot take every slot.
        public var maxConnectionsPerAddress = 256
        /// Threads that run handlers. Each connection has at most one request in flight.
        public var workerThreads = 8
        /// Requests running or waiting for a worker, at most; one more is answered 503 (code
        /// 1807) at once rather than queued without bound.
        public var maxInFlight = 256
        public var maxHeaderBytes = 64 << 10
        public var maxBodyBytes = 64 << 20
        /// A keep-alive connection with no request in progress is closed after this long.
        public var idleTimeoutMs = 60_000
        /// The request line and headers must arrive within this long of the first byte.
        public var headerTimeoutMs = 10_000
        /// The whole request (head and body) must arrive within this long of the first byte.
        public var requestTimeoutMs = 60_000
        /// Each request's `Cancellation` passes its deadline this long after the request is
        /// complete (waiting for a worker counts); handlers that poll it stop there. 0: no deadline.
        public var handlerTimeoutMs = 0
        /// A response the peer does not drain within this long is abandoned and the connection closed.
        public var writeTimeoutMs = 30_000
        /// Headers added to every response, including the transport's own error replies (CORS, nosniff).
        public var extraHeaders: [(String, String)] = []
        /// When set, the port speaks HTTPS only.
        public var tls: TLSContext?

        public init() {}
    }
}
