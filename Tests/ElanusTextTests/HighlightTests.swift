import Testing

@testable import ElanusText

/// Lexical highlighting by Milvus 2.6.8's rules, worked out by hand for each case: spans merged,
/// fragments laid out by size, offset and count, tags cycling, offsets in Unicode scalars.
struct HighlightTests {
    static let text = "Information retrieval focuses on finding relevant information"

    func fragments(_ text: String, _ terms: Set<String>, _ options: HighlightOptions = HighlightOptions()) -> [String] {
        Highlight.fragments(text, tokens: Analyzer.standard.analyze(text), terms: terms, options: options)
    }

    @Test func defaultsGiveOneFragmentOfAHundredCharacters() {
        #expect(fragments(Self.text, ["information"]) == ["<em>Information</em> retrieval focuses on finding relevant <em>information</em>"])
        #expect(fragments(Self.text, ["retrieval", "finding"]) == ["<em>retrieval</em> focuses on <em>finding</em> relevant information"])
        #expect(fragments(Self.text, ["nothing"]) == [])
        #expect(fragments("", ["information"]) == [])
        #expect(fragments(Self.text, []) == [])
    }

    @Test func sizeOffsetAndCountShapeTheFragments() {
        // Each span opens a fragment of at least fragment_size characters; a span past its end opens the next.
        #expect(fragments(Self.text, ["information"], HighlightOptions(fragmentSize: 10)) == ["<em>Information</em>", "<em>information</em>"])
        #expect(fragments(Self.text, ["information"], HighlightOptions(fragmentSize: 10, fragmentCount: 1)) == ["<em>Information</em>"])
        #expect(fragments(Self.text, ["information"], HighlightOptions(fragmentSize: 10, fragmentCount: 0)) == [])
        // fragment_offset: characters of context before the first span.
        #expect(fragments(Self.text, ["information"], HighlightOptions(fragmentSize: 10, fragmentOffset: 5)) == ["<em>Information</em>", "vant <em>information</em>"])
        #expect(fragments(Self.text, ["focuses"], HighlightOptions(fragmentSize: 20, fragmentOffset: 10)) == ["retrieval <em>focuses</em> on"])
        // A span inside the fragment joins it: 22..29 starts before 0+25 ends, and stretches it to 29.
        #expect(fragments(Self.text, ["information", "focuses"], HighlightOptions(fragmentSize: 25)) == ["<em>Information</em> retrieval <em>focuses</em>", "<em>information</em>"])
        // Sizes and offsets far past the text neither overflow nor pad.
        #expect(fragments(Self.text, ["information"], HighlightOptions(fragmentSize: Int.max, fragmentOffset: Int.max)) ==
            ["<em>Information</em> retrieval focuses on finding relevant <em>information</em>"])
    }

    @Test func tagsCycleWithinAFragment() {
        let options = HighlightOptions(preTags: ["<a>", "<b>"], postTags: ["</a>"])
        #expect(fragments(Self.text, ["information", "retrieval", "finding"], options) ==
            ["<a>Information</a> <b>retrieval</a> focuses on <a>finding</a> relevant <b>information</a>"])
    }

    @Test func offsetsCountUnicodeScalars() {
        // The analyzer's offsets are UTF-8 bytes; fragments are cut by scalars, as Milvus cuts runes.
        #expect(fragments("Crème brûlée, brûlée!", ["brûlée"]) == ["<em>brûlée</em>, <em>brûlée</em>!"])
        #expect(fragments("Crème brûlée, brûlée!", ["brûlée"], HighlightOptions(fragmentOffset: 6)) == ["Crème <em>brûlée</em>, <em>brûlée</em>!"])
        #expect(fragments("🙂 vector 🙂 database", ["database"], HighlightOptions(fragmentSize: 4, fragmentOffset: 2)) == ["🙂 <em>database</em>"])
        #expect(fragments("中文 vector 中文", ["vector"], HighlightOptions(fragmentSize: 8, fragmentOffset: 1)) == [" <em>vector</em> "])
        // A decomposed é is two scalars.
        #expect(fragments("cafe\u{301} au lait", ["lait"], HighlightOptions(fragmentSize: 6, fragmentOffset: 3)) == ["au <em>lait</em>"])
    }

    @Test func overlappingAndTouchingSpansMerge() {
        #expect(Highlight.merge([0..<5, 3..<8, 8..<10, 12..<13, 2..<4]) == [0..<10, 12..<13])
        #expect(Highlight.merge([4..<6, 0..<2]) == [0..<2, 4..<6])
        #expect(Highlight.merge([]) == [])
        // Stemmed forms: the english analyzer's terms highlight every spelling of the stem.
        let english = Analyzer.english
        let text = "Running runners run"
        #expect(Highlight.fragments(text, tokens: english.analyze(text), terms: Set(english.analyze("runs").map(\.text)), options: HighlightOptions())
            == ["<em>Running</em> runners <em>run</em>"])
    }
}
