/*
** tools/fuzz/http.c: libFuzzer target for the HTTP response parser
** (firmware/fmt/http.c). Each input is split in two at a point its first byte
** chooses, so both the framing and the resumption across feeds are fuzzed.
** Run: make fuzz-http [FUZZ_SECONDS=300]; make check runs it briefly.
*/
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "fmt/http.h"

static int sink(void *arg, const uint8_t *d, size_t n)
{
	(void)arg;
	(void)d;
	(void)n;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_parser p;
	size_t cut, used, off = 0;

	if (size < 2)
		return 0;
	cut = data[0] % size;
	data++;
	size--;
	http_parser_init(&p, data[0] & 1, 1 << 20, sink, NULL);
	if (http_parse(&p, data, cut < size ? cut : size, &used) == HF_OK) {
		off = used;
		if (p.state != HTTP_DONE && off < size && http_parse(&p, data + off, size - off, &used) == HF_OK)
			http_parse_eof(&p);
	}
	return 0;
}
