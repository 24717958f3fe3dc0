/// An incremental HTTP/1.1 request parser. It knows nothing of sockets: the connection appends
/// bytes to `buffer` and calls `next()` until it answers `.needMore`. Bytes past a complete
/// request stay in the buffer, which is how pipelined requests are served in order.
///
/// Every limit is checked before the bytes it guards are buffered further, so a hostile client
/// costs at most `maxHeaderBytes` + `maxBodyBytes` of memory per connection, and any malformed
/// input ends in a `ParseError` carrying the status to answer with (never a crash).
public struct HTTPRequestParser: Sendable {
    public struct Limits: Sendable {
        public var maxHeaderBytes: Int
        public var maxBodyBytes: Int
        public init(maxHeaderBytes: Int = 64 << 10, maxBodyBytes: Int = 64 << 20) {
            self.maxHeaderBytes = maxHeaderBytes
            self.maxBodyBytes = maxBodyBytes
        }
    }

    public struct ParseError: Error, Equatable, Sendable {
        public var status: Int
        public var reason: String
    }

    public enum Event: Equatable {
        case needMore
        /// The head asked for `100-continue` and the body has not fully arrived yet; answer
        /// `HTTP/1.1 100 Continue` and keep reading. Reported at most once per request.
        case expectContinue
        case request(HTTPRequestHead, body: [UInt8])
    }

    private enum State: Equatable {
        case head
        case fixedBody(length: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
    }

    public private(set) var buffer: [UInt8] = []
    private var readIndex = 0
    private var scanIndex = 0
    private var state = State.head
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var continueSent = false
    public let limits: Limits

    public init(limits: Limits = Limits()) { self.limits = limits }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) { buffer.append(contentsOf: bytes) }
    public mutating func append(_ bytes: [UInt8]) { buffer.append(contentsOf: bytes) }

    /// The bytes received but not parsed yet (the HTTP/2 preface check reads them).
    public var unreadBytes: ArraySlice<UInt8> { buffer[readIndex...] }

    /// True when part of a request has arrived but not all of it.
    public var hasPartialRequest: Bool { state != .head || readIndex < buffer.count }

    /// True while the head of the current request is still incomplete.
    public var isReadingHead: Bool { state == .head }

    public mutating func next() throws(ParseError) -> Event {
        while true {
            switch state {
            case .head:
                guard let head = try parseHead() else { return .needMore }
                self.head = head
                body = []
                continueSent = false
                if let length = head.contentLength {
                    if length > limits.maxBodyBytes { throw tooLarge(length) }
                    state = .fixedBody(length: length)
                } else if head.chunked {
                    state = .chunkSize
                } else {
                    return finish()
                }
            case .fixedBody(let length):
                if buffer.count - readIndex >= length {
                    body = Array(buffer[readIndex..<(readIndex + length)])
                    readIndex += length
                    return finish()
                }
                return expectContinueOrNeedMore()
            case .chunkSize:
                guard let line = try takeLine(limit: 1024, what: "chunk size line") else { return expectContinueOrNeedMore() }
                let size = try parseChunkSize(line)
                if size == 0 {
                    state = .trailers
                } else {
                    if body.count + size > limits.maxBodyBytes { throw tooLarge(body.count + size) }
                    state = .chunkData(remaining: size)
                }
            case .chunkData(let remaining):
                let available = min(remaining, buffer.count - readIndex)
                if available == 0 { return expectContinueOrNeedMore() }
                body.append(contentsOf: buffer[readIndex..<(readIndex + available)])
                readIndex += available
                compact()
                state = remaining == available ? .chunkDataEnd : .chunkData(remaining: remaining - available)
            case .chunkDataEnd:
                guard buffer.count - readIndex >= 2 else { return .needMore }
                guard buffer[readIndex] == 0x0D, buffer[readIndex + 1] == 0x0A else {
                    throw ParseError(status: 400, reason: "chunk data is not followed by CRLF")
                }
                readIndex += 2
                state = .chunkSize
            case .trailers:
                // Trailer fields are read and dropped; an empty line ends the message.
                guard let line = try takeLine(limit: limits.maxHeaderBytes, what: "trailer") else { return .needMore }
                if line.isEmpty { return finish() }
            }
        }
    }

    private mutating func expectContinueOrNeedMore() -> Event {
        if let head, head.expectContinue, !continueSent {
            continueSent = true
            return .expectContinue
        }
        return .needMore
    }

