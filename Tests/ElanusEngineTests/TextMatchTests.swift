import ElanusCore
import ElanusEngine
import ElanusQuery
import ElanusTestSupport
import Foundation
import Testing

/// text_match and phrase_match over random documents, checked against a reference evaluator
/// written here (its own tokenizer, and phrase matching by trying every choice of positions):
/// queries, counts, filtered searches and deletes, on growing rows, after a flush (the chunks'
/// match indexes), after the index node has built each flushed segment's match index file, after
/// a compaction and after a restart (which loads those files rather than rebuilding them).
@Suite struct TextMatchTests {
    static let vocabulary = ["machine", "learning", "deep", "data", "vector", "search", "the", "of", "fast", "model"]
    /// The field's analyzer drops these (and keeps the others' positions).
    static let stopWords: Set<String> = ["the", "of"]
    static let analyzer = #"{"tokenizer":"standard","filter":["lowercase",{"type":"stop","stop_words":["the","of"]}]}"#

    static func schema() -> CollectionSchema {
        CollectionSchema(fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimary: true),
            FieldSchema(name: "v", dataType: .floatVector, typeParams: [KeyValue("dim", "2")]),
            FieldSchema(
                name: "text", dataType: .varChar, nullable: true,
                typeParams: [KeyValue("max_length", "512"), KeyValue("enable_analyzer", "true"), KeyValue("enable_match", "true"), KeyValue("analyzer_params", analyzer)]),
        ])
    }

    /// Documents of 1 to 12 words in random case, with punctuation; one in 15 null.
    static func documents(_ ids: Range<Int64>, _ rng: inout SeededGenerator) -> [Int64: String?] {
        var out: [Int64: String?] = [:]
        for id in ids {
            if Int.random(in: 0..<15, using: &rng) == 0 {
                out[id] = .some(nil)
                continue
            }
            let words = (0..<Int.random(in: 1...12, using: &rng)).map { _ in
                let word = vocabulary.randomElement(using: &rng)!
                return Bool.random(using: &rng) ? word.uppercased() : word
            }
            out[id] = words.joined(separator: [" ", " ", ", ", ". ", " - "].randomElement(using: &rng)!)
        }
        return out
    }

    /// The reference tokenizer: runs of ASCII letters, lower-cased, numbered, stop words dropped.
    static func tokens(_ text: String) -> [(text: String, position: Int)] {
        var words: [String] = []
        var current = ""
        for c in text {
            if c.isLetter || c.isNumber { current.append(c) } else if !current.isEmpty {
                words.append(current)
                current = ""
            }
        }
        if !current.isEmpty { words.append(current) }
        return words.enumerated().map { ($1.lowercased(), $0) }.filter { !stopWords.contains($0.0) }
    }

    enum Query {
        case any(String, minimum: Int)
        case phrase(String, slop: Int)

        var filter: String {
            switch self {
            case .any(let q, let minimum): minimum == 1 ? "text_match(text, '\(q)')" : "text_match(text, '\(q)', minimum_should_match=\(minimum))"
            case .phrase(let q, let slop): slop == 0 && q.count % 2 == 0 ? "phrase_match(text, '\(q)')" : "phrase_match(text, '\(q)', \(slop))"
            }
        }

        func matches(_ document: String) -> Bool {
            let doc = TextMatchTests.tokens(document)
            switch self {
            case .any(let q, let minimum):
                let query = TextMatchTests.tokens(q)
                let words = Set(doc.map(\.text))
                return !query.isEmpty && query.filter { words.contains($0.text) }.count >= minimum
            case .phrase(let q, let slop):
                let query = TextMatchTests.tokens(q)
                guard !query.isEmpty else { return false }
                // Every choice of one document position per query token.
                let choices = query.map { token in doc.filter { $0.text == token.text }.map(\.position) }
                func search(_ i: Int, _ shifted: [Int]) -> Bool {
                    if i == query.count { return shifted.max()! - shifted.min()! <= slop }
                    return choices[i].contains { search(i + 1, shifted + [$0 - query[i].position]) }
                }
                return search(0, [])
            }
        }
    }

    static func queries(_ rng: inout SeededGenerator) -> [Query] {
        let words = vocabulary + ["zebra"]
        return (0..<40).map { i in
            let q = (0..<Int.random(in: 1...3, using: &rng)).map { _ in words.randomElement(using: &rng)! }.joined(separator: " ")
            return i % 2 == 0 ? .any(q, minimum: Int.random(in: 1...3, using: &rng)) : .phrase(q, slop: Int.random(in: 0...3, using: &rng))
        }
    }

    static func insert(_ engine: Engine, _ info: CollectionInfo, _ docs: [Int64: String?]) throws {
        let ids = docs.keys.sorted()
        let batch = EntityBatch(rowCount: ids.count, columns: [
            Column(fieldID: info.schema.fields[0].fieldID, values: .int64(ids)),
            Column(fieldID: info.schema.fields[1].fieldID, width: 2, values: .floatVector(ids.flatMap { [Float($0), 0] })),
            Column(fieldID: info.schema.fields[2].fieldID, values: .string(ids.map { (docs[$0] ?? nil) ?? "" }), valid: ids.map { docs[$0]! != nil }),
        ])
        _ = try engine.insert(info, partitionName: nil, batch: batch)
    }

    /// Every query alone, negated (null rows match neither) and combined, as query, count and
    /// filtered search.
    static func expectAnswers(
        _ engine: Engine, _ info: CollectionInfo, _ docs: [Int64: String?], _ queries: [Query], sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        var nonEmpty = 0
        for query in queries {
            let cases: [(String, (Int64, String) -> Bool)] = [
                (query.filter, { query.matches($1) }),
                ("not \(query.filter)", { !query.matches($1) }),
                ("\(query.filter) and id % 3 == 0", { $0 % 3 == 0 && query.matches($1) }),
                ("\(query.filter) or id < 20", { $0 < 20 || query.matches($1) }),
            ]
            for (filter, matches) in cases {
                let predicate = try FilterChecker.check(filter, schema: info.schema)
                let expected = Set(docs.compactMap { id, text in
                    // A null row is unknown to the text clause: only `or id < 20` can take it.
                    guard let text else { return filter.hasSuffix("or id < 20") && id < 20 ? id : nil }
                    return matches(id, text) ? id : nil
                })
                let got = try engine.query(info, predicate: predicate, limit: 100_000)
                #expect(Set(SegmentLifecycleTests.keys(got)) == expected, "\(filter)", sourceLocation: sourceLocation)
                #expect(try engine.count(info, predicate: predicate) == expected.count, "\(filter)", sourceLocation: sourceLocation)
                let hits = try engine.search(info, SearchRequest(field: info.schema.fields[1], metric: .l2, vectors: [.dense([0, 0])], limit: 5, predicate: predicate))
                #expect(VectorIndexTests.ids(hits[0]) == expected.sorted().prefix(5).map { $0 }, "\(filter)", sourceLocation: sourceLocation)
                if filter == query.filter && !expected.isEmpty { nonEmpty += 1 }
            }
        }
        // The queries are not vacuous: most match something.
        #expect(nonEmpty * 2 > queries.count, sourceLocation: sourceLocation)
    }

    /// Waits until every flushed segment has its match index file (the only index of the
    /// collection's VarChar field; the vector index is FLAT, which has no file); returns them.
    static func waitForMatchIndexes(_ dir: TemporaryDirectory, _ info: CollectionInfo, sourceLocation: SourceLocation = #_sourceLocation) -> [String: Date] {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let files = ScalarIndexTests.indexFiles(dir, info)
            if files.count == SegmentLifecycleTests.segmentFiles(dir, info).count { return files }
            Thread.sleep(forTimeInterval: 0.02)
        }
        Issue.record("match indexes were not built", sourceLocation: sourceLocation)
        return [:]
    }

    @Test func matchesTheReferenceBeforeAndAfterFlushCompactionAndRestart() throws {
        let dir = TemporaryDirectory()
        var rng = SeededGenerator(seed: 24)
        let queries = Self.queries(&rng)
        var docs: [Int64: String?] = [:]
        var info: CollectionInfo
        var filesBefore: [String: Date] = [:]
        do {
            let engine = try CompactionTests.open(dir, maxRows: 300)
            defer { engine.close() }
            try engine.catalog.createCollection(CreateCollectionRequest(database: "default", name: "c", schema: Self.schema(), indexes: [IndexSpec(indexName: "v", fieldName: "v", indexType: "FLAT", metricType: "L2", params: [])]))
            try engine.catalog.load(database: "default", name: "c")
            info = try engine.catalog.collection(database: "default", name: "c")
            for start in stride(from: Int64(0), to: 900, by: 150) {
                let batch = Self.documents(start..<(start + 150), &rng)
                try Self.insert(engine, info, batch)
                docs.merge(batch) { $1 }
            }
            // Growing rows.
            try Self.expectAnswers(engine, info, docs, queries)

            // Flushed segments (answered from their chunks' indexes until the index node has built
            // their match index files, then from those), a delete by phrase_match, and more
            // growing rows on top.
            try engine.flush(info)
            try Self.expectAnswers(engine, info, docs, queries)
            #expect(Self.waitForMatchIndexes(dir, info).count == 3)
            try Self.expectAnswers(engine, info, docs, queries)
            let deleted = try engine.delete(info, partitionName: nil, filter: "phrase_match(text, 'deep data', 1)")
            let gone = docs.filter { $0.value.map { Query.phrase("deep data", slop: 1).matches($0) } ?? false }.keys
            #expect(deleted == gone.count && deleted > 0)
            for id in gone { docs[id] = nil }
            let more = Self.documents(900..<1000, &rng)
            try Self.insert(engine, info, more)
            docs.merge(more) { $1 }
            try Self.expectAnswers(engine, info, docs, queries)

            // A compaction rewrites the segments without the deleted rows.
            let id = try engine.compact(database: "default", collection: "c", clustering: false)
            _ = try CompactionTests.waitForCompaction(engine, id)
            try engine.flush(info)
            try Self.expectAnswers(engine, info, docs, queries)
            filesBefore = Self.waitForMatchIndexes(dir, info)
        }
        // A restart loads the match index files; nothing is rebuilt.
        let engine = try CompactionTests.open(dir, maxRows: 300)
        defer { engine.close() }
        info = try engine.catalog.collection(database: "default", name: "c")
        try Self.expectAnswers(engine, info, docs, queries)
        Thread.sleep(forTimeInterval: 0.2)
        #expect(ScalarIndexTests.indexFiles(dir, info) == filesBefore && !filesBefore.isEmpty)

        // The query text may come from exprParams.
        let predicate = try FilterChecker.check("text_match(text, {q}, minimum_should_match=2) and phrase_match(text, {p}, {s})", schema: info.schema,
                                                params: [("q", .string("vector search model")), ("p", .string("machine learning")), ("s", .int(2))])
        let expected = docs.compactMap { id, text in
            text.flatMap { Query.any("vector search model", minimum: 2).matches($0) && Query.phrase("machine learning", slop: 2).matches($0) ? id : nil }
        }
        #expect(Set(SegmentLifecycleTests.keys(try engine.query(info, predicate: predicate, limit: 100_000))) == Set(expected))
    }
}
