import ElanusCore
import ElanusTestSupport
import Foundation
import Testing

/// Bulk import against the real binary: each file format lands with the right values, a broken
/// file (or a broken file anywhere in a job) changes nothing and names the file and line, and
/// jobs and their rows survive a SIGKILL.
@Suite struct ImportTests {
    static let schema = #"""
        {"collectionName":"docs","schema":{"enableDynamicField":true,"fields":[
          {"fieldName":"id","dataType":"Int64","isPrimary":true},
          {"fieldName":"vector","dataType":"FloatVector","elementTypeParams":{"dim":4}},
          {"fieldName":"title","dataType":"VarChar","elementTypeParams":{"max_length":12},"nullable":true},
          {"fieldName":"score","dataType":"Float"},
          {"fieldName":"meta","dataType":"JSON"}]},
         "indexParams":[{"fieldName":"vector","indexType":"FLAT","metricType":"L2"}]}
        """#

    static func vector(_ i: Int) -> [Float] { [Float(i), 1, Float(i % 7), 0.5] }

    /// A `.npy` file: the header dict padded so the data starts on a 64-byte boundary.
    static func npy(_ descr: String, _ shape: [Int], _ data: [UInt8]) -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        let length = UInt16(header.utf8.count)
        return Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + Array(header.utf8) + data)
    }

    static func littleEndian<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        values.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    }

    static func unicode(_ strings: [String], width: Int) -> [UInt8] {
        strings.flatMap { s in
            let scalars = s.unicodeScalars.map(\.value) + [UInt32](repeating: 0, count: width - s.unicodeScalars.count)
            return littleEndian(scalars)
        }
    }

    static func jsonRow(_ i: Int, title: String? = nil) -> String {
        let v = vector(i).map { String($0) }.joined(separator: ",")
        return #"{"id":\#(i),"vector":[\#(v)],"title":"\#(title ?? "t\(i)")","score":\#(Double(i) / 2),"meta":{"n":\#(i)},"extra":\#(i)}"#
    }

    /// Waits for a job to finish; returns its describe data.
    static func wait(_ rest: RESTClient, _ job: String, timeout: Double = 60) throws -> JSON {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let data = try #require(try rest.call("jobs/import/describe", #"{"jobId":"\#(job)"}"#).data)
            if data["state"] == "Completed" || data["state"] == "Failed" { return data }
            usleep(50_000)
        }
        throw ElanusError(.unexpected, "import job \(job) did not finish in \(timeout) s")
    }

    static func create(_ rest: RESTClient, _ files: [[String]], options: String = "{}") throws -> String {
        let groups = files.map { "[" + $0.map { "\"\($0)\"" }.joined(separator: ",") + "]" }.joined(separator: ",")
        let reply = try rest.call("jobs/import/create", #"{"collectionName":"docs","files":[\#(groups)],"options":\#(options)}"#)
        guard case .string(let id)? = reply.data?["jobId"] else { throw ElanusError(.unexpected, "create failed: \(reply.body)") }
        return id
    }

    static func numbers(_ json: JSON?) -> [Double] {
        switch json {
        case .int(let i)?: return [Double(i)]
        case .double(let d)?: return [d]
        case .array(let elements)?: return elements.flatMap { numbers($0) }
        default: return []
        }
    }

    static func first(_ json: JSON?) -> JSON? {
        if case .array(let elements)? = json { return elements.first }
        return nil
    }

    static func count(_ rest: RESTClient) throws -> JSON? {
        first(try rest.call("entities/query", #"{"collectionName":"docs","filter":"","outputFields":["count(*)"]}"#).data)?["count(*)"]
    }

    @Test func everyFormatImportsAndBrokenFilesChangeNothing() throws {
        let dir = TemporaryDirectory()
        let data = dir.file("data")
        let imports = data + "/import"
        // Small segments, so an import writes several.
        var server = ElanusProcess(dataDirectory: data, environment: ["ELANUS_SEGMENT_MAX_ROWS": "250"])
        try server.start()
        var rest = RESTClient(port: server.port)
        #expect(try rest.call("collections/create", Self.schema).code == 0)
        let inserted = (0..<10).map { Self.jsonRow($0) }.joined(separator: ",")
        #expect(try rest.call("entities/insert", #"{"collectionName":"docs","data":[\#(inserted)]}"#).code == 0)

        // JSON (an array; id 5 replaces the inserted row), JSON lines (Milvus's {"rows":[...]} in
        // a .json too), CSV, and one .npy per field.
        let jsonRows = (100..<600).map { Self.jsonRow($0) } + [Self.jsonRow(5, title: "imported")]
        try ("[\n" + jsonRows.joined(separator: ",\n") + "\n]").write(toFile: imports + "/rows.json", atomically: true, encoding: .utf8)
        try (600..<1100).map { Self.jsonRow($0) }.joined(separator: "\n").write(toFile: imports + "/rows.jsonl", atomically: true, encoding: .utf8)
        try (#"{"rows":["# + Self.jsonRow(1100) + "]}").write(toFile: imports + "/wrapped.json", atomically: true, encoding: .utf8)
        var csv = "id;vector;title;score;meta;extra\n"
        for i in 1101..<1400 {
            csv += "\(i);\"[\(Self.vector(i).map { String($0) }.joined(separator: ","))]\";\(i == 1101 ? "NULL" : "\"c;\(i)\"\"\"");\(Double(i) / 2);\"{\"\"n\"\":\(i)}\";\(i)\n"
        }
        try csv.write(toFile: imports + "/rows.csv", atomically: true, encoding: .utf8)
        let ids = Array(1400..<2000)
        try FileManager.default.createDirectory(atPath: imports + "/npy", withIntermediateDirectories: true)
        try Self.npy("<i8", [ids.count], Self.littleEndian(ids.map(Int64.init))).write(to: URL(fileURLWithPath: imports + "/npy/id.npy"))
        try Self.npy("<f4", [ids.count, 4], Self.littleEndian(ids.flatMap { Self.vector($0).map(\.bitPattern) })).write(to: URL(fileURLWithPath: imports + "/npy/vector.npy"))
        try Self.npy("<U8", [ids.count], Self.unicode(ids.map { "n\($0)" }, width: 8)).write(to: URL(fileURLWithPath: imports + "/npy/title.npy"))
        try Self.npy("<f8", [ids.count], Self.littleEndian(ids.map { (Double($0) / 2).bitPattern })).write(to: URL(fileURLWithPath: imports + "/npy/score.npy"))
        try Self.npy("<U12", [ids.count], Self.unicode(ids.map { #"{"n":\#($0)}"# }, width: 12)).write(to: URL(fileURLWithPath: imports + "/npy/meta.npy"))

        let jobs = [
            try Self.create(rest, [["rows.json"], ["wrapped.json"]]),
            try Self.create(rest, [["rows.jsonl"]]),
            try Self.create(rest, [["rows.csv"]], options: #"{"sep":";","nullkey":"NULL"}"#),
            try Self.create(rest, [["npy/id.npy", "npy/vector.npy", "npy/title.npy", "npy/score.npy", "npy/meta.npy"]]),
        ]
        let rowsPerJob: [Int64] = [502, 500, 299, 600]
        for (job, rows) in zip(jobs, rowsPerJob) {
            let done = try Self.wait(rest, job)
            #expect(done["state"] == "Completed" && done["progress"] == 100, "\(done)")
            #expect(done["importedRows"] == .int(rows) && done["collectionName"] == "docs")
        }
        #expect(try Self.count(rest) == .int(10 + 1900))
        func row(_ id: Int) throws -> JSON? {
            Self.first(try rest.call("entities/query", #"{"collectionName":"docs","filter":"id == \#(id)","outputFields":["*"]}"#).data)
        }
        #expect(try row(5)?["title"] == "imported")
        for id in [100, 777, 1100, 1250, 1999] {
            let r = try #require(try row(id), "row \(id)")
            #expect(Self.numbers(r["vector"]) == Self.vector(id).map { Double($0) }, "row \(id)")
            #expect(Self.numbers(r["score"]) == [Double(id) / 2] && r["meta"] == .string(#"{"n":\#(id)}"#), "row \(id): \(r)")
        }
        let r1250 = try row(1250)
        #expect(r1250?["title"] == .string("c;1250\"") && r1250?["extra"] == 1250, "\(String(describing: r1250))")
        #expect(try row(1101)?["title"] == .null)
        #expect(try row(1999)?["title"] == "n1999" && row(1999)?["extra"] == nil)
        let hit = try rest.call("entities/search", #"{"collectionName":"docs","data":[[1234,1,2,0.5]],"limit":1,"outputFields":["id"]}"#)
        #expect(Self.first(hit.data)?["id"] == 1234)

        // Broken files: the job fails naming the file and the line, and nothing changes, even
        // when a good group came first in the same job.
        var bad = (2000..<2100).map { Self.jsonRow($0) }
        bad[56] = #"{"id":2056,"vector":[1,2,3],"score":1,"meta":{}}"#
        try bad.joined(separator: "\n").write(toFile: imports + "/bad.jsonl", atomically: true, encoding: .utf8)
        try ("[\n" + Self.jsonRow(3000) + ",\n{\"id\": 3001,,}\n]").write(toFile: imports + "/syntax.json", atomically: true, encoding: .utf8)
        try "id,vector,title,score,meta\n3100,\"[1,2,3,4]\",ok,1,{}\n3101,\"[1,2,3,4],x,1,{}\n".write(toFile: imports + "/open.csv", atomically: true, encoding: .utf8)
        try "id,vector,title,score,meta\n3200,\"[1,2,3,4]\",far too long a title,1,{}\n".write(toFile: imports + "/long.csv", atomically: true, encoding: .utf8)
        try Self.npy("<i8", [3], Self.littleEndian([Int64(1), 2, 3])).write(to: URL(fileURLWithPath: imports + "/npy/short_id.npy"))
        try FileManager.default.createDirectory(atPath: imports + "/mismatch", withIntermediateDirectories: true)
        try Self.npy("<i8", [3], Self.littleEndian([Int64(4000), 4001, 4002])).write(to: URL(fileURLWithPath: imports + "/mismatch/id.npy"))
        try Self.npy("<f4", [2, 4], Self.littleEndian([Float](repeating: 1, count: 8).map(\.bitPattern))).write(to: URL(fileURLWithPath: imports + "/mismatch/vector.npy"))
        // A crafted width that overflowed `size * 4` and killed the server (issue 20, item 6).
        try FileManager.default.createDirectory(atPath: imports + "/crafted", withIntermediateDirectories: true)
        try Self.npy("<U9223372036854775807", [3], []).write(to: URL(fileURLWithPath: imports + "/crafted/title.npy"))
        let failures: [([[String]], String)] = [
            ([["crafted/title.npy"]], "dtype <U9223372036854775807 is wider than 1048576 characters"),
            ([["rows.jsonl"], ["bad.jsonl"]], "file bad.jsonl line 57: field 'vector' (FloatVector): the dimension is 4 but the vector has 3 elements"),
            ([["syntax.json"]], "file syntax.json line 3: invalid JSON"),
            ([["open.csv"]], "file open.csv line 3: a quoted cell is not closed"),
            ([["long.csv"]], "file long.csv line 2: field 'title' (VarChar): the string is 20 bytes long, which exceeds max_length 12"),
            ([["npy/short_id.npy"]], "file npy/short_id.npy: no field of the collection is named short_id"),
            ([["mismatch/id.npy", "mismatch/vector.npy"]], "the .npy files must all hold the same number of rows"),
            // Milvus accepts a job whose file is missing and fails it when it runs.
            ([["missing.json"]], "import failed: cannot read file missing.json"),
        ]
        for (files, reason) in failures {
            let done = try Self.wait(rest, try Self.create(rest, files))
            #expect(done["state"] == "Failed", "\(files)")
            if case .string(let message)? = done["reason"] { #expect(message.contains(reason), "\(message)") } else { Issue.record("no reason for \(files)") }
        }
        #expect(try Self.count(rest) == .int(1910))
        #expect(try row(600)?["title"] == "t600")

        // Requests that cannot make a job at all.
        #expect(try rest.call("jobs/import/create", #"{"collectionName":"docs","files":[["x.parquet"]]}"#).code == 2100)
        #expect(try rest.call("jobs/import/create", #"{"collectionName":"docs","files":[["../data.json"]]}"#).code == 1100)
        #expect(try rest.call("jobs/import/create", #"{"collectionName":"docs","files":[["/etc/passwd.json"]]}"#).code == 1100)
        let empty = try rest.call("jobs/import/create", #"{"collectionName":"docs","files":[[]]}"#)
        #expect(empty.code == 1100 && empty.message == "import request is empty: invalid parameter", "\(empty.body.serialized())")
        #expect(try rest.call("jobs/import/create", #"{"collectionName":"docs","files":[["rows.json","rows.csv"]]}"#).code == 1100)
        #expect(try rest.call("jobs/import/create", #"{"collectionName":"nope","files":[["rows.json"]]}"#).code == 100)
        #expect(try rest.call("jobs/import/create", #"{"collectionName":"docs","files":"rows.json"}"#).code == 1801)
        #expect(try rest.call("jobs/import/describe", #"{"jobId":"12345"}"#).code == 1100)
        // Milvus's backup mode (binlog segments) is refused by name, before any file is looked at.
        let backup = try rest.call("jobs/import/create", #"{"collectionName":"docs","files":[["bucket/root/insert_log/1/"]],"options":{"backup":"true"}}"#)
        #expect(backup.code == 1100 && backup.message.contains("invalid import option backup=true"), "\(backup.body.serialized())")
        // An autoID key is generated for imported rows, and a file that gives one is refused.
        #expect(try rest.call("collections/create", #"{"collectionName":"auto","dimension":2,"autoID":true}"#).code == 0)
        try (0..<300).map { #"{"vector":[\#($0),1]}"# }.joined(separator: "\n").write(toFile: imports + "/auto.jsonl", atomically: true, encoding: .utf8)
        try #"{"id":1,"vector":[1,1]}"#.write(toFile: imports + "/keyed.jsonl", atomically: true, encoding: .utf8)
        func importInto(_ collection: String, _ file: String) throws -> JSON {
            let reply = try rest.call("jobs/import/create", #"{"collectionName":"\#(collection)","files":[["\#(file)"]]}"#)
            guard case .string(let id)? = reply.data?["jobId"] else { throw ElanusError(.unexpected, "\(reply.body)") }
            return try Self.wait(rest, id)
        }
        #expect(try importInto("auto", "auto.jsonl")["state"] == "Completed")
        let keyed = try importInto("auto", "keyed.jsonl")
        #expect(keyed["state"] == "Failed" && "\(keyed["reason"] ?? .null)".contains("auto-generated"))
        let autoRows = try rest.call("entities/query", #"{"collectionName":"auto","filter":"","outputFields":["count(*)"]}"#)
        #expect(Self.first(autoRows.data)?["count(*)"] == 300)

        let list = try #require(try rest.call("jobs/import/list", #"{"collectionName":"docs"}"#).data?["records"])
        guard case .array(let records) = list else { throw ElanusError(.unexpected, "records is not a list") }
        #expect(records.count == 12)

        // SIGKILL: every committed row and every job is there after the restart.
        server.kill()
        server = ElanusProcess(dataDirectory: data, environment: ["ELANUS_SEGMENT_MAX_ROWS": "250"])
        try server.start()
        defer { server.terminate() }
        rest = RESTClient(port: server.port)
        #expect(try Self.count(rest) == .int(1910))
        #expect(try row(5)?["title"] == "imported" && Self.numbers(row(1999)?["score"]) == [999.5])
        #expect(try Self.wait(rest, jobs[3])["state"] == "Completed")
    }

    /// A job cut off by SIGKILL mid-way committed nothing; after the restart it runs again from
    /// the start and lands every row once.
    @Test func anInterruptedJobRunsAgainAfterARestart() throws {
        let dir = TemporaryDirectory()
        let data = dir.file("data")
        var server = ElanusProcess(dataDirectory: data)
        try server.start()
        var rest = RESTClient(port: server.port)
        #expect(try rest.call("collections/create", Self.schema).code == 0)
        let rows = 40_000
        try (0..<rows).map { Self.jsonRow($0) }.joined(separator: "\n").write(toFile: data + "/import/big.jsonl", atomically: true, encoding: .utf8)
        let job = try Self.create(rest, [["big.jsonl"]])
        usleep(100_000)
        server.kill()
        server = ElanusProcess(dataDirectory: data)
        try server.start()
        defer { server.terminate() }
        rest = RESTClient(port: server.port)
        let done = try Self.wait(rest, job)
        #expect(done["state"] == "Completed" && done["importedRows"] == .int(Int64(rows)))
        // 40,000 rows take most of a second to read: the kill came while the job was running.
        #expect(server.log().contains("import job resumes after a restart"))
        #expect(try Self.count(rest) == .int(Int64(rows)))
    }

    /// A job whose runs keep ending with the process (a file that crashes the server) is
    /// quarantined as Failed after three such runs instead of putting the server in a crash loop.
    @Test func aJobThatKeepsKillingTheServerIsQuarantined() throws {
        let dir = TemporaryDirectory()
        let data = dir.file("data")
        var server = ElanusProcess(dataDirectory: data)
        try server.start()
        var rest = RESTClient(port: server.port)
        #expect(try rest.call("collections/create", Self.schema).code == 0)
        try (0..<60_000).map { Self.jsonRow($0) }.joined(separator: "\n").write(toFile: data + "/import/big.jsonl", atomically: true, encoding: .utf8)
        let job = try Self.create(rest, [["big.jsonl"]])
        for round in 0..<3 {
            // Killed while the job runs, as a crash in its reader would end it.
            let deadline = Date().addingTimeInterval(20)
            var state: JSON?
            repeat {
                state = try rest.call("jobs/import/describe", #"{"jobId":"\#(job)"}"#).data?["state"]
                if state == "Importing" { break }
                usleep(5_000)
            } while Date() < deadline
            #expect(state == "Importing", "round \(round)")
            server.kill()
            server = ElanusProcess(dataDirectory: data)
            try server.start()
            rest = RESTClient(port: server.port)
        }
        defer { server.terminate() }
        let done = try Self.wait(rest, job)
        #expect(done["state"] == "Failed")
        if case .string(let reason)? = done["reason"] { #expect(reason.contains("started 3 times")) } else { Issue.record("no reason: \(done)") }
        #expect(server.log().contains("import job quarantined"))
        #expect(try Self.count(rest) == .int(0))
    }

    /// An import over keys that already exist (flushed and growing) and that repeat within the
    /// file: its commit computes the dead bits without copying the collection's state (issue
    /// 20, item 13). The newest version of each key is the one read, before and after a
    /// SIGKILL and a restart, once each.
    @Test func anImportOverExistingKeysLeavesTheSameRowsAfterARestart() throws {
        let dir = TemporaryDirectory()
        let data = dir.file("data")
        var server = ElanusProcess(dataDirectory: data, environment: ["ELANUS_SEGMENT_MAX_ROWS": "40"])
        try server.start()
        var rest = RESTClient(port: server.port)
        #expect(try rest.call("collections/create", Self.schema).code == 0)
        let first = (0..<100).map { Self.jsonRow($0, title: "old") }.joined(separator: ",")
        #expect(try rest.call("entities/insert", #"{"collectionName":"docs","data":[\#(first)]}"#).code == 0)
        #expect(try rest.call("collections/flush", #"{"collectionName":"docs"}"#).code == 0)
        let growing = (100..<110).map { Self.jsonRow($0, title: "old") }.joined(separator: ",")
        #expect(try rest.call("entities/insert", #"{"collectionName":"docs","data":[\#(growing)]}"#).code == 0)
        // 50..149 over the existing 0..109, and 120 twice (the later line wins).
        var lines = (50..<150).map { Self.jsonRow($0, title: "imported") }
        lines.append(Self.jsonRow(120, title: "again"))
        try lines.joined(separator: "\n").write(toFile: data + "/import/over.jsonl", atomically: true, encoding: .utf8)
        #expect(try Self.wait(rest, try Self.create(rest, [["over.jsonl"]]))["state"] == "Completed")
        func check(_ when: String) throws {
            #expect(try Self.count(rest) == .int(150), "\(when)")
            let rows = try rest.call("entities/query", #"{"collectionName":"docs","filter":"id >= 0","outputFields":["id","title"],"limit":1000}"#)
            guard case .array(let items)? = rows.data else { throw ElanusError(.unexpected, "query failed: \(rows.body)") }
            var titles: [Int64: String] = [:]
            for item in items {
                guard case .int(let id)? = item["id"], case .string(let title)? = item["title"] else { continue }
                #expect(titles.updateValue(title, forKey: id) == nil, "\(when): key \(id) twice")
            }
            #expect(titles.count == 150, "\(when)")
            #expect((0..<50).allSatisfy { titles[Int64($0)] == "old" }, "\(when)")
            #expect((50..<150).allSatisfy { titles[Int64($0)] == ($0 == 120 ? "again" : "imported") }, "\(when): \(titles[120] ?? "-") \(titles[60] ?? "-")")
        }
        try check("before the restart")
        server.kill()
        server = ElanusProcess(dataDirectory: data, environment: ["ELANUS_SEGMENT_MAX_ROWS": "40"])
        try server.start()
        defer { server.terminate() }
        rest = RESTClient(port: server.port)
        try check("after the restart")
    }
}
