/// Frame-by-frame handling of what the peer sends (RFC 9113 §5, §6).
extension HTTP2Connection {
    func process(_ frame: HTTP2Frame) throws(HTTP2ProtocolError) {
        if phase == .awaitingSettings {
            guard case .settings(ack: false, _) = frame.payload else {
                throw .connection(.protocolError, "first frame after the preface is not SETTINGS")
            }
            phase = .active
        }
        // §6.10: while a header block is open, only its CONTINUATION frames may arrive.
        if let block = headerBlock {
            guard case .continuation = frame.payload, frame.streamID == block.streamID else {
                throw .connection(.protocolError, "expected CONTINUATION for stream \(block.streamID)")
            }
        }
        switch frame.payload {
        case .data:
            try receiveData(frame)
        case .headers(let block, let endStream, let endHeaders, let priority, _):
            try receiveHeaders(frame.streamID, block, endStream: endStream, endHeaders: endHeaders,
                               selfDependent: priority?.dependency == frame.streamID)
        case .priority:
            // Parsed and validated by the decoder; RFC 9113 lets us ignore the signal, and a
            // PRIORITY frame never opens or closes a stream.
            break
        case .rstStream(let code):
            try receiveReset(frame.streamID, code)
        case .settings(let ack, let settings):
            if ack {
                // Our advertised table size now binds the peer's encoder.
                hpackDecoder.maxAllowedTableSize = limits.headerTableSize
            } else {
                try apply(settings)
                controlFramesSinceDrain += 1
                write(.init(streamID: 0, payload: .settings(ack: true, [])))
                flush()
            }
        case .pushPromise:
            throw .connection(.protocolError, "PUSH_PROMISE from a client")
        case .ping(let ack, let opaque):
            if ack {
                if opaque == Self.gracefulPingData && gracefulPingOutstanding {
                    gracefulPingOutstanding = false
                    goAway(code: .noError)
                }
            } else {
                controlFramesSinceDrain += 1
                write(.init(streamID: 0, payload: .ping(ack: true, opaque: opaque)))
            }
        case .goaway(let last, let code, let debug):
            peerSentGoaway = true
            events.append(.goaway(lastStreamID: last, code: code, debug: String(decoding: debug, as: UTF8.self)))
        case .windowUpdate(let increment):
            try receiveWindowUpdate(frame.streamID, Int(increment))
        case .continuation(let fragment, let endHeaders):
            guard var block = headerBlock else { throw .connection(.protocolError, "CONTINUATION without HEADERS") }
            block.frames += 1
            guard block.frames <= limits.maxContinuationFrames + 1 else {
                throw .connection(.enhanceYourCalm, "more than \(limits.maxContinuationFrames) CONTINUATION frames")
            }
            guard block.bytes.count + fragment.count <= limits.maxHeaderBlockBytes else {
                throw .connection(.enhanceYourCalm, "header block larger than \(limits.maxHeaderBlockBytes) bytes")
            }
            block.bytes += fragment
            headerBlock = block
            if endHeaders {
                headerBlock = nil
                try finishHeaderBlock(block)
            }
        case .unknown:
            break  // §5.5: unknown frame types are ignored.
        }
    }

    // MARK: - HEADERS

    private func receiveHeaders(
        _ id: UInt32, _ fragment: [UInt8], endStream: Bool, endHeaders: Bool, selfDependent: Bool
    ) throws(HTTP2ProtocolError) {
        guard id % 2 == 1 else { throw .connection(.protocolError, "client stream id \(id) is even") }
        guard fragment.count <= limits.maxHeaderBlockBytes else {
            throw .connection(.enhanceYourCalm, "header block larger than \(limits.maxHeaderBlockBytes) bytes")
        }
        let block = PartialHeaderBlock(streamID: id, bytes: fragment, endStream: endStream, frames: 1, selfDependent: selfDependent)
        if endHeaders {
            try finishHeaderBlock(block)
        } else {
            headerBlock = block
        }
    }

