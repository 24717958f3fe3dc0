import ElanusCore
import ElanusHTTP
import Foundation

/// Milvus's `Request-Timeout` header: whole seconds the client gives the request. It can only
/// bring the server's own deadline (server.queryTimeoutSeconds) forward, never push it back: the
/// server's limit is what keeps one client's work from crowding out the others'.
enum RequestTimeout {
    static let header = "Request-Timeout"

    static func apply(_ request: HTTPRequest) throws(ElanusError) {
        guard let text = request.headers[header] else { return }
        // As Milvus: anything but a whole number is refused (it answers 1100 too).
        guard let seconds = Int(text.trimmingCharacters(in: .whitespaces)), seconds > 0 else {
            throw .invalidParameter("\(header) parse failed: '\(text)' is not a positive whole number of seconds")
        }
        request.cancellation.limit(timeoutMs: min(seconds, 86_400) * 1000)
    }
}
