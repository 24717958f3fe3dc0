/// A function of a collection schema (Milvus's `FunctionSchema`): the server computes its output
/// fields from its input fields. Elanus runs `BM25` (a VarChar field's text to a sparse vector
/// of term frequencies); `TextEmbedding` and `Rerank` need model providers and are refused.
public struct FunctionSchema: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case bm25 = "BM25"
        case textEmbedding = "TextEmbedding"
        case rerank = "Rerank"

        /// Milvus's FunctionType proto values.
        public var protoValue: Int {
            switch self {
            case .bm25: 1
            case .textEmbedding: 2
            case .rerank: 3
            }
        }

        public init?(protoValue: Int) {
            guard let kind = Kind.allCases.first(where: { $0.protoValue == protoValue }) else { return nil }
            self = kind
        }
    }

    public var name: String
    public var description: String
    public var type: Kind
    public var inputFieldNames: [String]
    public var outputFieldNames: [String]
    public var params: [KeyValue]

    public init(
        name: String, description: String = "", type: Kind, inputFieldNames: [String], outputFieldNames: [String], params: [KeyValue] = []
    ) {
        self.name = name
        self.description = description
        self.type = type
        self.inputFieldNames = inputFieldNames
        self.outputFieldNames = outputFieldNames
        self.params = params
    }
}

extension CollectionSchema {
    /// The BM25 function whose output is `field`, if any.
    public func bm25Function(output field: String) -> FunctionSchema? {
        functions.first { $0.type == .bm25 && $0.outputFieldNames.first == field }
    }

    /// Whether clients may not write `field` (a function computes it).
    public func isFunctionOutput(_ field: String) -> Bool {
        functions.contains { $0.outputFieldNames.contains(field) }
    }
}
