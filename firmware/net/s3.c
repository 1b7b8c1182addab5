/*
** s3.c: the S3 object API (see s3.h).
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "base/units.h"
#include "fmt/sigv4.h"
#include "net/s3.h"
#include "port.h"

#define S3_ERROR_BODY_MAX (64 * 1024)
#define S3_LIST_BODY_MAX (4u << 20)
#define S3_BACKOFF_FIRST_MS 250u
#define S3_BACKOFF_MAX_MS 8000u
#define S3_MD5_MAX (1u << 20)

/* SHA-256 of the empty payload, which every body-less request signs. */
static const char empty_sha[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/* Server time minus ours, learnt from a RequestTimeTooSkewed reply: boards
** without an RTC boot with a wrong clock, and S3 refuses requests signed more
** than 15 minutes off. The server is authenticated by TLS, so its Date is
** believed. */
static int64_t skew_ms;

/* An HTTP Date ("Sun, 29 Nov 2026 19:00:00 GMT") in ms, or -1. */
static int64_t http_date_ms(const char *v)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char mon[4];
	int d, y, hh, mm, ss;
	const char *m;

	if (!v || sscanf(v, "%*3s, %d %3s %d %d:%d:%d", &d, mon, &y, &hh, &mm, &ss) != 6 ||
	    !(m = strstr(months, mon)) || (m - months) % 3 || d < 1 || d > 31 || y < 1970)
		return -1;
	return ((units_days_from_civil(y, (unsigned)((m - months) / 3 + 1), (unsigned)d) * 24 + hh) * 60 +
		mm) * 60000LL + ss * 1000LL;
}

/* SigV4's time: the wall clock (corrected by what a server told us), as
** YYYYMMDDTHHMMSSZ. */
static void amz_date(char out[17])
{
	units_format_utc(port_clock_utc(NULL) + skew_ms, true, out, 17);
}

/* Percent-encodes S for a request line, exactly as SigV4 signs it: object
** keys keep '/', query values do not. */
static void pct_encode(const char *s, bool keep_slash, char *out, size_t cap)
{
	sigv4_uri_encode(s, strlen(s), keep_slash, out, cap);
}

/* An ETag without its quotes. */
static void etag_of(const char *v, char *out, size_t cap)
{
	size_t n;

	snprintf(out, cap, "%s", v ? v + (v[0] == '"') : "");
	n = strlen(out);
	if (n && out[n - 1] == '"')
		out[n - 1] = '\0';
}

/* The hashes a body is sent with: x-amz-content-sha256 (its SHA-256, which
** the server checks, or UNSIGNED-PAYLOAD) and Content-MD5 for bodies up to
** S3_MD5_MAX (segments, manifests). A larger body's MD5 would only repeat
** the check of its signed SHA-256, at 40% more CPU per upload. */
struct sums {
	char sha[65];
	char md5[25];              /* base64, or "" */
};

static void sums_of(const struct s3 *s, const void *data, size_t len, struct sums *out)
{
	uint8_t h[32];

	if (s->c.unsigned_payload) {
		snprintf(out->sha, sizeof(out->sha), "UNSIGNED-PAYLOAD");
	} else {
		crypto_sha256(data, len, h);
		crypto_hex(h, 32, out->sha);
	}
	out->md5[0] = '\0';
	if (len <= S3_MD5_MAX) {
		crypto_md5(data, len, h);
		crypto_base64(h, 16, out->md5, sizeof(out->md5));
	}
}

/* Reads LEN bytes at OFF of FD into BUF. */
static int load(int fd, uint64_t off, size_t len, uint8_t *buf)
{
	size_t got;
	int rc = port_fs_pread(fd, buf, len, off, &got);

	if (rc == HF_OK && got != len) {
		port_log("s3: the file to send shrank while reading it");
		rc = HF_EIO;
	}
	return rc;
}

/* A failed reply: says what S3 said, and maps it to a retry class. */
static int reply_error(const char *method, const char *what, const struct http_parser *p,
		       const struct httpc_buf *b, bool quiet_404, char *code, size_t code_len)
{
	struct s3_error e;
	bool have = b->p && s3xml_error(b->p, b->len, &e) == HF_OK;

	snprintf(code, code_len, "%s", have ? e.code : "");
	/* Said by the caller, which corrects the clock and tries again. */
	if (have && !strcmp(e.code, "RequestTimeTooSkewed"))
		return HF_EACCES;
	/* A missing key is the caller's to say (or expect); a missing bucket
	** is a configuration error, said here like the others. */
	if (!(quiet_404 && p->status == 404 && (!have || !strcmp(e.code, "NoSuchKey"))))
		port_log("s3: %s %s: HTTP %d%s%s%s%s%s%s%s", method, what, p->status, have ? " " : "",
			 have ? e.code : "", have && e.message[0] ? ": " : "",
			 have ? e.message : "", have && e.request_id[0] ? " (request id " : "",
			 have && e.request_id[0] ? e.request_id : "", have && e.request_id[0] ? ")" : "");
	if (p->status == 404)
		return HF_ENOENT;
	/* A body damaged or cut on the way (the server's check of our hashes
	** failed), or one too slow for the server: sent again, like the
	** network's failures. */
	if (p->status == 429 || p->status >= 500 ||
	    (have && (!strcmp(e.code, "BadDigest") || !strcmp(e.code, "XAmzContentSHA256Mismatch") ||
		      !strcmp(e.code, "IncompleteBody") || !strcmp(e.code, "RequestTimeout"))))
		return HF_EIO;
	return p->status == 401 || p->status == 403 ? HF_EACCES : HF_EINVAL;
}

