import ElanusCore
import Testing

@Suite struct SchemaValidationTests {
    static func pk(_ type: DataType = .int64) -> FieldSchema {
        FieldSchema(name: "id", dataType: type, isPrimary: true, typeParams: type == .varChar ? [KeyValue("max_length", "64")] : [])
    }
    static func vec(_ name: String = "v", _ type: DataType = .floatVector, dim: String? = "8") -> FieldSchema {
        FieldSchema(name: name, dataType: type, typeParams: dim.map { [KeyValue("dim", $0)] } ?? [])
    }

    @Test func validSchemasPass() throws {
        try CollectionSchema(fields: [Self.pk(), Self.vec()]).validate()
        try CollectionSchema(fields: [Self.pk(.varChar), Self.vec("b", .binaryVector, dim: "16"), Self.vec("s", .sparseFloatVector, dim: nil)]).validate()
        let array = FieldSchema(name: "tags", dataType: .array, elementType: .varChar, typeParams: [KeyValue("max_capacity", "10"), KeyValue("max_length", "20")])
        let key = FieldSchema(name: "tenant", dataType: .int64, isPartitionKey: true)
        let withDefault = FieldSchema(name: "n", dataType: .int32, nullable: true, defaultValue: .int(5))
        try CollectionSchema(fields: [Self.pk(), Self.vec(), array, key, withDefault, FieldSchema(name: "j", dataType: .json)]).validate()
    }

    /// Each invalid schema, and a fragment of the message it must get (all are code 1100).
    static let invalid: [(String, [FieldSchema], String)] = [
        ("no primary key", [vec()], "primary key is not specified"),
        ("two primary keys", [pk(), FieldSchema(name: "id2", dataType: .int64, isPrimary: true), vec()], "more than one primary key"),
        ("float primary key", [FieldSchema(name: "id", dataType: .float, isPrimary: true), vec()], "primary key should be Int64 or VarChar"),
        ("nullable primary", [FieldSchema(name: "id", dataType: .int64, isPrimary: true, nullable: true), vec()], "primary field not support null"),
        ("primary default", [FieldSchema(name: "id", dataType: .int64, isPrimary: true, defaultValue: .int(1)), vec()], "primary field not support default_value"),
        ("no vector", [pk()], "schema does not contain vector field"),
        ("missing dim", [pk(), vec(dim: nil)], "dimension is not defined"),
        ("dim zero", [pk(), vec(dim: "0")], "invalid dimension: 0"),
        ("dim too large", [pk(), vec(dim: "32769")], "invalid dimension: 32769"),
        ("dim not a number", [pk(), vec(dim: "abc")], "should be an integer"),
        ("binary dim", [pk(), vec("b", .binaryVector, dim: "12")], "multiple of 8"),
        ("sparse with dim", [pk(), vec("s", .sparseFloatVector, dim: "8")], "dim should not be specified"),
        ("varchar without max_length", [FieldSchema(name: "id", dataType: .varChar, isPrimary: true), vec()], "max_length"),
        ("varchar too long", [FieldSchema(name: "id", dataType: .varChar, isPrimary: true, typeParams: [KeyValue("max_length", "65536")]), vec()], "(0, 65535]"),
        ("array without element", [pk(), vec(), FieldSchema(name: "a", dataType: .array, typeParams: [KeyValue("max_capacity", "4")])], "element data type is required"),
        ("array of json", [pk(), vec(), FieldSchema(name: "a", dataType: .array, elementType: .json, typeParams: [KeyValue("max_capacity", "4")])], "not valid for array"),
        ("array capacity", [pk(), vec(), FieldSchema(name: "a", dataType: .array, elementType: .int64, typeParams: [KeyValue("max_capacity", "5000")])], "maximum capacity"),
        ("duplicate field", [pk(), vec(), vec()], "duplicated field name"),
        ("bad field name", [pk(), vec("1v")], "Invalid field name: 1v"),
        ("string type", [pk(), vec(), FieldSchema(name: "s", dataType: .string)], "please use VarChar"),
        ("unsupported type", [pk(), vec(), FieldSchema(name: "g", dataType: .text)], "data type Text of field g is not supported by Elanus yet"),
        ("vector arrays", [pk(), vec(), FieldSchema(name: "m", dataType: .arrayOfVector)], "data type ArrayOfVector of field m is not supported by Elanus yet"),
        ("struct arrays", [pk(), vec(), FieldSchema(name: "s", dataType: .arrayOfStruct)], "data type ArrayOfStruct of field s is not supported by Elanus yet"),
        ("nullable vector", [pk(), FieldSchema(name: "v", dataType: .floatVector, nullable: true, typeParams: [KeyValue("dim", "4")])], "does not support nullable"),
        ("nullable partition key", [pk(), vec(), FieldSchema(name: "k", dataType: .int64, isPartitionKey: true, nullable: true)], "partition key field not support nullable"),
        ("float partition key", [pk(), vec(), FieldSchema(name: "k", dataType: .float, isPartitionKey: true)], "partition key should be Int64 or VarChar"),
        ("two partition keys", [pk(), vec(), FieldSchema(name: "k", dataType: .int64, isPartitionKey: true), FieldSchema(name: "k2", dataType: .int64, isPartitionKey: true)], "more than one partition key"),
        ("default too long", [pk(), vec(), FieldSchema(name: "s", dataType: .varChar, defaultValue: .string("toolong"), typeParams: [KeyValue("max_length", "3")])], "exceeds max length"),
        ("too many vectors", [pk()] + (0..<11).map { vec("v\($0)") }, "maximum vector field's number"),
    ]

