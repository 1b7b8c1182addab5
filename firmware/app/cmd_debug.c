/*
** cmd_debug.c: the debug verbs, for people and tests, not for scripts:
** debug segment FILE (a replica file's header, every record checked),
** debug fetch URL (the HTTP client and TLS) and debug s3 (one S3 call).
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cmd.h"
#include "app/cmd_int.h"
#include "base/units.h"
#include "fmt/rcrypt.h"
#include "fmt/seg.h"
#include "net/httpc.h"
#include "net/s3.h"
#include "port.h"
#include "ship/replica.h"

/* ---- debug segment ------------------------------------------------------------------ */

static int to_file(void *arg, const uint8_t *d, size_t n)
{
	return fwrite(d, 1, n, arg) == n ? 0 : 1;
}

/* debug fetch URL [--ca FILE] [--pin PIN] [--repeat N]: GETs through the
** HTTP client and TLS, N times over one client (kept alive, or reconnected
** with the TLS session resumed when the server closes). */
static int debug_fetch(struct args *a, FILE *out)
{
	static const struct args_opt opts[] = { { "help", 'h', false }, { "ca", 0, true },
					       { "pin", 0, true },     { "repeat", 0, true },
					       { NULL, 0, false } };
	const char *url = NULL, *ca = NULL, *pin = NULL, *val;
	unsigned long repeat = 1;
	struct httpc_url u;
	struct httpc h;
	int r, idx, rc;

	while ((r = args_next(a, opts, &idx, &val)) != ARGS_END) {
		if (r < 0)
			return r;
		if (r == ARGS_POSITIONAL)
			url = val;
		else if (idx == 0)
			return ARGS_HELP;
		else if (idx == 1)
			ca = val;
		else if (idx == 2)
			pin = val;
		else if ((repeat = strtoul(val, NULL, 10)) < 1 || repeat > 100) {
			port_log("debug fetch: --repeat: 1 to 100");
			return HF_EINVAL;
		}
	}
	if (!url) {
		port_log("debug fetch: which URL?");
		return HF_EINVAL;
	}
	if ((rc = httpc_parse_url(url, &u)) != HF_OK)
		return rc;
	if ((rc = httpc_open(&h, &u, ca, pin, 10000)) == HF_OK) {
		for (unsigned long i = 0; i < repeat && rc == HF_OK; i++) {
			struct http_parser p;
			http_parser_init(&p, false, 64u << 20, to_file, out);
			if ((rc = httpc_send(&h, "GET", u.path, NULL, NULL, &p)) == HF_OK)
				port_log("debug fetch: HTTP %d over %s, %llu body bytes", p.status,
					 h.proto, (unsigned long long)p.body_bytes);
		}
		if (rc == HF_OK)
			port_log("debug fetch: %u request(s) over %u connection(s)", h.requests,
				 h.connects);
	}
	httpc_close(&h);
	return rc;
}

static int print_object(void *arg, const struct s3_object *o)
{
	fprintf(arg, "%12llu  %s\n", (unsigned long long)o->size, o->key);
	return 0;
}

static int debug_s3_run(struct s3 *s, const char **pos, const char *state, unsigned max_keys,
			FILE *out)
{
	int rc;

	if (!strcmp(pos[0], "put") && pos[1] && pos[2])
		return s3_put_file(s, pos[1], pos[2], state);
	if (!strcmp(pos[0], "get") && pos[1]) {
		if ((rc = s3_get(s, pos[1], to_file, out)) == HF_ENOENT)
			port_log("debug s3: %s: no such object", pos[1]);
		return rc;
	}
	if (!strcmp(pos[0], "head") && pos[1]) {
		uint64_t size;
		if ((rc = s3_head(s, pos[1], &size)) == HF_OK)
			fprintf(out, "%llu\n", (unsigned long long)size);
		else if (rc == HF_ENOENT)
			port_log("debug s3: %s: no such object", pos[1]);
		return rc;
	}
	if (!strcmp(pos[0], "rm") && pos[1])
		return s3_delete(s, pos[1]);
	if (!strcmp(pos[0], "rm-prefix") && pos[1]) {
		unsigned n;
		rc = s3_delete_prefix(s, pos[1], &n);
		fprintf(out, "%u deleted\n", n);
		return rc;
	}
	if (!strcmp(pos[0], "ls"))
		return s3_list(s, pos[1] ? pos[1] : "", max_keys, print_object, out);
	if (!strcmp(pos[0], "abort") && pos[1] && pos[2])
		return s3_abort(s, pos[1], pos[2]);
	port_log("debug s3: put KEY FILE | get KEY | head KEY | rm KEY | rm-prefix PREFIX | "
		 "ls [PREFIX] | abort KEY ID");
	return HF_EINVAL;
}