struct call {
	const char *method;
	const char *key;           /* object key or NULL (the bucket) */
	const char *query;         /* canonical-ready, or NULL */
	const struct httpc_body *body;
	const struct sums *sums;   /* of the body */
	bool head;
	http_body_fn on_body;      /* 2xx bodies */
	void *arg;
	uint64_t max_body;
	bool create_only;          /* If-None-Match: *; a 412 is HF_EEXIST, unsaid */
	bool quiet_404;            /* a missing object is the caller's to say */
	uint64_t range_len;        /* GET: the first this many bytes (0: all) */
};

/* Hands a 2xx body on and gathers an error's; skips what a resumed GET
** answered with the whole object (200, not 206) had already delivered. */
struct sink {
	const struct http_parser *p;
	const struct call *k;
	struct httpc_buf err;
	uint64_t skip;             /* of a 200 reply */
	uint64_t delivered;
};

static int sink_body(void *arg, const uint8_t *d, size_t n)
{
	struct sink *s = arg;

	if (s->p->status < 200 || s->p->status > 299)
		return s->err.len + n > S3_ERROR_BODY_MAX ? 0 : httpc_gather(&s->err, d, n);
	if (s->skip && s->p->status == 200) {
		size_t k = n < s->skip ? n : (size_t)s->skip;
		d += k;
		n -= k;
		s->skip -= k;
	}
	if (!n || !s->k->on_body)
		return 0;
	s->delivered += n;
	return s->k->on_body(s->k->arg, d, n);
}

/* One request. FROM > 0: a GET resumed at byte FROM of the object whose
** ETag is ETAG. */
static int call_once(struct s3 *s, const struct call *k, struct http_parser *p, struct sink *sk,
		     uint64_t from, const char *etag, char *code, size_t code_len)
{
	char path[2048], raw[1536], date[17], host[300], hdrs[3072], target[2048 + 1100];
	struct sigv4_cred cred = { s->c.access_key, s->c.secret_key, s->c.region, "s3" };
	const char *sha = k->body ? k->sums->sha : empty_sha;
	const char *md5 = k->body && k->sums->md5[0] ? k->sums->md5 : NULL;
	struct sigv4_hdr sh[4];
	struct sigv4_req r = { 0 };
	struct sigv4_out o;
	char range[128] = "";
	size_t nh = 0;
	int rc, n;

	amz_date(date);
	if (s->c.virtual_host)
		snprintf(raw, sizeof(raw), "/%s", k->key ? k->key : "");
	else
		snprintf(raw, sizeof(raw), "/%s%s%s", s->c.bucket, k->key ? "/" : "",
			 k->key ? k->key : "");
	pct_encode(raw, true, path, sizeof(path));
	httpc_host_header(&s->http.server, host, sizeof(host));
	sh[nh++] = (struct sigv4_hdr){ "host", host };
	sh[nh++] = (struct sigv4_hdr){ "x-amz-content-sha256", sha };
	sh[nh++] = (struct sigv4_hdr){ "x-amz-date", date };
	if (k->body && k->sums->md5[0])
		sh[nh++] = (struct sigv4_hdr){ "content-md5", k->sums->md5 };
	r.method = k->method;
	r.path = raw;
	r.query = k->query;
	r.hdrs = sh;
	r.nhdrs = nh;
	r.payload = sha;
	r.amz_date = date;
	r.s3 = true;
	if ((rc = sigv4_sign(&cred, &r, &o)) != HF_OK)
		return rc;
	if (from || k->range_len) {
		char last[24] = "";
		if (k->range_len)
			snprintf(last, sizeof(last), "%" PRIu64, k->range_len - 1);
		snprintf(range, sizeof(range), "Range: bytes=%" PRIu64 "-%s\r\n%s%s%s", from, last,
			 from ? "If-Match: \"" : "", from ? etag : "", from ? "\"\r\n" : "");
	}
	n = snprintf(hdrs, sizeof(hdrs),
		     "x-amz-content-sha256: %s\r\nx-amz-date: %s\r\n%s%s%s%s%sAuthorization: %s\r\n",
		     sha, date, md5 ? "Content-MD5: " : "", md5 ? md5 : "", md5 ? "\r\n" : "",
		     k->create_only ? "If-None-Match: *\r\n" : "", range,
		     o.authorization);
	sigv4_out_free(&o);
	if (n < 0 || (size_t)n >= sizeof(hdrs))
		return HF_ETOOBIG;
	if ((size_t)snprintf(target, sizeof(target), "%s%s%s", path, k->query ? "?" : "",
			     k->query ? k->query : "") >= sizeof(target))
		return HF_ETOOBIG;
	free(sk->err.p);
	sk->err = (struct httpc_buf){ 0 };
	http_parser_init(p, k->head, k->max_body ? k->max_body : S3_ERROR_BODY_MAX, sink_body, sk);
	rc = httpc_send(&s->http, k->method, target, hdrs, k->body, p);
	if (rc == HF_OK && k->create_only && p->status == 412)
		return HF_EEXIST;
	if (rc == HF_OK && (p->status < 200 || p->status > 299))
		return reply_error(k->method, k->key ? k->key : s->c.bucket, p, &sk->err, k->quiet_404,
				   code, code_len);
	if (rc == HF_OK && from && p->status == 200)
		port_log("s3: GET %s: the server ignored the range; skipping what we have", k->key);
	return rc;
}

