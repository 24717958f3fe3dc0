import ElanusHTTP
import Synchronization

/// Per-user request rate limits: a token bucket per user that refills at `rate` tokens a second
/// and holds at most one second's worth, so a user may burst to `rate` requests and then
/// sustain `rate` per second. Over it, a request is refused (Milvus's 1807), never delayed.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updatedMs: Int
    }

    let rate: Double
    private let buckets = Mutex<[String: Bucket]>([:])

    init(requestsPerSecond rate: Double) {
        self.rate = rate
    }

    /// Takes one token from `user`'s bucket; false when it is empty.
    func admit(_ user: String, nowMs: Int = MonotonicClock.nowMs()) -> Bool {
        buckets.withLock { buckets in
            var bucket = buckets[user] ?? Bucket(tokens: rate, updatedMs: nowMs)
            bucket.tokens = min(rate, bucket.tokens + Double(nowMs - bucket.updatedMs) / 1000 * rate)
            bucket.updatedMs = nowMs
            let admitted = bucket.tokens >= 1
            if admitted { bucket.tokens -= 1 }
            buckets[user] = bucket
            return admitted
        }
    }
}