    @Test(arguments: invalid.indices)
    func invalidSchemasAreRejected(index: Int) {
        let (label, fields, fragment) = Self.invalid[index]
        do {
            try CollectionSchema(fields: fields).validate()
            Issue.record("\(label): accepted")
        } catch {
            #expect(error.code == .invalidParameter, "\(label)")
            #expect(error.message.contains(fragment), "\(label): \(error.message)")
        }
    }

    @Test(arguments: [
        ("", "should not be empty"), ("1abc", "first character"), ("a-b", "can only contain"),
        ("中文", "first character"), (String(repeating: "a", count: 256), "less than 255"),
    ])
    func invalidNames(name: String, fragment: String) {
        #expect(throws: ElanusError.self) { try validateName(name, kind: .collection) }
        do { try validateName(name, kind: .collection) } catch {
            #expect(error.code == .invalidParameter)
            #expect(error.message.hasPrefix("Invalid collection name: \(name)."))
            #expect(error.message.contains(fragment))
        }
        do { try validateName(name, kind: .database) } catch { #expect(error.code == .databaseInvalidName) }
    }

    @Test func validNames() throws {
        for name in ["a", "_", "_a1", "Abc_123", String(repeating: "x", count: 255)] {
            try validateName(name, kind: .collection)
        }
    }

    @Test func defaultValuesMustMatchTheFieldType() throws {
        #expect(try ScalarValue.defaultValue(from: .int(5), for: .int64, field: "f") == .int(5))
        #expect(try ScalarValue.defaultValue(from: .int(5), for: .double, field: "f") == .double(5))
        #expect(try ScalarValue.defaultValue(from: .string("x"), for: .varChar, field: "f") == .string("x"))
        #expect(try ScalarValue.defaultValue(from: .bool(true), for: .bool, field: "f") == .bool(true))
        for (value, type) in [(JSON.string("5"), DataType.int64), (.int(1), .bool), (.int(300), .int8), (.double(1.5), .int32), (.int(1), .varChar)] {
            do {
                _ = try ScalarValue.defaultValue(from: value, for: type, field: "f")
                Issue.record("accepted \(value) for \(type)")
            } catch {
                #expect(error.code == .invalidParameter)
                #expect(error.message.contains("convert defaultValue fail"))
            }
        }
    }

    @Test func consistencyLevels() throws {
        #expect(try ConsistencyLevel.parse("Strong") == .strong)
        do { _ = try ConsistencyLevel.parse("strong") } catch {
            #expect(error.code == .invalidParameter)
            #expect(error.message.hasPrefix("consistencyLevel can only be [Strong, Session, Bounded, Eventually, Customized], default: Bounded"))
        }
    }
}
