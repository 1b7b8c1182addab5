/*
** tools/fuzz/seg.c: libFuzzer target for segment decoding (firmware/fmt/seg.c:
** seg_peek, seg_check, seg_decode_pages over the streaming reader,
** seg_decode). Each input is a
** segment file. When the input's last byte is even, its body_len and its
** SHA-256 trailer are fixed up first, so
** the fuzzer gets past the checksum to the header fields and the zstd body
** (a hostile replica can write a right checksum too); odd, it is decoded
** as it is. Checks the decoder's promises: page numbers within
** 1..db_pages and ascending, exactly npages records, and that the
** streaming reader (checksum at the end) accepts only what seg_check (the
** checksum first) accepts.
** Run: make fuzz-seg [FUZZ_SECONDS=N] (limits in tools/fuzz/seg.options).
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "base/err.h"
#include "fmt/seg.h"

struct seen {
	const struct seg_hdr *h;
	uint32_t n, last;
};

static int page(void *arg, uint32_t pgno, const uint8_t *p, char *why, size_t why_len)
{
	struct seen *s = arg;
	volatile uint8_t sink = p[0] ^ p[s->h->page_size - 1];

	(void)sink;
	(void)why;
	(void)why_len;
	if (pgno == 0 || pgno > s->h->db_pages || pgno <= s->last || s->n >= s->h->npages)
		abort(); /* seg_read_body let a bad record through */
	s->last = pgno;
	s->n++;
	return HF_OK;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seg_hdr h, h2;
	struct seen s = { &h, 0, 0 };
	char why[300];
	uint8_t *buf, *raw;

	if (!(buf = malloc(size ? size : 1)))
		return 0;
	memcpy(buf, data, size);
	if (size >= SEG_HDR_SIZE + SEG_TRAILER_SIZE && !(data[size - 1] & 1)) {
		put64(buf + 112, size - SEG_HDR_SIZE - SEG_TRAILER_SIZE);
		crypto_sha256(buf, size - SEG_TRAILER_SIZE, buf + size - SEG_TRAILER_SIZE);
	}
	seg_peek(buf, size, &h);
	why[0] = '\0';
	if (seg_decode_pages(buf, size, &h, page, &s, why, sizeof(why)) == HF_OK) {
		if (s.n != h.npages || why[0])
			abort(); /* success with records missing, or a stale message */
		if (seg_check(buf, size, &h2, why, sizeof(why)) != HF_OK)
			abort(); /* streamed, a file the whole-file check refuses */
		/* The gathered decoder agrees, where it takes the file. */
		if ((uint64_t)h.npages * (4 + h.page_size) <= 1u << 20 &&
		    seg_decode(buf, size, &h, &raw, why, sizeof(why)) == HF_OK)
			free(raw);
	} else if (!why[0]) {
		abort(); /* a refusal that does not say why */
	}
	free(buf);
	return 0;
}
