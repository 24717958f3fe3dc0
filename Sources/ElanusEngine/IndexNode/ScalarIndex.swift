import ElanusCore
import ElanusQuery

/// A segment's scalar index on one field (STL_SORT, TRIE, INVERTED, BITMAP, scalar AUTOINDEX):
/// the sorted values and their rows (`SortedIndex`), which `SegmentFilter` reads to answer
/// comparisons, `in` lists, prefix `like` and `is null` without testing every row. Its file body
/// is `SortedIndex`'s encoding.
final class ScalarIndex: SerializedSegmentIndex {
    let plan: IndexPlan
    let sorted: SortedIndex

    var rows: Int { sorted.rowCount }

    init(plan: IndexPlan, sorted: SortedIndex) {
        self.plan = plan
        self.sorted = sorted
    }

    static func build(_ plan: IndexPlan, segment: Segment, field: FieldSchema) throws(ElanusError) -> ScalarIndex {
        var columns: [Column] = []
        for chunk in segment.chunks {
            guard let column = chunk.batch.column(field.fieldID) else {
                throw .unexpected("segment \(segment.id) has no column for field \(field.name)")
            }
            columns.append(column)
        }
        guard let sorted = SortedIndex.build(columns) else {
            throw .unexpected("field \(field.name) of type \(field.dataType.rawValue) cannot be sorted (a NaN value, or a type the scalar index does not cover)")
        }
        return ScalarIndex(plan: plan, sorted: sorted)
    }

    func serialized() throws(ElanusError) -> [UInt8] {
        var w = ByteWriter(capacity: 16 + sorted.rowCount * 12)
        sorted.encode(into: &w)
        return w.bytes
    }

    static func deserialize(_ body: [UInt8], name: String, plan: IndexPlan, rows: Int) throws(ElanusError) -> ScalarIndex {
        var r = ByteReader(body, what: name)
        let sorted = try SortedIndex.decode(from: &r)
        guard sorted.rowCount == rows, r.atEnd else { throw r.corrupt("the index covers \(sorted.rowCount) rows, its header says \(rows)") }
        return ScalarIndex(plan: plan, sorted: sorted)
    }
}
