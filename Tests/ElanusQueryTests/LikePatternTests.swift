import ElanusCore
import ElanusTestSupport
import Testing

@testable import ElanusQuery

/// The compiled `like` matcher against a plain recursive reference, and the pattern bounds the
/// checker enforces (code 1100, naming the limit).
@Suite struct LikePatternTests {
    @Test(arguments: [
        ("", "", true), ("", "a", false), ("%", "", true), ("%", "anything", true), ("_", "", false), ("_", "é", true),
        ("_", "ab", false), ("abc", "abc", true), ("abc", "abcd", false), ("ab%", "abc", true), ("ab%", "xab", false),
        ("%ab", "xab", true), ("%ab", "abx", false), ("%ab%", "xaby", true), ("%ab%", "ba", false), ("a_c", "abc", true),
        ("a_c", "abbc", false), ("a_c", "a漢c", true), ("a__c", "a😀c", false), ("a%b%c", "aXbYc", true), ("a%b%c", "aXcYb", false),
        ("a%a", "a", false), ("a%a", "aa", true), ("%aa%aa%", "aaa", false), ("%aa%aa%", "aaaa", true),
        (#"100\%"#, "100%", true), (#"100\%"#, "1000", false), (#"a\_b"#, "a_b", true), (#"a\_b"#, "axb", false),
        (#"a\\"#, #"a\"#, true), (#"a\"#, #"a\"#, true), ("é_", "éx", true), ("%_é", "xé", true), ("%_é", "é", false),
        ("%ab_d%", "abcabxd", true), ("%ab_d%", "abcabx", false), ("%_b_%", "ab", false), ("%_b_%", "abc", true),
        ("a%%b", "ab", true), ("%😀_%", "x😀😀", true), ("%😀_%", "x😀", false), ("_%_", "a", false), ("_%_", "漢字", true),
        ("%abab%", "abaabab", true), ("%abab%", "abaaba", false),
    ])
    func matches(pattern: String, text: String, expected: Bool) {
        #expect(LikePattern(pattern).matches(text) == expected, "'\(text)' like '\(pattern)'")
        #expect(Self.reference(Array(LikePattern(pattern).pieces), Array(text.unicodeScalars)) == expected, "the reference disagrees")
    }

    /// The obviously correct matcher: recursion over the pieces, on short strings only.
    static func reference(_ pieces: [LikePattern.Piece], _ text: [Unicode.Scalar]) -> Bool {
        guard let piece = pieces.first else { return text.isEmpty }
        let rest = Array(pieces.dropFirst())
        switch piece {
        case .literal(let l): return text.starts(with: l) && reference(rest, Array(text.dropFirst(l.count)))
        case .one: return !text.isEmpty && reference(rest, Array(text.dropFirst()))
        case .any: return (0...text.count).contains { reference(rest, Array(text.dropFirst($0))) }
        }
    }

    /// Random patterns and texts over a small alphabet with one-, two-, three- and four-byte
    /// characters and every wildcard and escape, so that runs repeat, overlap and nearly match.
    @Test(arguments: [1, 2, 3, 4] as [UInt64]) func agreesWithTheReference(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        let textAlphabet: [Unicode.Scalar] = ["a", "b", "é", "漢", "😀", "%", "_"]
        let patternAlphabet = textAlphabet.map { String($0) } + ["%", "%", "_", "_", #"\%"#, #"\_"#, #"\\"#, "ab", "aa"]
        for round in 0..<4000 {
            let pattern = (0..<Int.random(in: 0...7, using: &rng)).map { _ in patternAlphabet.randomElement(using: &rng)! }.joined()
            let text = String(String.UnicodeScalarView((0..<Int.random(in: 0...9, using: &rng)).map { _ in textAlphabet.randomElement(using: &rng)! }))
            let like = LikePattern(pattern)
            let expected = Self.reference(like.pieces, Array(text.unicodeScalars))
            #expect(like.matches(text) == expected, "round \(round): '\(text)' like '\(pattern)'")
        }
    }

    /// Long runs with `_` span several words of Shift-And state.
    @Test func longRunsWithWildcards() {
        let run = String(repeating: "ab_", count: 50)  // 150 characters: three words of state
        let text = "xx" + String(repeating: "abz", count: 49) + "ab漢" + "yy"
        #expect(LikePattern("%" + run + "%").matches(text))
        #expect(!LikePattern("%" + run + "%").matches(String(text.dropLast(5))))
        #expect(LikePattern("%" + run + "yy").matches(text))
        #expect(!LikePattern(String(repeating: "%a", count: 50) + "b").matches(String(repeating: "a", count: 5000)))
        #expect(LikePattern("%" + String(repeating: "a", count: 4000) + "b%").matches(String(repeating: "a", count: 8000) + "b"))
    }

    static let schema = CollectionSchema(
        fields: [
            FieldSchema(fieldID: 100, name: "id", dataType: .int64, isPrimary: true),
            FieldSchema(fieldID: 101, name: "v", dataType: .floatVector, typeParams: [KeyValue("dim", "2")]),
            FieldSchema(fieldID: 103, name: "name", dataType: .varChar, typeParams: [KeyValue("max_length", "65535")]),
        ],
        enableDynamicField: true)

    static let longest = String(repeating: "a", count: LikePattern.maxBytes - 1) + "%"

    @Test(arguments: [
        ("name like '\(longest)'", [(String, JSON)]()),
        ("name like {p}", [("p", JSON.string(longest))]),
        ("name like '%" + String(repeating: "é", count: LikePattern.maxBytes / 2 - 1) + "%'", []),
        ((0..<16).map { _ in "name like {p}" }.joined(separator: " or "), [("p", JSON.string(longest))]),
        ("meta['k'] like '\(longest)'", []),
    ])
    func acceptedPatterns(filter: String, params: [(String, JSON)]) throws {
        let predicate = try FilterChecker.check(filter, schema: Self.schema, params: params.map { (key: $0.0, value: $0.1) })
        #expect(predicate != .constant(false))
    }

    @Test(arguments: [
        ("name like '\(longest)a'", [(String, JSON)](), "the pattern of 'like' is 4097 bytes long, more than the limit of 4096 bytes"),
        ("name like {p}", [("p", JSON.string(longest + "a"))], "the pattern of 'like' is 4097 bytes long, more than the limit of 4096 bytes"),
        ("name like '%" + String(repeating: "é", count: LikePattern.maxBytes / 2) + "'", [], "is 4097 bytes long, more than the limit of 4096 bytes"),
        ((0..<17).map { _ in "name like {p}" }.joined(separator: " or "), [("p", JSON.string(longest))],
            "the 'like' patterns of the expression are 69632 bytes long in all, more than the limit of 65536 bytes"),
        ("name == 'a' or " + String(repeating: "x", count: 65_536), [], "the expression is longer than 65536 bytes"),
    ])
    func refusedPatterns(filter: String, params: [(String, JSON)], fragment: String) {
        do {
            _ = try FilterChecker.check(filter, schema: Self.schema, params: params.map { (key: $0.0, value: $0.1) })
            Issue.record("accepted: \(filter.prefix(60))")
        } catch {
            #expect(error.code == .invalidParameter)
            #expect(error.message.hasPrefix("failed to create query plan: cannot parse expression: "))
            #expect(error.message.contains(fragment), "\(error.message.suffix(200))")
            #expect(error.message.hasSuffix(": invalid parameter"))
        }
    }
}
