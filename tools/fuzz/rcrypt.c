/*
** rcrypt.c (tools/fuzz): libFuzzer on the replica envelope's reader
** (firmware/fmt/rcrypt.c: rcrypt_open, rcrypt_open_head and the streaming
** rcrypt_stream_open) with a fixed key: any bytes must give HF_OK or
** HF_ECORRUPT, never a read or write out of bounds, and the stream must
** agree with rcrypt_open: the same verdict and, where it opens, the same
** plaintext. The corpus (corpus/rcrypt/) holds envelopes sealed under this
** key (id "fz", bytes 0..31) as REL (by Python's cryptography, from the
** format's description, as tools/rcrypt_open.py reads it: 0, 1, 200 bytes,
** one full chunk, two chunks), so mutations reach the chunk loop.
** Run: make fuzz-rcrypt [FUZZ_SECONDS=N].
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "base/stream.h"
#include "fmt/rcrypt.h"
#include "port.h"

#define REL "dev1/0000000100000002/seg/0000000000000003.zst"

static void key(struct rcrypt *k)
{
	memset(k, 0, sizeof(*k));
	k->n = 1;
	strcpy(k->k[0].id, "fz");
	for (int i = 0; i < 32; i++)
		k->k[0].master[i] = (uint8_t)i;
	crypto_hkdf_sha256(NULL, 0, k->k[0].master, 32, "holdfast replica v1 salt",
			   k->k[0].salt_key, 32);
	strcpy(k->path, "fuzz.key");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rcrypt k;
	static int init;
	char why[300];
	size_t plain;
	uint8_t *buf;
	int rc;

	if (!init) {
		key(&k);
		init = 1;
	}
	if (!(buf = malloc(size ? size : 1)))
		return 0;
	memcpy(buf, data, size);
	rc = rcrypt_open(&k, REL, buf, size, &plain, why, sizeof(why));
	if (rc != HF_OK && rc != HF_ECORRUPT)
		abort();
	if (rc == HF_OK && plain > size)
		abort();
	{
		/* The stream, read in odd pieces, against the whole-file open. */
		struct rcrypt_stream *rs = NULL;
		struct stream in, *ps;
		uint8_t piece[777];
		size_t got = 0, n;
		int src = rc;
		stream_mem(&in, data, size);
		rc = rcrypt_stream_open(&rs, &k, REL, &in, &ps, why, sizeof(why));
		if (rc == HF_OK && src == HF_OK && ps->size != plain)
			abort();
		while (rc == HF_OK && got < ps->size) {
			n = ps->size - got < sizeof(piece) ? (size_t)(ps->size - got) : sizeof(piece);
			if ((rc = stream_read(ps, piece, n, why, sizeof(why))) != HF_OK)
				break;
			if (src == HF_OK && memcmp(piece, buf + got, n) != 0)
				abort();
			got += n;
		}
		if ((rc != HF_OK && rc != HF_ECORRUPT) || (rc == HF_OK) != (src == HF_OK))
			abort();
		rcrypt_stream_close(rs);
	}
	memcpy(buf, data, size);
	rc = rcrypt_open_head(&k, REL, buf, size, &plain, why, sizeof(why));
	if ((rc != HF_OK && rc != HF_ECORRUPT && rc != HF_ENOMEM) || (rc == HF_OK && plain > size))
		abort();
	free(buf);
	return 0;
}
