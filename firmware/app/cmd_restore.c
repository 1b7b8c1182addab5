/*
** cmd_restore.c: restore, which rebuilds a database from a replica: the
** generation's snapshot, then its segments in seq order, each checked
** (SHA-256, generation, device, seq, and WAL frames continuing exactly
** where the previous one stopped), so a damaged or missing file is named,
** never skipped over. The image is written under a staging name, passes
** integrity_check, and only then is renamed to OUT.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cmd.h"
#include "app/cmd_int.h"
#include "base/names.h"
#include "base/units.h"
#include "fmt/seg.h"
#include "port.h"
#include "ship/replica.h"
#include "ship/restore.h"

/* The name rules for a device, as ship.c makes one ([replica] device, or
** the host name with anything else made '_'): 1 to 32 letters, digits, '.',
** '_' and '-', not starting with '.' (so never "." or ".."). Anything else
** in a replica is not ours: refused before it becomes part of a path
** ("../x" would read outside the replica). */
static bool device_name_ok(const char *s)
{
	return names_charset(s, SEG_DEVICE_MAX) && s[0] != '.';
}

/* A generation directory's name: 16 lower-case hex digits. */
static bool gen_name_ok(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n == 16;
}

/* Opens replica file REL to be streamed (F: replica_file_open, through TMP
** for S3) and reads its header (SR: seg_open): said with VERB and the
** file's name on failure, when both are closed already; on success the
** caller closes them (close_seg). */
static int load_seg(const struct replica *rp, const char *verb, const char *rel, const char *tmp,
		    struct replica_file *f, struct seg_reader *sr)
{
	char why[300] = "";
	int rc = replica_file_open(rp, rel, tmp, f);

	memset(sr, 0, sizeof(*sr));
	if (rc != HF_OK) {
		replica_file_close(f);
		port_log("%s: %s/%s: cannot read it (%s)", verb, cmd_safe(rp->url), cmd_safe(rel),
			 hf_strerror(rc));
		return rc == HF_ENOENT || rc == HF_EINVAL || rc == HF_ETOOBIG ? HF_ECORRUPT : rc;
	}
	if ((rc = seg_open(sr, f->s, why, sizeof(why))) != HF_OK) {
		port_log("%s: %s/%s: %s", verb, cmd_safe(rp->url), cmd_safe(rel), why);
		seg_close(sr);
		replica_file_close(f);
	}
	return rc;
}

static void close_seg(struct replica_file *f, struct seg_reader *sr)
{
	seg_close(sr);
	replica_file_close(f);
}

/* A page read and dropped: a file checked through, not applied. */
static int drop_page(void *arg, uint32_t pgno, const uint8_t *page, char *why, size_t why_len)
{
	(void)arg;
	(void)pgno;
	(void)page;
	(void)why;
	(void)why_len;
	return HF_OK;
}

/* read_manifest for restore: a manifest missing or not right is damage,
** said with the file's name. */
static int check_manifest(const struct replica *rp, const char *dev, const char *gen,
			  uint64_t *follows, char *why, size_t why_len)
{
	int rc = cmd_read_manifest(rp, dev, gen, follows, why, why_len);

	if (rc == HF_ECORRUPT)
		port_log("restore: %s/%s/%s/manifest: not the manifest of device %s generation %s "
			 "(damaged?)", cmd_safe(rp->url), dev, gen, dev, gen);
	else if (rc != HF_OK)
		port_log("restore: cannot read %s/%s/%s/manifest (%s)", cmd_safe(rp->url), dev, gen,
			 hf_strerror(rc));
	return rc == HF_ENOENT ? HF_ECORRUPT : rc;
}

