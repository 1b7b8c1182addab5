/*
** httpc.h: a small HTTP/1.1 client over port connections: requests to one
** server over a kept-alive connection (reopened, with a resumed TLS
** session, when the server has closed it), the response parsed by http.c
** and its body handed on as it comes. Request bodies come from memory or
** is kept in memory by the caller. The S3 client is built on
** it; `holdfast debug fetch` exposes it for tests.
**
** Every wait is bounded by the timeout, and a reply must keep moving: less
** than HTTPC_MIN_BYTES within any timeout-long window (a server trickling
** bytes to keep us waiting) ends the request as a network failure.
**
** With a rate set, what is sent is paced by a token bucket (bursts of an
** eighth of a second): a metered or shared uplink is not saturated.
*/
#ifndef HF_HTTPC_H
#define HF_HTTPC_H

#include <stdint.h>

#include "fmt/http.h"

#define HTTPC_MIN_BYTES 1024

struct httpc_url {
	bool tls;
	char host[256];
	unsigned port;
	char path[2048];          /* with the query, as sent */
};

/* localhost, a name under .localhost, 127.x.y.z or ::1. */
bool httpc_is_loopback(const char *host);

/* Parses https://HOST[:PORT]/PATH, or http:// for a loopback host only
** (plain HTTP anywhere else would send signed requests in the clear). */
int httpc_parse_url(const char *url, struct httpc_url *u);

/* "HOST" or "HOST:PORT" when the port is not the scheme's (RFC 9110 7.2). */
void httpc_host_header(const struct httpc_url *u, char *out, size_t cap);

struct port_conn;
struct port_tls;

struct httpc {
	struct httpc_url server;  /* scheme, host and port; path unused */
	struct port_tls *tls;     /* NULL for plain http:// */
	struct port_conn *conn;   /* kept between requests */
	unsigned timeout_ms;      /* bounds every wait */
	char proto[32];           /* of the last connection: "TLSv1.3", "plain" */
	uint64_t rate;            /* bytes/s sent at most (0: no cap) */
	uint64_t tokens, paced_at;
	unsigned connects;        /* connections opened */
	unsigned requests;
	uint64_t sent, received;  /* bytes, bodies and heads */
};

/* CA_FILE NULL: the system bundle; PIN NULL or "sha256//BASE64" (port.h).
** httpc_close is due even when this fails. */
int httpc_open(struct httpc *h, const struct httpc_url *server, const char *ca_file,
	       const char *pin, unsigned timeout_ms);
void httpc_close(struct httpc *h);

/* A request body: LEN bytes at MEM. (Files go a part at a time: s3.c.) */
struct httpc_body {
	const void *mem;
	uint64_t len;
};

/*
** Sends METHOD TARGET (path and query, encoded) with the extra header lines
** HEADERS ("Name: value\r\n" each, may be NULL) and BODY (may be NULL), and
** parses the response into P (initialised by the caller: limits, body
** receiver). A kept-alive connection that turns out closed before any reply
** is reopened and an idempotent request (not POST) sent once more.
*/
int httpc_send(struct httpc *h, const char *method, const char *target, const char *headers,
	       const struct httpc_body *body, struct http_parser *p);

/* A body gathered in memory (NUL-terminated), for http_parser_init's
** receiver: httpc_gather. Free p. */
struct httpc_buf {
	char *p;
	size_t len, cap;
};
int httpc_gather(void *arg, const uint8_t *data, size_t len);

#endif /* HF_HTTPC_H */
