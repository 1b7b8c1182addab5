/*
** tools/fuzz/cfg.c: libFuzzer target for the holdfast.conf parser
** (firmware/fmt/cfg.c). The input is the file's text, NUL-terminated as
** cfg_load hands it over (a file with a NUL in it never reaches cfg_parse).
** Besides the sanitizers' findings, a parse that succeeds must leave every
** string of struct cfg terminated inside its array and the group count in
** bounds; anything else aborts. Seeds: tools/fuzz/corpus/cfg/.
** Run: make fuzz-cfg [FUZZ_SECONDS=300].
*/
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "fmt/cfg.h"
#include "port.h"

/* Error messages are formatted (that is code under test) but not shown. */
static void quiet(int level, const char *line, void *arg)
{
	(void)level;
	(void)line;
	(void)arg;
}

#define TERMINATED(a) (memchr((a), '\0', sizeof(a)) != NULL)

static void check(const struct cfg *c)
{
	if (!TERMINATED(c->replica) || !TERMINATED(c->s3_endpoint) || !TERMINATED(c->s3_region) ||
	    !TERMINATED(c->s3_ca_file) || !TERMINATED(c->s3_credentials_file) ||
	    !TERMINATED(c->metrics_file) || !TERMINATED(c->s3_access_key) ||
	    !TERMINATED(c->s3_secret_key) || !TERMINATED(c->s3_pin) ||
	    !TERMINATED(c->metered_links) || !TERMINATED(c->device) ||
	    c->ngroups > CFG_MAX_GROUPS)
		abort();
	for (unsigned i = 0; i < c->ngroups; i++)
		if (!TERMINATED(c->groups[i].name) ||
		    cfg_group_limit(c, c->groups[i].name) == 0)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg c;
	char *text;

	if (size > CFG_MAX_BYTES || !(text = malloc(size + 1)))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	port_log_set_sink(quiet, NULL);
	cfg_init(&c);
	if (cfg_parse(&c, text, "fuzz.conf") == HF_OK)
		check(&c);
	free(text);
	return 0;
}
