import ArgumentParser
import Dispatch
import ElanusCore
import ElanusHTTP
import Foundation
import Synchronization

/// Issue 3's insert scenario: rows of a 128-dim float vector, an int64 and a varchar, sent over
/// HTTP by several keep-alive clients in batches, each acknowledged only once durable.
struct Insert: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Durable insert throughput over HTTP against a freshly started server.")

    @Option(help: "Rows to insert.") var rows = 1_000_000
    @Option(help: "Concurrent clients.") var clients = 4
    @Option(help: "Rows per request.") var batch = 1000
    @Option(help: "Vector dimension.") var dim = 128
    @Flag(help: "100,000 rows instead of a million.") var quick = false

    static let targetRowsPerSecond = 50_000.0

    func run() throws {
        let total = quick ? min(rows, 100_000) : rows
        let server = try ServerUnderTest()
        defer { server.stop() }
        let setup = HTTPClient(port: server.port)
        let create = #"""
            {"collectionName":"bench","schema":{"fields":[{"fieldName":"id","dataType":"Int64","isPrimary":true},
             {"fieldName":"vector","dataType":"FloatVector","elementTypeParams":{"dim":\#(dim)}},
             {"fieldName":"category","dataType":"Int64"},
             {"fieldName":"title","dataType":"VarChar","elementTypeParams":{"max_length":64}}]}}
            """#
        let created = try setup.post("/v2/vectordb/collections/create", json: create)
        guard created.text.contains("\"code\":0") else { throw BenchError("create failed: \(created.text)") }

        let bodies = RequestBodies(dim: dim, batch: batch)
        let batches = (total + batch - 1) / batch
        print("insert: \(total) rows, dim \(dim), \(clients) clients, \(batch) rows per request, durable acknowledgements")
        let next = Atomic<Int>(0)
        let sentBytes = Atomic<Int>(0)
        let failures = Mutex<[String]>([])
        let latencies = Mutex<[Double]>([])
        let progress = Progress(total: batches)
        let port = server.port
        let start = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: clients) { _ in
            let client = HTTPClient(port: port, timeoutMs: 120_000)
            var mine: [Double] = []
            while true {
                let b = next.add(1, ordering: .relaxed).oldValue
                if b >= batches { break }
                let body = bodies.body(batch: b, rows: min(batch, total - b * batch))
                let t0 = DispatchTime.now().uptimeNanoseconds
                do {
                    let response = try client.request("POST", "/v2/vectordb/entities/insert", headers: [("Content-Type", "application/json")], body: body)
                    if !response.text.hasPrefix("{\"code\":0") { failures.withLock { $0.append(String(response.text.prefix(200))) } }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
                mine.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
                sentBytes.add(body.count, ordering: .relaxed)
                progress.step()
            }
            latencies.withLock { $0 += mine }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        progress.finish()
        if let first = failures.withLock({ $0.first }) { throw BenchError("\(failures.withLock { $0.count }) requests failed, first: \(first)") }

        let stats = try setup.post("/v2/vectordb/collections/get_stats", json: #"{"collectionName":"bench"}"#)
        let rowsPerSecond = Double(total) / seconds
        let megabytes = Double(sentBytes.load(ordering: .relaxed)) / 1e6
        let peak = Double(server.peakRSS) / 1e6
        let sorted = latencies.withLock { $0.sorted() }
        let decode = Insert.inProcessDecodeRate(bodies: bodies, dim: dim, batch: batch)
        print(pad("rows/s", 28) + fmt(rowsPerSecond) + "  (target \(Int(Insert.targetRowsPerSecond)): x" + fmt(rowsPerSecond / Insert.targetRowsPerSecond) + ")")
        print(pad("JSON MB/s", 28) + fmt(megabytes / seconds) + "  (\(fmt(megabytes)) MB in \(fmt(seconds)) s)")
        print(pad("request ms p50 / p99", 28) + fmt(percentile(sorted, 0.5)) + " / " + fmt(percentile(sorted, 0.99)))
        print(pad("server peak RSS MB", 28) + fmt(peak) + "  (" + fmt(peak / (Double(total) / 1e6)) + " MB per million rows)")
        print(pad("data directory MB", 28) + fmt(Double(server.diskBytes) / 1e6))
        print(pad("row count after", 28) + stats.text)
        let restart = try server.restart()
        let recovered = try HTTPClient(port: server.port).post("/v2/vectordb/collections/get_stats", json: #"{"collectionName":"bench"}"#)
        print(pad("restart to ready s", 28) + fmt(restart) + "  (WAL replay; after it: \(recovered.text))")
        print(pad("in-process decode rows/s", 28) + fmt(decode) + "  (one thread; server/decode x" + fmt(rowsPerSecond / decode) + ")")
    }

    /// Rows per second that the row decoder alone reaches on one thread over the same bodies:
    /// the part of the server's work that is pure parsing.
    static func inProcessDecodeRate(bodies: RequestBodies, dim: Int, batch: Int) -> Double {
        let schema = CollectionSchema(fields: [
            FieldSchema(fieldID: 100, name: "id", dataType: .int64, isPrimary: true),
            FieldSchema(fieldID: 101, name: "vector", dataType: .floatVector, typeParams: [KeyValue("dim", String(dim))]),
            FieldSchema(fieldID: 102, name: "category", dataType: .int64),
            FieldSchema(fieldID: 103, name: "title", dataType: .varChar, typeParams: [KeyValue("max_length", "64")]),
        ])
        let decoder = EntityRowDecoder(schema: schema, options: .init())
        let requests = 20
        let prefix = Array(#"{"collectionName":"bench","data":"#.utf8).count
        let start = DispatchTime.now().uptimeNanoseconds
        var decoded = 0
        for b in 0..<requests {
            let body = bodies.body(batch: b, rows: batch)
            body.withUnsafeBufferPointer { buffer in
                var reader = JSONReader(bytes: buffer)
                reader.rewind(to: prefix)
                decoded += (try? decoder.decode(&reader).batch.rowCount) ?? 0
            }
        }
        return Double(decoded) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}

/// Request bodies built from a pool of pre-printed vectors, so that the client spends its time
/// sending rather than formatting floats. Vectors come from a seeded Gaussian mixture.
struct RequestBodies: Sendable {
    let vectors: [[UInt8]]
    let values: [[Float]]
    let batch: Int

    init(dim: Int, batch: Int, pool: Int = 4096) {
        var rng = SplitMix(seed: 7)
        let centers = (0..<16).map { _ in (0..<dim).map { _ in Float(rng.gaussian()) } }
        let texts = (0..<pool).map { i in
            let center = centers[i % centers.count]
            return center.map { String(format: "%.5f", $0 + 0.3 * Float(rng.gaussian())) }
        }
        vectors = texts.map { Array(("[" + $0.joined(separator: ",") + "]").utf8) }
        values = texts.map { $0.map { Float($0)! } }
        self.batch = batch
    }

    /// The floats of row `id`'s vector, exactly as the bodies print them.
    func floats(_ id: Int) -> [Float] { values[id % values.count] }

    func body(batch b: Int, rows: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(rows * (vectors[0].count + 64) + 64)
        out += Array(#"{"collectionName":"bench","data":["#.utf8)
        for r in 0..<rows {
            let id = b * batch + r
            if r > 0 { out.append(UInt8(ascii: ",")) }
            out += Array(#"{"id":\#(id),"vector":"#.utf8)
            out += vectors[id % vectors.count]
            out += Array(#","category":\#(id % 100),"title":"title-\#(id)"}"#.utf8)
        }
        out += Array("]}".utf8)
        return out
    }
}

/// A seeded generator (SplitMix64) with Box-Muller normals.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func gaussian() -> Double {
        let u = Double.random(in: Double.ulpOfOne..<1, using: &self)
        let v = Double.random(in: 0..<1, using: &self)
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}

/// A one-line progress bar on stderr for long phases.
final class Progress: Sendable {
    let total: Int
    let done = Atomic<Int>(0)
    init(total: Int) { self.total = total }
    func step() {
        let n = done.add(1, ordering: .relaxed).newValue
        if n % max(1, total / 50) == 0 || n == total {
            let filled = n * 40 / total
            FileHandle.standardError.write(Data(("\r[" + String(repeating: "#", count: filled) + String(repeating: ".", count: 40 - filled) + "] \(n)/\(total)").utf8))
        }
    }
    func finish() { FileHandle.standardError.write(Data("\n".utf8)) }
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}
