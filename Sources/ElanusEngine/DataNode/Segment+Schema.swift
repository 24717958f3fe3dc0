import ElanusCore

/// A segment's chunks under the collection's current schema. Chunks written before a field was
/// added (in memory, in a segment file, in a WAL record) have no column for it; the data node
/// gives every chunk it holds the missing columns (default value or null) as the chunk comes
/// into its state, so readers, filters, indexes and compaction never meet a missing column.
extension Segment {
    /// The segment with every chunk conformed to `fields` (EntityBatch.conformed), its dead
    /// bits, state and indexes kept. A released segment (keys only) is returned as it is: its
    /// columns are conformed when it is loaded again.
    func conformed(to fields: [FieldSchema]) -> Segment {
        guard !released, chunks.contains(where: { $0.batch.lacksColumn(of: fields) }) else { return self }
        var out = Segment(
            id: id, partitionID: partitionID, state: state,
            chunks: chunks.map { Chunk(timestamp: $0.timestamp, position: $0.position, batch: $0.batch.conformed(to: fields), dead: $0.dead) },
            createdAt: createdAt)
        out.indexes = indexes
        return out
    }
}

extension CollectionData {
    /// Adopts the collection's fields (the catalog's schema, which only ever gains fields) and
    /// conforms every segment in memory to them. Called when the data node state is created and
    /// by `fields/add` after the catalog committed the new field and before it publishes it, so
    /// a reader that sees the new schema finds the column in every segment it snapshots.
    /// Records applied after this get the column too (`apply`); ones decoded under the old
    /// schema read as rows written before the field existed.
    func adopt(_ fields: [FieldSchema]) {
        state.withLock { s in
            var changed = false
            for field in fields where !s.fields.contains(where: { $0.fieldID == field.fieldID }) {
                s.fields.append(field)
                changed = true
            }
            guard changed else { return }
            for (id, segment) in s.segments { s.segments[id] = segment.conformed(to: s.fields) }
        }
    }
}
