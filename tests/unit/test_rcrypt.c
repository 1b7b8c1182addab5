/*
** test_rcrypt.c: the replica envelope (firmware/fmt/rcrypt.c): round trips at
** the chunk boundaries, and every way a stored file can be altered (a bit
** in each region, a cut at each chunk boundary, chunks swapped, a renamed
** file, the wrong key, an unknown key id) fails to open, whole and
** streamed (restore's reader); key files and their rotation.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/stream.h"
#include "fmt/rcrypt.h"
#include "port.h"
#include "test.h"

#define KA "a1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
#define KB "b2 ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
/* KA's id with KB's key: a wrong key under a known id. */
#define KA_WRONG "a1 ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
#define REL "dev1/0000000100000002/seg/0000000000000003.zst"

static void keyfile(const char *path, const char *text)
{
	test_write_file(path, text);
	CHECK(chmod(path, 0600) == 0);
}

static void load(struct rcrypt *k, const char *text)
{
	keyfile("k", text);
	CHECK_INT(rcrypt_load(k, "k"), HF_OK);
}

static uint8_t *pattern(size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	CHECK(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 131 + (i >> 16) * 7);
	return p;
}

/* Reads SEALED (LEN) through the streaming open (rcrypt_stream_open, in
** pieces of 1000 bytes): its verdict, and its plaintext checked against
** PLAIN (PLAIN_LEN bytes) unless PLAIN is NULL. */
static int stream_open(const struct rcrypt *k, const char *rel, const uint8_t *sealed,
		       size_t len, const uint8_t *plain, size_t plain_len)
{
	struct rcrypt_stream *rs = NULL;
	struct stream in, *ps;
	uint8_t piece[1000];
	char why[300];
	size_t got = 0, n;
	int rc;

	stream_mem(&in, sealed, len);
	rc = rcrypt_stream_open(&rs, k, rel, &in, &ps, why, sizeof(why));
	if (rc == HF_OK && plain)
		CHECK_INT(ps->size, plain_len);
	while (rc == HF_OK && got < ps->size) {
		n = ps->size - got < sizeof(piece) ? (size_t)(ps->size - got) : sizeof(piece);
		if ((rc = stream_read(ps, piece, n, why, sizeof(why))) == HF_OK && plain)
			CHECK(!memcmp(piece, plain + got, n));
		got += n;
	}
	rcrypt_stream_close(rs);
	return rc;
}

/* Opens a copy of SEALED (LEN) as REL under K: the rcrypt_open code; the
** streaming open (restore's) must give the same verdict and plaintext. */
static int open_copy(const struct rcrypt *k, const char *rel, const uint8_t *sealed, size_t len,
		     char *why, size_t why_len)
{
	uint8_t *c = malloc(len ? len : 1);
	size_t plain = 0;
	int rc;

	CHECK(c);
	memcpy(c, sealed, len);
	rc = rcrypt_open(k, rel, c, len, &plain, why, why_len);
	CHECK_INT(stream_open(k, rel, sealed, len, rc == HF_OK ? c : NULL, plain), rc);
	free(c);
	return rc;
}

TEST(rcrypt_round_trips_at_chunk_boundaries)
{
	static const size_t sizes[] = { 0, 1, RCRYPT_CHUNK - 1, RCRYPT_CHUNK, RCRYPT_CHUNK + 1,
					1000 * 1000 };
	struct rcrypt k;

	load(&k, KA);
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint8_t *in = pattern(sizes[s]), *out, *again;
		size_t olen, alen, plain;
		char why[300];
		CHECK_INT(rcrypt_seal(&k, REL, in, sizes[s], &out, &olen), HF_OK);
		CHECK_INT(olen, rcrypt_sealed_len(sizes[s]));
		CHECK(rcrypt_is_sealed(out, olen));
		/* The plaintext does not show through. */
		if (sizes[s] >= 64)
			CHECK(memcmp(out + RCRYPT_HDR, in, 64) != 0);
		/* Deterministic: a retried create-only write sends the same bytes. */
		CHECK_INT(rcrypt_seal(&k, REL, in, sizes[s], &again, &alen), HF_OK);
		CHECK(alen == olen && !memcmp(again, out, olen));
		free(again);
		CHECK_INT(stream_open(&k, REL, out, olen, in, sizes[s]), HF_OK);
		CHECK_INT(rcrypt_open(&k, REL, out, olen, &plain, why, sizeof(why)), HF_OK);
		CHECK_INT(plain, sizes[s]);
		CHECK(!memcmp(out, in, sizes[s]));
		free(out);
		free(in);
	}
	rcrypt_free(&k);
}

