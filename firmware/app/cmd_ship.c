/*
** cmd_ship.c: the shipping verbs: sync now|status, replica ls, restore,
** debug segment.
**
** restore rebuilds a database from a replica: the generation's snapshot,
** then its segments in seq order, each checked (SHA-256, generation, device,
** seq, and WAL frames continuing exactly where the previous one stopped), so
** a damaged or missing file is named, never skipped over. The image is
** written under a staging name, passes integrity_check, and only then is
** renamed to OUT.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cmd_ship.h"
#include "app/ctx.h"
#include "base/names.h"
#include "base/units.h"
#include "fmt/cfg.h"
#include "fmt/manifest.h"
#include "fmt/rcrypt.h"
#include "fmt/seg.h"
#include "log/datadir.h"
#include "net/httpc.h"
#include "net/s3.h"
#include "port.h"
#include "ship/replica.h"
#include "ship/restore.h"
#include "ship/ship.h"


/* ---- opening ------------------------------------------------------------------- */

struct shipctx {
	struct ctx c;
	struct cfg cfg;
	struct ship ship;
};

static int shipctx_open(const struct args_global *g, struct shipctx *s)
{
	int rc;

	if ((rc = ctx_open(g, &s->c)) != HF_OK)
		return rc;
	memset(&s->ship, 0, sizeof(s->ship));
	if ((rc = cfg_load(&s->cfg, s->c.conf)) != HF_OK || (rc = ship_init(&s->ship, s->c.dir, &s->cfg)) ||
	    (rc = ship_load(&s->ship))) {
		ship_free(&s->ship);
		ctx_close(&s->c);
		return rc;
	}
	return HF_OK;
}

static void shipctx_close(struct shipctx *s)
{
	ship_count(&s->ship); /* what the replica's client sent, to the day's budget */
	ship_free(&s->ship);
	cfg_wipe(&s->cfg);
	ctx_close(&s->c);
}

static int no_args(struct args *a)
{
	static const struct args_opt opts[] = { { "help", 'h', false }, { NULL, 0, false } };
	const char *val;
	int r, idx;

	while ((r = args_next(a, opts, &idx, &val)) != ARGS_END) {
		if (r < 0)
			return r;
		if (r == ARGS_OPTION)
			return ARGS_HELP;
		port_log("%s: unexpected argument '%s'", a->verb, val);
		return HF_EINVAL;
	}
	return HF_OK;
}

/* ---- sync ------------------------------------------------------------------------- */

int cmd_wait_remote(const struct args_global *g, uint64_t timeout_ms)
{
	struct shipctx s;
	int rc;

	if ((rc = shipctx_open(g, &s)) != HF_OK)
		return rc;
	if (!s.cfg.replica[0]) {
		port_log("--wait-remote: no replica configured ([replica] url in %s/holdfast.conf)",
			 s.c.dir);
		rc = HF_EINVAL;
	} else {
		rc = ship_wait_remote(&s.ship, &s.c.j, &s.c.now, timeout_ms);
	}
	shipctx_close(&s);
	return rc;
}

static void sealed_when(const struct replica *rp, const char *rel, char *out, size_t len);

/* Says what waits in the spool after sync now sent what it could (WHY: why
** the rest did not go). */
static void spool_waits(struct shipctx *s, unsigned copied, const char *why)
{
	uint64_t bytes, lowest;
	unsigned files;

	if (ship_spool_usage(&s->ship, &files, &bytes, &lowest) == HF_OK)
		port_log("sync: %s: %u file(s) copied, %u (%" PRIu64 " bytes) wait in the spool",
			 why, copied, files, bytes);
}

static int sync_now(const struct args_global *g, struct args *a, FILE *out)
{
	static const struct args_opt opts[] = { { "help", 'h', false }, { "checkpoint", 0, false },
					       { "force", 0, false }, { NULL, 0, false } };
	struct shipctx s;
	char sealed[200], why[1400], limit_why[160];
	unsigned copied = 0;
	bool checkpoint = false, force = false;
	const char *val;
	int rc, r, idx, limit;

	while ((r = args_next(a, opts, &idx, &val)) != ARGS_END) {
		if (r < 0)
			return r;
		if (r == ARGS_POSITIONAL) {
			port_log("sync now: unexpected argument '%s'", val);
			return HF_EINVAL;
		}
		if (idx == 0)
			return ARGS_HELP;
		if (idx == 1)
			checkpoint = true;
		else
			force = true;
	}
	if ((rc = shipctx_open(g, &s)) != HF_OK)
		return rc;
	if (!s.cfg.replica[0]) {
		port_log("sync: no replica configured ([replica] url in %s/holdfast.conf)", s.c.dir);
		shipctx_close(&s);
		return HF_EINVAL;
	}
	/* The daemon's limits (ship_limit): outside the upload window or with
	** the day's budget spent, sealing goes on into the spool and nothing
	** is sent, said as a failure; --force sends anyway, and what it sends
	** counts against the budget all the same. */
	limit = ship_limit(&s.ship);
	ship_limit_why(&s.ship, limit, limit_why, sizeof(limit_why));
	if (force)
		s.ship.allowance = UINT64_MAX;
	else if (limit != SHIP_LIMIT_NONE)
		s.ship.hold = true;
	sealed[0] = '\0';
	if (checkpoint) {
		/* Sealed first, with the write lock held across the checkpoint. */
		rc = ship_checkpoint(&s.ship, &s.c.j, &s.c.now, sealed, sizeof(sealed));
	} else if ((rc = jlog_begin(&s.c.j)) == HF_OK) {
		rc = ship_seal(&s.ship, &s.c.j, &s.c.now, sealed, sizeof(sealed));
		jlog_rollback(&s.c.j); /* sealing writes nothing to the log */
	}
	if (rc != HF_OK)
		goto out;
	fprintf(out, "sealed: %s\n", sealed[0] ? sealed : "nothing new");
	if (s.ship.hold) {
		snprintf(why, sizeof(why), "%s, nothing sent (sync now --force sends anyway)",
			 limit_why);
		spool_waits(&s, 0, why);
		rc = HF_EBUSY;
		goto out;
	}
	/* Nothing copied is a failure, said as one: a script or a human
	** running sync now wants to know the replica does not hold it. */
	rc = ship_upload(&s.ship, &copied);
	if (rc == HF_OK) {
		fprintf(out, "copied %u file(s) to %s\n", copied, s.cfg.replica);
		if (s.ship.allowance_held) {
			snprintf(why, sizeof(why), "the daily budget has %" PRIu64 " bytes left, too "
				 "few for the next file (sync now --force sends anyway)",
				 s.ship.allowance);
			spool_waits(&s, copied, why);
			rc = HF_EBUSY;
		}
	} else if (rc == HF_ENOENT) {
		snprintf(why, sizeof(why), "the replica %s is not reachable", s.cfg.replica);
		spool_waits(&s, copied, why);
	} else {
		snprintf(why, sizeof(why), "copying to the replica %s failed (%s)", s.cfg.replica,
			 hf_strerror(rc));
		spool_waits(&s, copied, why);
	}
out:
	shipctx_close(&s);
	return rc;
}

