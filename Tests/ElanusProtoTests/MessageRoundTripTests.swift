import ElanusProto
import Foundation
import SwiftProtobuf
import Testing

/// Messages a gRPC front end reads and writes survive serialization with every value intact,
/// including the ones nested as bytes (a schema inside CreateCollectionRequest, vectors inside a
/// PlaceholderGroup inside SearchRequest).
@Suite struct MessageRoundTripTests {
    static func schema() -> Milvus_Proto_Schema_CollectionSchema {
        var id = Milvus_Proto_Schema_FieldSchema()
        id.fieldID = 100
        id.name = "id"
        id.dataType = .int64
        id.isPrimaryKey = true
        id.autoID = true
        var vector = Milvus_Proto_Schema_FieldSchema()
        vector.fieldID = 101
        vector.name = "vector"
        vector.dataType = .floatVector
        vector.typeParams = [keyValue("dim", "3")]
        var schema = Milvus_Proto_Schema_CollectionSchema()
        schema.name = "demo"
        schema.fields = [id, vector]
        schema.enableDynamicField = true
        return schema
    }

    static func keyValue(_ key: String, _ value: String) -> Milvus_Proto_Common_KeyValuePair {
        var pair = Milvus_Proto_Common_KeyValuePair()
        pair.key = key
        pair.value = value
        return pair
    }

    static func roundTrip<M: SwiftProtobuf.Message & Equatable>(_ message: M) throws -> M {
        let bytes: [UInt8] = try message.serializedBytes()
        return try M(serializedBytes: bytes)
    }

    @Test func createCollectionRequestWithSchema() throws {
        var request = Milvus_Proto_Milvus_CreateCollectionRequest()
        request.dbName = "default"
        request.collectionName = "demo"
        request.schema = try Self.schema().serializedBytes()
        request.shardsNum = 1
        request.consistencyLevel = .strong
        request.properties = [Self.keyValue("collection.ttl.seconds", "60")]

        let decoded = try Self.roundTrip(request)
        #expect(decoded == request)
        #expect(try Milvus_Proto_Schema_CollectionSchema(serializedBytes: decoded.schema) == Self.schema())
    }

    @Test func insertRequestWithEveryColumnKind() throws {
        var ids = Milvus_Proto_Schema_FieldData()
        ids.type = .int64
        ids.fieldName = "id"
        ids.scalars.longData.data = [7, -1, .max]
        var vectors = Milvus_Proto_Schema_FieldData()
        vectors.type = .floatVector
        vectors.fieldName = "vector"
        vectors.vectors.dim = 2
        vectors.vectors.floatVector.data = [0.5, -0.25, .greatestFiniteMagnitude, 0, 1, 2]
        var titles = Milvus_Proto_Schema_FieldData()
        titles.type = .varChar
        titles.fieldName = "title"
        titles.scalars.stringData.data = ["", "héllo", "x"]
        var json = Milvus_Proto_Schema_FieldData()
        json.type = .json
        json.fieldName = "meta"
        json.scalars.jsonData.data = [Data(#"{"a":[1,2]}"#.utf8), Data("null".utf8)]
        json.validData = [true, false, true]

        var request = Milvus_Proto_Milvus_InsertRequest()
        request.collectionName = "demo"
        request.partitionName = "_default"
        request.numRows = 3
        request.fieldsData = [ids, vectors, titles, json]

        let decoded = try Self.roundTrip(request)
        #expect(decoded == request)
        #expect(decoded.fieldsData[1].vectors.floatVector.data.count == 6)
        #expect(decoded.fieldsData[3].validData == [true, false, true])
        // The column kind is a oneof: a scalar column has no vectors.
        #expect(decoded.fieldsData[0].vectors == Milvus_Proto_Schema_VectorField())
    }

    @Test func searchRequestWithPlaceholderGroup() throws {
        var placeholder = Milvus_Proto_Common_PlaceholderValue()
        placeholder.tag = "$0"
        placeholder.type = .floatVector
        placeholder.values = [[Float(1), 2, 3], [4, 5, 6]].map { vector in
            Data(vector.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init) })
        }
        var group = Milvus_Proto_Common_PlaceholderGroup()
        group.placeholders = [placeholder]

        var request = Milvus_Proto_Milvus_SearchRequest()
        request.collectionName = "demo"
        request.dsl = "id > 0"
        request.dslType = .boolExprV1
        request.placeholderGroup = try group.serializedBytes()
        request.nq = 2
        request.searchParams = [Self.keyValue("anns_field", "vector"), Self.keyValue("topk", "10"), Self.keyValue("metric_type", "COSINE")]

        let decoded = try Self.roundTrip(request)
        #expect(decoded == request)
        let decodedGroup = try Milvus_Proto_Common_PlaceholderGroup(serializedBytes: decoded.placeholderGroup)
        #expect(decodedGroup.placeholders[0].values.map(littleEndianFloats) == [[1, 2, 3], [4, 5, 6]])
    }

    @Test func queryResults() throws {
        var count = Milvus_Proto_Schema_FieldData()
        count.type = .int64
        count.fieldName = "count(*)"
        count.scalars.longData.data = [42]
        var results = Milvus_Proto_Milvus_QueryResults()
        results.status.code = 0
        results.fieldsData = [count]
        results.collectionName = "demo"
        results.outputFields = ["count(*)"]

        #expect(try Self.roundTrip(results) == results)

        var failed = Milvus_Proto_Milvus_QueryResults()
        failed.status.code = 100
        failed.status.reason = "collection not found[collection=demo]"
        let decoded = try Self.roundTrip(failed)
        #expect(decoded.status.code == 100)
        #expect(decoded.fieldsData.isEmpty)
    }

    /// A newer client may send fields this version does not know; they must survive a decode and
    /// re-encode rather than fail the request.
    @Test func unknownFieldsAreKept() throws {
        var request = Milvus_Proto_Milvus_HasCollectionRequest()
        request.collectionName = "demo"
        var bytes: [UInt8] = try request.serializedBytes()
        bytes += [0xF8, 0x3E, 0x01]  // field 1007, varint 1: not in milvus.proto
        let decoded = try Milvus_Proto_Milvus_HasCollectionRequest(serializedBytes: bytes)
        #expect(decoded.collectionName == "demo")
        #expect(Array(decoded.unknownFields.data) == [0xF8, 0x3E, 0x01])
        #expect(try decoded.serializedBytes() == bytes)
    }
}
