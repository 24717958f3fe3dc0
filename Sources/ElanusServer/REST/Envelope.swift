import ElanusCore
import ElanusHTTP

/// The REST v2 envelope, and the one place where an ElanusError becomes an HTTP response.
///
/// Milvus answers most failures with HTTP 200 and a non-zero `code`; the exceptions are
/// authentication (401), authorization (403), readiness (503) and timeouts (408), mapped below
/// with an exhaustive switch.
enum Envelope {
    static let contentType = ("Content-Type", "application/json; charset=utf-8")

    static func success(_ data: JSON, extra: [(key: String, value: JSON)] = []) -> HTTPResponse {
        json(200, .object([(key: "code", value: .int(0)), (key: "data", value: data)] + extra))
    }

    static func failure(_ error: ElanusError) -> HTTPResponse {
        json(httpStatus(for: error.code), .object([(key: "code", value: .int(Int64(error.code.rawValue))), (key: "message", value: .string(error.message))]))
    }

    static func json(_ status: Int, _ body: JSON) -> HTTPResponse {
        HTTPResponse(status: status, headers: HTTPHeaders([contentType]), body: body.serializedBytes())
    }

    static func httpStatus(for code: ErrorCode) -> Int {
        switch code {
        case .unauthenticated: 401
        case .privilegeNotPermitted: 403
        case .notReady: 503
        // As Milvus's REST timeout middleware answers.
        case .timeout: 408
        case .collectionNotFound, .collectionNotLoaded, .collectionLoaded, .collectionSchemaMismatch, .partitionNotFound, .partitionNotLoaded, .indexNotFound, .databaseNotFound,
            .databaseNumLimit, .databaseInvalidName, .invalidParameter, .parameterMissing, .parameterTooLarge, .invalidPrivilegeGroupName,
            .fieldNotFound, .invalidJSON, .missingRequired, .insertData, .invalidPrimaryKey, .rateLimited, .importFailed,
            .aliasNotFound, .aliasConflict, .aliasAlreadyExists, .resourceGroupNotFound, .segmentNotFound,
            .unimplemented, .unexpected, .diskLimitExceeded, .canceled:
            200
        }
    }
}
