import Dispatch
import ElanusHTTP
import Foundation
import Synchronization

/// The benchmark's HTTP/1.1 load generator: several keep-alive connections, each on its own
/// thread (not Dispatch's pool, which stops at the core count), sending REST v2 requests exactly
/// as a user's client would, for a fixed number of requests or a fixed duration. Request bodies
/// come from a closure that should be cheap (bodies are prepared before the timed phase where
/// possible), so that the client is not the bottleneck.
struct LoadGenerator {
    struct Result {
        var seconds: Double
        /// Latency of every request in milliseconds, sorted.
        var latencies: [Double]
        var bytesSent: Int
        /// Response bodies by request number, when kept.
        var responses: [Int: [UInt8]]
        var requests: Int { latencies.count }
        var requestsPerSecond: Double { Double(requests) / seconds }
        var p50: Double { percentile(latencies, 0.5) }
        var p99: Double { percentile(latencies, 0.99) }
    }

    let port: Int
    var connections = 1
    var path: String
    var keepResponses = false
    var showProgress = false

    /// Sends `requests` requests (numbered 0..<requests), or as many as fit in `duration` seconds
    /// when that is given (numbers then wrap around `requests`). Any response other than code 0
    /// stops the run with an error.
    func run(requests: Int, duration: Double? = nil, body: @escaping @Sendable (Int) -> [UInt8]) throws -> Result {
        let next = Atomic<Int>(0)
        let sent = Atomic<Int>(0)
        let failure = Mutex<String?>(nil)
        let collected = Mutex<(latencies: [Double], responses: [Int: [UInt8]])>(([], [:]))
        let done = DispatchSemaphore(value: 0)
        let progress = showProgress && duration == nil ? Progress(total: requests) : nil
        let start = DispatchTime.now().uptimeNanoseconds
        let deadline = duration.map { start + UInt64($0 * 1e9) }
        let port = self.port, path = self.path, keep = keepResponses
        for _ in 0..<connections {
            let thread = Thread {
                let client = HTTPClient(port: port, timeoutMs: 600_000)
                var latencies: [Double] = []
                var responses: [Int: [UInt8]] = [:]
                while failure.withLock({ $0 == nil }) {
                    let n = next.add(1, ordering: .relaxed).oldValue
                    if let deadline {
                        if DispatchTime.now().uptimeNanoseconds >= deadline { break }
                    } else if n >= requests {
                        break
                    }
                    let number = n % requests
                    let bytes = body(number)
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    do {
                        let response = try client.request("POST", path, headers: [("Content-Type", "application/json")], body: bytes)
                        latencies.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
                        guard response.body.starts(with: Array(#"{"code":0"#.utf8)) else {
                            failure.withLock { $0 = $0 ?? "\(path): \(response.text.prefix(300))" }
                            break
                        }
                        if keep { responses[number] = response.body }
                    } catch {
                        failure.withLock { $0 = $0 ?? "\(path): \(error)" }
                        break
                    }
                    sent.add(bytes.count, ordering: .relaxed)
                    progress?.step()
                }
                collected.withLock {
                    $0.latencies += latencies
                    $0.responses.merge(responses) { a, _ in a }
                }
                done.signal()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        for _ in 0..<connections { done.wait() }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        progress?.finish()
        if let message = failure.withLock({ $0 }) { throw BenchError("request failed: \(message)") }
        let (latencies, responses) = collected.withLock { ($0.latencies, $0.responses) }
        return Result(seconds: seconds, latencies: latencies.sorted(), bytesSent: sent.load(ordering: .relaxed), responses: responses)
    }
}
