/*
** manifest.h: a generation's manifest in the replica: which device and
** generation, the segment format, and the gap before it.
*/
#ifndef HF_MANIFEST_H
#define HF_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

/* The text of a generation's manifest in the replica: the device, the
** generation and the segment format, then, unless it is the first, the gap
** record: "follows GEN" (the previous generation in the replica) and
** "gap WHY". */
void manifest_format(const char *device, uint64_t generation, uint64_t follows, const char *why,
		     char *out, size_t len);

/* From a manifest's TEXT: the generation it follows (0: none) and why
** (WHY, "" if none). HF_ECORRUPT unless it is the manifest of DEVICE's
** GENERATION. */
int manifest_parse(const char *text, size_t len, const char *device, uint64_t generation,
		   uint64_t *follows, char *why, size_t why_len);

#endif /* HF_MANIFEST_H */
