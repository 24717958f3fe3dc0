import ElanusCore
import Testing

@Suite struct EntityDecodingTests {
    /// The fast number path must agree with the standard library's correctly rounded parser.
    @Test func fastNumbersMatchTheStandardLibrary() throws {
        var rng = SystemRandomNumberGenerator()
        var texts = ["0.1", "-0.0", "1e22", "1e23", "123456789012345678901234", "0.000001234", "9007199254740993",
            "2.2250738585072014e-308", "1.7976931348623157e308", "-3.4028235e38", "0.30000000000000004", "5e-324"]
        for _ in 0..<20_000 {
            let value = Double.random(in: -1e6...1e6, using: &rng) * pow10(Int.random(in: -30...30, using: &rng))
            texts.append(value.description)
            texts.append(String(Float(value).description))
        }
        for text in texts {
            let parsed = try JSON.parse(text)
            let expected = Double(text)!
            switch parsed {
            case .double(let d): #expect(d == expected || (d.isZero && expected.isZero), "\(text)")
            case .int(let i): #expect(Double(i) == expected, "\(text)")
            default: Issue.record("\(text) parsed as \(parsed)")
            }
        }
    }

    func pow10(_ e: Int) -> Double { e >= 0 ? (0..<e).reduce(1.0) { a, _ in a * 10 } : 1 / pow10(-e) }

    static let schema = CollectionSchema(
        fields: [
            FieldSchema(fieldID: 100, name: "id", dataType: .int64, isPrimary: true),
            FieldSchema(fieldID: 101, name: "v", dataType: .floatVector, typeParams: [KeyValue("dim", "3")]),
            FieldSchema(fieldID: 102, name: "n", dataType: .int8, nullable: true),
            FieldSchema(fieldID: 103, name: "s", dataType: .varChar, defaultValue: .string("none"), typeParams: [KeyValue("max_length", "4")]),
            // Nullable so that the error cases below need not spell out every vector.
            FieldSchema(fieldID: 104, name: "b", dataType: .binaryVector, nullable: true, typeParams: [KeyValue("dim", "16")]),
            FieldSchema(fieldID: 105, name: "h", dataType: .float16Vector, nullable: true, typeParams: [KeyValue("dim", "2")]),
            FieldSchema(fieldID: 106, name: "sp", dataType: .sparseFloatVector, nullable: true),
            FieldSchema(fieldID: 107, name: "a", dataType: .array, elementType: .int32, nullable: true, typeParams: [KeyValue("max_capacity", "2")]),
            FieldSchema(fieldID: 108, name: "j", dataType: .json, nullable: true),
        ],
        enableDynamicField: true)

    func decode(_ text: String, options: EntityRowDecoder.Options = .init()) throws(ElanusError) -> EntityRowDecoder.Result {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { buffer throws(ElanusError) in
            var reader = JSONReader(bytes: buffer)
            return try EntityRowDecoder(schema: Self.schema, options: options).decode(&reader)
        }
    }