/* How far behind the replica is: since the oldest file waiting in the
** spool was sealed (its mtime; both times from the same wall clock, right
** or not), or what is not sealed yet. */
static void print_lag(struct ship *sh, unsigned files, uint64_t unsealed, FILE *out)
{
	int64_t mtime;

	if (!sh->st.have_gen) {
		fprintf(out, "lag: the replica holds no generation of this log yet\n");
		return;
	}
	if (!files && !unsealed) {
		fprintf(out, "lag: 0 s (the replica holds every commit)\n");
		return;
	}
	if (files && ship_spool_oldest(sh, &mtime) == HF_OK) {
		int64_t age = port_clock_utc(NULL) - mtime / 1000000;
		fprintf(out, "lag: %lld s (the oldest file waiting was sealed then)\n",
			(long long)(age > 0 ? age / 1000 : 0));
		return;
	}
	fprintf(out, "lag: commits not sealed yet (%" PRIu64 " bytes of WAL)\n", unsealed);
}

/* The history export (export.h): its watermark, what waits, what went. */
static void print_export(struct jlog *j, FILE *out)
{
	struct jlog_export_state e;

	if (jlog_export_get(j, &e) != HF_OK)
		return;
	if (!e.active && !e.parts) {
		fprintf(out, "history export: off (on while a daemon runs with a replica)\n");
		return;
	}
	fprintf(out, "history export: %sup to fin_seq %lld, %lld finished job(s) waiting; "
		"%lld part(s), %lld job(s), %lld bytes sent; %lld gap(s) of %lld pruned "
		"unexported job(s)%s\n", e.active ? "" : "off now, was ", (long long)e.upto,
		(long long)e.pending, (long long)e.parts, (long long)e.jobs, (long long)e.bytes,
		(long long)e.gaps, (long long)e.gap_jobs,
		e.open_gap_jobs ? " (more waiting to be written)" : "");
}

static int sync_status(const struct args_global *g, struct args *a, FILE *out)
{
	struct shipctx s;
	unsigned files;
	uint64_t bytes, lowest;
	int rc;

	if ((rc = no_args(a)) != HF_OK)
		return rc;
	if ((rc = shipctx_open(g, &s)) != HF_OK)
		return rc;
	if ((rc = ship_spool_usage(&s.ship, &files, &bytes, &lowest)) == HF_OK) {
		const struct ship_state *st = &s.ship.st;
		bool offline = replica_needs_network(s.ship.rep) && !port_net_online();
		bool up = s.ship.rep && replica_reachable(s.ship.rep) && !offline;
		uint64_t unsealed = ship_unsealed_bytes(&s.ship);

		fprintf(out, "replica: %s%s\n", s.cfg.replica[0] ? s.cfg.replica : "(none configured)",
			!s.cfg.replica[0] ? "" : !s.ship.rep->s3 ? (up ? " (reachable)" : " (not reachable)")
							      : "");
		fprintf(out, "device: %s\n", s.ship.device);
		if (st->have_gen) {
			fprintf(out, "generation: %016" PRIx64 "\n", st->generation);
			fprintf(out, "sealed: up to seq %" PRIu64 "\n", st->seq);
			uint64_t top = lowest == UINT64_MAX ? st->seq : lowest - 1;
			char rel[300], when[64] = "unknown: the replica is not reachable";
			if (lowest == 0) {
				fprintf(out, "shipped: nothing yet (the snapshot waits in the spool)\n");
			} else {
				if (top)
					snprintf(rel, sizeof(rel), "%s/%016" PRIx64 "/seg/%016" PRIx64
						 ".zst", s.ship.device, st->generation, top);
				else
					snprintf(rel, sizeof(rel), "%s/%016" PRIx64 "/snapshot.zst",
						 s.ship.device, st->generation);
				if (up)
					sealed_when(s.ship.rep, rel, when, sizeof(when));
				fprintf(out, "shipped: up to seq %" PRIu64 "%s, sealed %s\n", top,
					lowest == UINT64_MAX ? " (everything sealed)" : "", when);
			}
		} else {
			fprintf(out, "generation: none yet (the first sync takes a snapshot)\n");
		}
		fprintf(out, "spool: %u file(s), %" PRIu64 " bytes\n", files, bytes);
		if (s.cfg.replica[0])
			print_lag(&s.ship, files, unsealed, out);
		if (offline) {
			fprintf(out, "link: none (no route leaves this machine); shipping waits for "
				     "one\n");
		} else if (replica_needs_network(s.ship.rep)) {
			char why[128];
			bool metered = ship_metered(&s.cfg, why, sizeof(why));
			fprintf(out, "link: %s (%s)%s\n", metered ? "metered" : "not metered", why,
				metered ? "; snapshots over metered_snapshot_max wait" : "");
		}
		if (s.cfg.replica[0] &&
		    (s.cfg.daily_budget || s.cfg.window_start != s.cfg.window_end)) {
			char why[160];
			int limit = ship_limit(&s.ship);
			if (s.cfg.daily_budget)
				fprintf(out, "budget: %" PRIu64 " of %" PRIu64 " bytes sent today\n",
					s.ship.budget.used, s.cfg.daily_budget);
			ship_limit_why(&s.ship, limit, why, sizeof(why));
			fprintf(out, "limits: %s\n",
				limit == SHIP_LIMIT_NONE ? "none hold shipping back now" : why);
		}
		fprintf(out, "unsealed WAL: %" PRIu64 " bytes\n", unsealed);
		fprintf(out, "gaps: %" PRIu64 "%s%s\n", st->gaps, st->last_gap[0] ? "; last: " : "",
			st->last_gap);
		print_export(&s.c.j, out);
	}
	shipctx_close(&s);
	return rc;
}

