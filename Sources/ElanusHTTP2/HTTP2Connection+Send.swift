/// The application's side: responses, flow-controlled DATA, resets and window credits.
extension HTTP2Connection {
    /// Sends response headers (HEADERS + CONTINUATION as needed). With `endStream` this is a
    /// complete header-only response, e.g. gRPC trailers-only.
    public func sendHeaders(streamID id: UInt32, headers: [HTTP2Header], endStream: Bool = false) throws(HTTP2SendError) {
        var stream = try sendableStream(id)
        guard !stream.responseHeadersSent else { throw .invalidState(id, "headers already sent") }
        stream.responseHeadersSent = true
        writeHeaderBlock(id, headers, endStream: endStream)
        if endStream { stream.state = stream.state.sentEndStream() }
        store(stream)
    }

    /// Queues body bytes and sends as much as the peer's windows allow now; the rest goes out
    /// as WINDOW_UPDATEs arrive. Throws `.queueFull` rather than hold more than the configured
    /// bounds: check `queuedBytes(streamID:)` / `totalQueuedBytes` to pace production, and send
    /// large messages in pieces smaller than `HTTP2Limits.maxQueuedBytesPerStream`.
    public func sendData(streamID id: UInt32, bytes: some Collection<UInt8>, endStream: Bool = false) throws(HTTP2SendError) {
        var stream = try sendableStream(id)
        guard stream.responseHeadersSent else { throw .invalidState(id, "DATA before headers") }
        // Only bytes that cannot leave now count against the bounds.
        let sendableNow = stream.queuedBytes == 0 ? max(0, min(connectionSendWindow, stream.sendWindow)) : 0
        let wouldQueue = max(0, bytes.count - sendableNow)
        if stream.queuedBytes + wouldQueue > limits.maxQueuedBytesPerStream {
            throw .queueFull(streamID: id, queued: stream.queuedBytes, limit: limits.maxQueuedBytesPerStream)
        }
        if totalQueuedBytes + wouldQueue > limits.maxQueuedBytesPerConnection {
            throw .queueFull(streamID: id, queued: totalQueuedBytes, limit: limits.maxQueuedBytesPerConnection)
        }
        stream.enqueue(bytes)
        totalQueuedBytes += bytes.count
        stream.endStreamQueued = endStream
        streams[id] = stream
        flush()
    }

    /// Ends the response with trailers, after every byte already queued with `sendData`.
    public func sendTrailers(streamID id: UInt32, headers: [HTTP2Header]) throws(HTTP2SendError) {
        var stream = try sendableStream(id)
        guard stream.responseHeadersSent else { throw .invalidState(id, "trailers before headers") }
        stream.trailersQueued = headers
        streams[id] = stream
        flush()
    }

    /// Abandons a stream: RST_STREAM with `code`, queued data dropped. No-op for unknown streams.
    public func resetStream(streamID id: UInt32, code: HTTP2ErrorCode = .cancel) {
        guard phase != .closed, streams[id] != nil else { return }
        dropStream(id)
        write(.init(streamID: id, payload: .rstStream(code)))
        rememberClosed(id, by: .us)
    }

    /// Returns window for `byteCount` octets of DATA the application has processed, so the
    /// peer may send more. Call it for every byte delivered by `.data`, even on streams that
    /// were reset since; updates are batched to half a window to keep WINDOW_UPDATEs rare.
    public func consumed(streamID id: UInt32, byteCount: Int) {
        guard phase != .closed, byteCount > 0 else { return }
        creditConnection(byteCount)
        guard var stream = streams[id], stream.state.canReceive else { return }
        stream.pendingCredit += byteCount
        creditStreamIfDue(&stream)
        streams[id] = stream
    }

    /// Bytes accepted by `sendData` for this stream that are still waiting for window.
    public func queuedBytes(streamID id: UInt32) -> Int { streams[id]?.queuedBytes ?? 0 }

    /// Bytes waiting for window on all streams together.
    public var queuedBytesTotal: Int { totalQueuedBytes }

