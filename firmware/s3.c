/*
** s3.c: the S3 object API (see s3.h).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "port.h"
#include "s3.h"
#include "sigv4.h"
#include "units.h"

#define S3_ERROR_BODY_MAX (64 * 1024)
#define S3_LIST_BODY_MAX (4u << 20)

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

/* A failed reply: says what S3 said, and maps it to a retry class. */
static int reply_error(const char *method, const char *key, struct http_parser *p, struct httpc_buf *b,
		       char *code, size_t code_len)
{
	struct s3_error e;
	bool have = b->p && s3xml_error(b->p, b->len, &e) == HF_OK;

	snprintf(code, code_len, "%s", have ? e.code : "");
	/* Said by the caller, which corrects the clock and tries again. */
	if (have && !strcmp(e.code, "RequestTimeTooSkewed"))
		return HF_EACCES;

	port_log("s3: %s %s: HTTP %d%s%s%s%s%s%s", method, key, p->status, have ? " " : "",
		 have ? e.code : "", have && e.message[0] ? ": " : "", have ? e.message : "",
		 have && e.request_id[0] ? " (request id " : "",
		 have && e.request_id[0] ? e.request_id : "");
	if (p->status == 404)
		return HF_ENOENT;
	if (p->status == 429 || p->status >= 500)
		return HF_EIO;
	return p->status == 401 || p->status == 403 ? HF_EACCES : HF_EINVAL;
}

struct call {
	const char *method;
	const char *key;           /* object key or NULL (the bucket) */
	const char *query;         /* canonical-ready, or NULL */
	const void *body;
	size_t body_len;
	bool head;
	http_body_fn on_body;      /* 2xx bodies */
	void *arg;
	uint64_t max_body;
	bool create_only;          /* If-None-Match: *; a 412 is HF_EEXIST, unsaid */
};

static int call_once(const struct s3_cfg *c, const struct call *k, struct http_parser *p,
		     char *code, size_t code_len)
{
	char path[2048], raw[1536], date[17], sha[65], md5[25], host[300], hdrs[2048];
	uint8_t h[32];
	struct sigv4_cred cred = { c->access_key, c->secret_key, c->region, "s3" };
	struct sigv4_hdr sh[4];
	struct sigv4_req r = { 0 };
	struct sigv4_out o;
	struct httpc_url u = c->endpoint;
	struct httpc_buf err = { 0 };
	char proto[32];
	size_t nh = 0;
	int rc, n;

	amz_date(date);
	crypto_sha256(k->body ? k->body : "", k->body_len, h);
	crypto_hex(h, 32, sha);
	snprintf(raw, sizeof(raw), "/%s%s%s", c->bucket, k->key ? "/" : "", k->key ? k->key : "");
	pct_encode(raw, true, path, sizeof(path));
	if (c->endpoint.port == (c->endpoint.tls ? 443u : 80u))
		snprintf(host, sizeof(host), "%s", c->endpoint.host);
	else
		snprintf(host, sizeof(host), "%s:%u", c->endpoint.host, c->endpoint.port);
	sh[nh++] = (struct sigv4_hdr){ "host", host };
	sh[nh++] = (struct sigv4_hdr){ "x-amz-content-sha256", sha };
	sh[nh++] = (struct sigv4_hdr){ "x-amz-date", date };
	if (k->body) {
		crypto_md5_base64(k->body, k->body_len, md5);
		sh[nh++] = (struct sigv4_hdr){ "content-md5", md5 };
	}
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
	n = snprintf(hdrs, sizeof(hdrs),
		     "x-amz-content-sha256: %s\r\nx-amz-date: %s\r\n%s%s%s%sAuthorization: %s\r\n", sha,
		     date, k->body ? "Content-MD5: " : "", k->body ? md5 : "", k->body ? "\r\n" : "",
		     k->create_only ? "If-None-Match: *\r\n" : "", o.authorization);
	sigv4_out_free(&o);
	if (n < 0 || (size_t)n >= sizeof(hdrs))
		return HF_ETOOBIG;
	if ((size_t)snprintf(u.path, sizeof(u.path), "%s%s%s", path, k->query ? "?" : "",
			     k->query ? k->query : "") >= sizeof(u.path))
		return HF_ETOOBIG;
	/* The body is gathered, then handed on only on success; an error's is
	** read for its code and message. (Objects here are segments: small.) */
	http_parser_init(p, k->head, k->max_body ? k->max_body : S3_ERROR_BODY_MAX, httpc_gather, &err);
	rc = httpc_request(&u, k->method, hdrs, k->body, k->body_len, c->ca_file, c->timeout_ms, p,
			   proto, sizeof(proto));
	if (rc == HF_OK && k->create_only && p->status == 412)
		rc = HF_EEXIST;
	else if (rc == HF_OK && (p->status < 200 || p->status > 299))
		rc = reply_error(k->method, k->key ? k->key : c->bucket, p, &err, code, code_len);
	else if (rc == HF_OK && k->on_body && err.len && k->on_body(k->arg, (uint8_t *)err.p, err.len))
		rc = HF_EIO;
	free(err.p);
	return rc;
}

