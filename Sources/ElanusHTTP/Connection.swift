import ElanusCore
import Glibc

/// One client connection. Ownership moves between two parties and never overlaps:
/// - the reactor owns it while it is armed in epoll (reading, parsing, sweeping timeouts);
/// - one worker owns it from dispatch until it re-arms or closes it (`busy` is true meanwhile).
/// The hand-over goes through the server's table lock, which orders every access.
final class Connection: @unchecked Sendable {
    let fd: Int32
    /// Tells this connection's epoll events from those of an earlier connection on the same fd
    /// number (never 0, the listener's tag).
    let generation: UInt32
    /// The client's numeric IP address ("127.0.0.1", "2001:db8::1"); "" when unknown.
    let peer: String
    var parser: HTTPRequestParser
    var busy = false
    var closed = false
    /// When the last request finished or the connection opened (idle timeout).
    var lastActivityMs: Int
    /// When the first byte of the request in progress arrived (header and request timeouts).
    var requestStartMs: Int?
    /// The TLS session on a TLS port; nil for plain HTTP.
    let tls: TLSSession?
    /// Whether the TLS handshake is still under way (no HTTP may be read or written yet).
    var handshaking: Bool
    /// Whether the first bytes have been checked for the HTTP/2 preface (they are checked once).
    var protocolChecked = false
    /// Whether the first byte has been checked to open a TLS handshake (it is checked once).
    var openedWithTLS = false
    // The next three are the exception to the ownership rule above: the reactor reads and sets
    // them while a worker owns the connection, so every access is under the table lock.
    /// The token of the request a worker is running; the reactor cancels it when the peer hangs up.
    var work: Cancellation?
    /// The peer closed its side (`EPOLLRDHUP`): it sends nothing more, though it may still read.
    var halfClosed = false
    /// The socket reported `EPOLLHUP` or `EPOLLERR` (a reset, both sides shut): nothing can be sent.
    var hungUp = false

    init(fd: Int32, peer: String = "", limits: HTTPRequestParser.Limits, now: Int, tls: TLSSession? = nil, generation: UInt32 = 1) {
        self.fd = fd
        self.generation = generation
        self.peer = peer
        self.parser = HTTPRequestParser(limits: limits)
        self.lastActivityMs = now
        self.tls = tls
        handshaking = tls != nil
        // The handshake counts as reading the head, so a peer that stalls in it times out too.
        if tls != nil { requestStartMs = now }
    }

    enum ReadResult { case data, wouldBlock, eof }

    /// Reads what the socket has (non-blocking) into the parser.
    func readAvailable(maxBytes: Int = 1 << 20) -> ReadResult {
        if let tls { return readAvailable(tls, maxBytes: maxBytes) }
        var total = 0
        var chunk = Self.readChunk()
        while total < maxBytes {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n > 0 {
                chunk.withUnsafeBytes { parser.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                total += n
                // A short read took all the socket had: asking again would only say EAGAIN (a
                // system call per request saved). epoll is level-triggered, so bytes that come
                // later arm the connection again.
                if n < chunk.count { return .data }
                continue
            }
            if n == 0 { return total > 0 ? .data : .eof }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return total > 0 ? .data : .wouldBlock }
            return .eof
        }
        return .data
    }

    /// The TLS read loop. It also drains what OpenSSL already decrypted past `maxBytes`, because
    /// those bytes are off the socket and epoll would never report them.
    private func readAvailable(_ tls: TLSSession, maxBytes: Int) -> ReadResult {
        var total = 0
        var chunk = Self.readChunk()
        while total < maxBytes || tls.pending > 0 {
            switch chunk.withUnsafeMutableBytes({ tls.read($0) }) {
            case .done(let n):
                chunk.withUnsafeBytes { parser.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                total += n
            case .wantRead, .wantWrite: return total > 0 ? .data : .wouldBlock
            case .closed, .failed: return total > 0 ? .data : .eof
            }
        }
        return .data
    }

    /// A 64 KiB buffer to read into, left uninitialized: only the bytes a read returns are used,
    /// and zeroing it cost more than the read of a small request.
    private static func readChunk() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 64 << 10) { _, count in count = 64 << 10 }
    }

    /// Writes a whole response, waiting up to `timeoutMs` for a slow reader.
    func send(_ bytes: [UInt8], timeoutMs: Int) -> Bool {
        if let tls { return tls.writeAll(fd, bytes, timeoutMs: timeoutMs) }
        return Socket.sendAll(fd, bytes, timeoutMs: timeoutMs)
    }

    /// One attempt that never waits, for short replies from the reactor thread.
    func trySend(_ bytes: [UInt8]) {
        if handshaking { return }
        if let tls {
            _ = bytes.withUnsafeBytes { tls.write($0) }
        } else {
            Socket.trySend(fd, bytes)
        }
    }
}
