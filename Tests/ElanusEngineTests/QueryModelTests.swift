import ElanusCore
import ElanusEngine
import ElanusQuery
import ElanusTestSupport
import Testing

/// The query engine against an obviously-correct reference: random schemas, random rows (with
/// nulls, dynamic keys, deletes and upserts), random filters from a generator, and random
/// searches, each checked against a plain-Swift evaluator and a brute-force scan in this file.
@Suite struct QueryModelTests {
    /// A scalar column of the random schema.
    struct ScalarField {
        var name: String
        var type: DataType
        var nullable: Bool
    }

    /// A reference row: values by field name, as JSON (null for nulls), plus the vector.
    struct Row {
        var pk: Int64
        var vector: [Float]
        var values: [String: JSON]
        var dynamic: [String: JSON]
    }

    /// The generator's filter: rendered to text for the engine and evaluated here for reference.
    indirect enum Filter {
        case compare(String, String, JSON)
        case inList(String, [JSON], Bool)
        case like(String, String)
        case isNull(String, Bool)
        case dynamic(String, String, JSON)
        case arrayContains(String, Int64)
        case arrayLength(String, String, Int)
        case modulo(String, Int64, Int64)
        case and(Filter, Filter)
        case or(Filter, Filter)
        case not(Filter)

        var text: String {
            switch self {
            case .compare(let f, let op, let v): "\(f) \(op) \(v.serialized())"
            case .inList(let f, let vs, let neg): "\(f) \(neg ? "not in" : "in") [\(vs.map { $0.serialized() }.joined(separator: ", "))]"
            case .like(let f, let p): "\(f) like \"\(p)\""
            case .isNull(let f, let neg): "\(f) is \(neg ? "not " : "")null"
            case .dynamic(let k, let op, let v): "$meta[\"\(k)\"] \(op) \(v.serialized())"
            case .arrayContains(let f, let v): "array_contains(\(f), \(v))"
            case .arrayLength(let f, let op, let n): "array_length(\(f)) \(op) \(n)"
            case .modulo(let f, let m, let r): "\(f) % \(m) == \(r)"
            case .and(let a, let b): "(\(a.text)) and (\(b.text))"
            case .or(let a, let b): "(\(a.text)) || (\(b.text))"
            case .not(let a): "not (\(a.text))"
            }
        }

        /// Three-valued: nil is unknown.
        func evaluate(_ row: Row) -> Bool? {
            switch self {
            case .compare(let f, let op, let v): return QueryModelTests.compare(row.values[f] ?? .null, op, v)
            case .inList(let f, let vs, let neg):
                var result: Bool? = false
                for v in vs {
                    let r = QueryModelTests.compare(row.values[f] ?? .null, "==", v)
                    if r == true { result = true; break }
                    if r == nil { result = nil }
                }
                return neg ? result.map { !$0 } : result
            case .like(let f, let prefix):
                guard case .string(let s)? = row.values[f] else { return nil }
                return s.hasPrefix(String(prefix.dropLast()))
            case .isNull(let f, let neg): return (row.values[f] ?? .null).isNull != neg
            case .dynamic(let k, let op, let v): return QueryModelTests.compare(row.dynamic[k] ?? .null, op, v)
            case .arrayContains(let f, let v):
                guard case .array(let items)? = row.values[f] else { return nil }
                return items.contains(.int(v))
            case .arrayLength(let f, let op, let n):
                guard case .array(let items)? = row.values[f] else { return nil }
                return QueryModelTests.compare(.int(Int64(items.count)), op, .int(Int64(n)))
            case .modulo(let f, let m, let r):
                guard case .int(let i)? = row.values[f] else { return nil }
                return i % m == r
            case .and(let a, let b):
                let x = a.evaluate(row)
                let y = b.evaluate(row)
                if x == false || y == false { return false }
                return x == nil || y == nil ? nil : true
            case .or(let a, let b):
                let x = a.evaluate(row)
                let y = b.evaluate(row)
                if x == true || y == true { return true }
                return x == nil || y == nil ? nil : false
            case .not(let a): return a.evaluate(row).map { !$0 }
            }
        }
    }

    static func compare(_ a: JSON, _ op: String, _ b: JSON) -> Bool? {
        let order: Int
        switch (a, b) {
        case (.int(let x), .int(let y)): order = x < y ? -1 : (x > y ? 1 : 0)
        case (.int, .double), (.double, .int), (.double, .double):
            let x = a.number!
            let y = b.number!
            order = x < y ? -1 : (x > y ? 1 : 0)
        case (.string(let x), .string(let y)): order = Array(x.utf8).lexicographicallyPrecedes(Array(y.utf8)) ? -1 : (x == y ? 0 : 1)
        case (.bool(let x), .bool(let y)): order = x == y ? 0 : (x ? 1 : -1)
        default: return nil
        }
        switch op {
        case "==": return order == 0
        case "!=": return order != 0
        case "<": return order < 0
        case "<=": return order <= 0
        case ">": return order > 0
        default: return order >= 0
        }
    }

