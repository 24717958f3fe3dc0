import CSystem
import Dispatch
import ElanusCore
import ElanusHTTP2
import Foundation
import Glibc
import Logging
import Synchronization

/// An HTTP/1.1 server over POSIX sockets: keep-alive, pipelining, Content-Length and chunked
/// bodies, `Expect: 100-continue`, caps on connections (in all and per client address) and on
/// requests in flight, size limits and timeouts.
///
/// Threads: `workerThreads` event-loop threads share one epoll set (every fd one-shot). The
/// thread that takes a connection's event owns it: it reads, parses, runs the handler, writes
/// the answer and any pipelined ones, and re-arms the connection, with no hand-off and no other
/// thread woken on the way. The listener is one-shot too, so one thread at a time accepts. A
/// long request holds only its own thread; so that some thread is always left to accept, read
/// and refuse at once, the last free loop thread hands a request to the worker pool instead of
/// running it. A housekeeping thread sweeps the timeouts. A connection has at most one request
/// in flight, so pipelined requests are answered in order.
///
/// Ownership: a connection is owned by whoever set `busy` under the table lock: a loop thread
/// servicing it, or a worker answering it. Idle connections are armed in epoll and owned by no
/// one; the sweeper and the admission close only those, under the same lock.
///
/// Cancellation: each request carries a `Cancellation` with the `handlerTimeoutMs` deadline.
/// While a request runs, epoll still watches its connection for the peer's hang-up (and for
/// nothing else, so no other thread reads what the owner owns), and a hang-up, taken by another
/// loop thread, cancels the token so that the handler's work stops. At the FIN a close and a
/// half-close look the same, so both cancel, as Go's net/http (and so Milvus's REST API) does;
/// the short answer is still written, for a client that only half-closed, unless the socket
/// reports it is gone (`EPOLLHUP`, `EPOLLERR`); then nothing is written. A client that has
/// pipelined a further request is not watched for a half-close: it has sent everything and reads
/// the answers.
public final class HTTPServer: @unchecked Sendable {
    public let configuration: Configuration
    let handler: any HTTPHandler
    /// Answers gRPC calls that arrive over HTTP/2; nil answers them UNIMPLEMENTED.
    let grpc: (any GRPCService)?
    let logger: Logger
    private let limits: HTTPRequestParser.Limits

    private var listenFD: Int32 = -1
    private var epollFD: Int32 = -1
    public private(set) var port = 0

    /// Every open connection, by fd and by address. All epoll_ctl calls and closes happen under
    /// this lock, so a closed fd number cannot be reused by accept while someone still acts on
    /// the old one.
    private let table = Mutex(ConnectionTable())
    /// The last connection generation handed out; changed only by the accepting thread (one at
    /// a time: the listener is one-shot), under the table lock.
    private var nextGeneration: UInt32 = 0
    var workers: WorkerPool!
    let stopping = Atomic<Bool>(false)
    /// Every loop thread and the housekeeper, until they return.
    private let threadsDone = DispatchGroup()
    /// Loop threads not running a handler: the last one hands requests to the workers.
    private let freeLoops = Atomic<Int>(0)
    let inFlight = Atomic<Int>(0)
    /// HTTP/2 connections, each run by its own thread until it ends.
    let http2Sessions = Atomic<Int>(0)

    public init(configuration: Configuration, handler: any HTTPHandler, grpc: (any GRPCService)? = nil, logger: Logger = Logger(label: "elanus.http")) {
        self.configuration = configuration
        self.handler = handler
        self.grpc = grpc
        self.logger = logger
        self.limits = HTTPRequestParser.Limits(maxHeaderBytes: configuration.maxHeaderBytes, maxBodyBytes: configuration.maxBodyBytes)
    }

