import ElanusCore
import ElanusEngine
import Foundation

/// `users/*`: list, describe (the user's roles), create, update_password, drop, grant_role,
/// revoke_role, and API keys. Passwords and key secrets go into the meta store only as digests.
enum UserRoutes {
    /// Milvus's `proxy.minPasswordLength` and `proxy.maxPasswordLength` (bcrypt's limit).
    static let passwordLength = 6...72

    static func register(into routes: inout [String: RouteHandler]) {
        routes["users/list"] = { context in
            _ = try context.body("EmptyReq")
            return Envelope.success(.array(context.engine.access.names().map { .string($0) }))
        }
        routes["users/describe"] = { context in
            let body = try context.body("UserReq")
            let name = try body.string("userName", required: true)!
            // root's rights are built in, as in Milvus; an unknown user has no roles.
            let roles = context.engine.access.user(name)?.roles.sorted() ?? []
            return Envelope.success(.array(roles.map { .string($0) }))
        }
        routes["users/create"] = { context in
            let body = try context.body("PasswordReq")
            let name = try body.string("userName", required: true)!
            let password = try body.string("password", required: true)!
            try AccessCatalog.validateName(name)
            try validatePassword(password)
            guard context.engine.access.user(name) == nil else { throw ElanusError.badRequest("user already exists: \(name)") }
            let record = UserRecord(name: name, passwordHash: try PasswordHash.make(password), createdAt: UInt64(Date().timeIntervalSince1970 * 1000))
            try context.engine.access.create(record)
            return Envelope.success([:])
        }
        routes["users/update_password"] = { context in
            let body = try context.body("NewPasswordReq")
            let name = try body.string("userName", required: true)!
            let old = try body.string("password", required: true)!
            let new = try body.string("newPassword", required: true)!
            try validatePassword(new)
            guard let user = context.engine.access.user(name) else { throw ElanusError.unexpected("user not found: \(name)") }
            guard PasswordHash.verify(old, record: user.passwordHash) else { throw ElanusError.invalidParameter("old password not correct for user \(name)") }
            try context.engine.access.setPasswordHash(name, try PasswordHash.make(new))
            return Envelope.success([:])
        }
        routes["users/drop"] = { context in
            let body = try context.body("UserReq")
            try context.engine.access.drop(try body.string("userName", required: true)!)
            return Envelope.success([:])
        }
        // API keys (an Elanus addition: Milvus's open-source server has no routes for them).
        routes["users/create_api_key"] = { context in
            let body = try context.body("UserReq")
            let name = try body.string("userName", required: true)!
            let (token, record) = try APIKey.make(for: name)
            try context.engine.access.addAPIKey(record)
            return Envelope.success(["keyId": .string(record.keyID), "apiKey": .string(token)])
        }
        routes["users/list_api_keys"] = { context in
            let body = try context.body("UserReq")
            let name = try body.string("userName", required: true)!
            let keys: [JSON] = context.engine.access.apiKeys(of: name).map { key in
                ["keyId": .string(key.keyID), "userName": .string(key.userName), "createdAt": .int(Int64(key.createdAt))]
            }
            return Envelope.success(.array(keys))
        }
        routes["users/drop_api_key"] = { context in
            let body = try context.body("APIKeyReq")
            let name = try body.string("userName", required: true)!
            try context.engine.access.dropAPIKey(try body.string("keyId", required: true)!, of: name)
            return Envelope.success([:])
        }
        for (action, granted) in [("grant_role", true), ("revoke_role", false)] {
            routes["users/" + action] = { context in
                let body = try context.body("UserRoleReq")
                let user = try body.string("userName", required: true)!
                let role = try body.string("roleName", required: true)!
                try context.engine.access.setRole(role, of: user, granted: granted)
                return Envelope.success([:])
            }
        }
    }

    static func validatePassword(_ password: String) throws(ElanusError) {
        let length = password.count
        guard passwordLength.contains(length) else {
            throw ElanusError.invalidParameter(
                "invalid password length: the length of a password must be between \(passwordLength.lowerBound) and \(passwordLength.upperBound) characters, got \(length)")
        }
    }
}
