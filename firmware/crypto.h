/*
** crypto.h: holdfast's window on mbedTLS.
**
** crypto.c is the only firmware file that includes mbedTLS headers: hashes
** and HMAC reach the rest of the firmware through it. TLS drives a socket,
** so it lives in the port (port/linux/net.c).
*/
#ifndef HF_CRYPTO_H
#define HF_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* mbedTLS's version, e.g. "3.6.6", for --version. */
const char *crypto_version(void);

/* SHA-256 of LEN bytes at DATA into OUT. */
void crypto_sha256(const void *data, size_t len, uint8_t out[32]);

/* HMAC-SHA-256 of MSG under KEY into OUT. */
void crypto_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
			uint8_t out[32]);

/* MD5 of LEN bytes at DATA. */
void crypto_md5(const void *data, size_t len, uint8_t out[16]);

/* Base64 of LEN bytes at BIN into OUT (4 * ceil(LEN / 3) + 1 bytes). */
void crypto_base64(const uint8_t *bin, size_t len, char *out, size_t cap);

/* Lower-case hex of LEN bytes at BIN into OUT (2 * LEN + 1 bytes). */
void crypto_hex(const uint8_t *bin, size_t len, char *out);

/* Overwrites LEN bytes at BUF with zeros in a way the compiler may not
** drop (mbedtls_platform_zeroize): for keys and secrets about to be freed or
** to go out of scope, where a memset would be a dead store. NULL is fine. */
void crypto_wipe(void *buf, size_t len);

#endif /* HF_CRYPTO_H */