    private func finishHeaderBlock(_ block: PartialHeaderBlock) throws(HTTP2ProtocolError) {
        // Decode first, whatever happens to the stream: HPACK state must follow every block.
        let decoded: HPACKDecoder.Result
        do {
            decoded = try hpackDecoder.decode(block.bytes)
        } catch {
            throw .connection(.compressionError, "header block: \(error)")
        }
        let id = block.streamID
        if block.selfDependent {
            highestPeerStreamID = max(highestPeerStreamID, id)
            throw .stream(id, .protocolError, "stream \(id) depends on itself")
        }
        if var stream = streams[id] {
            try receiveTrailers(&stream, decoded, endStream: block.endStream)
            return
        }
        if id <= highestPeerStreamID {
            switch recentlyClosed[id] {
            case .us: return  // §5.1: frames after our RST_STREAM are ignored.
            case .peer: throw .connection(.streamClosed, "HEADERS on closed stream \(id)")
            case nil: throw .connection(.protocolError, "stream id \(id) is not above \(highestPeerStreamID)")
            }
        }
        highestPeerStreamID = id
        // §6.8: after our final GOAWAY, streams above its last id are ignored.
        if let last = goawayLastStreamID, id > last { return }
        guard streams.count < limits.maxConcurrentStreams else {
            throw .stream(id, .refusedStream, "over SETTINGS_MAX_CONCURRENT_STREAMS")
        }
        if decoded.exceededListSize {
            refuseOversizedRequest(id, endStream: block.endStream)
            return
        }
        if let problem = HTTP2HeaderValidation.requestProblem(decoded.headers) {
            throw .stream(id, .protocolError, problem)
        }
        let stream = HTTP2Stream(
            id: id, state: block.endStream ? .halfClosedRemote : .open,
            sendWindow: peerInitialWindowSize, receiveWindow: min(limits.initialStreamWindowSize, HTTP2Constants.maxWindowSize))
        streams[id] = stream
        events.append(.request(streamID: id, headers: decoded.headers, endStream: block.endStream))
    }

    private func receiveTrailers(_ stream: inout HTTP2Stream, _ decoded: HPACKDecoder.Result, endStream: Bool) throws(HTTP2ProtocolError) {
        let id = stream.id
        guard stream.state.canReceive else { throw .stream(id, .streamClosed, "HEADERS after END_STREAM") }
        guard endStream else { throw .stream(id, .protocolError, "trailers without END_STREAM") }
        guard !decoded.exceededListSize else { throw .stream(id, .enhanceYourCalm, "trailers over the header list limit") }
        if let problem = HTTP2HeaderValidation.trailerProblem(decoded.headers) { throw .stream(id, .protocolError, problem) }
        stream.state = stream.state.receivedEndStream()
        store(stream)
        events.append(.trailers(streamID: id, headers: decoded.headers))
    }

    /// Answers a request whose headers exceed SETTINGS_MAX_HEADER_LIST_SIZE with 431 (RFC 6585)
    /// and, if the client is still sending, asks it to stop with RST_STREAM(NO_ERROR) (§8.1).
    private func refuseOversizedRequest(_ id: UInt32, endStream: Bool) {
        controlFramesSinceDrain += 1
        writeHeaderBlock(id, [HTTP2Header(":status", "431")], endStream: true)
        if !endStream { write(.init(streamID: id, payload: .rstStream(.noError))) }
        rememberClosed(id, by: .us)
    }

    // MARK: - DATA

