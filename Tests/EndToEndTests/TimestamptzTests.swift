import ElanusCore
import ElanusTestSupport
import Foundation
import Testing

/// Timestamptz fields over HTTP against the real binary: rows given with offsets, as UTC and as
/// local times of the collection's zone across New York's spring-forward night; output in the
/// collection's and the request's zones; ISO range and INTERVAL filters checked against the
/// instants this test computes with Foundation's formatters, before and after an STL_SORT index;
/// nullable and default values; and the error paths.
@Suite struct TimestamptzTests {
    /// 2025-03-08T00:00:00Z, a day before New York's change to daylight time.
    static let base: Int64 = 1_741_392_000
    static let rows = 300
    static let newYork = TimeZone(identifier: "America/New_York")!

    /// Row `i`'s instant in seconds (nil for the null rows): every 37 minutes, over the change.
    static func instant(_ i: Int) -> Int64? { i % 10 == 9 ? nil : base + Int64(i) * 37 * 60 }

    static func iso(_ seconds: Int64, _ zone: TimeZone) -> String {
        let f = ISO8601DateFormatter()
        f.timeZone = zone
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date(timeIntervalSince1970: Double(seconds)))
    }

    static func local(_ seconds: Int64, _ zone: TimeZone) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = zone
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return f.string(from: Date(timeIntervalSince1970: Double(seconds)))
    }

    /// Row text: a third as UTC, a third with Shanghai's offset, a third as New York local time.
    static func text(_ i: Int) -> String {
        guard let t = instant(i) else { return "null" }
        switch i % 3 {
        case 0: return "\"\(iso(t, TimeZone(identifier: "UTC")!))\""
        case 1: return "\"\(iso(t, TimeZone(identifier: "Asia/Shanghai")!))\""
        default: return "\"\(local(t, newYork))\""
        }
    }

    static func ids(_ reply: RESTClient.Reply) -> Set<Int64> {
        guard case .array(let rows)? = reply.data else { return [] }
        return Set(rows.compactMap { if case .int(let id)? = $0["id"] { id } else { nil } })
    }

    @Test func roundTripsFiltersAndIndex() throws {
        let dir = TemporaryDirectory()
        let server = ElanusProcess(dataDirectory: dir.file("data"), environment: ["ELANUS_SEGMENT_MAX_ROWS": "100000", "ELANUS_INDEX_MIN_SEGMENT_ROWS": "100"])
        try server.start()
        defer { server.terminate() }
        let rest = RESTClient(port: server.port)
        let create = try rest.call("collections/create", #"""
            {"collectionName":"tz","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},
              {"fieldName":"ts","dataType":"Timestamptz","nullable":true},
              {"fieldName":"d","dataType":"Timestamptz","defaultValue":"2025-06-01T00:00:00Z"},
              {"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":2}}]},
             "indexParams":[{"fieldName":"v","indexName":"v","indexType":"FLAT","metricType":"L2"},{"fieldName":"ts","indexName":"ts","indexType":"STL_SORT"}]}
            """#)
        #expect(create.code == 0, "\(create.body.serialized())")
        let alter = try rest.call("collections/alter_properties", #"{"collectionName":"tz","properties":{"timezone":"America/New_York"}}"#)
        #expect(alter.code == 0, "\(alter.body.serialized())")

        let data = (0..<Self.rows).map { i in
            let d = i % 7 == 0 ? "" : #","d":"2025-01-0\#(i % 9 + 1)T12:00:00+01:00""#
            return #"{"id":\#(i),"ts":\#(Self.text(i))\#(d),"v":[\#(i % 5),1]}"#
        }
        let insert = try rest.call("entities/insert", #"{"collectionName":"tz","data":[\#(data.joined(separator: ","))]}"#)
        #expect(insert.code == 0, "\(insert.body.serialized())")

        // Output: the collection's zone by default, the request's when given; the same instants.
        for (zoneName, zone) in [("", Self.newYork), ("Asia/Kolkata", TimeZone(identifier: "Asia/Kolkata")!), ("UTC", TimeZone(identifier: "UTC")!)] {
            let param = zoneName.isEmpty ? "" : #","timezone":"\#(zoneName)""#
            let reply = try rest.call("entities/query", #"{"collectionName":"tz","filter":"id >= 0","limit":1000,"outputFields":["ts","d"]\#(param)}"#)
            guard case .array(let rows)? = reply.data, rows.count == Self.rows else {
                Issue.record("\(reply.body.serialized())")
                return
            }
            for row in rows {
                guard case .int(let id)? = row["id"] else { continue }
                let expected: JSON = Self.instant(Int(id)).map { .string(Self.iso($0, zone)) } ?? .null
                #expect(row["ts"] == expected, "\(zoneName) row \(id): \(row.serialized())")
                if id % 7 == 0 { #expect(row["d"] == .string(Self.iso(1_748_736_000, zone)), "\(row.serialized())") }
            }
        }

        // Filters: ranges with ISO literals (with and without offsets), INTERVAL arithmetic,
        // null tests, each against the instants computed here.
        func expect(_ filter: String, _ matches: (Int) -> Bool, _ label: String) throws {
            let reply = try rest.call("entities/query", #"{"collectionName":"tz","filter":"\#(filter)","limit":1000,"outputFields":["id"]}"#)
            #expect(reply.code == 0, "\(label): \(reply.body.serialized())")
            let want = Set((0..<Self.rows).filter(matches).map(Int64.init))
            #expect(Self.ids(reply) == want, "\(label): \(filter)")
        }
        var generator = SystemRandomNumberGenerator()
        var checks: [(String, (Int) -> Bool)] = []
        for _ in 0..<12 {
            let a = Self.base + Int64.random(in: 0..<Int64(Self.rows * 37 * 60), using: &generator)
            let b = a + Int64.random(in: 0..<(36 * 3600), using: &generator)
            let lowText = Self.iso(a, TimeZone(identifier: "Asia/Shanghai")!)
            checks.append(("ts >= ISO '\(lowText)' and ts < ISO '\(Self.iso(b, TimeZone(identifier: "UTC")!))'", { i in Self.instant(i).map { $0 >= a && $0 < b } ?? false }))
            checks.append(("ts + INTERVAL 'PT2H' > ISO '\(lowText)'", { i in Self.instant(i).map { $0 + 7200 > a } ?? false }))
            checks.append(("ts - INTERVAL 'P1DT30M' <= ISO '\(lowText)'", { i in Self.instant(i).map { $0 - 86_400 - 1800 <= a } ?? false }))
        }
        checks.append(("ts is null", { Self.instant($0) == nil }))
        checks.append(("ts == ISO '\(Self.iso(Self.instant(4)!, Self.newYork))'", { $0 == 4 }))
        checks.append(("d == ISO '2025-06-01T00:00:00Z'", { $0 % 7 == 0 }))
        checks.append(("d > ISO '2025-01-05T11:00:00Z' and id < 100", { i in (i % 7 == 0 || i % 9 + 1 > 5) && i < 100 }))
        for (filter, matches) in checks { try expect(filter, matches, "growing") }

        // Flushed, with the STL_SORT index built: the same answers through it.
        #expect(try rest.call("collections/flush", #"{"collectionName":"tz"}"#).code == 0)
        let item = try IndexTests.waitForIndex(rest, collection: "tz", "ts")
        #expect(item?["indexState"] == "Finished", "\(item?.serialized() ?? "")")
        for (filter, matches) in checks { try expect(filter, matches, "indexed") }

        // Search output and a filtered search use the same zone rules.
        let search = try rest.call("entities/search", #"{"collectionName":"tz","data":[[0,1]],"limit":3,"filter":"ts < ISO '2025-03-08T01:00:00Z'","outputFields":["ts"],"searchParams":{"timezone":"Asia/Tokyo"}}"#)
        guard case .array(let hits)? = search.data else {
            Issue.record("\(search.body.serialized())")
            return
        }
        #expect(hits.count == 2 && hits.allSatisfy { hit in
            guard case .int(let id)? = hit["id"], let t = Self.instant(Int(id)) else { return false }
            return hit["ts"] == .string(Self.iso(t, TimeZone(identifier: "Asia/Tokyo")!))
        }, "\(search.body.serialized())")
    }

    /// Collection `name`: an Int64 key `id`, a Timestamptz field `t` and a 2-d vector `v` with a
    /// FLAT index.
    static func createCollection(_ rest: RESTClient, _ name: String, nullable: Bool) throws {
        let create = try rest.call("collections/create", #"""
            {"collectionName":"\#(name)","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},{"fieldName":"t","dataType":"Timestamptz","nullable":\#(nullable)},
             {"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":2}}]},"indexParams":[{"fieldName":"v","indexType":"FLAT","metricType":"L2"}]}
            """#)
        #expect(create.code == 0, "\(create.body.serialized())")
    }

    /// exprParams templates against a Timestamptz field hold its instant as an integer of
    /// microseconds (what Milvus's plan hands its segments); ISO text in a template is 1100.
    @Test func templatesHoldInstants() throws {
        let dir = TemporaryDirectory()
        let server = ElanusProcess(dataDirectory: dir.file("data"))
        try server.start()
        defer { server.terminate() }
        let rest = RESTClient(port: server.port)
        try Self.createCollection(rest, "tp", nullable: false)
        let rows = (0..<10).map { #"{"id":\#($0),"t":"2025-01-0\#($0)T12:00:00Z","v":[\#($0),0]}"# }.dropFirst()
        #expect(try rest.call("entities/insert", #"{"collectionName":"tp","data":[\#(rows.joined(separator: ","))]}"#).code == 0)
        // Day d at noon UTC is 1735732800 + (d - 1) * 86400 seconds.
        func micros(_ day: Int64) -> Int64 { (1_735_732_800 + (day - 1) * 86_400) * 1_000_000 }
        let cases: [(String, String, [Int64])] = [
            ("t > {a}", #"{"a":\#(micros(7))}"#, [8, 9]),
            ("{a} <= t < {b}", #"{"a":\#(micros(2)),"b":\#(micros(4))}"#, [2, 3]),
            ("t in {l}", #"{"l":[\#(micros(1)),\#(micros(5))]}"#, [1, 5]),
        ]
        for (filter, params, want) in cases {
            let reply = try rest.call("entities/query", #"{"collectionName":"tp","filter":"\#(filter)","exprParams":\#(params),"outputFields":["id"]}"#)
            #expect(Self.ids(reply) == Set(want), "\(filter): \(reply.body.serialized())")
            let search = try rest.call("entities/search", #"{"collectionName":"tp","data":[[0,0]],"limit":10,"filter":"\#(filter)","exprParams":\#(params)}"#)
            #expect(Self.ids(search) == Set(want), "search \(filter): \(search.body.serialized())")
        }
        let text = try rest.call("entities/query", #"{"collectionName":"tp","filter":"t > {a}","exprParams":{"a":"2025-01-07T00:00:00Z"}}"#)
        #expect(text.code == 1100 && text.message.contains("cannot compare a Timestamptz field with a string: write the time as ISO"), "\(text.body.serialized())")
    }

    /// A search grouped by a Timestamptz field, as Milvus 2.6's group-by operator allows:
    /// groups by instant (null rows are one group), the values written in the request's zone.
    @Test func searchGroupsByTimestamptz() throws {
        let dir = TemporaryDirectory()
        let server = ElanusProcess(dataDirectory: dir.file("data"))
        try server.start()
        defer { server.terminate() }
        let rest = RESTClient(port: server.port)
        try Self.createCollection(rest, "g", nullable: true)
        // Row i is at [i, 0], on day i % 4 of January 2025 (null when i % 4 == 3).
        let rows = (0..<30).map { i in
            let t = i % 4 == 3 ? "null" : #""2025-01-0\#(i % 4 + 1)T00:00:00Z""#
            return #"{"id":\#(i),"t":\#(t),"v":[\#(i),0]}"#
        }
        #expect(try rest.call("entities/insert", #"{"collectionName":"g","data":[\#(rows.joined(separator: ","))]}"#).code == 0)
        for phase in ["growing", "flushed"] {
            if phase == "flushed" { #expect(try rest.call("collections/flush", #"{"collectionName":"g"}"#).code == 0) }
            let reply = try rest.call("entities/search", #"{"collectionName":"g","data":[[0,0]],"limit":3,"groupingField":"t","groupSize":2,"outputFields":["t"],"searchParams":{"timezone":"Asia/Tokyo"}}"#)
            guard case .array(let hits)? = reply.data else {
                Issue.record("\(phase): \(reply.body.serialized())")
                continue
            }
            #expect(hits.map { $0["id"] } == [0, 4, 1, 5, 2, 6], "\(phase): \(reply.body.serialized())")
            #expect(hits.map { $0["t"] } == ["2025-01-01T09:00:00+09:00", "2025-01-01T09:00:00+09:00", "2025-01-02T09:00:00+09:00", "2025-01-02T09:00:00+09:00", "2025-01-03T09:00:00+09:00", "2025-01-03T09:00:00+09:00"], "\(phase)")
            // The null rows are a group of their own.
            let more = try rest.call("entities/search", #"{"collectionName":"g","data":[[0,0]],"limit":4,"groupingField":"t","outputFields":["t"]}"#)
            guard case .array(let four)? = more.data else { continue }
            #expect(four.map { $0["id"] } == [0, 1, 2, 3] && four.last?["t"] == .null, "\(phase): \(more.body.serialized())")
        }
    }

    @Test func errorsCarryMilvusCodes() throws {
        let dir = TemporaryDirectory()
        let server = ElanusProcess(dataDirectory: dir.file("data"))
        try server.start()
        defer { server.terminate() }
        let rest = RESTClient(port: server.port)
        let badDefault = try rest.call("collections/create", #"""
            {"collectionName":"e","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},{"fieldName":"t","dataType":"Timestamptz","defaultValue":"tomorrow"},
             {"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":2}}]}}
            """#)
        #expect(badDefault.code == 1100 && badDefault.message.contains("tomorrow is not an ISO 8601 time"), "\(badDefault.body.serialized())")
        let create = try rest.call("collections/create", #"""
            {"collectionName":"e","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},{"fieldName":"t","dataType":"Timestamptz"},
             {"fieldName":"v","dataType":"FloatVector","elementTypeParams":{"dim":2}}]},"indexParams":[{"fieldName":"v","indexType":"FLAT","metricType":"L2"}]}
            """#)
        #expect(create.code == 0, "\(create.body.serialized())")
        let cases: [(String, String)] = [
            (#""2025-02-30T00:00:00Z""#, #""2025-02-30T00:00:00Z" is not an ISO 8601 time"#),
            (#""soon""#, #""soon" is not an ISO 8601 time"#),
            ("1735689600", "expected an ISO 8601 time string, got number"),
            ("null", "null is not allowed: the field is not nullable"),
        ]
        for (value, message) in cases {
            let reply = try rest.call("entities/insert", #"{"collectionName":"e","data":[{"id":1,"t":"2025-01-01T00:00:00Z","v":[1,1]},{"id":2,"t":\#(value),"v":[1,1]}]}"#)
            #expect(reply.code == 1804 && reply.message.contains("row 1: field 't' (Timestamptz): \(message)"), "\(value): \(reply.body.serialized())")
        }
        #expect(try rest.call("entities/insert", #"{"collectionName":"e","data":[{"id":1,"t":"2025-01-01T00:00:00Z","v":[1,1]}]}"#).code == 0)
        let filters: [(String, String)] = [
            ("t > ISO 'later'", "invalid ISO 8601 time 'later'"),
            ("t > ISO '2025-01-01T00:00:00Z' + INTERVAL 'P1M'", "invalid ISO 8601 interval 'P1M'"),
            ("t + INTERVAL 'nope' > ISO '2025-01-01T00:00:00Z'", "invalid ISO 8601 interval 'nope'"),
        ]
        for (filter, message) in filters {
            let reply = try rest.call("entities/query", #"{"collectionName":"e","filter":"\#(filter)"}"#)
            #expect(reply.code == 1100 && reply.message.contains(message), "\(filter): \(reply.body.serialized())")
        }
        let zone = try rest.call("entities/query", #"{"collectionName":"e","filter":"id > 0","outputFields":["t"],"timezone":"Mars/Olympus"}"#)
        #expect(zone.code == 1100 && zone.message.contains("invalid timezone: Mars/Olympus"), "\(zone.body.serialized())")
        let property = try rest.call("collections/alter_properties", #"{"collectionName":"e","properties":{"timezone":"Nowhere"}}"#)
        #expect(property.code == 1100 && property.message.contains("invalid timezone: Nowhere"), "\(property.body.serialized())")
        let database = try rest.call("databases/alter", #"{"dbName":"default","properties":{"timezone":"Nowhere"}}"#)
        #expect(database.code == 1100 && database.message.contains("invalid timezone: Nowhere"), "\(database.body.serialized())")
        // A collection's zone is fixed when it is created (UTC here): the database's zone set
        // later does not change how its local times are read.
        #expect(try rest.call("databases/alter", #"{"dbName":"default","properties":{"timezone":"Asia/Shanghai"}}"#).code == 0)
        #expect(try rest.call("entities/insert", #"{"collectionName":"e","data":[{"id":2,"t":"2025-01-01T08:00:00","v":[1,1]}]}"#).code == 0)
        let utc = try rest.call("entities/query", #"{"collectionName":"e","filter":"id == 2","outputFields":["t"]}"#)
        #expect(utc.data == [["id": 2, "t": "2025-01-01T08:00:00Z"]], "\(utc.body.serialized())")
    }
}