/*
** debug s3 put KEY FILE | get KEY | head KEY | rm KEY | rm-prefix PREFIX |
** ls [PREFIX] | abort KEY UPLOAD_ID, with [--max-keys N] [--ca FILE] [--pin PIN]
** [--timeout T] [--retries N] [--part-size SIZE] [--state FILE] [--virtual]
** [--unsigned-payload] [--bandwidth BYTES_PER_S]:
** S3 calls through one client. The endpoint, bucket and region come from
** $HOLDFAST_S3_ENDPOINT, $HOLDFAST_S3_BUCKET, $HOLDFAST_S3_REGION
** (us-east-1), the credentials from $AWS_ACCESS_KEY_ID and
** $AWS_SECRET_ACCESS_KEY: never from the command line, where ps shows them.
** Over 80 lines: one case per setting of the S3 client's, in one place.
*/
static int debug_s3(struct args *a, FILE *out)
{
	static const struct args_opt opts[] = {
		{ "help", 'h', false },	  { "ca", 0, true },	    { "max-keys", 0, true },
		{ "timeout", 0, true },	  { "retries", 0, true },   { "part-size", 0, true },
		{ "state", 0, true },	  { "virtual", 0, false },  { "pin", 0, true },
		{ "unsigned-payload", 0, false }, { "bandwidth", 0, true }, { NULL, 0, false },
	};
	const char *pos[3] = { NULL, NULL, NULL }, *val, *ep = getenv("HOLDFAST_S3_ENDPOINT");
	const char *state = NULL;
	unsigned npos = 0, max_keys = 0;
	struct s3_cfg c = { 0 };
	struct s3 s;
	uint64_t v;
	int r, idx, rc;

	c.bucket = getenv("HOLDFAST_S3_BUCKET");
	c.region = getenv("HOLDFAST_S3_REGION") ? getenv("HOLDFAST_S3_REGION") : "us-east-1";
	c.access_key = getenv("AWS_ACCESS_KEY_ID");
	c.secret_key = getenv("AWS_SECRET_ACCESS_KEY");
	c.timeout_ms = 15000;
	c.retries = 4;
	while ((r = args_next(a, opts, &idx, &val)) != ARGS_END) {
		if (r < 0)
			return r;
		if (r == ARGS_POSITIONAL) {
			if (npos == 3) {
				port_log("debug s3: too many arguments");
				return HF_EINVAL;
			}
			pos[npos++] = val;
			continue;
		}
		switch (idx) {
		case 0:
			return ARGS_HELP;
		case 1:
			c.ca_file = val;
			break;
		case 2:
			max_keys = (unsigned)strtoul(val, NULL, 10);
			break;
		case 3:
			if (units_parse_duration(val, &v) || v == 0 || v > 3600000) {
				port_log("debug s3: --timeout: '%s' is not a duration such as 10s", val);
				return HF_EINVAL;
			}
			c.timeout_ms = (unsigned)v;
			break;
		case 4:
			c.retries = (unsigned)strtoul(val, NULL, 10);
			break;
		case 5:
			if (units_parse_size(val, &c.part_size) || c.part_size < S3_PART_MIN) {
				port_log("debug s3: --part-size: '%s' is not a size of 5MiB or more", val);
				return HF_EINVAL;
			}
			break;
		case 6:
			state = val;
			break;
		case 7:
			c.virtual_host = true;
			break;
		case 8:
			c.pin = val;
			break;
		case 9:
			c.unsigned_payload = true;
			break;
		default:
			if (units_parse_size(val, &c.bandwidth) || c.bandwidth < 1024) {
				port_log("debug s3: --bandwidth: '%s' is not a rate such as 256KiB", val);
				return HF_EINVAL;
			}
		}
	}
	if (!ep || !c.bucket || !c.access_key || !c.secret_key || !pos[0]) {
		port_log("debug s3: set HOLDFAST_S3_ENDPOINT, HOLDFAST_S3_BUCKET, AWS_ACCESS_KEY_ID "
			 "and AWS_SECRET_ACCESS_KEY, and say put KEY FILE | get KEY | head KEY | "
			 "rm KEY | ls [PREFIX] | abort KEY ID");
		return HF_EINVAL;
	}
	if ((rc = httpc_parse_url(ep, &c.endpoint)) != HF_OK)
		return rc;
	if ((rc = s3_open(&s, &c)) == HF_OK) {
		rc = debug_s3_run(&s, pos, state, max_keys, out);
		port_log("debug s3: %u request(s) over %u connection(s) (%s), %u retried",
			 s.http.requests, s.http.connects, s.http.proto[0] ? s.http.proto : "none",
			 s.retried);
	}
	s3_close(&s);
	return rc;
}

