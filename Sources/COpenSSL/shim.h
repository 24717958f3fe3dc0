// OpenSSL (libcrypto, libssl) for Elanus: password hashing (PBKDF2), HMAC, random bytes and
// constant-time comparison. Only plain functions are used from Swift; macros are not importable.
#ifndef ELANUS_COPENSSL_SHIM_H
#define ELANUS_COPENSSL_SHIM_H

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#endif
