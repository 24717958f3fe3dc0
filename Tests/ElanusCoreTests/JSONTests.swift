import ElanusCore
import Foundation
import Testing

@Suite struct JSONTests {
    @Test(arguments: [
        ("null", JSON.null), ("true", .bool(true)), ("false", .bool(false)), ("0", .int(0)), ("-12", .int(-12)),
        ("9223372036854775807", .int(Int64.max)), ("9223372036854775808", .double(9223372036854775808)),
        ("1.5", .double(1.5)), ("1e3", .double(1000)), ("-0.25E-2", .double(-0.0025)),
        ("\"a\\\"b\\\\c\\n\\u00e9\\ud83d\\ude00\"", .string("a\"b\\c\né😀")),
        ("[1, \"x\", [], {}]", .array([.int(1), .string("x"), .array([]), .object([])])),
        (" {\"a\": 1, \"b\": {\"c\": [true]}} ", ["a": 1, "b": ["c": [true]]]),
    ] as [(String, JSON)])
    func parsesValidDocuments(text: String, expected: JSON) throws {
        #expect(try JSON.parse(text) == expected)
    }

    @Test(arguments: [
        "", "{", "}", "[1,]", "{\"a\":1,}", "{'a':1}", "01", "1.", ".5", "-", "1e", "tru", "nul", "\"abc",
        "\"\\x\"", "\"\u{01}\"", "[1 2]", "{\"a\" 1}", "{1:2}", "1 2", "NaN", "Infinity", "1e400", "\"\\u12\"",
    ])
    func rejectsInvalidDocuments(text: String) {
        #expect(throws: JSONParseError.self) { try JSON.parse(text) }
    }

    @Test func duplicateKeysResolveToTheLastValue() throws {
        let json = try JSON.parse("{\"a\":1,\"a\":2}")
        #expect(json["a"] == .int(2))
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSON.parse(deep) }
        let ok = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect((try? JSON.parse(ok)) != nil)
    }

    @Test func serializationRoundTrips() throws {
        let value: JSON = ["s": "q\"\\\n\t\u{01}é", "i": -5, "d": 0.5, "whole": 3.0, "a": [nil, true], "o": [:]]
        let text = value.serialized()
        #expect(text == #"{"s":"q\"\\\n\t\u0001é","i":-5,"d":0.5,"whole":3,"a":[null,true],"o":{}}"#)
        #expect(try JSON.parse(text) == ["s": "q\"\\\n\t\u{01}é", "i": -5, "d": 0.5, "whole": 3, "a": [nil, true], "o": [:]])
    }

    @Test func randomBytesNeverCrashTheParser() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("{}[]\",:0123456789.eE+-tfnrul \\\"abc".utf8)
        for _ in 0..<5000 {
            let length = Int.random(in: 0..<64, using: &rng)
            let bytes = (0..<length).map { _ in Bool.random(using: &rng) ? alphabet.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng) }
            _ = try? JSON.parse(bytes)
        }
    }

    /// Integers written digit by digit, strings without escapes copied whole, and numbers off
    /// Clinger's fast path (17 significant digits, as Python writes floats) read by strtod.
    @Test func numbersAndStringsRoundTripThroughTheFastPaths() throws {
        for i: Int64 in [0, 7, -7, 10, -10, 99, 1_000_000, Int64.max, Int64.min] {
            #expect(JSON.int(i).serialized() == String(i))
        }
        #expect(JSON.double(-3).serialized() == "-3")
        #expect(JSON.string("plain ünïcode").serialized() == "\"plain ünïcode\"")
        #expect(JSON.string("a\"b\\c\nd\u{1}").serialized() == #""a\"b\\c\nd\u0001""#)
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let d = Double.random(in: -1...1, using: &rng) * pow(10, Double(Int.random(in: -30...30, using: &rng)))
            #expect(try JSON.parse(Array(d.description.utf8)) == .double(d), "\(d)")
        }
        let long = "0." + String(repeating: "1", count: 80)
        #expect(try JSON.parse(Array(long.utf8)) == .double(Double(long)!))
        #expect(throws: JSONParseError.self) { try JSON.parse(Array("1e999".utf8)) }
    }
}