/* Sleeps before try ATTEMPT + 1: capped exponential backoff, half of it
** random (so a fleet that lost its link together does not retry together),
** or the server's Retry-After when it says one within the cap. */
static void backoff(struct s3 *s, const struct call *k, const struct http_parser *p, unsigned attempt)
{
	unsigned ms = S3_BACKOFF_FIRST_MS << (attempt < 5 ? attempt : 5);
	const char *ra = p->state == HTTP_DONE ? http_header(p, "retry-after") : NULL;

	if (ms > S3_BACKOFF_MAX_MS)
		ms = S3_BACKOFF_MAX_MS;
	ms = ms / 2 + port_random_u32() % (ms / 2 + 1);
	if (ra && ra[0] >= '0' && ra[0] <= '9' && strtoul(ra, NULL, 10) * 1000 <= S3_BACKOFF_MAX_MS)
		ms = (unsigned)strtoul(ra, NULL, 10) * 1000;
	port_log("s3: %s %s: trying again in %u ms (%u of %u)", k->method,
		 k->key ? k->key : s->c.bucket, ms, attempt + 1, s->c.retries);
	s->retried++;
	port_poll(NULL, 0, (int)ms);
}

static int call(struct s3 *s, const struct call *k, struct http_parser *p)
{
	struct sink sk = { p, k, { 0 }, 0, 0 };
	char code[64], etag[80] = "";
	bool skew_fixed = false;
	unsigned attempt = 0;
	int rc;

	for (;;) {
		uint64_t from = sk.delivered;
		code[0] = '\0';
		sk.skip = from;
		rc = call_once(s, k, p, &sk, from, etag, code, sizeof(code));
		if (rc == HF_EIO)
			s->failed[S3_FAIL_RETRY]++;
		else if (rc == HF_EACCES)
			s->failed[S3_FAIL_ACCESS]++;
		else if (rc == HF_EINVAL)
			s->failed[S3_FAIL_CONFIG]++;
		else if (rc == HF_ETLS)
			s->failed[S3_FAIL_TLS]++;
		if (!etag[0] && p->status >= 200 && p->status <= 299)
			etag_of(http_header(p, "etag"), etag, sizeof(etag));
		if (rc == HF_EACCES && !strcmp(code, "RequestTimeTooSkewed") && !skew_fixed) {
			int64_t server = http_date_ms(http_header(p, "date"));
			if (server < 0) {
				port_log("s3: %s: our clock is too far off the server's, and it sent "
					 "no usable Date", s->c.endpoint.host);
				break;
			}
			skew_ms = server - port_clock_utc(NULL);
			port_log("s3: our clock is %lld s off the server's (RequestTimeTooSkewed); "
				 "signing with the server's time", (long long)(skew_ms / 1000));
			skew_fixed = true;
			continue;
		}
		if (rc == HF_EACCES && !strcmp(code, "RequestTimeTooSkewed"))
			port_log("s3: %s: still RequestTimeTooSkewed after correcting the clock",
				 s->c.endpoint.host);
		/* A body already handed on can only be resumed by its ETag. */
		if (rc != HF_EIO || attempt >= s->c.retries || (sk.delivered && !etag[0]))
			break;
		backoff(s, k, p, attempt++);
	}
	free(sk.err.p);
	return rc;
}

