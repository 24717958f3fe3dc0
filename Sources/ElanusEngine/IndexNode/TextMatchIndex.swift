import ElanusCore
import ElanusQuery
import ElanusText

/// The match index of a flushed segment's VarChar field with `enable_match` (`TextIndex`: each
/// analyzed token's rows and positions), which `text_match` and `phrase_match` read. Milvus
/// builds it for every such field without an index spec; so does Elanus: `Engine.indexTargets`
/// adds one implicit target per field, and the index node builds it, writes its file, loads it
/// at start-up and rebuilds it with compaction like any scalar index. A segment without it (too
/// small, or not built yet) answers from its chunks' own match indexes (`TextIndexCache`).
final class TextMatchIndex: SerializedSegmentIndex {
    let plan: IndexPlan
    let index: TextIndex

    var rows: Int { index.rowCount }

    init(plan: IndexPlan, index: TextIndex) {
        self.plan = plan
        self.index = index
    }

    static func build(_ plan: IndexPlan, segment: Segment, field: FieldSchema) throws(ElanusError) -> TextMatchIndex {
        guard case .textMatch(let params) = plan.kind else { throw .unexpected("\(plan.indexType) is not a match index") }
        let analyzer: Analyzer
        do { analyzer = try Analyzer.parse(text: params) } catch { throw error.invalidParameter }
        var texts: [String?] = []
        texts.reserveCapacity(segment.rowCount)
        for chunk in segment.chunks { texts += TextMatchFilter.texts(field.fieldID, chunk.batch) }
        return TextMatchIndex(plan: plan, index: TextIndex.build(texts, analyzer: analyzer))
    }

    func serialized() throws(ElanusError) -> [UInt8] {
        var w = ByteWriter(capacity: 64 + rows * 16)
        index.encode(into: &w)
        return w.bytes
    }

    static func deserialize(_ body: [UInt8], name: String, plan: IndexPlan, rows: Int) throws(ElanusError) -> TextMatchIndex {
        var r = ByteReader(body, what: name)
        let index = TextMatchIndex(plan: plan, index: try TextIndex.decode(from: &r))
        guard index.rows == rows, r.atEnd else { throw r.corrupt("the index covers \(index.rows) rows, its header says \(rows)") }
        return index
    }
}

extension IndexPlan {
    /// The implicit match index of a field with `enable_match`, under the field's analyzer.
    static func textMatch(_ field: FieldSchema) -> IndexPlan {
        IndexPlan(indexType: "TEXT_MATCH", kind: .textMatch(analyzerParams: field.analyzerParams ?? ""), metric: .l2)
    }

    /// The key of a field's match index among the segment's indexes: below every JSON path key
    /// (those are at least -2^62) and every field id, so it never meets another index's key.
    static func textMatchKey(_ fieldID: Int64) -> Int64 { Int64.min + fieldID }
}