    private func receiveData(_ frame: HTTP2Frame) throws(HTTP2ProtocolError) {
        guard case .data(let bytes, let endStream, _) = frame.payload else { return }
        let id = frame.streamID
        let length = frame.flowControlledLength
        guard id <= highestPeerStreamID else { throw .connection(.protocolError, "DATA on idle stream \(id)") }
        // §6.9.1: the connection window is charged for every DATA frame, even on dead streams.
        guard length <= connectionReceiveWindow else {
            throw .connection(.flowControlError, "DATA exceeds the connection window")
        }
        connectionReceiveWindow -= length
        guard var stream = streams[id] else {
            creditConnection(length)
            if recentlyClosed[id] == .us { return }
            throw .stream(id, .streamClosed, "DATA on closed stream \(id)")
        }
        guard stream.state.canReceive else {
            creditConnection(length)
            throw .stream(id, .streamClosed, "DATA after END_STREAM")
        }
        guard length <= stream.receiveWindow else {
            creditConnection(length)
            throw .stream(id, .flowControlError, "DATA exceeds the stream window")
        }
        stream.receiveWindow -= length
        // Padding never reaches the application, so it is credited back at once.
        let padding = length - bytes.count
        if padding > 0 {
            stream.pendingCredit += padding
            creditConnection(padding)
            creditStreamIfDue(&stream)
        }
        if endStream { stream.state = stream.state.receivedEndStream() }
        store(stream)
        if !bytes.isEmpty || endStream {
            events.append(.data(streamID: id, bytes: bytes, endStream: endStream))
        }
    }

    // MARK: - RST_STREAM, SETTINGS, WINDOW_UPDATE

    private func receiveReset(_ id: UInt32, _ code: HTTP2ErrorCode) throws(HTTP2ProtocolError) {
        guard id <= highestPeerStreamID else { throw .connection(.protocolError, "RST_STREAM on idle stream \(id)") }
        guard streams[id] != nil else { return }
        dropStream(id)
        rememberClosed(id, by: .peer)
        events.append(.reset(streamID: id, code: code))
        // CVE-2023-44487: each reset stream may have started work; cap the rate.
        let now = clock()
        if now - peerResetWindowStart > limits.peerResetWindow {
            peerResetWindowStart = now
            peerResetCount = 0
        }
        peerResetCount += 1
        if peerResetCount > limits.maxPeerResetsPerWindow {
            throw .connection(.enhanceYourCalm, "too many streams reset by the peer")
        }
    }

    private func apply(_ settings: [HTTP2Setting]) throws(HTTP2ProtocolError) {
        for setting in settings {
            let value = Int(setting.value)
            switch setting.id {
            case .enablePush:
                guard value <= 1 else { throw .connection(.protocolError, "SETTINGS_ENABLE_PUSH \(value)") }
            case .initialWindowSize:
                guard value <= HTTP2Constants.maxWindowSize else {
                    throw .connection(.flowControlError, "SETTINGS_INITIAL_WINDOW_SIZE \(value)")
                }
                // §6.9.2: the change applies to every open stream's send window, by the delta.
                let delta = value - peerInitialWindowSize
                peerInitialWindowSize = value
                for id in streams.keys {
                    guard var stream = streams[id] else { continue }
                    stream.sendWindow += delta
                    guard stream.sendWindow <= HTTP2Constants.maxWindowSize else {
                        throw .connection(.flowControlError, "stream \(id) window overflow")
                    }
                    streams[id] = stream
                }
            case .maxFrameSize:
                guard value >= HTTP2Constants.defaultMaxFrameSize && value <= HTTP2Constants.maxAllowedFrameSize else {
                    throw .connection(.protocolError, "SETTINGS_MAX_FRAME_SIZE \(value)")
                }
                peerMaxFrameSize = value
            default:
                // Header table size (our encoder never indexes), concurrency and list size
                // (we never push, and we send small response headers), unknown ids (§6.5.2).
                break
            }
        }
    }

    private func receiveWindowUpdate(_ id: UInt32, _ increment: Int) throws(HTTP2ProtocolError) {
        if id == 0 {
            connectionSendWindow += increment
            guard connectionSendWindow <= HTTP2Constants.maxWindowSize else {
                throw .connection(.flowControlError, "connection window overflow")
            }
        } else {
            guard id <= highestPeerStreamID else { throw .connection(.protocolError, "WINDOW_UPDATE on idle stream \(id)") }
            // Late updates for closed streams are normal (§6.9) and ignored.
            guard var stream = streams[id] else { return }
            stream.sendWindow += increment
            guard stream.sendWindow <= HTTP2Constants.maxWindowSize else {
                throw .stream(id, .flowControlError, "stream window overflow")
            }
            streams[id] = stream
        }
        flush()
    }
}
