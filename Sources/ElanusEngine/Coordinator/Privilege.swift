import ElanusCore

/// Milvus's privilege vocabulary: the privileges, the object each applies to, the built-in
/// privilege groups, and what one grant covers. Pure values; the access catalog stores grants
/// and the server maps each route to the privilege it needs.
public enum Privilege {
    /// Where a privilege applies. Cluster privileges ignore the database; database privileges
    /// apply to one database (or `*`); collection privileges to one collection in one database;
    /// user privileges to one user.
    public enum Level: Sendable {
        case cluster, database, collection, user

        /// The v1 grant API's `objectType` for this level.
        public var objectType: String {
            switch self {
            case .cluster, .database: "Global"
            case .collection: "Collection"
            case .user: "User"
            }
        }
    }

    /// `*` (or `All`) in a grant stands for every privilege.
    public static let all: Set<String> = ["*", "All"]
    public static let objectTypes: Set<String> = ["Global", "Collection", "User"]

    public static let levels: [String: Level] = {
        var levels: [String: Level] = [:]
        for name in [
            "CreateDatabase", "DropDatabase", "ListDatabases", "RenameCollection", "FlushAll", "BackupRBAC",
            "CreateOwnership", "DropOwnership", "SelectOwnership", "ManageOwnership",
            "CreatePrivilegeGroup", "DropPrivilegeGroup", "ListPrivilegeGroups", "OperatePrivilegeGroup",
            "CreateResourceGroup", "DropResourceGroup", "DescribeResourceGroup", "ListResourceGroups", "UpdateResourceGroups",
            "TransferReplica",
        ] { levels[name] = .cluster }
        for name in [
            "CreateCollection", "DropCollection", "DescribeCollection", "ShowCollections", "DescribeDatabase", "AlterDatabase",
            "CreateAlias", "DropAlias", "DescribeAlias", "ListAliases",
        ] { levels[name] = .database }
        for name in [
            "Query", "Search", "IndexDetail", "GetFlushState", "GetLoadState", "GetLoadingProgress", "HasPartition", "ShowPartitions",
            "CreateIndex", "DropIndex", "Insert", "Delete", "Upsert", "Import", "Flush", "Compaction", "LoadBalance", "Load",
            "Release", "GetStatistics", "CreatePartition", "DropPartition",
        ] { levels[name] = .collection }
        for name in ["UpdateUser", "SelectUser"] { levels[name] = .user }
        return levels
    }()

    /// Milvus 2.5's built-in privilege groups, each a superset of the one before it.
    public static let builtInGroups: [String: (level: Level, privileges: [String])] = {
        let collectionRead = [
            "Query", "Search", "IndexDetail", "GetFlushState", "GetLoadState", "GetLoadingProgress", "HasPartition",
            "ShowPartitions", "DescribeCollection", "DescribeAlias", "GetStatistics", "ListAliases",
        ]
        let collectionWrite = collectionRead + [
            "Load", "Release", "Insert", "Delete", "Upsert", "Import", "Flush", "Compaction", "LoadBalance",
            "CreateIndex", "DropIndex", "CreatePartition", "DropPartition",
        ]
        let databaseRead = ["ShowCollections", "DescribeDatabase"]
        let clusterRead = ["ListDatabases", "SelectOwnership", "SelectUser", "ListPrivilegeGroups", "DescribeResourceGroup", "ListResourceGroups"]
        let clusterWrite = clusterRead + ["FlushAll"]
        return [
            "CollectionReadOnly": (.collection, collectionRead),
            "CollectionReadWrite": (.collection, collectionWrite),
            "CollectionAdmin": (.collection, collectionWrite + ["CreateAlias", "DropAlias"]),
            "DatabaseReadOnly": (.database, databaseRead),
            "DatabaseReadWrite": (.database, databaseRead + ["AlterDatabase"]),
            "DatabaseAdmin": (.database, databaseRead + ["AlterDatabase", "CreateCollection", "DropCollection"]),
            "ClusterReadOnly": (.cluster, clusterRead),
            "ClusterReadWrite": (.cluster, clusterWrite),
            "ClusterAdmin": (.cluster, clusterWrite + [
                "CreateDatabase", "DropDatabase", "CreateOwnership", "DropOwnership", "ManageOwnership", "UpdateUser",
                "RenameCollection", "CreatePrivilegeGroup", "DropPrivilegeGroup", "OperatePrivilegeGroup", "BackupRBAC",
                "CreateResourceGroup", "DropResourceGroup", "UpdateResourceGroups", "TransferReplica",
            ]),
        ]
    }()

    /// What the built-in `public` role holds without any grant, as Milvus initialises it: every
    /// user may list and describe collections and see their indexes.
    public static let publicDefaults: [Grant] = [
        Grant(objectType: "Global", objectName: "*", dbName: "*", privilege: "DescribeCollection", grantor: "root"),
        Grant(objectType: "Global", objectName: "*", dbName: "*", privilege: "ShowCollections", grantor: "root"),
        Grant(objectType: "Collection", objectName: "*", dbName: "*", privilege: "IndexDetail", grantor: "root"),
    ]

    /// One privilege a request needs, on its object.
    public struct Requirement: Sendable, Equatable {
        public var privilege: String
        public var database: String
        /// The collection for collection privileges, the user for user privileges; `*` when the
        /// request names none (then only a grant on `*` covers it).
        public var object: String

        public init(privilege: String, database: String, object: String) {
            self.privilege = privilege
            self.database = database
            self.object = object
        }

        public var level: Level { Privilege.levels[privilege] ?? .cluster }
    }
}

/// One privilege (or privilege group, or `*`) granted to a role on an object, in the v1 grant
/// API's terms; the v2 API's grants are stored in the same form.
public struct Grant: Codable, Sendable, Equatable, Hashable {
    public var objectType: String
    public var objectName: String
    public var dbName: String
    public var privilege: String
    public var grantor: String

    public init(objectType: String, objectName: String, dbName: String, privilege: String, grantor: String) {
        self.objectType = objectType
        self.objectName = objectName
        self.dbName = dbName
        self.privilege = privilege
        self.grantor = grantor
    }

    /// The same grant, whoever made it.
    func sameTarget(_ other: Grant) -> Bool {
        objectType == other.objectType && objectName == other.objectName && dbName == other.dbName && privilege == other.privilege
    }

    /// Whether this grant gives `requirement`; `groups` are the custom privilege groups.
    func covers(_ requirement: Privilege.Requirement, groups: [String: [String]]) -> Bool {
        let named = privilege == requirement.privilege || Privilege.all.contains(privilege)
            || Privilege.builtInGroups[privilege]?.privileges.contains(requirement.privilege) == true
            || groups[privilege]?.contains(requirement.privilege) == true
        guard named else { return false }
        let database = dbName == "*" || dbName == requirement.database
        func object(_ type: String) -> Bool { objectType == type && (objectName == "*" || objectName == requirement.object) }
        switch requirement.level {
        case .cluster: return true
        case .database: return database && (objectType == "Global" || (objectType == "Collection" && objectName == "*"))
        case .collection: return database && (objectType == "Global" || object("Collection"))
        case .user: return objectType == "Global" || object("User")
        }
    }
}