    struct World {
        var rng: SeededGenerator
        var fields: [ScalarField] = []
        var dim = 4
        var dynamic = true
        var rows: [Int64: Row] = [:]

        mutating func value(_ field: ScalarField) -> JSON {
            if field.nullable && Int.random(in: 0..<5, using: &rng) == 0 { return .null }
            switch field.type {
            case .int64, .int32: return .int(Int64.random(in: -20...20, using: &rng))
            case .double: return .double(Double(Int.random(in: -40...40, using: &rng)) / 4)
            case .float: return .double(Double(Int.random(in: -40...40, using: &rng)) / 4)
            case .bool: return .bool(Bool.random(using: &rng))
            case .varChar: return .string(["apple", "apricot", "banana", "berry", "cherry", "", "Ápfel"].randomElement(using: &rng)!)
            case .array: return .array((0..<Int.random(in: 0...3, using: &rng)).map { _ in .int(Int64.random(in: 0...5, using: &rng)) })
            default: return .null
            }
        }

        mutating func row(_ pk: Int64) -> Row {
            var values: [String: JSON] = [:]
            for field in fields { values[field.name] = value(field) }
            var extra: [String: JSON] = [:]
            if dynamic && Bool.random(using: &rng) {
                extra["k"] = Bool.random(using: &rng) ? .int(Int64.random(in: 0...9, using: &rng)) : .string(["x", "y"].randomElement(using: &rng)!)
            }
            return Row(pk: pk, vector: (0..<dim).map { _ in Float(Int.random(in: -8...8, using: &rng)) / 8 + Float.random(in: 0..<0.01, using: &rng) }, values: values, dynamic: extra)
        }

        func json(_ row: Row) -> String {
            var members: [(key: String, value: JSON)] = [("id", .int(row.pk)), ("v", .array(row.vector.map { .double(Double($0)) }))]
            for field in fields { members.append((field.name, row.values[field.name] ?? .null)) }
            for (k, v) in row.dynamic { members.append((k, v)) }
            return JSON.object(members).serialized()
        }

