/*
** tools/fuzz/s3xml.c: libFuzzer target for the S3 XML readers
** (firmware/fmt/s3xml.c). Run: make fuzz-s3xml [FUZZ_SECONDS=300]; make check
** runs it briefly.
*/
#include <stddef.h>
#include <stdint.h>

#include "fmt/s3xml.h"

static int sink(void *arg, const struct s3_object *o)
{
	(void)arg;
	(void)o;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct s3_error e;
	char token[256];
	bool more;

	s3xml_error((const char *)data, size, &e);
	s3xml_list((const char *)data, size, sink, NULL, &more, token, sizeof(token));
	return 0;
}
