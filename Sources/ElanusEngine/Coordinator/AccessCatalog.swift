import ElanusCore
import ElanusStorage
import Foundation
import Synchronization

/// One user as the meta store keeps it: the name, a salted, slow hash record of the password
/// (made by the server's PasswordHash; never the password itself) and the roles granted to it.
public struct UserRecord: Codable, Sendable, Equatable {
    public var name: String
    public var passwordHash: String
    public var createdAt: UInt64
    public var roles: [String]

    public init(name: String, passwordHash: String, createdAt: UInt64, roles: [String] = []) {
        self.name = name
        self.passwordHash = passwordHash
        self.createdAt = createdAt
        self.roles = roles
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        passwordHash = try container.decode(String.self, forKey: .passwordHash)
        createdAt = try container.decode(UInt64.self, forKey: .createdAt)
        // Records written before roles existed have none.
        roles = try container.decodeIfPresent([String].self, forKey: .roles) ?? []
    }
}

/// An API key as the meta store keeps it: its public id, its user, and a SHA-256 digest of its
/// secret (a 256-bit random value, so a fast digest cannot be searched; never the secret).
public struct APIKeyRecord: Codable, Sendable, Equatable {
    public var keyID: String
    public var userName: String
    public var secretDigest: String
    public var createdAt: UInt64

    public init(keyID: String, userName: String, secretDigest: String, createdAt: UInt64) {
        self.keyID = keyID
        self.userName = userName
        self.secretDigest = secretDigest
        self.createdAt = createdAt
    }
}

/// A role and the privileges granted to it.
public struct RoleRecord: Codable, Sendable, Equatable {
    public var name: String
    public var grants: [Grant]
}

/// A custom privilege group: a name for a set of privileges, grantable like one privilege.
public struct PrivilegeGroupRecord: Codable, Sendable, Equatable {
    public var name: String
    public var privileges: [String]
}

/// The coordinator's access control (Milvus's credential and RBAC meta): users, roles, grants
/// privilege groups and API keys, persisted under `access/user/`, `access/role/`, `access/group/`
/// and `access/apikey/`.
///
/// Like the catalog: a change is validated, committed to the meta store (synced, one batch when
/// it touches several records) and only then applied in memory, under one lock, so an
/// acknowledged change survives a SIGKILL and a reader never sees half of one.
public final class AccessCatalog: Sendable {
    public static let root = "root"
    public static let admin = "admin"
    public static let publicRole = "public"
    /// Milvus's `proxy.maxUserNum`.
    public static let maxUsers = 100
    /// Milvus's `proxy.maxRoleNum`, built-in roles included.
    public static let maxRoles = 10
    static let userPrefix = "access/user/"
    static let rolePrefix = "access/role/"
    static let groupPrefix = "access/group/"
    static let keyPrefix = "access/apikey/"
    /// API keys one user may hold.
    public static let maxKeysPerUser = 10

    struct State {
        var users: [String: UserRecord] = [:]
        var roles: [String: RoleRecord] = [:]
        var groups: [String: PrivilegeGroupRecord] = [:]
        var keys: [String: APIKeyRecord] = [:]
    }

    private let store: any MetaStore
    private let state: Mutex<State>

    init(store: any MetaStore) throws(ElanusError) {
        self.store = store
        var loaded = State()
        loaded.users = try AccessCatalog.load(store, AccessCatalog.userPrefix, by: \UserRecord.name)
        loaded.roles = try AccessCatalog.load(store, AccessCatalog.rolePrefix, by: \RoleRecord.name)
        loaded.groups = try AccessCatalog.load(store, AccessCatalog.groupPrefix, by: \PrivilegeGroupRecord.name)
        loaded.keys = try AccessCatalog.load(store, AccessCatalog.keyPrefix, by: \APIKeyRecord.keyID)
        // The built-in roles always exist; they are written only once something is granted to them.
        for name in [AccessCatalog.admin, AccessCatalog.publicRole] where loaded.roles[name] == nil {
            loaded.roles[name] = RoleRecord(name: name, grants: [])
        }
        state = Mutex(loaded)
    }

    /// Every record stored under `prefix`, by the name `key` gives it.
    private static func load<Record: Decodable>(
        _ store: any MetaStore, _ prefix: String, by key: KeyPath<Record, String>
    ) throws(ElanusError) -> [String: Record] {
        var records: [String: Record] = [:]
        for (_, value) in try store.scan(prefix: prefix) {
            let record: Record = try Keys.decode(value)
            records[record[keyPath: key]] = record
        }
        return records
    }

