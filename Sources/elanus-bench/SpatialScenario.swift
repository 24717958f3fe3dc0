import Dispatch
import ElanusCore
import ElanusHTTP
import Foundation

/// Issue 25's spatial scenario: `points` rows of a Geometry point (uniform in [0, 100) x [0, 100))
/// and a float vector, on a freshly started server; a filtered vector search keeping the points
/// inside a triangle of 1% of the square (`ST_WITHIN`), measured first without an index on the
/// Geometry field (GEOS tests every row), then with its RTREE index (GEOS tests only the rows whose
/// envelope meets the triangle's box, half of which are inside). The "with RTREE" figures carry
/// the "without" ones as their baseline, so the ratio is the index's speed-up. Recall is against a
/// brute force computed here over the points inside; the count of matching rows is checked too.
struct SpatialScenario {
    let report: Report
    let points: Int
    let dim: Int
    let queries: Int
    let k: Int
    let keepData: Bool
    var seed: UInt64 = 25

    /// Area 100 of the 10,000 square: 1% of uniform points. Its envelope is twice that, so the
    /// RTREE narrows GEOS's work to 2% of the rows, not to the answer itself.
    static let triangle = "POLYGON ((20 20, 40 20, 20 30, 20 20))"

    /// The rows and queries, and their request bodies. Coordinates and vector values are whole
    /// thousandths, so the text sent is the value exactly.
    struct Rows: Sendable {
        var dim: Int
        var k: Int
        var x: [Int32] = []
        var y: [Int32] = []
        var vectors: [Int16] = []
        var queries: [Int16] = []
    }

    func generate() -> Rows {
        var rng = SplitMix(seed: seed)
        var rows = Rows(dim: dim, k: k)
        // Odd thousandths: no point lies on an edge of the triangle (x = 20, y = 20, x + 2y =
        // 80), where the decimal text and GEOS's doubles could disagree about inside.
        rows.x = (0..<points).map { _ in Int32(rng.next() % 50_000) * 2 + 1 }
        rows.y = (0..<points).map { _ in Int32(rng.next() % 50_000) * 2 + 1 }
        rows.vectors = (0..<(points * dim)).map { _ in Int16(Int(rng.next() % 2001) - 1000) }
        rows.queries = (0..<(queries * dim)).map { _ in Int16(Int(rng.next() % 2001) - 1000) }
        return rows
    }

    /// Strictly inside the triangle (ST_WITHIN leaves the boundary out), in thousandths:
    /// x > 20, y > 20, and below the edge from (40, 20) to (20, 30): x + 2y < 80.
    static func inside(_ x: Int32, _ y: Int32) -> Bool { x > 20_000 && y > 20_000 && Int(x) + 2 * Int(y) < 80_000 }

