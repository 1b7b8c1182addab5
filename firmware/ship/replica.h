/*
** replica.h: where shipped files go, behind one interface: a directory
** (file:///DIR: a USB stick, a NAS mount) or an S3 bucket (s3://BUCKET/PREFIX).
** Paths are relative to the replica's root ("DEVICE/GEN/seg/SEQ.zst").
**
** S3 settings: [replica] endpoint, region, ca_file, pin, addressing,
** retries, part_size in holdfast.conf (or, for restore elsewhere,
** $HOLDFAST_S3_ENDPOINT, $HOLDFAST_S3_REGION, $HOLDFAST_S3_PIN), credentials
** from $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY or the 0600 file named
** by [replica] credentials_file ("access_key = ..." and "secret_key = ...").
** Never from the command line, never logged.
**
** With [replica] key_file, segments, snapshots and manifests are written
** in an authenticated, encrypted envelope (rcrypt.c) bound to their path,
** and read back only if they open under one of its keys: a file that does
** not authenticate is refused (HF_ECORRUPT, logged with its name), and
** so is a plaintext one (HF_EACCES) unless allow_plain admits it (old
** replicas). With no key an encrypted file is refused (HF_EACCES). Other
** files (DEVICE/owner) stay plaintext.
*/
#ifndef HF_REPLICA_H
#define HF_REPLICA_H

#include <stdbool.h>
#include <stddef.h>

#include "base/names.h"
#include "base/stream.h"
#include "fmt/cfg.h"
#include "net/s3.h"

struct rcrypt;

/* The largest replica file (a snapshot of a 1 GiB database at worst): what
** replica_write_file reads whole, and the most replica_file_open takes. */
#define REPLICA_FILE_MAX (1024u * 1024 * 1024)

struct replica {
	bool s3;
	char root[1024];           /* file: the directory */
	char url[1100];            /* for messages */
	struct s3_cfg c;           /* s3 */
	struct s3 *s3c;            /* its client: one kept-alive connection */
	char bucket[256], prefix[512], region[64], ca[1024], pin[64];
	char access_key[256], secret_key[256];
	struct rcrypt *key;        /* [replica] key_file's keys, or NULL */
	bool allow_plain;          /* with a key, plaintext files are read too */
};

/* Opens the replica URL (file:///DIR, a plain /DIR, or s3://BUCKET[/PREFIX]);
** CFG (may be NULL) gives the S3 settings the environment does not. */
int replica_open(const char *url, const struct cfg *cfg, struct replica *r);

/* Closes its connection and wipes the credentials. Due after replica_open,
** whatever it returned. */
void replica_close(struct replica *r);

/* A directory replica that is there and writable; an S3 replica: configured
** (whether it answers shows when it is used). */
bool replica_reachable(const struct replica *r);

/* Whether the replica is reached over a network (S3 not on loopback): then
** it is out of reach while no route leaves this machine. */
bool replica_needs_network(const struct replica *r);

/* What the replica's client has done since it was opened (S3; zeros for a
** directory). */
struct replica_stats {
	uint64_t requests, sent, received;
	uint64_t failed_retry, failed_access, failed_config, failed_tls;
};
void replica_stats(const struct replica *r, struct replica_stats *st);

/* Writes REL whole and durably, create-only (file: port_fs_publish; S3:
** PutObject with If-None-Match: * and Content-MD5): HF_OK if REL already
** holds these very bytes, HF_EEXIST if it holds others (left as they are). */
int replica_write(const struct replica *r, const char *rel, const void *buf, size_t len);

/* Removes REL (S3: DeleteObject; a directory: unlink, the directory
** fsynced). HF_OK if it is gone, or was never there. */
int replica_remove(const struct replica *r, const char *rel);

/* Writes REL from the file FROM: as replica_write; to S3, streamed from the
** file, multipart above the part size and resumed after a cut (its upload
** id kept in FROM.upload). */
int replica_write_file(const struct replica *r, const char *rel, const char *from);

/* Whether replica_write_file of LEN bytes would go up in parts that a later
** call resumes (S3, above the part size). */
bool replica_resumable(const struct replica *r, uint64_t len);

/* Forgets the upload kept in STATE (a FROM.upload whose FROM is gone):
** aborts it at the server, removes STATE. */
void replica_forget_upload(const struct replica *r, const char *state);

/* Reads REL whole, at most CAP bytes (HF_ETOOBIG past it, nothing read):
** small files (a manifest, DEVICE/owner); segments and snapshots are
** streamed (replica_file_open). HF_ENOENT if it is not there. In a
** directory replica REL is opened below the root without following a
** symbolic link, and only a regular file is read (never a FIFO that would
** block): a replica is input from outside. */
int replica_read_max(const struct replica *r, const char *rel, size_t cap, char **buf,
		     size_t *len);

/*
** REL opened to be read as a stream (restore: files of any size in bounded
** memory): read F->s, of F->s->size bytes, its plaintext. A directory
** replica's file is read in place (opened as replica_read_max opens it); an S3
** object is first fetched into TMP (a path beside restore's output: the
** same disk), which is unlinked as soon as it is open and refused past
** REPLICA_FILE_MAX or the free space there. An envelope is opened one chunk
** at a time, each released only once it authenticates (rcrypt_stream_open);
** a plaintext file is taken or refused as replica_read_max does. Errors about
** the file are logged naming it; HF_ENOENT if it is not there.
** replica_file_close is due whatever replica_file_open returned.
*/
struct rcrypt_stream;
struct replica_file {
	struct stream raw;         /* the file as stored */
	struct stream *s;          /* its plaintext */
	struct rcrypt_stream *env; /* its envelope, if sealed */
	int fd;
};
int replica_file_open(const struct replica *r, const char *rel, const char *tmp,
		      struct replica_file *f);
void replica_file_close(struct replica_file *f);

/* Reads the first CAP bytes of REL (fewer if it is shorter): a file's
** header without fetching the rest. */
int replica_read_head(const struct replica *r, const char *rel, size_t cap, char **buf,
		      size_t *len);

/* The size of REL; HF_ENOENT if it is not there. */
int replica_size(const struct replica *r, const char *rel, uint64_t *size);

/* The names directly below REL_DIR ("" for the root), sorted, filtered as
** names_list. HF_ENOENT if there is no such directory (S3: no key below):
** the only answer that means "nothing there". Any other error (a 5xx after
** the retries, the network, a file where the directory should be) is a
** failure the caller must not take for an empty listing. */
int replica_list(const struct replica *r, const char *rel_dir, size_t want_len,
		 const char *suffix, struct names *out);

#endif /* HF_REPLICA_H */
