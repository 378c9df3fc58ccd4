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
