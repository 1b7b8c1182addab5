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

/* SHA-256 and MD5 of a stream, both in one pass (an S3 body read from a
** file: the payload hash is signed, the MD5 is Content-MD5). NULL when out
** of memory; crypto_sums_final frees it. */
struct crypto_sums;
struct crypto_sums *crypto_sums_new(void);
void crypto_sums_update(struct crypto_sums *s, const void *data, size_t len);
void crypto_sums_final(struct crypto_sums *s, uint8_t sha256[32], uint8_t md5[16]);

/* MD5 of LEN bytes at DATA. */
void crypto_md5(const void *data, size_t len, uint8_t out[16]);

/* Base64 of LEN bytes at BIN into OUT (4 * ceil(LEN / 3) + 1 bytes). */
void crypto_base64(const uint8_t *bin, size_t len, char *out, size_t cap);

/* Lower-case hex of LEN bytes at BIN into OUT (2 * LEN + 1 bytes). */
void crypto_hex(const uint8_t *bin, size_t len, char *out);

#endif /* HF_CRYPTO_H */
