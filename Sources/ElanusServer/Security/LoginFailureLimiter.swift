import ElanusHTTP
import Synchronization

/// Failed password checks per client address, in fixed windows: once an address has failed
/// `limit` checks in a window that opened at its first failure, its further slow checks are
/// refused until the window ends. It is asked before the hash is computed, so a guesser past
/// the limit costs one lookup a try instead of a PBKDF2 run, and gets no answer about its guess.
///
/// Thread-safe. The check and the later record are separate steps, so checks that run at the
/// same time may each pass: an address can exceed the limit by at most the checks running or
/// queued at once (PasswordCheckGate bounds those).
final class LoginFailureLimiter: Sendable {
    private struct Window {
        var startMs: Int
        var failures: Int
    }

    /// Failures allowed per window; 0 turns the limiter off.
    let limit: Int
    let windowMs: Int
    private let windows = Mutex<[String: Window]>([:])
    /// Past this many addresses, ended windows are dropped. Each entry costs a failed slow
    /// check, which the gate bounds, so the map stays small without a harder cap.
    private static let pruneAbove = 4096

    init(limit: Int, windowMs: Int) {
        self.limit = limit
        self.windowMs = max(1, windowMs)
    }

    /// Milliseconds until `address` may try again, or nil when it may try now.
    func retryAfterMs(_ address: String, nowMs: Int = MonotonicClock.nowMs()) -> Int? {
        guard limit > 0 else { return nil }
        return windows.withLock { windows in
            guard let window = windows[address], nowMs - window.startMs < windowMs, window.failures >= limit else { return nil }
            return window.startMs + windowMs - nowMs
        }
    }

    /// Counts one failed check from `address`.
    func recordFailure(_ address: String, nowMs: Int = MonotonicClock.nowMs()) {
        guard limit > 0 else { return }
        windows.withLock { windows in
            if var window = windows[address], nowMs - window.startMs < windowMs {
                window.failures += 1
                windows[address] = window
            } else {
                windows[address] = Window(startMs: nowMs, failures: 1)
            }
            if windows.count > Self.pruneAbove {
                windows = windows.filter { nowMs - $0.value.startMs < windowMs }
            }
        }
    }
}