    private mutating func finish() -> Event {
        let event = Event.request(head!, body: body)
        head = nil
        body = []
        state = .head
        compact()
        return event
    }

    /// Drops consumed bytes once they are a large share of the buffer, keeping appends cheap.
    private mutating func compact() {
        if readIndex > 0 && (readIndex == buffer.count || readIndex > 64 << 10) {
            buffer.removeSubrange(0..<readIndex)
            scanIndex = max(0, scanIndex - readIndex)
            readIndex = 0
        }
    }

    private func tooLarge(_ length: Int) -> ParseError {
        ParseError(status: 413, reason: "request body of \(length) bytes exceeds the limit of \(limits.maxBodyBytes) bytes")
    }

    /// Takes one CRLF-terminated line (without the CRLF), or nil when it has not fully arrived.
    private mutating func takeLine(limit: Int, what: String) throws(ParseError) -> ArraySlice<UInt8>? {
        var i = readIndex
        while i + 1 < buffer.count {
            if buffer[i] == 0x0D && buffer[i + 1] == 0x0A {
                let line = buffer[readIndex..<i]
                readIndex = i + 2
                return line
            }
            i += 1
            if i - readIndex > limit { throw ParseError(status: 400, reason: "\(what) is too long") }
        }
        if buffer.count - readIndex > limit { throw ParseError(status: 400, reason: "\(what) is too long") }
        return nil
    }

    private func parseChunkSize(_ line: ArraySlice<UInt8>) throws(ParseError) -> Int {
        var size = 0
        var digits = 0
        for b in line {
            let digit: Int
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = Int(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = Int(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = Int(b - UInt8(ascii: "A") + 10)
            case UInt8(ascii: ";"), UInt8(ascii: " "), UInt8(ascii: "\t"):
                // A chunk extension follows; we ignore it.
                if digits == 0 { throw ParseError(status: 400, reason: "invalid chunk size") }
                return size
            default: throw ParseError(status: 400, reason: "invalid chunk size")
            }
            digits += 1
            if digits > 15 { throw ParseError(status: 400, reason: "chunk size is too large") }
            size = size * 16 + digit
        }
        if digits == 0 { throw ParseError(status: 400, reason: "invalid chunk size") }
        return size
    }

    /// Parses the request line and header fields once the blank line that ends them has arrived.
    private mutating func parseHead() throws(ParseError) -> HTTPRequestHead? {
        // RFC 9112 2.2: ignore empty lines before the request line.
        while buffer.count - readIndex >= 2 && buffer[readIndex] == 0x0D && buffer[readIndex + 1] == 0x0A {
            readIndex += 2
        }
        if buffer.count - readIndex == 1 && buffer[readIndex] == 0x0D { return nil }
        var i = max(scanIndex, readIndex)
        var end = -1
        while i + 3 < buffer.count {
            if buffer[i + 3] != 0x0A {
                i += buffer[i + 3] == 0x0D ? 1 : 4
                continue
            }
            if buffer[i] == 0x0D && buffer[i + 1] == 0x0A && buffer[i + 2] == 0x0D {
                end = i
                break
            }
            i += 1
        }
        if end < 0 {
            scanIndex = max(readIndex, buffer.count - 3)
            if buffer.count - readIndex > limits.maxHeaderBytes {
                throw ParseError(status: 431, reason: "request header is larger than \(limits.maxHeaderBytes) bytes")
            }
            return nil
        }
        if end - readIndex > limits.maxHeaderBytes {
            throw ParseError(status: 431, reason: "request header is larger than \(limits.maxHeaderBytes) bytes")
        }
        let head = try HTTPRequestHead.parse(buffer[readIndex..<end])
        readIndex = end + 4
        scanIndex = readIndex
        return head
    }
}

/// The request line and headers, with the framing facts the parser needs.
public struct HTTPRequestHead: Equatable, Sendable {
    public var method: String
    public var target: String
    public var minorVersion: Int
    public var headers: HTTPHeaders
    public var contentLength: Int?
    public var chunked: Bool
    public var keepAlive: Bool
    public var expectContinue: Bool

    public static func == (a: HTTPRequestHead, b: HTTPRequestHead) -> Bool {
        a.method == b.method && a.target == b.target && a.minorVersion == b.minorVersion
            && a.headers.fields.map(\.name) == b.headers.fields.map(\.name)
            && a.headers.fields.map(\.value) == b.headers.fields.map(\.value)
            && a.contentLength == b.contentLength && a.chunked == b.chunked && a.keepAlive == b.keepAlive
    }

