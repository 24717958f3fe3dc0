import ElanusCore
import ElanusTestSupport
import Foundation
import Testing

/// Int8Vector fields over HTTP against the real binary: rows given as integer arrays and as
/// base64, searched with L2 / IP / COSINE exactly (growing segments) and through HNSW (flushed,
/// indexed segments), every answer checked against a brute force computed here; query output,
/// restart, and the error paths with their codes.
@Suite struct Int8VectorTests {
    static let dim = 16
    static let metrics = [("l2", "L2"), ("ip", "IP"), ("cos", "COSINE")]

    /// Row `i`'s vector for field number `f`: deterministic, covering -128 and 127.
    static func vector(_ i: Int, _ f: Int) -> [Int8] {
        var state = UInt64(i &* 7919 &+ f &* 104_729 &+ 1)
        return (0..<dim).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int8(truncatingIfNeeded: state >> 56)
        }
    }

    static func score(_ metric: String, _ q: [Int8], _ x: [Int8]) -> Double {
        let a = q.map(Double.init), b = x.map(Double.init)
        let dot = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
        switch metric {
        case "L2": return zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        case "IP": return dot
        default:
            let norms = (a.reduce(0) { $0 + $1 * $1 } * b.reduce(0) { $0 + $1 * $1 }).squareRoot()
            return norms > 0 ? dot / norms : 0
        }
    }

    /// The best `k` scores over `rows`, best first.
    static func bruteForce(_ metric: String, _ q: [Int8], rows: [Int], field: Int, k: Int) -> [Double] {
        let scores = rows.map { score(metric, q, vector($0, field)) }
        return Array((metric == "L2" ? scores.sorted() : scores.sorted(by: >)).prefix(k))
    }

    static func base64(_ v: [Int8]) -> String { Data(v.map { UInt8(bitPattern: $0) }).base64EncodedString() }

    static func rowsJSON(_ range: Range<Int>) -> String {
        range.map { i in
            let fields = metrics.indices.map { f in
                let v = vector(i, f)
                // Every third row's vectors go as base64, the rest as integer arrays.
                let text = i % 3 == 0 ? "\"\(base64(v))\"" : "[\(v.map(String.init).joined(separator: ","))]"
                return "\"\(metrics[f].0)\":\(text)"
            }
            return "{\"id\":\(i),\"cat\":\(i % 10),\(fields.joined(separator: ","))}"
        }.joined(separator: ",")
    }

    /// Searches field `f` with `q` and checks the hits against the brute force: every returned
    /// distance is that row's true score, and the scores are the best `k` (recall for HNSW).
    static func checkSearch(_ rest: RESTClient, f: Int, q: [Int8], rows: [Int], filter: String = "", exact: Bool, ef: Int = 0) throws {
        let (name, metric) = metrics[f]
        let k = 10
        let params = ef > 0 ? #"{"ef":\#(ef)}"# : "{}"
        let reply = try rest.call(
            "entities/search",
            #"{"collectionName":"i8","annsField":"\#(name)","data":[[\#(q.map(String.init).joined(separator: ","))]],"limit":\#(k),"filter":"\#(filter)","outputFields":["cat"],"searchParams":{"params":\#(params)}}"#)
        guard case .array(let hits)? = reply.data else {
            Issue.record("\(name): \(reply.body.serialized())")
            return
        }
        let expected = bruteForce(metric, q, rows: rows, field: f, k: k)
        #expect(hits.count == expected.count, "\(name)")
        var got: [Double] = []
        for hit in hits {
            guard case .int(let id)? = hit["id"], case let distance? = hit["distance"].flatMap(Self.number) else {
                Issue.record("\(name): bad hit \(hit.serialized())")
                return
            }
            let truth = score(metric, q, vector(Int(id), f))
            #expect(abs(distance - truth) <= 1e-3 * max(1, abs(truth)), "\(name) id \(id): \(distance) vs \(truth)")
            #expect(rows.contains(Int(id)), "\(name): id \(id) is outside the filter")
            got.append(truth)
        }
        if exact {
            for (a, b) in zip(got, expected) { #expect(abs(a - b) <= 1e-6 * max(1, abs(b)), "\(name): \(got) vs \(expected)") }
        } else {
            // HNSW with ef past the segment size: at least 9 of the best 10.
            let cut = expected.last ?? 0
            let good = got.filter { metric == "L2" ? $0 <= cut + 1e-6 : $0 >= cut - 1e-6 }.count
            #expect(good >= 9, "\(name): \(got) vs \(expected)")
        }
    }

    static func items(_ json: JSON?) -> [JSON] {
        if case .array(let items)? = json { items } else { [] }
    }

    static func number(_ json: JSON) -> Double? {
        switch json {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }

    @Test func insertSearchQueryAndRestart() throws {
        let dir = TemporaryDirectory()
        let server = ElanusProcess(
            dataDirectory: dir.file("data"),
            // Rows stay in one growing segment (exact scans) until the flush seals and indexes it.
            environment: ["ELANUS_SEGMENT_MAX_ROWS": "100000", "ELANUS_INDEX_MIN_SEGMENT_ROWS": "100"])
        try server.start()
        defer { server.terminate() }
        let rest = RESTClient(port: server.port)
        let fields = Self.metrics.map { #"{"fieldName":"\#($0.0)","dataType":"Int8Vector","elementTypeParams":{"dim":\#(Self.dim)}}"# }
        let indexes = Self.metrics.map { #"{"fieldName":"\#($0.0)","indexName":"\#($0.0)","indexType":"HNSW","metricType":"\#($0.1)","params":{"M":16,"efConstruction":200}}"# }
        let create = try rest.call("collections/create", #"""
            {"collectionName":"i8","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},{"fieldName":"cat","dataType":"Int64"},\#(fields.joined(separator: ","))]},
             "indexParams":[\#(indexes.joined(separator: ","))]}
            """#)
        #expect(create.code == 0, "\(create.body.serialized())")

        // Describe reports the type and its dim.
        let described = try rest.call("collections/describe", #"{"collectionName":"i8"}"#)
        #expect(described.body.serialized().contains(#""type":"Int8Vector""#), "\(described.body.serialized())")

        let n = 1000
        for start in stride(from: 0, to: n, by: 250) {
            let insert = try rest.call("entities/insert", #"{"collectionName":"i8","data":[\#(Self.rowsJSON(start..<start + 250))]}"#)
            #expect(insert.code == 0, "\(insert.body.serialized())")
        }
        #expect(try rest.call("collections/load", #"{"collectionName":"i8"}"#).code == 0)
        let all = Array(0..<n)
        let queries = (0..<4).map { Self.vector(5000 + $0, 0) } + [Self.vector(17, 0), Self.vector(17, 1)]

        // Growing segments: the exact scan over int8 values.
        for f in Self.metrics.indices {
            for q in queries { try Self.checkSearch(rest, f: f, q: q, rows: all, exact: true) }
            try Self.checkSearch(rest, f: f, q: queries[0], rows: all.filter { $0 % 10 == 3 }, filter: "cat == 3", exact: true)
        }

        // Query output: the stored int8 values, as integers, whichever way they were given.
        let queried = try rest.call("entities/query", #"{"collectionName":"i8","filter":"id in [0, 1, 2]","outputFields":["l2","cos"]}"#)
        guard case .array(let rows)? = queried.data, rows.count == 3 else {
            Issue.record("\(queried.body.serialized())")
            return
        }
        for row in rows {
            guard case .int(let id)? = row["id"] else { continue }
            #expect(row["l2"] == .array(Self.vector(Int(id), 0).map { .int(Int64($0)) }), "\(row.serialized())")
            #expect(row["cos"] == .array(Self.vector(Int(id), 2).map { .int(Int64($0)) }), "\(row.serialized())")
        }

        // Flushed and indexed: HNSW over the same values.
        #expect(try rest.call("collections/flush", #"{"collectionName":"i8"}"#).code == 0)
        for (name, _) in Self.metrics {
            let item = try IndexTests.waitForIndex(rest, collection: "i8", name)
            #expect(item?["indexState"] == "Finished" && item?["indexedRows"] == .int(Int64(n)), "\(name): \(item?.serialized() ?? "")")
        }
        for f in Self.metrics.indices {
            for q in queries { try Self.checkSearch(rest, f: f, q: q, rows: all, exact: false, ef: 1000) }
        }

        // The same answers after a restart (segment files and index files read back).
        _ = server.terminate()
        try server.start()
        let again = RESTClient(port: server.port)
        #expect(try again.call("collections/load", #"{"collectionName":"i8"}"#).code == 0)
        for f in Self.metrics.indices { try Self.checkSearch(again, f: f, q: queries[1], rows: all, exact: false, ef: 1000) }
        let queriedAgain = try again.call("entities/query", #"{"collectionName":"i8","filter":"id in [0, 1, 2]","outputFields":["l2","cos"]}"#)
        #expect(Set(Self.items(queriedAgain.data).map { $0.serialized() }) == Set(rows.map { $0.serialized() }))
    }

    @Test func errorsCarryMilvusCodes() throws {
        let dir = TemporaryDirectory()
        let server = ElanusProcess(dataDirectory: dir.file("data"))
        try server.start()
        defer { server.terminate() }
        let rest = RESTClient(port: server.port)

        let noDim = try rest.call("collections/create", #"{"collectionName":"e","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},{"fieldName":"v","dataType":"Int8Vector"}]}}"#)
        #expect(noDim.code == 1100 && noDim.message.contains("dimension is not defined"), "\(noDim.body.serialized())")
        let ivf = try rest.call("collections/create", #"""
            {"collectionName":"e","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},{"fieldName":"v","dataType":"Int8Vector","elementTypeParams":{"dim":4}}]},
             "indexParams":[{"fieldName":"v","indexType":"IVF_FLAT","metricType":"L2","params":{"nlist":8}}]}
            """#)
        #expect(ivf.code == 1100 && ivf.message.contains("IVF_FLAT"), "\(ivf.body.serialized())")
        let hamming = try rest.call("collections/create", #"""
            {"collectionName":"e","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},{"fieldName":"v","dataType":"Int8Vector","elementTypeParams":{"dim":4}}]},
             "indexParams":[{"fieldName":"v","indexType":"HNSW","metricType":"HAMMING"}]}
            """#)
        #expect(hamming.code == 1100 && hamming.message.contains("HAMMING"), "\(hamming.body.serialized())")

        let create = try rest.call("collections/create", #"""
            {"collectionName":"e","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},{"fieldName":"v","dataType":"Int8Vector","elementTypeParams":{"dim":4}}]},
             "indexParams":[{"fieldName":"v","indexType":"HNSW","metricType":"L2"}]}
            """#)
        #expect(create.code == 0, "\(create.body.serialized())")
        let cases: [(String, String)] = [
            (#"[1,2,3,128]"#, "element 3 (128) is out of range for int8 [-128, 127]"),
            (#"[1,2,3,-129]"#, "element 3 (-129) is out of range for int8 [-128, 127]"),
            (#"[1,2,3]"#, "the dimension is 4 but the vector has 3 elements"),
            (#"[1,2,3,1.5]"#, "element 3 is not an integer"),
            (#""AQID""#, "the dimension is 4, so 4 bytes are expected, but the base64 string holds 3"),
            (#""%%%%""#, "the string is not valid base64"),
            (#"{"a":1}"#, "expected an array of 4 integers in [-128, 127] or a base64 string"),
        ]
        for (value, message) in cases {
            let reply = try rest.call("entities/insert", #"{"collectionName":"e","data":[{"id":1,"v":[0,0,0,0]},{"id":2,"v":\#(value)}]}"#)
            #expect(reply.code == 1804 && reply.message.contains("row 1: field 'v' (Int8Vector): \(message)"), "\(value): \(reply.body.serialized())")
        }
        #expect(try rest.call("entities/insert", #"{"collectionName":"e","data":[{"id":1,"v":[-128,0,5,127]}]}"#).code == 0)
        let wrongDim = try rest.call("entities/search", #"{"collectionName":"e","data":[[1,2,3]],"limit":3}"#)
        #expect(wrongDim.code == 1801 && wrongDim.message.contains("the dimension is 4 but the vector has 3 elements"), "\(wrongDim.body.serialized())")
        let outOfRange = try rest.call("entities/search", #"{"collectionName":"e","data":[[1,2,3,300]],"limit":3}"#)
        #expect(outOfRange.code == 1801 && outOfRange.message.contains("out of range for int8"), "\(outOfRange.body.serialized())")
        let found = try rest.call("entities/search", #"{"collectionName":"e","data":[[-128,0,5,127]],"limit":3}"#)
        let first = Self.items(found.data).first
        #expect(first?["id"] == 1 && first.flatMap { $0["distance"] }.flatMap(Self.number) == 0, "\(found.body.serialized())")
    }
}
