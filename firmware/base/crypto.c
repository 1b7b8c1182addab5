/*
** crypto.c: the mbedTLS wrapper (see crypto.h).
*/
#include "mbedtls/base64.h"
#include "mbedtls/chachapoly.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/hkdf.h"
#include "mbedtls/md.h"
#include "mbedtls/md5.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/sha256.h"
#include "mbedtls/version.h"

#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "base/err.h"

const char *crypto_version(void)
{
	/* The library's own answer, not the header's: they differ only if the
	** build mixed versions, which --version should then show. */
	static char v[18];

	mbedtls_version_get_string(v);
	return v;
}

void crypto_sha256(const void *data, size_t len, uint8_t out[32])
{
	/* Cannot fail for SHA-256 (is224 = 0) with valid pointers. */
	mbedtls_sha256(data, len, out, 0);
}

struct crypto_sha256 {
	mbedtls_sha256_context c;
};

struct crypto_sha256 *crypto_sha256_begin(void)
{
	struct crypto_sha256 *ctx = malloc(sizeof(*ctx));

	if (ctx) {
		mbedtls_sha256_init(&ctx->c);
		mbedtls_sha256_starts(&ctx->c, 0);
	}
	return ctx;
}

void crypto_sha256_update(struct crypto_sha256 *ctx, const void *data, size_t len)
{
	mbedtls_sha256_update(&ctx->c, data, len);
}

void crypto_sha256_end(struct crypto_sha256 *ctx, uint8_t out[32])
{
	if (!ctx)
		return;
	if (out)
		mbedtls_sha256_finish(&ctx->c, out);
	mbedtls_sha256_free(&ctx->c);
	free(ctx);
}

void crypto_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
			uint8_t out[32])
{
	mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key, key_len, msg, msg_len,
			out);
}

int crypto_hmac_sha256_2(const uint8_t key[32], const void *a, size_t a_len, const void *b,
			 size_t b_len, uint8_t out[32])
{
	mbedtls_md_context_t md;
	int ret;

	mbedtls_md_init(&md);
	/* Only the setup's allocation can fail. */
	ret = mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1);
	if (ret == 0)
		ret = mbedtls_md_hmac_starts(&md, key, 32);
	if (ret == 0)
		ret = mbedtls_md_hmac_update(&md, a, a_len);
	if (ret == 0)
		ret = mbedtls_md_hmac_update(&md, b, b_len);
	if (ret == 0)
		ret = mbedtls_md_hmac_finish(&md, out);
	mbedtls_md_free(&md); /* wipes the HMAC pads */
	return ret == 0 ? HF_OK : HF_ENOMEM;
}

void crypto_hkdf_sha256(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
			const char *info, uint8_t *out, size_t out_len)
{
	mbedtls_hkdf(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), salt, salt_len, ikm, ikm_len,
		     (const unsigned char *)info, strlen(info), out, out_len);
}

void crypto_aead_seal(const uint8_t key[32], const uint8_t nonce[12], const void *ad,
		      size_t ad_len, const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[16])
{
	mbedtls_chachapoly_context c;

	mbedtls_chachapoly_init(&c);
	mbedtls_chachapoly_setkey(&c, key);
	mbedtls_chachapoly_encrypt_and_tag(&c, len, nonce, ad, ad_len, in, out, tag);
	mbedtls_chachapoly_free(&c); /* wipes the key schedule */
}

int crypto_aead_open(const uint8_t key[32], const uint8_t nonce[12], const void *ad,
		     size_t ad_len, const uint8_t *in, size_t len, const uint8_t tag[16],
		     uint8_t *out)
{
	mbedtls_chachapoly_context c;
	int ret;

	mbedtls_chachapoly_init(&c);
	mbedtls_chachapoly_setkey(&c, key);
	/* Compares the tags in constant time, and wipes OUT on a mismatch. */
	ret = mbedtls_chachapoly_auth_decrypt(&c, len, nonce, ad, ad_len, tag, in, out);
	mbedtls_chachapoly_free(&c);
	return ret == 0 ? HF_OK : HF_ECORRUPT;
}

int crypto_random(void *buf, size_t len)
{
	mbedtls_entropy_context e;
	mbedtls_ctr_drbg_context d;
	int ret;

	mbedtls_entropy_init(&e);
	mbedtls_ctr_drbg_init(&d);
	ret = mbedtls_ctr_drbg_seed(&d, mbedtls_entropy_func, &e,
				    (const unsigned char *)"holdfast key", 12);
	if (ret == 0)
		ret = mbedtls_ctr_drbg_random(&d, buf, len);
	mbedtls_ctr_drbg_free(&d);
	mbedtls_entropy_free(&e);
	return ret == 0 ? HF_OK : HF_ENOTSUP;
}

void crypto_md5(const void *data, size_t len, uint8_t out[16])
{
	mbedtls_md5(data, len, out);
}

void crypto_base64(const uint8_t *bin, size_t len, char *out, size_t cap)
{
	size_t olen = 0;

	if (mbedtls_base64_encode((unsigned char *)out, cap, &olen, bin, len) != 0)
		olen = 0;
	out[olen] = '\0';
}

void crypto_hex(const uint8_t *bin, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[bin[i] >> 4];
		out[2 * i + 1] = digits[bin[i] & 15];
	}
	out[2 * len] = '\0';
}

void crypto_wipe(void *buf, size_t len)
{
	if (buf)
		mbedtls_platform_zeroize(buf, len);
}
