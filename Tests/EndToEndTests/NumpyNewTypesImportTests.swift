import ElanusCore
import ElanusTestSupport
import Foundation
import Testing

/// NumPy import of Milvus 2.6's new types against the real binary, with `.npy` files this test
/// writes: Int8Vector from an int8 array of shape (n, dim) and Geometry from a string array of
/// WKT land as inserts would store them; a file Milvus's header check refuses (another dtype or
/// dim, and every Timestamptz file) fails the job with Milvus's message and imports nothing.
@Suite struct NumpyNewTypesImportTests {
    static let dim = 8

    static func vector(_ i: Int) -> [Int8] { (0..<dim).map { Int8(truncatingIfNeeded: (i * 37 + $0 * 11) % 256 - 128) } }

    static func wkt(_ i: Int) -> String { "POINT(\(i % 10) \(i / 10))" }

    static func write(_ data: Data, _ path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: path))
    }

    static func importJob(_ rest: RESTClient, _ files: [String]) throws -> JSON {
        let list = files.map { "\"\($0)\"" }.joined(separator: ",")
        let reply = try rest.call("jobs/import/create", #"{"collectionName":"nt","files":[[\#(list)]]}"#)
        guard case .string(let id)? = reply.data?["jobId"] else { throw ElanusError(.unexpected, "create failed: \(reply.body.serialized())") }
        return try ImportTests.wait(rest, id)
    }

    @Test func int8VectorsAndGeometriesImportAndTimestamptzIsRefusedAsMilvusRefusesIt() throws {
        let dir = TemporaryDirectory()
        let data = dir.file("data")
        let imports = data + "/import"
        let server = ElanusProcess(dataDirectory: data)
        try server.start()
        defer { server.terminate() }
        let rest = RESTClient(port: server.port)
        let create = try rest.call("collections/create", #"""
            {"collectionName":"nt","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},
              {"fieldName":"v","dataType":"Int8Vector","elementTypeParams":{"dim":\#(Self.dim)}},
              {"fieldName":"g","dataType":"Geometry","nullable":true},
              {"fieldName":"t","dataType":"Timestamptz","nullable":true}]},
             "indexParams":[{"fieldName":"v","indexType":"HNSW","metricType":"L2","params":{"M":8,"efConstruction":64}}]}
            """#)
        #expect(create.code == 0, "\(create.body.serialized())")

        let ids = Array(0..<200)
        let n = ids.count
        try Self.write(ImportTests.npy("<i8", [n], ImportTests.littleEndian(ids.map(Int64.init))), imports + "/ok/id.npy")
        try Self.write(ImportTests.npy("|i1", [n, Self.dim], ids.flatMap { Self.vector($0).map { UInt8(bitPattern: $0) } }), imports + "/ok/v.npy")
        try Self.write(ImportTests.npy("<U16", [n], ImportTests.unicode(ids.map(Self.wkt), width: 16)), imports + "/ok/g.npy")
        let done = try Self.importJob(rest, ["ok/id.npy", "ok/v.npy", "ok/g.npy"])
        #expect(done["state"] == "Completed" && done["importedRows"] == .int(Int64(n)), "\(done.serialized())")

        // Values as an insert stores them: the int8 rows as integer arrays, the WKT as GEOS writes it.
        let rows = try rest.call("entities/query", #"{"collectionName":"nt","filter":"id in [0, 57, 199]","outputFields":["v","g","t"]}"#)
        guard case .array(let got)? = rows.data, got.count == 3 else {
            Issue.record("\(rows.body.serialized())")
            return
        }
        for row in got {
            guard case .int(let id)? = row["id"] else { continue }
            #expect(row["v"] == .array(Self.vector(Int(id)).map { .int(Int64($0)) }), "\(row.serialized())")
            #expect(row["g"] == .string("POINT (\(id % 10) \(id / 10))") && row["t"] == .null, "\(row.serialized())")
        }
        let near = try rest.call("entities/query", #"{"collectionName":"nt","filter":"st_within(g, 'POLYGON((1.5 1.5, 3.5 1.5, 3.5 2.5, 1.5 2.5, 1.5 1.5))')","outputFields":["id"]}"#)
        #expect(near.data == [["id": 22], ["id": 23]], "\(near.body.serialized())")
        let probe = Self.vector(123).map(String.init).joined(separator: ",")
        let hit = try rest.call("entities/search", #"{"collectionName":"nt","data":[[\#(probe)]],"limit":1,"outputFields":["id"]}"#)
        #expect(ImportTests.first(hit.data)?["id"] == 123, "\(hit.body.serialized())")

        // Files Milvus's header check refuses fail the job, naming the file; nothing is imported.
        let few = Array(1000..<1003)
        let idFile = ImportTests.npy("<i8", [few.count], ImportTests.littleEndian(few.map(Int64.init)))
        let goodVectors = ImportTests.npy("|i1", [few.count, Self.dim], [UInt8](repeating: 1, count: few.count * Self.dim))
        try Self.write(idFile, imports + "/bad/id.npy")
        try Self.write(goodVectors, imports + "/bad/v.npy")
        try Self.write(ImportTests.npy("<i2", [few.count, Self.dim], ImportTests.littleEndian([Int16](repeating: 1, count: few.count * Self.dim))), imports + "/wide/v.npy")
        try Self.write(ImportTests.npy("|i1", [few.count, 4], [UInt8](repeating: 1, count: few.count * 4)), imports + "/short/v.npy")
        try Self.write(ImportTests.npy("|i1", [few.count * Self.dim], [UInt8](repeating: 1, count: few.count * Self.dim)), imports + "/flat/v.npy")
        try Self.write(ImportTests.npy("<i8", [few.count], ImportTests.littleEndian([Int64](repeating: 1, count: few.count))), imports + "/bad/g.npy")
        try Self.write(ImportTests.npy("<U16", [few.count], ImportTests.unicode(["POINT(1 1)", "POINT(1)", "POINT(2 2)"], width: 16)), imports + "/wkt/g.npy")
        try Self.write(ImportTests.npy("<U20", [few.count], ImportTests.unicode([String](repeating: "2025-01-01T00:00:00Z", count: few.count), width: 20)), imports + "/bad/t.npy")
        try Self.write(ImportTests.npy("<i8", [few.count], ImportTests.littleEndian([Int64](repeating: 1_735_689_600_000_000, count: few.count))), imports + "/micros/t.npy")
        let failures: [([String], String)] = [
            (["bad/id.npy", "wide/v.npy"], "file wide/v.npy: expected element type 'Int8Vector' for field 'v', got type 'Int16'"),
            (["bad/id.npy", "short/v.npy"], "file short/v.npy: expected dim '8' for Int8Vector field 'v', got dim '4'"),
            (["bad/id.npy", "flat/v.npy"], "file flat/v.npy: expected shape '2' for Int8Vector field 'v', got shape '1'"),
            (["bad/id.npy", "bad/v.npy", "bad/g.npy"], "file bad/g.npy: expected element type 'Geometry' for field 'g', got type 'Int64'"),
            (["bad/id.npy", "bad/v.npy", "wkt/g.npy"], "file wkt/g.npy: row 1: field 'g' (Geometry)"),
            (["bad/id.npy", "bad/v.npy", "bad/t.npy"], "file bad/t.npy: expected element type 'Timestamptz' for field 't', got type 'VarChar'"),
            (["bad/id.npy", "bad/v.npy", "micros/t.npy"], "file micros/t.npy: expected element type 'Timestamptz' for field 't', got type 'Int64'"),
        ]
        for (files, reason) in failures {
            let failed = try Self.importJob(rest, files)
            #expect(failed["state"] == "Failed", "\(files)")
            if case .string(let message)? = failed["reason"] { #expect(message.contains(reason), "\(message)") } else { Issue.record("no reason for \(files)") }
        }
        let count = try rest.call("entities/query", #"{"collectionName":"nt","filter":"","outputFields":["count(*)"]}"#)
        #expect(ImportTests.first(count.data)?["count(*)"] == .int(Int64(n)), "\(count.body.serialized())")
    }
}
