/// Everything a connection bounds, with defaults that suit a gRPC/REST server.
///
/// Values marked "advertised" go out in our SETTINGS frame; the rest are local defences that a
/// well-behaved peer never meets. Read once at `HTTP2Connection.init`.
public struct HTTP2Limits: Sendable {
    /// Advertised SETTINGS_MAX_CONCURRENT_STREAMS; streams beyond it get RST_STREAM(REFUSED_STREAM).
    public var maxConcurrentStreams = 100
    /// Advertised SETTINGS_INITIAL_WINDOW_SIZE: what a peer may send on one stream before we
    /// credit it. Larger than the 64 KiB default so one RPC is not throttled by round trips.
    public var initialStreamWindowSize = 1 << 20
    /// The connection receive window, opened with a WINDOW_UPDATE on stream 0 right after SETTINGS.
    public var connectionWindowSize = 4 << 20
    /// Advertised SETTINGS_MAX_FRAME_SIZE: the largest frame payload we accept.
    public var maxFrameSize = HTTP2Constants.defaultMaxFrameSize
    /// Advertised SETTINGS_HEADER_TABLE_SIZE for our HPACK decoder.
    public var headerTableSize = HTTP2Constants.defaultHeaderTableSize
    /// Advertised SETTINGS_MAX_HEADER_LIST_SIZE (RFC 7541 §4.1 accounting). A request over it is
    /// answered `:status 431` on that stream only.
    public var maxHeaderListSize = 16_384
    /// Hard cap on one compressed header block across HEADERS + CONTINUATION. The block must be
    /// decoded whole to keep HPACK in sync, so going over it can only end the connection
    /// (GOAWAY ENHANCE_YOUR_CALM).
    public var maxHeaderBlockBytes = 65_536
    /// CONTINUATION frames allowed in one header block (stops floods of tiny or empty frames).
    public var maxContinuationFrames = 32
    /// Frames we owe the peer in reply to its own frames (SETTINGS ACK, PING ACK, RST_STREAM)
    /// that may pile up before `takeOutput()` drains them. A peer that sends control frames
    /// faster than it reads our replies gets GOAWAY ENHANCE_YOUR_CALM.
    public var maxPendingControlFrames = 1_000
    /// Streams the peer may reset within `peerResetWindow` (rapid reset, CVE-2023-44487) before
    /// GOAWAY ENHANCE_YOUR_CALM.
    public var maxPeerResetsPerWindow = 200
    public var peerResetWindow: Duration = .seconds(1)
    /// Bytes `sendData` may hold back for one stream, and for all streams together, while the
    /// peer's flow-control windows are closed; past either, `sendData` throws `.queueFull`.
    public var maxQueuedBytesPerStream = 1 << 20
    public var maxQueuedBytesPerConnection = 8 << 20

    public init() {}

    /// The SETTINGS frame that opens our side of the connection.
    var advertisedSettings: [HTTP2Setting] {
        [
            HTTP2Setting(.headerTableSize, UInt32(clamping: headerTableSize)),
            HTTP2Setting(.enablePush, 0),
            HTTP2Setting(.maxConcurrentStreams, UInt32(clamping: maxConcurrentStreams)),
            HTTP2Setting(.initialWindowSize, UInt32(clamping: min(initialStreamWindowSize, HTTP2Constants.maxWindowSize))),
            HTTP2Setting(.maxFrameSize, UInt32(clamping: maxFrameSize)),
            HTTP2Setting(.maxHeaderListSize, UInt32(clamping: maxHeaderListSize)),
        ]
    }
}
