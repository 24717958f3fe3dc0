import ElanusCore
import Testing

@testable import ElanusQuery

@Suite struct FilterParserTests {
    static let schema = CollectionSchema(
        fields: [
            FieldSchema(fieldID: 100, name: "id", dataType: .int64, isPrimary: true),
            FieldSchema(fieldID: 101, name: "v", dataType: .floatVector, typeParams: [KeyValue("dim", "2")]),
            FieldSchema(fieldID: 102, name: "age", dataType: .int32, nullable: true),
            FieldSchema(fieldID: 103, name: "name", dataType: .varChar, typeParams: [KeyValue("max_length", "32")]),
            FieldSchema(fieldID: 104, name: "meta", dataType: .json),
            FieldSchema(fieldID: 105, name: "tags", dataType: .array, elementType: .int64, typeParams: [KeyValue("max_capacity", "8")]),
            FieldSchema(fieldID: 106, name: "flag", dataType: .bool),
            FieldSchema(fieldID: 107, name: "score", dataType: .double),
        ],
        enableDynamicField: true)

    func check(_ filter: String, params: [(key: String, value: JSON)] = []) throws(ElanusError) -> Predicate {
        try FilterChecker.check(filter, schema: Self.schema, params: params)
    }

    @Test func literalsInEveryForm() throws {
        #expect(try check("age == 0x1F") == .compare(.scalar(fieldID: 102, type: .int32), .eq, .int(31)))
        #expect(try check("age == 0b101") == .compare(.scalar(fieldID: 102, type: .int32), .eq, .int(5)))
        #expect(try check("age == 017") == .compare(.scalar(fieldID: 102, type: .int32), .eq, .int(15)))
        #expect(try check("age == 0o17") == .compare(.scalar(fieldID: 102, type: .int32), .eq, .int(15)))
        #expect(try check("score > 1.5e2") == .compare(.scalar(fieldID: 107, type: .double), .gt, .float(150)))
        #expect(try check("flag == TRUE") == .compare(.scalar(fieldID: 106, type: .bool), .eq, .bool(true)))
        #expect(try check(#"name == 'a\'b'"#) == .compare(.scalar(fieldID: 103, type: .varChar), .eq, .string("a'b")))
        #expect(try check("5 < age") == .compare(.scalar(fieldID: 102, type: .int32), .gt, .int(5)))
        #expect(try check("age > 2 * 3 + 1") == .compare(.scalar(fieldID: 102, type: .int32), .gt, .int(7)))
        #expect(try check("age > 2 ** 3") == .compare(.scalar(fieldID: 102, type: .int32), .gt, .int(8)))
    }

    @Test func structure() throws {
        let age = ColumnRef.scalar(fieldID: 102, type: .int32)
        #expect(try check("1 < age <= 5") == .and([.compare(age, .gt, .int(1)), .compare(age, .le, .int(5))]))
        #expect(try check("age > 1 AND age < 5 or not flag") == .or([.and([.compare(age, .gt, .int(1)), .compare(age, .lt, .int(5))]), .not(.compare(.scalar(fieldID: 106, type: .bool), .eq, .bool(true)))]))
        #expect(try check("age not in [1, 2]") == .inList(age, [.int(1), .int(2)], negated: true))
        #expect(try check("age % 2 == 0") == .arithmetic(age, .mod, .int(2), .eq, .int(0)))
        #expect(try check("2 + age > 5") == .arithmetic(age, .add, .int(2), .gt, .int(5)))
        #expect(try check(#"meta["a"][0] == 1"#) == .compare(.json(fieldID: 104, path: [.key("a"), .index(0)]), .eq, .int(1)))
        #expect(try check(#"$meta["k"] == "x""#) == .compare(.json(fieldID: nil, path: [.key("k")]), .eq, .string("x")))
        #expect(try check("color == 'red'") == .compare(.json(fieldID: nil, path: [.key("color")]), .eq, .string("red")))
        #expect(try check("tags[1] > 3") == .compare(.arrayElement(fieldID: 105, element: .int64, index: 1), .gt, .int(3)))
        #expect(try check("array_length(tags) == 2") == .arrayLength(.array(fieldID: 105, element: .int64), .eq, 2))
        #expect(try check("array_contains_any(tags, [1, 2])") == .contains(.array(fieldID: 105, element: .int64), .any, [.int(1), .int(2)]))
        #expect(try check(#"json_contains(meta["l"], 3)"#) == .contains(.json(fieldID: 104, path: [.key("l")]), .one, [.int(3)]))
        #expect(try check(#"exists meta["k"]"#) == .exists(.json(fieldID: 104, path: [.key("k")])))
        #expect(try check("age is not null") == .isNull(age, negated: true))
        #expect(try check("id in {ids}", params: [("ids", [1, 2])]) == .inList(.scalar(fieldID: 100, type: .int64), [.int(1), .int(2)], negated: false))
        #expect(try check("age < score") == .compareColumns(age, .lt, .scalar(fieldID: 107, type: .double)))
    }

