import ElanusCore
import ElanusGeometry
import ElanusQuery

/// A segment's scalar index on one field or one JSON path: the sorted values and their rows
/// (`SortedIndex`: STL_SORT, TRIE, INVERTED, BITMAP, scalar AUTOINDEX), which `SegmentFilter`
/// reads to answer comparisons, `in` lists, prefix `like` and `is null` without testing every
/// row; or the n-grams of its strings (`NgramIndex`: NGRAM), which narrow `like` to candidate
/// rows. Its file body is the `SortedIndex` or `NgramIndex` encoding, as the plan's kind says.
final class ScalarIndex: SerializedSegmentIndex {
    let plan: IndexPlan
    let content: JSONPathIndex.Content

    var rows: Int {
        switch content {
        case .sorted(let sorted): sorted.rowCount
        case .ngram(let ngram): ngram.rowCount
        case .spatial(let spatial): spatial.rowCount
        }
    }

    init(plan: IndexPlan, content: JSONPathIndex.Content) {
        self.plan = plan
        self.content = content
    }

    static func build(_ plan: IndexPlan, segment: Segment, field: FieldSchema) throws(ElanusError) -> ScalarIndex {
        var columns: [Column] = []
        for chunk in segment.chunks {
            guard let column = chunk.batch.column(field.fieldID) else {
                throw .unexpected("segment \(segment.id) has no column for field \(field.name)")
            }
            columns.append(column)
        }
        // A JSON path's values that cast, or a column's strings; nil for the rows left out.
        func strings() -> [String?] {
            if let target = plan.json {
                return JSONPathIndex.values(columns, target: target).map { if case .string(let s)? = $0 { s } else { nil } }
            }
            var out: [String?] = []
            for column in columns {
                guard case .string(let values) = column.values else { return [] }
                for (r, value) in values.enumerated() { out.append(column.valid?[r] == false ? nil : value) }
            }
            return out
        }
        switch plan.kind {
        case .rtree:
            var texts: [String?] = []
            var isNull: [Bool] = []
            for column in columns {
                guard case .string(let values) = column.values else { throw .unexpected("field \(field.name) has no geometries to index") }
                for (r, value) in values.enumerated() {
                    let null = column.valid?[r] == false
                    texts.append(null ? nil : value)
                    isNull.append(null)
                }
            }
            let envelopes = GeometryText.envelopes(texts).map { $0.map { Envelope(minX: $0.minX, minY: $0.minY, maxX: $0.maxX, maxY: $0.maxY) } }
            return ScalarIndex(plan: plan, content: .spatial(SpatialIndex.build(envelopes, isNull: isNull)))
        case .ngram(let minGram, let maxGram):
            let values = strings()
            guard values.count == segment.rowCount else { throw .unexpected("field \(field.name) of type \(field.dataType.rawValue) has no strings to index") }
            return ScalarIndex(plan: plan, content: .ngram(NgramIndex.build(values, minGram: minGram, maxGram: maxGram)))
        default:
            let sorted = plan.json.flatMap { JSONPathIndex.sorted(JSONPathIndex.values(columns, target: $0), cast: $0.cast) } ?? (plan.json == nil ? SortedIndex.build(columns) : nil)
            guard let sorted else {
                throw .unexpected("field \(field.name) of type \(field.dataType.rawValue) cannot be sorted (a NaN value, or a type the scalar index does not cover)")
            }
            return ScalarIndex(plan: plan, content: .sorted(sorted))
        }
    }

    func serialized() throws(ElanusError) -> [UInt8] {
        var w = ByteWriter(capacity: 16 + rows * 12)
        switch content {
        case .sorted(let sorted): sorted.encode(into: &w)
        case .ngram(let ngram): ngram.encode(into: &w)
        case .spatial(let spatial): spatial.encode(into: &w)
        }
        return w.bytes
    }

    static func deserialize(_ body: [UInt8], name: String, plan: IndexPlan, rows: Int) throws(ElanusError) -> ScalarIndex {
        var r = ByteReader(body, what: name)
        let index: ScalarIndex
        if case .ngram = plan.kind {
            index = ScalarIndex(plan: plan, content: .ngram(try NgramIndex.decode(from: &r)))
        } else if case .rtree = plan.kind {
            index = ScalarIndex(plan: plan, content: .spatial(try SpatialIndex.decode(from: &r)))
        } else {
            index = ScalarIndex(plan: plan, content: .sorted(try SortedIndex.decode(from: &r)))
        }
        guard index.rows == rows, r.atEnd else { throw r.corrupt("the index covers \(index.rows) rows, its header says \(rows)") }
        return index
    }
}
