import ElanusCore
import ElanusTestSupport
import Foundation
import Testing

/// NGRAM and JSON path indexes over HTTP against the real binary: created with Milvus's params
/// (and its default name for a JSON path), listed and described with those params, filters
/// giving the rows they gave without the indexes (growing, flushed and indexed, after a restart,
/// after a drop), and Milvus's parameter errors with code and message.
@Suite struct NgramAndJSONIndexTests {
    static let filters = [
        "text like '%ab%'", "text like 'ab%'", "text like '%ba'", "text like 'a_c%'", "text like '%abc%' and id > 100",
        "meta['color'] == 'red'", "meta['color'] in ['red', 'blue']", "meta['color'] != 'red'", "meta['color'] like 'r%'",
        "meta['n'] > 3", "meta['n'] in [1, 2]", "meta['s'] like '%cc%'", "not (meta['color'] == 'green') and text like '%ca%'",
    ]

    static func text(_ i: Int) -> String {
        var x = UInt64(i) &* 2_654_435_761 &+ 7
        return String((0..<(i % 9)).map { _ in
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Array("abc")[Int(x >> 60) % 3]
        })
    }

    static func row(_ i: Int) -> String {
        let colors = [#""red""#, #""green""#, #""blue""#, "7", #"["red"]"#]
        let n = i % 4 == 0 ? "" : #","n":\#(i % 6 == 1 ? #""3""# : String(i % 7))"#
        return #"{"id":\#(i),"v":[\#(i % 7),1,2,3],"text":"\#(text(i))","meta":{"color":\#(colors[i % 5]),"s":"\#(text(i * 3))"\#(n)}}"#
    }

    static func ids(_ rest: RESTClient, _ filter: String) throws -> Set<Int64> {
        let reply = try rest.call("entities/query", #"{"collectionName":"t","filter":"\#(filter)","limit":10000,"outputFields":["id"]}"#)
        guard reply.code == 0, case .array(let rows)? = reply.data else {
            Issue.record("\(filter): \(reply.body.serialized())")
            return []
        }
        return Set(rows.compactMap { if case .int(let id)? = $0["id"] { id } else { nil } })
    }

    @Test func ngramAndJSONPathIndexesOverHTTP() throws {
        let dir = TemporaryDirectory()
        var server = try IndexTests.start(dir)
        defer { server.terminate() }
        var rest = RESTClient(port: server.port)
        let create = #"""
            {"collectionName":"t","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},
             {"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":4}},
             {"fieldName":"text","dataType":"VarChar","elementTypeParams":{"max_length":16}},
             {"fieldName":"meta","dataType":"JSON"}]},
             "indexParams":[{"fieldName":"v","indexName":"v","indexType":"FLAT","metricType":"L2"}]}
            """#
        #expect(try rest.call("collections/create", create).code == 0)
        let rows = (0..<1000).map(Self.row)
        let inserted = try rest.call("entities/insert", #"{"collectionName":"t","data":[\#(rows.joined(separator: ","))]}"#)
        #expect(inserted.code == 0, "\(inserted.body.serialized())")
        // The answers without any index.
        var expected: [String: Set<Int64>] = [:]
        for filter in Self.filters { expected[filter] = try Self.ids(rest, filter) }
        #expect(expected.values.filter(\.isEmpty).isEmpty, "every filter matches some rows")

        // Parameter errors, as Milvus words them.
        for (params, message) in [
            (#"{"fieldName":"text","indexType":"NGRAM","params":{"min_gram":2}}"#, "Ngram index must specify both min_gram and max_gram"),
            (#"{"fieldName":"text","indexType":"NGRAM","params":{"min_gram":3,"max_gram":2}}"#, "invalid min_gram or max_gram value for Ngram index, min_gram: 3, max_gram: 2"),
            (#"{"fieldName":"id","indexType":"NGRAM","params":{"min_gram":1,"max_gram":2}}"#, "Ngram index can only be created on VARCHAR or JSON field"),
            (#"{"fieldName":"meta","indexType":"INVERTED","params":{"json_path":"meta['color']"}}"#, "json index must specify cast type"),
            (#"{"fieldName":"meta","indexType":"INVERTED","params":{"json_path":"meta['color']","json_cast_type":"INT"}}"#, "json_cast_type INT is not supported"),
            (#"{"fieldName":"meta","indexType":"NGRAM","params":{"json_path":"meta['s']","json_cast_type":"BOOL","min_gram":1,"max_gram":2}}"#, "only supports VARCHAR cast type, got: BOOL"),
        ] {
            let reply = try rest.call("indexes/create", #"{"collectionName":"t","indexParams":[\#(params)]}"#)
            #expect(reply.code == 1100 && reply.message.contains(message), "\(params): \(reply.body.serialized())")
        }

        let indexes = #"""
            {"collectionName":"t","indexParams":[
             {"fieldName":"text","indexName":"text_ngram","indexType":"NGRAM","params":{"min_gram":2,"max_gram":3}},
             {"fieldName":"meta","indexType":"INVERTED","params":{"json_path":"meta['color']","json_cast_type":"varchar"}},
             {"fieldName":"meta","indexName":"n","indexType":"AUTOINDEX","params":{"json_path":"meta[\"n\"]","json_cast_type":"DOUBLE"}},
             {"fieldName":"meta","indexName":"s","indexType":"NGRAM","params":{"json_path":"meta['s']","json_cast_type":"VARCHAR","min_gram":1,"max_gram":2}}]}
            """#
        let created = try rest.call("indexes/create", indexes)
        #expect(created.code == 0, "\(created.body.serialized())")
        let list = try rest.call("indexes/list", #"{"collectionName":"t"}"#)
        #expect(list.data == ["v", "text_ngram", "meta/color", "n", "s"], "\(list.body.serialized())")
        let described = try rest.call("indexes/describe", #"{"collectionName":"t","indexName":"meta/color"}"#)
        var params: JSON?
        if case .array(let items)? = described.data { params = items.first?["indexParams"] }
        #expect(params?.serialized().contains(#"{"key":"json_path","value":"meta['color']"}"#) == true, "\(described.body.serialized())")
        #expect(params?.serialized().contains(#"{"key":"json_cast_type","value":"varchar"}"#) == true, "\(described.body.serialized())")

        func expectSameAnswers(_ when: String) throws {
            for filter in Self.filters { #expect(try Self.ids(rest, filter) == expected[filter], "\(when): \(filter)") }
        }
        try expectSameAnswers("growing")
        #expect(try rest.call("collections/flush", #"{"collectionName":"t"}"#).code == 0)
        for name in ["text_ngram", "meta/color", "n", "s"] {
            let item = try IndexTests.waitForIndex(rest, collection: "t", name)
            #expect(item?["indexState"] == "Finished" && item?["indexedRows"] == 1000, "\(name): \(item?.serialized() ?? "")")
        }
        try expectSameAnswers("indexed")

        #expect(server.terminate() == 0)
        server = try IndexTests.start(dir)
        rest = RESTClient(port: server.port)
        try expectSameAnswers("after a restart")

        #expect(try rest.call("indexes/drop", #"{"collectionName":"t","indexName":"meta/color"}"#).code == 0)
        #expect(try rest.call("indexes/list", #"{"collectionName":"t"}"#).data == ["v", "text_ngram", "n", "s"])
        try expectSameAnswers("after a drop")
    }
}
