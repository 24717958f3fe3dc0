import ElanusCore
import Foundation

/// The time zone of a collection's Timestamptz values, as Milvus 2.6 layers it: a read's own
/// `timezone` parameter, else the collection's `timezone` property, else its database's, else
/// UTC. Writes use the same chain without the first step, for values given without an offset.
extension Engine {
    public func timeZone(_ info: CollectionInfo, requested: String? = nil) throws(ElanusError) -> TimeZone {
        if let requested, !requested.isEmpty { return try Timestamptz.zone(requested) }
        if let name = info.properties[Timestamptz.propertyKey] { return try Timestamptz.zone(name) }
        if let name = catalog.databaseProperties(id: info.databaseID)?[Timestamptz.propertyKey] { return try Timestamptz.zone(name) }
        return Timestamptz.utc
    }
}

extension Catalog {
    /// The properties of the database with `id`, nil when there is none.
    public func databaseProperties(id: Int64) -> [KeyValue]? {
        state.withLock { s in s.databases.values.first(where: { $0.id == id })?.properties }
    }
}

extension CollectionInfo {
    /// The zone `describe` writes a Timestamptz default value in: the collection's `timezone`
    /// property, else UTC, as Milvus's describe reads the collection's properties alone. Every
    /// collection created since the zone is fixed at creation has the property.
    public var describedZone: TimeZone {
        properties[Timestamptz.propertyKey].flatMap { TimeZone(identifier: $0) } ?? Timestamptz.utc
    }
}
