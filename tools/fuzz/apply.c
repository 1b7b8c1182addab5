/*
** tools/fuzz/apply.c: libFuzzer target for restore's apply (firmware/
** restore.c: restore_apply over seg_open and seg_read_body, each file
** streamed from memory as restore streams it from a replica), into a staged
** output file in $TMPDIR. Each input is one or more segment files, each
** preceded by its length (4 bytes, big-endian): the first is applied as the
** snapshot, the rest as segments, as restore does. Each file's body_len
** and SHA-256 trailer are fixed up when its last byte is even (see
** seg.c's target). Checks that the output is exactly db_pages x page_size
** after each file applied.
** Run: make fuzz-apply [FUZZ_SECONDS=N] (limits in tools/fuzz/apply.options).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/crypto.h"
#include "base/err.h"
#include "base/stream.h"
#include "fmt/seg.h"
#include "port.h"
#include "ship/restore.h"

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void quiet(int level, const char *line, void *arg)
{
	(void)level;
	(void)line;
	(void)arg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[512];
	struct restore_out o;
	struct seg_reader sr;
	struct stream in;
	struct stat st;
	char why[300];

	if (!path[0]) {
		const char *tmp = getenv("TMPDIR");
		snprintf(path, sizeof(path), "%s/hf-fuzz-apply.%d", tmp ? tmp : "/tmp", (int)getpid());
		port_log_set_sink(quiet, NULL);
	}
	if (restore_begin(&o, path) != HF_OK)
		abort();
	while (size >= 4) {
		size_t n = (size_t)data[0] << 24 | (size_t)data[1] << 16 | (size_t)data[2] << 8 | data[3];
		uint8_t *buf;
		int rc;
		data += 4;
		size -= 4;
		if (n > size)
			n = size;
		if (!(buf = malloc(n ? n : 1)))
			break;
		memcpy(buf, data, n);
		data += n;
		size -= n;
		if (n >= SEG_HDR_SIZE + SEG_TRAILER_SIZE && !(buf[n - 1] & 1)) {
			put64(buf + 112, n - SEG_HDR_SIZE - SEG_TRAILER_SIZE);
			crypto_sha256(buf, n - SEG_TRAILER_SIZE, buf + n - SEG_TRAILER_SIZE);
		}
		why[0] = '\0';
		stream_mem(&in, buf, n);
		rc = seg_open(&sr, &in, why, sizeof(why));
		if (rc == HF_OK)
			rc = restore_apply(&o, &sr, why, sizeof(why));
		seg_close(&sr);
		free(buf);
		if (rc != HF_OK) {
			if (!why[0])
				abort(); /* a refusal that does not say why */
			break;
		}
		if (fstat(o.fd, &st) != 0 ||
		    (uint64_t)st.st_size != (uint64_t)sr.h.db_pages * sr.h.page_size)
			abort(); /* the output is not the size the header says */
	}
	restore_abort(&o, path);
	return 0;
}
