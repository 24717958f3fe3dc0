/// The rules Milvus's proxy applies to a schema's functions and text fields (its wording where it
/// has some). The analyzer parameters themselves are checked by the engine, which has the
/// analyzers.
extension CollectionSchema {
    func validateFunctions() throws(ElanusError) {
        var names = Set<String>()
        var outputs = Set<String>()
        for function in functions {
            guard function.type == .bm25 else {
                throw .invalidParameter("\(function.type.rawValue) functions need a model provider, which Elanus does not have; only BM25 functions are supported")
            }
            if function.name.isEmpty { throw .invalidParameter("function name cannot be empty") }
            guard names.insert(function.name).inserted else { throw .invalidParameter("duplicate function name: \(function.name)") }
            if function.inputFieldNames.isEmpty {
                throw .invalidParameter("function input field names cannot be empty, function: \(function.name)")
            }
            if function.outputFieldNames.isEmpty {
                throw .invalidParameter("function output field names cannot be empty, function: \(function.name)")
            }
            for input in function.inputFieldNames {
                if input.isEmpty { throw .invalidParameter("function input field name cannot be empty string, function: \(function.name)") }
                if function.inputFieldNames.filter({ $0 == input }).count > 1 {
                    throw .invalidParameter("each function input field should be used exactly once in the same function, function: \(function.name), input field: \(input)")
                }
            }
            for output in function.outputFieldNames {
                if output.isEmpty { throw .invalidParameter("function output field name cannot be empty string, function: \(function.name)") }
                if function.inputFieldNames.contains(output) {
                    throw .invalidParameter("a single field cannot be both input and output in the same function, function: \(function.name), field: \(output)")
                }
                if function.outputFieldNames.filter({ $0 == output }).count > 1 {
                    throw .invalidParameter("each function output field should be used exactly once in the same function, function: \(function.name), output field: \(output)")
                }
            }
            if !function.params.isEmpty { throw .invalidParameter("BM25 function accepts no params") }
            var inputs: [FieldSchema] = []
            for name in function.inputFieldNames {
                guard let field = field(named: name) else { throw .invalidParameter("function input field not found: \(name)") }
                inputs.append(field)
            }
            guard inputs.count == 1, inputs[0].dataType == .varChar else {
                throw .invalidParameter(
                    "BM25 function input field must be a VARCHAR/TEXT field, got \(inputs.count) field with type \(inputs[0].dataType.rawValue)")
            }
            guard inputs[0].enableAnalyzer else { throw .invalidParameter("BM25 function input field must set enable_analyzer to true") }
            var outputFields: [FieldSchema] = []
            for name in function.outputFieldNames {
                guard let output = field(named: name) else { throw .invalidParameter("function output field not found: \(name)") }
                if output.isPrimary {
                    throw .invalidParameter("function output field cannot be primary key: function \(function.name), field \(name)")
                }
                if output.isPartitionKey || output.isClusteringKey {
                    throw .invalidParameter("function output field cannot be partition key or clustering key: function \(function.name), field \(name)")
                }
                if output.nullable {
                    throw .invalidParameter("function output field cannot be nullable: function \(function.name), field \(name)")
                }
                guard outputs.insert(name).inserted else {
                    throw .invalidParameter("duplicate function output field: function \(function.name), field \(name)")
                }
                outputFields.append(output)
            }
            guard outputFields.count == 1 else {
                throw .invalidParameter("BM25 function only need 1 output field, but got \(outputFields.count)")
            }
            guard outputFields[0].dataType == .sparseFloatVector else {
                throw .invalidParameter("BM25 function output field must be a SparseFloatVector field, but got \(outputFields[0].dataType.rawValue)")
            }
        }
    }
}

extension FieldSchema {
    /// The text-analysis type params of one field (checked for created and added fields alike).
    func validateText() throws(ElanusError) {
        if enableAnalyzer || enableMatch || analyzerParams != nil {
            guard dataType == .varChar else {
                throw .invalidParameter("enable_analyzer, enable_match and analyzer_params are only valid for VarChar fields, field \(name) is \(dataType.rawValue)")
            }
            if enableMatch && !enableAnalyzer {
                throw .invalidParameter("field \(name) is set to enable match but not enable analyzer")
            }
        }
        if typeParams["multi_analyzer_params"] != nil {
            throw .invalidParameter("multi_analyzer_params of field \(name) is not supported by Elanus yet")
        }
    }
}