/* The device to use: DEVICE, or the only one there is. */
static int pick_device(const struct replica *rp, const char *device, char *out, size_t len)
{
	struct names l;
	int rc;

	if (device) {
		if (!device_name_ok(device)) {
			port_log("restore: --device '%s': not a device name (letters, digits, '.', '_' "
				 "and '-', at most %d, not starting with '.')",
				 cmd_safe(device), SEG_DEVICE_MAX);
			return HF_EINVAL;
		}
		snprintf(out, len, "%s", device);
		return HF_OK;
	}
	if ((rc = replica_list(rp, "", 0, NULL, &l)) != HF_OK) {
		if (rc == HF_ENOENT)
			port_log("replica %s does not exist or holds nothing", rp->url);
		else
			port_log("replica %s: cannot list its devices (%s)", rp->url, hf_strerror(rc));
		return rc;
	}
	if (l.n != 1) {
		port_log("replica %s holds %zu devices%s; pick one with --device", rp->url, l.n,
			 l.n ? "" : " (nothing shipped yet)");
		free(l.v);
		return HF_EINVAL;
	}
	if (!device_name_ok(l.v[0])) {
		port_log("replica %s: its only entry '%s' is not a device name; not read",
			 cmd_safe(rp->url), cmd_safe(l.v[0]));
		free(l.v);
		return HF_ECORRUPT;
	}
	snprintf(out, len, "%s", l.v[0]);
	free(l.v);
	return HF_OK;
}

static int64_t parse_utc(const char *v);

/* Drops from L the names that are not generations (a name with an escape
** sequence, say); returns how many are left. */
static size_t keep_gen_names(struct names *l)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		if (gen_name_ok(l->v[i]) && n++ != i)
			memcpy(l->v[n - 1], l->v[i], sizeof(l->v[i]));
	l->n = n;
	return n;
}

/* The generation to restore, into GNAME: GEN if given (it must be there),
** else the newest one (pick_generation), or with WANT_MS >= 0 the newest
** whose snapshot is at or before it. */
static int choose_generation(const struct replica *rep, const char *dev, const char *gen,
			     int64_t want_ms, char *gname, size_t len)
{
	struct names gens;
	char when[64];
	size_t best = 0;
	int rc;

	if ((rc = replica_list(rep, dev, 16, NULL, &gens)) == HF_OK && !keep_gen_names(&gens))
		rc = HF_ENOENT;
	if (rc != HF_OK) {
		if (rc == HF_ENOENT)
			port_log("restore: no generation of device '%s' in %s", dev, rep->url);
		else
			port_log("restore: cannot list the generations of device %s in %s (%s)", dev,
				 rep->url, hf_strerror(rc));
		free(gens.v);
		return rc == HF_ENOENT ? HF_EINVAL : rc;
	}
	if (gen && !gen_name_ok(gen)) {
		port_log("restore: --generation '%s': not a generation (16 hex digits)", cmd_safe(gen));
		rc = HF_EINVAL;
	} else if (gen) {
		rc = HF_EINVAL;
		for (size_t i = 0; i < gens.n; i++)
			if (!strcmp(gens.v[i], gen))
				rc = HF_OK;
		if (rc != HF_OK)
			port_log("restore: no generation %s of device %s in %s", gen, dev, rep->url);
		else
			snprintf(gname, len, "%s", gen);
	} else if ((rc = cmd_pick_generation(rep, "restore", dev, &gens, want_ms, &best)) == HF_OK) {
		snprintf(gname, len, "%s", gens.v[best]);
	} else if (rc == HF_ENOENT) {
		units_format_utc(want_ms, false, when, sizeof(when));
		port_log("restore: no generation of device %s in %s has a snapshot sealed at or "
			 "before %s (by a trusted clock): nothing to restore that early", dev,
			 rep->url, when);
	}
	free(gens.v);
	return rc;
}

/* What restore was asked for on its command line. */
struct restore_opts {
	const char *replica, *device, *gen, *outp, *ca, *key;
	bool allow_plain, force;
	uint64_t want_seq;         /* --seq, or UINT64_MAX: every segment */
	int64_t want_ms;           /* --time, or -1 */
};

/* A restore under way: where it reads from and writes to, and how far it
** got (PREV: the header of the last file applied, SEQ its number). */
struct restore_run {
	const struct restore_opts *ro;
	struct replica *rep;
	char dev[80], gname[80], grel[200], stage[4400], tmp[4500];
	struct restore_out o;
	struct replica_file f;
	struct seg_reader sr;
	struct seg_hdr prev;
	uint64_t seq;
};

