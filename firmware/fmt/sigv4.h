/*
** sigv4.h: AWS Signature Version 4 (header authorisation), as S3 and any
** AWS-style service checks it.
**
** The steps (AWS "Create a signed AWS API request"):
**   canonical request  METHOD \n URI \n QUERY \n HEADERS \n \n SIGNED \n PAYLOAD
**   string to sign     AWS4-HMAC-SHA256 \n DATE \n SCOPE \n hex(SHA-256(creq))
**   signing key        HMAC chain of "AWS4"+secret, date, region, service,
**                      "aws4_request"
**   signature          hex(HMAC(key, string to sign))
** Paths come raw (not percent-encoded) and each segment is encoded once. S3
** takes the path exactly as given (no normalisation: "a//b/../c" is a key);
** other services get dot segments and repeated slashes removed first. Query
** parameters may come encoded or not: each is decoded and encoded again, then
** sorted. Header names are lower-cased, values trimmed with inner runs of
** spaces (and folded lines) made one space, repeated headers joined by ','.
** Every header given is signed.
*/
#ifndef HF_SIGV4_H
#define HF_SIGV4_H

#include <stdbool.h>
#include <stddef.h>

struct sigv4_cred {
	const char *access_key;
	const char *secret_key;
	const char *region;
	const char *service;       /* "s3" */
};

struct sigv4_hdr {
	const char *name;
	const char *value;
};

struct sigv4_req {
	const char *method;
	const char *path;          /* raw, starting with '/' */
	const char *query;         /* without '?'; NULL or "" for none */
	const struct sigv4_hdr *hdrs;
	size_t nhdrs;
	const char *payload;       /* hex SHA-256 of the body, UNSIGNED-PAYLOAD, or
				    * STREAMING-AWS4-HMAC-SHA256-PAYLOAD */
	const char *amz_date;      /* YYYYMMDDTHHMMSSZ, also sent as X-Amz-Date */
	bool s3;                   /* S3 path rules */
};

struct sigv4_out {
	char *creq;                /* heap: the canonical request */
	char sts[256];             /* the string to sign */
	char signed_headers[512];
	char signature[65];
	char authorization[1024];  /* the Authorization header's value */
};

/* RFC 3986 encoding as SigV4 signs it (all but A-Z a-z 0-9 - _ . ~, and '/'
** too unless KEEP_SLASH; upper-case hex) of N bytes of S into OUT[CAP],
** stopping before a character that would not fit; returns the length. The
** S3 client encodes request lines with it, so what is sent is what is signed. */
size_t sigv4_uri_encode(const char *s, size_t n, bool keep_slash, char *out, size_t cap);

/* Signs R with C into O (free O->creq with sigv4_out_free). HF_EINVAL for a
** malformed date or path, HF_ETOOBIG past the fixed buffers. */
int sigv4_sign(const struct sigv4_cred *c, const struct sigv4_req *r, struct sigv4_out *o);
void sigv4_out_free(struct sigv4_out *o);

/* The signature of one chunk of an aws-chunked upload (Content-Encoding:
** aws-chunked), chained from PREV (the seed signature, then each chunk's). */
int sigv4_chunk_signature(const struct sigv4_cred *c, const char *amz_date, const char *prev,
			  const void *chunk, size_t len, char out[65]);

#endif /* HF_SIGV4_H */