    // MARK: Users

    public func names() -> [String] { state.withLock { $0.users.keys.sorted() } }

    public func user(_ name: String) -> UserRecord? { state.withLock { $0.users[name] } }

    /// Milvus's rules for a user or role name: a letter or `_` first, then letters, digits and
    /// `_`, at most 32 characters. `kind` names it in the message.
    public static func validateName(_ name: String, kind: String = "user") throws(ElanusError) {
        let bytes = Array(name.utf8)
        func isLetter(_ b: UInt8) -> Bool { (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 95 }
        guard let first = bytes.first else { throw .invalidParameter("invalid \(kind) name: the \(kind) name should not be empty") }
        guard bytes.count <= 32 else { throw .invalidParameter("invalid \(kind) name \(name): the length of a \(kind) name must be less than 32 characters") }
        guard isLetter(first) else { throw .invalidParameter("invalid \(kind) name \(name): the first character of a \(kind) name must be an underscore or letter") }
        guard bytes.allSatisfy({ isLetter($0) || ($0 >= 48 && $0 <= 57) }) else {
            throw .invalidParameter("invalid \(kind) name \(name): a \(kind) name can only contain numbers, letters and underscores")
        }
    }

    /// Adds a user; a name in use is Milvus's 65535 "user already exists".
    public func create(_ record: UserRecord) throws(ElanusError) {
        try AccessCatalog.validateName(record.name)
        try mutate { (state: inout State) throws(ElanusError) -> [MetaMutation] in
            guard state.users[record.name] == nil else { throw .badRequest("user already exists: \(record.name)") }
            guard state.users.count < AccessCatalog.maxUsers else { throw .badRequest("the number of users has reached the limit \(AccessCatalog.maxUsers)") }
            state.users[record.name] = record
            return [try Self.put(record)]
        }
    }

    /// Creates `root` with `passwordHash` unless it exists; returns whether it was created.
    @discardableResult
    public func bootstrapRoot(passwordHash: () throws(ElanusError) -> String) throws(ElanusError) -> Bool {
        var created = false
        try mutate { (state: inout State) throws(ElanusError) -> [MetaMutation] in
            guard state.users[AccessCatalog.root] == nil else { return [] }
            let record = UserRecord(name: AccessCatalog.root, passwordHash: try passwordHash(), createdAt: UInt64(Date().timeIntervalSince1970 * 1000))
            state.users[record.name] = record
            created = true
            return [try Self.put(record)]
        }
        return created
    }

    public func setPasswordHash(_ name: String, _ hash: String) throws(ElanusError) {
        try mutate { (state: inout State) throws(ElanusError) -> [MetaMutation] in
            guard state.users[name] != nil else { throw .badRequest("user not found: \(name)") }
            state.users[name]!.passwordHash = hash
            return [try Self.put(state.users[name]!)]
        }
    }

    public func drop(_ name: String) throws(ElanusError) {
        guard name != AccessCatalog.root else { throw .invalidParameter("user root cannot be dropped") }
        try mutate { (state: inout State) throws(ElanusError) -> [MetaMutation] in
            // Dropping a user that does not exist succeeds, as in Milvus.
            guard state.users.removeValue(forKey: name) != nil else { return [] }
            // The user's API keys go with it, in the same commit.
            let keys = state.keys.values.filter { $0.userName == name }.map(\.keyID)
            for id in keys { state.keys[id] = nil }
            return [.delete(AccessCatalog.userPrefix + name)] + keys.map { .delete(AccessCatalog.keyPrefix + $0) }
        }
    }

    // MARK: API keys

    public func apiKey(_ id: String) -> APIKeyRecord? { state.withLock { $0.keys[id] } }

    public func apiKeys(of user: String?) -> [APIKeyRecord] {
        state.withLock { state in state.keys.values.filter { user == nil || $0.userName == user }.sorted { ($0.createdAt, $0.keyID) < ($1.createdAt, $1.keyID) } }
    }

    public func addAPIKey(_ key: APIKeyRecord) throws(ElanusError) {
        try mutate { (state: inout State) throws(ElanusError) -> [MetaMutation] in
            guard state.users[key.userName] != nil else { throw .invalidParameter("user \(key.userName) not found") }
            guard state.keys.values.filter({ $0.userName == key.userName }).count < AccessCatalog.maxKeysPerUser else {
                throw .invalidParameter("user \(key.userName) already has \(AccessCatalog.maxKeysPerUser) API keys: drop one first")
            }
            state.keys[key.keyID] = key
            return [.put(AccessCatalog.keyPrefix + key.keyID, try Keys.encode(key))]
        }
    }

    /// Drops `user`'s key `id`; a key that does not exist (or is someone else's) is an error.
    public func dropAPIKey(_ id: String, of user: String) throws(ElanusError) {
        try mutate { (state: inout State) throws(ElanusError) -> [MetaMutation] in
            guard state.keys[id]?.userName == user else { throw .invalidParameter("user \(user) has no API key \(id)") }
            state.keys[id] = nil
            return [.delete(AccessCatalog.keyPrefix + id)]
        }
    }

    // MARK: Roles

    public func roleNames() -> [String] { state.withLock { $0.roles.keys.sorted() } }

    public func role(_ name: String) -> RoleRecord? { state.withLock { $0.roles[name] } }

    public func createRole(_ name: String) throws(ElanusError) {
        try AccessCatalog.validateName(name, kind: "role")
        try mutate { (state: inout State) throws(ElanusError) -> [MetaMutation] in
            guard state.roles[name] == nil else { throw .badRequest("role already exists: \(name)") }
            guard state.roles.count < AccessCatalog.maxRoles else {
                throw .badRequest("unable to create role because the number of roles has reached the limit \(AccessCatalog.maxRoles)")
            }
            let role = RoleRecord(name: name, grants: [])
            state.roles[name] = role
            return [try Self.put(role)]
        }
    }

    /// Drops a role and takes it from every user that has it. A role that still holds
    /// privileges is refused unless `force`, as in Milvus.
    public func dropRole(_ name: String, force: Bool) throws(ElanusError) {
        guard name != AccessCatalog.admin && name != AccessCatalog.publicRole else {
            throw .invalidParameter("the built-in role \(name) cannot be dropped")
        }
        try mutate { (state: inout State) throws(ElanusError) -> [MetaMutation] in
            guard let role = state.roles[name] else { throw .invalidParameter("role \(name) not found") }
            guard role.grants.isEmpty || force else {
                throw .invalidParameter("role \(name) still holds \(role.grants.count) privileges: revoke them first, or drop it with forceDrop")
            }
            state.roles[name] = nil
            var ops: [MetaMutation] = [.delete(AccessCatalog.rolePrefix + name)]
            for (user, record) in state.users where record.roles.contains(name) {
                state.users[user]!.roles.removeAll { $0 == name }
                ops.append(try Self.put(state.users[user]!))
            }
            return ops
        }
    }

    /// Gives `role` to `user` (`grant`) or takes it away.
    public func setRole(_ role: String, of user: String, granted: Bool) throws(ElanusError) {
        try mutate { (state: inout State) throws(ElanusError) -> [MetaMutation] in
            guard state.users[user] != nil else { throw .invalidParameter("user \(user) not found") }
            guard state.roles[role] != nil else { throw .invalidParameter("role \(role) not found") }
            guard granted != state.users[user]!.roles.contains(role) else { return [] }
            if granted { state.users[user]!.roles.append(role) } else { state.users[user]!.roles.removeAll { $0 == role } }
            return [try Self.put(state.users[user]!)]
        }
    }

    /// Adds `grant` to `role` (`granted`) or removes it; granting twice or revoking what is
    /// not granted changes nothing. The privilege must be known: a privilege, a built-in or
    /// custom group, or `*`.
    public func setGrant(_ grant: Grant, of role: String, granted: Bool) throws(ElanusError) {
        try mutate { (state: inout State) throws(ElanusError) -> [MetaMutation] in
            guard var record = state.roles[role] else { throw .invalidParameter("role \(role) not found") }
            if granted {
                try Self.validate(grant, groups: state.groups)
                guard !record.grants.contains(where: { $0.sameTarget(grant) }) else { return [] }
                record.grants.append(grant)
            } else {
                guard record.grants.contains(where: { $0.sameTarget(grant) }) else { return [] }
                record.grants.removeAll { $0.sameTarget(grant) }
            }
            state.roles[role] = record
            return [try Self.put(record)]
        }
    }

    static func validate(_ grant: Grant, groups: [String: PrivilegeGroupRecord]) throws(ElanusError) {
        guard Privilege.objectTypes.contains(grant.objectType) else {
            throw .invalidParameter("invalid object type \(grant.objectType), expected one of Global, Collection, User")
        }
        let name = grant.privilege
        if Privilege.all.contains(name) || Privilege.builtInGroups[name] != nil || groups[name] != nil { return }
        guard let level = Privilege.levels[name] else { throw .invalidParameter("not found the privilege name[\(name)]") }
        guard level.objectType == grant.objectType else {
            throw .invalidParameter("privilege \(name) applies to object type \(level.objectType), not \(grant.objectType)")
        }
    }

    // MARK: Privilege groups

    public func groups() -> [PrivilegeGroupRecord] { state.withLock { $0.groups.values.sorted { $0.name < $1.name } } }

    public func createGroup(_ name: String) throws(ElanusError) {
        try AccessCatalog.validateGroupName(name)
        try mutate { (state: inout State) throws(ElanusError) -> [MetaMutation] in
            guard state.groups[name] == nil else { throw ElanusError(.invalidPrivilegeGroupName, "privilege group \(name) already exists") }
            let group = PrivilegeGroupRecord(name: name, privileges: [])
            state.groups[name] = group
            return [try Self.put(group)]
        }
    }

    /// Drops a custom group; one still granted to a role is refused.
    public func dropGroup(_ name: String) throws(ElanusError) {
        try mutate { (state: inout State) throws(ElanusError) -> [MetaMutation] in
            guard state.groups[name] != nil else { return [] }
            if let role = state.roles.values.first(where: { $0.grants.contains { $0.privilege == name } }) {
                throw .invalidParameter("privilege group \(name) is granted to role \(role.name): revoke it first")
            }
            state.groups[name] = nil
            return [.delete(AccessCatalog.groupPrefix + name)]
        }
    }

    /// Adds privileges to a custom group (`add`) or removes them. Only plain privileges go in a group.
    public func setGroupPrivileges(_ name: String, _ privileges: [String], add: Bool) throws(ElanusError) {
        for privilege in privileges where Privilege.levels[privilege] == nil {
            throw .invalidParameter("not found the privilege name[\(privilege)]: a privilege group holds privileges, not groups")
        }
        try mutate { (state: inout State) throws(ElanusError) -> [MetaMutation] in
            guard var group = state.groups[name] else { throw ElanusError(.invalidPrivilegeGroupName, "privilege group \(name) not found") }
            if add {
                for privilege in privileges where !group.privileges.contains(privilege) { group.privileges.append(privilege) }
            } else {
                group.privileges.removeAll { privileges.contains($0) }
            }
            state.groups[name] = group
            return [try Self.put(group)]
        }
    }

    /// Milvus's 1402 for a group name that is not a valid name or clashes with a built-in one.
    static func validateGroupName(_ name: String) throws(ElanusError) {
        do {
            try validateName(name, kind: "privilege group")
        } catch {
            throw ElanusError(.invalidPrivilegeGroupName, error.message)
        }
        guard Privilege.builtInGroups[name] == nil && Privilege.levels[name] == nil && !Privilege.all.contains(name) else {
            throw ElanusError(.invalidPrivilegeGroupName, "privilege group name \(name) is a built-in privilege or group name")
        }
    }

    // MARK: Checks

    /// Whether `user` holds `requirement`: root and holders of `admin` hold everything; everyone
    /// holds `public`'s privileges.
    public func permits(_ user: String, _ requirement: Privilege.Requirement) -> Bool {
        if user == AccessCatalog.root { return true }
        return state.withLock { state in
            guard let record = state.users[user] else { return false }
            if record.roles.contains(AccessCatalog.admin) { return true }
            let groups = state.groups.mapValues(\.privileges)
            let grants = (record.roles + [AccessCatalog.publicRole]).flatMap { state.roles[$0]?.grants ?? [] } + Privilege.publicDefaults
            return grants.contains { $0.covers(requirement, groups: groups) }
        }
    }

    // MARK: Commit

    /// Applies `change` to a copy of the state, commits the records it returns, then publishes
    /// the copy. A throw or a failed commit leaves memory as it was.
    private func mutate(_ change: (inout State) throws(ElanusError) -> [MetaMutation]) throws(ElanusError) {
        try state.withLock { (current: inout State) throws(ElanusError) in
            var next = current
            let ops = try change(&next)
            guard !ops.isEmpty else { return }
            try store.commit(ops)
            current = next
        }
    }

    private static func put(_ user: UserRecord) throws(ElanusError) -> MetaMutation { .put(userPrefix + user.name, try Keys.encode(user)) }
    private static func put(_ role: RoleRecord) throws(ElanusError) -> MetaMutation { .put(rolePrefix + role.name, try Keys.encode(role)) }
    private static func put(_ group: PrivilegeGroupRecord) throws(ElanusError) -> MetaMutation { .put(groupPrefix + group.name, try Keys.encode(group)) }
}