int cmd_sync(const struct args_global *g, struct args *a, FILE *out)
{
	const char *sub;

	if (a->i >= a->argc) {
		port_log("sync: which? now | status");
		return HF_EINVAL;
	}
	sub = a->argv[a->i++];
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help"))
		return ARGS_HELP;
	if (!strcmp(sub, "now"))
		return sync_now(g, a, out);
	if (!strcmp(sub, "status"))
		return sync_status(g, a, out);
	port_log("sync: unknown subcommand '%s' (now, status)", sub);
	return HF_EINVAL;
}

/* ---- reading a replica ------------------------------------------------------------ */

/*
** A manifest is a few short lines (manifest_format: a 512-byte buffer today);
** 64 KiB leaves a later format room for more (a key id, a nonce) while a
** hostile replica cannot make us read more than that before refusing it.
*/
#define MANIFEST_MAX (64u * 1024)

/* S from a replica (a name, a header field), safe to print: see
** restore_escape. Each call has its own buffer of the ring, so a message may
** quote up to four. */
static const char *safe(const char *s)
{
	static char ring[4][1600];
	static unsigned next;
	char *out = ring[next++ % 4];

	restore_escape(s, strlen(s), out, sizeof(ring[0]));
	return out;
}

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
		port_log("%s: %s/%s: cannot read it (%s)", verb, safe(rp->url), safe(rel),
			 hf_strerror(rc));
		return rc == HF_ENOENT || rc == HF_EINVAL || rc == HF_ETOOBIG ? HF_ECORRUPT : rc;
	}
	if ((rc = seg_open(sr, f->s, why, sizeof(why))) != HF_OK) {
		port_log("%s: %s/%s: %s", verb, safe(rp->url), safe(rel), why);
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

/* Reads generation GEN's manifest, which must be what ship.c writes for it:
** HF_ENOENT if it is missing, HF_ECORRUPT if it is not that. *FOLLOWS and
** WHY: its gap record (0 and "" in the first generation). Says nothing but
** what the read itself logs. */
static int read_manifest(const struct replica *rp, const char *dev, const char *gen,
			 uint64_t *follows, char *why, size_t why_len)
{
	char rel[256];
	char *text;
	size_t len;
	int rc;

	snprintf(rel, sizeof(rel), "%s/%s/manifest", dev, gen);
	if ((rc = replica_read_max(rp, rel, MANIFEST_MAX, &text, &len)) != HF_OK)
		return rc == HF_EINVAL || rc == HF_ETOOBIG ? HF_ECORRUPT : rc;
	rc = manifest_parse(text, len, dev, strtoull(gen, NULL, 16), follows, why, why_len);
	free(text);
	return rc;
}

/* read_manifest for restore: a manifest missing or not right is damage,
** said with the file's name. */
static int check_manifest(const struct replica *rp, const char *dev, const char *gen,
			  uint64_t *follows, char *why, size_t why_len)
{
	int rc = read_manifest(rp, dev, gen, follows, why, why_len);

	if (rc == HF_ECORRUPT)
		port_log("restore: %s/%s/%s/manifest: not the manifest of device %s generation %s "
			 "(damaged?)", safe(rp->url), dev, gen, dev, gen);
	else if (rc != HF_OK)
		port_log("restore: cannot read %s/%s/%s/manifest (%s)", safe(rp->url), dev, gen,
			 hf_strerror(rc));
	return rc == HF_ENOENT ? HF_ECORRUPT : rc;
}

/* Picks *BEST among GENS of DEV: the generation whose snapshot was taken
** last, by the device's boot counter and monotonic clock (wall time may be
** wrong, and a generation counter restarts if the spool is lost), by name
** if no snapshot header can be read. With AT_MS >= 0 only a snapshot sealed
** at or before AT_MS by a trusted clock counts (a later one cannot give the
** state at AT_MS): HF_ENOENT if there is none. A generation without a
** snapshot is skipped (it cannot be restored), and so is a plaintext one
** when there is a key (from before the key, or forged: said by the replica
** layer; --allow-plaintext counts them); a header that cannot be read
** for any other reason fails the choice, said with VERB and the file's name:
** skipping it could choose an older generation and restore old data as if
** it were the latest. */
static int pick_generation(const struct replica *rp, const char *verb, const char *dev,
			   const struct names *gens, int64_t at_ms, size_t *best)
{
	uint64_t best_boot = 0, best_mono = 0;
	bool found = false;
	int rc = HF_OK;

	for (size_t i = 0; i < gens->n && rc == HF_OK; i++) {
		char rel[256];
		char *buf;
		size_t len;
		struct seg_hdr h;

		snprintf(rel, sizeof(rel), "%s/%s/snapshot.zst", dev, gens->v[i]);
		if ((rc = replica_read_head(rp, rel, SEG_HDR_SIZE, &buf, &len)) == HF_ENOENT ||
		    (rc == HF_EACCES && rp->key)) {
			rc = HF_OK;
			continue;
		}
		if (rc != HF_OK) {
			port_log("%s: cannot read %s/%s (%s)", verb, safe(rp->url), safe(rel),
				 hf_strerror(rc));
			break;
		}
		if ((rc = seg_peek((const uint8_t *)buf, len, &h)) != HF_OK)
			port_log("%s: %s/%s: not a snapshot header (damaged?); name a generation with "
				 "--generation", verb, safe(rp->url), safe(rel));
		else if ((at_ms < 0 || (h.utc_ms >= 0 && h.utc_ms <= at_ms)) &&
			 (!found || h.boot > best_boot || (h.boot == best_boot && h.mono_ms >= best_mono))) {
			*best = i;
			best_boot = h.boot;
			best_mono = h.mono_ms;
			found = true;
		}
		free(buf);
	}
	if (rc != HF_OK || found)
		return rc;
	if (at_ms >= 0)
		return HF_ENOENT;
	*best = gens->n - 1;
	return HF_OK;
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
				 safe(device), SEG_DEVICE_MAX);
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
			 safe(rp->url), safe(l.v[0]));
		free(l.v);
		return HF_ECORRUPT;
	}
	snprintf(out, len, "%s", l.v[0]);
	free(l.v);
	return HF_OK;
}

