/// Schema evolution: the checks a field must pass to be added to an existing collection
/// (`collections/fields/add`), and to have its type params altered (`fields/alter_properties`).
///
/// Rows written before the field existed read its default value, or null; that is why Milvus
/// lets only nullable scalar fields be added, and never a primary, partition or vector field.
extension CollectionSchema {
    /// Names Milvus reserves for its system fields.
    public static let systemFieldNames = ["RowID", "Timestamp", "$meta", "$namespace_id"]

    /// Checks `field` as Milvus 2.6 checks an added field, in its order; throws 1100 with
    /// Milvus's message.
    public func validateAddedField(_ field: FieldSchema, limits: SchemaLimits = SchemaLimits()) throws(ElanusError) {
        let name = field.name
        if fields.count >= limits.maxFields {
            throw .invalidParameter("The number of fields has reached the maximum value \(limits.maxFields)")
        }
        if field.dataType.isVector { throw .invalidParameter("not support to add vector field, field name = \(name)") }
        if CollectionSchema.systemFieldNames.contains(name) {
            throw .invalidParameter("not support to add system field, field name = \(name)")
        }
        if field.isPrimary { throw .invalidParameter("not support to add pk field, field name = \(name)") }
        if !field.nullable { throw .invalidParameter("added field must be nullable, please check it, field name = \(name)") }
        if field.autoID { throw .invalidParameter("only primary field can speficy AutoID with true, field name = \(name)") }
        // Milvus's message has the double space.
        if field.isPartitionKey { throw .invalidParameter("not support to add partition key field, field name  = \(name)") }
        if field.isClusteringKey && fields.contains(where: \.isClusteringKey) {
            throw .invalidParameter("already has another clutering key field, field name: \(name)")
        }
        try validateName(name, kind: .field, limits: limits)
        try field.validate(limits: limits)
        if self.field(named: name) != nil { throw .invalidParameter("duplicate field name: \(name)") }
    }

    /// The id an added field gets: one past the highest in use, as Milvus's root coordinator
    /// assigns it (ids are never reused, so rows written before never hold a column with it).
    public var nextFieldID: Int64 { (fields.map(\.fieldID).max() ?? 99) + 1 }
}

/// The field type params `fields/alter_properties` may change, as Milvus 2.6 allows them.
public enum FieldProperty {
    public static let maxLength = "max_length"
    public static let maxCapacity = "max_capacity"
    public static let mmapEnabled = "mmap.enabled"
    public static let allowInsertAutoID = "allow_insert_auto_id"
    public static let alterable = [maxLength, mmapEnabled, maxCapacity, allowInsertAutoID]

    /// The key as stored: Milvus accepts `mmap_enabled` for `mmap.enabled`.
    public static func canonical(_ key: String) -> String { key == "mmap_enabled" ? mmapEnabled : key }
}
