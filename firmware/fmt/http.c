/*
** http.c: the HTTP/1.1 response parser (see http.h). A byte-at-a-time state
** machine for the framing, with body bytes handed on in runs.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "fmt/http.h"

static int fail(struct http_parser *p, const char *why)
{
	p->state = HTTP_ERROR;
	snprintf(p->error, sizeof(p->error), "%s", why);
	return HF_EPROTO;
}

void http_parser_init(struct http_parser *p, bool head, uint64_t max_body, http_body_fn on_body,
		      void *arg)
{
	memset(p, 0, sizeof(*p));
	p->state = HTTP_STATUS;
	p->head = head;
	p->max_body = max_body;
	p->on_body = on_body;
	p->arg = arg;
	p->content_length = -1;
}

const char *http_header(const struct http_parser *p, const char *name)
{
	const char *h = p->hbuf, *end = p->hbuf + p->hlen;

	while (h < end) {
		const char *v = h + strlen(h) + 1;
		if (!strcasecmp(h, name))
			return v;
		h = v + strlen(v) + 1;
	}
	return NULL;
}

static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int status_line(struct http_parser *p)
{
	char *l = p->line;
	int code = 0;

	if (strncmp(l, "HTTP/1.", 7) != 0 || (l[7] != '0' && l[7] != '1') || l[8] != ' ')
		return fail(p, "not an HTTP/1.x status line");
	for (int i = 9; i < 12; i++) {
		if (l[i] < '0' || l[i] > '9')
			return fail(p, "malformed status code");
		code = code * 10 + (l[i] - '0');
	}
	if (l[12] != ' ' && l[12] != '\0')
		return fail(p, "malformed status line");
	if (code < 100)
		return fail(p, "status code below 100");
	p->status = code;
	snprintf(p->reason, sizeof(p->reason), "%s", l[12] ? l + 13 : "");
	p->keep_alive = l[7] == '1';
	p->state = HTTP_HEADERS;
	return HF_OK;
}

static int header_line(struct http_parser *p)
{
	char *l = p->line, *colon, *v, *e;
	size_t nl, vl;

	if (*l == ' ' || *l == '\t')
		return fail(p, "folded header line");
	if (!(colon = strchr(l, ':')) || colon == l)
		return fail(p, "header line without a name");
	for (char *c = l; c < colon; c++) {
		if (!is_tchar(*c))
			return fail(p, "bad character in a header name");
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c + 32);
	}
	*colon = '\0';
	v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	e = v + strlen(v);
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	nl = (size_t)(colon - l);
	vl = (size_t)(e - v);
	if (p->nheaders == HTTP_MAX_HEADERS || p->hlen + nl + vl + 2 > sizeof(p->hbuf))
		return fail(p, "too many or too large headers");
	memcpy(p->hbuf + p->hlen, l, nl + 1);
	memcpy(p->hbuf + p->hlen + nl + 1, v, vl + 1);
	p->hlen += nl + vl + 2;
	p->nheaders++;

	if (!strcmp(l, "content-length")) {
		char *end;
		unsigned long long n;
		if (*v < '0' || *v > '9' || (n = strtoull(v, &end, 10), *end) || n > INT64_MAX)
			return fail(p, "malformed Content-Length");
		if (p->content_length >= 0 && (uint64_t)p->content_length != n)
			return fail(p, "conflicting Content-Length headers");
		p->content_length = (int64_t)n;
	} else if (!strcmp(l, "transfer-encoding")) {
		if (strcasecmp(v, "chunked") != 0)
			return fail(p, "unsupported Transfer-Encoding");
		p->chunked = true;
	} else if (!strcmp(l, "connection")) {
		if (!strcasecmp(v, "close"))
			p->keep_alive = false;
		else if (!strcasecmp(v, "keep-alive"))
			p->keep_alive = true;
	}
	return HF_OK;
}

static int end_of_headers(struct http_parser *p)
{
	if (p->status < 200) {
		/* 1xx: an interim response; the real one follows. */
		p->state = HTTP_STATUS;
		p->hlen = 0;
		p->nheaders = 0;
		p->content_length = -1;
		p->chunked = false;
		return HF_OK;
	}
	if (p->chunked && p->content_length >= 0)
		return fail(p, "both Content-Length and chunked");
	if (p->head || p->status == 204 || p->status == 304) {
		p->state = HTTP_DONE;
	} else if (p->chunked) {
		p->state = HTTP_CHUNK_SIZE;
	} else if (p->content_length >= 0) {
		if ((uint64_t)p->content_length > p->max_body)
			return fail(p, "body larger than allowed");
		p->remaining = (uint64_t)p->content_length;
		p->state = p->remaining ? HTTP_BODY_LEN : HTTP_DONE;
	} else {
		p->keep_alive = false; /* framed by the end of the connection */
		p->state = HTTP_BODY_EOF;
	}
	return HF_OK;
}

