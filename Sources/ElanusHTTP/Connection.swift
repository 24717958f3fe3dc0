import Glibc

/// One client connection. Ownership moves between two parties and never overlaps:
/// - the reactor owns it while it is armed in epoll (reading, parsing, sweeping timeouts);
/// - one worker owns it from dispatch until it re-arms or closes it (`busy` is true meanwhile).
/// The hand-over goes through the server's table lock, which orders every access.
final class Connection: @unchecked Sendable {
    let fd: Int32
    var parser: HTTPRequestParser
    var busy = false
    var closed = false
    /// When the last request finished or the connection opened (idle timeout).
    var lastActivityMs: Int
    /// When the first byte of the request in progress arrived (header and request timeouts).
    var requestStartMs: Int?

    init(fd: Int32, limits: HTTPRequestParser.Limits, now: Int) {
        self.fd = fd
        self.parser = HTTPRequestParser(limits: limits)
        self.lastActivityMs = now
    }

    enum ReadResult { case data, wouldBlock, eof }

    /// Reads what the socket has (non-blocking) into the parser.
    func readAvailable(maxBytes: Int = 1 << 20) -> ReadResult {
        var total = 0
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while total < maxBytes {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n > 0 {
                chunk.withUnsafeBytes { parser.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                total += n
                continue
            }
            if n == 0 { return total > 0 ? .data : .eof }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return total > 0 ? .data : .wouldBlock }
            return .eof
        }
        return .data
    }
}
