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

/* SHA-256 of a stream, fed in pieces: crypto_sha256_begin (NULL: out of
** memory), _update as the bytes come, _end writes the sum and frees it
** (OUT NULL: only frees; NULL CTX is a no-op). */
struct crypto_sha256;
struct crypto_sha256 *crypto_sha256_begin(void);
void crypto_sha256_update(struct crypto_sha256 *ctx, const void *data, size_t len);
void crypto_sha256_end(struct crypto_sha256 *ctx, uint8_t out[32]);

/* HMAC-SHA-256 of MSG under KEY into OUT. */
void crypto_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
			uint8_t out[32]);

/* HMAC-SHA-256 under KEY of the concatenation of A (A_LEN bytes) and B:
** HF_OK, or HF_ENOMEM. */
int crypto_hmac_sha256_2(const uint8_t key[32], const void *a, size_t a_len, const void *b,
			 size_t b_len, uint8_t out[32]);

/* HKDF-SHA-256 (RFC 5869) of IKM with SALT and INFO into OUT_LEN bytes. */
void crypto_hkdf_sha256(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
			const char *info, uint8_t *out, size_t out_len);

/* ChaCha20-Poly1305 (RFC 8439) under KEY with NONCE: seals LEN bytes of IN
** into OUT (may be IN) and TAG. */
void crypto_aead_seal(const uint8_t key[32], const uint8_t nonce[12], const void *ad,
		      size_t ad_len, const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[16]);

/* Opens what crypto_aead_seal made: HF_OK, or HF_ECORRUPT (OUT wiped) if
** TAG does not authenticate IN and AD under KEY and NONCE. OUT may be IN,
** or lie 16 bytes or more before it (the chunks of a file shifted down as
** they are opened: Poly1305 reads the ciphertext whole before ChaCha20
** writes, and ChaCha20 writes each block after reading it). */
int crypto_aead_open(const uint8_t key[32], const uint8_t nonce[12], const void *ad,
		     size_t ad_len, const uint8_t *in, size_t len, const uint8_t tag[16],
		     uint8_t *out);

/* Fills BUF with LEN random bytes from mbedTLS's CTR_DRBG seeded by the
** platform entropy (getrandom): for keys. */
int crypto_random(void *buf, size_t len);

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
