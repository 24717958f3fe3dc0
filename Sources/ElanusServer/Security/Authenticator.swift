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
final class Authenticator: Sendable {
    private struct Verified {
        var record: String
        var fingerprint: [UInt8]
    }

    private let key: [UInt8]
    private let verified = Mutex<[String: Verified]>([:])

    init() throws(ElanusError) {
        key = try PasswordHash.randomBytes(32)
    }

    static let unauthenticated = ElanusError(.unauthenticated, "user hasn't authenticated")

    /// The user a request authenticates as, or 1800.
    func authenticate(_ request: HTTPRequest, access: AccessCatalog) throws(ElanusError) -> String {
        guard let header = request.headers["Authorization"] else { throw Authenticator.unauthenticated }
        let (user, password) = try Authenticator.credentials(header)
        // A Bearer token without `:` is an API key, as in Milvus.
        guard let password else {
            guard let owner = APIKey.verify(user, access: access) else { throw Authenticator.unauthenticated }
            return owner
        }
        guard try check(user: user, password: password, access: access) else { throw Authenticator.unauthenticated }
        return user
    }

    /// Whether `password` is `user`'s current password.
    func check(user: String, password: String, access: AccessCatalog) throws(ElanusError) -> Bool {
        guard let record = access.user(user)?.passwordHash else { return false }
        let fingerprint = PasswordHash.hmac(key: key, Array(password.utf8))
        if let known = verified.withLock({ $0[user] }), known.record == record {
            return PasswordHash.constantTimeEqual(known.fingerprint, fingerprint)
        }
        guard PasswordHash.verify(password, record: record) else { return false }
        verified.withLock { $0[user] = Verified(record: record, fingerprint: fingerprint) }
        return true
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
