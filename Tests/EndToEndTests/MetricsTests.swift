import ElanusCore
import ElanusHTTP
import ElanusTestSupport
import Foundation
import Testing

/// `/metrics` scraped from the real binary, read as Prometheus text, with counters that move
/// with traffic; and the one-line-per-request log.
@Suite struct MetricsTests {
    /// A Prometheus text page read strictly: every sample belongs to a family declared by a
    /// `# TYPE` line before it, names and labels are well formed, values are numbers.
    struct Page {
        var types: [String: String] = [:]
        var samples: [(name: String, labels: [String: String], value: Double)] = []

        init(_ text: String) throws {
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) where !line.isEmpty {
                if line.hasPrefix("# TYPE ") {
                    let parts = line.split(separator: " ")
                    try #require(parts.count == 4 && ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]), "bad TYPE line: \(line)")
                    types[String(parts[2])] = String(parts[3])
                    continue
                }
                if line.hasPrefix("# HELP ") { continue }
                try #require(!line.hasPrefix("#"), "unexpected comment: \(line)")
                samples.append(try Page.sample(String(line)))
            }
            for sample in samples {
                let family = ["_bucket", "_sum", "_count"].reduce(sample.name) { name, suffix in
                    name.hasSuffix(suffix) && types[String(name.dropLast(suffix.count))] == "histogram" ? String(name.dropLast(suffix.count)) : name
                }
                try #require(types[family] != nil, "sample \(sample.name) has no TYPE line")
            }
        }

