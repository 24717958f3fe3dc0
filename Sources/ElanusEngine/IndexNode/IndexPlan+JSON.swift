import ElanusCore
import ElanusQuery
import Foundation

/// Index plans for JSON paths and n-grams: Milvus 2.6's parameter checks (its INVERTED and
/// NGRAM checkers, and the json_path defaulting and parsing of its proxy and data coordinator),
/// and the key that tells several indexes on one JSON field apart.
extension IndexPlan {
    /// The largest gram length kept: no `like` literal is longer (`LikePattern.maxBytes`), so a
    /// larger `min_gram` or `max_gram` behaves the same, and the plan stays small.
    static let maxGramParam = 65_536

    /// Where this index lives among a segment's indexes and in its file names: the field id for
    /// an index on a whole column; for a JSON path index, a negative number hashed from the field
    /// and the path (FNV-1a), since Milvus allows one index per path and several per field.
    /// Field ids are positive, so the two never meet; two paths meet with odds of 2^-62.
    public func key(fieldID: Int64) -> Int64 {
        guard let json else { return fieldID }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "\(json.fieldID)\(JSONIndexTarget.pointer(json.path))".utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return -Int64(hash & 0x3FFF_FFFF_FFFF_FFFF) - 1
    }

    /// Milvus's wrapping of a checker's complaint: `<inner>: invalid parameter[expected=valid
    /// index params][actual=invalid index params]`, code 1100.
    static func invalidIndexParams(_ inner: String) -> ElanusError {
        .invalidParameter("\(inner): invalid parameter[expected=valid index params][actual=invalid index params]")
    }

    /// `min_gram` and `max_gram`, both required, with 1 <= min_gram <= max_gram.
    static func ngramParams(_ spec: IndexSpec) throws(ElanusError) -> (Int, Int) {
        guard let minText = spec.params["min_gram"], let maxText = spec.params["max_gram"] else {
            throw invalidIndexParams("Ngram index must specify both min_gram and max_gram: invalid parameter")
        }
        guard let minGram = Int(minText) else { throw invalidIndexParams("min_gram for Ngram index must be an integer, got: \(minText): invalid parameter") }
        guard let maxGram = Int(maxText) else { throw invalidIndexParams("max_gram for Ngram index must be an integer, got: \(maxText): invalid parameter") }
        guard minGram > 0, maxGram > 0, minGram <= maxGram else {
            throw invalidIndexParams("invalid min_gram or max_gram value for Ngram index, min_gram: \(minGram), max_gram: \(maxGram): invalid parameter")
        }
        return (min(minGram, maxGramParam), min(maxGram, maxGramParam))
    }

    /// The JSON path a spec on a JSON field covers: `json_path` (the field itself when absent),
    /// which must name this field.
    static func jsonPath(_ spec: IndexSpec, field: FieldSchema) throws(ElanusError) -> [PathAccessor] {
        let text = spec.params["json_path"] ?? field.name
        let (name, path) = try JSONIndexTarget.parsePath(text)
        guard name == field.name else { throw .invalidParameter("json_path \(text) does not name field \(field.name): fieldID not match with field name") }
        return path
    }

    /// INVERTED, AUTOINDEX (Milvus maps scalar AUTOINDEX on JSON to INVERTED) and NGRAM on a JSON
    /// field.
    static func json(_ spec: IndexSpec, field: FieldSchema) throws(ElanusError) -> IndexPlan {
        let castText = spec.params["json_cast_type"].map { $0.trimmingCharacters(in: .whitespaces).uppercased() }
        if spec.indexType.uppercased() == "NGRAM" {
            guard let castText else { throw invalidIndexParams("JSON field with ngram index must specify json_cast_type: invalid parameter") }
            guard castText == "VARCHAR" else { throw invalidIndexParams("JSON field with ngram index only supports VARCHAR cast type, got: \(castText): invalid parameter") }
            let (minGram, maxGram) = try ngramParams(spec)
            let target = JSONIndexTarget(fieldID: field.fieldID, path: try jsonPath(spec, field: field), cast: .varchar)
            return IndexPlan(indexType: spec.indexType, kind: .ngram(minGram: minGram, maxGram: maxGram), metric: .l2, json: target)
        }
        guard let castText else {
            throw invalidIndexParams("json index must specify cast type: missing parameter[missing_param=json_cast_type]")
        }
        guard let cast = JSONIndexTarget.Cast(rawValue: castText) else { throw invalidIndexParams("json_cast_type \(castText) is not supported: invalid parameter") }
        var kind = Kind.scalarSorted
        if let function = spec.params["json_cast_function"].map({ $0.trimmingCharacters(in: .whitespaces).uppercased() }) {
            guard function == "STRING_TO_DOUBLE" else { throw invalidIndexParams("json_cast_function \(function) is not supported: invalid parameter") }
            guard cast == .double else {
                throw invalidIndexParams("json_cast_function \(function) is not supported for json_cast_type \(castText): invalid parameter")
            }
            // Strings read as numbers would answer `> 3` where a scan of the same rows does not:
            // accepted as in Milvus, but nothing is built and filters scan.
            kind = .exact
        }
        // Array and JSON casts are accepted as in Milvus; nothing is built for them yet, and
        // their filters (json_contains, whole-value comparisons) scan.
        if ![.bool, .double, .varchar].contains(cast) { kind = .exact }
        let target = JSONIndexTarget(fieldID: field.fieldID, path: try jsonPath(spec, field: field), cast: cast)
        return IndexPlan(indexType: spec.indexType, kind: kind, metric: .l2, json: target)
    }

    /// The name Milvus gives an index created without one: the field's name, followed for a JSON
    /// field by the path as a JSON Pointer (`meta/color`).
    public static func defaultIndexName(_ spec: IndexSpec, field: FieldSchema) -> String {
        guard field.dataType == .json, let path = try? jsonPath(spec, field: field) else { return field.name }
        return field.name + JSONIndexTarget.pointer(path)
    }
}
