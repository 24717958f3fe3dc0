import COpenSSL
import Glibc

public struct TLSError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// An OpenSSL context, made once and shared by every connection: a server's certificate and
/// key (plus, for mutual TLS, the CA that client certificates must chain to), or a client's
/// trust anchors (plus its own certificate for mutual TLS). TLS 1.2 is the oldest version
/// either side negotiates. Immutable after init, which OpenSSL allows to be used from any thread.
public final class TLSContext: @unchecked Sendable {
    let context: OpaquePointer
    let isServer: Bool

    /// A server context. With `clientCA`, every client must present a certificate that chains to it.
    public init(certificate: String, key: String, clientCA: String? = nil) throws(TLSError) {
        guard let context = SSL_CTX_new(TLS_server_method()) else { throw TLSContext.failure("SSL_CTX_new") }
        self.context = context
        isServer = true
        try configure()
        // gRPC clients (pymilvus with secure=True) insist on ALPN h2; HTTPS clients get http/1.1.
        // Either way the first bytes after the handshake decide, as on the plain port.
        elanus_ssl_ctx_alpn_server(context)
        guard SSL_CTX_use_certificate_chain_file(context, certificate) == 1 else { throw TLSContext.failure("loading the certificate \(certificate)") }
        guard SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1 else { throw TLSContext.failure("loading the private key \(key)") }
        guard SSL_CTX_check_private_key(context) == 1 else { throw TLSContext.failure("the private key \(key) does not match the certificate \(certificate)") }
        if let clientCA {
            guard SSL_CTX_load_verify_locations(context, clientCA, nil) == 1 else { throw TLSContext.failure("loading the client CA \(clientCA)") }
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
        }
    }

    /// A client context that trusts `trustedCA`; `certificate` and `key` for mutual TLS;
    /// `maxVersion` (a `TLS1_x_VERSION`) to test that old versions are refused.
    public init(trustedCA: String, certificate: String? = nil, key: String? = nil, maxVersion: Int32? = nil) throws(TLSError) {
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw TLSContext.failure("SSL_CTX_new") }
        self.context = context
        isServer = false
        if let maxVersion {
            // An old version needs OpenSSL's lowest security level to be offered at all.
            SSL_CTX_set_security_level(context, 0)
            _ = elanus_ssl_ctx_max_version(context, maxVersion)
        } else {
            try configure()
        }
        guard SSL_CTX_load_verify_locations(context, trustedCA, nil) == 1 else { throw TLSContext.failure("loading the CA \(trustedCA)") }
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        if let certificate, let key {
            guard SSL_CTX_use_certificate_chain_file(context, certificate) == 1, SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1 else {
                throw TLSContext.failure("loading the client certificate \(certificate)")
            }
        }
    }

    deinit { SSL_CTX_free(context) }

    public static let tls11 = elanus_tls1_1_version()

    private func configure() throws(TLSError) {
        guard elanus_ssl_ctx_min_tls12(context) == 1 else { throw TLSContext.failure("setting TLS 1.2 as the minimum version") }
        elanus_ssl_ctx_partial_writes(context)
    }

    /// OpenSSL's reasons for the last failure on this thread, oldest first, and clears them.
    static func errors() -> String {
        var reasons: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            reasons.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return reasons.isEmpty ? "no reason given" : reasons.joined(separator: "; ")
    }

    static func failure(_ what: String) -> TLSError { TLSError(description: "TLS: \(what) failed: \(errors())") }
}

/// One connection's TLS state over a socket. Calls never overlap: the server's connection
/// ownership rules (reactor or one worker) and the client's one-thread rule see to that.
final class TLSSession: @unchecked Sendable {
    private let ssl: OpaquePointer

    init(context: TLSContext, fd: Int32, verifyHost: String? = nil) throws(TLSError) {
        guard let ssl = SSL_new(context.context) else { throw TLSContext.failure("SSL_new") }
        self.ssl = ssl
        SSL_set_fd(ssl, fd)
        if let verifyHost {
            // An IP literal is checked against the certificate's IP names, anything else against its DNS names.
            let param = SSL_get0_param(ssl)
            if X509_VERIFY_PARAM_set1_ip_asc(param, verifyHost) != 1 {
                ERR_clear_error()
                SSL_set1_host(ssl, verifyHost)
            }
        }
        if context.isServer { SSL_set_accept_state(ssl) } else { SSL_set_connect_state(ssl) }
    }

    deinit { SSL_free(ssl) }

    enum Outcome: Equatable {
        case done(Int)
        case wantRead, wantWrite, closed
        case failed(String)
    }

    private func outcome(_ rc: Int32) -> Outcome {
        switch SSL_get_error(ssl, rc) {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL:
            let reasons = TLSContext.errors()
            return errno == 0 || errno == ECONNRESET || errno == EPIPE ? .closed : .failed("\(String(cString: strerror(errno))); \(reasons)")
        default:
            let verify = SSL_get_verify_result(ssl)
            let detail = verify == X509_V_OK ? "" : " (certificate: \(String(cString: X509_verify_cert_error_string(verify))))"
            return .failed(TLSContext.errors() + detail)
        }
    }

    /// Runs the handshake as far as the socket allows.
    func handshake() -> Outcome {
        ERR_clear_error()
        let rc = SSL_do_handshake(ssl)
        return rc == 1 ? .done(0) : outcome(rc)
    }

    func read(_ buffer: UnsafeMutableRawBufferPointer) -> Outcome {
        ERR_clear_error()
        let n = SSL_read(ssl, buffer.baseAddress, Int32(buffer.count))
        return n > 0 ? .done(Int(n)) : outcome(n)
    }

    func write(_ buffer: UnsafeRawBufferPointer) -> Outcome {
        ERR_clear_error()
        let n = SSL_write(ssl, buffer.baseAddress, Int32(min(buffer.count, Int(Int32.max))))
        return n > 0 ? .done(Int(n)) : outcome(n)
    }

    /// Decrypted bytes OpenSSL holds that the socket will not signal again.
    var pending: Int { Int(SSL_pending(ssl)) }

    var version: String { String(cString: SSL_get_version(ssl)) }

    /// Sends close_notify, once and without waiting for the peer's.
    func shutdown() {
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    /// Writes all of `bytes`, waiting up to `timeoutMs` in total whenever the socket is full.
    func writeAll(_ fd: Int32, _ bytes: [UInt8], timeoutMs: Int) -> Bool {
        let deadline = MonotonicClock.nowMs() + timeoutMs
        var offset = 0
        return bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                let event: Int16
                switch write(UnsafeRawBufferPointer(rebasing: raw[offset...])) {
                case .done(let n):
                    offset += n
                    continue
                case .wantWrite: event = Int16(POLLOUT)
                case .wantRead: event = Int16(POLLIN)
                case .closed, .failed: return false
                }
                let remaining = deadline - MonotonicClock.nowMs()
                if remaining <= 0 { return false }
                var pfd = pollfd(fd: fd, events: event, revents: 0)
                if poll(&pfd, 1, Int32(min(remaining, 1000))) < 0 && errno != EINTR { return false }
            }
            return true
        }
    }
}
