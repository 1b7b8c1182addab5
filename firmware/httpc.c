/*
** httpc.c: the HTTP/1.1 client (see httpc.h).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpc.h"
#include "port.h"

static bool is_loopback(const char *host)
{
	return !strcmp(host, "localhost") || !strncmp(host, "127.", 4) || !strcmp(host, "::1") ||
	       !strcmp(host, "[::1]");
}

int httpc_parse_url(const char *url, struct httpc_url *u)
{
	const char *h, *slash, *colon;
	size_t hl;

	memset(u, 0, sizeof(*u));
	if (!strncmp(url, "https://", 8)) {
		u->tls = true;
		u->port = 443;
		h = url + 8;
	} else if (!strncmp(url, "http://", 7)) {
		u->port = 80;
		h = url + 7;
	} else {
		port_log("url %s: only https:// (and http:// to loopback) are supported", url);
		return HF_EINVAL;
	}
	slash = strchr(h, '/');
	if (!slash)
		slash = h + strlen(h);
	colon = memchr(h, ':', (size_t)(slash - h));
	hl = (size_t)((colon ? colon : slash) - h);
	if (hl == 0 || hl >= sizeof(u->host)) {
		port_log("url %s: no host", url);
		return HF_EINVAL;
	}
	memcpy(u->host, h, hl);
	if (colon) {
		char *end;
		unsigned long p = strtoul(colon + 1, &end, 10);
		if (end != slash || p == 0 || p > 65535) {
			port_log("url %s: bad port", url);
			return HF_EINVAL;
		}
		u->port = (unsigned)p;
	}
	if (snprintf(u->path, sizeof(u->path), "%s", *slash ? slash : "/") >= (int)sizeof(u->path)) {
		port_log("url %s: path too long", url);
		return HF_ETOOBIG;
	}
	if (!u->tls && !is_loopback(u->host)) {
		port_log("url %s: plain http:// is only for loopback test servers; use https://", url);
		return HF_EINVAL;
	}
	return HF_OK;
}

int httpc_request(const struct httpc_url *u, const char *method, const char *headers,
		  const void *body, size_t body_len, const char *ca_file, unsigned timeout_ms,
		  struct http_parser *p, char *proto, size_t proto_len)
{
	struct port_tls tls = { ca_file };
	struct port_conn *c;
	char head[4096];
	uint8_t buf[16384];
	int n, rc;

	char length[48] = "";

	if (body)
		snprintf(length, sizeof(length), "Content-Length: %zu\r\n", body_len);
	char host[300];

	/* Host carries the port unless it is the scheme's (RFC 9110 7.2). */
	if (u->port == (u->tls ? 443u : 80u))
		snprintf(host, sizeof(host), "%s", u->host);
	else
		snprintf(host, sizeof(host), "%s:%u", u->host, u->port);
	n = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: holdfast\r\n%s%s\r\n",
		     method, u->path, host, headers ? headers : "", length);
	if (n < 0 || (size_t)n >= sizeof(head))
		return HF_ETOOBIG;
	if ((rc = port_conn_open(u->host, u->port, u->tls ? &tls : NULL, timeout_ms, &c)) != HF_OK)
		return rc;
	snprintf(proto, proto_len, "%s", port_conn_protocol(c));
	if ((rc = port_conn_write(c, head, (size_t)n, timeout_ms)) == HF_OK && body && body_len)
		rc = port_conn_write(c, body, body_len, timeout_ms);
	while (rc == HF_OK && p->state != HTTP_DONE) {
		size_t got, used, off = 0;
		if ((rc = port_conn_read(c, buf, sizeof(buf), &got, timeout_ms)) != HF_OK)
			break;
		if (got == 0) {
			rc = http_parse_eof(p);
			break;
		}
		while (rc == HF_OK && off < got && p->state != HTTP_DONE) {
			rc = http_parse(p, buf + off, got - off, &used);
			off += used;
		}
	}
	if (rc == HF_EPROTO)
		port_log("http: %s: %s", u->host, p->error);
	port_conn_close(c);
	return rc;
}

int httpc_gather(void *arg, const uint8_t *data, size_t len)
{
	struct httpc_buf *b = arg;

	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		char *p;
		while (cap < b->len + len + 1)
			cap *= 2;
		if (!(p = realloc(b->p, cap)))
			return 1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
	return 0;
}
