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

    static let ragCollection = #"""
        {"collectionName":"rag","schema":{"fields":[
          {"fieldName":"id","dataType":"Int64","isPrimary":true},
          {"fieldName":"topic","dataType":"VarChar","elementTypeParams":{"max_length":16}},
          {"fieldName":"text","dataType":"VarChar","elementTypeParams":{"max_length":1000,"enable_analyzer":true,"analyzer_params":{"type":"english"}}},
          {"fieldName":"sparse","dataType":"SparseFloatVector"},
          {"fieldName":"dense","dataType":"FloatVector","elementTypeParams":{"dim":2}}],
         "functions":[{"name":"text_bm25","type":"BM25","inputFieldNames":["text"],"outputFieldNames":["sparse"]}]},
         "indexParams":[{"fieldName":"sparse","indexType":"SPARSE_INVERTED_INDEX","metricType":"BM25"},{"fieldName":"dense","metricType":"COSINE"}]}
        """#

    static func ids(_ reply: RESTClient.Reply) -> [Int64] {
        guard case .array(let rows)? = reply.data else { return [] }
        return rows.compactMap { if case .int(let i)? = $0["id"] { i } else { nil } }
    }

    /// The retrieval-augmented generation flow of Milvus's full-text guide: raw text in, text
    /// queries out, fused with a dense search.
    @Test func hybridRAGFlow() throws {
        let dir = TemporaryDirectory()
        let (server, rest) = try Self.start(dir.file("data"))
        defer { server.terminate() }
        #expect(try rest.call("collections/create", Self.ragCollection).code == 0)
        let rows = #"""
            [{"id":1,"topic":"ir","text":"Information retrieval is a field of study.","dense":[1,0]},
             {"id":2,"topic":"ir","text":"Information retrieval focuses on finding relevant information in large datasets.","dense":[0,1]},
             {"id":3,"topic":"db","text":"Data mining and information retrieval overlap in research.","dense":[0.7,0.7]},
             {"id":4,"topic":"db","text":"Vector databases store embeddings.","dense":[0.1,1]}]
            """#
        #expect(try rest.call("entities/insert", #"{"collectionName":"rag","data":\#(rows)}"#).code == 0)

        // Full-text search: only documents sharing a term are hits, the best first.
        var reply = try rest.call(
            "entities/search", #"{"collectionName":"rag","data":["whats the focus of information retrieval?"],"annsField":"sparse","limit":10,"outputFields":["text"]}"#)
        #expect(reply.code == 0, "\(reply.body.serialized())")
        #expect(Self.ids(reply) == [2, 1, 3])
        // A filter, and "*" leaves the BM25 output out.
        reply = try rest.call(
            "entities/search", #"{"collectionName":"rag","data":["information"],"annsField":"sparse","limit":10,"filter":"topic == \"db\"","outputFields":["*"]}"#)
        #expect(Self.ids(reply) == [3])
        guard case .array(let hits)? = reply.data else { return }
        #expect(hits.first?["sparse"] == nil && hits.first?["text"] != nil)

        // Hybrid: BM25 and dense, fused by RRF and by weights.
        for rerank in [#"{"strategy":"rrf","params":{"k":60}}"#, #"{"strategy":"weighted","params":{"weights":[0.5,0.5]}}"#] {
            reply = try rest.call(
                "entities/hybrid_search",
                #"{"collectionName":"rag","search":[{"data":["information retrieval"],"annsField":"sparse","limit":4},{"data":[[0,1]],"annsField":"dense","limit":4}],"rerank":\#(rerank),"limit":4,"outputFields":["topic"]}"#)
            #expect(reply.code == 0, "\(reply.body.serialized())")
            #expect(Set(Self.ids(reply)) == [1, 2, 3, 4] && Self.ids(reply).first == 2, "\(reply.body.serialized())")
        }
    }

    @Test func fullTextErrorsAnswerMilvusCodes() throws {
        let dir = TemporaryDirectory()
        let (server, rest) = try Self.start(dir.file("data"))
        defer { server.terminate() }
        #expect(try rest.call("collections/create", Self.ragCollection).code == 0)
        func schema(_ text: String, _ sparse: String = "SparseFloatVector", function: String = #""type":"BM25","inputFieldNames":["text"],"outputFieldNames":["sparse"]"#, index: String = #""metricType":"BM25""#) -> String {
            #"{"collectionName":"bad","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},\#(text),{"fieldName":"sparse","dataType":"\#(sparse)"\#(sparse == "FloatVector" ? #","elementTypeParams":{"dim":2}"# : "")}],"functions":[{"name":"f",\#(function)}]},"indexParams":[{"fieldName":"sparse",\#(index)}]}"#
        }
        let analyzed = #"{"fieldName":"text","dataType":"VarChar","elementTypeParams":{"max_length":64,"enable_analyzer":true}}"#
        let cases: [(String, String, Int64, String)] = [
            ("collections/create", schema(#"{"fieldName":"text","dataType":"VarChar","elementTypeParams":{"max_length":64}}"#), 1100,
             "BM25 function input field must set enable_analyzer to true"),
            ("collections/create", schema(#"{"fieldName":"text","dataType":"Int64"}"#), 1100, "BM25 function input field must be a VARCHAR/TEXT field"),
            ("collections/create", schema(analyzed, "FloatVector", index: #""metricType":"COSINE""#), 1100,
             "BM25 function output field must be a SparseFloatVector field, but got FloatVector"),
            ("collections/create", schema(analyzed, index: #""metricType":"IP""#), 1100, "index metric type of BM25 function output field must be BM25, got IP"),
            ("collections/create", schema(analyzed, function: #""type":"BM25","inputFieldNames":["text"],"outputFieldNames":["nope"]"#), 1100,
             "function output field not found: nope"),
            ("collections/create", schema(analyzed, function: #""type":"Rerank","inputFieldNames":["text"],"outputFieldNames":["sparse"]"#), 1100,
             "Rerank functions need a model provider"),
            ("entities/insert", #"{"collectionName":"rag","data":[{"id":9,"topic":"x","text":"t","sparse":{"1":1},"dense":[1,0]}]}"#, 1100,
             "attempt to insert bm25 function output field sparse"),
            ("entities/search", #"{"collectionName":"rag","data":[{"1":0.5}],"annsField":"sparse","limit":3}"#, 1100,
             "field sparse is the output of BM25 function text_bm25: search it with text, not vectors"),
            ("entities/search", #"{"collectionName":"rag","data":["some text"],"annsField":"dense","limit":3}"#, 1801, ""),
            ("entities/query", #"{"collectionName":"rag","filter":"id > 0","outputFields":["sparse"]}"#, 1100, "not allowed to retrieve raw data of field sparse"),
        ]
        for (route, body, code, message) in cases {
            let reply = try rest.call(route, body)
            #expect(reply.code == code, "\(route) \(body): \(reply.body.serialized())")
            #expect(reply.message.hasPrefix(message), "\(reply.message)")
        }
        #expect(try rest.call("collections/has", #"{"collectionName":"bad"}"#).data == ["has": false])
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
