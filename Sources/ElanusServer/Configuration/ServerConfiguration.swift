import ElanusEngine
import ElanusHTTP
import Glibc
import Logging

/// Every setting of the daemon, with its default. Config/elanus.yaml documents each key; the
/// ConfigurationLoader is the only code that reads files, flags or the environment.
public struct ServerConfiguration: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 19530
    public var maxConnections = 1024
    public var maxConnectionsPerAddress = 256
    /// 0 means "pick from the core count".
    public var workerThreads = 0
    public var maxInFlightRequests = 256
    /// Requests per second one user may make (0 = unlimited); needs authentication.
    public var userRequestsPerSecond = 0.0
    public var maxHeaderBytes = 64 << 10
    public var maxBodyBytes = 64 << 20
    public var idleTimeoutSeconds = 60.0
    public var headerTimeoutSeconds = 10.0
    public var requestTimeoutSeconds = 60.0
    /// Reads still running this long after their request arrived are stopped (0 = no limit).
    public var queryTimeoutSeconds = 30.0
    public var writeTimeoutSeconds = 30.0
    public var shutdownGraceSeconds = 10.0
    public var dataDirectory = "./data"
    /// Where import jobs read files; empty means `<dataDirectory>/import`.
    public var importDirectory = ""
    /// Where `backups/create` writes; empty means `<dataDirectory>-backups`.
    public var backupDirectory = ""
    /// Free space kept on the data directory's file system; writes are refused below it.
    public var diskReserveBytes = 128 << 20
    public var segmentMaxRows = 1_000_000
    public var segmentMaxBytes = 1 << 30
    public var segmentMaxAgeSeconds = 600.0
    public var flushIntervalSeconds = 1.0
    /// 0 means "every core".
    public var indexBuildThreads = 0
    public var indexMinSegmentRows = 1024
    public var compactionEnabled = true
    public var compactionIntervalSeconds = 10.0
    public var compactionDeleteRatio = 0.2
    public var compactionMinSmallSegments = 3
    /// Milvus's tlsMode: 0 plain HTTP, 1 HTTPS, 2 HTTPS with client certificates (mutual TLS).
    public var tlsMode = 0
    public var tlsCertificate = ""
    public var tlsKey = ""
    /// The CA client certificates must chain to (mode 2).
    public var tlsClientCA = ""
    public var logLevel = Logger.Level.info
    /// Whether every API request needs credentials (Milvus's authorizationEnabled).
    public var authEnabled = false
    /// root's password when the data directory is new (Milvus ships `Milvus`).
    public var rootPassword = "Milvus"
    /// Slow password checks at once; 0 means half the cores, at least 1.
    public var maxConcurrentPasswordChecks = 0
    /// Failed password checks per client address and window (0 = no limit).
    public var maxFailedLoginsPerAddress = 10
    public var failedLoginWindowSeconds = 60.0

    public init() {}

    /// The engine's view of these settings.
    public var engine: Engine.Configuration {
        var c = Engine.Configuration(dataDirectory: dataDirectory, importDirectory: importDirectory.isEmpty ? nil : importDirectory,
            backupDirectory: backupDirectory.isEmpty ? nil : backupDirectory)
        c.segments = SegmentPolicy(maxRows: segmentMaxRows, maxBytes: segmentMaxBytes, maxAgeSeconds: segmentMaxAgeSeconds)
        c.flushInterval = flushIntervalSeconds
        c.indexBuildThreads = indexBuildThreads > 0 ? indexBuildThreads : System.coreCount
        c.indexMinSegmentRows = indexMinSegmentRows
        c.compaction.enabled = compactionEnabled
        c.compaction.intervalSeconds = compactionIntervalSeconds
        c.compaction.deleteRatio = compactionDeleteRatio
        c.compaction.minSmallSegments = compactionMinSmallSegments
        c.diskReserveBytes = diskReserveBytes
        return c
    }

    /// The authenticator's view of these settings.
    public var passwordChecks: Authenticator.Configuration {
        var c = Authenticator.Configuration()
        if maxConcurrentPasswordChecks > 0 { c.concurrentChecks = maxConcurrentPasswordChecks }
        c.failuresPerAddress = maxFailedLoginsPerAddress
        c.failureWindowMs = Int(failedLoginWindowSeconds * 1000)
        return c
    }

    /// The server's TLS context, nil for plain HTTP. Reads the certificate and keys.
    public func tlsContext() throws(TLSError) -> TLSContext? {
        guard tlsMode > 0 else { return nil }
        return try TLSContext(certificate: tlsCertificate, key: tlsKey, clientCA: tlsMode == 2 ? tlsClientCA : nil)
    }

    /// The transport's view of these settings, with the CORS headers Milvus sends on every
    /// response (TLS comes separately, from `tlsContext()`, because it reads files).
    public var http: HTTPServer.Configuration {
        var c = HTTPServer.Configuration()
        c.host = host
        c.port = port
        c.maxConnections = maxConnections
        c.maxConnectionsPerAddress = maxConnectionsPerAddress
        c.workerThreads = workerThreads > 0 ? workerThreads : max(4, 2 * System.coreCount)
        c.maxInFlight = maxInFlightRequests
        c.maxHeaderBytes = maxHeaderBytes
        c.maxBodyBytes = maxBodyBytes
        c.idleTimeoutMs = Int(idleTimeoutSeconds * 1000)
        c.headerTimeoutMs = Int(headerTimeoutSeconds * 1000)
        c.requestTimeoutMs = Int(requestTimeoutSeconds * 1000)
        c.handlerTimeoutMs = Int(queryTimeoutSeconds * 1000)
        c.writeTimeoutMs = Int(writeTimeoutSeconds * 1000)
        c.extraHeaders = [
            ("Access-Control-Allow-Origin", "*"),
            ("Access-Control-Allow-Credentials", "true"),
            ("Access-Control-Allow-Headers", "Content-Type, Content-Length, Accept-Encoding, X-CSRF-Token, Authorization, accept, origin, Cache-Control, X-Requested-With, DB-Name, Request-Timeout, Accept-Type-Allow-Int64"),
            ("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS"),
            ("X-Content-Type-Options", "nosniff"),
        ]
        return c
    }
}

enum System {
    static var coreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}
