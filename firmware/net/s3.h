/*
** firmware/net/: the network (the HTTP client on the port's TLS sockets,
** and this), on fmt/ and base/.
**
** s3.h: the S3 object API over httpc + sigv4: PutObject (from memory or
** streamed from a file, multipart above the part size, resumable),
** GetObject (streamed, resumed with a range after a cut), HeadObject,
** DeleteObject and ListObjectsV2 with paging. Path-style addressing
** (https://ENDPOINT/BUCKET/KEY), which every S3 implementation serves, or
** virtual-hosted (https://BUCKET.ENDPOINT/KEY). One kept-alive connection
** per client.
**
** Every request carries x-amz-content-sha256: the payload's SHA-256 is
** signed, so the server checks every byte it stores (or, configured so,
** UNSIGNED-PAYLOAD: TLS alone protects the bytes on the way, as AWS's SDKs
** do over HTTPS, for a third of the CPU); bodies up to 1 MiB also carry
** Content-MD5.
** Puts are create-only (If-None-Match: *) so that a retry never
** overwrites: a 412 is success only if the object there is ours byte for
** byte (its ETag is our MD5, or our multipart ETag).
**
** Errors: a non-2xx reply is logged once with its status, S3 error code,
** message and request id (never the credentials) and mapped to a class:
** 401/403 -> HF_EACCES and other 4xx -> HF_EINVAL (configuration: reported,
** not retried), 404 -> HF_ENOENT, and 429, 5xx (503 SlowDown), a body
** the server found damaged (BadDigest, XAmzContentSHA256Mismatch), cut
** (IncompleteBody) or too slow (RequestTimeout) and the network -> HF_EIO,
** retried here with capped exponential backoff and jitter up to `retries`
** times before it is returned.
*/
#ifndef HF_S3_H
#define HF_S3_H

#include <stdint.h>

#include "fmt/s3xml.h"
#include "net/httpc.h"

#define S3_PART_MIN (5u << 20)      /* S3's smallest part but the last */
#define S3_PART_DEFAULT (16u << 20)
#define S3_PARTS_MAX 10000u

struct s3_cfg {
	struct httpc_url endpoint; /* https://HOST[:PORT] */
	const char *bucket;
	const char *region;
	const char *access_key;
	const char *secret_key;
	const char *ca_file;       /* NULL: the system bundle */
	const char *pin;           /* NULL or "sha256//BASE64" of the server's key */
	bool virtual_host;         /* BUCKET.HOST instead of HOST/BUCKET */
	bool unsigned_payload;     /* UNSIGNED-PAYLOAD: bodies not hashed (TLS only) */
	unsigned timeout_ms;       /* every wait on the network */
	unsigned retries;          /* more tries of a retryable failure */
	uint64_t part_size;        /* multipart above this (0: S3_PART_DEFAULT) */
	uint64_t bandwidth;        /* bytes/s sent at most (0: no cap) */
};

/* Failed requests by class (each try counts), for the metrics. */
enum s3_fail { S3_FAIL_RETRY, S3_FAIL_ACCESS, S3_FAIL_CONFIG, S3_FAIL_TLS, S3_FAIL_CLASSES };

struct s3 {
	struct s3_cfg c;
	struct httpc http;
	unsigned retried;          /* tries that were retries */
	uint64_t failed[S3_FAIL_CLASSES];
};

/* Keeps C (its strings must outlive S). s3_close is due even on failure. */
int s3_open(struct s3 *s, const struct s3_cfg *c);
void s3_close(struct s3 *s);

/* Puts LEN bytes at DATA: one PutObject up to the part size, multipart
** above (not resumable: nothing outlives the call). */
int s3_put(struct s3 *s, const char *key, const void *data, size_t len);
/*
** Puts the file PATH: one PutObject up to the part size, multipart above.
** STATE (may be NULL) is where a multipart upload's id is kept: a later
** call with the same STATE, KEY and unchanged file resumes it, sending only
** the parts the server does not have. Removed when done.
*/
int s3_put_file(struct s3 *s, const char *key, const char *path, const char *state);
/* Streams the object to FN; a cut transfer is resumed where it stopped
** (Range, If-Match on its ETag), so FN sees each byte once. s3_get,
** s3_get_head and s3_head return HF_ENOENT for a missing key unsaid: the
** caller knows whether that is expected (a first shipment's owner) or not. */
int s3_get(struct s3 *s, const char *key, http_body_fn fn, void *arg);
/* As s3_get, the first LEN bytes only (Range); a server that ignores the
** range sends the whole object. */
int s3_get_head(struct s3 *s, const char *key, uint64_t len, http_body_fn fn, void *arg);
int s3_head(struct s3 *s, const char *key, uint64_t *size);
int s3_delete(struct s3 *s, const char *key);
/* Deletes every object under PREFIX: listed, then DeleteObjects, up to 1,000
** keys a request. *DELETED: how many. */
int s3_delete_prefix(struct s3 *s, const char *prefix, unsigned *deleted);
/* Every object under PREFIX, MAX_KEYS per request (0: the server's 1,000). */
int s3_list(struct s3 *s, const char *prefix, unsigned max_keys,
	    int (*fn)(void *arg, const struct s3_object *o), void *arg);
/* Aborts multipart upload ID of KEY (its parts are freed). */
int s3_abort(struct s3 *s, const char *key, const char *id);
/* Aborts the upload kept in the state file STATE (see s3_put_file) and
** removes the file. */
int s3_forget_upload(struct s3 *s, const char *state);

#endif /* HF_S3_H */
