import ElanusCore
import ElanusEngine
import ElanusHTTP
import Foundation
import Logging
import Synchronization

/// What a route handler gets: the request, the engine, and helpers for the body and database.
struct RouteContext {
    let request: HTTPRequest
    let engine: Engine
    /// The authenticated user; nil when authentication is off.
    var user: String?
    /// The body's top-level `collectionName`, `dbName` and `userName`, read once for the
    /// privilege check and the request log.
    var names: [String: String] = [:]

    /// Stops the request's long work: pass it to every engine read.
    var cancellation: Cancellation { request.cancellation }

    /// Decodes the JSON body; `structName` is the Milvus request struct, for error messages.
    func body(_ structName: String) throws(ElanusError) -> RequestBody {
        try RequestBody(bytes: request.body, structName: structName)
    }

    /// The database a request addresses: `dbName` in the body, else the `DB-Name` header, else "default".
    func database(_ body: RequestBody) throws(ElanusError) -> String {
        if let name = try body.string("dbName"), !name.isEmpty { return name }
        if let header = request.headers["DB-Name"], !header.isEmpty { return header }
        return Catalog.defaultDatabase
    }
}

/// Handlers throw only ElanusError; the type says `throws` because the Swift 6.3 compiler crashes
/// on @Sendable typed-throws function values. The router narrows the error in one place.
typealias RouteHandler = @Sendable (RouteContext) throws -> HTTPResponse

/// Holds the engine once recovery has finished; until then every API call answers "not ready".
public final class EngineSlot: Sendable {
    private let slot = Mutex<Engine?>(nil)
    public init() {}
    public func set(_ engine: Engine?) { slot.withLock { $0 = engine } }
    public var engine: Engine? { slot.withLock { $0 } }
}

/// Routes REST v2 requests (`POST /v2/vectordb/<category>/<action>`) to their handlers.
public final class RESTHandler: HTTPHandler {
    static let prefix = "/v2/vectordb/"

    private let slot: EngineSlot
    private let logger: Logger
    private let routes: [String: RouteHandler]
    /// Set when authentication is enabled: every API route then needs valid credentials.
    private let authenticator: Authenticator?

    /// Set when users have a request rate limit (it needs authentication to know the user).
    private let limiter: RateLimiter?

    private let metrics = RequestMetrics()
    private let connectionCount = Mutex<(@Sendable () -> Int)?>(nil)

    /// Tells the metrics page how to count open connections (the server is made after the handler).
    public func countConnections(with count: @escaping @Sendable () -> Int) { connectionCount.withLock { $0 = count } }

    private func openConnections() -> Int { connectionCount.withLock { $0 }?() ?? 0 }

    public init(
        slot: EngineSlot, authentication: Bool = false, userRequestsPerSecond: Double = 0,
        passwordChecks: Authenticator.Configuration = Authenticator.Configuration(), logger: Logger = Logger(label: "elanus.rest")
    ) throws(ElanusError) {
        self.slot = slot
        self.logger = logger
        authenticator = authentication ? try Authenticator(passwordChecks) : nil
        limiter = authentication && userRequestsPerSecond > 0 ? RateLimiter(requestsPerSecond: userRequestsPerSecond) : nil
        routes = RESTHandler.makeRoutes()
    }

    /// Milvus's gRPC service over the same engine, with this handler's authenticator and rate
    /// limiter (one login-failure count and one request budget per user, whichever protocol).
    public func makeGRPCService(logger: Logger = Logger(label: "elanus.grpc")) -> MilvusGRPCService {
        MilvusGRPCService(slot: slot, authenticator: authenticator, limiter: limiter, logger: logger)
    }

    /// Every route with its handler (the gRPC front end calls some of them too).
    static func makeRoutes() -> [String: RouteHandler] {
        var routes: [String: RouteHandler] = [:]
        CollectionRoutes.register(into: &routes)
        DatabaseRoutes.register(into: &routes)
        PartitionRoutes.register(into: &routes)
        EntityRoutes.register(into: &routes)
        QueryRoutes.register(into: &routes)
        IndexRoutes.register(into: &routes)
        UserRoutes.register(into: &routes)
        RoleRoutes.register(into: &routes)
        ImportRoutes.register(into: &routes)
        BackupRoutes.register(into: &routes)
        AliasRoutes.register(into: &routes)
        ClusterRoutes.register(into: &routes)
        AnalyzerRoutes.register(into: &routes)
        return routes
    }

    /// Milvus v2 routes that exist in Milvus but are not built in Elanus yet. They answer code 10
    /// ("service unimplemented") rather than 404, so a client learns what is missing.
    public static let plannedRoutes: Set<String> = [
        "collections/add_function", "collections/alter_function", "collections/drop_function",
    ]

    /// The privilege `route` needs when authentication is on (Milvus's name for it).
    public static func privilege(for route: String) -> String? { RoutePrivileges.table[route] }

