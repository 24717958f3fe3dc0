import Foundation

/// Timestamptz default values are decoded as their ISO text and become instants only in the
/// catalog, where the collection's zone is known: text without an offset is a local time there,
/// as Milvus's root coordinator reads it (`CheckAndRewriteTimestampTzDefaultValue`).
extension FieldSchema {
    /// Replaces a Timestamptz default given as text by its instant, reading text without an
    /// offset in `zone`. Other fields and defaults already stored as instants are left alone.
    public mutating func resolveTimestamptzDefault(in zone: TimeZone) throws(ElanusError) {
        guard dataType == .timestamptz, case .string(let text)? = defaultValue else { return }
        guard let micros = Timestamptz.parse(text, zone: zone) else {
            throw .invalidParameter("invalid default value of field, name: \(name): \(text) is not an ISO 8601 time")
        }
        defaultValue = .int(micros)
    }
}

extension CollectionSchema {
    /// `resolveTimestamptzDefault(in:)` for every field.
    public mutating func resolveTimestamptzDefaults(in zone: TimeZone) throws(ElanusError) {
        for i in fields.indices { try fields[i].resolveTimestamptzDefault(in: zone) }
    }
}