        mutating func filter(depth: Int = 0) -> Filter {
            if depth < 2 && Int.random(in: 0..<3, using: &rng) == 0 {
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: return .and(filter(depth: depth + 1), filter(depth: depth + 1))
                case 1: return .or(filter(depth: depth + 1), filter(depth: depth + 1))
                default: return .not(filter(depth: depth + 1))
                }
            }
            let ops = ["==", "!=", "<", "<=", ">", ">="]
            if dynamic && Int.random(in: 0..<6, using: &rng) == 0 {
                return .dynamic("k", ops.randomElement(using: &rng)!, Bool.random(using: &rng) ? .int(Int64.random(in: 0...9, using: &rng)) : "x")
            }
            let field = fields.randomElement(using: &rng)!
            if field.nullable && Int.random(in: 0..<6, using: &rng) == 0 { return .isNull(field.name, Bool.random(using: &rng)) }
            switch field.type {
            case .int64, .int32:
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: return .inList(field.name, (0..<Int.random(in: 1...6, using: &rng)).map { _ in .int(Int64.random(in: -20...20, using: &rng)) }, Bool.random(using: &rng))
                case 1: return .modulo(field.name, Int64.random(in: 2...4, using: &rng), Int64.random(in: 0...1, using: &rng))
                default: return .compare(field.name, ops.randomElement(using: &rng)!, .int(Int64.random(in: -20...20, using: &rng)))
                }
            case .double, .float:
                return .compare(field.name, ops.randomElement(using: &rng)!, .double(Double(Int.random(in: -40...40, using: &rng)) / 4))
            case .bool:
                return .compare(field.name, ["==", "!="].randomElement(using: &rng)!, .bool(Bool.random(using: &rng)))
            case .varChar:
                if Bool.random(using: &rng) { return .like(field.name, ["ap%", "b%", "cherry%", "%"].randomElement(using: &rng)!) }
                return .compare(field.name, ops.randomElement(using: &rng)!, .string(["apple", "b", "berry", "zzz", ""].randomElement(using: &rng)!))
            default:
                return Bool.random(using: &rng)
                    ? .arrayContains(field.name, Int64.random(in: 0...5, using: &rng))
                    : .arrayLength(field.name, ops.randomElement(using: &rng)!, Int.random(in: 0...3, using: &rng))
            }
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6])
    func randomFiltersAndSearchesMatchTheReference(seed: UInt64) throws {
        var world = World(rng: SeededGenerator(seed: seed))
        let types: [DataType] = [.int64, .int32, .double, .float, .bool, .varChar, .array]
        for i in 0..<Int.random(in: 2...5, using: &world.rng) {
            let type = types.randomElement(using: &world.rng)!
            world.fields.append(ScalarField(name: "f\(i)", type: type, nullable: Bool.random(using: &world.rng)))
        }
        world.dim = Int.random(in: 2...8, using: &world.rng)
        world.dynamic = Bool.random(using: &world.rng)
        var schema = CollectionSchema(
            fields: [
                FieldSchema(name: "id", dataType: .int64, isPrimary: true),
                FieldSchema(name: "v", dataType: .floatVector, typeParams: [KeyValue("dim", String(world.dim))]),
            ], enableDynamicField: world.dynamic)
        for f in world.fields {
            var field = FieldSchema(name: f.name, dataType: f.type, nullable: f.nullable)
            if f.type == .varChar { field.typeParams = [KeyValue("max_length", "16")] }
            if f.type == .array {
                field.elementType = .int64
                field.typeParams = [KeyValue("max_capacity", "4")]
            }
            schema.fields.append(field)
        }
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: .init(dataDirectory: dir.file("data")))
        defer { engine.close() }
        try engine.catalog.createCollection(CreateCollectionRequest(
            database: "default", name: "m", schema: schema,
            indexes: [IndexSpec(indexName: "v", fieldName: "v", indexType: "AUTOINDEX", metricType: "L2")]))
        try engine.catalog.load(database: "default", name: "m")
        let info = try engine.catalog.collection(database: "default", name: "m")

        // Rows in several batches, then upserts and deletes so that some rows are superseded.
        for batch in 0..<4 {
            let rows = (0..<50).map { world.row(Int64(batch * 50 + $0)) }
            try insert(engine, info, rows.map { world.json($0) }, upsert: false)
            for row in rows { world.rows[row.pk] = row }
        }
        let changed = (0..<30).map { _ in world.row(Int64.random(in: 0..<200, using: &world.rng)) }
        var lastChange: [Int64: Row] = [:]
        for row in changed { lastChange[row.pk] = row }
        try insert(engine, info, lastChange.values.map { world.json($0) }, upsert: true)
        for row in lastChange.values { world.rows[row.pk] = row }
        let doomed = (0..<20).map { _ in Int64.random(in: 0..<200, using: &world.rng) }
        _ = try engine.delete(info, partitionName: nil, filter: "id in [\(doomed.map(String.init).joined(separator: ","))]")
        for pk in doomed { world.rows[pk] = nil }

        for _ in 0..<60 {
            let filter = world.filter()
            let predicate = try FilterChecker.check(filter.text, schema: info.schema)
            let expected = Set(world.rows.values.filter { filter.evaluate($0) == true }.map(\.pk))
            let got = try engine.query(info, predicate: predicate, limit: 16384)
            #expect(Set(keys(got)) == expected, "seed \(seed): \(filter.text)")
            #expect(try engine.count(info, predicate: predicate) == expected.count, "seed \(seed): \(filter.text)")

            let metric = [Metric.l2, .ip, .cosine].randomElement(using: &world.rng)!
            let query = (0..<world.dim).map { _ in Float.random(in: -1...1, using: &world.rng) }
            let k = Int.random(in: 1...15, using: &world.rng)
            let hits = try engine.search(info, SearchRequest(field: info.schema.fields[1], metric: metric, vectors: [.dense(query)], limit: k, predicate: predicate))[0]
            let reference = world.rows.values.filter { expected.contains($0.pk) }
                .map { (pk: $0.pk, score: score(metric, query, $0.vector)) }
                .sorted { metric.higherIsBetter ? $0.score > $1.score : $0.score < $1.score }
                .prefix(k)
            #expect(hits.count == reference.count, "seed \(seed): \(filter.text)")
            for (hit, ref) in zip(hits, reference) {
                let tolerance = 1e-4 * max(1, abs(ref.score))
                #expect(abs(hit.score - ref.score) <= tolerance, "seed \(seed) \(metric): \(hit.score) vs \(ref.score)")
                let pk = keys(EntityBatch.gather([(hit.batch, hit.row)], shape: hit.batch))[0]
                let own = world.rows[pk].map { score(metric, query, $0.vector) }
                #expect(own.map { abs($0 - hit.score) <= tolerance } == true, "seed \(seed): the hit \(pk) is live and its score is its own")
            }
        }
    }

    func insert(_ engine: Engine, _ info: CollectionInfo, _ rows: [String], upsert: Bool) throws {
        let bytes = Array(("[" + rows.joined(separator: ",") + "]").utf8)
        let decoded = try bytes.withUnsafeBufferPointer { buffer throws(ElanusError) in
            var reader = JSONReader(bytes: buffer)
            return try EntityRowDecoder(schema: info.schema, options: .init()).decode(&reader)
        }
        if upsert { _ = try engine.upsert(info, partitionName: nil, batch: decoded.batch) } else { _ = try engine.insert(info, partitionName: nil, batch: decoded.batch) }
    }

    func keys(_ batch: EntityBatch) -> [Int64] {
        guard case .int64(let keys)? = batch.columns.first?.values else { return [] }
        return keys
    }

    func score(_ metric: Metric, _ a: [Float], _ b: [Float]) -> Float {
        let dot = zip(a, b).reduce(Float(0)) { $0 + $1.0 * $1.1 }
        switch metric {
        case .l2: return zip(a, b).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        case .ip: return dot
        default:
            let na = a.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
            let nb = b.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
            return na * nb > 0 ? dot / (na * nb) : 0
        }
    }
}

extension JSON {
    var number: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }
}