        static func sample(_ line: String) throws -> (String, [String: String], Double) {
            var rest = Substring(line)
            let name = rest.prefix(while: { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" })
            try #require(!name.isEmpty && !name.first!.isNumber, "bad metric name in \(line)")
            rest = rest.dropFirst(name.count)
            var labels: [String: String] = [:]
            if rest.first == "{" {
                rest = rest.dropFirst()
                while rest.first != "}" {
                    let key = rest.prefix(while: { $0.isLetter || $0.isNumber || $0 == "_" })
                    rest = rest.dropFirst(key.count)
                    try #require(!key.isEmpty && rest.hasPrefix("=\""), "bad label in \(line)")
                    rest = rest.dropFirst(2)
                    var value = ""
                    while let c = rest.first, c != "\"" {
                        rest = rest.dropFirst()
                        if c == "\\" {
                            let escaped = try #require(rest.first, "dangling escape in \(line)")
                            rest = rest.dropFirst()
                            value.append(escaped == "n" ? "\n" : escaped)
                        } else {
                            value.append(c)
                        }
                    }
                    try #require(rest.first == "\"", "unterminated label in \(line)")
                    rest = rest.dropFirst()
                    labels[String(key)] = value
                    if rest.first == "," { rest = rest.dropFirst() }
                }
                rest = rest.dropFirst()
            }
            try #require(rest.first == " ", "no value in \(line)")
            let text = rest.dropFirst()
            let value = try #require(text == "+Inf" ? Double.infinity : Double(text), "bad value in \(line)")
            return (String(name), labels, value)
        }

        /// The value of the one sample with this name whose labels include `labels`; 0 if none.
        func value(_ name: String, _ labels: [String: String] = [:]) -> Double {
            samples.filter { sample in sample.name == name && labels.allSatisfy { key, v in sample.labels[key] == v } }.reduce(0) { $0 + $1.value }
        }
    }

    static func scrape(_ server: ElanusProcess, headers: [(String, String)] = []) throws -> (status: Int, page: Page?) {
        let response = try server.client().request("GET", "/metrics", headers: headers)
        guard response.status == 200 else { return (response.status, nil) }
        #expect(response.headers["Content-Type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        return (200, try Page(response.text))
    }

    @Test func countersMoveWithTraffic() throws {
        let dir = TemporaryDirectory()
        let server = ElanusProcess(dataDirectory: dir.file("data"))
        try server.start()
        defer { server.terminate() }
        let rest = RESTClient(port: server.port)
        #expect(try rest.call("collections/create", #"{"collectionName":"m","dimension":2}"#).code == 0)
        let before = try #require(try Self.scrape(server).page)
        #expect(before.types["elanus_request_duration_seconds"] == "histogram")
        #expect(before.value("elanus_collection_entities", ["collection": "m", "database": "default"]) == 0)
        #expect(before.value("elanus_ready") == 1)

        let rows = (0..<10).map { #"{"id":\#($0),"vector":[\#($0),1]}"# }.joined(separator: ",")
        let insert = try rest.http.post("/v2/vectordb/entities/insert", json: #"{"collectionName":"m","data":[\#(rows)]}"#, headers: [("X-Request-Id", "trace-42")])
        #expect(insert.status == 200 && insert.headers["X-Request-Id"] == "trace-42")
        for _ in 0..<3 { #expect(try rest.call("entities/search", #"{"collectionName":"m","data":[[1,1]],"limit":2}"#).code == 0) }
        #expect(try rest.call("entities/delete", #"{"collectionName":"m","filter":"id in [1, 2]"}"#).code == 0)
        #expect(try rest.call("entities/query", #"{"collectionName":"nope","filter":"id > 0"}"#).code == 100)
        #expect(try rest.call("collections/flush", #"{"collectionName":"m"}"#).code == 0)

        let after = try #require(try Self.scrape(server).page)
        func delta(_ name: String, _ labels: [String: String] = [:]) -> Double { after.value(name, labels) - before.value(name, labels) }
        #expect(delta("elanus_requests_total", ["route": "entities/insert", "code": "0"]) == 1)
        #expect(delta("elanus_requests_total", ["route": "entities/search", "code": "0"]) == 3)
        #expect(delta("elanus_requests_total", ["route": "entities/query", "code": "100"]) == 1)
        #expect(delta("elanus_request_duration_seconds_count", ["route": "entities/search"]) == 3)
        #expect(after.value("elanus_request_duration_seconds_bucket", ["route": "entities/search", "le": "+Inf"]) == 3)
        #expect(delta("elanus_rows_inserted_total") == 10)
        #expect(delta("elanus_rows_deleted_total") == 2)
        #expect(after.value("elanus_collection_entities", ["collection": "m"]) == 8)
        #expect(after.value("elanus_segments", ["collection": "m", "state": "flushed"]) >= 1)
        #expect(after.value("elanus_wal_lag_records", ["collection": "m"]) == 0)
        #expect(after.value("elanus_open_connections") >= 1)
        #expect(after.value("process_resident_memory_bytes") > 1_000_000)
        #expect(after.value("elanus_disk_bytes", ["area": "objects"]) > 0)
        #expect(after.value("elanus_wal_bytes") > 0)
        // Buckets are cumulative: never decreasing towards +Inf.
        let buckets = after.samples.filter { $0.name == "elanus_request_duration_seconds_bucket" && $0.labels["route"] == "entities/search" }.map(\.value)
        #expect(buckets.count == 15 && zip(buckets, buckets.dropFirst()).allSatisfy { $0 <= $1 })

        // One info line per request, with its id, route, collection and code; no body.
        let log = server.log()
        let line = try #require(log.split(separator: "\n").first { $0.contains("requestId=trace-42") })
        for part in ["route=entities/insert", "collection=m", "code=0", "status=200", "method=POST", "ms="] { #expect(line.contains(part), "\(part) in \(line)") }
        #expect(!log.contains("\"vector\""))
        #expect(log.split(separator: "\n").filter { $0.contains(" request") && $0.contains("route=entities/search") }.count == 3)
    }

    @Test func withAuthenticationAScrapeNeedsCredentials() throws {
        let dir = TemporaryDirectory()
        let server = ElanusProcess(dataDirectory: dir.file("data"), arguments: ["--auth"])
        try server.start()
        defer { server.terminate() }
        #expect(try Self.scrape(server).status == 401)
        let reply = try Self.scrape(server, headers: [("Authorization", "Bearer root:Milvus")])
        #expect(reply.status == 200 && reply.page?.value("elanus_ready") == 1)
        // The log names the user and never the password.
        #expect(server.log().contains("user=root") && !server.log().contains("Milvus\""))
    }
}
