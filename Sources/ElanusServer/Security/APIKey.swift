import ElanusCore
import ElanusEngine
import Foundation

/// API keys, for `Authorization: Bearer <api-key>`: `elanus_<id>_<secret>`, where the id (8
/// random bytes) finds the record and the secret (32 random bytes) proves the holder. Only a
/// SHA-256 digest of the secret is stored: the secret has 256 bits of entropy, so unlike a
/// password it needs no slow hash. The whole key is shown once, when it is created.
enum APIKey {
    static let prefix = "elanus_"

    /// A new key for `user`: the token to hand out once, and the record to store.
    static func make(for user: String) throws(ElanusError) -> (token: String, record: APIKeyRecord) {
        let id = hex(try PasswordHash.randomBytes(8))
        let secret = hex(try PasswordHash.randomBytes(32))
        let record = APIKeyRecord(keyID: id, userName: user, secretDigest: hex(PasswordHash.sha256(Array(secret.utf8))), createdAt: UInt64(Date().timeIntervalSince1970 * 1000))
        return (prefix + id + "_" + secret, record)
    }

    /// The user `token` authenticates as, or nil.
    static func verify(_ token: String, access: AccessCatalog) -> String? {
        guard token.hasPrefix(prefix) else { return nil }
        let parts = token.dropFirst(prefix.count).split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 2, let record = access.apiKey(String(parts[0])), access.user(record.userName) != nil else { return nil }
        let digest = hex(PasswordHash.sha256(Array(parts[1].utf8)))
        return PasswordHash.constantTimeEqual(Array(digest.utf8), Array(record.secretDigest.utf8)) ? record.userName : nil
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
