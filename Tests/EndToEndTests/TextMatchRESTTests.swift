import ElanusCore
import ElanusTestSupport
import Foundation
import Testing

/// text_match and phrase_match over REST against the real binary: in query, count, search,
/// hybrid search and delete filters, before and after a flush and a restart, and every error
/// with its code and Milvus's message.
@Suite struct TextMatchRESTTests {
    static let collection = #"""
        {"collectionName":"docs","schema":{"fields":[
          {"fieldName":"id","dataType":"Int64","isPrimary":true},
          {"fieldName":"text","dataType":"VarChar","elementTypeParams":{"max_length":200,"enable_analyzer":true,"enable_match":true,"analyzer_params":{"type":"english"}}},
          {"fieldName":"plain","dataType":"VarChar","elementTypeParams":{"max_length":200,"enable_analyzer":true}},
          {"fieldName":"dense","dataType":"FloatVector","elementTypeParams":{"dim":2}}]},
         "indexParams":[{"fieldName":"dense","metricType":"L2"}]}
        """#

    static let rows = #"""
        [{"id":1,"text":"Machine learning boosts efficiency","plain":"a","dense":[1,0]},
         {"id":2,"text":"Learning machine designs","plain":"b","dense":[0,1]},
         {"id":3,"text":"Deep machine learning models","plain":"c","dense":[1,1]},
         {"id":4,"text":"Vector databases store embeddings","plain":"d","dense":[2,2]},
         {"id":5,"text":"The machine is learning slowly","plain":"e","dense":[3,3]}]
        """#

    static func ids(_ reply: RESTClient.Reply) -> [Int64] {
        guard case .array(let rows)? = reply.data else { return [] }
        return rows.compactMap { if case .int(let i)? = $0["id"] { i } else { nil } }.sorted()
    }

    static func query(_ rest: RESTClient, _ filter: String, _ extra: String = "") throws -> [Int64] {
        let reply = try rest.call("entities/query", #"{"collectionName":"docs","filter":\#(JSON.string(filter).serialized()),"outputFields":["id"],"limit":100\#(extra)}"#)
        #expect(reply.code == 0, "\(filter): \(reply.body.serialized())")
        return ids(reply)
    }

    static func expectAnswers(_ rest: RESTClient, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let cases: [(String, [Int64])] = [
            ("text_match(text, 'machine')", [1, 2, 3, 5]),
            ("text_match(text, 'embedding efficiency')", [1, 4]),
            ("text_match(text, 'machine learning deep', minimum_should_match=3)", [3]),
            ("phrase_match(text, 'machine learning')", [1, 3]),
            ("phrase_match(text, 'machine learning', 1)", [1, 3, 5]),
            ("phrase_match(text, 'machine learning', 2)", [1, 2, 3, 5]),
            ("not text_match(text, 'machine') and id > 1", [4]),
            ("phrase_match(text, 'machine learning') or id == 4", [1, 3, 4]),
        ]
        for (filter, expected) in cases {
            #expect(try query(rest, filter) == expected, "\(filter)", sourceLocation: sourceLocation)
            let count = try rest.call("entities/query", #"{"collectionName":"docs","filter":\#(JSON.string(filter).serialized()),"outputFields":["count(*)"]}"#)
            guard case .array(let rows)? = count.data else { Issue.record("\(count.body.serialized())", sourceLocation: sourceLocation); continue }
            #expect(rows.first?["count(*)"] == .int(Int64(expected.count)), "\(filter)", sourceLocation: sourceLocation)
        }
        // Templates fill the query text.
        #expect(try query(rest, "text_match(text, {q})", #","exprParams":{"q":"databases"}"#) == [4], sourceLocation: sourceLocation)
        // Search and hybrid search take them as filters.
        let search = try rest.call(
            "entities/search", #"{"collectionName":"docs","data":[[0,0]],"annsField":"dense","limit":10,"filter":"phrase_match(text, 'machine learning')"}"#)
        #expect(ids(search) == [1, 3], "\(search.body.serialized())", sourceLocation: sourceLocation)
        let hybrid = try rest.call(
            "entities/hybrid_search",
            #"{"collectionName":"docs","search":[{"data":[[0,0]],"annsField":"dense","limit":10,"filter":"text_match(text, 'learning')"},{"data":[[1,1]],"annsField":"dense","limit":10,"filter":"text_match(text, 'vector')"}],"rerank":{"strategy":"rrf","params":{"k":60}},"limit":10}"#)
        #expect(ids(hybrid) == [1, 2, 3, 4, 5], "\(hybrid.body.serialized())", sourceLocation: sourceLocation)
    }

    @Test func filtersMatchAcrossFlushAndRestart() throws {
        let dir = TemporaryDirectory()
        var server = ElanusProcess(dataDirectory: dir.file("data"))
        try server.start()
        var rest = RESTClient(port: server.port)
        #expect(try rest.call("collections/create", Self.collection).code == 0)
        #expect(try rest.call("entities/insert", #"{"collectionName":"docs","data":\#(Self.rows)}"#).code == 0)
        try Self.expectAnswers(rest)
        #expect(try rest.call("collections/flush", #"{"collectionName":"docs"}"#).code == 0)
        try Self.expectAnswers(rest)
        server.terminate()

        server = ElanusProcess(dataDirectory: dir.file("data"))
        try server.start()
        defer { server.terminate() }
        rest = RESTClient(port: server.port)
        try Self.expectAnswers(rest)
        // A delete by phrase.
        let deleted = try rest.call("entities/delete", #"{"collectionName":"docs","filter":"phrase_match(text, 'vector databases')"}"#)
        #expect(deleted.code == 0 && deleted.data?["deleteCount"] == 1, "\(deleted.body.serialized())")
        #expect(try Self.query(rest, "text_match(text, 'vector machine')") == [1, 2, 3, 5])
    }

    @Test func errorsAnswerMilvusCodesAndMessages() throws {
        let dir = TemporaryDirectory()
        let server = ElanusProcess(dataDirectory: dir.file("data"))
        try server.start()
        defer { server.terminate() }
        let rest = RESTClient(port: server.port)
        #expect(try rest.call("collections/create", Self.collection).code == 0)
        let prefix = "failed to create query plan: cannot parse expression: "
        let cases: [(String, String)] = [
            ("text_match(plain, 'a')", #"text_match(plain, 'a'), error: field "plain" does not enable match"#),
            ("phrase_match(plain, 'a')", #"phrase_match(plain, 'a'), error: field "plain" does not enable match"#),
            ("text_match(id, 'a')", "text_match(id, 'a'), error: text match operation on non-string is unsupported"),
            ("text_match(text, 'a', minimum_should_match=0)", "text_match(text, 'a', minimum_should_match=0), error: minimum_should_match should be >= 1, got 0"),
            ("phrase_match(text, 'a', -2)", #"phrase_match(text, 'a', -2), error: "slop" should not be a negative interger. "slop" passed: -2"#),
        ]
        for (filter, message) in cases {
            for route in ["entities/query", "entities/delete"] {
                let reply = try rest.call(route, #"{"collectionName":"docs","filter":\#(JSON.string(filter).serialized())}"#)
                #expect(reply.code == 1100, "\(route) \(filter): \(reply.body.serialized())")
                #expect(reply.message.hasPrefix(prefix + message), "\(reply.message)")
            }
        }
        let search = try rest.call(
            "entities/search", #"{"collectionName":"docs","data":[[0,0]],"annsField":"dense","limit":3,"filter":"text_match(plain, 'a')"}"#)
        #expect(search.code == 1100 && search.message.contains(#"field "plain" does not enable match"#), "\(search.body.serialized())")
    }
}