static int call(const struct s3_cfg *c, const struct call *k, struct http_parser *p)
{
	char code[64] = "";
	int rc = call_once(c, k, p, code, sizeof(code));
	int64_t server;

	if (rc != HF_EACCES || strcmp(code, "RequestTimeTooSkewed") != 0)
		return rc;
	if ((server = http_date_ms(http_header(p, "date"))) < 0) {
		port_log("s3: %s: our clock is too far off the server's, and it sent no usable Date",
			 c->endpoint.host);
		return rc;
	}
	skew_ms = server - port_clock_utc(NULL);
	port_log("s3: our clock is %lld s off the server's (RequestTimeTooSkewed); signing with "
		 "the server's time", (long long)(skew_ms / 1000));
	code[0] = '\0';
	rc = call_once(c, k, p, code, sizeof(code));
	if (rc == HF_EACCES && !strcmp(code, "RequestTimeTooSkewed"))
		port_log("s3: %s: still RequestTimeTooSkewed after correcting the clock",
			 c->endpoint.host);
	return rc;
}

int s3_put(const struct s3_cfg *c, const char *key, const void *data, size_t len)
{
	struct call k = { "PUT", key, NULL, data ? data : "", len, false, NULL, NULL, 0, true };
	struct call h = { "HEAD", key, NULL, NULL, 0, true, NULL, NULL, 0, false };
	struct http_parser p;
	char want[33], got[80];
	const char *etag;
	int rc = call(c, &k, &p);

	if (rc != HF_EEXIST)
		return rc;
	/* Written create-only, so a retry never overwrites: if it is there,
	** it is done only if it is ours, byte for byte (the ETag of a
	** single-part object is its MD5). */
	if ((rc = call(c, &h, &p)) != HF_OK)
		return rc;
	crypto_md5_hex(data ? data : "", len, want);
	etag = http_header(&p, "etag");
	snprintf(got, sizeof(got), "%s", etag ? etag + (etag[0] == '"') : "");
	if (got[0] && got[strlen(got) - 1] == '"')
		got[strlen(got) - 1] = '\0';
	if (!strcmp(got, want))
		return HF_OK;
	port_log("s3: PUT %s: a different object is already there (ETag %s, ours %s); not "
		 "overwritten", key, got[0] ? got : "none", want);
	return HF_EEXIST;
}

int s3_get(const struct s3_cfg *c, const char *key, http_body_fn fn, void *arg)
{
	struct call k = { "GET", key, NULL, NULL, 0, false, fn, arg, 1u << 30, false };
	struct http_parser p;

	return call(c, &k, &p);
}

int s3_head(const struct s3_cfg *c, const char *key, uint64_t *size)
{
	struct call k = { "HEAD", key, NULL, NULL, 0, true, NULL, NULL, 0, false };
	struct http_parser p;
	int rc = call(c, &k, &p);

	if (rc == HF_OK)
		*size = p.content_length >= 0 ? (uint64_t)p.content_length : 0;
	return rc;
}

int s3_delete(const struct s3_cfg *c, const char *key)
{
	struct call k = { "DELETE", key, NULL, NULL, 0, false, NULL, NULL, 0, false };
	struct http_parser p;

	return call(c, &k, &p);
}

int s3_list(const struct s3_cfg *c, const char *prefix, unsigned max_keys,
	    int (*fn)(void *arg, const struct s3_object *o), void *arg)
{
	char token[1024] = "", etoken[3200], eprefix[3200], query[7000];
	bool more = true;
	int rc = HF_OK;

	pct_encode(prefix ? prefix : "", false, eprefix, sizeof(eprefix));
	while (rc == HF_OK && more) {
		struct httpc_buf b = { 0 };
		struct call k = { "GET", NULL, query, NULL, 0, false, httpc_gather, &b, S3_LIST_BODY_MAX,
				  false };
		struct http_parser p;
		char max[32] = "";

		pct_encode(token, false, etoken, sizeof(etoken));
		if (max_keys)
			snprintf(max, sizeof(max), "&max-keys=%u", max_keys);
		/* In canonical order: SigV4 sorts them anyway. */
		snprintf(query, sizeof(query), "%s%s%slist-type=2%s&prefix=%s",
			 token[0] ? "continuation-token=" : "", token[0] ? etoken : "",
			 token[0] ? "&" : "", max, eprefix);
		rc = call(c, &k, &p);
		if (rc == HF_OK) {
			rc = s3xml_list(b.p ? b.p : "", b.len, fn, arg, &more, token, sizeof(token));
			if (rc == HF_EPROTO)
				port_log("s3: list %s: the reply is not a listing I can read", c->bucket);
		}
		free(b.p);
	}
	return rc;
}
