/*
** cmd_sync.c: sync now|status, and waiting for the replica to hold a
** commit (submit and pipeline run --wait-remote).
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cmd.h"
#include "app/cmd_int.h"
#include "fmt/cfg.h"
#include "port.h"
#include "ship/replica.h"
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

/* sync now [--checkpoint] [--force]: seals what is new and copies the
** spool to the replica. Over 80 lines: the upload window and budget decide
** between sealing and sending, and each outcome is said where it happens. */
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
					cmd_sealed_when(s.ship.rep, rel, when, sizeof(when));
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
	static const struct cmd_sub subs[] = { { "now", sync_now }, { "status", sync_status } };

	return cmd_subverb(g, a, out, subs, sizeof(subs) / sizeof(subs[0]),
			   "now | status", false);
}
