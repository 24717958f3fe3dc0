import ElanusProto
import Foundation
import SwiftProtobuf
import Testing

/// Requests serialized by pymilvus itself (version in PymilvusFixtures.version, bytes made by
/// make-pymilvus-fixtures.py) decode to the values pymilvus put in them.
@Suite struct PymilvusFixtureTests {
    static func bytes(_ base64: String) throws -> Data {
        try #require(Data(base64Encoded: base64))
    }

    @Test func madeByPymilvus26() {
        #expect(PymilvusFixtures.version.hasPrefix("2.6."))
    }

    @Test func createCollectionRequestFromMilvusClientSchema() throws {
        let request = try Milvus_Proto_Milvus_CreateCollectionRequest(serializedBytes: Self.bytes(PymilvusFixtures.createCollection))
        #expect(request.collectionName == "fixture")
        #expect(request.shardsNum == 1)
        #expect(request.consistencyLevel == .bounded)

        // The schema travels as the bytes of a serialized CollectionSchema.
        let schema = try Milvus_Proto_Schema_CollectionSchema(serializedBytes: request.schema)
        #expect(schema.name == "fixture")
        #expect(schema.description_p == "pymilvus fixture")
        #expect(schema.enableDynamicField)
        #expect(schema.fields.map(\.name) == ["id", "vector", "title", "meta"])
        #expect(schema.fields.map(\.dataType) == [.int64, .floatVector, .varChar, .json])
        #expect(schema.fields[0].isPrimaryKey && !schema.fields[0].autoID)
        #expect(schema.fields[1].typeParams.map { [$0.key, $0.value] } == [["dim", "4"]])
        #expect(schema.fields[2].typeParams.map { [$0.key, $0.value] } == [["max_length", "64"]])
        #expect(schema.fields[3].nullable)
        #expect(!schema.fields[0].nullable)
    }

    @Test func insertRequestFromRows() throws {
        let request = try Milvus_Proto_Milvus_InsertRequest(serializedBytes: Self.bytes(PymilvusFixtures.insert))
        #expect(request.collectionName == "fixture")
        #expect(request.numRows == 2)
        #expect(request.fieldsData.map(\.fieldName) == ["id", "vector", "title", "meta", "$meta"])
        let fields = Dictionary(uniqueKeysWithValues: request.fieldsData.map { ($0.fieldName, $0) })

        #expect(fields["id"]?.type == .int64)
        #expect(fields["id"]?.scalars.longData.data == [1, 2])

        let vector = try #require(fields["vector"])
        #expect(vector.type == .floatVector)
        #expect(vector.vectors.dim == 4)
        #expect(vector.vectors.floatVector.data == [0.1, 0.2, 0.3, 0.4, 1, 2, 3, 4])

        #expect(fields["title"]?.scalars.stringData.data == ["alpha", "beta"])

        // A nullable field carries values for the valid rows only.
        let meta = try #require(fields["meta"])
        #expect(meta.type == .json)
        #expect(meta.scalars.jsonData.data == [Data(#"{"k":1}"#.utf8)])
        #expect(meta.validData == [true, false])

        // Keys outside the schema go to the dynamic field, one JSON object per row.
        let dynamic = try #require(fields["$meta"])
        #expect(dynamic.isDynamic)
        #expect(dynamic.scalars.jsonData.data == [Data(#"{"color":"red"}"#.utf8), Data("{}".utf8)])
    }

    @Test func searchRequestWithPlaceholderGroup() throws {
        let request = try Milvus_Proto_Milvus_SearchRequest(serializedBytes: Self.bytes(PymilvusFixtures.search))
        #expect(request.collectionName == "fixture")
        #expect(request.dsl == "id > 0")
        #expect(request.dslType == .boolExprV1)
        #expect(request.nq == 1)
        #expect(request.outputFields == ["title"])
        #expect(request.useDefaultConsistency)
        let params = Dictionary(uniqueKeysWithValues: request.searchParams.map { ($0.key, $0.value) })
        #expect(params["topk"] == "3")
        #expect(params["metric_type"] == "L2")
        #expect(params["anns_field"] == "vector")
        #expect(params["round_decimal"] == "-1")
        #expect(params["params"] == #"{"nprobe":8,"metric_type":"L2"}"#)

        let group = try Milvus_Proto_Common_PlaceholderGroup(serializedBytes: request.placeholderGroup)
        #expect(group.placeholders.count == 1)
        let placeholder = try #require(group.placeholders.first)
        #expect(placeholder.tag == "$0")
        #expect(placeholder.type == .floatVector)
        #expect(placeholder.values.map(littleEndianFloats) == [[0.1, 0.2, 0.3, 0.4]])
    }

    @Test func queryRequest() throws {
        let request = try Milvus_Proto_Milvus_QueryRequest(serializedBytes: Self.bytes(PymilvusFixtures.query))
        #expect(request.collectionName == "fixture")
        #expect(request.expr == "id in [1, 2]")
        #expect(request.outputFields == ["id", "title"])
        #expect(request.queryParams.first { $0.key == "limit" }?.value == "10")
        #expect(request.useDefaultConsistency)
    }

    /// A server answer: Swift must write the bytes pymilvus's own types write for the same values.
    @Test func queryResultsEncodeAsPymilvusDoes() throws {
        var results = Milvus_Proto_Milvus_QueryResults()
        results.status = Milvus_Proto_Common_Status()
        var id = Milvus_Proto_Schema_FieldData()
        id.type = .int64
        id.fieldName = "id"
        id.fieldID = 100
        id.scalars.longData.data = [1, 2]
        var title = Milvus_Proto_Schema_FieldData()
        title.type = .varChar
        title.fieldName = "title"
        title.fieldID = 102
        title.scalars.stringData.data = ["alpha", "beta"]
        results.fieldsData = [id, title]
        results.collectionName = "fixture"
        results.outputFields = ["id", "title"]
        results.primaryFieldName = "id"

        let expected = try Self.bytes(PymilvusFixtures.queryResults)
        #expect(try results.serializedBytes() as Data == expected)
        #expect(try Milvus_Proto_Milvus_QueryResults(serializedBytes: expected) == results)
    }
}

/// A placeholder value as pymilvus packs a float vector: little-endian IEEE 754 floats.
func littleEndianFloats(_ data: Data) -> [Float] {
    stride(from: 0, to: data.count, by: 4).map { offset in
        let bits = data.dropFirst(offset).prefix(4).enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * $1.offset) }
        return Float(bitPattern: bits)
    }
}
