import ElanusCore
import ElanusProto
import ElanusText
import Foundation

/// RunAnalyzer over gRPC: the same analysis as REST `common/run_analyzer` (AnalyzerRoutes.run),
/// with the texts as placeholder bytes, as Milvus's proto has them.
enum GRPCAnalyzerMethods {
    static func register(_ table: inout MethodTable) {
        table.on(.runAnalyzer) { (context: GRPCCallContext, request: Milvus_Proto_Milvus_RunAnalyzerRequest) -> Milvus_Proto_Milvus_RunAnalyzerResponse in
            var texts: [String] = []
            for bytes in request.placeholder {
                guard let text = String(bytes: bytes, encoding: .utf8) else {
                    throw ElanusError.invalidParameter("run_analyzer texts must be UTF-8")
                }
                texts.append(text)
            }
            let analyzed = try AnalyzerRoutes.run(
                texts: texts, params: request.analyzerParams, database: context.database(request.dbName), collection: request.collectionName,
                fieldName: request.fieldName, analyzerNames: request.analyzerNames, engine: context.engine)
            var response = Milvus_Proto_Milvus_RunAnalyzerResponse()
            response.results = analyzed.map { tokens in
                var result = Milvus_Proto_Milvus_AnalyzerResult()
                result.tokens = tokens.map { token in
                    var out = Milvus_Proto_Milvus_AnalyzerToken()
                    out.token = token.text
                    if request.withDetail {
                        out.startOffset = Int64(token.startOffset)
                        out.endOffset = Int64(token.endOffset)
                        out.position = Int64(token.position)
                        out.positionLength = Int64(token.positionLength)
                    }
                    if request.withHash { out.hash = TermHash.of(token.text) }
                    return out
                }
                return result
            }
            return response
        }
    }
}