/* After a 412 on a create-only put: done if the object there is ours
** (ETag WANT), else HF_EEXIST and nothing is overwritten. */
static int same_object(struct s3 *s, const char *key, const char *want)
{
	struct call h = { "HEAD", key, NULL, NULL, NULL, true, NULL, NULL, 0, false, false, 0 };
	struct http_parser p;
	char got[80];
	int rc;

	if ((rc = call(s, &h, &p)) != HF_OK)
		return rc;
	etag_of(http_header(&p, "etag"), got, sizeof(got));
	if (!strcmp(got, want))
		return HF_OK;
	port_log("s3: PUT %s: a different object is already there (ETag %s, ours %s); not "
		 "overwritten", key, got[0] ? got : "none", want);
	return HF_EEXIST;
}

/* Puts LEN bytes at DATA: create-only, so a retry never overwrites. */
static int put_one(struct s3 *s, const char *key, const void *data, size_t len)
{
	struct httpc_body b = { data, len };
	struct sums sums;
	struct call k = { "PUT", key, NULL, &b, &sums, false, NULL, NULL, 0, true, false, 0 };
	struct http_parser p;
	uint8_t md5[16];
	char hex[33];
	int rc;

	sums_of(s, data, len, &sums);
	if ((rc = call(s, &k, &p)) != HF_EEXIST)
		return rc;
	/* If it is there, it is done only if it is ours, byte for byte (the
	** ETag of a single-part object is its MD5). */
	crypto_md5(data, len, md5);
	crypto_hex(md5, 16, hex);
	return same_object(s, key, hex);
}

int s3_open(struct s3 *s, const struct s3_cfg *c)
{
	struct httpc_url server = c->endpoint;
	int rc;

	memset(s, 0, sizeof(*s));
	s->c = *c;
	if (!s->c.part_size)
		s->c.part_size = S3_PART_DEFAULT;
	if (s->c.virtual_host &&
	    (size_t)snprintf(server.host, sizeof(server.host), "%s.%s", c->bucket, c->endpoint.host) >=
		    sizeof(server.host)) {
		port_log("s3: bucket %s: the virtual host name is too long", c->bucket);
		return HF_EINVAL;
	}
	rc = httpc_open(&s->http, &server, c->ca_file, c->pin, c->timeout_ms);
	s->http.rate = c->bandwidth;
	return rc;
}

void s3_close(struct s3 *s)
{
	httpc_close(&s->http);
}


/* ---- multipart ------------------------------------------------------------------- */

struct upload {
	const char *key;
	const char *state;         /* NULL: not kept */
	char id[512];
	const uint8_t *mem;        /* the object in memory, or NULL: */
	int fd;                    /* read from this file, */
	uint8_t *buf;              /* a part at a time into this */
	uint64_t size, part;
	int64_t mtime;
	unsigned nparts;
	char (*etag)[80];          /* per part, "" if the server has none yet */
};

static void state_text(const struct upload *u, char *out, size_t cap)
{
	snprintf(out, cap, "holdfast-upload 1\nkey %s\nsize %" PRIu64 "\npart %" PRIu64
		 "\nmtime %" PRId64 "\nid %s\n", u->key, u->size, u->part, u->mtime, u->id);
}

/* The upload id kept in U's state file, if it is for this very file. */
static void state_load(struct upload *u)
{
	char *text, want[2048];
	size_t len, wl;

	u->id[0] = '\0';
	if (!u->state || port_fs_read_file(u->state, 4096, &text, &len) != HF_OK)
		return;
	state_text(u, want, sizeof(want));
	wl = strlen(want) - 1; /* up to "id " and the empty id's newline */
	if (len > wl && !memcmp(text, want, wl) && text[len - 1] == '\n' && len - wl - 1 < sizeof(u->id)) {
		memcpy(u->id, text + wl, len - wl - 1);
		u->id[len - wl - 1] = '\0';
	}
	free(text);
}

static int part_seen(void *arg, const struct s3_part *p)
{
	struct upload *u = arg;

	if (p->number >= 1 && p->number <= u->nparts) {
		uint64_t want = p->number < u->nparts ? u->part : u->size - u->part * (u->nparts - 1);
		if (p->size == want)
			etag_of(p->etag, u->etag[p->number - 1], sizeof(u->etag[0]));
	}
	return 0;
}

/* QUERY = BEFORE "uploadId=" and upload ID, encoded as SigV4 signs it. */
static void upload_query(const char *id, const char *before, char *query, size_t cap)
{
	char eid[1600];

	pct_encode(id, false, eid, sizeof(eid));
	snprintf(query, cap, "%suploadId=%s", before, eid);
}

