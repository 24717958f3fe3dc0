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

    /// A server holding the `rag` collection and its four documents.
    static func startWithRAGCollection(_ data: String) throws -> (ElanusProcess, RESTClient) {
        let (server, rest) = try start(data)
        #expect(try rest.call("collections/create", ragCollection).code == 0)
        let rows = #"""
            [{"id":1,"topic":"ir","text":"Information retrieval is a field of study.","dense":[1,0]},
             {"id":2,"topic":"ir","text":"Information retrieval focuses on finding relevant information in large datasets.","dense":[0,1]},
             {"id":3,"topic":"db","text":"Data mining and information retrieval overlap in research.","dense":[0.7,0.7]},
             {"id":4,"topic":"db","text":"Vector databases store embeddings.","dense":[0.1,1]}]
            """#
        #expect(try rest.call("entities/insert", #"{"collectionName":"rag","data":\#(rows)}"#).code == 0)
        return (server, rest)
    }

    static func ids(_ reply: RESTClient.Reply) -> [Int64] {
        guard case .array(let rows)? = reply.data else { return [] }
        return rows.compactMap { if case .int(let i)? = $0["id"] { i } else { nil } }
    }

    /// The retrieval-augmented generation flow of Milvus's full-text guide: raw text in, text
    /// queries out, fused with a dense search.
    @Test func hybridRAGFlow() throws {
        let dir = TemporaryDirectory()
        let (server, rest) = try Self.startWithRAGCollection(dir.file("data"))
        defer { server.terminate() }

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

    /// Each hit's highlight of one field, by primary key.
    static func highlights(_ reply: RESTClient.Reply, field: String) -> [Int64: [String]] {
        guard case .array(let rows)? = reply.data else { return [:] }
        var out: [Int64: [String]] = [:]
        for row in rows {
            guard case .int(let id)? = row["id"], case .array(let fragments)? = row["highlight"]?[field]?["fragments"] else { continue }
            out[id] = fragments.compactMap { if case .string(let s) = $0 { s } else { nil } }
        }
        return out
    }

    /// Milvus 2.6.8's lexical highlighter (a gRPC search option in Milvus, a `highlighter` member
    /// of the search body here): the BM25 query's own terms, `TextMatch` queries on any analyzed
    /// field, tags, fragment shape, and Milvus's errors.
    @Test func highlightingMarksTheQueryTermsOfEachHit() throws {
        let dir = TemporaryDirectory()
        let (server, rest) = try Self.startWithRAGCollection(dir.file("data"))
        defer { server.terminate() }
        func search(_ data: String, _ highlighter: String, field: String = "sparse", limit: Int = 10) throws -> RESTClient.Reply {
            try rest.call("entities/search", #"{"collectionName":"rag","data":\#(data),"annsField":"\#(field)","limit":\#(limit),"highlighter":\#(highlighter)}"#)
        }

        // The search's text, through the field's english analyzer: "retrieving" finds "retrieval".
        var reply = try search(#"["informational retrieving"]"#, #"{"type":"lexical","params":{"highlight_search_text":true}}"#)
        #expect(reply.code == 0, "\(reply.body.serialized())")
        #expect(Self.highlights(reply, field: "text") == [
            1: ["<em>Information</em> <em>retrieval</em> is a field of study."],
            2: ["<em>Information</em> <em>retrieval</em> focuses on finding relevant <em>information</em> in large datasets."],
            3: ["<em>information</em> <em>retrieval</em> overlap in research."],
        ], "\(reply.body.serialized())")

        // Several queries: each hit is marked with its own query's terms, plus every TextMatch query's.
        reply = try search(
            #"["study", "datasets"]"#,
            #"{"params":{"highlight_search_text":"True","pre_tags":["[","{"],"post_tags":["]"],"fragment_size":10,"num_of_fragments":2,"highlight_query":[{"type":"TextMatch","field":"text","text":"field"}]}}"#)
        #expect(reply.code == 0, "\(reply.body.serialized())")
        guard case .array(let hits)? = reply.data, hits.count == 2 else {
            Issue.record("two hits expected: \(reply.body.serialized())")
            return
        }
        #expect(hits[0]["highlight"] == ["text": ["fragments": ["[field] of {study]"], "scores": []]])
        #expect(hits[1]["highlight"] == ["text": ["fragments": ["[datasets]."], "scores": []]])

        // A dense search highlights TextMatch queries; fragment_offset gives context before a span.
        reply = try search(
            "[[0,1]]", #"{"params":{"highlight_query":[{"type":"TextMatch","field":"text","text":"embedding"}],"fragment_offset":6,"fragment_size":1}}"#,
            field: "dense", limit: 4)
        #expect(reply.code == 0, "\(reply.body.serialized())")
        #expect(Self.highlights(reply, field: "text") == [1: [], 2: [], 3: [], 4: ["store <em>embeddings</em>"]])

        let errors: [(String, String, String, Int64, String)] = [
            (#"["x"]"#, "sparse", #"{"params":{"pre_tags":[]}}"#, 1100, "pre_tags cannot be empty list"),
            (#"["x"]"#, "sparse", #"{"params":{"post_tags":"<b>"}}"#, 1100, "unmarshal post_tags as string list failed"),
            (#"["x"]"#, "sparse", #"{"params":{"fragment_size":0}}"#, 1100, "invalid fragment_size: 0"),
            (#"["x"]"#, "sparse", #"{"params":{"num_of_fragments":-1}}"#, 1100, "invalid num_of_fragments: -1"),
            (#"["x"]"#, "sparse", #"{"params":{"fragment_offset":"x"}}"#, 1100, "invalid fragment_offset: x"),
            (#"["x"]"#, "sparse", #"{"params":{"highlight_search_text":"yes"}}"#, 1100, "unmarshal highlight_search_text as bool failed"),
            (#"["x"]"#, "sparse", #"{"params":{"highlight_query":[{"type":"Phrase","field":"text","text":"a"}]}}"#, 1100,
             "unmarshal highlight queries failed: invalid highlight query type: Phrase"),
            (#"["x"]"#, "sparse", #"{"params":{"highlight_query":[{"type":"TextMatch","text":"a"}]}}"#, 1100,
             "unmarshal highlight queries failed: must set `field` in query"),
            (#"["x"]"#, "sparse", #"{"params":{"highlight_query":[{"type":"TextMatch","field":"nope","text":"a"}]}}"#, 1100,
             "highlight field not found in schema: nope"),
            (#"["x"]"#, "sparse", #"{"params":{"highlight_query":[{"type":"TextMatch","field":"topic","text":"a"}]}}"#, 1100,
             "get highlight failed, the highlight field not found, topic:"),
            ("[[0,1]]", "dense", #"{"params":{"highlight_search_text":true}}"#, 1100,
             "Search highlight only support with metric type \"BM25\" but was: COSINE"),
            (#"["x"]"#, "sparse", #"{"type":"semantic","params":{}}"#, 1100, "semantic highlighting needs a model provider"),
            (#"["x"]"#, "sparse", #"{"type":"fancy"}"#, 1100, "unsupported highlight type: \"fancy\""),
        ]
        for (data, field, highlighter, code, message) in errors {
            let reply = try search(data, highlighter, field: field)
            #expect(reply.code == code, "\(highlighter): \(reply.body.serialized())")
            #expect(reply.message.hasPrefix(message), "\(reply.message)")
        }
        reply = try rest.call(
            "entities/hybrid_search",
            #"{"collectionName":"rag","search":[{"data":["information"],"annsField":"sparse","limit":4}],"rerank":{"strategy":"rrf"},"limit":4,"highlighter":{"params":{}}}"#)
        #expect(reply.code == 1100 && reply.message.hasPrefix("highlighter is not supported in hybrid search"), "\(reply.body.serialized())")
    }

    /// A NumPy import carries only the text, as an insert does: the BM25 vectors are computed on
    /// the way in, and a file for the function's output field is refused.
    @Test func numpyImportComputesBM25Vectors() throws {
        let dir = TemporaryDirectory()
        let data = dir.file("data")
        let (server, rest) = try Self.start(data)
        defer { server.terminate() }
        #expect(try rest.call("collections/create", Self.ragCollection).code == 0)
        let folder = data + "/import/npy"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let texts = ["Information retrieval is a field of study.", "Vector databases store embeddings.", "Retrieval of information, again."]
        func write(_ name: String, _ descr: String, _ shape: [Int], _ bytes: [UInt8]) throws {
            try ImportTests.npy(descr, shape, bytes).write(to: URL(fileURLWithPath: folder + "/" + name))
        }
        try write("id.npy", "<i8", [3], ImportTests.littleEndian([Int64(1), 2, 3]))
        try write("topic.npy", "<U2", [3], ImportTests.unicode(["ir", "db", "ir"], width: 2))
        try write("text.npy", "<U48", [3], ImportTests.unicode(texts, width: 48))
        try write("dense.npy", "<f4", [3, 2], ImportTests.littleEndian([Float](repeating: 0.5, count: 6).map(\.bitPattern)))
        try write("sparse.npy", "<f4", [3, 2], ImportTests.littleEndian([Float](repeating: 0.5, count: 6).map(\.bitPattern)))

        func importFiles(_ files: [String]) throws -> JSON {
            let list = files.map { "\"npy/\($0)\"" }.joined(separator: ",")
            let reply = try rest.call("jobs/import/create", #"{"collectionName":"rag","files":[[\#(list)]]}"#)
            guard case .string(let job)? = reply.data?["jobId"] else { throw ElanusError(.unexpected, "import refused: \(reply.body.serialized())") }
            return try ImportTests.wait(rest, job)
        }
        let refused = try importFiles(["id.npy", "topic.npy", "text.npy", "dense.npy", "sparse.npy"])
        #expect(refused["state"] == "Failed")
        guard case .string(let reason)? = refused["reason"] else {
            Issue.record("no reason: \(refused.serialized())")
            return
        }
        #expect(reason.contains("attempt to insert bm25 function output field sparse"), "\(reason)")
        let done = try importFiles(["id.npy", "topic.npy", "text.npy", "dense.npy"])
        #expect(done["state"] == "Completed", "\(done.serialized())")
        let reply = try rest.call(
            "entities/search", #"{"collectionName":"rag","data":["information retrieval"],"annsField":"sparse","limit":10,"outputFields":["text"]}"#)
        #expect(reply.code == 0, "\(reply.body.serialized())")
        #expect(Set(Self.ids(reply)) == [1, 3], "\(reply.body.serialized())")
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
