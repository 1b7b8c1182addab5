/*
** httpc.c: the HTTP/1.1 client (see httpc.h).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/httpc.h"
#include "port.h"

bool httpc_is_loopback(const char *host)
{
	size_t n = strlen(host);

	/* RFC 6761: every name under .localhost is loopback too. */
	return !strcmp(host, "localhost") || !strncmp(host, "127.", 4) || !strcmp(host, "::1") ||
	       !strcmp(host, "[::1]") || (n > 10 && !strcmp(host + n - 10, ".localhost"));
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
	if (!u->tls && !httpc_is_loopback(u->host)) {
		port_log("url %s: plain http:// is only for loopback test servers; use https://", url);
		return HF_EINVAL;
	}
	return HF_OK;
}

void httpc_host_header(const struct httpc_url *u, char *out, size_t cap)
{
	if (u->port == (u->tls ? 443u : 80u))
		snprintf(out, cap, "%s", u->host);
	else
		snprintf(out, cap, "%s:%u", u->host, u->port);
}

int httpc_open(struct httpc *h, const struct httpc_url *server, const char *ca_file,
	       const char *pin, unsigned timeout_ms)
{
	memset(h, 0, sizeof(*h));
	h->server = *server;
	h->server.path[0] = '\0';
	h->timeout_ms = timeout_ms;
	h->paced_at = port_clock_mono_ms();
	return server->tls ? port_tls_new(ca_file, pin, &h->tls) : HF_OK;
}

static void drop_conn(struct httpc *h)
{
	port_conn_close(h->conn);
	h->conn = NULL;
}

void httpc_close(struct httpc *h)
{
	drop_conn(h);
	port_tls_free(h->tls);
	h->tls = NULL;
}

#define HTTPC_SLICE (16u * 1024)

/* Waits until N more bytes may go out under H's rate. */
static void pace(struct httpc *h, size_t n)
{
	uint64_t burst = h->rate / 8 > HTTPC_SLICE ? h->rate / 8 : HTTPC_SLICE, now;

	for (;;) {
		now = port_clock_mono_ms();
		h->tokens += (now - h->paced_at) * h->rate / 1000;
		h->paced_at = now;
		if (h->tokens > burst)
			h->tokens = burst;
		if (h->tokens >= n)
			break;
		port_poll(NULL, 0, (int)(((n - h->tokens) * 1000 + h->rate - 1) / h->rate));
	}
	h->tokens -= n;
}

/* Writes LEN bytes at P, paced when H has a rate. */
static int send_paced(struct httpc *h, const void *p, size_t len)
{
	const uint8_t *b = p;
	int rc = HF_OK;

	if (!h->rate)
		return port_conn_write(h->conn, p, len, h->timeout_ms);
	while (len && rc == HF_OK) {
		size_t n = len < HTTPC_SLICE ? len : HTTPC_SLICE;
		pace(h, n);
		rc = port_conn_write(h->conn, b, n, h->timeout_ms);
		b += n;
		len -= n;
	}
	return rc;
}

/* One exchange on the open connection. *NOTHING: the connection failed
** before any byte of a reply (a kept-alive one the server had closed). */
static int exchange(struct httpc *h, const char *head, size_t head_len, const struct httpc_body *b,
		    struct http_parser *p, bool reused, bool *nothing)
{
	static uint8_t buf[64 * 1024];
	uint64_t seen = 0, in_window = 0, window;
	int rc;

	*nothing = true;
	if ((rc = send_paced(h, head, head_len)) == HF_OK && b && b->len)
		rc = send_paced(h, b->mem, (size_t)b->len);
	h->sent += head_len + (b ? b->len : 0);
	window = port_clock_mono_ms();
	while (rc == HF_OK && p->state != HTTP_DONE) {
		size_t got, used, off = 0;
		if ((rc = port_conn_read(h->conn, buf, sizeof(buf), &got, h->timeout_ms)) != HF_OK)
			break;
		if (got == 0) {
			/* Cut short is the network's failure (retried), not a
			** broken protocol. */
			if (seen && (rc = http_parse_eof(p)) == HF_EPROTO) {
				port_log("http: %s: %s", h->server.host, p->error);
				rc = HF_EIO;
			}
			if (!seen)
				rc = HF_EIO;
			if (!seen && !reused)
				port_log("http: %s closed the connection without a reply",
					 h->server.host);
			break;
		}
		seen += got;
		*nothing = false;
		if ((in_window += got) >= HTTPC_MIN_BYTES || p->state == HTTP_DONE) {
			window = port_clock_mono_ms();
			in_window = 0;
		} else if (port_clock_mono_ms() - window > h->timeout_ms) {
			port_log("http: %s: the reply trickles (%llu bytes in %u ms); giving up",
				 h->server.host, (unsigned long long)in_window, h->timeout_ms);
			rc = HF_EIO;
			break;
		}
		while (rc == HF_OK && off < got && p->state != HTTP_DONE) {
			rc = http_parse(p, buf + off, got - off, &used);
			off += used;
		}
	}
	h->received += seen;
	return rc;
}

int httpc_send(struct httpc *h, const char *method, const char *target, const char *headers,
	       const struct httpc_body *body, struct http_parser *p)
{
	char head[8192], host[300], length[48] = "";
	struct http_parser fresh = *p;
	bool nothing;
	int n, rc;

	if (body)
		snprintf(length, sizeof(length), "Content-Length: %llu\r\n",
			 (unsigned long long)body->len);
	httpc_host_header(&h->server, host, sizeof(host));
	n = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: holdfast\r\n%s%s\r\n",
		     method, target, host, headers ? headers : "", length);
	if (n < 0 || (size_t)n >= sizeof(head))
		return HF_ETOOBIG;
	h->requests++;
	for (int attempt = 0;; attempt++) {
		bool reused = h->conn != NULL;
		if (reused && !port_conn_idle_ok(h->conn)) {
			drop_conn(h);
			reused = false;
		}
		if (!h->conn) {
			if ((rc = port_conn_open(h->server.host, h->server.port, h->tls, h->timeout_ms,
						 &h->conn)) != HF_OK) {
				h->conn = NULL;
				return rc;
			}
			h->connects++;
			snprintf(h->proto, sizeof(h->proto), "%s", port_conn_protocol(h->conn));
		}
		rc = exchange(h, head, (size_t)n, body, p, reused, &nothing);
		if (rc == HF_OK && p->keep_alive)
			return rc;
		drop_conn(h);
		/* A kept-alive connection closed under us before any reply: most
		** likely the server had closed it while idle; an idempotent
		** request is sent once more on a new one (RFC 9110 9.2.2). */
		if (rc == HF_OK || !reused || !nothing || attempt || !strcmp(method, "POST"))
			break;
		*p = fresh;
	}
	if (rc == HF_EPROTO)
		port_log("http: %s: %s", h->server.host, p->error);
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