/* Restore's arguments into RO, and OUT not there unless --force. */
static int restore_args(struct args *a, struct restore_opts *ro)
{
	static const struct args_opt opts[] = {
		{ "help", 'h', false },	      { "device", 0, true }, { "generation", 0, true },
		{ "seq", 0, true },	      { "output", 'o', true }, { "force", 0, false },
		{ "time", 0, true },	      { "ca", 0, true },       { "key-file", 0, true },
		{ "allow-plaintext", 0, false }, { NULL, 0, false },
	};
	enum port_fs_kind kind;
	const char *val;
	int r, idx, rc;

	memset(ro, 0, sizeof(*ro));
	ro->want_seq = UINT64_MAX;
	ro->want_ms = -1;
	while ((r = args_next(a, opts, &idx, &val)) != ARGS_END) {
		if (r < 0)
			return r;
		if (r == ARGS_POSITIONAL) {
			if (ro->replica) {
				port_log("restore: one replica only ('%s')", val);
				return HF_EINVAL;
			}
			ro->replica = val;
			continue;
		}
		switch (idx) {
		case 0: return ARGS_HELP;
		case 1: ro->device = val; break;
		case 2: ro->gen = val; break;
		case 3: {
			char *end;
			ro->want_seq = strtoull(val, &end, 10);
			if (*val < '0' || *val > '9' || *end) {
				port_log("restore: --seq: '%s' is not a segment number", val);
				return HF_EINVAL;
			}
			break;
		}
		case 4: ro->outp = val; break;
		case 5: ro->force = true; break;
		case 7: ro->ca = val; break;
		case 8: ro->key = val; break;
		case 9: ro->allow_plain = true; break;
		default:
			if ((ro->want_ms = parse_utc(val)) < 0) {
				port_log("restore: --time: '%s' is not YYYY-MM-DDTHH:MM:SSZ or @SECONDS "
					 "(UTC)", val);
				return HF_EINVAL;
			}
		}
	}
	if (!ro->replica || !ro->outp) {
		port_log("restore: usage: holdfast restore REPLICA -o OUT.db [--seq N] "
			 "[--generation G] [--device D] [--force] [--key-file K [--allow-plaintext]]");
		return HF_EINVAL;
	}
	if ((rc = port_fs_kind(ro->outp, &kind)) != HF_OK)
		return rc;
	if (kind != PORT_FS_NONE && !ro->force) {
		port_log("restore: %s exists; give --force to replace it", ro->outp);
		return HF_EEXIST;
	}
	return HF_OK;
}

/* Applies the file open in R (REL, its header H, number SEQ) to the staging
** file, and makes it the last one applied. */
static int restore_take(struct restore_run *r, const char *rel, const struct seg_hdr *h,
			uint64_t seq)
{
	char why[300];
	int rc;

	if ((rc = restore_apply(&r->o, &r->sr, why, sizeof(why))) != HF_OK) {
		port_log("restore: %s/%s: %s", cmd_safe(r->rep->url), rel, why);
		return rc;
	}
	close_seg(&r->f, &r->sr);
	r->prev = *h;
	r->seq = seq;
	return HF_OK;
}

/* The generation's snapshot, checked to be it, into the staging file. */
static int restore_snapshot(struct restore_run *r)
{
	int64_t want_ms = r->ro->want_ms;
	char rel[300];
	struct seg_hdr h;
	int rc;

	snprintf(rel, sizeof(rel), "%s/snapshot.zst", r->grel);
	if ((rc = load_seg(r->rep, "restore", rel, r->tmp, &r->f, &r->sr)) != HF_OK)
		return rc;
	h = r->sr.h;
	if (h.kind != SEG_SNAPSHOT || h.seq != 0 || strcmp(h.device, r->dev) != 0) {
		port_log("restore: %s/%s: not this generation's snapshot (header fields kind = %u, "
			 "seq = %" PRIu64 ", device = '%s')", cmd_safe(r->rep->url), rel,
			 (unsigned)h.kind, h.seq, cmd_safe(h.device));
		return HF_ECORRUPT;
	}
	if (want_ms >= 0 && (h.utc_ms < 0 || h.utc_ms > want_ms)) {
		/* --generation with --time: its snapshot must be old enough. */
		char when[64] = "by an untrusted clock";
		if (h.utc_ms >= 0)
			units_format_utc(h.utc_ms, false, when, sizeof(when));
		port_log("restore: generation %s of device %s starts after the time asked for (its "
			 "snapshot was sealed %s)", r->gname, r->dev, when);
		return HF_ENOENT;
	}
	return restore_take(r, rel, &h, 0);
}

