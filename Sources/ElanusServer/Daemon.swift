import CSystem
import ElanusCore
import ElanusEngine
import ElanusHTTP
import Glibc
import Logging

/// The `elanus serve` lifecycle: listen, recover, serve until SIGINT/SIGTERM, shut down cleanly.
///
/// Ordering: the HTTP listener starts before recovery so that `/health` can answer 503 while the
/// catalog (and later the WAL) is replayed; API routes answer "not ready" until the engine is in
/// the slot. On shutdown the listener stops first, requests in flight get a bounded grace period,
/// and only then are the stores closed, so no handler ever touches a closed RocksDB handle.
public enum Daemon {
    /// Runs the server and returns the process exit code.
    public static func run(configuration: ServerConfiguration, logger: Logger) -> Int32 {
        // Segment columns, index builds and request bodies are large blocks that come and go:
        // each gets its own mapping so that freeing it lowers the resident size at once.
        // (A 32 MiB threshold kept freed insert buffers and columns in the heaps, and the 1M-row
        // HNSW build peaked at 1.72 GB instead of 1.5 GB.) A block this large allocated per query
        // is a fresh page-faulted mapping each time: faiss's per-search HNSW visited table (1 MB
        // at 1M rows) cost a third of an ef=256 search that way, so the shim keeps one per thread.
        // Filtered searches still map their per-row filter states, small beside the filter's work.
        csys_tune_malloc(256 << 10, 4)
        let slot = EngineSlot()
        let handler: RESTHandler
        do {
            handler = try RESTHandler(
                slot: slot, authentication: configuration.authEnabled, userRequestsPerSecond: configuration.userRequestsPerSecond,
                passwordChecks: configuration.passwordChecks, logger: Logger(label: "elanus.rest"))
        } catch {
            logger.critical("cannot set up authentication: \(error.message)")
            return 1
        }
        if configuration.userRequestsPerSecond > 0 && !configuration.authEnabled {
            logger.warning("auth.userRequestsPerSecond has no effect while authentication is off: the limit is per authenticated user")
        }
        var http = configuration.http
        do {
            http.tls = try configuration.tlsContext()
        } catch {
            logger.critical("cannot set up TLS: \(error)")
            return 1
        }
        // One port for both protocols, as Milvus: REST over HTTP/1.1 (and h2c), gRPC over HTTP/2.
        let server = HTTPServer(configuration: http, handler: handler, grpc: handler.makeGRPCService(), logger: Logger(label: "elanus.http"))
        handler.countConnections { [weak server] in server?.connectionCount ?? 0 }
        do {
            try server.start()
        } catch {
            logger.critical("cannot start the HTTP server: \(error)")
            return 1
        }
        let engine: Engine
        do {
            engine = try Engine(configuration: configuration.engine, logger: Logger(label: "elanus.engine"))
        } catch {
            logger.critical("cannot open the data directory \(configuration.dataDirectory): \(error.message)")
            server.shutdown(graceMs: 0)
            return 1
        }
        if configuration.authEnabled {
            do {
                try bootstrapRoot(engine, password: configuration.rootPassword, logger: logger)
            } catch {
                logger.critical("cannot set up the root user: \(error.message)")
                server.shutdown(graceMs: 0)
                engine.close()
                return 1
            }
        }
        slot.set(engine)
        ServerFile(pid: getpid(), host: configuration.host, port: server.port, tls: configuration.tlsMode > 0).write(configuration.dataDirectory)
        logger.info(
            "elanus is ready",
            metadata: [
                "address": "\(configuration.tlsMode > 0 ? "https" : "http")://\(configuration.host):\(server.port)", "dataDir": "\(configuration.dataDirectory)",
                "tls": "\(["off", "on", "mutual"][configuration.tlsMode])",
            ])

        let signal = csys_wait_for_shutdown_signal()
        logger.info("shutting down", metadata: ["signal": "\(signal == SIGTERM ? "SIGTERM" : "SIGINT")"])
        ServerFile.remove(configuration.dataDirectory)
        server.shutdown(graceMs: Int(configuration.shutdownGraceSeconds * 1000))
        slot.set(nil)
        engine.close()
        logger.info("stopped cleanly")
        return 0
    }

    /// Creates root with the configured password on a new data directory, and warns while root's
    /// password is still Milvus's well-known default.
    static func bootstrapRoot(_ engine: Engine, password: String, logger: Logger) throws(ElanusError) {
        let created = try engine.access.bootstrapRoot { () throws(ElanusError) in try PasswordHash.make(password) }
        // A root made just now has the configured password; an older one needs the slow check.
        let isDefault = created ? password == "Milvus" : engine.access.user(AccessCatalog.root).map { PasswordHash.verify("Milvus", record: $0.passwordHash) } ?? false
        if isDefault {
            logger.warning("authentication is on and user root still has the default password: change it with users/update_password")
        }
    }
}
