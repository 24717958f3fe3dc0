import ElanusCore
import ElanusProto
import SwiftProtobuf

/// The one place where an ElanusError becomes Milvus's `common.Status`, the way Milvus's gRPC
/// methods report failures: the call itself succeeds (gRPC status OK) and the response message's
/// `status` carries the Milvus code and reason.
enum MilvusStatus {
    static let success = Milvus_Proto_Common_Status()

    static func status(_ error: ElanusError) -> Milvus_Proto_Common_Status {
        var status = Milvus_Proto_Common_Status()
        status.code = Int32(clamping: code(error.code))
        status.reason = error.message
        status.errorCode = legacyCode(error.code)
        status.retriable = error.code == .rateLimited || error.code == .notReady
        return status
    }

    /// The REST-only codes (18xx are the REST handler's own) become the parameter error that the
    /// gRPC proxy answers for the same mistake.
    private static func code(_ code: ErrorCode) -> Int {
        switch code {
        case .invalidJSON, .missingRequired, .insertData, .invalidPrimaryKey: ErrorCode.invalidParameter.rawValue
        case .unauthenticated: ErrorCode.unauthenticated.rawValue
        default: code.rawValue
        }
    }

    /// The deprecated `error_code` that older clients read beside `code` (merr's oldCode).
    private static func legacyCode(_ code: ErrorCode) -> Milvus_Proto_Common_ErrorCode {
        switch code {
        case .collectionNotFound: .collectionNotExists
        case .collectionSchemaMismatch: .schemaMismatch
        case .indexNotFound: .indexNotExist
        case .notReady: .notReadyServe
        case .rateLimited: .rateLimit
        case .privilegeNotPermitted, .unauthenticated: .permissionDenied
        case .diskLimitExceeded: .diskQuotaExhausted
        case .invalidParameter, .parameterMissing, .parameterTooLarge, .invalidJSON, .missingRequired: .illegalArgument
        default: .unexpectedError
        }
    }

    /// A whole response of `type` that carries only `status`: Milvus's responses keep it in field
    /// 1 (ComponentStates in field 3), so the status's encoding under that field number is a valid
    /// encoding of the response. Nil for the few responses that have no status at all.
    static func response(_ status: Milvus_Proto_Common_Status, as type: any SwiftProtobuf.Message.Type) -> [UInt8]? {
        guard let encoded: [UInt8] = try? status.serializedBytes() else { return nil }
        if type == Milvus_Proto_Common_Status.self { return encoded }
        let field: UInt8
        switch type {
        case is Milvus_Proto_Milvus_ComponentStates.Type: field = 3
        case is Milvus_Proto_Milvus_DummyResponse.Type, is Milvus_Proto_Milvus_GetReplicateInfoResponse.Type,
            is Milvus_Proto_Milvus_RegisterLinkResponse.Type:
            return nil
        default: field = 1
        }
        var out: [UInt8] = [field << 3 | 2]
        var length = UInt64(encoded.count)
        while length >= 0x80 {
            out.append(UInt8(length & 0x7F) | 0x80)
            length >>= 7
        }
        out.append(UInt8(length))
        return out + encoded
    }
}