/* The name FILE has in a replica, from its path's last components:
** DEVICE/GEN/snapshot.zst, DEVICE/GEN/manifest or DEVICE/GEN/seg/SEQ.zst. */
static const char *rel_of_path(const char *file)
{
	const char *after[4]; /* just after the last, the second last, ... '/' */
	int n = 0;

	for (const char *p = file + strlen(file); p > file && n < 4; p--)
		if (p[-1] == '/')
			after[n++] = p;
	if (n >= 2 && !strncmp(after[1], "seg/", 4))
		return n == 4 ? after[3] : n == 3 ? file : NULL;
	return n >= 3 ? after[2] : n == 2 ? file : NULL;
}

/* debug segment FILE [--key-file K] [--as REL]: opens FILE to be streamed
** (F->s), through its envelope with K's keys (bound to REL, by default
** FILE's last path components as the replica names it). F is closed on
** failure. */
static int debug_open(struct args *a, const char **file, struct replica_file *f)
{
	static const struct args_opt opts[] = { { "help", 'h', false }, { "key-file", 0, true },
					       { "as", 0, true }, { NULL, 0, false } };
	const char *key = NULL, *rel = NULL, *val;
	struct rcrypt k;
	uint8_t magic[8];
	char why[300];
	uint64_t size;
	size_t got;
	bool sealed;
	int r, idx, rc;

	*file = NULL;
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	while ((r = args_next(a, opts, &idx, &val)) != ARGS_END) {
		if (r < 0)
			return r;
		if (r == ARGS_POSITIONAL)
			*file = val;
		else if (idx == 0)
			return ARGS_HELP;
		else if (idx == 1)
			key = val;
		else
			rel = val;
	}
	if (!*file) {
		port_log("debug segment: which file?");
		return HF_EINVAL;
	}
	if ((rc = port_fs_open_read(*file, &f->fd, &size)) != HF_OK)
		return rc;
	stream_fd(&f->raw, f->fd, size);
	f->s = &f->raw;
	if ((rc = port_fs_pread(f->fd, magic, sizeof(magic), 0, &got)) != HF_OK)
		goto out;
	sealed = rcrypt_is_sealed(magic, got);
	if (!key && !sealed)
		return HF_OK;
	rc = HF_ECORRUPT;
	if (!key)
		port_log("%s: encrypted; give --key-file (the [replica] key_file) to read it", cmd_safe(*file));
	else if (!sealed)
		port_log("%s: not encrypted but --key-file is given", cmd_safe(*file));
	else if (!rel && !(rel = rel_of_path(*file)))
		port_log("%s: which name does it have in the replica? (--as DEVICE/GEN/seg/SEQ.zst)",
			 cmd_safe(*file));
	else if ((rc = rcrypt_load(&k, key)) == HF_OK) {
		/* The stream keeps the file's key only: K goes at once. */
		if ((rc = rcrypt_stream_open(&f->env, &k, rel, &f->raw, &f->s, why, sizeof(why))) !=
		    HF_OK)
			port_log("%s (as %s): %s", cmd_safe(*file), cmd_safe(rel), why);
		rcrypt_free(&k);
	}
out:
	if (rc != HF_OK)
		replica_file_close(f);
	return rc;
}