    static func bad(_ reason: String) -> HTTPRequestParser.ParseError {
        HTTPRequestParser.ParseError(status: 400, reason: reason)
    }

    static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(b)
        }
    }

    static func parse(_ bytes: ArraySlice<UInt8>) throws(HTTPRequestParser.ParseError) -> HTTPRequestHead {
        var lines: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        var i = bytes.startIndex
        while i < bytes.endIndex {
            if bytes[i] == 0x0A {
                guard i > start, bytes[i - 1] == 0x0D else { throw bad("bare LF in request head") }
                lines.append(bytes[start..<(i - 1)])
                start = i + 1
            }
            i += 1
        }
        lines.append(bytes[start..<bytes.endIndex])

        // Request line: METHOD SP target SP HTTP/1.x
        let parts = lines[0].split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw bad("malformed request line") }
        guard !parts[0].isEmpty, parts[0].allSatisfy(isTokenByte) else { throw bad("invalid method") }
        guard !parts[1].isEmpty, parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { throw bad("invalid request target") }
        let version = Array(parts[2])
        guard version.count == 8, version.starts(with: Array("HTTP/1.".utf8)),
            version[7] >= UInt8(ascii: "0"), version[7] <= UInt8(ascii: "9")
        else {
            if version.starts(with: Array("HTTP/".utf8)) {
                throw HTTPRequestParser.ParseError(status: 505, reason: "unsupported HTTP version")
            }
            throw bad("malformed HTTP version")
        }
        var head = HTTPRequestHead(
            method: String(decoding: parts[0], as: UTF8.self), target: String(decoding: parts[1], as: UTF8.self),
            minorVersion: Int(version[7] - UInt8(ascii: "0")), headers: HTTPHeaders(), contentLength: nil,
            chunked: false, keepAlive: true, expectContinue: false)

        var connectionTokens: [String] = []
        var transferEncodings: [String] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { throw bad("header line without a colon") }
            let name = line[line.startIndex..<colon]
            guard !name.isEmpty, name.allSatisfy(isTokenByte) else { throw bad("invalid header name") }
            var value = line[(colon + 1)...]
            while let f = value.first, f == 0x20 || f == 0x09 { value = value.dropFirst() }
            while let l = value.last, l == 0x20 || l == 0x09 { value = value.dropLast() }
            guard value.allSatisfy({ $0 >= 0x20 || $0 == 0x09 }), !value.contains(0x7F) else {
                throw bad("invalid character in header value")
            }
            let nameText = String(decoding: name, as: UTF8.self)
            let valueText = String(decoding: value, as: UTF8.self)
            head.headers.add(nameText, valueText)
            switch nameText.lowercased() {
            case "content-length":
                guard !valueText.isEmpty, valueText.utf8.count <= 18, valueText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                    let length = Int(valueText)
                else { throw bad("invalid Content-Length") }
                if let existing = head.contentLength, existing != length { throw bad("conflicting Content-Length headers") }
                head.contentLength = length
            case "transfer-encoding":
                transferEncodings += valueText.split(separator: ",").map { $0.trimmingSpaces().lowercased() }
            case "connection":
                connectionTokens += valueText.split(separator: ",").map { $0.trimmingSpaces().lowercased() }
            case "expect":
                guard valueText.lowercased() == "100-continue" else {
                    throw HTTPRequestParser.ParseError(status: 417, reason: "unsupported expectation")
                }
                head.expectContinue = head.minorVersion >= 1
            default: break
            }
        }
        if !transferEncodings.isEmpty {
            // A message with both framings is a request-smuggling vector (RFC 9112 6.1).
            if head.contentLength != nil { throw bad("both Transfer-Encoding and Content-Length") }
            guard transferEncodings.last == "chunked" else {
                throw HTTPRequestParser.ParseError(status: 501, reason: "unsupported Transfer-Encoding")
            }
            guard transferEncodings.count == 1 else {
                throw HTTPRequestParser.ParseError(status: 501, reason: "unsupported Transfer-Encoding")
            }
            head.chunked = true
        }
        if head.minorVersion == 0 {
            head.keepAlive = connectionTokens.contains("keep-alive")
        } else {
            head.keepAlive = !connectionTokens.contains("close")
        }
        if head.contentLength == 0 { head.expectContinue = false }
        return head
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        var s = self[...]
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