    /// Binds, listens and starts the loop threads, the housekeeper and the workers. Returns the bound port.
    @discardableResult
    public func start() throws -> Int {
        let (fd, boundPort) = try Socket.listen(host: configuration.host, port: configuration.port)
        listenFD = fd
        port = boundPort
        epollFD = csys_epoll_create()
        guard epollFD >= 0 else { throw SocketError(operation: "epoll_create", errno: errno) }
        // One-shot: the thread that takes the listener's event accepts everything pending, then
        // re-arms it, so accepts never race each other for the admission's room.
        guard csys_epoll_ctl(epollFD, EPOLL_CTL_ADD, listenFD, 0, EPOLLIN.rawValue | EPOLLONESHOT.rawValue) == 0 else {
            throw SocketError(operation: "epoll_ctl", errno: errno)
        }
        workers = WorkerPool(threads: configuration.workerThreads, name: "elanus-worker")
        let loops = max(2, configuration.workerThreads)
        freeLoops.store(loops, ordering: .releasing)
        for i in 0..<loops {
            threadsDone.enter()
            let thread = Thread { [self] in
                // The kernel's thread name (15 characters at most), for `top -H` and tests.
                ThreadName.set("elanus-loop-\(i)")
                self.runLoop()
                self.threadsDone.leave()
            }
            thread.name = "elanus-http-loop-\(i)"
            thread.stackSize = 8 << 20
            thread.start()
        }
        threadsDone.enter()
        let housekeeper = Thread { [self] in
            while !self.stopping.load(ordering: .acquiring) {
                usleep(100_000)
                self.sweepTimeouts(now: MonotonicClock.nowMs())
            }
            self.threadsDone.leave()
        }
        housekeeper.name = "elanus-http-housekeeper"
        housekeeper.start()
        logger.info("listening", metadata: ["host": "\(configuration.host)", "port": "\(port)"])
        return port
    }

    /// Number of open client connections.
    public var connectionCount: Int { table.withLock { $0.count } }

