/*
** tools/fuzz/manifest.c: libFuzzer target for the manifest parser
** (firmware/fmt/manifest.c: manifest_parse). Each input is a manifest for
** device "dev1", generation 0000000100000002. Checks: a manifest accepted
** has a printable gap record, and what manifest_format writes from it parses
** back to the same.
** Run: make fuzz-manifest [FUZZ_SECONDS=N] (limits in tools/fuzz/manifest.options).
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "fmt/manifest.h"
#include "ship/ship.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256], why2[256], again[1024];
	uint64_t follows, follows2;
	char *text = malloc(size ? size : 1);

	if (!text)
		return 0;
	memcpy(text, data, size); /* not NUL-terminated: the parser must not need it */
	if (manifest_parse(text, size, "dev1", 0x100000002ull, &follows, why, sizeof(why)) ==
	    HF_OK) {
		for (const char *c = why; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				abort(); /* a control byte would reach the terminal */
		manifest_format("dev1", 0x100000002ull, follows, why, again, sizeof(again));
		if (manifest_parse(again, strlen(again), "dev1", 0x100000002ull, &follows2, why2,
					sizeof(why2)) != HF_OK ||
		    follows2 != follows || (follows && strcmp(why, why2) != 0))
			abort();
	}
	free(text);
	return 0;
}
