import ElanusCore

/// An insert or upsert body, read in one pass: every key but `data` becomes a RequestBody, and
/// `data` is stepped over (syntax-checked, nothing allocated) and remembered by offset. Row keys
/// are field names: they are matched exactly, never as Go struct fields. The rows
/// are decoded afterwards, once the collection's schema is known, because `data` may come
/// before `collectionName`.
struct EntityRequest {
    let body: RequestBody
    let bytes: [UInt8]
    /// Where the `data` value starts, nil when absent or null.
    let dataOffset: Int?

    init(bytes: [UInt8], structName: String) throws(ElanusError) {
        try RequestBody.checkNotEmpty(bytes)
        self.bytes = bytes
        let firstByte = bytes.first(where: { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D) })
        guard firstByte == UInt8(ascii: "{") else {
            // `null`, or not an object: the generic body accepts the one and words the other's error.
            body = try RequestBody(bytes: bytes, structName: structName)
            dataOffset = nil
            return
        }
        var members: [(key: String, value: JSON)] = []
        var dataOffset: Int?
        var seenData = false
        do {
            try bytes.withUnsafeBufferPointer { buffer throws(JSONParseError) in
                var reader = JSONReader(bytes: buffer)
                try reader.beginObject()
                var first = true
                while let key = try reader.nextMember(&first) {
                    if key == "data" {
                        // Milvus reads the rows with gjson, which takes the first `data` and
                        // matches the key exactly.
                        if !seenData { dataOffset = reader.peek() == UInt8(ascii: "n") ? nil : reader.index }
                        seenData = true
                        try reader.skipValue()
                    } else {
                        members.append((key: key, value: try reader.readValue()))
                    }
                }
                try reader.expectEnd()
            }
        } catch {
            throw ElanusError(.invalidJSON, "can only accept json format request, error: \(error.description)")
        }
        self.body = RequestBody(members: members, structName: structName)
        self.dataOffset = dataOffset
    }

    /// Decodes the rows against `schema`; a missing `data` is a missing required parameter.
    func decodeRows(schema: CollectionSchema, options: EntityRowDecoder.Options) throws(ElanusError) -> EntityRowDecoder.Result {
        guard let dataOffset else { throw body.missing("data") }
        let decoder = EntityRowDecoder(schema: schema, options: options)
        return try bytes.withUnsafeBufferPointer { buffer throws(ElanusError) in
            var reader = JSONReader(bytes: buffer)
            reader.rewind(to: dataOffset)
            return try decoder.decode(&reader)
        }
    }
}
