/*
** httpc.h: a small HTTP/1.1 client over a port connection: one request,
** the response parsed by http.c and its body handed on as it comes. The S3
** client is built on it; `holdfast debug fetch` exposes it for tests.
*/
#ifndef HF_HTTPC_H
#define HF_HTTPC_H

#include <stdint.h>

#include "http.h"

struct httpc_url {
	bool tls;
	char host[256];
	unsigned port;
	char path[2048];          /* with the query, as sent */
};

/* Parses https://HOST[:PORT]/PATH, or http:// for a loopback host only
** (plain HTTP anywhere else would send signed requests in the clear). */
int httpc_parse_url(const char *url, struct httpc_url *u);

/*
** Sends METHOD PATH to U with the extra header lines HEADERS ("Name: value\r\n"
** each, may be NULL) and BODY (may be NULL), and parses the response into P
** (initialised by the caller: limits, body receiver). CA_FILE: NULL for the
** system bundle. TIMEOUT_MS bounds every wait.
*/
int httpc_request(const struct httpc_url *u, const char *method, const char *headers,
		  const void *body, size_t body_len, const char *ca_file, unsigned timeout_ms,
		  struct http_parser *p, char *proto, size_t proto_len);

/* A body gathered in memory (NUL-terminated), for http_parser_init's
** receiver: httpc_gather. Free p. */
struct httpc_buf {
	char *p;
	size_t len, cap;
};
int httpc_gather(void *arg, const uint8_t *data, size_t len);

#endif /* HF_HTTPC_H */