/* The parts the server already has of upload U->id (HF_ENOENT: the upload
** is gone, aborted or expired). */
static int list_parts(struct s3 *s, struct upload *u)
{
	char query[1800];
	unsigned marker = 0;
	bool more = true;
	int rc = HF_OK;

	while (rc == HF_OK && more) {
		struct httpc_buf b = { 0 };
		struct call k = { "GET", u->key, query, NULL, NULL, false, httpc_gather, &b,
				  S3_LIST_BODY_MAX, false, true, 0 };
		struct http_parser p;
		char m[40] = "";
		if (marker)
			snprintf(m, sizeof(m), "part-number-marker=%u&", marker);
		upload_query(u->id, m, query, sizeof(query));
		if ((rc = call(s, &k, &p)) == HF_OK &&
		    (rc = s3xml_parts(b.p ? b.p : "", b.len, part_seen, u, &more, &marker)) == HF_EPROTO)
			port_log("s3: list parts of %s: the reply is not a listing I can read", u->key);
		free(b.p);
	}
	return rc;
}

static int create_upload(struct s3 *s, struct upload *u)
{
	struct httpc_buf b = { 0 };
	struct httpc_body none = { "", 0 };
	struct sums sums;
	struct call k = { "POST", u->key, "uploads=", &none, &sums, false, httpc_gather, &b,
			  S3_ERROR_BODY_MAX, false, false, 0 };
	struct http_parser p;
	char text[2048];
	int rc;

	sums_of(s, "", 0, &sums);
	if ((rc = call(s, &k, &p)) == HF_OK &&
	    (rc = s3xml_upload_id(b.p ? b.p : "", b.len, u->id, sizeof(u->id))) != HF_OK)
		port_log("s3: start multipart upload of %s: no UploadId in the reply", u->key);
	free(b.p);
	if (rc == HF_OK && u->state) {
		state_text(u, text, sizeof(text));
		rc = port_fs_replace(u->state, text, strlen(text), 0600);
	}
	return rc;
}

/* Part I (from 0) of U's object: *LEN bytes at *DATA (read into U->buf
** from a file). */
static int part_data(struct upload *u, unsigned i, const uint8_t **data, size_t *len)
{
	uint64_t off = (uint64_t)i * u->part;
	int rc;

	*len = (size_t)(i + 1 < u->nparts ? u->part : u->size - off);
	if (u->mem) {
		*data = u->mem + off;
		return HF_OK;
	}
	if ((rc = load(u->fd, off, *len, u->buf)) == HF_OK)
		*data = u->buf;
	return rc;
}

static int part_md5(struct upload *u, unsigned i, uint8_t md5[16])
{
	const uint8_t *data;
	size_t len;
	int rc = part_data(u, i, &data, &len);

	if (rc == HF_OK)
		crypto_md5(data, len, md5);
	return rc;
}

static int upload_part(struct s3 *s, struct upload *u, unsigned i)
{
	struct httpc_body b = { NULL, 0 };
	struct sums sums;
	struct call k = { "PUT", u->key, NULL, &b, &sums, false, NULL, NULL, 0, false, false, 0 };
	struct http_parser p;
	char query[1700], part[32];
	const uint8_t *data;
	size_t len;
	int rc;

	if ((rc = part_data(u, i, &data, &len)) != HF_OK)
		return rc;
	b.mem = data;
	b.len = len;
	sums_of(s, data, len, &sums);
	snprintf(part, sizeof(part), "partNumber=%u&", i + 1);
	upload_query(u->id, part, query, sizeof(query));
	k.query = query;
	if ((rc = call(s, &k, &p)) != HF_OK)
		return rc;
	etag_of(http_header(&p, "etag"), u->etag[i], sizeof(u->etag[0]));
	if (!u->etag[i][0]) {
		port_log("s3: part %u of %s: the reply has no ETag", i + 1, u->key);
		return HF_EPROTO;
	}
	return HF_OK;
}

/* S3's ETag of the whole: the MD5 of the parts' MD5s, and their count.
** Only needed when the object turns out to be there already. */
static int multipart_etag(struct upload *u, char out[48])
{
	uint8_t *all = malloc((size_t)u->nparts * 16), md5[16];
	int rc = all ? HF_OK : HF_ENOMEM;

	for (unsigned i = 0; i < u->nparts && rc == HF_OK; i++)
		rc = part_md5(u, i, all + (size_t)i * 16);
	if (rc == HF_OK) {
		crypto_md5(all, (size_t)u->nparts * 16, md5);
		crypto_hex(md5, 16, out);
		snprintf(out + 32, 16, "-%u", u->nparts);
	}
	free(all);
	return rc;
}