/* Opens the replica named on the command line (settings for S3 from the
** environment and the defaults), with an optional CA bundle and key file. */
static int open_arg(const char *url, const char *ca, const char *key, struct replica *rp)
{
	static struct cfg c;

	cfg_init(&c);
	if (ca && snprintf(c.s3_ca_file, sizeof(c.s3_ca_file), "%s", ca) >= (int)sizeof(c.s3_ca_file)) {
		port_log("--ca %s: path too long", ca);
		return HF_EINVAL;
	}
	if (key && snprintf(c.replica_key_file, sizeof(c.replica_key_file), "%s", key) >=
			   (int)sizeof(c.replica_key_file)) {
		port_log("--key-file %s: path too long", key);
		return HF_EINVAL;
	}
	return replica_open(url, &c, rp);
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
		port_log("restore: --generation '%s': not a generation (16 hex digits)", safe(gen));
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
	} else if ((rc = pick_generation(rep, "restore", dev, &gens, want_ms, &best)) == HF_OK) {
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


static int restore(const struct args_global *g, struct args *a, FILE *out, struct replica *rep)
{
	static const struct args_opt opts[] = {
		{ "help", 'h', false },	      { "device", 0, true }, { "generation", 0, true },
		{ "seq", 0, true },	      { "output", 'o', true }, { "force", 0, false },
		{ "time", 0, true },	      { "ca", 0, true },       { "key-file", 0, true },
		{ "allow-plaintext", 0, false }, { NULL, 0, false },
	};
	const char *replica = NULL, *device = NULL, *gen = NULL, *outp = NULL, *ca = NULL, *val;
	const char *key = NULL;
	bool allow_plain = false;
	char dev[80], gname[80], grel[200], rel[300], stage[4400], tmp[4500], problem[200];
	char why[300];
	uint64_t want_seq = UINT64_MAX, seq, follows;
	int64_t want_ms = -1;
	struct restore_out o;
	struct seg_hdr h, prev;
	struct names segs = { 0 };
	struct replica_file f = { .fd = -1 };
	struct seg_reader sr = { 0 };
	enum port_fs_kind kind;
	bool force = false, ok;
	int r, idx, rc;

	(void)g;
	while ((r = args_next(a, opts, &idx, &val)) != ARGS_END) {
		if (r < 0)
			return r;
		if (r == ARGS_POSITIONAL) {
			if (replica) {
				port_log("restore: one replica only ('%s')", val);
				return HF_EINVAL;
			}
			replica = val;
			continue;
		}
		switch (idx) {
		case 0: return ARGS_HELP;
		case 1: device = val; break;
		case 2: gen = val; break;
		case 3: {
			char *end;
			want_seq = strtoull(val, &end, 10);
			if (*val < '0' || *val > '9' || *end) {
				port_log("restore: --seq: '%s' is not a segment number", val);
				return HF_EINVAL;
			}
			break;
		}
		case 4: outp = val; break;
		case 5: force = true; break;
		case 7: ca = val; break;
		case 8: key = val; break;
		case 9: allow_plain = true; break;
		default:
			if ((want_ms = parse_utc(val)) < 0) {
				port_log("restore: --time: '%s' is not YYYY-MM-DDTHH:MM:SSZ or @SECONDS "
					 "(UTC)", val);
				return HF_EINVAL;
			}
		}
	}
	if (!replica || !outp) {
		port_log("restore: usage: holdfast restore REPLICA -o OUT.db [--seq N] "
			 "[--generation G] [--device D] [--force] [--key-file K [--allow-plaintext]]");
		return HF_EINVAL;
	}
	if ((rc = port_fs_kind(outp, &kind)) != HF_OK)
		return rc;
	if (kind != PORT_FS_NONE && !force) {
		port_log("restore: %s exists; give --force to replace it", outp);
		return HF_EEXIST;
	}
	if ((rc = open_arg(replica, ca, key, rep)) != HF_OK)
		return rc;
	rep->allow_plain = allow_plain;
	if ((rc = pick_device(rep, device, dev, sizeof(dev))) != HF_OK)
		return rc;
	if ((rc = choose_generation(rep, dev, gen, want_ms, gname, sizeof(gname))) != HF_OK)
		return rc;
	snprintf(grel, sizeof(grel), "%s/%s", dev, gname);
	if ((rc = check_manifest(rep, dev, gname, &follows, why, sizeof(why))) != HF_OK)
		return rc;
	/* The database is rebuilt page by page in the staging file (restore.c:
	** never in memory), checked, and only then moved to OUT. */
	snprintf(stage, sizeof(stage), "%s.restoring", outp);
	/* Each file is streamed, never held whole: an S3 object through a
	** copy beside the staging file (unlinked once open), a directory
	** replica's file in place. */
	snprintf(tmp, sizeof(tmp), "%s.get", stage);
	if ((rc = restore_begin(&o, stage)) != HF_OK)
		return rc;
	snprintf(rel, sizeof(rel), "%s/snapshot.zst", grel);
	if ((rc = load_seg(rep, "restore", rel, tmp, &f, &sr)) != HF_OK)
		goto fail;
	h = sr.h;
	if (h.kind != SEG_SNAPSHOT || h.seq != 0 || strcmp(h.device, dev) != 0) {
		port_log("restore: %s/%s: not this generation's snapshot (header fields kind = %u, "
			 "seq = %" PRIu64 ", device = '%s')", safe(rep->url), rel, (unsigned)h.kind,
			 h.seq, safe(h.device));
		rc = HF_ECORRUPT;
		goto fail;
	}
	if (want_ms >= 0 && (h.utc_ms < 0 || h.utc_ms > want_ms)) {
		/* --generation with --time: its snapshot must be old enough. */
		char when[64] = "by an untrusted clock";
		if (h.utc_ms >= 0)
			units_format_utc(h.utc_ms, false, when, sizeof(when));
		port_log("restore: generation %s of device %s starts after the time asked for (its "
			 "snapshot was sealed %s)", gname, dev, when);
		rc = HF_ENOENT;
		goto fail;
	}
	if ((rc = restore_apply(&o, &sr, why, sizeof(why))) != HF_OK) {
		port_log("restore: %s/%s: %s", safe(rep->url), rel, why);
		goto fail;
	}
	close_seg(&f, &sr);
	prev = h;
	seq = 0;
	/* Only "not there" means no segment was shipped: any other failure to
	** list them would restore the snapshot alone, old data that looks
	** like the latest. */
	snprintf(rel, sizeof(rel), "%s/seg", grel);
	if ((rc = replica_list(rep, rel, 20, ".zst", &segs)) == HF_ENOENT) {
		rc = HF_OK;
	} else if (rc != HF_OK) {
		port_log("restore: cannot list the segments in %s/%s (%s); nothing restored",
			 safe(rep->url), rel, hf_strerror(rc));
		goto fail;
	}
	for (size_t i = 0; rc == HF_OK && i < segs.n && seq < want_seq; i++) {
		char *end;
		uint64_t s = strtoull(segs.v[i], &end, 16);
		if (s != seq + 1 || strcmp(end, ".zst") != 0) {
			port_log("restore: segment %" PRIu64 " is missing from %s/%s/seg; stopping at %"
				 PRIu64, seq + 1, safe(rep->url), grel, seq);
			break;
		}
		snprintf(rel, sizeof(rel), "%s/seg/%s", grel, segs.v[i]);
		if ((rc = load_seg(rep, "restore", rel, tmp, &f, &sr)) != HF_OK)
			break;
		h = sr.h;
		if (want_ms >= 0 && (h.utc_ms < 0 || h.utc_ms > want_ms)) {
			/* Sealed after the time asked for, or when wall time was not
			** trusted (its time is unknown): stop before it, once its
			** checksum says the time read is the one written (a damaged
			** header must not cut the history short unsaid). */
			if ((rc = seg_read_body(&sr, drop_page, NULL, why, sizeof(why))) != HF_OK)
				port_log("restore: %s/%s: %s", safe(rep->url), rel, why);
			close_seg(&f, &sr);
			break;
		}
		bool same_wal = h.salt[0] == prev.salt[0] && h.salt[1] == prev.salt[1];
		if (h.kind != SEG_FRAMES || h.seq != s || h.generation != prev.generation ||
		    strcmp(h.device, dev) != 0 || h.page_size != prev.page_size ||
		    h.frame_first != (same_wal ? prev.frame_end : 0)) {
			port_log("restore: %s/%s does not continue segment %" PRIu64
				 " (seq, generation, page size or WAL frames differ)", safe(rep->url),
				 rel, seq);
			rc = HF_ECORRUPT;
			break;
		}
		if ((rc = restore_apply(&o, &sr, why, sizeof(why))) != HF_OK) {
			port_log("restore: %s/%s: %s", safe(rep->url), rel, why);
			break;
		}
		close_seg(&f, &sr);
		prev = h;
		seq = s;
		if (port_stderr_is_tty())
			fprintf(stderr, "\rrestore: segment %" PRIu64 " of %zu", seq, segs.n);
	}
	if (port_stderr_is_tty())
		fprintf(stderr, "\n");
	free(segs.v);
	if (rc == HF_OK && want_seq != UINT64_MAX && seq != want_seq) {
		port_log("restore: segment %" PRIu64 " is not in %s/%s (it holds up to %" PRIu64 ")",
			 want_seq, safe(rep->url), grel, seq);
		rc = HF_ENOENT;
	}
	if (rc != HF_OK || (rc = restore_finish(&o)) != HF_OK)
		goto fail;
	rc = jlog_integrity_file(stage, &ok, problem, sizeof(problem));
	if (rc == HF_OK && !ok) {
		port_log("restore: the rebuilt database fails integrity_check: %s", safe(problem));
		rc = HF_ECORRUPT;
	}
	if (rc == HF_OK)
		rc = port_fs_rename(stage, outp);
	if (rc != HF_OK)
		goto fail;
	fprintf(out, "restored %s generation %s up to segment %" PRIu64 " (%u pages) to %s; "
		"integrity_check ok\n", dev, gname, seq, prev.db_pages, outp);
	return HF_OK;
fail:
	close_seg(&f, &sr);
	restore_abort(&o, stage);
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

/* ---- replica ls ------------------------------------------------------------------- */

/* When REL was sealed (its header's wall time, read by a Range GET of the
** header alone; -1: the clock was untrusted): HF_ENOENT if it is not there,
** HF_ECORRUPT if its header is not one, or why it could not be read. */
static int sealed_at(const struct replica *rp, const char *rel, int64_t *utc_ms)
{
	struct seg_hdr h;
	char *buf;
	size_t n;
	int rc;

	if (!rp)
		return HF_ENOENT;
	if ((rc = replica_read_head(rp, rel, SEG_HDR_SIZE, &buf, &n)) != HF_OK)
		return rc;
	if ((rc = seg_peek((const uint8_t *)buf, n, &h)) == HF_OK)
		*utc_ms = h.utc_ms;
	free(buf);
	return rc;
}

/* A sealing time from sealed_at: ISO 8601 UTC, or "clock untrusted". */
static void format_sealed(int64_t utc, char *out, size_t len)
{
	if (utc < 0)
		snprintf(out, len, "clock untrusted");
	else
		units_format_utc(utc, false, out, len);
}

/* When REL was sealed, as format_sealed says it; OUT is left as it is if
** the header cannot be read. */
static void sealed_when(const struct replica *rp, const char *rel, char *out, size_t len)
{
	int64_t utc;

	if (sealed_at(rp, rel, &utc) == HF_OK)
		format_sealed(utc, out, len);
}

/* What replica ls shows of REL, read or listed: "not there" and "damaged"
** are shown as such, but any other failure (a 5xx after the retries, the
** network) fails the listing, said with what could not be read: an
** unreadable replica must never look like an empty or a shorter one. */
static int ls_failed(const struct replica *rep, const char *what, const char *rel, int rc)
{
	port_log("replica ls: cannot %s %s/%s (%s)", what, safe(rep->url), safe(rel),
		 hf_strerror(rc));
	return rc;
}

/* The names below REL (an empty list if there is no such directory). */
static int ls_list(const struct replica *rep, const char *rel, size_t want_len, const char *suffix,
		   struct names *out)
{
	int rc = replica_list(rep, rel, want_len, suffix, out);

	if (rc == HF_ENOENT)
		return HF_OK;
	return rc == HF_OK ? HF_OK : ls_failed(rep, "list", rel, rc);
}

/* When REL was sealed, into WHEN (left as it is if REL is missing or
** damaged); *UTC_MS as sealed_at, -2 if unknown. */
static int ls_sealed(const struct replica *rep, const char *rel, int64_t *utc_ms, char *when,
		     size_t len)
{
	int rc = sealed_at(rep, rel, utc_ms);

	if (rc == HF_OK)
		format_sealed(*utc_ms, when, len);
	else
		*utc_ms = -2;
	/* HF_EACCES: plaintext with a key, or encrypted without one (the
	** replica layer said which): shown, as damage is, in the line. */
	if (rc == HF_ENOENT || rc == HF_ECORRUPT || rc == HF_EACCES)
		return HF_OK;
	return rc == HF_OK ? HF_OK : ls_failed(rep, "read", rel, rc);
}

/* replica ls --devices: the line of device DEV: its generations, the newest
** one's last shipped file, when that was sealed and how long ago. */
static int ls_device(const struct replica *rep, const char *dev, FILE *out)
{
	struct names gens, segs;
	char rel[300], when[64] = "-", age[40] = "-";
	uint64_t seq = 0;
	int64_t utc, now;
	bool trusted;
	size_t g = 0;
	int rc;

	if ((rc = ls_list(rep, dev, 16, NULL, &gens)) != HF_OK || !gens.n)
		return rc;
	if ((rc = pick_generation(rep, "replica ls", dev, &gens, -1, &g)) != HF_OK)
		goto out_gens;
	snprintf(rel, sizeof(rel), "%s/%s/seg", dev, gens.v[g]);
	if ((rc = ls_list(rep, rel, 20, ".zst", &segs)) != HF_OK)
		goto out_gens;
	if (segs.n) {
		seq = strtoull(segs.v[segs.n - 1], NULL, 16);
		snprintf(rel, sizeof(rel), "%s/%s/seg/%s", dev, gens.v[g], segs.v[segs.n - 1]);
	} else {
		snprintf(rel, sizeof(rel), "%s/%s/snapshot.zst", dev, gens.v[g]);
	}
	free(segs.v);
	if ((rc = ls_sealed(rep, rel, &utc, when, sizeof(when))) != HF_OK)
		goto out_gens;
	now = port_clock_utc(&trusted);
	if (utc >= 0 && trusted && now >= utc)
		units_format_duration((uint64_t)(now - utc), age, sizeof(age));
	fprintf(out, "%-20s %5zu %-16s %8" PRIu64 "  %-20s %s\n", safe(dev), gens.n, safe(gens.v[g]),
		seq, when, age);
out_gens:
	free(gens.v);
	return rc;
}

/* replica ls: the line of generation GEN of device DEV: its snapshot, seqs
** (and whether any is missing), bytes, when its last file was sealed, and
** the gap its manifest records. */
static int ls_generation(const struct replica *rep, const char *dev, const char *gen, FILE *out)
{
	uint64_t bytes = 0, size, expect = 1, missing = 0, follows = 0;
	char rel[300], last[400], seqs[32], when[64] = "-", why[200] = "", gaps[300];
	struct names segs = { 0 };
	int64_t utc;
	bool snap;
	int rc, n;

	snprintf(rel, sizeof(rel), "%s/%s/snapshot.zst", dev, gen);
	snprintf(last, sizeof(last), "%s", rel);
	if ((rc = replica_size(rep, rel, &size)) != HF_OK && rc != HF_ENOENT)
		return ls_failed(rep, "read", rel, rc);
	snap = rc == HF_OK;
	bytes += snap ? size : 0;
	snprintf(rel, sizeof(rel), "%s/%s/seg", dev, gen);
	if ((rc = ls_list(rep, rel, 20, ".zst", &segs)) != HF_OK)
		return rc;
	for (size_t k = 0; k < segs.n && rc == HF_OK; k++) {
		uint64_t s = strtoull(segs.v[k], NULL, 16);
		missing += s > expect ? s - expect : 0;
		expect = s + 1;
		snprintf(last, sizeof(last), "%s/%s", rel, segs.v[k]);
		/* (One deleted since the listing counts for nothing.) */
		if ((rc = replica_size(rep, last, &size)) == HF_OK)
			bytes += size;
		else if (rc == HF_ENOENT)
			rc = HF_OK;
		else
			ls_failed(rep, "read", last, rc);
	}
	snprintf(seqs, sizeof(seqs), segs.n ? "0-%" PRIu64 : "0", expect - 1);
	free(segs.v);
	/* The last file's header says when it was sealed. */
	if (rc != HF_OK || (rc = ls_sealed(rep, last, &utc, when, sizeof(when))) != HF_OK)
		return rc;
	/* The manifest's gap record: what came before this generation. */
	snprintf(rel, sizeof(rel), "%s/%s/manifest", dev, gen);
	rc = read_manifest(rep, dev, gen, &follows, why, sizeof(why));
	if (rc == HF_ENOENT || rc == HF_ECORRUPT)
		snprintf(why, sizeof(why), "manifest %s", rc == HF_ECORRUPT ? "damaged" : "missing");
	else if (rc == HF_EACCES)
		snprintf(why, sizeof(why), "%s", rep->key ? "plaintext, not read (--allow-plaintext)" :
							    "encrypted, not read (--key-file)");
	else if (rc != HF_OK)
		return ls_failed(rep, "read", rel, rc);
	n = snprintf(gaps, sizeof(gaps), "%s",
		     missing ? "segments missing (restore stops before the first)" : "");
	if (follows)
		snprintf(gaps + n, sizeof(gaps) - n, "%safter %016" PRIx64 ": %s", n ? "; " : "",
			 follows, why);
	else if (why[0])
		snprintf(gaps + n, sizeof(gaps) - n, "%s%s", n ? "; " : "", why);
	fprintf(out, "%-20s %-16s %9s %-13s %12" PRIu64 "  %-20s %s\n", safe(dev), safe(gen),
		snap ? "yes" : "MISSING", seqs, bytes, when, gaps[0] ? safe(gaps) : "none");
	return HF_OK;
}

/* The replica of this device's own holdfast.conf ([replica] url and its
** settings, credentials included), for replica ls run with none named. */
static int open_conf(const struct args_global *g, const char *ca, const char *key,
		     struct replica *rep)
{
	static struct cfg c;
	char dir[PATH_MAX], conf[PATH_MAX + 32];
	bool def;
	int rc;

	if ((rc = dd_resolve(g->data, dir, sizeof(dir), &def)) != HF_OK ||
	    (rc = dd_check_links(dir)) != HF_OK ||
	    (rc = dd_conf_path(g->config, dir, conf, sizeof(conf), &def)) != HF_OK)
		return rc;
	if ((rc = cfg_load(&c, conf)) != HF_OK)
		return rc;
	if (!c.replica[0]) {
		cfg_wipe(&c);
		port_log("replica ls: which replica? (a directory, file:///DIR or s3://BUCKET/PREFIX; "
			 "%s names none in [replica] url)", conf);
		return HF_EINVAL;
	}
	if (ca && snprintf(c.s3_ca_file, sizeof(c.s3_ca_file), "%s", ca) >= (int)sizeof(c.s3_ca_file)) {
		port_log("--ca %s: path too long", ca);
		cfg_wipe(&c);
		return HF_EINVAL;
	}
	if (key && snprintf(c.replica_key_file, sizeof(c.replica_key_file), "%s", key) >=
			   (int)sizeof(c.replica_key_file)) {
		port_log("--key-file %s: path too long", key);
		cfg_wipe(&c);
		return HF_EINVAL;
	}
	/* The replica keeps its own copy of the keys: wipe this one. */
	rc = replica_open(c.replica, &c, rep);
	cfg_wipe(&c);
	return rc;
}

static int ls(const struct args_global *g, struct args *a, FILE *out, struct replica *rep)
{
	const char *replica = NULL, *ca = NULL, *key = NULL, *val;
	static const struct args_opt opts[] = { { "help", 'h', false }, { "ca", 0, true },
					       { "devices", 0, false }, { "key-file", 0, true },
					       { "allow-plaintext", 0, false }, { NULL, 0, false } };
	struct names devs, gens;
	bool devices = false, allow_plain = false;
	int r, idx, rc;

	while ((r = args_next(a, opts, &idx, &val)) != ARGS_END) {
		if (r < 0)
			return r;
		if (r == ARGS_OPTION && idx == 0)
			return ARGS_HELP;
		if (r == ARGS_OPTION && idx == 1)
			ca = val;
		else if (r == ARGS_OPTION && idx == 3)
			key = val;
		else if (r == ARGS_OPTION && idx == 4)
			allow_plain = true;
		else if (r == ARGS_OPTION)
			devices = true;
		else
			replica = val;
	}
	rc = replica ? open_arg(replica, ca, key, rep) : open_conf(g, ca, key, rep);
	if (rc != HF_OK)
		return rc;
	rep->allow_plain = allow_plain;
	if ((rc = replica_list(rep, "", 0, NULL, &devs)) != HF_OK) {
		if (rc == HF_ENOENT)
			port_log("replica %s does not exist or holds nothing", rep->url);
		else
			ls_failed(rep, "list", "", rc);
		return rc;
	}
	if (devices)
		fprintf(out, "%-20s %5s %-16s %8s  %-20s %s\n", "DEVICE", "GENS", "NEWEST",
			"LAST SEQ", "LAST SHIPPED (UTC)", "AGE");
	else
		fprintf(out, "%-20s %-16s %9s %-13s %12s  %-20s %s\n", "DEVICE", "GENERATION",
			"SNAPSHOT", "SEQS", "BYTES", "LAST SEALED (UTC)", "GAPS");
	for (size_t d = 0; d < devs.n && rc == HF_OK; d++) {
		if (devices) {
			rc = ls_device(rep, devs.v[d], out);
			continue;
		}
		if ((rc = ls_list(rep, devs.v[d], 16, NULL, &gens)) != HF_OK)
			break;
		for (size_t i = 0; i < gens.n && rc == HF_OK; i++)
			rc = ls_generation(rep, devs.v[d], gens.v[i], out);
		free(gens.v);
	}
	free(devs.v);
	return rc;
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

static int replica_ls(const struct args_global *g, struct args *a, FILE *out)
{
	struct replica rep = { 0 };
	int rc = ls(g, a, out, &rep);

	replica_close(&rep);
	return rc;
}

/* replica keygen FILE [--id ID]: a new key file with one random key. */
static int replica_keygen(struct args *a, FILE *out)
{
	static const struct args_opt opts[] = { { "help", 'h', false }, { "id", 0, true },
					       { NULL, 0, false } };
	const char *file = NULL, *id = NULL, *val;
	int r, idx, rc;

	while ((r = args_next(a, opts, &idx, &val)) != ARGS_END) {
		if (r < 0)
			return r;
		if (r == ARGS_OPTION && idx == 0)
			return ARGS_HELP;
		if (r == ARGS_OPTION)
			id = val;
		else if (file) {
			port_log("replica keygen: one file only ('%s')", val);
			return HF_EINVAL;
		} else
			file = val;
	}
	if (!file) {
		port_log("replica keygen: usage: holdfast replica keygen FILE [--id ID]");
		return HF_EINVAL;
	}
	if ((rc = rcrypt_keygen(file, id)) == HF_OK)
		fprintf(out, "wrote a new replica key to %s (mode 0600); keep a copy off the "
			"device: without it the replica cannot be restored\n", file);
	return rc;
}

int cmd_replica(const struct args_global *g, struct args *a, FILE *out)
{
	const char *sub;

	if (a->i >= a->argc) {
		port_log("replica: which? ls [REPLICA] | keygen FILE");
		return HF_EINVAL;
	}
	sub = a->argv[a->i++];
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help"))
		return ARGS_HELP;
	if (!strcmp(sub, "ls"))
		return replica_ls(g, a, out);
	if (!strcmp(sub, "keygen"))
		return replica_keygen(a, out);
	port_log("replica: unknown subcommand '%s' (ls, keygen)", sub);
	return HF_EINVAL;
}

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
		port_log("%s: encrypted; give --key-file (the [replica] key_file) to read it", safe(*file));
	else if (!sealed)
		port_log("%s: not encrypted but --key-file is given", safe(*file));
	else if (!rel && !(rel = rel_of_path(*file)))
		port_log("%s: which name does it have in the replica? (--as DEVICE/GEN/seg/SEQ.zst)",
			 safe(*file));
	else if ((rc = rcrypt_load(&k, key)) == HF_OK) {
		/* The stream keeps the file's key only: K goes at once. */
		if ((rc = rcrypt_stream_open(&f->env, &k, rel, &f->raw, &f->s, why, sizeof(why))) !=
		    HF_OK)
			port_log("%s (as %s): %s", safe(*file), safe(rel), why);
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
		port_log("debug segment: %s: %s", safe(file), why);
		return rc;
	}
	fprintf(out, "file: %s\nformat: %u\nkind: %s\ndevice: %s\ngeneration: %016" PRIx64
		"\nseq: %" PRIu64 "\npage size: %u\ndatabase pages: %u\npages in body: %u\n"
		"WAL salts: %08x %08x\nWAL frames: %u to %u\nboot: %" PRIu64 "\nsealed: utc %" PRId64
		" ms, monotonic %" PRIu64 " ms\nbody: %" PRIu64 " bytes compressed, %" PRIu64 " raw\n"
		"checksum: ok\n",
		safe(file), h.version, h.kind == SEG_SNAPSHOT ? "snapshot" : "segment", safe(h.device),
		h.generation, h.seq, h.page_size, h.db_pages, count, h.salt[0], h.salt[1],
		h.frame_first, h.frame_end, h.boot, h.utc_ms, h.mono_ms, h.body_len,
		(uint64_t)count * (4 + h.page_size));
	return HF_OK;
}
