/// Why a header block could not be decoded. Every case is a COMPRESSION_ERROR on the wire
/// (RFC 9113 §4.3): once HPACK state may be out of step, the connection cannot continue.
public enum HPACKError: Error, Equatable, Sendable {
    case truncated
    case integerOverflow
    case invalidIndex(Int)
    case invalidHuffman
    case tableSizeUpdateTooLarge(Int)
    case tableSizeUpdateMisplaced
}
