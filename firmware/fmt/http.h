/*
** http.h: the HTTP/1.1 response parser of the S3 client. Pure: bytes in,
** events out, no I/O, so it is tested byte by byte and can be fuzzed.
**
** What it accepts, and refuses (a hostile or broken server must not crash
** us or make us store a partial object as whole):
**   - a status line "HTTP/1.x NNN reason"; headers "Name: value" (no folded
**     lines), at most HTTP_MAX_HEADER_BYTES in all and HTTP_MAX_HEADERS;
**   - a body framed by Content-Length (one value; duplicates must agree),
**     by chunked transfer coding (sizes in hex, extensions ignored, trailers
**     skipped), or, with neither, by the end of the connection; no body for
**     HEAD, 1xx, 204 and 304;
**   - Transfer-Encoding other than chunked, or with Content-Length, is
**     refused (request smuggling territory);
**   - a body over the caller's limit is refused; so is a response that ends
**     before its framing says it is done (http_parse_eof).
*/
#ifndef HF_HTTP_H
#define HF_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEADER_BYTES 16384
#define HTTP_MAX_HEADERS 64

enum http_state {
	HTTP_STATUS, HTTP_HEADERS, HTTP_BODY_LEN, HTTP_BODY_EOF, HTTP_CHUNK_SIZE, HTTP_CHUNK_DATA,
	HTTP_CHUNK_CRLF, HTTP_TRAILERS, HTTP_DONE, HTTP_ERROR
};

/* Receives body bytes as they come; non-zero stops the parse with it. */
typedef int (*http_body_fn)(void *arg, const uint8_t *data, size_t len);

struct http_parser {
	enum http_state state;
	bool head;                 /* the request was HEAD: no body */
	uint64_t max_body;
	http_body_fn on_body;
	void *arg;

	/* The response. */
	int status;
	char reason[64];
	int64_t content_length;    /* -1 if none */
	bool chunked;
	bool keep_alive;           /* the connection may carry the next request */
	uint64_t body_bytes;

	/* Header lines, NUL-separated "name\0value\0", names lower-cased. */
	char hbuf[HTTP_MAX_HEADER_BYTES];
	size_t hlen;
	unsigned nheaders;

	/* A line being gathered (status, header, chunk size, trailer). */
	char line[1024];
	size_t line_len;
	uint64_t remaining;        /* of the current chunk or fixed-length body */
	char error[128];
};

void http_parser_init(struct http_parser *p, bool head, uint64_t max_body, http_body_fn on_body,
		      void *arg);

/*
** Feeds LEN bytes. Returns HF_OK with *USED bytes consumed (all of them
** unless the response ended: the rest belongs to the next one), or
** HF_EPROTO with p->error saying what was wrong. p->state == HTTP_DONE once
** the whole response has been seen.
*/
int http_parse(struct http_parser *p, const uint8_t *data, size_t len, size_t *used);

/* The connection ended: completes a body framed by the end of the
** connection, refuses one that was cut short. */
int http_parse_eof(struct http_parser *p);

/* The value of header NAME (any case), or NULL. */
const char *http_header(const struct http_parser *p, const char *name);

#endif /* HF_HTTP_H */
