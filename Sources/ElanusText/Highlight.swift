/// Lexical highlighting of one text, as Milvus 2.6.8's `LexicalHighlighter` does it: the spans
/// of the text's tokens whose analyzed form is a query term are merged where they overlap or
/// touch, grouped into fragments (each starting `fragmentOffset` characters before its first
/// span and at least `fragmentSize` characters long), and written with the tags around each span.
/// Offsets count Unicode scalars, as Milvus counts Go runes; the analyzer gives UTF-8 offsets.
public struct HighlightOptions: Equatable, Sendable {
    public var preTags: [String]
    public var postTags: [String]
    public var fragmentSize: Int
    public var fragmentOffset: Int
    public var fragmentCount: Int

    /// Milvus's defaults: `<em>` and `</em>`, 100-character fragments, at most 5 of them.
    public init(preTags: [String] = ["<em>"], postTags: [String] = ["</em>"], fragmentSize: Int = 100, fragmentOffset: Int = 0, fragmentCount: Int = 5) {
        self.preTags = preTags
        self.postTags = postTags
        self.fragmentSize = fragmentSize
        self.fragmentOffset = fragmentOffset
        self.fragmentCount = fragmentCount
    }
}

public enum Highlight {
    /// A fragment: its range of the text and the highlighted spans inside it, in scalar offsets.
    struct Fragment: Equatable {
        var start: Int
        var end: Int
        var spans: [Range<Int>]
    }

    /// The highlighted fragments of `text`, whose tokens are `tokens`; a token is highlighted when
    /// its text is in `terms`.
    public static func fragments(_ text: String, tokens: [Token], terms: Set<String>, options: HighlightOptions) -> [String] {
        var spans: [Range<Int>] = []
        for token in tokens where terms.contains(token.text) { spans.append(token.startOffset..<token.endOffset) }
        guard !spans.isEmpty, options.fragmentCount > 0 else { return [] }
        let scalars = Array(text.unicodeScalars)
        let merged = scalarOffsets(merge(spans), in: text)
        return layout(merged, length: scalars.count, options: options).map { render($0, scalars, options) }
    }

    /// Spans sorted and merged where they overlap or touch (Milvus merges a span starting at the
    /// previous one's end into it); a span inside an earlier one is dropped.
    static func merge(_ spans: [Range<Int>]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var maxEnd = -1
        for span in spans.sorted(by: { $0.lowerBound != $1.lowerBound ? $0.lowerBound < $1.lowerBound : $0.upperBound < $1.upperBound })
        where span.upperBound > maxEnd {
            if let last = out.last, span.lowerBound <= last.upperBound {
                out[out.count - 1] = last.lowerBound..<span.upperBound
            } else {
                out.append(span)
            }
            maxEnd = span.upperBound
        }
        return out
    }

    /// UTF-8 byte offsets (at scalar boundaries, as the analyzer reports them) as scalar offsets.
    static func scalarOffsets(_ spans: [Range<Int>], in text: String) -> [Range<Int>] {
        var byScalar: [Int: Int] = [:]
        var wanted = Set<Int>()
        for span in spans { wanted.insert(span.lowerBound); wanted.insert(span.upperBound) }
        var byte = 0
        var index = 0
        for scalar in text.unicodeScalars {
            if wanted.contains(byte) { byScalar[byte] = index }
            byte += UTF8.width(scalar)
            index += 1
        }
        byScalar[byte] = index
        // An offset off a scalar boundary cannot come from our tokenizers; clamp rather than trap.
        return spans.map { span in
            let lower = byScalar[span.lowerBound] ?? min(span.lowerBound, index)
            return lower..<max(lower, byScalar[span.upperBound] ?? min(span.upperBound, index))
        }
    }

    /// Spans grouped into at most `fragmentCount` fragments: a span starting after the current
    /// fragment's end opens a new one; one starting inside it joins it and may extend its end.
    static func layout(_ spans: [Range<Int>], length: Int, options: HighlightOptions) -> [Fragment] {
        var out: [Fragment] = []
        var current: Fragment?
        for span in spans {
            if var fragment = current, span.lowerBound <= fragment.end {
                fragment.spans.append(span)
                fragment.end = max(fragment.end, span.upperBound)
                current = fragment
                continue
            }
            if let fragment = current { out.append(fragment) }
            current = nil
            guard out.count < options.fragmentCount else { break }
            let start = max(0, span.lowerBound - options.fragmentOffset)
            // fragmentSize is bounded by the text before it is added, so the sum cannot overflow.
            let end = min(max(span.upperBound, start + min(options.fragmentSize, length)), length)
            current = Fragment(start: start, end: end, spans: [span])
        }
        if let fragment = current { out.append(fragment) }
        return out
    }

    /// A fragment's text with the tags around its spans (the i-th span of a fragment takes the
    /// i-th tag, cycling, as Milvus does).
    static func render(_ fragment: Fragment, _ scalars: [Unicode.Scalar], _ options: HighlightOptions) -> String {
        var out = String.UnicodeScalarView()
        var cursor = fragment.start
        for (i, span) in fragment.spans.enumerated() {
            if cursor < span.lowerBound { out.append(contentsOf: scalars[cursor..<span.lowerBound]) }
            out.append(contentsOf: options.preTags[i % options.preTags.count].unicodeScalars)
            out.append(contentsOf: scalars[span])
            out.append(contentsOf: options.postTags[i % options.postTags.count].unicodeScalars)
            cursor = span.upperBound
        }
        if cursor < fragment.end { out.append(contentsOf: scalars[cursor..<fragment.end]) }
        return String(out)
    }
}