/* Segment REL (number S) into the staging file, if it continues the last
** file applied: HF_OK, or with *STOP set when it was sealed after --time. */
static int restore_segment(struct restore_run *r, const char *rel, uint64_t s, bool *stop)
{
	int64_t want_ms = r->ro->want_ms;
	const struct seg_hdr *prev = &r->prev;
	struct seg_hdr h;
	char why[300];
	int rc;

	if ((rc = load_seg(r->rep, "restore", rel, r->tmp, &r->f, &r->sr)) != HF_OK)
		return rc;
	h = r->sr.h;
	if (want_ms >= 0 && (h.utc_ms < 0 || h.utc_ms > want_ms)) {
		/* Sealed after the time asked for, or when wall time was not
		** trusted (its time is unknown): stop before it, once its
		** checksum says the time read is the one written (a damaged
		** header must not cut the history short unsaid). */
		if ((rc = seg_read_body(&r->sr, drop_page, NULL, why, sizeof(why))) != HF_OK)
			port_log("restore: %s/%s: %s", cmd_safe(r->rep->url), rel, why);
		close_seg(&r->f, &r->sr);
		*stop = true;
		return rc;
	}
	bool same_wal = h.salt[0] == prev->salt[0] && h.salt[1] == prev->salt[1];
	if (h.kind != SEG_FRAMES || h.seq != s || h.generation != prev->generation ||
	    strcmp(h.device, r->dev) != 0 || h.page_size != prev->page_size ||
	    h.frame_first != (same_wal ? prev->frame_end : 0)) {
		port_log("restore: %s/%s does not continue segment %" PRIu64
			 " (seq, generation, page size or WAL frames differ)", cmd_safe(r->rep->url),
			 rel, r->seq);
		return HF_ECORRUPT;
	}
	return restore_take(r, rel, &h, s);
}

/* The generation's segments in seq order, up to --seq, --time or the
** first one missing. */
static int restore_segments(struct restore_run *r)
{
	uint64_t want_seq = r->ro->want_seq;
	struct names segs = { 0 };
	bool stop = false;
	char rel[300];
	int rc;

	/* Only "not there" means no segment was shipped: any other failure to
	** list them would restore the snapshot alone, old data that looks
	** like the latest. */
	snprintf(rel, sizeof(rel), "%s/seg", r->grel);
	if ((rc = replica_list(r->rep, rel, 20, ".zst", &segs)) == HF_ENOENT) {
		rc = HF_OK;
	} else if (rc != HF_OK) {
		port_log("restore: cannot list the segments in %s/%s (%s); nothing restored",
			 cmd_safe(r->rep->url), rel, hf_strerror(rc));
		return rc;
	}
	for (size_t i = 0; rc == HF_OK && !stop && i < segs.n && r->seq < want_seq; i++) {
		char *end;
		uint64_t s = strtoull(segs.v[i], &end, 16);
		if (s != r->seq + 1 || strcmp(end, ".zst") != 0) {
			port_log("restore: segment %" PRIu64 " is missing from %s/%s/seg; stopping at %"
				 PRIu64, r->seq + 1, cmd_safe(r->rep->url), r->grel, r->seq);
			break;
		}
		snprintf(rel, sizeof(rel), "%s/seg/%s", r->grel, segs.v[i]);
		if ((rc = restore_segment(r, rel, s, &stop)) == HF_OK && !stop &&
		    port_stderr_is_tty())
			fprintf(stderr, "\rrestore: segment %" PRIu64 " of %zu", r->seq, segs.n);
	}
	if (port_stderr_is_tty())
		fprintf(stderr, "\n");
	free(segs.v);
	if (rc == HF_OK && want_seq != UINT64_MAX && r->seq != want_seq) {
		port_log("restore: segment %" PRIu64 " is not in %s/%s (it holds up to %" PRIu64 ")",
			 want_seq, cmd_safe(r->rep->url), r->grel, r->seq);
		rc = HF_ENOENT;
	}
	return rc;
}