TEST(rcrypt_head_opens_the_first_chunk)
{
	static const size_t sizes[] = { 10, RCRYPT_CHUNK, RCRYPT_CHUNK + 1, 300000 };
	struct rcrypt k;

	load(&k, KA);
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint8_t *in = pattern(sizes[s]), *out;
		size_t olen, plain, head = olen = 0;
		char why[300];
		CHECK_INT(rcrypt_seal(&k, REL, in, sizes[s], &out, &olen), HF_OK);
		head = olen < RCRYPT_HEAD_LEN ? olen : RCRYPT_HEAD_LEN;
		CHECK_INT(rcrypt_open_head(&k, REL, out, head, &plain, why, sizeof(why)), HF_OK);
		CHECK_INT(plain, sizes[s] < RCRYPT_CHUNK ? sizes[s] : RCRYPT_CHUNK);
		CHECK(!memcmp(out, in, plain));
		free(out);
		free(in);
	}
	rcrypt_free(&k);
}

TEST(rcrypt_refuses_a_flipped_bit_in_each_region)
{
	size_t len = 2 * RCRYPT_CHUNK + 100, olen;
	uint8_t *in = pattern(len), *out;
	struct rcrypt k;
	char why[300];
	/* magic, version, cipher, key id, salt, reserved, then chunk 1's
	** ciphertext and tag, chunk 2's, and the last (short) chunk's. */
	const size_t at[] = { 0,
			      6,
			      7,
			      8,
			      20,
			      24,
			      55,
			      56,
			      63,
			      RCRYPT_HDR,
			      RCRYPT_HDR + RCRYPT_CHUNK - 1,
			      RCRYPT_HDR + RCRYPT_CHUNK,
			      RCRYPT_HDR + RCRYPT_CHUNK + RCRYPT_TAG - 1,
			      RCRYPT_HDR + RCRYPT_CHUNK + RCRYPT_TAG + 5,
			      RCRYPT_HDR + 2 * RCRYPT_CHUNK + RCRYPT_TAG + 3,
			      RCRYPT_HDR + 2 * (RCRYPT_CHUNK + RCRYPT_TAG) + 50,
			      0 };

	load(&k, KA);
	CHECK_INT(rcrypt_seal(&k, REL, in, len, &out, &olen), HF_OK);
	CHECK_INT(open_copy(&k, REL, out, olen, why, sizeof(why)), HF_OK);
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]) - 1; i++) {
		for (int bit = 0; bit < 8; bit += 7) {
			out[at[i]] ^= (uint8_t)(1 << bit);
			if (open_copy(&k, REL, out, olen, why, sizeof(why)) != HF_ECORRUPT)
				test_fail(__FILE__, __LINE__, "bit %d at %zu opened", bit, at[i]);
			out[at[i]] ^= (uint8_t)(1 << bit);
		}
	}
	/* The last byte: the last tag. */
	out[olen - 1] ^= 1;
	CHECK_INT(open_copy(&k, REL, out, olen, why, sizeof(why)), HF_ECORRUPT);
	CHECK(strstr(why, "authentication failed at chunk 3 of 3"));
	free(out);
	free(in);
	rcrypt_free(&k);
}

