import ElanusCore
import ElanusStorage

/// Collection aliases, as Milvus keeps them: per database, each naming one collection, never
/// equal to a collection name in that database. Every lookup of a collection by name
/// (`State.collection`) resolves aliases, so reads, writes, describe, load and indexes accept
/// them; dropping or renaming a collection needs its own name.
extension Catalog {
    /// Creates `alias` for `collection`. Creating it again for the same collection succeeds.
    public func createAlias(database: String, alias: String, collection: String) throws(ElanusError) {
        try validateName(alias, kind: .alias, limits: limits)
        try state.withLock { s throws(ElanusError) in
            let (db, id) = try s.aliasTarget(database: database, alias: alias, collection: collection)
            if let existing = s.aliases[db.id]?[alias] {
                if existing.collectionID == id { return }
                let other = s.collections[existing.collectionID]?.name ?? String(existing.collectionID)
                throw ElanusError(
                    .aliasAlreadyExists, "\(alias) is alias to another collection: \(other): alias already exist[database=\(database)][alias=\(alias)]")
            }
            try s.putAlias(AliasInfo(name: alias, databaseID: db.id, collectionID: id, createdAt: clock()), store)
        }
    }

    /// Points an existing alias at another collection.
    public func alterAlias(database: String, alias: String, collection: String) throws(ElanusError) {
        try validateName(alias, kind: .alias, limits: limits)
        try state.withLock { s throws(ElanusError) in
            let (db, id) = try s.aliasTarget(database: database, alias: alias, collection: collection)
            guard var info = s.aliases[db.id]?[alias] else { throw Catalog.aliasNotFound(database, alias) }
            guard info.collectionID != id else { return }
            info.collectionID = id
            info.createdAt = clock()
            try s.putAlias(info, store)
        }
    }

    /// Drops an alias; dropping one that does not exist succeeds, as in Milvus.
    public func dropAlias(database: String, alias: String) throws(ElanusError) {
        try validateName(alias, kind: .alias, limits: limits)
        try state.withLock { s throws(ElanusError) in
            let db = try s.database(database)
            guard s.aliases[db.id]?[alias] != nil else { return }
            try store.commit([.delete(Keys.alias(database: db.id, name: alias))])
            s.aliases[db.id]?[alias] = nil
        }
    }

    /// The collection `alias` names.
    public func describeAlias(database: String, alias: String) throws(ElanusError) -> CollectionInfo {
        try state.withLock { s throws(ElanusError) in
            let db = try s.database(database)
            guard let id = s.aliases[db.id]?[alias]?.collectionID, let info = s.collections[id] else {
                throw Catalog.aliasNotFound(database, alias)
            }
            return info
        }
    }

    /// The aliases of a database, or of one collection in it (named by its own name or an alias).
    public func listAliases(database: String, collection: String? = nil) throws(ElanusError) -> [String] {
        try state.withLock { s throws(ElanusError) in
            let db = try s.database(database)
            guard let collection else { return (s.aliases[db.id] ?? [:]).keys.sorted() }
            return s.aliasNames(of: try s.collection(database: database, name: collection).id)
        }
    }

    /// The collection's own name for `name`, which may be an alias; nil when neither exists.
    public func resolvedName(database: String, name: String) -> String? {
        state.withLock { s in try? s.collection(database: database, name: name).name }
    }

    static func aliasNotFound(_ database: String, _ alias: String) -> ElanusError {
        ElanusError(.aliasNotFound, "alias not found[database=\(database)][alias=\(alias)]")
    }

    static func aliasConflict(_ database: String, _ alias: String) -> ElanusError {
        ElanusError(.aliasConflict, "alias and collection name conflict[database=\(database)][alias=\(alias)]")
    }
}

extension Catalog.State {
    /// The database and the collection id an alias may name: `alias` must not be a collection
    /// name, and `collection` must be a collection's own name (an alias of an alias is not one).
    func aliasTarget(database: String, alias: String, collection: String) throws(ElanusError) -> (DatabaseInfo, Int64) {
        let db = try self.database(database)
        if names[db.id]?[alias] != nil { throw Catalog.aliasConflict(database, alias) }
        guard let id = names[db.id]?[collection] else { throw ElanusError.collectionNotFound(database: database, collection: collection) }
        return (db, id)
    }

    /// The aliases of collection `id`, sorted.
    func aliasNames(of id: Int64) -> [String] {
        aliases.values.flatMap { $0.values.filter { $0.collectionID == id }.map(\.name) }.sorted()
    }

    /// Commits `alias` (synced) and only then publishes it.
    mutating func putAlias(_ alias: AliasInfo, _ store: any MetaStore) throws(ElanusError) {
        try store.commit([.put(Keys.alias(database: alias.databaseID, name: alias.name), try Keys.encode(alias))])
        aliases[alias.databaseID, default: [:]][alias.name] = alias
    }
}
