/// GOAWAY from our side (RFC 9113 §6.8).
extension HTTP2Connection {
    /// Sends GOAWAY. `lastStreamID` defaults to the highest stream the peer opened, so every
    /// stream already seen is still served; later ones are ignored. With an error code the
    /// connection closes at once; with NO_ERROR it finishes when the remaining streams end
    /// (`isFinished` / `.closed(.gracefulShutdown)`).
    public func goAway(lastStreamID: UInt32? = nil, code: HTTP2ErrorCode = .noError, debugMessage: String = "") {
        guard phase != .closed else { return }
        if code != .noError {
            connectionError(code, debugMessage)
            return
        }
        // A GOAWAY may only lower the last stream id, never raise it again (§6.8).
        let last = min(lastStreamID ?? highestPeerStreamID, goawayLastStreamID ?? HTTP2Constants.maxStreamID)
        goawayLastStreamID = last
        write(.init(streamID: 0, payload: .goaway(lastStreamID: last, code: .noError, debugData: Self.debugData(debugMessage))))
    }

    /// The two-step shutdown of §6.8: GOAWAY with the maximum stream id tells the client to stop
    /// opening streams without racing the ones in flight; a PING measures one round trip, and
    /// its ACK triggers the final GOAWAY naming the real last stream.
    public func beginGracefulShutdown() {
        guard phase != .closed, goawayLastStreamID == nil else { return }
        goAway(lastStreamID: HTTP2Constants.maxStreamID)
        gracefulPingOutstanding = true
        write(.init(streamID: 0, payload: .ping(ack: false, opaque: Self.gracefulPingData)))
    }
}
