import ElanusCore
import Testing

@testable import ElanusServer

/// Go's readings of a request body that Elanus mirrors: struct-field key matching, `%v` of a
/// decoded value, and strconv.ParseBool.
@Suite struct GoJSONTests {
    @Test(arguments: [
        ("collectionName", "collectionName", true), ("CollectionName", "collectionName", true), ("COLLECTIONNAME", "collectionName", true),
        ("collectionname", "collectionName", true), ("collection_name", "collectionName", false), ("collectionNam", "collectionName", false),
        ("autoId", "autoID", true), ("AutoID", "autoID", true), ("dbname", "dbName", true), ("DBName", "dbName", true),
        ("outputFieldſ", "outputFields", true), ("iſPrimary", "isPrimary", true), ("\u{212A}ey", "key", true),
        ("ı d", "id", false), ("İd", "id", false), ("", "id", false), ("id ", "id", false),
        // Only letters fold: '@' and '`', '[' and '{' differ by the case bit too.
        ("a@", "a`", false), ("[x", "{x", false), ("", "", true), ("e\u{301}", "\u{e9}", false),
    ])
    func structKeys(key: String, field: String, matches: Bool) {
        #expect(GoJSON.keyMatches(key, field: field) == matches, "\(key) vs \(field)")
    }

    @Test(arguments: [
        (JSON.int(1), "1"), (.int(0), "0"), (.int(-7), "-7"), (.int(123_456), "123456"), (.int(1_000_000), "1e+06"),
        (.int(2_592_000), "2.592e+06"), (.int(9_007_199_254_740_993), "9.007199254740992e+15"), (.double(1.0), "1"),
        (.double(0.5), "0.5"), (.double(-0.0), "-0"), (.double(0.0001), "0.0001"), (.double(0.00001), "1e-05"),
        (.double(123456.75), "123456.75"), (.double(1e21), "1e+21"), (.double(1.5e-7), "1.5e-07"), (.double(1e100), "1e+100"),
        (.bool(true), "true"), (.null, "<nil>"), (.string("T"), "T"), (JSON.array([1, "a"]), "[1 a]"), (JSON.object([("b", 2), ("a", "x"), ("b ", true)]), "map[a:x b:2 b :true]"),
    ])
    func percentV(value: JSON, text: String) {
        #expect(GoJSON.text(value) == text)
    }

    @Test func parseBool() {
        for text in ["1", "t", "T", "TRUE", "true", "True"] { #expect(GoJSON.parseBool(text) == true) }
        for text in ["0", "f", "F", "FALSE", "false", "False"] { #expect(GoJSON.parseBool(text) == false) }
        for text in ["", "yes", "tRuE", "on", " true", "2", "<nil>"] { #expect(GoJSON.parseBool(text) == nil, "\(text)") }
        #expect(GoJSON.parseBoolError("a\"b") == #"strconv.ParseBool: parsing "a\"b": invalid syntax"#)
    }
}
