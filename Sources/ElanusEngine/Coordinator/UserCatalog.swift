import ElanusCore
import ElanusStorage
import Foundation
import Synchronization

/// One user as the meta store keeps it: the name and a salted, slow hash record of the password
/// (made by the server's PasswordHash; never the password itself).
public struct UserRecord: Codable, Sendable, Equatable {
    public var name: String
    public var passwordHash: String
    public var createdAt: UInt64

    public init(name: String, passwordHash: String, createdAt: UInt64) {
        self.name = name
        self.passwordHash = passwordHash
        self.createdAt = createdAt
    }
}

/// The coordinator's users (Milvus's credential meta), persisted under `access/user/<name>`.
///
/// Like the catalog: a change is validated, committed to the meta store (synced) and only then
/// applied in memory, under one lock, so an acknowledged user or password survives a SIGKILL.
public final class UserCatalog: Sendable {
    public static let root = "root"
    /// Milvus's `proxy.maxUserNum`.
    public static let maxUsers = 100
    static let prefix = "access/user/"

    private let store: any MetaStore
    private let users: Mutex<[String: UserRecord]>

    init(store: any MetaStore) throws(ElanusError) {
        self.store = store
        var loaded: [String: UserRecord] = [:]
        for (_, value) in try store.scan(prefix: UserCatalog.prefix) {
            let user: UserRecord = try Keys.decode(value)
            loaded[user.name] = user
        }
        users = Mutex(loaded)
    }

    public func names() -> [String] { users.withLock { $0.keys.sorted() } }

    public func user(_ name: String) -> UserRecord? { users.withLock { $0[name] } }

    /// Milvus's rules for a user name: a letter or `_` first, then letters, digits and `_`, at
    /// most 32 characters.
    public static func validateName(_ name: String) throws(ElanusError) {
        let bytes = Array(name.utf8)
        func isLetter(_ b: UInt8) -> Bool { (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 95 }
        guard let first = bytes.first else { throw .invalidParameter("invalid user name: the user name should not be empty") }
        guard bytes.count <= 32 else { throw .invalidParameter("invalid user name \(name): the length of a user name must be less than 32 characters") }
        guard isLetter(first) else { throw .invalidParameter("invalid user name \(name): the first character of a user name must be an underscore or letter") }
        guard bytes.allSatisfy({ isLetter($0) || ($0 >= 48 && $0 <= 57) }) else {
            throw .invalidParameter("invalid user name \(name): a user name can only contain numbers, letters and underscores")
        }
    }

    /// Adds a user; a name in use is Milvus's 65535 "user already exists".
    public func create(_ record: UserRecord) throws(ElanusError) {
        try UserCatalog.validateName(record.name)
        try users.withLock { (users: inout [String: UserRecord]) throws(ElanusError) in
            guard users[record.name] == nil else { throw .unexpected("user already exists: \(record.name)") }
            guard users.count < UserCatalog.maxUsers else { throw .unexpected("the number of users has reached the limit \(UserCatalog.maxUsers)") }
            try commit(record)
            users[record.name] = record
        }
    }

    /// Creates `root` with `passwordHash` unless it exists; returns whether it was created.
    @discardableResult
    public func bootstrapRoot(passwordHash: () throws(ElanusError) -> String) throws(ElanusError) -> Bool {
        try users.withLock { (users: inout [String: UserRecord]) throws(ElanusError) -> Bool in
            guard users[UserCatalog.root] == nil else { return false }
            let record = UserRecord(name: UserCatalog.root, passwordHash: try passwordHash(), createdAt: UInt64(Date().timeIntervalSince1970 * 1000))
            try commit(record)
            users[record.name] = record
            return true
        }
    }

    public func setPasswordHash(_ name: String, _ hash: String) throws(ElanusError) {
        try users.withLock { (users: inout [String: UserRecord]) throws(ElanusError) in
            guard var record = users[name] else { throw .unexpected("user not found: \(name)") }
            record.passwordHash = hash
            try commit(record)
            users[name] = record
        }
    }

    public func drop(_ name: String) throws(ElanusError) {
        guard name != UserCatalog.root else { throw .invalidParameter("user root cannot be dropped") }
        try users.withLock { (users: inout [String: UserRecord]) throws(ElanusError) in
            // Dropping a user that does not exist succeeds, as in Milvus.
            guard users[name] != nil else { return }
            try store.commit([.delete(UserCatalog.prefix + name)])
            users[name] = nil
        }
    }

    private func commit(_ record: UserRecord) throws(ElanusError) {
        try store.commit([.put(UserCatalog.prefix + record.name, try Keys.encode(record))])
    }
}
