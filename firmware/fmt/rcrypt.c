/*
** rcrypt.c: the replica envelope (rcrypt.h).
**
** With [replica] key_file set, every segment, snapshot and manifest goes to
** the replica in this envelope (replica format 2; format 1 is the same
** files in plaintext, which still restore). All numbers big-endian.
**
**   offset  size  field
**        0     6  magic "HFENC\0"
**        6     1  envelope version: 1
**        7     1  AEAD: 1 = ChaCha20-Poly1305 (RFC 8439)
**        8    16  key id, NUL-padded: which key of the key file sealed it
**       24    32  salt
**       56     8  zero (reserved; authenticated, so a future use is seen)
**       64        chunks: the plaintext cut in 64 KiB pieces, the last
**                 one shorter (empty only for an empty file), each sealed
**                 and followed by its 16-byte tag.
**
** Chunk i is sealed under the file key with nonce = i as 11 bytes, then
** 1 if it is the last chunk else 0 (age's STREAM construction, from
** Hoang, Reyhanitabar, Rogaway and Vizar, "Online authenticated-encryption
** and its nonce-reuse misuse-resistance"): a file cut at a chunk boundary
** lacks a chunk marked last, and a chunk moved elsewhere has the wrong
** counter, so truncation and reordering fail to authenticate. Every
** chunk's associated data is the 64-byte header followed by the file's
** relative path in the replica ("DEVICE/GENERATION/seg/SEQ.zst"): the
** device, generation and seq are bound in, so a valid file copied over
** another name (an older seq, another generation) does not open.
**
** Keys: the key file's 32-byte master key M gives the file key
** HKDF-SHA-256(salt, M, "holdfast replica v1"). The salt is not random
** but HMAC-SHA-256 under HKDF(M, "holdfast replica v1 salt") of the path
** and the plaintext (a synthetic IV, as in SIV mode): writes to the replica
** are create-only and a retry after a lost reply, or a multipart upload
** resumed after a power cut, must send the very bytes sent before, which
** a random salt would not. Distinct plaintexts (or paths) still get
** distinct salts, so a file key and nonce are never used for two
** different messages; what leaks is only that two files at the same path
** are equal, and there is only ever one file at a path. The MAC is keyed,
** so the salt says nothing about the plaintext to whoever lacks the key.
**
** Key file: lines "KEYID HEX" (64 hex digits), '#' comments. The first
** key seals; all of them open, so a key is rotated by adding a new first
** line (files sealed before keep opening while their key stays listed).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "base/stream.h"
#include "fmt/rcrypt.h"
#include "port.h"

static const uint8_t magic[6] = { 'H', 'F', 'E', 'N', 'C', 0 };
#define RCRYPT_VERSION 1
#define RCRYPT_AEAD_CHACHAPOLY 1
#define INFO_FILE "holdfast replica v1"
#define INFO_SALT "holdfast replica v1 salt"

static bool id_is_valid(const char *id, size_t n)
{
	if (n == 0 || n > RCRYPT_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", id[i]) ||
		    !id[i])
			return false;
	return true;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void rcrypt_free(struct rcrypt *k)
{
	crypto_wipe(k->k, sizeof(k->k));
	k->n = 0;
}

/* One "KEYID HEX" line (NUL-terminated, no newline) into K's next key. */
static int parse_line(struct rcrypt *k, char *line, unsigned lineno)
{
	char *p = line, *id, *hex;
	size_t idn, hexn;
	struct rcrypt_key *key;

	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	if (!*p || *p == '#')
		return HF_OK;
	id = p;
	idn = strcspn(id, " \t");
	hex = id + idn;
	while (*hex == ' ' || *hex == '\t')
		hex++;
	hexn = strcspn(hex, " \t\r");
	if (hex[hexn + strspn(hex + hexn, " \t\r")]) {
		port_log("%s:%u: more than KEYID HEX on the line", k->path, lineno);
		return HF_EINVAL;
	}
	if (!id_is_valid(id, idn)) {
		port_log("%s:%u: a key id is 1 to %d letters, digits, '.', '_' or '-'", k->path,
			 lineno, RCRYPT_ID_MAX);
		return HF_EINVAL;
	}
	if (hexn != 64) {
		port_log("%s:%u: the key must be 64 hex digits (32 bytes), not %zu characters",
			 k->path, lineno, hexn);
		return HF_EINVAL;
	}
	for (size_t i = 0; i < k->n; i++)
		if (strlen(k->k[i].id) == idn && !memcmp(k->k[i].id, id, idn)) {
			port_log("%s:%u: key id '%s' is listed twice", k->path, lineno, k->k[i].id);
			return HF_EINVAL;
		}
	if (k->n == RCRYPT_KEYS_MAX) {
		port_log("%s:%u: more than %d keys", k->path, lineno, RCRYPT_KEYS_MAX);
		return HF_EINVAL;
	}
	key = &k->k[k->n];
	for (size_t i = 0; i < 32; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			port_log("%s:%u: the key must be 64 hex digits (32 bytes)", k->path, lineno);
			return HF_EINVAL;
		}
		key->master[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(key->id, id, idn);
	key->id[idn] = '\0';
	crypto_hkdf_sha256(NULL, 0, key->master, 32, INFO_SALT, key->salt_key, 32);
	k->n++;
	return HF_OK;
}

int rcrypt_load(struct rcrypt *k, const char *path)
{
	char *text, *line, *next;
	unsigned lineno = 0;
	size_t len;
	mode_t mode;
	bool mine;
	int rc;

	memset(k, 0, sizeof(*k));
	snprintf(k->path, sizeof(k->path), "%s", path);
	/* A key others can read is no secret, and one others own can be
	** swapped for theirs: refuse both, and say how to fix it. */
	if ((rc = port_fs_mode_owner(path, &mode, &mine)) != HF_OK)
		return rc;
	if (!mine) {
		port_log("%s: the replica key file must be owned by the user holdfast runs as", path);
		return HF_EACCES;
	}
	if (mode & 077) {
		port_log("%s: the replica key file is open to others (mode %04o); chmod 600 it", path,
			 (unsigned)mode);
		return HF_EACCES;
	}
	if ((rc = port_fs_read_file(path, 16 * 1024, &text, &len)) != HF_OK)
		return rc;
	for (line = text; rc == HF_OK && line; line = next) {
		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		rc = parse_line(k, line, ++lineno);
	}
	crypto_wipe(text, len);
	free(text);
	if (rc == HF_OK && !k->n) {
		port_log("%s: no key in the replica key file (lines KEYID HEX; holdfast replica "
			 "keygen makes one)", path);
		rc = HF_EINVAL;
	}
	if (rc != HF_OK)
		rcrypt_free(k);
	return rc;
}

int rcrypt_keygen(const char *path, const char *id)
{
	char line[RCRYPT_ID_MAX + 70], hex[65], defid[16];
	uint8_t key[32];
	enum port_fs_kind kind;
	int rc, n;

	if (!id) {
		snprintf(defid, sizeof(defid), "k%08x", port_random_u32());
		id = defid;
	}
	if (!id_is_valid(id, strlen(id))) {
		port_log("replica keygen: a key id is 1 to %d letters, digits, '.', '_' or '-'",
			 RCRYPT_ID_MAX);
		return HF_EINVAL;
	}
	if ((rc = port_fs_kind(path, &kind)) != HF_OK)
		return rc;
	if (kind != PORT_FS_NONE) {
		port_log("replica keygen: %s exists; not replaced (a lost key is a lost replica)",
			 path);
		return HF_EEXIST;
	}
	if ((rc = crypto_random(key, sizeof(key))) != HF_OK) {
		port_log("replica keygen: no random bytes from the platform");
		return rc;
	}
	crypto_hex(key, sizeof(key), hex);
	n = snprintf(line, sizeof(line), "%s %s\n", id, hex);
	/* Create-only (never over a key someone made meanwhile), durable. */
	rc = port_fs_publish(path, line, (size_t)n, 0600);
	crypto_wipe(key, sizeof(key));
	crypto_wipe(hex, sizeof(hex));
	crypto_wipe(line, sizeof(line));
	return rc;
}

bool rcrypt_is_sealed(const void *buf, size_t len)
{
	return len >= sizeof(magic) && !memcmp(buf, magic, sizeof(magic));
}

static uint64_t nchunks(uint64_t len)
{
	return len ? (len + RCRYPT_CHUNK - 1) / RCRYPT_CHUNK : 1;
}

uint64_t rcrypt_sealed_len(uint64_t len)
{
	return RCRYPT_HDR + len + nchunks(len) * RCRYPT_TAG;
}

static void nonce_of(uint64_t i, bool last, uint8_t nonce[12])
{
	memset(nonce, 0, 12);
	for (int b = 0; b < 8; b++)
		nonce[10 - b] = (uint8_t)(i >> (8 * b));
	nonce[11] = last;
}

/* The associated data of every chunk: the header, then REL. */
static int make_ad(const uint8_t *hdr, const char *rel, uint8_t *ad, size_t *ad_len)
{
	size_t n = strlen(rel);

	if (n > RCRYPT_REL_MAX)
		return HF_EINVAL;
	memcpy(ad, hdr, RCRYPT_HDR);
	memcpy(ad + RCRYPT_HDR, rel, n);
	*ad_len = RCRYPT_HDR + n;
	return HF_OK;
}

int rcrypt_seal(const struct rcrypt *k, const char *rel, const void *in, size_t len,
		uint8_t **out, size_t *out_len)
{
	const struct rcrypt_key *key = &k->k[0];
	uint8_t ad[RCRYPT_HDR + RCRYPT_REL_MAX], fkey[32], nonce[12], *o;
	uint64_t n = nchunks(len), total = rcrypt_sealed_len(len);
	size_t ad_len;
	int rc;

	if (!k->n || total > SIZE_MAX)
		return HF_EBUG;
	if (!(o = malloc((size_t)total)))
		return HF_ENOMEM;
	memset(o, 0, RCRYPT_HDR);
	memcpy(o, magic, sizeof(magic));
	o[6] = RCRYPT_VERSION;
	o[7] = RCRYPT_AEAD_CHACHAPOLY;
	memcpy(o + 8, key->id, strlen(key->id));
	if ((rc = crypto_hmac_sha256_2(key->salt_key, rel, strlen(rel) + 1, in, len, o + 24)) !=
		    HF_OK ||
	    (rc = make_ad(o, rel, ad, &ad_len)) != HF_OK) {
		free(o);
		return rc;
	}
	crypto_hkdf_sha256(o + 24, 32, key->master, 32, INFO_FILE, fkey, sizeof(fkey));
	for (uint64_t i = 0; i < n; i++) {
		size_t off = (size_t)i * RCRYPT_CHUNK, clen = len - off < RCRYPT_CHUNK ? len - off :
										  RCRYPT_CHUNK;
		uint8_t *c = o + RCRYPT_HDR + (size_t)i * (RCRYPT_CHUNK + RCRYPT_TAG);
		nonce_of(i, i + 1 == n, nonce);
		crypto_aead_seal(fkey, nonce, ad, ad_len, (const uint8_t *)in + off, clen, c,
				 c + clen);
	}
	crypto_wipe(fkey, sizeof(fkey));
	*out = o;
	*out_len = (size_t)total;
	return HF_OK;
}

/* Checks the header of BUF (LEN bytes at least RCRYPT_HDR) and derives the
** file key of the key it names into FKEY. */
static int open_header(const struct rcrypt *k, const uint8_t *buf, uint8_t fkey[32], char *why,
		       size_t why_len)
{
	char id[RCRYPT_ID_MAX + 1];
	static const uint8_t zero[8];

	if (!rcrypt_is_sealed(buf, RCRYPT_HDR)) {
		snprintf(why, why_len, "not an encrypted file (no HFENC header)");
		return HF_ECORRUPT;
	}
	if (buf[6] != RCRYPT_VERSION || buf[7] != RCRYPT_AEAD_CHACHAPOLY ||
	    memcmp(buf + 56, zero, 8) != 0) {
		snprintf(why, why_len, "envelope version %u, cipher %u: not known to this holdfast "
			 "(a newer one wrote it?)", buf[6], buf[7]);
		return HF_ECORRUPT;
	}
	memcpy(id, buf + 8, RCRYPT_ID_MAX);
	id[RCRYPT_ID_MAX] = '\0';
	for (size_t i = 0; i < k->n; i++) {
		if (strcmp(k->k[i].id, id) != 0)
			continue;
		crypto_hkdf_sha256(buf + 24, 32, k->k[i].master, 32, INFO_FILE, fkey, 32);
		return HF_OK;
	}
	/* The id is printed only if it is one a key file could hold. */
	snprintf(why, why_len, "sealed with key id '%s', which is not in %s (a key removed "
		 "from it, or another device's)", id_is_valid(id, strlen(id)) ? id : "?", k->path);
	return HF_ECORRUPT;
}

/* Opens chunks FIRST.. of N (the last is N-1) from BUF's body into BUF's
** start: the plaintext of chunk i goes to BUF + i * RCRYPT_CHUNK, at least
** RCRYPT_HDR bytes before its ciphertext, which crypto_aead_open allows. */
static int open_chunks(const uint8_t fkey[32], const uint8_t *ad, size_t ad_len, uint8_t *buf,
		       size_t body, uint64_t n, uint64_t upto, bool last_known, size_t *plain_len,
		       char *why, size_t why_len)
{
	size_t plain = 0;
	uint8_t nonce[12];

	for (uint64_t i = 0; i < upto; i++) {
		size_t off = (size_t)i * (RCRYPT_CHUNK + RCRYPT_TAG);
		size_t clen = body - off - RCRYPT_TAG < RCRYPT_CHUNK ? body - off - RCRYPT_TAG :
									RCRYPT_CHUNK;
		uint8_t *c = buf + RCRYPT_HDR + off;
		bool last = i + 1 == n;
		int rc;
		nonce_of(i, last, nonce);
		if (last_known) {
			rc = crypto_aead_open(fkey, nonce, ad, ad_len, c, clen, c + clen, buf + plain);
		} else {
			/* A head read of one full chunk, which may be the last:
			** both tries read the ciphertext, so neither writes over it. */
			uint8_t *tmp = malloc(clen);
			if (!tmp)
				return HF_ENOMEM;
			rc = crypto_aead_open(fkey, nonce, ad, ad_len, c, clen, c + clen, tmp);
			if (rc != HF_OK) {
				nonce_of(i, true, nonce);
				rc = crypto_aead_open(fkey, nonce, ad, ad_len, c, clen, c + clen, tmp);
			}
			if (rc == HF_OK)
				memcpy(buf + plain, tmp, clen);
			crypto_wipe(tmp, clen);
			free(tmp);
		}
		if (rc != HF_OK) {
			snprintf(why, why_len, "authentication failed at chunk %llu of %llu (damaged, "
				 "forged, cut short, or another file's bytes under this name)",
				 (unsigned long long)i + 1, (unsigned long long)n);
			return HF_ECORRUPT;
		}
		plain += clen;
	}
	*plain_len = plain;
	return HF_OK;
}

/* Whether BODY bytes after the header are whole chunks: room for the last
** chunk's tag, and no empty last chunk after full ones (the sealer never
** makes one); WHY says not. */
static bool whole_chunks(uint64_t body, char *why, size_t why_len)
{
	uint64_t full = RCRYPT_CHUNK + RCRYPT_TAG, n = body ? (body + full - 1) / full : 0;

	if (n == 0 || body - (n - 1) * full < RCRYPT_TAG ||
	    (n > 1 && body - (n - 1) * full == RCRYPT_TAG)) {
		snprintf(why, why_len, "cut short or extended: %llu bytes after the header is not "
			 "whole chunks", (unsigned long long)body);
		return false;
	}
	return true;
}

/* Both opens: UPTO_ONE opens the first chunk only; WHOLE says BUF is the
** whole file. */
static int open_any(const struct rcrypt *k, const char *rel, uint8_t *buf, size_t len,
		    bool whole, bool upto_one, size_t *plain_len, char *why, size_t why_len)
{
	uint8_t ad[RCRYPT_HDR + RCRYPT_REL_MAX], fkey[32];
	size_t ad_len, body, full = RCRYPT_CHUNK + RCRYPT_TAG;
	uint64_t n;
	int rc;

	if (len < RCRYPT_HDR) {
		snprintf(why, why_len, "cut short in its envelope header (%zu bytes)", len);
		return HF_ECORRUPT;
	}
	if ((rc = open_header(k, buf, fkey, why, why_len)) != HF_OK)
		return rc;
	if (make_ad(buf, rel, ad, &ad_len) != HF_OK) {
		crypto_wipe(fkey, sizeof(fkey));
		snprintf(why, why_len, "name too long");
		return HF_EINVAL;
	}
	body = len - RCRYPT_HDR;
	n = body ? (body + full - 1) / full : 0;
	if (!whole && body >= full) {
		/* A head: the first chunk is whole, and it may or may not be
		** the last (open_chunks tries both). */
		rc = open_chunks(fkey, ad, ad_len, buf, full, 2, 1, false, plain_len, why, why_len);
	} else if (!whole_chunks(body, why, why_len)) {
		rc = HF_ECORRUPT;
	} else {
		rc = open_chunks(fkey, ad, ad_len, buf, body, n, upto_one ? 1 : n, true, plain_len,
				 why, why_len);
	}
	crypto_wipe(fkey, sizeof(fkey));
	return rc;
}

int rcrypt_open(const struct rcrypt *k, const char *rel, uint8_t *buf, size_t len,
		size_t *plain_len, char *why, size_t why_len)
{
	return open_any(k, rel, buf, len, true, false, plain_len, why, why_len);
}

int rcrypt_open_head(const struct rcrypt *k, const char *rel, uint8_t *buf, size_t len,
		     size_t *plain_len, char *why, size_t why_len)
{
	return open_any(k, rel, buf, len, len < RCRYPT_HEAD_LEN, true, plain_len, why, why_len);
}

struct rcrypt_stream {
	struct stream out;         /* the plaintext */
	struct stream *in;         /* the sealed file */
	uint8_t fkey[32];
	uint8_t ad[RCRYPT_HDR + RCRYPT_REL_MAX];
	size_t ad_len;
	uint64_t i, n, body;       /* the next chunk, how many, sealed bytes after the header */
	uint8_t chunk[RCRYPT_CHUNK + RCRYPT_TAG]; /* one chunk, opened in place */
	size_t have, off;          /* its plaintext bytes, and those given out */
};

static int fill_chunk(struct stream *s, uint8_t *buf, size_t len, size_t *got, char *why,
		      size_t why_len)
{
	struct rcrypt_stream *rs = s->ctx;
	uint64_t full = RCRYPT_CHUNK + RCRYPT_TAG;
	uint8_t nonce[12];
	int rc;

	if (rs->off == rs->have) {
		size_t clen;
		if (rs->i == rs->n) {
			*got = 0;
			return HF_OK;
		}
		clen = rs->i + 1 < rs->n ? RCRYPT_CHUNK :
					   (size_t)(rs->body - (rs->n - 1) * full - RCRYPT_TAG);
		if ((rc = stream_read(rs->in, rs->chunk, clen + RCRYPT_TAG, why, why_len)) != HF_OK)
			return rc;
		nonce_of(rs->i, rs->i + 1 == rs->n, nonce);
		/* Nothing of the chunk is given out before its tag verifies. */
		if (crypto_aead_open(rs->fkey, nonce, rs->ad, rs->ad_len, rs->chunk, clen,
				     rs->chunk + clen, rs->chunk) != HF_OK) {
			snprintf(why, why_len, "authentication failed at chunk %llu of %llu (damaged, "
				 "forged, cut short, or another file's bytes under this name)",
				 (unsigned long long)rs->i + 1, (unsigned long long)rs->n);
			return HF_ECORRUPT;
		}
		rs->i++;
		rs->have = clen;
		rs->off = 0;
	}
	*got = len < rs->have - rs->off ? len : rs->have - rs->off;
	memcpy(buf, rs->chunk + rs->off, *got);
	rs->off += *got;
	return HF_OK;
}

int rcrypt_stream_open(struct rcrypt_stream **out, const struct rcrypt *k, const char *rel,
		       struct stream *in, struct stream **plain, char *why, size_t why_len)
{
	struct rcrypt_stream *rs;
	uint64_t full = RCRYPT_CHUNK + RCRYPT_TAG;
	uint8_t hdr[RCRYPT_HDR];
	int rc;

	if (!(*out = rs = calloc(1, sizeof(*rs)))) {
		snprintf(why, why_len, "out of memory");
		return HF_ENOMEM;
	}
	rs->in = in;
	if (in->size - in->pos < RCRYPT_HDR) {
		snprintf(why, why_len, "cut short in its envelope header (%llu bytes)",
			 (unsigned long long)(in->size - in->pos));
		return HF_ECORRUPT;
	}
	if ((rc = stream_read(in, hdr, RCRYPT_HDR, why, why_len)) != HF_OK ||
	    (rc = open_header(k, hdr, rs->fkey, why, why_len)) != HF_OK)
		return rc;
	if (make_ad(hdr, rel, rs->ad, &rs->ad_len) != HF_OK) {
		snprintf(why, why_len, "name too long");
		return HF_EINVAL;
	}
	rs->body = in->size - in->pos;
	if (!whole_chunks(rs->body, why, why_len))
		return HF_ECORRUPT;
	rs->n = (rs->body + full - 1) / full;
	memset(&rs->out, 0, sizeof(rs->out));
	rs->out.fill = fill_chunk;
	rs->out.size = rs->body - rs->n * RCRYPT_TAG;
	rs->out.fd = -1;
	rs->out.ctx = rs;
	*plain = &rs->out;
	/* The first chunk opened now: an empty file (one empty chunk) must be
	** authenticated too, though nobody reads a byte of it. */
	{
		uint8_t none;
		size_t got;
		return fill_chunk(&rs->out, &none, 0, &got, why, why_len);
	}
}

void rcrypt_stream_close(struct rcrypt_stream *rs)
{
	if (rs) {
		crypto_wipe(rs, sizeof(*rs));
		free(rs);
	}
}
