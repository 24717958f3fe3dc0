import ElanusCore

/// Upsert with `partialUpdate`: fields a row leaves out keep the values of the existing row with
/// the same primary key. A row whose key does not exist yet is a plain insert, so its absent
/// fields must be nullable or have a default.
enum PartialUpdate {
    /// `existing(key)` returns the stored row (one-row batch) of a key, or nil; it throws when
    /// the row exists but cannot be read.
    static func merge(
        _ batch: EntityBatch, absent: [[Int64]], schema: CollectionSchema, primaryKeys: [PrimaryKey],
        existing: (PrimaryKey) throws(ElanusError) -> EntityBatch?
    ) throws(ElanusError) -> EntityBatch {
        guard absent.contains(where: { !$0.isEmpty }) else { return batch }
        var builders = batch.columns.map { ColumnBuilder(like: $0) }
        var dynamic = batch.dynamic
        for row in 0..<batch.rowCount {
            let old = absent[row].isEmpty ? nil : try existing(primaryKeys[row])
            for (c, column) in batch.columns.enumerated() {
                guard absent[row].contains(column.fieldID) else {
                    builders[c].append(column.value(at: row))
                    continue
                }
                if let old, let oldColumn = old.column(column.fieldID) {
                    builders[c].append(oldColumn.value(at: 0))
                } else if let field = schema.fields.first(where: { $0.fieldID == column.fieldID }), let value = FieldValue.missing(field) {
                    builders[c].append(value)
                } else {
                    let name = schema.fields.first(where: { $0.fieldID == column.fieldID })?.name ?? "\(column.fieldID)"
                    throw ElanusError(
                        .insertData,
                        "fail to deal the insert data, error: row \(row): field '\(name)' is missing, and primary key \(primaryKeys[row]) does not exist yet, so a partial update cannot keep its old value")
                }
            }
            // Dynamic keys are merged key by key: the row's keys replace, the others stay.
            if let old, let oldObject = old.dynamic?.first, case .object(var merged) = oldObject, case .object(let given)? = dynamic?[row] {
                for member in given {
                    merged.removeAll { $0.key == member.key }
                    merged.append(member)
                }
                dynamic?[row] = .object(merged)
            }
        }
        return EntityBatch(rowCount: batch.rowCount, columns: builders.map { $0.build() }, dynamic: dynamic)
    }
}
