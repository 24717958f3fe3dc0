import ElanusCore
import ElanusTestSupport
import Foundation
import Testing

/// Full-text search against the real binary, over REST as a curl user drives it: analyzers
/// (`common/run_analyzer`), and the errors of what Elanus does not have.
@Suite struct FullTextTests {
    static func start(_ data: String) throws -> (ElanusProcess, RESTClient) {
        let server = ElanusProcess(dataDirectory: data)
        try server.start()
        return (server, RESTClient(port: server.port))
    }

    static func tokens(_ reply: RESTClient.Reply) -> [[String]] {
        guard case .array(let results)? = reply.data?["results"] else { return [] }
        return results.map { result in
            guard case .array(let tokens)? = result["tokens"] else { return [] }
            return tokens.compactMap { if case .string(let s)? = $0["token"] { s } else { nil } }
        }
    }

    @Test func runAnalyzerReturnsTokensWithDetailAndHash() throws {
        let dir = TemporaryDirectory()
        let (server, rest) = try Self.start(dir.file("data"))
        defer { server.terminate() }
        var reply = try rest.call(
            "common/run_analyzer",
            #"{"text":["Milvus is a vector database built for scale!", ""],"analyzerParams":"{\"type\":\"english\"}"}"#)
        #expect(reply.code == 0, "\(reply.body.serialized())")
        #expect(Self.tokens(reply) == [["milvus", "vector", "databas", "built", "scale"], []])

        reply = try rest.call("common/run_analyzer", #"{"text":["Héllo wörld"],"withDetail":true,"withHash":true}"#)
        #expect(reply.code == 0)
        guard case .array(let results)? = reply.data?["results"], case .array(let tokens)? = results.first?["tokens"] else {
            Issue.record("no tokens: \(reply.body.serialized())")
            return
        }
        #expect(tokens.first == ["token": "héllo", "startOffset": 0, "endOffset": 6, "position": 0, "positionLength": 1, "hash": .int(Int64(Self.crc("héllo")))])
        #expect(tokens.last?["position"] == 1)
    }

    @Test func runAnalyzerRefusesWhatElanusDoesNotHave() throws {
        let dir = TemporaryDirectory()
        let (server, rest) = try Self.start(dir.file("data"))
        defer { server.terminate() }
        let cases: [(String, Int64, String)] = [
            (#"{"text":["x"],"analyzerParams":"{\"tokenizer\":\"jieba\"}"}"#, 1100,
             "invalid analyzer params: tokenizer jieba is not supported by Elanus yet; use standard or whitespace"),
            (#"{"text":["x"],"analyzerParams":"{\"tokenizer\":\"standard\",\"filter\":[\"nope\"]}"}"#, 1100,
             "invalid analyzer params: build analyzer failed, filter not found :nope"),
            (#"{"text":["x"],"analyzerNames":["en"]}"#, 1100, "analyzerNames (multi-language analyzers) are not supported by Elanus yet"),
            (#"{"analyzerParams":"{}"}"#, 1802, ""),
        ]
        for (body, code, message) in cases {
            let reply = try rest.call("common/run_analyzer", body)
            #expect(reply.code == code, "\(body): \(reply.body.serialized())")
            if !message.isEmpty { #expect(reply.message.hasPrefix(message), "\(reply.message)") }
        }
    }

    /// CRC-32 (IEEE), as a reference for Milvus's term hash, written out plainly.
    static func crc(_ text: String) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in text.utf8.prefix(100) {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return (~crc) % UInt32.max
    }
}