    @Test func aBatchIsBoundedInRows() throws {
        let row = #"{"id":1,"v":[1,2,3]}"#
        let limit = EntityRowDecoder.maxRows
        #expect(try decode("[" + Array(repeating: row, count: limit).joined(separator: ",") + "]").batch.rowCount == limit)
        #expect {
            try decode("[" + Array(repeating: row, count: limit + 1).joined(separator: ",") + "]")
        } throws: { error in
            (error as? ElanusError)?.code == .insertData && "\(error)".contains("at most \(limit) rows")
        }
    }

    @Test func decodesEveryTypeAndRoundTripsThroughTheBinaryCodec() throws {
        let result = try decode(#"""
            [{"id":1,"v":[1,2.5,-3e-2],"n":-5,"s":"abcd","b":"AQI=","h":[1.0,-2],"sp":{"7":0.5,"2":1},"a":[1,2],"j":{"k":[1]},"x":"dyn"},
             {"id":"2","v":[0,0,0],"n":null,"b":[255,0],"h":"ADwAwA==","sp":{"indices":[3],"values":[0.25]},"a":[],"j":"[1,2]"}]
            """#)
        let batch = result.batch
        #expect(batch.rowCount == 2)
        #expect(batch.column(100)?.values == .int64([1, 2]))
        #expect(batch.column(101)?.values == .floatVector([1, 2.5, -0.03, 0, 0, 0]))
        #expect(batch.column(102)?.valid == [true, false])
        #expect(batch.column(103)?.values == .string(["abcd", "none"]))
        #expect(batch.column(104)?.values == .binaryVector([1, 2, 255, 0]))
        #expect(batch.column(104)?.valid == [true, true])
        #expect(batch.column(105)?.values == .halfVector([0x3C00, 0xC000, 0x3C00, 0xC000]))
        #expect(batch.column(106)?.values == .sparseVector([SparseVector(indices: [2, 7], values: [1, 0.5]), SparseVector(indices: [3], values: [0.25])]))
        #expect(batch.column(107)?.values == .json([[1, 2], []]))
        #expect(batch.column(108)?.values == .json([["k": [1]], [1, 2]]))
        #expect(batch.dynamic == [["x": "dyn"], [:]])

        var writer = ByteWriter()
        batch.encode(into: &writer)
        var reader = ByteReader(writer.bytes, what: "test batch")
        #expect(try EntityBatch.decode(from: &reader) == batch)
        #expect(reader.atEnd)
        // Every truncation is an error, never a trap.
        for cut in stride(from: 0, to: writer.bytes.count, by: 7) {
            var truncated = ByteReader(Array(writer.bytes[..<cut]), what: "truncated")
            #expect(throws: ElanusError.self) { try EntityBatch.decode(from: &truncated) }
        }
    }

    @Test(arguments: [
        (#"[{"id":1,"v":[1,2]}]"#, "row 0: field 'v' (FloatVector): the dimension is 3 but the vector has 2 elements"),
        (#"[{"id":1,"v":[1,2,"x"]}]"#, "element 2"),
        (#"[{"id":1,"v":[1,2,1e39]}]"#, "NaN and Inf are not allowed"),
        (#"[{"id":1}]"#, "field 'v' (FloatVector): the vector field is missing"),
        (#"[{"id":1,"v":[1,2,3],"n":300}]"#, "300 is out of range for Int8"),
        (#"[{"id":1,"v":[1,2,3],"s":"abcde"}]"#, "exceeds max_length 4"),
        (#"[{"id":1,"v":[1,2,3],"a":[1,2,3]}]"#, "exceeds max_capacity 2"),
        (#"[{"id":1,"v":[1,2,3],"a":["x"]}]"#, "element 0: expected an integer"),
        (#"[{"id":1,"v":[1,2,3],"id":2}]"#, "duplicated field 'id'"),
        (#"[{"id":1,"v":[1,2,3],"$meta":{}}]"#, "reserved for the dynamic field"),
        (#"[{"id":1,"v":[1,2,3],"b":"AQ=="}]"#, "2 bytes are expected, got 1"),
        (#"[{"id":1,"v":[1,2,3],"h":[1e6,0]}]"#, "out of the float16 range"),
        (#"[{"id":1,"v":[1,2,3],"sp":{"x":1}}]"#, "sparse index \"x\" is not an integer"),
        (#"[{"id":1,"v":[1,2,3],"j":"{bad"}]"#, "not valid JSON text"),
        (#"[{"id":1,"v":[1,2,3]},{"id":true,"v":[1,2,3]}]"#, "row 1: field 'id' (Int64): expected an integer, got bool"),
        (#"[5]"#, "a row must be a JSON object"),
        (#"[]"#, "no rows"),
    ])
    func badRowsAreNamed(text: String, fragment: String) {
        do {
            _ = try decode(text)
            Issue.record("\(text) was accepted")
        } catch {
            #expect(error.code == .insertData, "\(text): \(error)")
            #expect(error.message.contains(fragment), "\(text): \(error.message)")
        }
    }

    @Test func extraKeysNeedTheDynamicField() {
        var schema = Self.schema
        schema.enableDynamicField = false
        let bytes = Array(#"[{"id":1,"v":[1,2,3],"color":"red"}]"#.utf8)
        #expect(throws: ElanusError(.insertData, "fail to deal the insert data, error: row 0: field 'color' is not in the schema: has pass more field without dynamic schema, please check it")) {
            try bytes.withUnsafeBufferPointer { buffer throws(ElanusError) in
                var reader = JSONReader(bytes: buffer)
                return try EntityRowDecoder(schema: schema, options: .init()).decode(&reader)
            }
        }
    }

    @Test func partialUpdatesReportAbsentFields() throws {
        let result = try decode(#"[{"id":1,"n":4}]"#, options: .init(partialUpdate: true))
        #expect(result.absentFields == [[101, 103, 104, 105, 106, 107, 108]])
    }

    @Test func halfFloatConversions() {
        for value: Float in [0, 1, -2, 0.5, 65504, 6.1035156e-05, 5.9604645e-08, 0.333] {
            let bits = HalfFloat.float16Bits(value)
            #expect(abs(HalfFloat.float(fromFloat16: bits) - value) <= abs(value) * 0.001 + 6e-8, "\(value)")
            #expect(abs(HalfFloat.float(fromBFloat16: HalfFloat.bfloat16Bits(value)) - value) <= abs(value) * 0.01, "\(value)")
        }
        #expect(HalfFloat.float16Bits(1e6) == 0x7C00)
        #expect(Base64.decode(Base64.encode([1, 2, 3, 4, 5])) == [1, 2, 3, 4, 5])
        #expect(Base64.encode([0xFF]) == "/w==")
        #expect(Base64.decode("a===") == nil)
    }
}