/* debug segment's record counter (seg_read_body checks each record). */
static int count_page(void *arg, uint32_t pgno, const uint8_t *page, char *why, size_t why_len)
{
	(void)pgno;
	(void)page;
	(void)why;
	(void)why_len;
	++*(uint32_t *)arg;
	return HF_OK;
}

int cmd_debug(const struct args_global *g, struct args *a, FILE *out)
{
	struct seg_hdr h;
	const char *sub, *file;
	int rc;

	(void)g;
	if (a->i < a->argc && !strcmp(a->argv[a->i], "fetch")) {
		a->i++;
		return debug_fetch(a, out);
	}
	if (a->i < a->argc && !strcmp(a->argv[a->i], "s3")) {
		a->i++;
		return debug_s3(a, out);
	}
	if (a->i + 1 >= a->argc || strcmp(a->argv[a->i], "segment") != 0) {
		if (a->i < a->argc && (!strcmp(a->argv[a->i], "-h") || !strcmp(a->argv[a->i], "--help")))
			return ARGS_HELP;
		port_log("debug: usage: holdfast debug segment FILE | fetch URL [--ca FILE]");
		return HF_EINVAL;
	}
	sub = a->argv[a->i++];
	(void)sub;
	struct replica_file f;
	struct seg_reader sr;
	char why[300] = "";
	uint32_t count = 0;
	if ((rc = debug_open(a, &file, &f)) != HF_OK)
		return rc == HF_EINVAL || rc == HF_ETOOBIG ? HF_ECORRUPT : rc;
	/* Every record decompressed (one at a time, the file streamed) and
	** counted: "checksum: ok" says the whole file holds together, not
	** only its header. */
	if ((rc = seg_open(&sr, f.s, why, sizeof(why))) == HF_OK)
		rc = seg_read_body(&sr, count_page, &count, why, sizeof(why));
	h = sr.h;
	seg_close(&sr);
	replica_file_close(&f);
	if (rc != HF_OK) {
		port_log("debug segment: %s: %s", cmd_safe(file), why);
		return rc;
	}
	fprintf(out, "file: %s\nformat: %u\nkind: %s\ndevice: %s\ngeneration: %016" PRIx64
		"\nseq: %" PRIu64 "\npage size: %u\ndatabase pages: %u\npages in body: %u\n"
		"WAL salts: %08x %08x\nWAL frames: %u to %u\nboot: %" PRIu64 "\nsealed: utc %" PRId64
		" ms, monotonic %" PRIu64 " ms\nbody: %" PRIu64 " bytes compressed, %" PRIu64 " raw\n"
		"checksum: ok\n",
		cmd_safe(file), h.version, h.kind == SEG_SNAPSHOT ? "snapshot" : "segment", cmd_safe(h.device),
		h.generation, h.seq, h.page_size, h.db_pages, count, h.salt[0], h.salt[1],
		h.frame_first, h.frame_end, h.boot, h.utc_ms, h.mono_ms, h.body_len,
		(uint64_t)count * (4 + h.page_size));
	return HF_OK;
}
