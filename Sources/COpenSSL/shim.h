// OpenSSL (libcrypto, libssl) for Elanus: password hashing (PBKDF2), HMAC, random bytes,
// constant-time comparison, and TLS for the HTTP server and client. Swift cannot import C
// macros, so the few macro-only calls are wrapped in static inline functions below.
#ifndef ELANUS_COPENSSL_SHIM_H
#define ELANUS_COPENSSL_SHIM_H

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/// TLS 1.2 is the oldest version a context negotiates.
static inline int elanus_ssl_ctx_min_tls12(SSL_CTX *ctx) {
    return (int)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
}

/// For tests: the newest version a context may negotiate, as TLS1_x_VERSION.
static inline int elanus_ssl_ctx_max_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}

/// Non-blocking writes may return after part of a buffer, and retry with a moved buffer.
static inline void elanus_ssl_ctx_partial_writes(SSL_CTX *ctx) {
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

/// ALPN on the server: h2 when the client offers it (gRPC over TLS requires it), else
/// http/1.1; a client that offers neither goes on without ALPN, as before.
static inline int elanus_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                                     const unsigned char *in, unsigned int inlen, void *arg) {
    (void)ssl;
    (void)arg;
    static const unsigned char protocols[] = "\x02h2\x08http/1.1";
    unsigned char *selected = NULL;
    if (SSL_select_next_proto(&selected, outlen, protocols, sizeof(protocols) - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED) {
        return SSL_TLSEXT_ERR_NOACK;
    }
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
}

static inline void elanus_ssl_ctx_alpn_server(SSL_CTX *ctx) { SSL_CTX_set_alpn_select_cb(ctx, elanus_alpn_select, NULL); }

static inline int elanus_tls1_1_version(void) { return TLS1_1_VERSION; }
static inline int elanus_tls1_2_version(void) { return TLS1_2_VERSION; }

#endif
