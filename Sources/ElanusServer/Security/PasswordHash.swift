import COpenSSL
import ElanusCore

/// Salted, slow password hashes through OpenSSL's libcrypto, and the small primitives around
/// them. Only these records ever reach the meta store: never a password.
///
/// A record reads `pbkdf2-sha512$<iterations>$<salt, base64>$<digest, base64>`: PBKDF2-HMAC-SHA512
/// with a 16-byte random salt and a 64-byte digest. The iteration count is in the record, so it
/// can be raised later without invalidating stored users.
enum PasswordHash {
    /// OWASP's 2023 recommendation for PBKDF2-HMAC-SHA512.
    static let iterations = 210_000
    static let scheme = "pbkdf2-sha512"

    static func make(_ password: String, iterations: Int = PasswordHash.iterations) throws(ElanusError) -> String {
        let salt = try randomBytes(16)
        let digest = try pbkdf2(password, salt: salt, iterations: iterations)
        return "\(scheme)$\(iterations)$\(Base64.encode(salt))$\(Base64.encode(digest))"
    }

    /// Whether `password` matches `record`, compared in constant time. A malformed record
    /// matches nothing.
    static func verify(_ password: String, record: String) -> Bool {
        let parts = record.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == scheme, let iterations = Int(parts[1]), iterations > 0, iterations <= 10_000_000,
            let salt = Base64.decode(String(parts[2])), let expected = Base64.decode(String(parts[3])), expected.count == 64,
            let digest = try? pbkdf2(password, salt: salt, iterations: iterations)
        else { return false }
        return constantTimeEqual(digest, expected)
    }

    static func pbkdf2(_ password: String, salt: [UInt8], iterations: Int) throws(ElanusError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 64)
        let bytes = Array(password.utf8)
        let ok = bytes.withUnsafeBufferPointer { p in
            salt.withUnsafeBufferPointer { s in
                p.withMemoryRebound(to: CChar.self) { chars in
                    PKCS5_PBKDF2_HMAC(chars.baseAddress, Int32(bytes.count), s.baseAddress, Int32(salt.count), Int32(iterations), EVP_sha512(), 64, &out)
                }
            }
        }
        guard ok == 1 else { throw .unexpected("PBKDF2 failed in libcrypto") }
        return out
    }

    /// HMAC-SHA256 of `data` under `key`: the credential cache's fingerprint of a verified password.
    static func hmac(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 32
        _ = key.withUnsafeBufferPointer { k in
            data.withUnsafeBufferPointer { d in HMAC(EVP_sha256(), k.baseAddress, Int32(key.count), d.baseAddress, data.count, &out, &length) }
        }
        return out
    }

    /// SHA-256 of `bytes`: enough for secrets that are random and long (API keys), never for passwords.
    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        _ = bytes.withUnsafeBufferPointer { EVP_Digest($0.baseAddress, $0.count, &out, &length, EVP_sha256(), nil) }
        return out
    }

    static func randomBytes(_ count: Int) throws(ElanusError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        guard RAND_bytes(&out, Int32(count)) == 1 else { throw .unexpected("the random number generator failed in libcrypto") }
        return out
    }

    /// Equality whose time does not depend on where the inputs differ.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, a.count) == 0 } }
    }
}
