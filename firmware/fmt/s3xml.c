/*
** s3xml.c: bounded readers for S3's error and listing documents (s3xml.h).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "fmt/s3xml.h"

/* Finds the next <NAME> or <NAME attr...> at or after *P within END; on
** success *P is just past the start tag and *CLOSE at its "</NAME>". */
static bool element(const char **p, const char *end, const char *name, const char **close)
{
	size_t nl = strlen(name);
	const char *s = *p;

	while (s < end && (s = memchr(s, '<', (size_t)(end - s))) != NULL) {
		if ((size_t)(end - s) > nl + 1 && !memcmp(s + 1, name, nl) &&
		    (s[nl + 1] == '>' || s[nl + 1] == ' ' || s[nl + 1] == '\t' || s[nl + 1] == '\n' ||
		     s[nl + 1] == '\r')) {
			const char *gt = memchr(s, '>', (size_t)(end - s));
			if (!gt)
				return false;
			/* The matching end tag: these elements do not nest in themselves. */
			for (const char *c = gt + 1; c + nl + 3 <= end; c++) {
				if (c[0] == '<' && c[1] == '/' && !memcmp(c + 2, name, nl) && c[nl + 2] == '>') {
					*p = gt + 1;
					*close = c;
					return true;
				}
			}
			return false;
		}
		s++;
	}
	return false;
}

/* Decodes the text between P and END into OUT[CAP]; HF_EPROTO for markup,
** an unknown entity or text too long. */
static int text(const char *p, const char *end, char *out, size_t cap)
{
	size_t n = 0;

	while (p < end) {
		char c = *p++;
		if (c == '<')
			return HF_EPROTO;
		if (c == '&') {
			static const struct {
				const char *name;
				char c;
			} ents[] = { { "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' }, { "quot;", '"' },
				     { "apos;", '\'' } };
			bool found = false;
			for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
				size_t l = strlen(ents[i].name);
				if ((size_t)(end - p) >= l && !memcmp(p, ents[i].name, l)) {
					c = ents[i].c;
					p += l;
					found = true;
					break;
				}
			}
			if (!found && p < end && *p == '#') {
				/* &#NN; or &#xHH; of ASCII (within END: no strtol). */
				bool hex = p + 1 < end && p[1] == 'x';
				const char *d = p + (hex ? 2 : 1);
				unsigned v = 0, digits = 0;
				for (; d < end && *d != ';' && digits < 4; d++, digits++) {
					int x = *d >= '0' && *d <= '9' ? *d - '0' :
						hex && *d >= 'a' && *d <= 'f' ? *d - 'a' + 10 :
						hex && *d >= 'A' && *d <= 'F' ? *d - 'A' + 10 : -1;
					if (x < 0)
						return HF_EPROTO;
					v = v * (hex ? 16 : 10) + (unsigned)x;
				}
				if (d >= end || *d != ';' || !digits || v == 0 || v > 0x7f)
					return HF_EPROTO;
				c = (char)v;
				p = d + 1;
				found = true;
			}
			if (!found)
				return HF_EPROTO;
		}
		if (n + 1 >= cap)
			return HF_EPROTO;
		out[n++] = c;
	}
	out[n] = '\0';
	return HF_OK;
}

/* The text of the first <NAME> within [P, END) into OUT; HF_ENOENT if none. */
static int field(const char *p, const char *end, const char *name, char *out, size_t cap)
{
	const char *close;

	if (!element(&p, end, name, &close))
		return HF_ENOENT;
	return text(p, close, out, cap);
}

int s3xml_error(const char *xml, size_t len, struct s3_error *e)
{
	const char *p = xml, *end = xml + len, *close;
	int rc;

	memset(e, 0, sizeof(*e));
	if (len > S3XML_MAX_DOC || !element(&p, end, "Error", &close))
		return HF_EPROTO;
	if ((rc = field(p, close, "Code", e->code, sizeof(e->code))) != HF_OK)
		return HF_EPROTO;
	/* Message and RequestId help a human; their absence is no error. */
	if (field(p, close, "Message", e->message, sizeof(e->message)) == HF_EPROTO ||
	    field(p, close, "RequestId", e->request_id, sizeof(e->request_id)) == HF_EPROTO)
		return HF_EPROTO;
	return HF_OK;
}