static int complete_upload(struct s3 *s, struct upload *u)
{
	size_t cap = 128 + (size_t)u->nparts * 160, n;
	char *xml = malloc(cap), query[1700], want[48];
	struct httpc_buf b = { 0 };
	struct httpc_body body = { xml, 0 };
	struct sums sums;
	struct call k = { "POST", u->key, query, &body, &sums, false, httpc_gather, &b,
			  S3_ERROR_BODY_MAX, true, false, 0 };
	struct http_parser p;
	struct s3_error e;
	int rc;

	if (!xml)
		return HF_ENOMEM;
	n = (size_t)snprintf(xml, cap, "<CompleteMultipartUpload>");
	for (unsigned i = 0; i < u->nparts; i++)
		n += (size_t)snprintf(xml + n, cap - n,
				      "<Part><PartNumber>%u</PartNumber><ETag>\"%s\"</ETag></Part>", i + 1,
				      u->etag[i]);
	n += (size_t)snprintf(xml + n, cap - n, "</CompleteMultipartUpload>");
	body.len = n;
	sums_of(s, xml, n, &sums);
	upload_query(u->id, "", query, sizeof(query));
	rc = call(s, &k, &p);
	/* S3 may answer 200 and then an error in the body. */
	if (rc == HF_OK && b.p && s3xml_error(b.p, b.len, &e) == HF_OK) {
		port_log("s3: complete multipart upload of %s: %s: %s", u->key, e.code, e.message);
		rc = HF_EIO;
	} else if (rc == HF_OK && (!b.p || !strstr(b.p, "CompleteMultipartUploadResult"))) {
		port_log("s3: complete multipart upload of %s: the reply is not a result", u->key);
		rc = HF_EPROTO;
	}
	free(b.p);
	free(xml);
	if (rc == HF_EEXIST || rc == HF_ENOENT) {
		/* Already there (a 412), or the upload is gone because an
		** earlier try completed it and its reply was lost: done only if
		** the object there is ours. */
		if ((rc = multipart_etag(u, want)) == HF_OK)
			rc = same_object(s, u->key, want);
	}
	return rc;
}

int s3_abort(struct s3 *s, const char *key, const char *id)
{
	struct call k = { "DELETE", key, NULL, NULL, NULL, false, NULL, NULL, 0, false, true, 0 };
	struct http_parser p;
	char query[1700];
	int rc;

	upload_query(id, "", query, sizeof(query));
	k.query = query;
	rc = call(s, &k, &p);
	return rc == HF_ENOENT ? HF_OK : rc;
}

int s3_forget_upload(struct s3 *s, const char *state)
{
	char *text, *key, *id, *e;
	size_t len;
	int rc;

	if ((rc = port_fs_read_file(state, 4096, &text, &len)) != HF_OK)
		return rc;
	/* state_text's lines: "key K", "id I". */
	key = strstr(text, "\nkey ");
	id = strstr(text, "\nid ");
	rc = HF_OK;
	if (key && id) {
		key += 5;
		id += 4;
		if ((e = strchr(key, '\n')))
			*e = '\0';
		if ((e = strchr(id, '\n')))
			*e = '\0';
		if ((rc = s3_abort(s, key, id)) == HF_OK)
			port_log("s3: aborted the multipart upload of %s: its file is gone", key);
	}
	free(text);
	return rc == HF_OK ? port_fs_unlink(state) : rc;
}

static int put_multipart(struct s3 *s, struct upload *u)
{
	unsigned sent = 0, kept = 0;
	int rc;

	u->etag = calloc(u->nparts, sizeof(*u->etag));
	if (!u->etag || (!u->mem && !(u->buf = malloc((size_t)u->part)))) {
		rc = HF_ENOMEM;
		goto out;
	}
	state_load(u);
	if (u->id[0] && (rc = list_parts(s, u)) != HF_OK) {
		/* The network, TLS or credentials: try later. Anything else
		** (the upload expired or was aborted, a server without
		** ListParts): send everything again under a new upload. */
		if (rc == HF_EIO || rc == HF_ETLS || rc == HF_EACCES)
			goto out;
		port_log("s3: cannot resume the multipart upload of %s (%s); starting again", u->key,
			 rc == HF_ENOENT ? "it is gone" : "its parts cannot be listed");
		if (rc != HF_ENOENT)
			s3_abort(s, u->key, u->id);
		memset(u->etag, 0, (size_t)u->nparts * sizeof(*u->etag));
		u->id[0] = '\0';
	}
	if (!u->id[0] && (rc = create_upload(s, u)) != HF_OK)
		goto out;
	for (unsigned i = 0; i < u->nparts; i++) {
		/* A part the server has is kept only if it is ours (ETag = MD5). */
		if (u->etag[i][0]) {
			uint8_t md5[16];
			char hex[33];
			if ((rc = part_md5(u, i, md5)) != HF_OK)
				goto out;
			crypto_hex(md5, 16, hex);
			if (!strcmp(u->etag[i], hex)) {
				kept++;
				continue;
			}
		}
		if ((rc = upload_part(s, u, i)) != HF_OK)
			goto out;
		sent++;
	}
	if ((rc = complete_upload(s, u)) == HF_OK && u->state)
		port_fs_unlink(u->state);
	else if (rc != HF_OK && !u->state && u->id[0])
		s3_abort(s, u->key, u->id); /* nothing would resume it: free its parts */
	if (kept)
		port_log("s3: %s: resumed a multipart upload: %u parts were there, %u sent", u->key,
			 kept, sent);
out:
	free(u->etag);
	free(u->buf);
	return rc;
}