    /// Stops accepting, lets requests in flight finish for up to `graceMs`, then closes every
    /// connection and stops all threads. Idle keep-alive connections are closed at once.
    public func shutdown(graceMs: Int = 10_000) {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        // The loop threads stop taking events within their 100 ms wait; one that is running a
        // handler finishes it (and closes its connection) first. No new connection is accepted.
        _ = csys_epoll_ctl(epollFD, EPOLL_CTL_DEL, listenFD, 0, 0)
        // Idle keep-alive connections close at once; a loop thread that wakes for one later
        // finds it gone from the table.
        table.withLock { connections in
            for c in connections.byFD.values where !c.busy && !c.closed { closeLocked(c, in: &connections) }
        }
        let deadline = MonotonicClock.nowMs() + graceMs
        while inFlight.load(ordering: .acquiring) > 0 && MonotonicClock.nowMs() < deadline {
            usleep(10_000)
        }
        if inFlight.load(ordering: .acquiring) > 0 {
            logger.warning("shutdown grace period elapsed with requests in flight", metadata: ["inFlight": "\(inFlight.load(ordering: .acquiring))"])
            // shutdown(2), not close(2): a worker may still hold the fd, and closing it here would let
            // the number be reused by an unrelated file that the worker would then write into.
            // Their work stops too: nobody will read what it would answer.
            table.withLock {
                for (fd, c) in $0.byFD where c.busy {
                    c.work?.cancel()
                    Glibc.shutdown(fd, Int32(SHUT_RDWR))
                }
            }
        }
        // HTTP/2 sessions see `stopping`, send GOAWAY and end once their streams are answered;
        // they close their own sockets, so they must be gone before the table is closed below.
        let sessionDeadline = max(deadline, MonotonicClock.nowMs()) + 2_000
        while http2Sessions.load(ordering: .acquiring) > 0 && MonotonicClock.nowMs() < sessionDeadline {
            usleep(10_000)
        }
        if http2Sessions.load(ordering: .acquiring) > 0 {
            // Stuck writing to a peer that does not read: shutdown(2) wakes them, and they close.
            table.withLock {
                for (fd, c) in $0.byFD where c.busy && c.protocolChecked { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
            }
            // A session thread running a call itself ends when the call does (its token was
            // cancelled when its socket closed); one that outlives this wait is left to the
            // process's exit, and its connection is not closed under it below.
            let last = MonotonicClock.nowMs() + 5_000
            while http2Sessions.load(ordering: .acquiring) > 0 && MonotonicClock.nowMs() < last { usleep(10_000) }
            if http2Sessions.load(ordering: .acquiring) > 0 {
                logger.warning("HTTP/2 sessions still running at shutdown", metadata: ["sessions": "\(http2Sessions.load(ordering: .acquiring))"])
            }
        }
        let sessionsLeft = http2Sessions.load(ordering: .acquiring) > 0
        threadsDone.wait()
        workers.stop(threads: configuration.workerThreads)
        close(listenFD)
        table.withLock { connections in
            for (_, c) in connections.byFD where !c.closed && !(sessionsLeft && c.busy) {
                c.closed = true
                close(c.fd)
            }
            connections.removeAll()
        }
        close(epollFD)
        logger.info("http server stopped")
    }

    // MARK: - Event loops

    /// One loop thread: takes one event at a time (a thread busy with a long request then holds
    /// no other connection's event), and handles it to the end.
    private func runLoop() {
        var fds = [Int32](repeating: 0, count: 1)
        var events = [UInt32](repeating: 0, count: 1)
        var tags = [UInt32](repeating: 0, count: 1)
        while !stopping.load(ordering: .acquiring) {
            let n = csys_epoll_wait(epollFD, &fds, &tags, &events, 1, 100)
            if n < 0 && errno != EINTR {
                logger.error("epoll_wait failed", metadata: ["errno": "\(errno)"])
                break
            }
            guard n == 1, !stopping.load(ordering: .acquiring) else { continue }
            if fds[0] == listenFD {
                acceptPending()
                if !stopping.load(ordering: .acquiring) {
                    _ = csys_epoll_ctl(epollFD, EPOLL_CTL_MOD, listenFD, 0, EPOLLIN.rawValue | EPOLLONESHOT.rawValue)
                }
                continue
            }
            // Taking a connection is setting `busy` under the lock. An event for a connection
            // someone owns is a hang-up while its request runs. An event whose tag is not the
            // connection's generation was for an older connection on the same fd number (closed
            // and the number reused meanwhile): it says nothing about this one and is dropped.
            let (connection, taken) = table.withLock { t -> (Connection?, Bool) in
                guard let c = t[fds[0]], !c.closed, c.generation == tags[0] else { return (nil, false) }
                if c.busy { return (c, false) }
                c.busy = true
                return (c, true)
            }
            guard let connection else { continue }
            if taken { serviceReadable(connection) } else { noticeHangup(connection, events: events[0]) }
        }
    }

    private func acceptPending() {
        var peerText = [CChar](repeating: 0, count: 64)
        while true {
            let fd = csys_accept_nonblocking(listenFD, &peerText, peerText.count)
            if fd < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                if errno != EAGAIN && errno != EWOULDBLOCK {
                    logger.warning("accept failed", metadata: ["errno": "\(errno)"])
                    // EMFILE and friends: back off briefly instead of spinning on a level-triggered fd.
                    usleep(10_000)
                }
                return
            }
            let peer = peerText.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            Socket.setNoDelay(fd)
            // The caps come before the TLS session: a refused peer costs no handshake state.
            if let refusal = table.withLock({ admissionRefusal(peer: peer, in: &$0) }) {
                refuseConnection(fd, peer: peer, refusal)
                continue
            }
            var session: TLSSession?
            if let tls = configuration.tls {
                do {
                    session = try TLSSession(context: tls, fd: fd)
                } catch {
                    logger.warning("cannot start a TLS session", metadata: ["error": "\(error)"])
                    close(fd)
                    continue
                }
            }
            // One thread accepts at a time (the listener is one-shot), so the room made above is still there.
            table.withLock { connections in
                nextGeneration = nextGeneration == UInt32.max ? 1 : nextGeneration + 1
                let connection = Connection(fd: fd, peer: peer, limits: limits, now: MonotonicClock.nowMs(), tls: session, generation: nextGeneration)
                connections.insert(connection)
                _ = csys_epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, connection.generation, EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLONESHOT.rawValue)
            }
        }
    }

    /// Why a new connection from `peer` may not open, or nil after making room for it. At the
    /// global cap the connection idle longest is closed to admit the new one, so silent
    /// connections cannot keep a working client out; only when every connection is busy or
    /// mid-request is the new one refused. Runs on the accepting thread, under the table lock.
    private func admissionRefusal(peer: String, in connections: inout ConnectionTable) -> String? {
        if connections.connections(from: peer) >= configuration.maxConnectionsPerAddress {
            return "too many connections from \(peer): the server allows \(configuration.maxConnectionsPerAddress) per client address"
        }
        guard connections.count >= configuration.maxConnections else { return nil }
        for candidate in connections.idleLongestFirst() {
            // Bytes already waiting mean a request has arrived that no loop thread has read
            // yet: closing now would drop it unanswered, so the next candidate goes instead.
            var byte: UInt8 = 0
            if recv(candidate.fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) > 0 { continue }
            logger.debug("closed the longest-idle connection to admit a new one", metadata: ["peer": "\(candidate.peer)"])
            closeLocked(candidate, in: &connections)
            return nil
        }
        return "too many connections: the server allows \(configuration.maxConnections)"
    }

    /// Answers a connection that may not open with 503 (Milvus's "rejected by limiter" code), then closes it.
    private func refuseConnection(_ fd: Int32, peer: String, _ reason: String) {
        // Whatever the client already sent is read first: closing with unread bytes makes the
        // kernel reset the connection, and a reset can destroy the reply before the client reads it.
        var sink = [UInt8](repeating: 0, count: 16 << 10)
        _ = sink.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, Int32(MSG_DONTWAIT)) }
        let body = Array("{\"code\":1807,\"message\":\"\(reason)\"}".utf8)
        let response = HTTPResponse(status: 503, headers: HTTPHeaders([("Content-Type", "application/json; charset=utf-8")]), body: body)
        Socket.trySend(fd, response.serialized(keepAlive: false, extraHeaders: configuration.extraHeaders))
        logger.debug("connection refused", metadata: ["peer": "\(peer)", "reason": "\(reason)"])
        close(fd)
    }

    /// Reads and parses on the loop thread that owns the connection; a complete request runs there.
    private func serviceReadable(_ connection: Connection) {
        if connection.handshaking {
            guard continueHandshake(connection) else { return }
        }
        let result = connection.readAvailable()
        if case .eof = result {
            closeConnection(connection)
            return
        }
        if connection.requestStartMs == nil && connection.parser.hasPartialRequest {
            connection.requestStartMs = MonotonicClock.nowMs()
        }
        if !connection.protocolChecked {
            // HTTP/2 with prior knowledge (gRPC's insecure channels) and HTTP/1.1 share the
            // port: the first bytes tell them apart, before the HTTP/1.1 parser sees them.
            switch HTTP2Preface.detect(connection.parser.unreadBytes) {
            case .needMore:
                rearm(connection)
                return
            case .yes:
                startHTTP2(connection)
                return
            case .no:
                connection.protocolChecked = true
            }
        }
        advance(connection, onLoop: true)
    }

    /// Hands a connection that opened with the HTTP/2 preface to a thread of its own for the
    /// rest of its life. It stays in the table (busy, so the sweeps and the admission pass it
    /// over) and out of epoll: only its session reads it.
    private func startHTTP2(_ connection: Connection) {
        let initial = Array(connection.parser.unreadBytes)
        // The check and the count share the table lock with stop()'s first pass over the table,
        // which comes after `stopping` is set: either stop() sees this session in the count and
        // waits for it, or this sees `stopping` and the connection closes instead.
        let started = table.withLock { _ -> Bool in
            guard !stopping.load(ordering: .acquiring) else { return false }
            connection.busy = true
            connection.protocolChecked = true
            _ = csys_epoll_ctl(epollFD, EPOLL_CTL_DEL, connection.fd, 0, 0)
            http2Sessions.add(1, ordering: .acquiringAndReleasing)
            return true
        }
        guard started else {
            closeConnection(connection)
            return
        }
        let session = HTTP2Session(server: self, connection: connection)
        let thread = Thread { session.run(initial: initial) }
        thread.name = "elanus-http2"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Advances a TLS handshake on the owning loop thread. Returns true once it is done and HTTP may be
    /// read; otherwise the connection has been re-armed or closed.
    private func continueHandshake(_ connection: Connection) -> Bool {
        // A TLS client opens with a handshake record (0x16). Anything else is most likely plain
        // HTTP sent to the TLS port: it gets a plain-text 400 it can read, and the connection closes.
        // Only the very first byte tells: later records of the handshake have other types.
        var first: UInt8 = 0x16
        let peeked = connection.openedWithTLS ? 1 : recv(connection.fd, &first, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        if peeked == 0 || (peeked < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            closeConnection(connection)
            return false
        }
        if peeked == 1 { connection.openedWithTLS = first == 0x16 }
        if peeked == 1 && first != 0x16 {
            let response = HTTPResponse.text(400, "This port speaks HTTPS only: use https:// (TLS 1.2 or later).\n")
            // Consume the request first: closing with unread bytes makes the kernel reset the
            // connection, and a reset can destroy the reply before the client reads it.
            var sink = [UInt8](repeating: 0, count: 16 << 10)
            _ = sink.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress!, $0.count, Int32(MSG_DONTWAIT)) }
            Socket.trySend(connection.fd, response.serialized(keepAlive: false, extraHeaders: configuration.extraHeaders))
            Glibc.shutdown(connection.fd, Int32(SHUT_WR))
            logger.debug("refused plain HTTP on the TLS port")
            closeConnection(connection)
            return false
        }
        // The socket's send buffer is empty at this point, so the handshake's writes rarely
        // have to wait; when they do, the thread waits briefly rather than track write interest.
        for _ in 0..<20 {
            switch connection.tls!.handshake() {
            case .done:
                connection.handshaking = false
                connection.requestStartMs = nil
                connection.lastActivityMs = MonotonicClock.nowMs()
                return true
            case .wantRead:
                rearm(connection)
                return false
            case .wantWrite:
                var pfd = pollfd(fd: connection.fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&pfd, 1, 50)
            case .closed:
                closeConnection(connection)
                return false
            case .failed(let reason):
                logger.debug("TLS handshake failed", metadata: ["reason": "\(reason)"])
                closeConnection(connection)
                return false
            }
        }
        closeConnection(connection)
        return false
    }

    /// Runs the parser over buffered bytes and answers each complete request in place: on a loop
    /// thread (`onLoop`) after the in-flight cap, or handed to a worker when this is the last
    /// free loop thread; on a worker, the next pipelined request after a response.
    /// Returns only once the connection has been re-armed, dispatched or closed.
    private func advance(_ connection: Connection, onLoop: Bool) {
        while true {
            let event: HTTPRequestParser.Event
            do {
                event = try connection.parser.next()
            } catch {
                let response = HTTPResponse.text(error.status, error.reason + "\n")
                connection.trySend(response.serialized(keepAlive: false, extraHeaders: configuration.extraHeaders))
                logger.debug("rejected malformed request", metadata: ["status": "\(error.status)", "reason": "\(error.reason)"])
                closeConnection(connection)
                return
            }
            switch event {
            case .needMore:
                if connection.requestStartMs == nil && connection.parser.hasPartialRequest {
                    connection.requestStartMs = MonotonicClock.nowMs()
                }
                rearm(connection)
                return
            case .expectContinue:
                connection.trySend(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
            case .request(let head, let body):
                let work = Cancellation(timeoutMs: configuration.handlerTimeoutMs > 0 ? configuration.handlerTimeoutMs : nil)
                let request = HTTPRequest(
                    method: head.method, target: head.target, headers: head.headers, body: body, keepAlive: head.keepAlive, peer: connection.peer,
                    cancellation: work)
                connection.requestStartMs = connection.parser.hasPartialRequest ? MonotonicClock.nowMs() : nil
                if onLoop {
                    // Over the cap, the request is refused at once, never queued: a flood then
                    // costs one short reply each instead of unbounded memory and wait.
                    guard inFlight.load(ordering: .acquiring) < configuration.maxInFlight else {
                        refuseOverloaded(connection)
                        return
                    }
                    table.withLock { _ in watchForHangup(connection, work) }
                    inFlight.add(1, ordering: .acquiringAndReleasing)
                    // The common case: this thread runs the request. Only when it is the last
                    // free loop thread does the request go to a worker, so that a thread always
                    // remains to accept, read and refuse while long requests run.
                    if freeLoops.subtract(1, ordering: .acquiringAndReleasing).newValue >= 1 {
                        let open = respondInPlace(connection, to: request)
                        freeLoops.add(1, ordering: .acquiringAndReleasing)
                        guard open else { return }
                        continue
                    }
                    freeLoops.add(1, ordering: .acquiringAndReleasing)
                    workers.submit { [self] in
                        self.respond(connection, to: request)
                    }
                    return
                }
                table.withLock { _ in watchForHangup(connection, work) }
                inFlight.add(1, ordering: .acquiringAndReleasing)
                guard respondInPlace(connection, to: request) else { return }
            }
        }
    }

    /// Answers 503 with Milvus's "rejected by limiter" code and closes: the client may retry.
    private func refuseOverloaded(_ connection: Connection) {
        let body = Array("{\"code\":1807,\"message\":\"request is rejected by limiter: \(configuration.maxInFlight) requests are already in flight, retry later\"}".utf8)
        let response = HTTPResponse(
            status: 503, headers: HTTPHeaders([("Content-Type", "application/json; charset=utf-8"), ("Retry-After", "1")]), body: body)
        connection.trySend(response.serialized(keepAlive: false, extraHeaders: configuration.extraHeaders))
        logger.debug("request refused: in-flight cap reached", metadata: ["maxInFlight": "\(configuration.maxInFlight)"])
        closeConnection(connection)
    }

    private func respond(_ connection: Connection, to request: HTTPRequest) {
        guard respondInPlace(connection, to: request) else { return }
        advance(connection, onLoop: false)
    }

    /// While a worker runs `work`, epoll reports only the peer's hang-up (`EPOLLHUP` and `EPOLLERR`
    /// always, `EPOLLRDHUP` unless a further pipelined request is already buffered), once.
    /// Runs under the table lock, by whoever owns the connection's parser.
    private func watchForHangup(_ connection: Connection, _ work: Cancellation) {
        guard !connection.closed else { return }
        connection.work = work
        let halfClose = connection.parser.hasPartialRequest ? 0 : EPOLLRDHUP.rawValue
        _ = csys_epoll_ctl(epollFD, EPOLL_CTL_MOD, connection.fd, connection.generation, halfClose | EPOLLONESHOT.rawValue)
    }

    /// An event for a connection someone owns: the peer hung up, so its request is cancelled.
    /// The connection itself stays its owner's to answer and close.
    private func noticeHangup(_ connection: Connection, events: UInt32) {
        let work: Cancellation? = table.withLock { _ in
            guard !connection.closed, connection.busy, let work = connection.work else { return nil }
            // Only hang-up events count: a readable event here is a stale one for an earlier
            // connection with the same fd (see runLoop), never this one's.
            guard events & (EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 else { return nil }
            if events & (EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
                connection.hungUp = true
            } else {
                // Only a half-close: bytes still unread mean the client sent one more request
                // before closing its side, and reads the answers. (Peeked under the lock: the
                // worker closes the fd under it too.) On TLS a close_notify is such bytes: not checked.
                var byte: UInt8 = 0
                if connection.tls == nil && recv(connection.fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) > 0 { return nil }
                connection.halfClosed = true
            }
            return work
        }
        guard let work, !work.isCancelled else { return }
        work.cancel()
        logger.debug("client hung up: its request is cancelled", metadata: ["peer": "\(connection.peer)"])
    }

    /// Runs the handler and writes its response. Returns false when the connection was closed.
    private func respondInPlace(_ connection: Connection, to request: HTTPRequest) -> Bool {
        let response = handler.handle(request)
        let (hungUp, halfClosed) = table.withLock { _ in
            connection.work = nil
            return (connection.hungUp, connection.halfClosed)
        }
        if hungUp {
            inFlight.subtract(1, ordering: .acquiringAndReleasing)
            logger.debug("response dropped: the client is gone", metadata: ["peer": "\(connection.peer)"])
            closeConnection(connection)
            return false
        }
        // After a half-close no further request can come: the connection closes after this answer.
        let keepAlive = request.keepAlive && !halfClosed && !stopping.load(ordering: .acquiring)
        let bytes = response.serialized(keepAlive: keepAlive, extraHeaders: configuration.extraHeaders, headOnly: request.method == "HEAD")
        let sent = connection.send(bytes, timeoutMs: configuration.writeTimeoutMs)
        connection.lastActivityMs = MonotonicClock.nowMs()
        inFlight.subtract(1, ordering: .acquiringAndReleasing)
        if !sent || !keepAlive {
            closeConnection(connection)
            return false
        }
        return true
    }

    private func rearm(_ connection: Connection) {
        table.withLock { _ in
            guard !connection.closed else { return }
            if stopping.load(ordering: .acquiring) {
                connection.busy = false
                return
            }
            connection.busy = false
            _ = csys_epoll_ctl(epollFD, EPOLL_CTL_MOD, connection.fd, connection.generation, EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLONESHOT.rawValue)
        }
        // A connection handed back after shutdown began is closed by whoever holds it.
        if stopping.load(ordering: .acquiring) { closeConnection(connection) }
    }

    /// Records the token of the call a connection's own thread is running (an HTTP/2 session's
    /// inline call), so that shutdown can cancel it when the grace period runs out.
    func setWork(_ connection: Connection, _ token: Cancellation?) {
        table.withLock { _ in connection.work = token }
    }

    func closeConnection(_ connection: Connection) {
        table.withLock { closeLocked(connection, in: &$0) }
    }

    /// Closes under the table lock, held by the caller.
    private func closeLocked(_ connection: Connection, in connections: inout ConnectionTable) {
        guard !connection.closed else { return }
        connection.closed = true
        connections.remove(connection)
        if !connection.handshaking { connection.tls?.shutdown() }
        close(connection.fd)  // close removes the fd from the epoll set too
    }

    /// Closes connections that sat idle too long and answers 408 to requests that arrive too slowly
    /// (slow-loris clients), so that stalled peers cannot hold connection slots forever.
    private func sweepTimeouts(now: Int) {
        // Decided and done under the lock: a loop thread may take any idle connection the
        // moment it becomes readable, and one it has taken must not be closed under it.
        // The 408 is one attempt that never waits, so holding the lock for it is short.
        table.withLock { connections in
            var expired: [(Connection, Bool)] = []
            for connection in connections.byFD.values where !connection.busy && !connection.closed {
                if let start = connection.requestStartMs {
                    let limit = connection.parser.isReadingHead ? configuration.headerTimeoutMs : configuration.requestTimeoutMs
                    if now - start > limit { expired.append((connection, true)) }
                } else if now - connection.lastActivityMs > configuration.idleTimeoutMs {
                    expired.append((connection, false))
                }
            }
            for (connection, slowRequest) in expired {
                if slowRequest {
                    let response = HTTPResponse.text(408, "request was not received in time\n")
                    connection.trySend(response.serialized(keepAlive: false, extraHeaders: configuration.extraHeaders))
                }
                closeLocked(connection, in: &connections)
            }
        }
    }
}
