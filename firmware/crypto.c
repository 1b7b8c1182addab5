/*
** crypto.c: the mbedTLS wrapper (see crypto.h).
*/
#include "mbedtls/base64.h"
#include "mbedtls/md.h"
#include "mbedtls/md5.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/sha256.h"
#include "mbedtls/version.h"

#include "crypto.h"

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

void crypto_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
			uint8_t out[32])
{
	mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key, key_len, msg, msg_len,
			out);
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