static int restore(const struct args_global *g, struct args *a, FILE *out, struct replica *rep)
{
	struct restore_opts ro;
	struct restore_run r = { .ro = &ro, .rep = rep, .f = { .fd = -1 } };
	char problem[200], why[300];
	enum port_fs_kind kind;
	uint64_t follows;
	bool ok;
	int rc;

	(void)g;
	if ((rc = restore_args(a, &ro)) != HF_OK)
		return rc;
	if ((rc = cmd_open_arg(ro.replica, ro.ca, ro.key, rep)) != HF_OK)
		return rc;
	rep->allow_plain = ro.allow_plain;
	if ((rc = pick_device(rep, ro.device, r.dev, sizeof(r.dev))) != HF_OK)
		return rc;
	if ((rc = choose_generation(rep, r.dev, ro.gen, ro.want_ms, r.gname, sizeof(r.gname))) !=
	    HF_OK)
		return rc;
	snprintf(r.grel, sizeof(r.grel), "%s/%s", r.dev, r.gname);
	if ((rc = check_manifest(rep, r.dev, r.gname, &follows, why, sizeof(why))) != HF_OK)
		return rc;
	/* The database is rebuilt page by page in the staging file (restore.c:
	** never in memory), checked, and only then moved to OUT. */
	snprintf(r.stage, sizeof(r.stage), "%s.restoring", ro.outp);
	/* Each file is streamed, never held whole: an S3 object through a
	** copy beside the staging file (unlinked once open), a directory
	** replica's file in place. */
	snprintf(r.tmp, sizeof(r.tmp), "%s.get", r.stage);
	if ((rc = restore_begin(&r.o, r.stage)) != HF_OK)
		return rc;
	if ((rc = restore_snapshot(&r)) != HF_OK || (rc = restore_segments(&r)) != HF_OK)
		goto fail;
	if ((rc = restore_finish(&r.o)) != HF_OK)
		goto fail;
	rc = jlog_integrity_file(r.stage, &ok, problem, sizeof(problem));
	if (rc == HF_OK && !ok) {
		port_log("restore: the rebuilt database fails integrity_check: %s", cmd_safe(problem));
		rc = HF_ECORRUPT;
	}
	if (rc == HF_OK && (rc = port_fs_rename(r.stage, ro.outp)) != HF_OK &&
	    port_fs_kind(r.stage, &kind) == HF_OK && kind == PORT_FS_NONE) {
		/* Renamed, but its directory's fsync failed: OUT looks whole
		** yet a power cut may take it back. Nothing said done may be
		** lost, so it is not left there (logged by the port). */
		port_fs_unlink(ro.outp);
		port_log("restore: %s was not made durable; removed it, nothing restored", ro.outp);
	}
	if (rc != HF_OK)
		goto fail;
	fprintf(out, "restored %s generation %s up to segment %" PRIu64 " (%u pages) to %s; "
		"integrity_check ok\n", r.dev, r.gname, r.seq, r.prev.db_pages, ro.outp);
	return HF_OK;
fail:
	close_seg(&r.f, &r.sr);
	restore_abort(&r.o, r.stage);
	return rc;
}

/* Milliseconds since the epoch of "YYYY-MM-DDTHH:MM:SSZ" or "@SECONDS"; -1 if
** neither. */
static int64_t parse_utc(const char *v)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, sec, n = 0;
	long long days;
	char *end;

	if (v[0] == '@') {
		long long t = strtoll(v + 1, &end, 10);
		return v[1] >= '0' && v[1] <= '9' && !*end && t >= 0 ? t * 1000 : -1;
	}
	if (sscanf(v, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
	    v[n] || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	if (d > mdays[mo - 1] + (mo == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)))
		return -1;
	days = units_days_from_civil(y, (unsigned)mo, (unsigned)d);
	return ((days * 24 + h) * 60 + mi) * 60000LL + sec * 1000LL;
}

/* The replica verbs open their replica through open_arg; closing it here
** covers every way out of them. */
int cmd_restore(const struct args_global *g, struct args *a, FILE *out)
{
	struct replica rep = { 0 };
	int rc = restore(g, a, out, &rep);

	replica_close(&rep);
	return rc;
}
