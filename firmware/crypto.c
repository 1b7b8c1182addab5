/*
** crypto.c: the mbedTLS wrapper (see crypto.h).
*/
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
