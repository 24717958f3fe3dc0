/// One token of analyzed text, as Milvus's analyzers report it (`run_analyzer` with detail):
/// byte offsets into the UTF-8 input, and the position of the token in the tokenizer's output.
/// Filters that drop tokens keep the positions of the rest, so phrase matching sees the gaps.
public struct Token: Equatable, Sendable {
    public var text: String
    /// UTF-8 byte offsets of the source span, `startOffset..<endOffset`.
    public var startOffset: Int
    public var endOffset: Int
    public var position: Int
    public var positionLength: Int

    public init(text: String, startOffset: Int, endOffset: Int, position: Int, positionLength: Int = 1) {
        self.text = text
        self.startOffset = startOffset
        self.endOffset = endOffset
        self.position = position
        self.positionLength = positionLength
    }
}