    @Test(arguments: [
        ("", "the expression is empty"),
        ("age >", "expected a value"),
        ("age == 'x'", "cannot compare a Int32 field with a string"),
        ("name > 5", "cannot compare a VarChar field with an integer"),
        ("v == 1", "filtering on the vector field v is not supported"),
        ("tags == 1", "cannot be compared as a whole"),
        ("age + score > 1", "arithmetic is supported only as field + constant"),
        ("age & 1 == 0", "bitwise operator & is not supported"),
        ("text_match(name, 'x')", #"field "name" does not enable match"#),
        ("nosuch(age)", "unknown function nosuch"),
        ("age in {missing}", "placeholder {missing} has no value"),
        ("age == 1 ==", "expected a value"),
        ("(age == 1", "expected ')'"),
        ("age == \"abc", "unterminated string literal"),
        ("age == 99999999999999999999", "out of the int64 range"),
        ("1 < age > 5", "a range must use"),
        ("age like 'a%'", "'like' needs a VarChar or JSON field"),
        ("age == 1 / 0", "division by zero"),
        ("name == 'a' @", "unexpected character '@'"),
    ])
    func refusedWithAPlanError(filter: String, fragment: String) {
        do {
            _ = try check(filter)
            Issue.record("\(filter) was accepted")
        } catch {
            #expect(error.code == .invalidParameter)
            #expect(error.message.hasPrefix("failed to create query plan: "), "\(error.message)")
            #expect(error.message.contains(fragment), "\(filter): \(error.message)")
        }
    }

    @Test func noExpressionCanExhaustTheStack() {
        for deep in [String(repeating: "(", count: 100_000) + "age == 1" + String(repeating: ")", count: 100_000),
            String(repeating: "not ", count: 100_000) + "flag", String(repeating: "-", count: 100_000) + "1 < age",
            "age in " + String(repeating: "[", count: 100_000)]
        {
            #expect(throws: ElanusError.self) { try check(deep) }
        }
        let wide = (0..<3000).map { "age == \($0)" }.joined(separator: " or ")
        #expect((try? check(wide)) != nil, "wide but shallow expressions are fine")
    }

    @Test func likePatterns() {
        #expect(LikePattern("ab%").matches("abc"))
        #expect(!LikePattern("ab%").matches("xab"))
        #expect(LikePattern("%ab").matches("xab"))
        #expect(LikePattern("%ab%").matches("xaby"))
        #expect(LikePattern("a_c").matches("abc"))
        #expect(!LikePattern("a_c").matches("abbc"))
        #expect(LikePattern("a%b%c").matches("aXbYc"))
        #expect(!LikePattern("a%b%c").matches("aXcYb"))
        #expect(LikePattern(#"100\%"#).matches("100%"))
        #expect(!LikePattern(#"100\%"#).matches("1000"))
        #expect(LikePattern("é_").matches("éx"))
        #expect(!LikePattern(String(repeating: "%a", count: 50) + "b").matches(String(repeating: "a", count: 5000)))
    }
}
