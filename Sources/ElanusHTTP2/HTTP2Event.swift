/// What `HTTP2Connection.feed` reports to the server, in the order the peer caused it.
public enum HTTP2Event: Equatable, Sendable {
    /// A new request stream. `endStream` means there is no body (half-closed remote).
    case request(streamID: UInt32, headers: [HTTP2Header], endStream: Bool)
    /// Request body bytes; padding is already stripped and credited. Call
    /// `HTTP2Connection.consumed(streamID:byteCount:)` once they are processed.
    case data(streamID: UInt32, bytes: [UInt8], endStream: Bool)
    /// Request trailers; they always end the request stream.
    case trailers(streamID: UInt32, headers: [HTTP2Header])
    /// The peer reset the stream; anything queued for it was dropped.
    case reset(streamID: UInt32, code: HTTP2ErrorCode)
    /// The peer sent GOAWAY: it opens no new streams; existing ones finish.
    case goaway(lastStreamID: UInt32, code: HTTP2ErrorCode, debug: String)
    /// The connection is over: close the socket once `takeOutput()` has been written.
    case closed(HTTP2CloseReason)
}

public enum HTTP2CloseReason: Equatable, Sendable {
    /// We sent GOAWAY with this error because the peer broke the protocol or a limit.
    case connectionError(HTTP2ErrorCode, String)
    /// Our GOAWAY went out and every stream it covered has finished.
    case gracefulShutdown
    /// The peer sent GOAWAY and every remaining stream has finished.
    case peerGoaway
}

/// Errors of the sending API: the caller asked for something the stream cannot do now.
public enum HTTP2SendError: Error, Equatable, Sendable {
    case connectionClosed
    /// No open stream has this id (never opened, finished, or reset).
    case unknownStream(UInt32)
    /// Headers not sent yet, sent twice, or the local side already ended.
    case invalidState(UInt32, String)
    /// Accepting the bytes would exceed a send-queue bound; retry after WINDOW_UPDATEs drain it.
    case queueFull(streamID: UInt32, queued: Int, limit: Int)
}