    func run() throws {
        let rows = generate()
        let allowed = (0..<points).filter { Self.inside(rows.x[$0], rows.y[$0]) }
        let truth = (0..<queries).map { q in groundTruth(rows, query: q, allowed: allowed) }
        let scenario = "spatial filter, \(points) points, ST_WITHIN a 1% triangle, FLAT vectors dim=\(dim), k=\(k)"

        let server = try ServerUnderTest(keepData: keepData)
        defer { server.stop() }
        let client = HTTPClient(port: server.port, timeoutMs: 600_000)
        let create = #"""
            {"collectionName":"spatial","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},
             {"fieldName":"vector","dataType":"FloatVector","elementTypeParams":{"dim":\#(dim)}},
             {"fieldName":"geo","dataType":"Geometry"}]},
             "indexParams":[{"fieldName":"vector","metricType":"L2","indexType":"FLAT"}]}
            """#
        try expect(client.post("/v2/vectordb/collections/create", json: create), "create the spatial collection")
        let batch = 2000
        let batches = (points + batch - 1) / batch
        let total = points
        let insertStart = DispatchTime.now().uptimeNanoseconds
        _ = try LoadGenerator(port: server.port, connections: 2, path: "/v2/vectordb/entities/insert", showProgress: true).run(requests: batches) { b in
            rows.insertBody(from: b * batch, count: min(batch, total - b * batch))
        }
        try expect(client.post("/v2/vectordb/collections/flush", json: #"{"collectionName":"spatial"}"#), "flush")
        report.add(scenario, "insert and flush", Double(points) / seconds(since: insertStart), "rows/s", note: "WKT points with \(dim)-float vectors")

        let filter = "ST_WITHIN(geo, '\(Self.triangle)')"
        let count = try client.post("/v2/vectordb/entities/query", json: #"{"collectionName":"spatial","filter":"\#(filter)","outputFields":["count(*)"]}"#)
        guard count.text.contains(#""count(*)":\#(allowed.count)"#) else { throw BenchError("count(*) inside the triangle: \(count.text), expected \(allowed.count)") }

        let bodies = (0..<queries).map { rows.searchBody(query: $0, filter: filter) }
        let without = try measure(server, bodies, truth, seconds: 20)
        try expect(client.post("/v2/vectordb/indexes/create", json: #"{"collectionName":"spatial","indexParams":[{"fieldName":"geo","indexName":"geo","indexType":"RTREE"}]}"#), "create the RTREE index")
        let buildStart = DispatchTime.now().uptimeNanoseconds
        while true {
            let described = try client.post("/v2/vectordb/indexes/describe", json: #"{"collectionName":"spatial","indexName":"geo"}"#)
            if described.text.contains(#""indexState":"Finished""#) && described.text.contains(#""indexedRows":\#(points)"#) { break }
            guard !described.text.contains(#""indexState":"Failed""#), seconds(since: buildStart) < 3600 else { throw BenchError("RTREE build: \(described.text)") }
            Thread.sleep(forTimeInterval: 0.05)
        }
        report.add(scenario, "RTREE build", seconds(since: buildStart), "s", note: "from indexes/create to every segment indexed")
        let with = try measure(server, bodies, truth)

        report.add(scenario, "QPS without RTREE", without.qps, "q/s", note: "GEOS tests every row (for 20 s); \(allowed.count) rows inside")
        report.add(scenario, "QPS with RTREE", with.qps, "q/s", baseline: without.qps, note: "baseline: without RTREE")
        report.add(scenario, "latency p50 with RTREE", with.p50, "ms", baseline: without.p50, note: "baseline: without RTREE")
        report.add(scenario, "recall@\(k) without RTREE", without.recall, "")
        report.add(scenario, "recall@\(k) with RTREE", with.recall, "", baseline: without.recall)
    }

    /// One client, one query after another, every query once, or as many as `seconds` allow
    /// (GEOS over every row of a million takes about a second a query); recall against the
    /// brute force over the queries answered.
    private func measure(_ server: ServerUnderTest, _ bodies: [[UInt8]], _ truth: [[Int64]], seconds: Double? = nil) throws -> (qps: Double, p50: Double, recall: Double) {
        let result = try LoadGenerator(port: server.port, path: "/v2/vectordb/entities/search", keepResponses: true).run(requests: bodies.count, duration: seconds) { bodies[$0] }
        let answered = result.responses.keys.sorted()
        let found = try answered.map { q -> [Int64] in
            guard case .array(let items)? = try JSON.parse(result.responses[q]!)["data"] else { throw BenchError("search response without data") }
            return items.map { if case .int(let id)? = $0["id"] { id } else { -1 } }
        }
        return (result.requestsPerSecond, result.p50, recall(found: found, truth: answered.map { truth[$0] }, k: k))
    }

    /// The `k` allowed rows nearest to query `q` by L2, over the exact values sent.
    private func groundTruth(_ rows: Rows, query q: Int, allowed: [Int]) -> [Int64] {
        var scored: [(Int64, Int)] = allowed.map { r in
            var sum = 0
            for i in 0..<dim {
                let d = Int(rows.queries[q * dim + i]) - Int(rows.vectors[r * dim + i])
                sum += d * d
            }
            return (Int64(r), sum)
        }
        scored.sort { $0.1 < $1.1 || $0.1 == $1.1 && $0.0 < $1.0 }
        return scored.prefix(k).map(\.0)
    }

    private func expect(_ response: HTTPClient.Response, _ what: String) throws {
        guard response.text.hasPrefix("{\"code\":0") else { throw BenchError("\(what): \(response.text.prefix(300))") }
    }

    /// `v / 1000` as decimal text with three fraction digits.
    static func appendThousandths(_ v: Int, to out: inout [UInt8]) {
        if v < 0 { out.append(UInt8(ascii: "-")) }
        let a = abs(v)
        out += Array(String(a / 1000).utf8)
        out.append(UInt8(ascii: "."))
        let fraction = a % 1000
        out += [UInt8(ascii: "0") + UInt8(fraction / 100), UInt8(ascii: "0") + UInt8(fraction / 10 % 10), UInt8(ascii: "0") + UInt8(fraction % 10)]
    }
}

/// Request bodies, built off the timed phase (searches) or by the load generator's threads (inserts).
extension SpatialScenario.Rows {
    func insertBody(from first: Int, count: Int) -> [UInt8] {
        var out = Array(#"{"collectionName":"spatial","data":["#.utf8)
        out.reserveCapacity(count * (dim * 7 + 64))
        for r in first..<(first + count) {
            if r > first { out.append(UInt8(ascii: ",")) }
            out += Array(#"{"id":\#(r),"geo":"POINT ("#.utf8)
            SpatialScenario.appendThousandths(Int(x[r]), to: &out)
            out.append(UInt8(ascii: " "))
            SpatialScenario.appendThousandths(Int(y[r]), to: &out)
            out += Array(#")","vector":"#.utf8)
            appendVector(vectors, row: r, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out += Array("]}".utf8)
        return out
    }

    func searchBody(query q: Int, filter: String) -> [UInt8] {
        var out = Array(#"{"collectionName":"spatial","limit":\#(k),"filter":"\#(filter)","data":["#.utf8)
        appendVector(queries, row: q, to: &out)
        out += Array("]}".utf8)
        return out
    }

    func appendVector(_ values: [Int16], row: Int, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for i in 0..<dim {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            SpatialScenario.appendThousandths(Int(values[row * dim + i]), to: &out)
        }
        out.append(UInt8(ascii: "]"))
    }
}
