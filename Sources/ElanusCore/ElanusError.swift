/// The one error type of Elanus. Every layer converts its typed failures into this value at its
/// edge; only ElanusServer turns it into the REST envelope (`{"code": N, "message": "..."}`).
public struct ElanusError: Error, Equatable, Sendable, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String
    /// Set where the code alone misleads: Milvus answers some bad input with 65535.
    private var blamesCaller: Bool?

    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "[\(code.rawValue)] \(message)" }

    /// Whether the caller caused it (bad input) rather than the server (I/O, bugs).
    public var isCallerFault: Bool { blamesCaller ?? (code != .unexpected && code != .notReady && code != .diskLimitExceeded) }
}

/// Milvus error codes (pkg/util/merr), the subset Elanus answers with.
public enum ErrorCode: Int, Sendable, CaseIterable {
    case notReady = 1
    /// Milvus's ErrServiceDiskLimitExceeded: the data directory's file system is full.
    case diskLimitExceeded = 7
    case unimplemented = 10
    case collectionNotFound = 100
    case collectionNotLoaded = 101
    /// Milvus's ErrCollectionLoaded: the change needs the collection released first.
    case collectionLoaded = 104
    case collectionSchemaMismatch = 107
    case partitionNotFound = 200
    case partitionNotLoaded = 201
    case resourceGroupNotFound = 300
    case segmentNotFound = 600
    case indexNotFound = 700
    case databaseNotFound = 800
    case databaseNumLimit = 801
    case databaseInvalidName = 802
    case invalidParameter = 1100
    case parameterMissing = 1101
    case parameterTooLarge = 1102
    case privilegeNotPermitted = 1401
    case invalidPrivilegeGroupName = 1402
    case aliasNotFound = 1600
    case aliasConflict = 1601
    case aliasAlreadyExists = 1602
    case fieldNotFound = 1700
    case unauthenticated = 1800
    case invalidJSON = 1801
    case missingRequired = 1802
    case insertData = 1804
    case invalidPrimaryKey = 1806
    case rateLimited = 1807
    case importFailed = 2100
    /// Milvus's CanceledCode: the request's work was stopped because nobody will read its answer.
    case canceled = 10000
    /// Milvus's TimeoutCode: the request ran past its deadline (`Cancellation`).
    case timeout = 10001
    case unexpected = 65535
}

extension ElanusError {
    /// 1100, with Milvus's ": invalid parameter" suffix.
    public static func invalidParameter(_ message: String) -> ElanusError {
        ElanusError(.invalidParameter, "\(message): invalid parameter")
    }

    public static func collectionNotFound(database: String, collection: String) -> ElanusError {
        ElanusError(.collectionNotFound, "can't find collection[database=\(database)][collection=\(collection)]")
    }

    public static func databaseNotFound(_ name: String) -> ElanusError {
        ElanusError(.databaseNotFound, "database not found[database=\(name)]")
    }

    public static func unexpected(_ message: String) -> ElanusError {
        ElanusError(.unexpected, message)
    }

    /// Bad input that Milvus answers with 65535 (an invalid limit or offset): the code a Milvus
    /// client expects, but logged as the caller's mistake, not as a server failure.
    public static func badRequest(_ message: String) -> ElanusError {
        var error = ElanusError(.unexpected, message)
        error.blamesCaller = true
        return error
    }
}
