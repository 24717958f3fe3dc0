import ElanusCore

/// Schema evolution: `collections/fields/add`.
///
/// Nothing on disk is rewritten. Segment files, growing segments and WAL records written before
/// the add keep their columns; the data node gives every chunk it holds the new field's column
/// (its default value, or null) as the chunk comes into memory (Segment+Schema), so a row
/// written before the add reads the same before and after a flush, a compaction or a restart.
extension Engine {
    /// Adds `field` to the collection. The data node learns the field under the catalog lock,
    /// after the commit and before the schema is published (see `Catalog.addField`).
    public func addField(database: String, collection: String, _ field: FieldSchema) throws(ElanusError) {
        try catalog.addField(database: database, collection: collection, field) { info in
            // data(for:) fails only for a collection without a primary key, which the catalog
            // never holds.
            (try? data(for: info))?.adopt(info.schema.fields)
        }
    }
}
