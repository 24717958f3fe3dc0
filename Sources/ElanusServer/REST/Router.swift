import ElanusCore
import ElanusEngine
import ElanusHTTP
import Logging
import Synchronization

/// What a route handler gets: the request, the engine, and helpers for the body and database.
struct RouteContext {
    let request: HTTPRequest
    let engine: Engine
    /// The authenticated user; nil when authentication is off.
    var user: String?

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

    public init(
        slot: EngineSlot, authentication: Bool = false, userRequestsPerSecond: Double = 0, logger: Logger = Logger(label: "elanus.rest")
    ) throws(ElanusError) {
        self.slot = slot
        self.logger = logger
        authenticator = authentication ? try Authenticator() : nil
        limiter = authentication && userRequestsPerSecond > 0 ? RateLimiter(requestsPerSecond: userRequestsPerSecond) : nil
        var routes: [String: RouteHandler] = [:]
        CollectionRoutes.register(into: &routes)
        DatabaseRoutes.register(into: &routes)
        PartitionRoutes.register(into: &routes)
        EntityRoutes.register(into: &routes)
        QueryRoutes.register(into: &routes)
        IndexRoutes.register(into: &routes)
        UserRoutes.register(into: &routes)
        RoleRoutes.register(into: &routes)
        self.routes = routes
    }

    /// Milvus v2 routes that exist in Milvus but are not built in Elanus yet. They answer code 10
    /// ("service unimplemented") rather than 404, so a client learns what is missing.
    public static let plannedRoutes: Set<String> = [
        "collections/refresh_load",
        "collections/truncate", "collections/fields/add", "collections/fields/alter_properties",
        "collections/add_function", "collections/alter_function", "collections/drop_function",
        "indexes/alter_properties", "indexes/drop_properties",
        "aliases/create", "aliases/alter", "aliases/drop", "aliases/describe", "aliases/list",
        "jobs/import/create", "jobs/import/list", "jobs/import/describe", "jobs/import/get_progress",
    ]

    /// The privilege `route` needs when authentication is on (Milvus's name for it).
    public static func privilege(for route: String) -> String? { RoutePrivileges.table[route] }

    /// Every route this server answers with real work.
    public var implementedRoutes: [String] { routes.keys.sorted() }

    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        let start = MonotonicClock.nowMs()
        let response = route(request)
        logger.debug(
            "request",
            metadata: ["method": "\(request.method)", "path": "\(request.path)", "status": "\(response.status)", "ms": "\(MonotonicClock.nowMs() - start)"])
        return response
    }

    private func route(_ request: HTTPRequest) -> HTTPResponse {
        if request.method == "OPTIONS" { return HTTPResponse(status: 204) }
        let path = request.path
        if path == "/health" || path == "/healthz" {
            return slot.engine == nil
                ? Envelope.json(503, ["status": "recovering"])
                : Envelope.json(200, ["status": "ok"])
        }
        guard path.hasPrefix(RESTHandler.prefix) else { return .text(404, "404 page not found") }
        let name = String(path.dropFirst(RESTHandler.prefix.count))
        let handler = routes[name]
        guard handler != nil || RESTHandler.plannedRoutes.contains(name) else { return .text(404, "404 page not found") }
        guard request.method == "POST" else {
            var response = HTTPResponse.text(405, "405 method not allowed")
            response.headers.add("Allow", "POST, OPTIONS")
            return response
        }
        guard let engine = slot.engine else {
            return Envelope.failure(ElanusError(.notReady, "service not ready: the server is still recovering its data"))
        }
        var context = RouteContext(request: request, engine: engine)
        // Authentication, then authorization, come before anything a route could reveal,
        // planned routes included.
        if let authenticator {
            do throws(ElanusError) {
                let user = try authenticator.authenticate(request, access: engine.access)
                context.user = user
                if let limiter, !limiter.admit(user) {
                    throw ElanusError(.rateLimited, "request is rejected by limiter: user \(user) is limited to \(limiter.rate) requests per second")
                }
                try RoutePrivileges.authorize(name, context, user: user)
            } catch {
                return Envelope.failure(error)
            }
        }
        guard let handler else {
            return Envelope.failure(ElanusError(.unimplemented, "service unimplemented: \(name) is not available in this version of Elanus yet"))
        }
        do {
            return try handler(context)
        } catch {
            let error = error as? ElanusError ?? .unexpected("\(error)")
            if !error.isCallerFault { logger.error("request failed", metadata: ["route": "\(name)", "error": "\(error)"]) }
            return Envelope.failure(error)
        }
    }
}
