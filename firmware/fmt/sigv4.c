/*
** sigv4.c: AWS Signature Version 4 (see sigv4.h). Checked byte for byte
** against the AWS test suite and the S3 documentation's examples
** (tests/unit/test_sigv4.c, ../shared/testdata/sigv4).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "fmt/sigv4.h"
#include "port.h"

#define ALGORITHM "AWS4-HMAC-SHA256"

/* ---- a growable string ---------------------------------------------------- */

struct sb {
	char *s;
	size_t len, cap;
	bool oom;
};

static void sb_add(struct sb *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;
		while (cap < b->len + n + 1)
			cap *= 2;
		if (!(p = realloc(b->s, cap))) {
			b->oom = true;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_str(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* ---- encoding --------------------------------------------------------------- */

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

size_t sigv4_uri_encode(const char *s, size_t n, bool keep_slash, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t w = 0;

	for (size_t i = 0; i < n && w + 4 <= cap; i++) {
		unsigned char c = (unsigned char)s[i];
		if (unreserved(c) || (keep_slash && c == '/')) {
			out[w++] = (char)c;
		} else {
			out[w++] = '%';
			out[w++] = hex[c >> 4];
			out[w++] = hex[c & 15];
		}
	}
	if (cap)
		out[w] = '\0';
	return w;
}

static void encode(struct sb *b, const char *s, size_t n, bool keep_slash)
{
	char *e = malloc(3 * n + 1);

	if (!e) {
		b->oom = true;
		return;
	}
	sb_add(b, e, sigv4_uri_encode(s, n, keep_slash, e, 3 * n + 1));
	free(e);
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decodes N bytes of S into B (a malformed escape stays as it is). */
static void decode(struct sb *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int h, l;
		if (s[i] == '%' && i + 2 < n && (h = hexval(s[i + 1])) >= 0 &&
		    (l = hexval(s[i + 2])) >= 0) {
			char c = (char)(h << 4 | l);
			sb_add(b, &c, 1);
			i += 2;
		} else {
			sb_add(b, s + i, 1);
		}
	}
}

/* ---- the canonical request ---------------------------------------------------- */

static void canonical_path(struct sb *b, const char *path, bool s3)
{
	const char *segs[256];
	size_t lens[256], n = 0;
	const char *p = path;

	if (s3) {
		encode(b, path, strlen(path), true);
		return;
	}
	/* Other services: dot segments and empty segments go (RFC 3986 5.2.4). */
	while (*p) {
		const char *e;
		while (*p == '/')
			p++;
		if (!*p)
			break;
		e = strchr(p, '/');
		if (!e)
			e = p + strlen(p);
		if (e - p == 1 && p[0] == '.') {
			/* nothing */
		} else if (e - p == 2 && p[0] == '.' && p[1] == '.') {
			if (n)
				n--;
		} else if (n < sizeof(segs) / sizeof(segs[0])) {
			segs[n] = p;
			lens[n++] = (size_t)(e - p);
		}
		p = e;
	}
	for (size_t i = 0; i < n; i++) {
		sb_add(b, "/", 1);
		encode(b, segs[i], lens[i], false);
	}
	/* A trailing slash stays, unless the path ended in a dot segment. */
	size_t l = strlen(path);
	if (!n || (l && path[l - 1] == '/'))
		sb_add(b, "/", 1);
}

struct param {
	char *k, *v;
};

static int cmp_param(const void *a, const void *b)
{
	const struct param *x = a, *y = b;
	int c = strcmp(x->k, y->k);

	return c ? c : strcmp(x->v, y->v);
}

static int canonical_query(struct sb *b, const char *q)
{
	struct param *ps = NULL;
	size_t n = 0, cap = 0;
	int rc = HF_OK;

	while (q && *q) {
		const char *amp = strchr(q, '&'), *end = amp ? amp : q + strlen(q);
		const char *eq = memchr(q, '=', (size_t)(end - q));
		struct sb k = { 0 }, v = { 0 }, ke = { 0 }, ve = { 0 };

		if (end > q) {
			decode(&k, q, (size_t)((eq ? eq : end) - q));
			if (eq)
				decode(&v, eq + 1, (size_t)(end - eq - 1));
			encode(&ke, k.s ? k.s : "", k.len, false);
			encode(&ve, v.s ? v.s : "", v.len, false);
			sb_add(&ke, "", 0);
			sb_add(&ve, "", 0);
			free(k.s);
			free(v.s);
			if (ke.oom || ve.oom) {
				free(ke.s);
				free(ve.s);
				rc = HF_ENOMEM;
				break;
			}
			if (n == cap) {
				struct param *p = realloc(ps, (cap = cap ? cap * 2 : 8) * sizeof(*p));
				if (!p) {
					free(ke.s);
					free(ve.s);
					rc = HF_ENOMEM;
					break;
				}
				ps = p;
			}
			ps[n].k = ke.s;
			ps[n++].v = ve.s;
		}
		q = amp ? amp + 1 : end;
	}
	/* ps is NULL for a query without parameters: qsort must not see it
	** (C11 7.22.5: even for zero elements the pointer must be valid). */
	if (n > 1)
		qsort(ps, n, sizeof(*ps), cmp_param);
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_add(b, "&", 1);
		sb_str(b, ps[i].k);
		sb_add(b, "=", 1);
		sb_str(b, ps[i].v);
	}
	for (size_t i = 0; i < n; i++) {
		free(ps[i].k);
		free(ps[i].v);
	}
	free(ps);
	return rc;
}

struct chdr {
	char name[128];
	const struct sigv4_hdr *h;
	size_t order;
};

static int cmp_chdr(const void *a, const void *b)
{
	const struct chdr *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* A header value: trimmed, every run of white space (folded lines too) one
** space. */
static void header_value(struct sb *b, const char *v)
{
	bool space = false, any = false;

	for (; *v; v++) {
		if (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n') {
			space = any;
			continue;
		}
		if (space)
			sb_add(b, " ", 1);
		sb_add(b, v, 1);
		space = false;
		any = true;
	}
}

static int canonical_headers(struct sb *b, const struct sigv4_req *r, char *signed_hdrs,
			     size_t cap)
{
	struct chdr *hs = calloc(r->nhdrs ? r->nhdrs : 1, sizeof(*hs));
	size_t sl = 0;

	if (!hs)
		return HF_ENOMEM;
	for (size_t i = 0; i < r->nhdrs; i++) {
		size_t l = strlen(r->hdrs[i].name);
		if (l >= sizeof(hs[i].name)) {
			free(hs);
			return HF_ETOOBIG;
		}
		for (size_t k = 0; k <= l; k++) {
			char c = r->hdrs[i].name[k];
			hs[i].name[k] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
		}
		hs[i].h = &r->hdrs[i];
		hs[i].order = i;
	}
	if (r->nhdrs > 1)
		qsort(hs, r->nhdrs, sizeof(*hs), cmp_chdr);
	signed_hdrs[0] = '\0';
	for (size_t i = 0; i < r->nhdrs; i++) {
		bool same = i && !strcmp(hs[i].name, hs[i - 1].name);
		if (same) {
			sb_add(b, ",", 1);
		} else {
			if (i)
				sb_add(b, "\n", 1);
			sb_str(b, hs[i].name);
			sb_add(b, ":", 1);
			int w = snprintf(signed_hdrs + sl, cap - sl, "%s%s", sl ? ";" : "",
					 hs[i].name);
			if (w < 0 || (size_t)w >= cap - sl) {
				free(hs);
				return HF_ETOOBIG;
			}
			sl += (size_t)w;
		}
		header_value(b, hs[i].h->value);
	}
	if (r->nhdrs)
		sb_add(b, "\n", 1);
	free(hs);
	return HF_OK;
}

/* ---- signing ------------------------------------------------------------------ */

static void signing_key(const struct sigv4_cred *c, const char *date8, uint8_t key[32])
{
	char k0[256];
	int n = snprintf(k0, sizeof(k0), "AWS4%s", c->secret_key);

	crypto_hmac_sha256(k0, (size_t)n, date8, 8, key);
	crypto_wipe(k0, sizeof(k0));
	crypto_hmac_sha256(key, 32, c->region, strlen(c->region), key);
	crypto_hmac_sha256(key, 32, c->service, strlen(c->service), key);
	crypto_hmac_sha256(key, 32, "aws4_request", 12, key);
}

static bool date_ok(const char *d)
{
	if (!d || strlen(d) != 16 || d[8] != 'T' || d[15] != 'Z')
		return false;
	for (int i = 0; i < 15; i++)
		if (i != 8 && (d[i] < '0' || d[i] > '9'))
			return false;
	return true;
}

int sigv4_sign(const struct sigv4_cred *c, const struct sigv4_req *r, struct sigv4_out *o)
{
	struct sb b = { 0 };
	uint8_t h[32], key[32], sig[32];
	char hexh[65], date8[9];
	int rc;

	memset(o, 0, sizeof(*o));
	if (!date_ok(r->amz_date) || !r->path || r->path[0] != '/' ||
	    strlen(c->secret_key) > 200) {
		port_log("sigv4: bad request to sign (date '%s', path '%s')",
			 r->amz_date ? r->amz_date : "", r->path ? r->path : "");
		return HF_EINVAL;
	}
	memcpy(date8, r->amz_date, 8);
	date8[8] = '\0';
	sb_str(&b, r->method);
	sb_add(&b, "\n", 1);
	canonical_path(&b, r->path, r->s3);
	sb_add(&b, "\n", 1);
	if ((rc = canonical_query(&b, r->query)) != HF_OK)
		goto fail;
	sb_add(&b, "\n", 1);
	if ((rc = canonical_headers(&b, r, o->signed_headers, sizeof(o->signed_headers))) != HF_OK)
		goto fail;
	sb_add(&b, "\n", 1);
	sb_str(&b, o->signed_headers);
	sb_add(&b, "\n", 1);
	sb_str(&b, r->payload);
	if (b.oom) {
		rc = HF_ENOMEM;
		goto fail;
	}
	crypto_sha256(b.s, b.len, h);
	crypto_hex(h, 32, hexh);
	if (snprintf(o->sts, sizeof(o->sts), ALGORITHM "\n%s\n%s/%s/%s/aws4_request\n%s",
		     r->amz_date, date8, c->region, c->service, hexh) >= (int)sizeof(o->sts)) {
		rc = HF_ETOOBIG;
		goto fail;
	}
	signing_key(c, date8, key);
	crypto_hmac_sha256(key, 32, o->sts, strlen(o->sts), sig);
	crypto_wipe(key, sizeof(key));
	crypto_hex(sig, 32, o->signature);
	if (snprintf(o->authorization, sizeof(o->authorization),
		     ALGORITHM " Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
		     c->access_key, date8, c->region, c->service, o->signed_headers,
		     o->signature) >= (int)sizeof(o->authorization)) {
		rc = HF_ETOOBIG;
		goto fail;
	}
	o->creq = b.s;
	return HF_OK;
fail:
	free(b.s);
	return rc;
}

void sigv4_out_free(struct sigv4_out *o)
{
	free(o->creq);
	o->creq = NULL;
}

int sigv4_chunk_signature(const struct sigv4_cred *c, const char *amz_date, const char *prev,
			  const void *chunk, size_t len, char out[65])
{
	static const char empty[] =
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	uint8_t h[32], key[32], sig[32];
	char sts[512], hexh[65], date8[9];

	if (!date_ok(amz_date))
		return HF_EINVAL;
	memcpy(date8, amz_date, 8);
	date8[8] = '\0';
	crypto_sha256(chunk, len, h);
	crypto_hex(h, 32, hexh);
	snprintf(sts, sizeof(sts), ALGORITHM "-PAYLOAD\n%s\n%s/%s/%s/aws4_request\n%s\n%s\n%s",
		 amz_date, date8, c->region, c->service, prev, empty, hexh);
	signing_key(c, date8, key);
	crypto_hmac_sha256(key, 32, sts, strlen(sts), sig);
	crypto_wipe(key, sizeof(key));
	crypto_hex(sig, 32, out);
	return HF_OK;
}
