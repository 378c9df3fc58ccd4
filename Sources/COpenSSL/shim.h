#ifndef IMAGEEDIT_COPENSSL_SHIM_H
#define IMAGEEDIT_COPENSSL_SHIM_H
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <openssl/rand.h>
#include <openssl/err.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/bio.h>
#include <string.h>

/* HMAC-SHA256 with a key prepared once: the inner and outer SHA-256 states after the padded
   key, copied by value for each message. For a key used for many short messages (the signed
   blob URLs: two per image in a list), where OpenSSL 3's one-shot HMAC() fetches the digest and
   allocates contexts on every call. Same output as HMAC(EVP_sha256(), ...). */
typedef struct {
    SHA256_CTX inner;
    SHA256_CTX outer;
} ie_hmac_sha256_key;

static inline void ie_hmac_sha256_key_init(ie_hmac_sha256_key *prepared, const unsigned char *key, size_t key_length) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    unsigned char block[64], pad[64];
    memset(block, 0, sizeof block);
    if (key_length > 64) {
        SHA256(key, key_length, block);
    } else if (key_length > 0) {
        memcpy(block, key, key_length);
    }
    for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x36;
    SHA256_Init(&prepared->inner);
    SHA256_Update(&prepared->inner, pad, 64);
    for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x5c;
    SHA256_Init(&prepared->outer);
    SHA256_Update(&prepared->outer, pad, 64);
    OPENSSL_cleanse(block, sizeof block);
    OPENSSL_cleanse(pad, sizeof pad);
#pragma GCC diagnostic pop
}

static inline void ie_hmac_sha256_prepared(const ie_hmac_sha256_key *prepared, const unsigned char *data, size_t length,
                                           unsigned char output[32]) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    unsigned char inner_digest[32];
    SHA256_CTX ctx = prepared->inner;
    SHA256_Update(&ctx, data, length);
    SHA256_Final(inner_digest, &ctx);
    ctx = prepared->outer;
    SHA256_Update(&ctx, inner_digest, 32);
    SHA256_Final(output, &ctx);
    OPENSSL_cleanse(&ctx, sizeof ctx);
    OPENSSL_cleanse(inner_digest, sizeof inner_digest);
#pragma GCC diagnostic pop
}

/* PBKDF2-HMAC-SHA256 (RFC 8018) with the HMAC's inner and outer SHA-256 states keyed once
   (ie_hmac_sha256_key_init) and copied by value for each of the 2 x iterations compressions.
   Same output as OpenSSL's PKCS5_PBKDF2_HMAC(..., EVP_sha256(), ...), about twice as fast: OpenSSL 3's version
   duplicates provider contexts (heap allocations) on every iteration. The SHA256_* calls are
   deprecated in OpenSSL 3 but remain its fastest SHA-256 entry points (SHA-NI where present).
   Returns 1 on success, 0 on invalid arguments. Key material is wiped before returning. */
static inline int ie_pbkdf2_hmac_sha256(const unsigned char *password, size_t password_length,
                                        const unsigned char *salt, size_t salt_length,
                                        unsigned long iterations,
                                        unsigned char *output, size_t output_length) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    if (iterations < 1 || output_length < 1 || (password_length > 0 && password == NULL) || (salt_length > 0 && salt == NULL) || output == NULL) {
        return 0;
    }
    unsigned char u[32], t[32], counter[4];
    ie_hmac_sha256_key prepared;
    ie_hmac_sha256_key_init(&prepared, password, password_length);
    SHA256_CTX ctx;
    for (unsigned long block = 1; output_length > 0; block++) {
        counter[0] = (unsigned char)(block >> 24); counter[1] = (unsigned char)(block >> 16);
        counter[2] = (unsigned char)(block >> 8); counter[3] = (unsigned char)block;
        ctx = prepared.inner;
        SHA256_Update(&ctx, salt, salt_length);
        SHA256_Update(&ctx, counter, 4);
        SHA256_Final(u, &ctx);
        ctx = prepared.outer;
        SHA256_Update(&ctx, u, 32);
        SHA256_Final(u, &ctx);
        memcpy(t, u, 32);
        for (unsigned long round = 1; round < iterations; round++) {
            ctx = prepared.inner;
            SHA256_Update(&ctx, u, 32);
            SHA256_Final(u, &ctx);
            ctx = prepared.outer;
            SHA256_Update(&ctx, u, 32);
            SHA256_Final(u, &ctx);
            for (int i = 0; i < 32; i++) t[i] ^= u[i];
        }
        size_t take = output_length < 32 ? output_length : 32;
        memcpy(output, t, take);
        output += take;
        output_length -= take;
    }
    OPENSSL_cleanse(u, sizeof u); OPENSSL_cleanse(t, sizeof t); OPENSSL_cleanse(&prepared, sizeof prepared);
    OPENSSL_cleanse(&ctx, sizeof ctx);
    return 1;
#pragma GCC diagnostic pop
}

/* Function forms of OpenSSL macros that Swift cannot import, and the ALPN callback. */

/* The wire form of the one ALPN protocol we speak: length-prefixed "h2". */
static const unsigned char imageedit_alpn_h2[] = {2, 'h', '2'};

/* Server ALPN selection: picks "h2" when the client offers it; otherwise fails the handshake
   with a no_application_protocol alert (RFC 7301), so a client that cannot speak h2 is refused. */
static inline int imageedit_alpn_select_h2(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                                           const unsigned char *in, unsigned int inlen, void *arg) {
    (void)ssl;
    (void)arg;
    unsigned int i = 0;
    while (i < inlen) {
        unsigned int len = in[i];
        if (i + 1 + len > inlen) break;
        if (len == 2 && in[i + 1] == 'h' && in[i + 2] == '2') {
            *out = in + i + 1;
            *outlen = 2;
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + len;
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

static inline void imageedit_ctx_select_alpn_h2(SSL_CTX *ctx) {
    SSL_CTX_set_alpn_select_cb(ctx, imageedit_alpn_select_h2, NULL);
}

/* Client: offer "h2" only. Returns 0 on success (OpenSSL's convention for this call). */
static inline int imageedit_ctx_offer_alpn_h2(SSL_CTX *ctx) {
    return SSL_CTX_set_alpn_protos(ctx, imageedit_alpn_h2, sizeof imageedit_alpn_h2);
}

static inline int imageedit_ctx_set_min_tls12(SSL_CTX *ctx) {
    return (int)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
}

static inline int imageedit_set_sni(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

static inline long imageedit_ctx_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}

#endif
