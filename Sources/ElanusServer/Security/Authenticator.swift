import ElanusCore
import ElanusEngine
import ElanusHTTP
import Synchronization

/// Milvus's authentication middleware: when auth is enabled, every API request carries
/// `Authorization: Basic base64(user:password)` or `Authorization: Bearer user:password`, checked
/// against the user's stored PBKDF2 record, or `Authorization: Bearer <api-key>`; anything else
/// is HTTP 401 with code 1800.
///
/// PBKDF2 is slow on purpose (a fraction of a second), too slow for every request, so a
/// successful check is remembered as an HMAC of the password under a key that exists only in
/// this process's memory, next to the hash record it was checked against. A later request with
/// the same password matches the HMAC in constant time; a changed password (a new record) or a
/// dropped user falls back to the slow check. Neither passwords nor the key are ever written.
///
/// The slow check is the costly, guessable part, so it is bounded three ways (see `check`): an
/// unknown user costs the same as a wrong password (no probing for user names); each client
/// address gets a few failures per window; and only a few checks run at once.
public final class Authenticator: Sendable {
    /// How slow password checks are bounded. The daemon fills it from the `auth.*` settings.
    public struct Configuration: Sendable, Equatable {
        /// Slow checks that run at once; as many more may wait for one, and a login beyond that
        /// is refused at once with code 1807. Each check holds an HTTP worker thread.
        public var concurrentChecks = max(1, System.coreCount / 2)
        /// Failed slow checks one client address may make per window; later ones are refused
        /// with code 1807 until the window ends. 0 = no limit.
        public var failuresPerAddress = 10
        public var failureWindowMs = 60_000

        public init() {}
    }

    private struct Verified {
        var record: String
        var fingerprint: [UInt8]
    }

    private let key: [UInt8]
    private let verified = Mutex<[String: Verified]>([:])
    /// Credentials that failed a slow check, as HMAC(key, user, password), with the record they
    /// failed against: the same wrong password again (a client with a stale password, retrying)
    /// is refused for the cost of an HMAC and counts against no limit, since it guesses nothing
    /// new. Cleared when full: that only brings back the slow check, which is bounded.
    private let failed = Mutex<[[UInt8]: String]>([:])
    private static let failedCapacity = 1024
    /// Checked in place of a missing user's record, so that a name that does not exist costs the
    /// same PBKDF2 run as a wrong password. Made from a random password nobody knows, with the
    /// iteration count new users get.
    private let dummyRecord: String
    private let gate: PasswordCheckGate
    private let failures: LoginFailureLimiter

    init(_ configuration: Configuration = Configuration()) throws(ElanusError) {
        key = try PasswordHash.randomBytes(32)
        dummyRecord = try PasswordHash.make(Base64.encode(try PasswordHash.randomBytes(24)))
        // As many waiting as running: a queue long enough to absorb a burst of logins, short
        // enough that a wait stays under a few checks' time and the workers held stay few.
        gate = PasswordCheckGate(slots: configuration.concurrentChecks, queue: configuration.concurrentChecks)
        failures = LoginFailureLimiter(limit: configuration.failuresPerAddress, windowMs: configuration.failureWindowMs)
    }

    static let unauthenticated = ElanusError(.unauthenticated, "user hasn't authenticated")

    /// The user a request authenticates as, or 1800; 1807 when its password may not be checked now.
    func authenticate(_ request: HTTPRequest, access: AccessCatalog) throws(ElanusError) -> String {
        let headers = request.headers.values("Authorization")
        // Two credentials are ambiguous: a proxy and the client may each think theirs is the one
        // that counts, so neither is taken.
        guard headers.count <= 1 else {
            throw ElanusError(.unauthenticated, "user hasn't authenticated: the request carries more than one Authorization header")
        }
        guard let header = headers.first else { throw Authenticator.unauthenticated }
        let (user, password) = try Authenticator.credentials(header)
        // A Bearer token without `:` is an API key, as in Milvus.
        guard let password else {
            guard let owner = APIKey.verify(user, access: access) else { throw Authenticator.unauthenticated }
            return owner
        }
        guard try check(user: user, password: password, peer: request.peer, access: access) else { throw Authenticator.unauthenticated }
        return user
    }

    /// Whether `password` is `user`'s current password, for a request from address `peer`.
    ///
    /// Order matters: the cheap answers (a remembered success, a remembered failure) come first
    /// and are never limited; the per-address failure limit comes before the hash, so a refused
    /// guess costs no PBKDF2; and the gate comes last, so only checks that will run hold a place.
    func check(user: String, password: String, peer: String, access: AccessCatalog) throws(ElanusError) -> Bool {
        let stored = access.user(user)?.passwordHash
        let record = stored ?? dummyRecord
        let fingerprint = PasswordHash.hmac(key: key, Array(password.utf8))
        // A mismatch here falls through to the slow check rather than answering at once:
        // otherwise a wrong password would be fast for a user who logged in lately and slow for
        // everyone else, which tells which users exist and are active.
        if stored != nil, let known = verified.withLock({ $0[user] }), known.record == record,
            PasswordHash.constantTimeEqual(known.fingerprint, fingerprint)
        {
            return true
        }
        let attempt = PasswordHash.hmac(key: key, Array("\(user.utf8.count):\(user)\(password)".utf8))
        if failed.withLock({ $0[attempt] }) == record { return false }
        if let waitMs = failures.retryAfterMs(peer) {
            throw ElanusError(
                .rateLimited, "request is rejected by limiter: too many failed logins from \(peer), retry in \((waitMs + 999) / 1000) s")
        }
        guard let matched = gate.run({ PasswordHash.verify(password, record: record) }) else {
            throw ElanusError(.rateLimited, "request is rejected by limiter: too many password checks are in progress, retry later")
        }
        if matched && stored != nil {
            verified.withLock { $0[user] = Verified(record: record, fingerprint: fingerprint) }
            return true
        }
        failures.recordFailure(peer)
        failed.withLock { failed in
            if failed.count >= Self.failedCapacity { failed.removeAll() }
            failed[attempt] = record
        }
        return false
    }

    /// (user, password) from an Authorization header value, or (API key, nil) for a Bearer
    /// token without `:`.
    static func credentials(_ header: String) throws(ElanusError) -> (String, String?) {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2 else { throw unauthenticated }
        let token: String
        switch parts[0].lowercased() {
        case "basic":
            guard let bytes = Base64.decode(String(parts[1]).trimmingSpaces), let text = String(validating: bytes, as: UTF8.self) else { throw unauthenticated }
            token = text
        case "bearer":
            token = String(parts[1]).trimmingSpaces
        default:
            throw unauthenticated
        }
        guard let colon = token.firstIndex(of: ":") else {
            guard parts[0].lowercased() == "bearer", !token.isEmpty else { throw unauthenticated }
            return (token, nil)
        }
        return (String(token[..<colon]), String(token[token.index(after: colon)...]))
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
