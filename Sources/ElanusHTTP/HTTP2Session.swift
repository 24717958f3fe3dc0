import CSystem
import ElanusCore
import ElanusHTTP2
import Glibc
import Logging
import Foundation
import Synchronization

/// One HTTP/2 connection (h2c with prior knowledge, or h2 inside TLS), from the preface to the
/// close, run by a thread of its own. The thread reads and feeds the HTTP2Connection state
/// machine and hands each complete request to the worker pool, so many streams of one
/// connection are answered concurrently; the worker that ran a call sends its answer itself,
/// so no thread is woken to do it. The state machine, the stream tables and the socket's I/O
/// are guarded by `lock`, which nobody holds while waiting, for input or for the peer to read:
/// writes never block. What the socket does not take waits in `unsent`, the session thread
/// finishes it when the socket drains, and while `unsent` is over `maxUnsentBytes` the session
/// reads nothing more, so a peer that sends and never reads is held back by its own input.
///
/// Every wait has an end: no call made or answered for `idleTimeoutMs` (PINGs do not count),
/// a request whose body has not finished in `requestTimeoutMs` (reset), and answers the peer
/// does not read, or gives no flow-control window for, within `writeTimeoutMs` (the connection
/// ends).
///
/// Requests are gRPC calls (`content-type: application/grpc`, answered by the server's
/// GRPCService) or plain HTTP requests (answered by the HTTP handler, so REST works over h2c).
final class HTTP2Session: @unchecked Sendable {
    private enum Completion {
        case grpc(GRPCReply)
        case http(HTTPResponse)
    }

    /// A request stream being received.
    private struct Incoming {
        var headers: [HTTP2Header]
        var body: [UInt8] = []
        var tooLarge = false
        /// When the request's headers arrived (its body must finish within requestTimeoutMs).
        var startedMs: Int
    }

    /// A response whose body is still being handed to the connection as its queue drains.
    private struct Outgoing {
        var bytes: [UInt8]
        var offset = 0
        /// Sent after the last DATA (gRPC); nil ends the stream with the last DATA.
        var trailers: [HTTP2Header]?
    }

    private unowned let server: HTTPServer
    private let connection: Connection
    private let h2: HTTP2Connection
    /// Guards everything below, and every read and write of the socket (a TLS session must not
    /// be read and written at once).
    private let lock = NSLock()
    /// Set (under the lock) when the session ends: a late answer is then dropped, never written
    /// to a descriptor that may already belong to another connection.
    private var ended = false
    /// Set (under the lock) when a write failed: the socket is shut down, so the session thread
    /// wakes and ends, and nothing more is written.
    private var broken = false
    /// Bytes taken from the state machine that the socket has not accepted yet (from `unsentOffset`).
    private var unsent: [UInt8] = []
    private var unsentOffset = 0
    /// When output last moved (bytes to the socket, a body chunk to the state machine, a new
    /// answer); with output pending and no move for `writeTimeoutMs`, the peer is not reading.
    private var lastOutputProgressMs = 0
    /// Wakes the session thread out of poll when a worker leaves bytes unsent.
    private let wakeFD: Int32
    /// Whether the session thread is in poll without POLLOUT (a worker then wakes it).
    private var pollingForInputOnly = false
    private var incoming: [UInt32: Incoming] = [:]
    private var outgoing: [UInt32: Outgoing] = [:]
    /// Bytes of request bodies received and not yet handed to workers, over all streams.
    private var bufferedBodyBytes = 0
    /// Calls answered so far (the idle clock restarts at each).
    private var answeredCount = 0
    /// A quick call the session thread runs itself once its read is handled (see `submit`).
    private var inlineCall: (stream: UInt32, token: Cancellation, work: @Sendable () -> Completion)?
    /// Until then every call goes to the workers: the connection was seen sending concurrently.
    private var concurrentUntilMs = 0
    /// Requests (HEADERS that open a stream) received so far.
    private var requestsSeen = 0
    /// Streams handed to workers, with the token that cancels their work.
    private var running: [UInt32: Cancellation] = [:]
    /// The socket is read into this one buffer (under the lock), not a fresh 64 KiB array per
    /// read: a one-call-at-a-time client is read twice per call.
    private var readBuffer = [UInt8](repeating: 0, count: 64 << 10)
    private var logger: Logger { server.logger }