static int chunk_size_line(struct http_parser *p)
{
	uint64_t n = 0;
	const char *c = p->line;

	if (!*c)
		return fail(p, "empty chunk size");
	for (; *c && *c != ';' && *c != ' ' && *c != '\t'; c++) {
		int d = *c >= '0' && *c <= '9' ? *c - '0' : *c >= 'a' && *c <= 'f' ? *c - 'a' + 10 :
			*c >= 'A' && *c <= 'F' ? *c - 'A' + 10 : -1;
		if (d < 0 || n > (UINT64_MAX >> 4))
			return fail(p, "malformed chunk size");
		n = n << 4 | (uint64_t)d;
	}
	if (n == 0) {
		p->state = HTTP_TRAILERS;
		return HF_OK;
	}
	if (p->body_bytes + n > p->max_body)
		return fail(p, "body larger than allowed");
	p->remaining = n;
	p->state = HTTP_CHUNK_DATA;
	return HF_OK;
}

static int body(struct http_parser *p, const uint8_t *d, size_t n)
{
	if (p->body_bytes + n > p->max_body)
		return fail(p, "body larger than allowed");
	p->body_bytes += n;
	if (p->on_body && p->on_body(p->arg, d, n) != 0)
		return fail(p, "the body's receiver stopped");
	return HF_OK;
}

/* Gathers a CRLF- (or LF-) terminated line; *DONE once complete. */
static int gather(struct http_parser *p, uint8_t c, bool *done)
{
	*done = false;
	if (c == '\n') {
		if (p->line_len && p->line[p->line_len - 1] == '\r')
			p->line_len--;
		p->line[p->line_len] = '\0';
		p->line_len = 0;
		*done = true;
		return HF_OK;
	}
	if (c == '\0')
		return fail(p, "NUL byte in the header");
	if (p->line_len + 1 >= sizeof(p->line))
		return fail(p, "header line too long");
	p->line[p->line_len++] = (char)c;
	return HF_OK;
}

int http_parse(struct http_parser *p, const uint8_t *data, size_t len, size_t *used)
{
	size_t i = 0;
	bool done;
	int rc = HF_OK;

	while (i < len && rc == HF_OK && p->state != HTTP_DONE) {
		switch (p->state) {
		case HTTP_STATUS:
		case HTTP_HEADERS:
		case HTTP_CHUNK_SIZE:
		case HTTP_TRAILERS:
			if ((rc = gather(p, data[i++], &done)) != HF_OK || !done)
				break;
			if (p->state == HTTP_STATUS)
				rc = status_line(p);
			else if (p->state == HTTP_HEADERS)
				rc = p->line[0] ? header_line(p) : end_of_headers(p);
			else if (p->state == HTTP_CHUNK_SIZE)
				rc = chunk_size_line(p);
			else if (!p->line[0])
				p->state = HTTP_DONE; /* trailers (ignored) end */
			break;
		case HTTP_BODY_LEN:
		case HTTP_CHUNK_DATA: {
			size_t n = len - i < p->remaining ? len - i : (size_t)p->remaining;
			rc = body(p, data + i, n);
			i += n;
			p->remaining -= n;
			if (!p->remaining)
				p->state = p->state == HTTP_BODY_LEN ? HTTP_DONE : HTTP_CHUNK_CRLF;
			break;
		}
		case HTTP_CHUNK_CRLF:
			if (data[i] == '\r') {
				i++;
			} else if (data[i] == '\n') {
				i++;
				p->state = HTTP_CHUNK_SIZE;
			} else {
				rc = fail(p, "chunk not followed by CRLF");
			}
			break;
		case HTTP_BODY_EOF:
			rc = body(p, data + i, len - i);
			i = len;
			break;
		case HTTP_DONE:
			break;
		case HTTP_ERROR:
			rc = HF_EPROTO;
			break;
		}
	}
	if (p->state == HTTP_ERROR)
		rc = HF_EPROTO;
	*used = i;
	return rc;
}

int http_parse_eof(struct http_parser *p)
{
	if (p->state == HTTP_BODY_EOF) {
		p->state = HTTP_DONE;
		return HF_OK;
	}
	if (p->state == HTTP_DONE)
		return HF_OK;
	if (p->state == HTTP_ERROR)
		return HF_EPROTO;
	return fail(p, p->state == HTTP_STATUS && !p->line_len ? "connection closed before a response"
								: "connection closed mid-response");
}