int s3xml_list(const char *xml, size_t len, int (*fn)(void *arg, const struct s3_object *o),
	       void *arg, bool *truncated, char *next_token, size_t token_len)
{
	const char *p = xml, *end = xml + len, *close, *c;
	char buf[32];
	int rc;

	*truncated = false;
	next_token[0] = '\0';
	if (len > S3XML_MAX_DOC || !element(&p, end, "ListBucketResult", &close))
		return HF_EPROTO;
	if ((rc = field(p, close, "IsTruncated", buf, sizeof(buf))) == HF_EPROTO)
		return rc;
	*truncated = rc == HF_OK && !strcmp(buf, "true");
	if (*truncated &&
	    field(p, close, "NextContinuationToken", next_token, token_len) != HF_OK)
		return HF_EPROTO; /* more pages, but no way to ask for them */
	for (const char *q = p; element(&q, close, "Contents", &c); q = c + 11) {
		struct s3_object o;
		char *e;

		memset(&o, 0, sizeof(o));
		if (field(q, c, "Key", o.key, sizeof(o.key)) != HF_OK ||
		    field(q, c, "Size", buf, sizeof(buf)) != HF_OK)
			return HF_EPROTO;
		o.size = strtoull(buf, &e, 10);
		if (*buf < '0' || *buf > '9' || *e)
			return HF_EPROTO;
		if (field(q, c, "ETag", o.etag, sizeof(o.etag)) == HF_EPROTO)
			return HF_EPROTO;
		if ((rc = fn(arg, &o)) != 0)
			return rc;
	}
	return HF_OK;
}

int s3xml_upload_id(const char *xml, size_t len, char *id, size_t id_len)
{
	const char *p = xml, *end = xml + len, *close;

	if (len > S3XML_MAX_DOC || !element(&p, end, "InitiateMultipartUploadResult", &close) ||
	    field(p, close, "UploadId", id, id_len) != HF_OK || !id[0])
		return HF_EPROTO;
	return HF_OK;
}

/* A decimal number in [1, MAX] from the text of <NAME>. */
static int number(const char *p, const char *end, const char *name, uint64_t max, uint64_t *out)
{
	char buf[32], *e;
	int rc;

	if ((rc = field(p, end, name, buf, sizeof(buf))) != HF_OK)
		return rc;
	*out = strtoull(buf, &e, 10);
	if (*buf < '0' || *buf > '9' || *e || *out > max)
		return HF_EPROTO;
	return HF_OK;
}

int s3xml_parts(const char *xml, size_t len, int (*fn)(void *arg, const struct s3_part *p),
		void *arg, bool *truncated, unsigned *next_marker)
{
	const char *p = xml, *end = xml + len, *close, *c;
	char buf[32];
	uint64_t v;
	int rc;

	*truncated = false;
	*next_marker = 0;
	if (len > S3XML_MAX_DOC || !element(&p, end, "ListPartsResult", &close))
		return HF_EPROTO;
	if ((rc = field(p, close, "IsTruncated", buf, sizeof(buf))) == HF_EPROTO)
		return rc;
	*truncated = rc == HF_OK && !strcmp(buf, "true");
	if (*truncated) {
		if (number(p, close, "NextPartNumberMarker", 10000, &v) != HF_OK || v == 0)
			return HF_EPROTO; /* more pages, but no way to ask for them */
		*next_marker = (unsigned)v;
	}
	for (const char *q = p; element(&q, close, "Part", &c); q = c + 7) {
		struct s3_part part;

		memset(&part, 0, sizeof(part));
		if (number(q, c, "PartNumber", 10000, &v) != HF_OK || v == 0)
			return HF_EPROTO;
		part.number = (unsigned)v;
		if (number(q, c, "Size", UINT64_MAX, &part.size) != HF_OK ||
		    field(q, c, "ETag", part.etag, sizeof(part.etag)) != HF_OK)
			return HF_EPROTO;
		if ((rc = fn(arg, &part)) != 0)
			return rc;
	}
	return HF_OK;
}

int s3xml_delete_result(const char *xml, size_t len, unsigned *failed, char *key, size_t key_len,
			char *code, size_t code_len)
{
	const char *p = xml, *end = xml + len, *close, *c;

	*failed = 0;
	key[0] = code[0] = '\0';
	if (len > S3XML_MAX_DOC || !element(&p, end, "DeleteResult", &close))
		return HF_EPROTO;
	for (const char *q = p; element(&q, close, "Error", &c); q = c + 8) {
		if (!(*failed)++ && (field(q, c, "Key", key, key_len) == HF_EPROTO ||
				     field(q, c, "Code", code, code_len) != HF_OK))
			return HF_EPROTO;
	}
	return HF_OK;
}