    /// Bytes handed to the connection per sendData call, and the queue depth at which a stream
    /// waits for the peer to read: responses bigger than the connection's send queue go out in
    /// pieces instead of failing.
    private static let chunkBytes = 64 << 10
    /// Unsent bytes past which the session stops reading the peer (see the type's comment).
    private static let maxUnsentBytes = 1 << 20
    /// Bytes read per hold of the lock, so workers with answers are not kept waiting by a fast sender.
    private static let readBytesPerHold = 1 << 20

    init(server: HTTPServer, connection: Connection) {
        self.server = server
        self.connection = connection
        var limits = HTTP2Limits()
        limits.maxConcurrentStreams = 100
        h2 = HTTP2Connection(limits: limits)
        wakeFD = csys_eventfd()
    }

    deinit { if wakeFD >= 0 { close(wakeFD) } }

    /// Runs the connection to its end; `initial` holds the bytes already read (the preface onwards).
    func run(initial: [UInt8]) {
        defer {
            lock.withLock {
                ended = true
                for (_, token) in running { token.cancel() }
                // A call kept for this thread that will not run now: it leaves the in-flight count.
                if inlineCall != nil {
                    inlineCall = nil
                    server.inFlight.subtract(1, ordering: .acquiringAndReleasing)
                }
            }
            server.closeConnection(connection)
            server.http2Sessions.subtract(1, ordering: .acquiringAndReleasing)
        }
        lock.withLock { handle(h2.feed(initial)) }
        guard runInlineCall() else { return }
        var lastActivity = MonotonicClock.nowMs()
        var goingAway = false
        var answered = 0
        var seen = 0
        while true {
            enum Next { case wait(Int16, Bool), stop, again }
            let next: Next = lock.withLock {
                pump()
                guard flush() else { return .stop }
                if h2.isFinished && running.isEmpty { return .stop }
                if server.stopping.load(ordering: .acquiring) && !goingAway {
                    // Graceful shutdown: no new streams; those in flight are answered first.
                    goingAway = true
                    h2.beginGracefulShutdown()
                    return .again
                }
                if goingAway && running.isEmpty && outgoing.isEmpty && !hasUnsent { return .stop }
                let now = MonotonicClock.nowMs()
                // Only calls restart the idle clock: a peer's PINGs and window updates keep a
                // connection open no longer than silence would.
                if answered != answeredCount || seen != requestsSeen {
                    answered = answeredCount
                    seen = requestsSeen
                    lastActivity = now
                }
                if running.isEmpty && incoming.isEmpty && outgoing.isEmpty && !hasUnsent
                    && now - lastActivity > server.configuration.idleTimeoutMs
                {
                    h2.goAway(code: .noError, debugMessage: "idle timeout")
                    _ = flush()
                    return .stop
                }
                if outputPending && now - lastOutputProgressMs > server.configuration.writeTimeoutMs {
                    logger.info("HTTP/2 peer reads no answers; closing", metadata: ["peer": "\(connection.peer)"])
                    return .stop
                }
                expireStalledRequests(now)
                guard flush() else { return .stop }
                var events: Int16 = 0
                if unsent.count - unsentOffset < Self.maxUnsentBytes { events |= Int16(POLLIN) }
                if hasUnsent { events |= Int16(POLLOUT) }
                pollingForInputOnly = !hasUnsent
                return .wait(events, (connection.tls?.pending ?? 0) > 0 && events & Int16(POLLIN) != 0)
            }
            guard case .wait(let events, let pending) = next else {
                if case .stop = next { return }
                continue
            }
            // A TLS session may hold decrypted bytes the socket no longer shows. The wait is
            // short so that shutdown, idle time and the timeouts above are seen.
            var fds = [pollfd(fd: connection.fd, events: events, revents: 0), pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
            let n = poll(&fds, wakeFD >= 0 ? 2 : 1, pending ? 0 : 200)
            lock.withLock { pollingForInputOnly = false }
            if n < 0 && errno != EINTR { return }
            if fds[1].revents != 0 {
                var counter: UInt64 = 0
                _ = read(wakeFD, &counter, 8)
            }
            let revents = fds[0].revents
            // Hung up while this thread is not reading (the peer stopped reading first): nothing
            // will drain, and poll would report it again at once.
            if revents & Int16(POLLHUP | POLLERR) != 0 && events & Int16(POLLIN) == 0 { return }
            if revents & Int16(POLLOUT) != 0 {
                guard lock.withLock({ flush() }) else { return }
            }
            if revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 || pending {
                guard lock.withLock({ readAvailable() }) else { return }
                guard runInlineCall() else { return }
            }
        }
    }

    private var hasUnsent: Bool { unsentOffset < unsent.count }
    /// Answer bytes not yet on the socket: unsent, queued for flow-control window, or not yet queued.
    private var outputPending: Bool { hasUnsent || !outgoing.isEmpty || h2.queuedBytesTotal > 0 }

    /// Resets requests whose bodies have not finished within requestTimeoutMs (a slow-loris on
    /// one stream holds its buffered body and a worker's turn otherwise). Under the lock.
    private func expireStalledRequests(_ now: Int) {
        let limit = server.configuration.requestTimeoutMs
        guard limit > 0 else { return }
        for (id, request) in incoming where now - request.startedMs > limit {
            bufferedBodyBytes -= request.body.count
            incoming[id] = nil
            h2.resetStream(streamID: id, code: .cancel)
        }
    }

    /// Reads what the socket has and feeds it; false at the end of the stream or an error. Under the lock.
    private func readAvailable() -> Bool {
        var total = 0
        // Stops at the per-hold budget, or while the peer is not reading what it is sent: the
        // socket keeps the rest, and the session thread comes back for it.
        while total < Self.readBytesPerHold && unsent.count - unsentOffset < Self.maxUnsentBytes {
            let count: Int
            if let tls = connection.tls {
                switch readBuffer.withUnsafeMutableBytes({ tls.read($0) }) {
                case .done(let n): count = n
                case .wantRead, .wantWrite: return true
                case .closed, .failed: return false
                }
            } else {
                let fd = connection.fd
                let n = readBuffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, Int32(MSG_DONTWAIT)) }
                if n == 0 { return false }
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno == EAGAIN || errno == EWOULDBLOCK
                }
                count = n
            }
            total += count
            handle(h2.feed(readBuffer[0..<count]))
            // Answer control frames (SETTINGS ACK, PING) as they come, so a flood is throttled
            // by the socket rather than by memory.
            guard flush() else { return false }
            // A short read took all a plain socket had: asking again would only say EAGAIN
            // (one system call per request saved). poll is level-triggered, so bytes that come
            // after this are seen by the session thread's next wait.
            if connection.tls == nil && count < readBuffer.count { break }
        }
        return true
    }

    /// Moves the state machine's output to the socket as far as it takes without waiting; the
    /// rest stays in `unsent` for the session thread. False once the connection is broken. Under the lock.
    private func flush() -> Bool {
        guard !broken else { return false }
        let bytes = h2.takeOutput()
        if !bytes.isEmpty {
            if hasUnsent {
                unsent.removeFirst(unsentOffset)
                unsent.append(contentsOf: bytes)
            } else {
                unsent = bytes
            }
            unsentOffset = 0
        }
        while hasUnsent {
            let written = unsent.withUnsafeBytes { raw -> Int in
                let rest = UnsafeRawBufferPointer(rebasing: raw[unsentOffset...])
                if let tls = connection.tls {
                    switch tls.write(rest) {
                    case .done(let n): return n
                    case .wantWrite, .wantRead: return 0
                    case .closed, .failed: return -1
                    }
                }
                while true {
                    let n = send(connection.fd, rest.baseAddress!, rest.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
                    if n >= 0 { return n }
                    if errno == EINTR { continue }
                    return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1
                }
            }
            if written < 0 {
                // The peer is gone. shutdown(2), not close(2): the session thread owns the
                // descriptor; shutting it down wakes that thread's poll, and it ends the session.
                broken = true
                Glibc.shutdown(connection.fd, Int32(SHUT_RDWR))
                return false
            }
            if written == 0 {
                // The socket is full: the session thread waits for POLLOUT. If it is polling for
                // input only, it must be woken to watch for that.
                if pollingForInputOnly && wakeFD >= 0 {
                    var one: UInt64 = 1
                    _ = write(wakeFD, &one, 8)
                }
                return true
            }
            unsentOffset += written
            lastOutputProgressMs = MonotonicClock.nowMs()
        }
        unsent.removeAll(keepingCapacity: unsent.capacity <= Self.chunkBytes * 2)
        unsentOffset = 0
        return true
    }

    private func handle(_ events: [HTTP2Event]) {
        defer {
            // Streams the connection reset itself (a peer's stream error) leave no event: their
            // half-received requests are dropped here, so a peer cannot pile them up.
            if incoming.count > h2.activeStreamCount {
                for id in incoming.keys where !h2.isActive(streamID: id) {
                    bufferedBodyBytes -= incoming[id]?.body.count ?? 0
                    incoming[id] = nil
                }
            }
        }
        for event in events {
            switch event {
            case .request(let stream, let headers, let endStream):
                requestsSeen += 1
                incoming[stream] = Incoming(headers: headers, startedMs: MonotonicClock.nowMs())
                if endStream { dispatch(stream) }
            case .data(let stream, let bytes, let endStream):
                h2.consumed(streamID: stream, byteCount: bytes.count)
                guard var request = incoming[stream] else { continue }
                // One request body, and all the bodies a connection is receiving at once, stay
                // within maxBodyBytes: credit goes back as data arrives, so this is the bound on
                // what a connection's streams can make the server hold.
                if request.body.count + bytes.count > server.configuration.maxBodyBytes
                    || bufferedBodyBytes + bytes.count > server.configuration.maxBodyBytes
                {
                    bufferedBodyBytes -= request.body.count
                    request.tooLarge = true
                    request.body = []
                } else if !request.tooLarge {
                    request.body.append(contentsOf: bytes)
                    bufferedBodyBytes += bytes.count
                }
                incoming[stream] = request
                if endStream { dispatch(stream) }
            case .trailers(let stream, _):
                dispatch(stream)
            case .reset(let stream, _):
                bufferedBodyBytes -= incoming[stream]?.body.count ?? 0
                incoming[stream] = nil
                outgoing[stream] = nil
                running[stream]?.cancel()
            case .goaway, .closed:
                break
            }
        }
    }

    /// The request on `stream` is complete: refuse it, or hand it to a worker.
    private func dispatch(_ stream: UInt32) {
        guard let request = incoming.removeValue(forKey: stream) else { return }
        bufferedBodyBytes -= request.body.count
        let isGRPC = request.headers.first("content-type").map(GRPCRequest.isGRPCContentType) ?? false
        if request.tooLarge {
            if isGRPC {
                respond(stream, .grpc(.failure(GRPCStatus.Code.resourceExhausted.rawValue, "the request is larger than \(server.configuration.maxBodyBytes) bytes")))
            } else {
                respond(stream, .http(.text(413, "request body too large\n")))
            }
            return
        }
        // The same cap as HTTP/1.1: over it the request is refused at once, never queued.
        guard server.inFlight.load(ordering: .acquiring) < server.configuration.maxInFlight else {
            let reason = "request is rejected by limiter: \(server.configuration.maxInFlight) requests are already in flight, retry later"
            respond(stream, isGRPC ? .grpc(.failure(GRPCStatus.Code.unavailable.rawValue, reason)) : .http(.text(503, reason + "\n")))
            return
        }
        let configured = server.configuration.handlerTimeoutMs
        if isGRPC {
            let call: GRPCCall
            let quick: Bool
            switch GRPCRequest.validate(request.headers) {
            case .failure(.http(let status, let reason)):
                respond(stream, .http(.text(status, reason + "\n")))
                return
            case .failure(.grpc(let status)):
                respond(stream, .grpc(.failure(status.code.rawValue, status.message)))
                return
            case .success(let head):
                var decoder = GRPCMessageDecoder(maxMessageSize: server.configuration.maxBodyBytes)
                let messages: [[UInt8]]
                do {
                    messages = try decoder.decode(request.body)
                    try decoder.finish()
                } catch {
                    respond(stream, .grpc(.failure(error.code.rawValue, error.message)))
                    return
                }
                guard messages.count == 1 else {
                    respond(stream, .grpc(.failure(GRPCStatus.Code.unimplemented.rawValue, "a unary call carries one request message, got \(messages.count)")))
                    return
                }
                var deadlineMs: Int? = configured > 0 ? configured : nil
                if let timeout = head.timeout {
                    let ms = Int(min(timeout.nanoseconds / 1_000_000, UInt64(Int32.max)))
                    deadlineMs = min(deadlineMs ?? ms, max(ms, 1))
                }
                quick = HTTP2Session.quickMethods.contains(head.method)
                var metadata = HTTPHeaders()
                for header in head.metadata { metadata.add(header.name, header.value) }
                call = GRPCCall(
                    path: "/\(head.service)/\(head.method)", metadata: metadata, message: messages[0], peer: connection.peer,
                    cancellation: Cancellation(timeoutMs: deadlineMs))
            }
            submit(stream, call.cancellation, inlineEligible: quick) { [server] in
                guard let service = server.grpc else {
                    return .grpc(.failure(GRPCStatus.Code.unimplemented.rawValue, "this server does not serve gRPC"))
                }
                return .grpc(service.handle(call))
            }
        } else {
            var headers = HTTPHeaders()
            for header in request.headers where !header.name.hasPrefix(":") { headers.add(header.name, header.value) }
            if let authority = request.headers.first(":authority"), !headers.contains("host") { headers.add("host", authority) }
            let http = HTTPRequest(
                method: request.headers.first(":method") ?? "GET", target: request.headers.first(":path") ?? "/", headers: headers,
                body: request.body, keepAlive: true, peer: connection.peer,
                cancellation: Cancellation(timeoutMs: configured > 0 ? configured : nil))
            submit(stream, http.cancellation) { [server] in .http(server.handler.handle(http)) }
        }
    }

    /// Milvus methods that read and answer in milliseconds: the session thread may run one of
    /// these itself (see `submit`). Writes, flushes, loads and builds always go to a worker.
    static let quickMethods: Set<String> = [
        "Search", "Query", "HybridSearch", "GetVersion", "CheckHealth", "DescribeCollection", "HasCollection", "ShowCollections",
        "GetLoadState", "GetLoadingProgress", "DescribeIndex", "GetIndexState", "GetCollectionStatistics", "ShowPartitions", "HasPartition",
        "DescribeDatabase", "ListDatabases", "DescribeAlias", "ListAliases", "AllocTimestamp", "GetFlushState",
    ]

    /// Hands a complete request to a worker, or keeps it for the session thread itself. A client
    /// that sends one call at a time (the common case for one application thread) is answered
    /// by the thread that read its call, as HTTP/1.1 requests are, with no hand-off: that is
    /// when nothing else of the connection is running, no other request came in the same read,
    /// and the method is a quick read. While such a call runs the connection is not read, so a
    /// connection seen sending calls concurrently (two in one read, or input waiting when an
    /// inline call ends) is served only through the workers for the next second. Under the lock.
    private func submit(_ stream: UInt32, _ token: Cancellation, inlineEligible: Bool = false, _ work: @escaping @Sendable () -> Completion) {
        running[stream] = token
        server.inFlight.add(1, ordering: .acquiringAndReleasing)
        if let planned = inlineCall {
            // A second request in the same read: the connection is concurrent.
            inlineCall = nil
            concurrentUntilMs = MonotonicClock.nowMs() + 1_000
            toWorker(planned.stream, planned.work)
        } else if inlineEligible && running.count == 1 && MonotonicClock.nowMs() >= concurrentUntilMs {
            inlineCall = (stream, token, work)
            return
        }
        toWorker(stream, work)
    }

    /// Runs the call kept by `submit` on this (the session) thread, outside the lock, then
    /// handles what arrived meanwhile. Returns false when the connection ended.
    private func runInlineCall() -> Bool {
        while let call = lock.withLock({ () -> (stream: UInt32, token: Cancellation, work: @Sendable () -> Completion)? in
            defer { inlineCall = nil }
            return inlineCall
        }) {
            // Visible to shutdown, which cancels it if the grace period runs out.
            server.setWork(connection, call.token)
            let completion = call.work()
            server.setWork(connection, nil)
            let open = lock.withLock { () -> Bool in
                guard !ended else { return false }
                // What arrived while the call ran is read before its answer is sent: a request
                // among it means the client did not wait for the answer, so it sends
                // concurrently and its calls go to the workers for a while. Read after the
                // answer, a one-call-at-a-time client's next call (sent the moment the answer
                // landed) would look the same. Such a request is not run inline now either:
                // this call still counts as running. (Control frames, such as a client's PINGs,
                // say nothing about concurrency.)
                let before = requestsSeen
                let readable = readAvailable()
                if requestsSeen > before {
                    concurrentUntilMs = MonotonicClock.nowMs() + 1_000
                    if let planned = inlineCall {
                        inlineCall = nil
                        toWorker(planned.stream, planned.work)
                    }
                }
                respond(call.stream, completion)
                pump()
                return flush() && readable
            }
            server.inFlight.subtract(1, ordering: .acquiringAndReleasing)
            guard open else { return false }
        }
        return true
    }

    private func toWorker(_ stream: UInt32, _ work: @escaping @Sendable () -> Completion) {
        server.workers.submit { [self] in
            let completion = work()
            // The worker sends the answer: the session thread is not woken for it.
            self.lock.withLock {
                guard !self.ended else { return }
                self.respond(stream, completion)
                self.pump()
                _ = self.flush()
            }
            // In flight until the answer is handed to the connection.
            self.server.inFlight.subtract(1, ordering: .acquiringAndReleasing)
        }
    }

    /// Answers `stream`. Under the lock.
    private func respond(_ stream: UInt32, _ completion: Completion) {
        if running.removeValue(forKey: stream) != nil { answeredCount += 1 }
        // The write deadline runs from the answer's start when nothing else was being sent.
        if !outputPending { lastOutputProgressMs = MonotonicClock.nowMs() }
        do {
            switch completion {
            case .grpc(let reply):
                if let payload = reply.payload, reply.status == 0 {
                    try h2.sendHeaders(streamID: stream, headers: GRPCResponseHeaders.headers())
                    outgoing[stream] = Outgoing(bytes: GRPCMessageEncoder.encode(payload), trailers: GRPCResponseHeaders.trailers(.ok))
                } else {
                    let code = GRPCStatus.Code(rawValue: reply.status) ?? .unknown
                    try h2.sendHeaders(streamID: stream, headers: GRPCResponseHeaders.trailersOnly(GRPCStatus(code, reply.message)), endStream: true)
                }
            case .http(let response):
                var headers = [HTTP2Header(":status", String(response.status))]
                for (name, value) in response.headers {
                    let lower = name.lowercased()
                    // Connection-specific fields are forbidden in HTTP/2 (RFC 9113 §8.2.2).
                    if ["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"].contains(lower) { continue }
                    headers.append(HTTP2Header(lower, value))
                }
                headers.append(HTTP2Header("content-length", String(response.body.count)))
                for (name, value) in server.configuration.extraHeaders { headers.append(HTTP2Header(name.lowercased(), value)) }
                try h2.sendHeaders(streamID: stream, headers: headers, endStream: response.body.isEmpty)
                if !response.body.isEmpty { outgoing[stream] = Outgoing(bytes: response.body) }
            }
        } catch {
            // The stream was reset or the connection is closing: nobody reads this answer.
            outgoing[stream] = nil
        }
    }

    /// Hands response bodies to the connection as far as its send queues allow, and no further
    /// while the socket has not taken what it was given: the bytes an unread answer holds stay
    /// bounded by the stream queues plus `maxUnsentBytes`.
    private func pump() {
        for (stream, var pending) in outgoing {
            guard unsent.count - unsentOffset < Self.maxUnsentBytes else { return }
            var done = false
            do {
                while pending.offset < pending.bytes.count && h2.queuedBytes(streamID: stream) < Self.chunkBytes * 4
                    && unsent.count - unsentOffset + h2.pendingOutputCount < Self.maxUnsentBytes
                {
                    let end = min(pending.offset + Self.chunkBytes, pending.bytes.count)
                    let last = end == pending.bytes.count
                    try h2.sendData(streamID: stream, bytes: pending.bytes[pending.offset..<end], endStream: last && pending.trailers == nil)
                    pending.offset = end
                    lastOutputProgressMs = MonotonicClock.nowMs()
                }
                if pending.offset == pending.bytes.count {
                    if let trailers = pending.trailers { try h2.sendTrailers(streamID: stream, headers: trailers) }
                    done = true
                }
            } catch HTTP2SendError.queueFull {
                // Wait for the peer's WINDOW_UPDATE and the socket to drain.
            } catch {
                done = true
            }
            outgoing[stream] = done ? nil : pending
        }
    }
}