    /// Every route this server answers with real work.
    public var implementedRoutes: [String] { routes.keys.sorted() }

    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        let start = MonotonicClock.nowNs()
        let id = RequestID.of(request)
        var outcome = Outcome()
        var response = route(request, &outcome)
        let seconds = Double(MonotonicClock.nowNs() - start) / 1e9
        metrics.record(route: outcome.route, code: outcome.code, seconds: seconds)
        response.headers.add(RequestID.header, id)
        // One line per request; never the body or the headers, which carry rows and credentials.
        // Built only when the line is wanted: this runs on every request.
        guard logger.logLevel <= .info else { return response }
        var fields: Logger.Metadata = [
            "requestId": "\(id)", "method": "\(request.method)", "route": "\(outcome.route)", "status": "\(response.status)",
            "code": "\(outcome.code)", "ms": "\(String(format: "%.2f", seconds * 1000))",
        ]
        if let collection = outcome.collection { fields["collection"] = "\(collection)" }
        if let user = outcome.user { fields["user"] = "\(user)" }
        logger.info("request", metadata: fields)
        return response
    }

    /// What the request log and the metrics record about a request.
    struct Outcome {
        /// A route name, `/health`, `/metrics`, or `unknown`: a bounded set of labels.
        var route = "unknown"
        /// The Milvus code of the envelope (0 for success and for non-API answers that succeed).
        var code = 0
        var user: String?
        var collection: String?
    }

    /// The last step for API routes, and the one place that turns a thrown error into an envelope.
    private func failure(_ error: ElanusError, _ outcome: inout Outcome) -> HTTPResponse {
        outcome.code = Int(error.code.rawValue)
        return Envelope.failure(error)
    }

    private func route(_ request: HTTPRequest, _ outcome: inout Outcome) -> HTTPResponse {
        if request.method == "OPTIONS" { return HTTPResponse(status: 204) }
        let path = request.path
        if path == "/health" || path == "/healthz" {
            outcome.route = "/health"
            return slot.engine == nil
                ? Envelope.json(503, ["status": "recovering"])
                : Envelope.json(200, ["status": "ok"])
        }
        if path == "/metrics" {
            outcome.route = "/metrics"
            return metricsPage(request, &outcome)
        }
        guard path.hasPrefix(RESTHandler.prefix) else { return .text(404, "404 page not found") }
        let name = String(path.dropFirst(RESTHandler.prefix.count))
        let handler = routes[name]
        guard handler != nil || RESTHandler.plannedRoutes.contains(name) else { return .text(404, "404 page not found") }
        outcome.route = name
        guard request.method == "POST" else {
            var response = HTTPResponse.text(405, "405 method not allowed")
            response.headers.add("Allow", "POST, OPTIONS")
            return response
        }
        guard let engine = slot.engine else {
            return failure(ElanusError(.notReady, "service not ready: the server is still recovering its data"), &outcome)
        }
        var context = RouteContext(request: request, engine: engine)
        // The scan walks the whole body (an insert's rows too), so it runs only when its result
        // is used: by the privilege check, or by the request log line.
        if authenticator != nil || logger.logLevel <= .info {
            context.names = RoutePrivileges.objectNames(request.body)
            outcome.collection = context.names["collectionName"]
        }
        // Authentication, then authorization, come before anything a route could reveal,
        // planned routes included.
        if let authenticator {
            do throws(ElanusError) {
                let user = try authenticator.authenticate(request, access: engine.access)
                context.user = user
                outcome.user = user
                if let limiter, !limiter.admit(user) {
                    throw ElanusError(.rateLimited, "request is rejected by limiter: user \(user) is limited to \(limiter.rate) requests per second")
                }
                try RoutePrivileges.authorize(name, context, user: user)
            } catch {
                return failure(error, &outcome)
            }
        }
        guard let handler else {
            return failure(ElanusError(.unimplemented, "service unimplemented: \(name) is not available in this version of Elanus yet"), &outcome)
        }
        do {
            try RequestTimeout.apply(request)
            return try handler(context)
        } catch {
            let error = error as? ElanusError ?? .unexpected("\(error)")
            if error.code == .canceled || error.code == .timeout { metrics.recordCancelled(deadline: error.code == .timeout) }
            guard error.isCallerFault else {
                // The log keeps the whole message; the client learns what failed, not where the
                // server keeps its files.
                logger.error("request failed", metadata: ["route": "\(name)", "error": "\(error)"])
                return failure(RESTHandler.withoutServerPaths(error, engine.configuration), &outcome)
            }
            return failure(error, &outcome)
        }
    }

    /// `error` with the server's directories (data, import, backup) replaced by their role.
    public static func withoutServerPaths(_ error: ElanusError, _ configuration: Engine.Configuration) -> ElanusError {
        var scrubbed = error
        let directories = [
            (configuration.importDirectory, "<import directory>"), (configuration.backupDirectory, "<backup directory>"),
            (configuration.dataDirectory, "<data directory>"),
        ]
        for (path, role) in directories where !path.isEmpty {
            scrubbed.message = scrubbed.message.replacingOccurrences(of: path, with: role)
        }
        return scrubbed
    }

    /// `GET /metrics`. With authentication on, a scrape needs valid credentials (any user):
    /// the page names databases and collections.
    private func metricsPage(_ request: HTTPRequest, _ outcome: inout Outcome) -> HTTPResponse {
        guard request.method == "GET" || request.method == "HEAD" else {
            var response = HTTPResponse.text(405, "405 method not allowed")
            response.headers.add("Allow", "GET, HEAD")
            return response
        }
        let engine = slot.engine
        if let authenticator {
            guard let engine else { return failure(ElanusError(.notReady, "service not ready: the server is still recovering its data"), &outcome) }
            do throws(ElanusError) {
                outcome.user = try authenticator.authenticate(request, access: engine.access)
            } catch {
                return failure(error, &outcome)
            }
        }
        let text = MetricsPage.render(requests: metrics, engine: engine, openConnections: openConnections())
        return HTTPResponse(status: 200, headers: HTTPHeaders([("Content-Type", PrometheusText.contentType)]), body: Array(text.utf8))
    }
}
