/*
** test_http.c: the HTTP/1.1 response parser, split at every byte, framed
** every way, and fed hostile and random input.
*/
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "fmt/http.h"
#include "test.h"

struct sink {
	char buf[8192];
	size_t len;
};

static int collect(void *arg, const uint8_t *d, size_t n)
{
	struct sink *s = arg;

	if (s->len + n > sizeof(s->buf))
		return 1;
	memcpy(s->buf + s->len, d, n);
	s->len += n;
	return 0;
}

/* Parses TEXT fed in the given piece sizes (0-terminated list, the rest in
** one piece); returns the parse result of the last feed. */
static int feed(struct http_parser *p, struct sink *s, const char *text, bool head,
		const size_t *pieces, size_t *consumed)
{
	size_t len = strlen(text), off = 0, used;
	int rc = HF_OK;

	memset(s, 0, sizeof(*s));
	http_parser_init(p, head, 4096, collect, s);
	*consumed = 0;
	while (off < len && rc == HF_OK && p->state != HTTP_DONE) {
		size_t n = pieces && *pieces ? *pieces++ : len - off;
		if (n > len - off)
			n = len - off;
		rc = http_parse(p, (const uint8_t *)text + off, n, &used);
		off += used;
		*consumed += used;
	}
	return rc;
}

static const char plain[] = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nETag: \"abc\"\r\n"
			    "x-amz-request-id: R1\r\n\r\nhello world";

TEST(http_content_length_split_anywhere)
{
	struct http_parser p;
	struct sink s;
	size_t used;

	for (size_t cut = 1; cut < sizeof(plain) - 1; cut++) {
		size_t pieces[] = { cut, 0 };
		CHECK_INT(feed(&p, &s, plain, false, pieces, &used), HF_OK);
		CHECK_INT(p.state, HTTP_DONE);
		CHECK_INT(p.status, 200);
		CHECK_INT((int)s.len, 11);
		CHECK(memcmp(s.buf, "hello world", 11) == 0);
		CHECK_STR(http_header(&p, "etag"), "\"abc\"");
		CHECK_STR(http_header(&p, "X-Amz-Request-Id"), "R1");
		CHECK(p.keep_alive);
	}
}

TEST(http_chunked_byte_by_byte_with_trailers)
{
	static const char text[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				   "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n";
	struct http_parser p;
	struct sink s;
	size_t ones[sizeof(text)], used;

	for (size_t i = 0; i < sizeof(text); i++)
		ones[i] = 1;
	ones[sizeof(text) - 1] = 0;
	CHECK_INT(feed(&p, &s, text, false, ones, &used), HF_OK);
	CHECK_INT(p.state, HTTP_DONE);
	CHECK_INT((int)s.len, 11);
	CHECK(memcmp(s.buf, "hello world", 11) == 0);
	CHECK_INT((int)used, (int)strlen(text));
}

TEST(http_keep_alive_leaves_the_next_response)
{
	char two[512];
	struct http_parser p;
	struct sink s;
	size_t used;

	snprintf(two, sizeof(two), "%s%s", plain, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	CHECK_INT(feed(&p, &s, two, false, NULL, &used), HF_OK);
	CHECK_INT((int)used, (int)strlen(plain));
	CHECK_INT(feed(&p, &s, two + used, false, NULL, &used), HF_OK);
	CHECK_INT(p.status, 404);
	CHECK_STR(p.reason, "Not Found");
	CHECK_INT(p.state, HTTP_DONE);
}

TEST(http_no_body_cases)
{
	struct http_parser p;
	struct sink s;
	size_t used;

	CHECK_INT(feed(&p, &s, "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n", true, NULL, &used),
		  HF_OK);
	CHECK_INT(p.state, HTTP_DONE); /* HEAD */
	CHECK_INT(feed(&p, &s, "HTTP/1.1 204 No Content\r\n\r\n", false, NULL, &used), HF_OK);
	CHECK_INT(p.state, HTTP_DONE);
	CHECK_INT(feed(&p, &s, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		       false, NULL, &used), HF_OK);
	CHECK_INT(p.status, 200);
	CHECK_INT((int)s.len, 2);
	/* Framed by the end of the connection. */
	CHECK_INT(feed(&p, &s, "HTTP/1.0 200 OK\r\n\r\nuntil close", false, NULL, &used), HF_OK);
	CHECK_INT(p.state, HTTP_BODY_EOF);
	CHECK(!p.keep_alive);
	CHECK_INT(http_parse_eof(&p), HF_OK);
	CHECK_INT((int)s.len, 11);
}

TEST(http_refuses_what_it_must)
{
	static const char *const bad[] = {
		"HTTQ/1.1 200 OK\r\n\r\n",
		"HTTP/1.1 2x0 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX",
		"HTTP/1.1 200 OK\r\n folded: no\r\n\r\n",
		"HTTP/1.1 200 OK\r\nbad name: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 99999\r\n\r\n", /* over max_body */
	};
	struct http_parser p;
	struct sink s;
	size_t used;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(feed(&p, &s, bad[i], false, NULL, &used), HF_EPROTO);
		CHECK(p.error[0] != '\0');
	}
	/* Oversized headers: many of them. */
	char big[HTTP_MAX_HEADER_BYTES * 2];
	size_t n = (size_t)snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\n");
	while (n + 40 < sizeof(big))
		n += (size_t)snprintf(big + n, sizeof(big) - n, "x-h: %030d\r\n", 7);
	CHECK_INT(feed(&p, &s, big, false, NULL, &used), HF_EPROTO);
	/* Cut short: the framing says more was coming. */
	CHECK_INT(feed(&p, &s, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf", false, NULL, &used),
		  HF_OK);
	CHECK_INT(http_parse_eof(&p), HF_EPROTO);
	CHECK_INT(feed(&p, &s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", false, NULL,
		       &used), HF_OK);
	CHECK_INT(http_parse_eof(&p), HF_EPROTO);
	http_parser_init(&p, false, 10, NULL, NULL);
	CHECK_INT(http_parse_eof(&p), HF_EPROTO);
}

TEST(http_random_and_mutated_input_never_breaks_it)
{
	static const char chunked[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				      "5\r\nhello\r\n0\r\n\r\n";
	uint32_t x = 12345;
	uint8_t buf[600];
	struct http_parser p;
	struct sink s;
	size_t used;

	for (int round = 0; round < 20000; round++) {
		const char *base = round % 2 ? plain : chunked;
		size_t len = strlen(base);
		memcpy(buf, base, len);
		/* Flip a few bytes, or use pure noise. */
		for (int k = 0; k < 1 + round % 4; k++) {
			x = x * 1103515245u + 12345u;
			buf[(x >> 8) % len] = (uint8_t)(x >> 16);
		}
		if (round % 10 == 0)
			for (size_t k = 0; k < len; k++) {
				x = x * 1103515245u + 12345u;
				buf[k] = (uint8_t)(x >> 16);
			}
		memset(&s, 0, sizeof(s));
		http_parser_init(&p, false, 4096, collect, &s);
		int rc = http_parse(&p, buf, len, &used);
		CHECK(used <= len);
		CHECK(rc == HF_OK || (rc == HF_EPROTO && p.error[0]));
		CHECK(s.len <= 4096);
		rc = http_parse_eof(&p);
		CHECK(rc == HF_OK || rc == HF_EPROTO);
	}
}
