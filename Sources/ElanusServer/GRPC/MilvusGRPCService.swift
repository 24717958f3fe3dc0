import ElanusCore
import ElanusEngine
import ElanusHTTP
import ElanusProto
import Foundation
import Logging
import SwiftProtobuf

/// Milvus's gRPC service, `milvus.proto.milvus.MilvusService`, as pymilvus and the other SDKs
/// call it. A thin front end: each method turns its request into the plain values the engine
/// takes (often through the REST routes' own decoders, so that each behaviour has one
/// implementation) and the engine's answer into the response message. Failures travel as
/// Milvus does it: gRPC status OK, Milvus's code and reason in the response's `status`.
public final class MilvusGRPCService: GRPCService {
    typealias Handler = @Sendable (GRPCCallContext, [UInt8]) throws -> any SwiftProtobuf.Message

    private let slot: EngineSlot
    private let authenticator: Authenticator?
    private let limiter: RateLimiter?
    private let logger: Logger
    private let handlers: [MilvusServiceMethod: Handler]
    /// The REST routes, which some methods call with a body built from their request.
    let routes: [String: RouteHandler]

    /// gRPC's status codes that this layer answers itself.
    enum Code {
        static let internalError = 13
        static let unimplemented = 12
        static let unavailable = 14
    }

    init(slot: EngineSlot, authenticator: Authenticator?, limiter: RateLimiter?, logger: Logger = Logger(label: "elanus.grpc")) {
        self.slot = slot
        self.authenticator = authenticator
        self.limiter = limiter
        self.logger = logger
        routes = RESTHandler.makeRoutes()
        var table = MethodTable()
        GRPCServerMethods.register(&table)
        GRPCAnalyzerMethods.register(&table)
        GRPCCollectionMethods.register(&table)
        GRPCEntityMethods.register(&table)
        GRPCSearchMethods.register(&table)
        GRPCAccessMethods.register(&table)
        GRPCAdminMethods.register(&table)
        handlers = table.handlers
    }

    /// Methods that exist in the service but that Elanus has not built: a clear Milvus status.
    public var implementedMethods: [MilvusServiceMethod] { handlers.keys.sorted { $0.rawValue < $1.rawValue } }

    public func handle(_ call: GRPCCall) -> GRPCReply {
        guard let method = MilvusServiceMethod(path: call.path) else {
            return .failure(Code.unimplemented, "unknown method \(call.path): Elanus serves milvus.proto.milvus.MilvusService")
        }
        guard method.streaming == .unary else {
            return .failure(Code.unimplemented, "\(method.rawValue) is a streaming method, which Elanus does not serve")
        }
        let start = MonotonicClock.nowNs()
        var user: String?
        let outcome: Result<any SwiftProtobuf.Message, ElanusError>
        do throws(ElanusError) {
            outcome = .success(try run(method, call, &user))
        } catch {
            outcome = .failure(error)
        }
        // Formatted only when a line is written: this runs on every call.
        var ms: String { String(format: "%.2f", Double(MonotonicClock.nowNs() - start) / 1e6) }
        switch outcome {
        case .success(let response):
            if logger.logLevel <= .info {
                logger.info("call", metadata: ["method": "\(method.rawValue)", "code": "0", "ms": "\(ms)", "user": "\(user ?? "")"])
            }
            guard let bytes: [UInt8] = try? response.serializedBytes() else {
                return .failure(Code.internalError, "cannot serialize the \(method.rawValue) response")
            }
            return .ok(bytes)
        case .failure(var error):
            if error.isCallerFault {
                if logger.logLevel <= .info { logger.info("call", metadata: ["method": "\(method.rawValue)", "code": "\(error.code.rawValue)", "ms": "\(ms)", "user": "\(user ?? "")"]) }
            } else {
                logger.error("call failed", metadata: ["method": "\(method.rawValue)", "error": "\(error)"])
                if let engine = slot.engine { error = RESTHandler.withoutServerPaths(error, engine.configuration) }
            }
            guard let bytes = MilvusStatus.response(MilvusStatus.status(error), as: method.responseType) else {
                return .failure(Code.internalError, error.message)
            }
            return .ok(bytes)
        }
    }

    private func run(_ method: MilvusServiceMethod, _ call: GRPCCall, _ user: inout String?) throws(ElanusError) -> any SwiftProtobuf.Message {
        guard let engine = slot.engine else { throw ElanusError(.notReady, "service not ready: the server is still recovering its data") }
        var context = GRPCCallContext(engine: engine, call: call, method: method, service: self)
        if let authenticator {
            user = try authenticator.authenticate(context.httpRequest, access: engine.access)
            context.user = user
            if let limiter, let user, !limiter.admit(user) {
                throw ElanusError(.rateLimited, "request is rejected by limiter: user \(user) is limited to \(limiter.rate) requests per second")
            }
        }
        guard let handler = handlers[method] else {
            throw ElanusError(.unimplemented, "service unimplemented: \(method.rawValue) is not available in this version of Elanus yet")
        }
        do {
            return try handler(context, call.message)
        } catch let error as ElanusError {
            throw error
        } catch let error as SwiftProtobuf.BinaryDecodingError {
            throw ElanusError.invalidParameter("cannot decode the \(method.rawValue) request: \(error)")
        } catch {
            throw ElanusError.unexpected("\(method.rawValue) failed: \(error)")
        }
    }
}

/// Handlers by method, each registered with its request and response types.
struct MethodTable {
    var handlers: [MilvusServiceMethod: MilvusGRPCService.Handler] = [:]

    /// Registers `body` for `method`; the request is decoded here, so handlers see typed values.
    /// `route` names the REST route whose privilege the method needs when authentication is on.
    mutating func on<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: MilvusServiceMethod, route: String? = nil, _ body: @escaping @Sendable (GRPCCallContext, Request) throws -> Response
    ) {
        precondition(method.requestType == Request.self && method.responseType == Response.self, "wrong types for \(method.rawValue)")
        handlers[method] = { context, bytes in
            let request = try Request(serializedBytes: bytes)
            if let route, let user = context.user {
                try context.authorize(route, request: request, user: user)
            }
            return try body(context, request)
        }
    }
}
