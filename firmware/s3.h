/*
** s3.h: the S3 object API over httpc + sigv4: PutObject, GetObject,
** HeadObject, DeleteObject and ListObjectsV2 with paging. Path-style
** addressing (https://ENDPOINT/BUCKET/KEY), which every S3 implementation
** serves. Every request carries x-amz-content-sha256 (the payload's hash is
** signed); PutObject also Content-MD5, so the server checks what it stored,
** and If-None-Match: * so that a retry never overwrites: a 412 is success
** only if the object there is ours byte for byte (its ETag is our MD5).
**
** Errors: a non-2xx reply is logged once with its status, S3 error code,
** message and request id (never the credentials) and mapped: 403 and other
** 4xx -> HF_EACCES / HF_EINVAL (configuration: do not retry), 404 ->
** HF_ENOENT, 429, 5xx and the network -> HF_EIO (retry later).
*/
#ifndef HF_S3_H
#define HF_S3_H

#include <stdint.h>

#include "httpc.h"
#include "s3xml.h"

struct s3_cfg {
	struct httpc_url endpoint; /* https://HOST[:PORT] */
	const char *bucket;
	const char *region;
	const char *access_key;
	const char *secret_key;
	const char *ca_file;       /* NULL: the system bundle */
	unsigned timeout_ms;
};

int s3_put(const struct s3_cfg *c, const char *key, const void *data, size_t len);
/* Streams the object to FN. */
int s3_get(const struct s3_cfg *c, const char *key, http_body_fn fn, void *arg);
int s3_head(const struct s3_cfg *c, const char *key, uint64_t *size);
int s3_delete(const struct s3_cfg *c, const char *key);
/* Every object under PREFIX, MAX_KEYS per request (0: the server's 1,000). */
int s3_list(const struct s3_cfg *c, const char *prefix, unsigned max_keys,
	    int (*fn)(void *arg, const struct s3_object *o), void *arg);

#endif /* HF_S3_H */
