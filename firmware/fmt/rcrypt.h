/*
** rcrypt.h: the replica envelope: authenticated encryption of the files a
** replica holds (segments, snapshots, manifests), so that whoever can
** write the replica (a USB stick passed around, a shared bucket) can
** neither read the job log's history nor feed a restore a forged one.
** The format is described at the top of rcrypt.c. Pure: bytes in, bytes
** out, keys from a file; the replica layer (replica.c) decides which
** files go in an envelope.
*/
#ifndef HF_RCRYPT_H
#define HF_RCRYPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RCRYPT_HDR 64                 /* the header, before the first chunk */
#define RCRYPT_CHUNK 65536            /* plaintext bytes per chunk (the last: fewer) */
#define RCRYPT_TAG 16                 /* the Poly1305 tag after each chunk */
#define RCRYPT_KEYS_MAX 16            /* keys in one key file */
#define RCRYPT_ID_MAX 16              /* a key id: 1 to 16 of [A-Za-z0-9._-] */
#define RCRYPT_REL_MAX 900            /* the longest relative path bound */

/* The bytes replica_read_head needs to open the first chunk of a file. */
#define RCRYPT_HEAD_LEN (RCRYPT_HDR + RCRYPT_CHUNK + RCRYPT_TAG)

struct rcrypt_key {
	char id[RCRYPT_ID_MAX + 1];
	uint8_t master[32];           /* from the key file */
	uint8_t salt_key[32];         /* HKDF(master, "... salt"): names each file's key */
};

/* A key file's keys: the first seals, every one opens. */
struct rcrypt {
	size_t n;
	struct rcrypt_key k[RCRYPT_KEYS_MAX];
	char path[1024];              /* for messages */
};

/* Loads key file PATH ("KEYID HEX" lines, 64 hex digits: 32 bytes; '#'
** comments): it must be ours and no one else's to read (mode 0600 or
** stricter). Errors are logged naming the file and the line: HF_EACCES
** (mode, owner), HF_EINVAL (a bad line, a duplicate id, no key), or the
** read's. K is left wiped on failure. */
int rcrypt_load(struct rcrypt *k, const char *path);

/* Wipes K's keys. Idempotent. */
void rcrypt_free(struct rcrypt *k);

/* Creates key file PATH with one fresh random key named ID (NULL: an id
** made of the date and random digits), mode 0600, atomically; refuses
** (HF_EEXIST, logged) if PATH exists. */
int rcrypt_keygen(const char *path, const char *id);

/* Whether BUF (LEN bytes, a whole file or its start) begins with the
** envelope's magic: an encrypted file. */
bool rcrypt_is_sealed(const void *buf, size_t len);

/* The size of the envelope of LEN plaintext bytes. */
uint64_t rcrypt_sealed_len(uint64_t len);

/* Seals LEN bytes at IN, which the replica holds at REL ("DEV/GEN/seg/
** SEQ.zst": bound into every chunk), under K's first key into *OUT
** (malloc'd, *OUT_LEN bytes). The same bytes at the same REL give the same
** envelope (see rcrypt.c: a retried create-only write is a no-op). */
int rcrypt_seal(const struct rcrypt *k, const char *rel, const void *in, size_t len,
		uint8_t **out, size_t *out_len);

/* Opens the envelope of REL in BUF (LEN bytes, the whole file) in place:
** on HF_OK the plaintext is BUF's first *PLAIN_LEN bytes. HF_ECORRUPT with
** WHY saying what failed (bad header, unknown key id, truncated, a chunk
** that does not authenticate); BUF's content is then undefined. */
int rcrypt_open(const struct rcrypt *k, const char *rel, uint8_t *buf, size_t len,
		size_t *plain_len, char *why, size_t why_len);

/* As rcrypt_open for the start of a file: BUF holds its first LEN bytes
** (all of it if LEN < RCRYPT_HEAD_LEN), and only the first chunk is opened
** and checked. */
int rcrypt_open_head(const struct rcrypt *k, const char *rel, uint8_t *buf, size_t len,
		     size_t *plain_len, char *why, size_t why_len);

/*
** The envelope of a file opened as it is read, for files too big to hold:
** IN (the sealed file as stored, IN->size its length) is read one chunk at
** a time, and each chunk's plaintext is released (RS->s, of RS->s.size
** bytes) only after its tag verifies. The chunk count comes from the
** file's length, so a file cut short (even at a chunk boundary) ends in a
** chunk not marked last: its tag fails. Memory: one chunk. Errors as
** rcrypt_open's (WHY set); rcrypt_stream_close is due whatever
** rcrypt_stream_open returned.
*/
struct stream;
struct rcrypt_stream;
int rcrypt_stream_open(struct rcrypt_stream **rs, const struct rcrypt *k, const char *rel,
		       struct stream *in, struct stream **plain, char *why, size_t why_len);
void rcrypt_stream_close(struct rcrypt_stream *rs);

#endif /* HF_RCRYPT_H */
