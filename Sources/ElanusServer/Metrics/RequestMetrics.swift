import Synchronization

/// Requests by route and Milvus code, and a latency histogram per route, since the process
/// started. One short lock per request; the route label is always a known route name (or
/// `unknown`), so a client cannot grow the series without bound.
final class RequestMetrics: Sendable {
    /// Upper bounds of the latency buckets, in seconds (Prometheus's defaults, plus 1 ms and 25 s).
    static let bounds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25]

    struct Route: Sendable {
        var codes: [Int: Int] = [:]
        /// Non-cumulative counts per bucket; the last one is over every bound.
        var buckets = [Int](repeating: 0, count: RequestMetrics.bounds.count + 1)
        var seconds = 0.0
        var count = 0
    }

    private let routes = Mutex<[String: Route]>([:])
    /// Requests whose work was stopped part way, by why.
    private let cancelled = Mutex<(clientClosed: Int, deadline: Int)>((0, 0))

    func recordCancelled(deadline: Bool) {
        cancelled.withLock { if deadline { $0.deadline += 1 } else { $0.clientClosed += 1 } }
    }

    func record(route: String, code: Int, seconds: Double) {
        let bucket = RequestMetrics.bounds.firstIndex(where: { seconds <= $0 }) ?? RequestMetrics.bounds.count
        routes.withLock { all in
            all[route, default: Route()].codes[code, default: 0] += 1
            all[route]!.buckets[bucket] += 1
            all[route]!.seconds += seconds
            all[route]!.count += 1
        }
    }

    func write(to page: inout PrometheusText) {
        let snapshot = routes.withLock { $0 }.sorted { $0.key < $1.key }
        page.family("elanus_requests_total", "counter", "Requests answered, by route and Milvus code (0 is success).")
        for (route, series) in snapshot {
            for (code, n) in series.codes.sorted(by: { $0.key < $1.key }) {
                page.sample("elanus_requests_total", [("route", route), ("code", String(code))], n)
            }
        }
        page.family("elanus_request_duration_seconds", "histogram", "Time from a complete request to its response, by route.")
        for (route, series) in snapshot {
            var cumulative = 0
            for (i, bound) in RequestMetrics.bounds.enumerated() {
                cumulative += series.buckets[i]
                page.sample("elanus_request_duration_seconds_bucket", [("route", route), ("le", PrometheusText.format(bound))], cumulative)
            }
            page.sample("elanus_request_duration_seconds_bucket", [("route", route), ("le", "+Inf")], series.count)
            page.sample("elanus_request_duration_seconds_sum", [("route", route)], series.seconds)
            page.sample("elanus_request_duration_seconds_count", [("route", route)], series.count)
        }
        let (clientClosed, deadline) = cancelled.withLock { $0 }
        page.family(
            "elanus_requests_cancelled_total", "counter",
            "Requests whose work was stopped part way: client_closed (the client closed its connection, or the server was stopping) or deadline (past server.queryTimeoutSeconds or the Request-Timeout header).")
        page.sample("elanus_requests_cancelled_total", [("reason", "client_closed")], clientClosed)
        page.sample("elanus_requests_cancelled_total", [("reason", "deadline")], deadline)
    }
}