/* U's object (size set; the file or memory): one PutObject up to the part
** size, multipart above, in parts of at least the part size and at most
** S3_PARTS_MAX of them. A file is read a part at a time, once: hashed and
** sent from memory. */
static int put_object(struct s3 *s, struct upload *u)
{
	if (u->size <= s->c.part_size) {
		uint8_t *buf = NULL;
		int rc = HF_OK;
		if (!u->mem && !(buf = malloc(u->size ? (size_t)u->size : 1)))
			return HF_ENOMEM;
		if (!u->mem)
			rc = load(u->fd, 0, (size_t)u->size, buf);
		if (rc == HF_OK)
			rc = put_one(s, u->key, u->mem ? u->mem : buf, (size_t)u->size);
		free(buf);
		return rc;
	}
	u->part = s->c.part_size;
	if ((u->size + u->part - 1) / u->part > S3_PARTS_MAX)
		u->part = ((u->size + S3_PARTS_MAX - 1) / S3_PARTS_MAX + (1u << 20) - 1) &
			  ~(uint64_t)((1u << 20) - 1);
	u->nparts = (unsigned)((u->size + u->part - 1) / u->part);
	return put_multipart(s, u);
}

int s3_put(struct s3 *s, const char *key, const void *data, size_t len)
{
	struct upload u = { key, NULL, "", data ? data : (const uint8_t *)"", -1, NULL, len, 0, 0, 0,
			    NULL };

	return put_object(s, &u);
}

int s3_put_file(struct s3 *s, const char *key, const char *path, const char *state)
{
	struct upload u = { key, state, "", NULL, -1, NULL, 0, 0, 0, 0, NULL };
	uint64_t size;
	int rc;

	if ((rc = port_fs_open_read(path, &u.fd, &u.size)) != HF_OK)
		return rc;
	if ((rc = port_fs_stamp(path, &size, &u.mtime)) == HF_OK)
		rc = put_object(s, &u);
	port_close(u.fd);
	return rc;
}

/* ---- reading ---------------------------------------------------------------------- */

int s3_get(struct s3 *s, const char *key, http_body_fn fn, void *arg)
{
	struct call k = { "GET", key, NULL, NULL, NULL, false, fn, arg, UINT64_MAX, false, true, 0 };
	struct http_parser p;

	return call(s, &k, &p);
}

int s3_get_head(struct s3 *s, const char *key, uint64_t len, http_body_fn fn, void *arg)
{
	struct call k = { "GET", key, NULL, NULL, NULL, false, fn, arg, UINT64_MAX, false, true, len };
	struct http_parser p;

	return len ? call(s, &k, &p) : HF_EINVAL;
}

int s3_head(struct s3 *s, const char *key, uint64_t *size)
{
	struct call k = { "HEAD", key, NULL, NULL, NULL, true, NULL, NULL, 0, false, true, 0 };
	struct http_parser p;
	int rc = call(s, &k, &p);

	if (rc == HF_OK)
		*size = p.content_length >= 0 ? (uint64_t)p.content_length : 0;
	return rc;
}

int s3_delete(struct s3 *s, const char *key)
{
	struct call k = { "DELETE", key, NULL, NULL, NULL, false, NULL, NULL, 0, false, false, 0 };
	struct http_parser p;

	return call(s, &k, &p);
}

#define S3_DELETE_BATCH 1000u

/* Keys gathered for DeleteObjects, as its XML body. */
struct batch {
	struct httpc_buf xml;
	unsigned n;
	int rc;
};

/* Appends S to B with XML's five special characters escaped. */
static int xml_escaped(struct httpc_buf *b, const char *s)
{
	for (; *s; s++) {
		const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" :
				*s == '"' ? "&quot;" : *s == '\'' ? "&apos;" : NULL;
		if (httpc_gather(b, (const uint8_t *)(e ? e : s), e ? strlen(e) : 1))
			return HF_ENOMEM;
	}
	return HF_OK;
}