TEST(rcrypt_refuses_truncation_and_extension)
{
	size_t len = 3 * RCRYPT_CHUNK, olen, full = RCRYPT_CHUNK + RCRYPT_TAG;
	uint8_t *in = pattern(len), *out;
	struct rcrypt k;
	char why[300];

	load(&k, KA);
	CHECK_INT(rcrypt_seal(&k, REL, in, len, &out, &olen), HF_OK);
	CHECK_INT(olen, RCRYPT_HDR + 3 * full);
	/* At each chunk boundary: whole chunks, but none is marked last. */
	for (size_t c = 0; c < 3; c++) {
		CHECK_INT(open_copy(&k, REL, out, RCRYPT_HDR + c * full, why, sizeof(why)),
			  HF_ECORRUPT);
	}
	CHECK(strstr(why, "authentication failed at chunk 2 of 2"));
	/* Mid-chunk, mid-tag, mid-header. */
	const size_t cuts[] = { 0, 5, RCRYPT_HDR - 1, RCRYPT_HDR + 1, RCRYPT_HDR + full + 8,
				olen - 1 };
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
		CHECK_INT(open_copy(&k, REL, out, cuts[i], why, sizeof(why)), HF_ECORRUPT);
	/* A byte more. */
	uint8_t *longer = malloc(olen + 1);
	CHECK(longer);
	memcpy(longer, out, olen);
	longer[olen] = 0;
	CHECK_INT(open_copy(&k, REL, longer, olen + 1, why, sizeof(why)), HF_ECORRUPT);
	free(longer);
	free(out);
	free(in);
	rcrypt_free(&k);
}

TEST(rcrypt_refuses_swapped_chunks)
{
	size_t len = 3 * RCRYPT_CHUNK, olen, full = RCRYPT_CHUNK + RCRYPT_TAG;
	uint8_t *in = pattern(len), *out, *tmp = malloc(full);
	struct rcrypt k;
	char why[300];

	load(&k, KA);
	CHECK(tmp);
	CHECK_INT(rcrypt_seal(&k, REL, in, len, &out, &olen), HF_OK);
	memcpy(tmp, out + RCRYPT_HDR, full);
	memcpy(out + RCRYPT_HDR, out + RCRYPT_HDR + full, full);
	memcpy(out + RCRYPT_HDR + full, tmp, full);
	CHECK_INT(open_copy(&k, REL, out, olen, why, sizeof(why)), HF_ECORRUPT);
	CHECK(strstr(why, "chunk 1 of 3"));
	free(tmp);
	free(out);
	free(in);
	rcrypt_free(&k);
}

TEST(rcrypt_binds_the_path)
{
	uint8_t *in = pattern(1000), *out;
	struct rcrypt k;
	size_t olen;
	char why[300];

	load(&k, KA);
	CHECK_INT(rcrypt_seal(&k, REL, in, 1000, &out, &olen), HF_OK);
	/* Another seq, another generation, another device: each refused. */
	CHECK_INT(open_copy(&k, "dev1/0000000100000002/seg/0000000000000004.zst", out, olen, why,
			    sizeof(why)),
		  HF_ECORRUPT);
	CHECK(strstr(why, "authentication failed"));
	CHECK_INT(open_copy(&k, "dev1/0000000100000003/seg/0000000000000003.zst", out, olen, why,
			    sizeof(why)),
		  HF_ECORRUPT);
	CHECK_INT(open_copy(&k, "dev2/0000000100000002/seg/0000000000000003.zst", out, olen, why,
			    sizeof(why)),
		  HF_ECORRUPT);
	CHECK_INT(open_copy(&k, REL, out, olen, why, sizeof(why)), HF_OK);
	free(out);
	free(in);
	rcrypt_free(&k);
}

TEST(rcrypt_refuses_a_wrong_key_and_an_unknown_id)
{
	uint8_t *in = pattern(5000), *out;
	struct rcrypt k, wrong, other;
	size_t olen;
	char why[300];

	load(&k, KA);
	CHECK_INT(rcrypt_seal(&k, REL, in, 5000, &out, &olen), HF_OK);
	load(&wrong, KA_WRONG);
	CHECK_INT(open_copy(&wrong, REL, out, olen, why, sizeof(why)), HF_ECORRUPT);
	CHECK(strstr(why, "authentication failed"));
	load(&other, KB);
	CHECK_INT(open_copy(&other, REL, out, olen, why, sizeof(why)), HF_ECORRUPT);
	CHECK(strstr(why, "key id 'a1', which is not in k"));
	free(out);
	free(in);
	rcrypt_free(&k);
	rcrypt_free(&wrong);
	rcrypt_free(&other);
}

