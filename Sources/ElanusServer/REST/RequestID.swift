import ElanusHTTP
import Synchronization

/// Request ids for the log and the `X-Request-Id` response header. A caller's own id is kept
/// when it is short and plain (so it can be traced across services); otherwise the server
/// numbers requests under a random per-process prefix, so ids from two runs do not collide.
enum RequestID {
    static let header = "X-Request-Id"

    private static let prefix: String = {
        var generator = SystemRandomNumberGenerator()
        return String(generator.next() & 0xFFFF_FFFF, radix: 16)
    }()
    private static let sequence = Atomic<Int>(0)

    static func of(_ request: HTTPRequest) -> String {
        if let given = request.headers[header], (1...64).contains(given.utf8.count),
            given.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) })
        {
            return given
        }
        return prefix + "-" + String(sequence.add(1, ordering: .relaxed).newValue)
    }
}