static int flush_batch(struct s3 *s, struct batch *bt)
{
	static const char tail[] = "</Delete>";
	struct httpc_buf r = { 0 };
	struct httpc_body body;
	struct sums sums;
	struct call k = { "POST", NULL, "delete=", &body, &sums, false, httpc_gather, &r,
			  S3_LIST_BODY_MAX, false, false, 0 };
	struct http_parser p;
	char key[1024], code[64];
	unsigned failed;
	int rc;

	if (!bt->n)
		return HF_OK;
	if (httpc_gather(&bt->xml, (const uint8_t *)tail, sizeof(tail) - 1))
		return HF_ENOMEM;
	body = (struct httpc_body){ bt->xml.p, bt->xml.len };
	/* DeleteObjects requires Content-MD5: the batch is kept under 1 MiB. */
	sums_of(s, bt->xml.p, bt->xml.len, &sums);
	if ((rc = call(s, &k, &p)) == HF_OK) {
		if (s3xml_delete_result(r.p ? r.p : "", r.len, &failed, key, sizeof(key), code,
					sizeof(code)) != HF_OK) {
			port_log("s3: delete: the reply is not a DeleteResult");
			rc = HF_EPROTO;
		} else if (failed) {
			port_log("s3: delete: %u of %u keys not deleted (%s: %s)", failed, bt->n, key, code);
			rc = HF_EIO;
		}
	}
	free(r.p);
	free(bt->xml.p);
	*bt = (struct batch){ { 0 }, 0, HF_OK };
	return rc;
}

struct deleter {
	struct s3 *s;
	struct batch bt;
	unsigned *deleted;
};

static int delete_listed(void *arg, const struct s3_object *o)
{
	static const char head[] = "<Delete><Quiet>true</Quiet>";
	struct deleter *d = arg;
	struct batch *bt = &d->bt;

	if (!bt->n && httpc_gather(&bt->xml, (const uint8_t *)head, sizeof(head) - 1))
		return HF_ENOMEM;
	if (httpc_gather(&bt->xml, (const uint8_t *)"<Object><Key>", 13) ||
	    xml_escaped(&bt->xml, o->key) != HF_OK ||
	    httpc_gather(&bt->xml, (const uint8_t *)"</Key></Object>", 15))
		return HF_ENOMEM;
	bt->n++;
	if (bt->n == S3_DELETE_BATCH || bt->xml.len > S3_MD5_MAX - 8192) {
		unsigned n = bt->n;
		if ((bt->rc = flush_batch(d->s, bt)) != HF_OK)
			return bt->rc;
		*d->deleted += n;
	}
	return 0;
}

int s3_delete_prefix(struct s3 *s, const char *prefix, unsigned *deleted)
{
	struct deleter d = { s, { { 0 }, 0, HF_OK }, deleted };
	unsigned n;
	int rc;

	*deleted = 0;
	/* Deleting while listing: S3 listings are consistent enough for that
	** (the continuation token is past the deleted keys). */
	rc = s3_list(s, prefix, 0, delete_listed, &d);
	if (rc != HF_OK) {
		free(d.bt.xml.p);
		return d.bt.rc != HF_OK ? d.bt.rc : rc;
	}
	n = d.bt.n;
	if ((rc = flush_batch(s, &d.bt)) == HF_OK)
		*deleted += n;
	return rc;
}

int s3_list(struct s3 *s, const char *prefix, unsigned max_keys,
	    int (*fn)(void *arg, const struct s3_object *o), void *arg)
{
	char token[1024] = "", etoken[3200], eprefix[3200], query[7000];
	bool more = true;
	int rc = HF_OK;

	pct_encode(prefix ? prefix : "", false, eprefix, sizeof(eprefix));
	while (rc == HF_OK && more) {
		struct httpc_buf b = { 0 };
		struct call k = { "GET", NULL, query, NULL, NULL, false, httpc_gather, &b,
				  S3_LIST_BODY_MAX, false, false, 0 };
		struct http_parser p;
		char max[32] = "";

		pct_encode(token, false, etoken, sizeof(etoken));
		if (max_keys)
			snprintf(max, sizeof(max), "&max-keys=%u", max_keys);
		/* In canonical order: SigV4 sorts them anyway. */
		snprintf(query, sizeof(query), "%s%s%slist-type=2%s&prefix=%s",
			 token[0] ? "continuation-token=" : "", token[0] ? etoken : "",
			 token[0] ? "&" : "", max, eprefix);
		rc = call(s, &k, &p);
		if (rc == HF_OK) {
			rc = s3xml_list(b.p ? b.p : "", b.len, fn, arg, &more, token, sizeof(token));
			if (rc == HF_EPROTO)
				port_log("s3: list %s: the reply is not a listing I can read", s->c.bucket);
		}
		free(b.p);
	}
	return rc;
}
