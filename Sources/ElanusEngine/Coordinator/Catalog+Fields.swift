import ElanusCore

/// Schema evolution in the catalog: adding a field (`collections/fields/add`) and altering a
/// field's type params (`collections/fields/alter_properties`), with Milvus 2.6's checks and
/// messages. Like every catalog change, each is validated and committed under the lock before
/// it is published.
extension Catalog {
    /// Adds `field` (validated as Milvus validates an added field) to the end of the collection's
    /// schema with the next field id, and returns the collection as committed.
    ///
    /// Ordering: `beforePublish` runs under the catalog lock after the commit and before any
    /// reader can see the new schema. The engine gives the data node the field there, so a read
    /// that plans with the new schema finds the column in every segment it snapshots, and a write
    /// decoded with the new schema is applied to segments that know the field. A commit that
    /// fails changes nothing anywhere.
    @discardableResult
    public func addField(
        database: String, collection: String, _ field: FieldSchema, beforePublish: (CollectionInfo) -> Void = { _ in }
    ) throws(ElanusError) -> CollectionInfo {
        try state.withLock { s throws(ElanusError) in
            var info = try s.collection(database: database, name: collection)
            try info.schema.validateAddedField(field, limits: limits)
            try BM25Function.validateAnalyzers(CollectionSchema(fields: [field]))
            var added = field
            // A Timestamptz default without an offset is a local time in the collection's zone
            // (fixed at its creation; collections created before that follow their database's).
            let zoneName = info.properties[Timestamptz.propertyKey] ?? s.databases.values.first(where: { $0.id == info.databaseID })?.properties[Timestamptz.propertyKey]
            try added.resolveTimestamptzDefault(in: try zoneName.map(Timestamptz.zone) ?? Timestamptz.utc)
            added.fieldID = info.schema.nextFieldID
            info.schema.fields.append(added)
            info.schemaUpdatedAt = max(clock(), (info.schemaUpdatedAt ?? info.createdAt) + 1)
            try store.commit([.put(Keys.collection(info.id), try Keys.encode(info))])
            beforePublish(info)
            s.collections[info.id] = info
            return info
        }
    }

    /// Sets type params of one field: `max_length` (VarChar, or Array of VarChar), `max_capacity`
    /// (Array), `mmap.enabled` (only while the collection is released) and
    /// `allow_insert_auto_id`. Other keys are refused. Each key is checked in the order given,
    /// then the field must exist, as Milvus's proxy and root coordinator check them.
    public func alterFieldProperties(database: String, collection: String, field name: String, set: [KeyValue]) throws(ElanusError) {
        try update(database: database, name: collection) { info throws(ElanusError) in
            var properties: [KeyValue] = []
            for kv in set { properties.set(FieldProperty.canonical(kv.key), kv.value) }
            let field = info.schema.field(named: name)
            for kv in properties {
                try Catalog.checkFieldProperty(kv, field: field, info: info, limits: limits)
            }
            if properties.isEmpty {
                throw .unexpected("The field properties to alter and keys to delete must not be empty at the same time")
            }
            guard let index = info.schema.fields.firstIndex(where: { $0.name == name }) else {
                throw .invalidParameter("field \(name) does not exist in collection")
            }
            for kv in properties { info.schema.fields[index].typeParams.set(kv.key, kv.value) }
            info.schemaUpdatedAt = max(clock(), (info.schemaUpdatedAt ?? info.createdAt) + 1)
        }
    }

    private static func checkFieldProperty(_ kv: KeyValue, field: FieldSchema?, info: CollectionInfo, limits: SchemaLimits) throws(ElanusError) {
        guard FieldProperty.alterable.contains(kv.key) else {
            throw .invalidParameter("\(kv.key) does not allow update in collection field param")
        }
        switch kv.key {
        case FieldProperty.mmapEnabled:
            if info.loaded {
                throw ElanusError(
                    .collectionLoaded,
                    "can not alter collection field properties if collection loaded: collection already loaded[collection=\(info.name)]")
            }
            guard ["true", "false"].contains(kv.value.lowercased()) else {
                throw .invalidParameter("invalid mmap.enabled value: \(kv.value), expected true or false")
            }
        case FieldProperty.maxLength:
            guard let field, field.dataType == .varChar || (field.dataType == .array && field.elementType == .varChar) else {
                // Milvus names the field only when it matched, so its message starts with a space.
                throw .invalidParameter(" can not modify the maxlength for non-string types")
            }
            guard let length = Int(kv.value) else { throw .invalidParameter("max_length should be an integer, but got string") }
            if length > limits.maxVarCharLength {
                throw .invalidParameter("\(kv.value) exceeds the maximum allowed value \(limits.maxVarCharLength)")
            }
            // Milvus does not check the lower bound here; a length below 1 would refuse every
            // value, so the create-time rule applies.
            if length < 1 {
                throw .invalidParameter(
                    "the maximum length specified for the field(\(field.name)) should be in (0, \(limits.maxVarCharLength)], but got \(kv.value) instead")
            }
        case FieldProperty.maxCapacity:
            guard let field, field.dataType == .array else {
                throw .invalidParameter(" can not modify the maxcapacity for non-array types")
            }
            guard let capacity = Int64(kv.value) else {
                throw .invalidParameter("the value for max_capacity of field \(field.name) must be an integer")
            }
            guard capacity > 0 && capacity <= Int64(limits.maxArrayCapacity) else {
                throw .invalidParameter("the maximum capacity specified for a Array should be in (0, \(limits.maxArrayCapacity)]")
            }
        case FieldProperty.allowInsertAutoID:
            guard let allow = GoBool.parse(kv.value) else {
                throw .invalidParameter("the value for allow_insert_auto_id must be a boolean")
            }
            let autoID = info.schema.primaryField?.autoID ?? false
            if allow && !autoID { throw .invalidParameter("the value for allow_insert_auto_id must be false when autoID is false") }
            // Inserting explicit keys into an autoID collection is not built: refused rather
            // than stored and ignored.
            if allow { throw .invalidParameter("allow_insert_auto_id is not supported by Elanus yet") }
        default:
            break
        }
    }
}
