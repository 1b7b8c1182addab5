/*
** manifest.c: a generation's manifest in the replica (manifest.h): written
** by the shipper (ship_upload.c), read by restore and replica ls; a format
** of its own, so that a fuzzer (tools/fuzz/manifest.c) drives the parser
** without the job log.
*/
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "base/err.h"
#include "fmt/manifest.h"
#include "fmt/seg.h"

void manifest_format(const char *device, uint64_t generation, uint64_t follows, const char *why,
		   char *out, size_t len)
{
	int n = snprintf(out, len,
			 "holdfast replica generation\ndevice %s\ngeneration %016" PRIx64
			 "\nsegment_format %d\n",
			 device, generation, SEG_VERSION);
	if (follows && n > 0 && (size_t)n < len)
		snprintf(out + n, len - n, "follows %016" PRIx64 "\ngap %s\n", follows, why);
}

int manifest_parse(const char *text, size_t len, const char *device, uint64_t generation,
			uint64_t *follows, char *why, size_t why_len)
{
	char head[256];
	uint64_t v = 0;
	size_t n;

	manifest_format(device, generation, 0, "", head, sizeof(head));
	n = strlen(head);
	*follows = 0;
	why[0] = '\0';
	if (len < n || memcmp(text, head, n) != 0)
		return HF_ECORRUPT;
	if (len == n)
		return HF_OK;
	/* The gap record, exactly as manifest_format writes it. */
	const char *p = text + n, *end = text + len, *nl;
	if (end - p < 8 + 16 + 1 || memcmp(p, "follows ", 8) != 0)
		return HF_ECORRUPT;
	/* 16 lower-case hex digits, as written: never strtoull, which would
	** take "0x", a sign or spaces, and read past LEN looking for the end. */
	for (int i = 0; i < 16; i++) {
		char c = p[8 + i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return HF_ECORRUPT;
		v = v << 4 | (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
	}
	if (p[8 + 16] != '\n' || !v)
		return HF_ECORRUPT;
	p += 8 + 16 + 1;
	if (end - p < 5 || memcmp(p, "gap ", 4) != 0 || !(nl = memchr(p, '\n', end - p)) ||
	    nl + 1 != end)
		return HF_ECORRUPT;
	/* Only printable text: it is shown by replica ls, and a replica can
	** hold anything (an escape sequence, a forged line). */
	for (const char *c = p + 4; c < nl; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return HF_ECORRUPT;
	snprintf(why, why_len, "%.*s", (int)(nl - p - 4), p + 4);
	*follows = v;
	return HF_OK;
}
