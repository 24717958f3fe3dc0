/// Batches written under an older schema: a field added to the collection afterwards has no
/// column in them (growing segments, segment files and WAL records are never rewritten for a
/// schema change). `conformed(to:)` gives such a batch the column every row of it reads: the
/// field's default value, or null.
extension EntityBatch {
    /// Whether some field of `fields` has no column here.
    public func lacksColumn(of fields: [FieldSchema]) -> Bool {
        fields.contains { column($0.fieldID) == nil }
    }

    /// The batch with a column for every field of `fields`, the missing ones appended in the
    /// order of `fields` (added fields come last in a schema, so schema order is kept) and
    /// filled with `FieldValue.missing`. A batch that lacks nothing is returned as it is.
    public func conformed(to fields: [FieldSchema]) -> EntityBatch {
        guard lacksColumn(of: fields) else { return self }
        var out = self
        for field in fields where column(field.fieldID) == nil {
            var builder = ColumnBuilder(field: field)
            builder.reserve(rowCount)
            let value = FieldValue.missing(field) ?? .null
            for _ in 0..<rowCount { builder.append(value) }
            out.columns.append(builder.build())
        }
        return out
    }
}
