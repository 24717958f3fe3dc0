/// Go's `strconv.ParseBool`, which Milvus uses wherever it reads a boolean given as text (type
/// params, properties, search and highlight parameters): exactly twelve spellings.
public enum GoBool {
    public static func parse(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "TRUE", "true", "True": true
        case "0", "f", "F", "FALSE", "false", "False": false
        default: nil
        }
    }
}