TEST(rcrypt_rotation_new_first_key_seals_old_keys_open)
{
	uint8_t *in = pattern(3000), *old, *new;
	struct rcrypt a, ba, b;
	size_t olen, nlen;
	char why[300];

	load(&a, KA);
	CHECK_INT(rcrypt_seal(&a, REL, in, 3000, &old, &olen), HF_OK);
	/* Rotated: a new first line, the old key kept below it. */
	load(&ba, "# rotated\n" KB "\n" KA);
	CHECK_INT(ba.n, 2);
	CHECK_INT(open_copy(&ba, REL, old, olen, why, sizeof(why)), HF_OK);
	CHECK_INT(rcrypt_seal(&ba, REL, in, 3000, &new, &nlen), HF_OK);
	CHECK(!memcmp(new + 8, "b2\0", 3));
	CHECK_INT(open_copy(&ba, REL, new, nlen, why, sizeof(why)), HF_OK);
	/* The old key file alone cannot read what the new key sealed; the
	** new key alone cannot read the old files. */
	CHECK_INT(open_copy(&a, REL, new, nlen, why, sizeof(why)), HF_ECORRUPT);
	load(&b, KB);
	CHECK_INT(open_copy(&b, REL, old, olen, why, sizeof(why)), HF_ECORRUPT);
	free(old);
	free(new);
	free(in);
	rcrypt_free(&a);
	rcrypt_free(&ba);
	rcrypt_free(&b);
}

TEST(rcrypt_key_file_checks)
{
	struct rcrypt k;

	test_write_file("k", KA);
	CHECK(chmod("k", 0640) == 0);
	CHECK_INT(rcrypt_load(&k, "k"), HF_EACCES);
	CHECK(test_log_has("k: the replica key file is open to others (mode 0640); chmod 600 it"));
	keyfile("k", "a1 0011\n");
	CHECK_INT(rcrypt_load(&k, "k"), HF_EINVAL);
	CHECK(test_log_has("k:1: the key must be 64 hex digits"));
	keyfile("k", KA "a1 zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
	CHECK_INT(rcrypt_load(&k, "k"), HF_EINVAL);
	CHECK(test_log_has("k:2: key id 'a1' is listed twice"));
	keyfile("k", "b2 zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
	CHECK_INT(rcrypt_load(&k, "k"), HF_EINVAL);
	keyfile("k", "# nothing\n\n");
	CHECK_INT(rcrypt_load(&k, "k"), HF_EINVAL);
	CHECK(test_log_has("k: no key in the replica key file"));
	keyfile("k", "bad/id 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
	CHECK_INT(rcrypt_load(&k, "k"), HF_EINVAL);
	CHECK(test_log_has("k:1: a key id is"));
	keyfile("k", KA " extra\n");
	CHECK_INT(rcrypt_load(&k, "k"), HF_EINVAL);
	CHECK_INT(rcrypt_load(&k, "missing"), HF_ENOENT);
	/* Another user's key file could be swapped for theirs: refused (as
	** root, a file given to nobody; as anyone else chown is not ours). */
	if (geteuid() == 0) {
		keyfile("k", KA);
		CHECK(chown("k", 65534, 65534) == 0);
		CHECK_INT(rcrypt_load(&k, "k"), HF_EACCES);
		CHECK(test_log_has("k: the replica key file must be owned by the user holdfast runs as"));
	}
}

TEST(rcrypt_keygen_makes_a_private_key_once)
{
	struct rcrypt k, k2;
	struct stat st;
	char first[200];

	CHECK_INT(rcrypt_keygen("new.key", "dev-2026"), HF_OK);
	CHECK(stat("new.key", &st) == 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	snprintf(first, sizeof(first), "%s", test_read_file("new.key"));
	CHECK_INT(rcrypt_load(&k, "new.key"), HF_OK);
	CHECK_STR(k.k[0].id, "dev-2026");
	/* Never over an existing key. */
	CHECK_INT(rcrypt_keygen("new.key", NULL), HF_EEXIST);
	CHECK_STR(test_read_file("new.key"), first);
	/* Another key is another key. */
	CHECK_INT(rcrypt_keygen("other.key", NULL), HF_OK);
	CHECK_INT(rcrypt_load(&k2, "other.key"), HF_OK);
	CHECK(memcmp(k.k[0].master, k2.k[0].master, 32) != 0);
	CHECK_INT(rcrypt_keygen("x.key", "no/slash"), HF_EINVAL);
	rcrypt_free(&k);
	rcrypt_free(&k2);
	/* rcrypt_free wipes the keys. */
	static const uint8_t zero[32];
	CHECK(!memcmp(k.k[0].master, zero, 32) && k.n == 0);
}