    // MARK: - Internals

    private func sendableStream(_ id: UInt32) throws(HTTP2SendError) -> HTTP2Stream {
        guard phase != .closed else { throw .connectionClosed }
        guard let stream = streams[id] else { throw .unknownStream(id) }
        guard stream.state.canSend, !stream.localEndRequested else { throw .invalidState(id, "local side already ended") }
        return stream
    }

    /// Encodes a header block and splits it to the peer's SETTINGS_MAX_FRAME_SIZE.
    func writeHeaderBlock(_ id: UInt32, _ headers: [HTTP2Header], endStream: Bool) {
        let block = hpackEncoder.encode(headers)
        var offset = min(block.count, peerMaxFrameSize)
        write(.init(streamID: id, payload: .headers(
            block: Array(block[0..<offset]), endStream: endStream, endHeaders: offset == block.count, priority: nil, padding: nil)))
        while offset < block.count {
            let end = min(block.count, offset + peerMaxFrameSize)
            write(.init(streamID: id, payload: .continuation(block: Array(block[offset..<end]), endHeaders: end == block.count)))
            offset = end
        }
    }

    /// Frames queued DATA within the connection and stream send windows, one frame per stream
    /// per round so that one large response cannot starve the others; then trailers or
    /// END_STREAM for streams whose queue has emptied.
    func flush() {
        guard phase != .closed else { return }
        var progress = true
        while progress {
            progress = false
            for id in streams.keys.sorted() {
                guard var stream = streams[id], stream.hasPendingSend else { continue }
                if stream.queuedBytes > 0 {
                    let allowed = min(connectionSendWindow, stream.sendWindow, peerMaxFrameSize, stream.queuedBytes)
                    guard allowed > 0 else { continue }
                    let chunk = stream.dequeue(allowed)
                    totalQueuedBytes -= allowed
                    connectionSendWindow -= allowed
                    stream.sendWindow -= allowed
                    let last = stream.queuedBytes == 0 && stream.endStreamQueued && stream.trailersQueued == nil
                    write(.init(streamID: id, payload: .data(bytes: chunk, endStream: last, padding: nil)))
                    if last { stream.state = stream.state.sentEndStream() }
                    progress = true
                } else if let trailers = stream.trailersQueued {
                    writeHeaderBlock(id, trailers, endStream: true)
                    stream.state = stream.state.sentEndStream()
                } else if stream.endStreamQueued {
                    write(.init(streamID: id, payload: .data(bytes: [], endStream: true, padding: nil)))
                    stream.state = stream.state.sentEndStream()
                }
                store(stream)
            }
        }
    }

    /// Credits the connection receive window, sending WINDOW_UPDATE once half of it is owed.
    /// Never credits beyond the configured window, so a caller's double count cannot overflow it.
    func creditConnection(_ count: Int) {
        let target = min(limits.connectionWindowSize, HTTP2Constants.maxWindowSize)
        connectionPendingCredit = min(connectionPendingCredit + count, max(0, target - connectionReceiveWindow))
        if connectionPendingCredit > 0 && connectionPendingCredit >= target / 2 {
            write(.init(streamID: 0, payload: .windowUpdate(increment: UInt32(connectionPendingCredit))))
            connectionReceiveWindow += connectionPendingCredit
            connectionPendingCredit = 0
        }
    }

    /// Same as `creditConnection` for one stream's window.
    func creditStreamIfDue(_ stream: inout HTTP2Stream) {
        let target = min(limits.initialStreamWindowSize, HTTP2Constants.maxWindowSize)
        stream.pendingCredit = min(stream.pendingCredit, max(0, target - stream.receiveWindow))
        if stream.pendingCredit > 0 && stream.pendingCredit >= target / 2 {
            write(.init(streamID: stream.id, payload: .windowUpdate(increment: UInt32(stream.pendingCredit))))
            stream.receiveWindow += stream.pendingCredit
            stream.pendingCredit = 0
        }
    }
}
