/*
** cmd_status.c: the data directory's state and its history: status (in
** words or JSON: the jobs, the daemon, the disk, the history and its
** budget) and prune, which trims that history now.
*/
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "app/cmd.h"
#include "app/cmd_int.h"
#include "base/err.h"
#include "base/units.h"
#include "daemon/diskfull.h"
#include "fmt/cfg.h"
#include "log/datadir.h"
#include "log/history.h"
#include "log/jlog.h"
#include "port.h"

/* ---- prune ---------------------------------------------------------------------------- */

/* With no daemon running, `prune` checkpoints the WAL itself (sealed into
** the spool first when a replica is set), so what it vacuumed goes back to
** the file system now. */
static int prune_checkpoint(void *arg)
{
	ctx_checkpoint_now(arg);
	return HF_OK;
}

/* What prune did (or with DRY would do), in words or JSON; MAX_BYTES: the
** budget, DAEMON: whether one runs (and prunes on its own). */
static void prune_report(FILE *out, bool json, bool dry, bool daemon, const struct hist_pass *hp,
			 const struct jlog_history *hs, uint64_t max_bytes)
{
	char data[32], budget[32], outb[32];

	if (json) {
		fprintf(out,
			"{\"dry_run\":%s,\"jobs\":%lld,\"runs\":%lld,\"attempts\":%lld,"
			"\"output_chunks\":%lld,\"output_bytes\":%lld,\"budget_jobs\":%lld,"
			"\"finished_kept\":%lld,\"data_bytes\":%llu,\"max_bytes\":%llu,"
			"\"over_budget\":%s}\n",
			dry ? "true" : "false", (long long)hp->pruned.jobs,
			(long long)hp->pruned.runs, (long long)hp->pruned.attempts,
			(long long)hp->pruned.output_chunks, (long long)hp->pruned.output_bytes,
			(long long)hp->extra, (long long)hs->finished,
			(unsigned long long)hp->data_bytes, (unsigned long long)max_bytes,
			hp->over_budget ? "true" : "false");
		return;
	}
	units_format_size((uint64_t)hp->pruned.output_bytes, outb, sizeof(outb));
	units_format_size(hp->data_bytes, data, sizeof(data));
	units_format_size(max_bytes, budget, sizeof(budget));
	fprintf(out, "%s %lld finished job(s) (%lld run(s), %lld attempt(s), %s of output)",
		dry ? "would prune" : "pruned", (long long)hp->pruned.jobs,
		(long long)hp->pruned.runs, (long long)hp->pruned.attempts, outb);
	if (hp->extra)
		fprintf(out, ", %lld of them past the limits for the disk budget",
			(long long)hp->extra);
	fprintf(out, "; %lld finished job(s) %s\n",
		(long long)(dry ? hs->finished - hp->pruned.jobs : hs->finished),
		dry ? "would stay" : "kept");
	fprintf(out, "data directory: %s of its %s budget%s\n", data, budget,
		!hp->over_budget ? "" :
		dry || daemon ? " (over it: the oldest finished jobs go, whatever their "
				"age, down to the 20 newest)" :
				" (still over it: the 20 newest finished jobs are kept)");
}

int cmd_prune(const struct args_global *g, struct args *a, FILE *out)
{
	enum { O_HELP, O_DRY, O_OLDER, O_KEEP, O_JSON };
	static const struct args_opt opts[] = { { "help", 'h', false }, { "dry-run", 0, false },
					       { "older-than", 0, true }, { "keep", 0, true },
					       { "json", 0, false }, { NULL, 0, false } };
	bool seen[5] = { false }, daemon;
	const char *val;
	uint64_t older = 0;
	long long keep = 0;
	char conf[PATH_MAX + 32];
	struct hist_pass hp;
	struct jlog_history hs;
	struct hist h;
	struct cfg cfg;
	struct ctx c;
	int r, idx, rc;

	while ((r = args_next_option(a, opts, &idx, &val)) == ARGS_OPTION) {
		/* Two values for one limit: which one was meant is a guess. */
		if (seen[idx]) {
			port_log("prune: --%s given twice; give it once", opts[idx].name);
			return HF_EINVAL;
		}
		seen[idx] = true;
		if (idx == O_OLDER && (rc = cmd_parse_dur("prune", "older-than", val, &older)) != HF_OK)
			return rc;
		if (idx == O_KEEP &&
		    (rc = cmd_parse_int("prune", "keep", val, 0, 1000000000, &keep)) != HF_OK)
			return rc;
	}
	if (r != ARGS_END)
		return r;
	/* The config first: a bad one is an error before the log is opened. */
	if ((rc = dd_resolve(g->data, c.dir, sizeof(c.dir), &daemon)) != HF_OK ||
	    (rc = dd_conf_path(g->config, c.dir, conf, sizeof(conf), &daemon)) != HF_OK)
		return rc;
	if ((rc = cfg_load(&cfg, conf)) != HF_OK)
		return rc;
	if ((rc = ctx_open(g, &c)) != HF_OK) {
		cfg_wipe(&cfg);
		return rc;
	}
	daemon = port_wake_probe(c.dir) == HF_OK;
	/* While the daemon runs it owns the checkpoints, and with them the
	** budget: it is poked at the end. */
	if ((rc = hist_init(&h, &cfg, c.dir, daemon ? NULL : prune_checkpoint, &c)) != HF_OK)
		goto out;
	cfg_wipe(&cfg);
	/* The flags mean what they say: --older-than 0 is every age, --keep 0
	** keeps none (in holdfast.conf, 0 turns a limit off). */
	if (seen[O_OLDER])
		h.lim.keep_ms = h.lim.keep_failed_ms = older ? older : 1;
	if (seen[O_KEEP])
		h.lim.keep_jobs = keep;
	if (!seen[O_DRY])
		ctx_bound_wal(&c);
	if ((rc = ctx_boot(&c)) != HF_OK ||
	    (rc = hist_run(&h, &c.j, &c.now, seen[O_DRY], NULL, &hp)) != HF_OK ||
	    (rc = jlog_history_get(&c.j, &hs)) != HF_OK)
		goto out;
	if (!seen[O_DRY] && hp.pruned.jobs && daemon)
		cmd_poke(&c);
	prune_report(out, seen[O_JSON], seen[O_DRY], daemon, &hp, &hs, h.max_bytes);
out:
	ctx_close(&c);
	return rc;
}

/* ---- status --------------------------------------------------------------------------- */

/* The history part of status: what is kept, the budget, the last prune. */
struct hist_status {
	struct jlog_history h;
	uint64_t data_bytes, max_bytes;
	bool have_budget, max_auto;
	int64_t age_ms;            /* of the last prune; < 0: unknown */
};

static int hist_status_get(struct ctx *c, struct hist_status *hs)
{
	struct cfg cfg;
	uint64_t fs = 0;
	int rc;

	memset(hs, 0, sizeof(*hs));
	hs->age_ms = -1;
	if ((rc = jlog_history_get(&c->j, &hs->h)) != HF_OK)
		return rc;
	/* A config with an error still leaves status useful (it was said). */
	if (cfg_load(&cfg, c->conf) == HF_OK && port_fs_usage(c->dir, &hs->data_bytes) == HF_OK &&
	    (cfg.history_max_bytes || port_fs_total_size(c->dir, &fs) == HF_OK)) {
		hs->max_bytes = cfg_max_bytes(&cfg, fs);
		hs->max_auto = !cfg.history_max_bytes;
		hs->have_budget = true;
	}
	cfg_wipe(&cfg);
	/* An age needs one clock: the wall clock trusted then and now, or the
	** monotonic one within this boot. */
	if (hs->h.last_boot && hs->h.last_utc_ms > 0 && c->now.utc_ms >= hs->h.last_utc_ms)
		hs->age_ms = c->now.utc_ms - hs->h.last_utc_ms;
	else if (hs->h.last_boot && hs->h.last_boot == c->now.boot &&
		 c->now.mono_ms >= hs->h.last_mono_ms)
		hs->age_ms = (int64_t)(c->now.mono_ms - hs->h.last_mono_ms);
	return HF_OK;
}

static void hist_status_json(FILE *out, const struct hist_status *hs)
{
	fprintf(out, ",\"history\":{\"finished\":%lld,\"log_bytes\":%lld,\"free_bytes\":%lld,",
		(long long)hs->h.finished, (long long)hs->h.db_bytes, (long long)hs->h.free_bytes);
	if (hs->have_budget)
		fprintf(out, "\"data_bytes\":%llu,\"max_bytes\":%llu,\"max_bytes_auto\":%s,",
			(unsigned long long)hs->data_bytes, (unsigned long long)hs->max_bytes,
			hs->max_auto ? "true" : "false");
	else
		fprintf(out, "\"data_bytes\":null,\"max_bytes\":null,\"max_bytes_auto\":null,");
	fprintf(out, "\"pruned_total\":%lld,\"last_prune\":", (long long)hs->h.total_jobs);
	if (!hs->h.last_boot) {
		fprintf(out, "null}");
		return;
	}
	fprintf(out, "{\"boot\":%lld,\"mono_ms\":%llu,\"utc_ms\":", (long long)hs->h.last_boot,
		(unsigned long long)hs->h.last_mono_ms);
	if (hs->h.last_utc_ms > 0)
		fprintf(out, "%lld", (long long)hs->h.last_utc_ms);
	else
		fprintf(out, "null");
	fprintf(out, ",\"age_ms\":");
	if (hs->age_ms >= 0)
		fprintf(out, "%lld", (long long)hs->age_ms);
	else
		fprintf(out, "null");
	fprintf(out, ",\"jobs\":%lld}}", (long long)hs->h.last_jobs);
}

static void hist_status_text(FILE *out, const struct ctx *c, const struct hist_status *hs)
{
	char a[32], b[32], when[64];

	units_format_size((uint64_t)hs->h.db_bytes, a, sizeof(a));
	units_format_size((uint64_t)hs->h.free_bytes, b, sizeof(b));
	fprintf(out, "history: %lld finished job(s) kept; job log %s (%s free)\n",
		(long long)hs->h.finished, a, b);
	if (hs->have_budget) {
		units_format_size(hs->data_bytes, a, sizeof(a));
		units_format_size(hs->max_bytes, b, sizeof(b));
		fprintf(out, "disk budget: %s of %s used (%.0f%%; log, WAL and spool)%s\n", a, b,
			hs->max_bytes ? 100.0 * (double)hs->data_bytes / (double)hs->max_bytes : 0.0,
			hs->max_auto ? ", auto: 10% of the file system, at most 4GiB" : "");
	}
	if (!hs->h.last_boot) {
		fprintf(out, "last prune: never\n");
		return;
	}
	if (hs->h.last_utc_ms > 0) {
		units_format_utc(hs->h.last_utc_ms, false, when, sizeof(when));
	} else if (hs->age_ms >= 0) {
		char d[32];
		units_format_approx((uint64_t)hs->age_ms, d, sizeof(d));
		snprintf(when, sizeof(when), "%s ago", d);
	} else {
		char d[32];
		units_format_approx(hs->h.last_mono_ms, d, sizeof(d));
		snprintf(when, sizeof(when), "boot %lld +%s (no trusted clock then)",
			 (long long)hs->h.last_boot, d);
	}
	(void)c;
	fprintf(out, "last prune: %s; the last that removed any removed %lld job(s), %lld in all\n",
		when, (long long)hs->h.last_jobs, (long long)hs->h.total_jobs);
}

/* The disk's state as the daemon sees it, in status's words. */
static void print_disk(FILE *out, const struct ctx *c, int asked, const struct diskfull_state *d)
{
	char when[CMD_WHEN_LEN], dur[32];

	if (asked != HF_OK) {
		fprintf(out, "disk: unknown (the daemon did not answer)\n");
		return;
	}
	if (!d->full) {
		fprintf(out, "disk: ok\n");
		return;
	}
	units_format_duration(d->for_ms, dur, sizeof(dur));
	fprintf(out, "disk: FULL since %s (%s): the disk holding %s has no room; nothing new "
		"starts, %lld job end(s) wait in memory, %lld old job(s) pruned to make room; "
		"trying again every %d s\n",
		cmd_fmt_when(&c->now, d->since_utc_ms, c->now.boot, c->now.mono_ms - d->for_ms, when),
		dur, c->dir, (long long)d->ends_waiting, (long long)d->pruned,
		DISKFULL_RETRY_MS / 1000);
}

static void print_disk_json(FILE *out, int asked, const struct diskfull_state *d)
{
	if (asked != HF_OK)
		fprintf(out, "null");
	else if (!d->full)
		fprintf(out, "{\"full\":false}");
	else if (d->since_utc_ms >= 0)
		fprintf(out, "{\"full\":true,\"since_utc_ms\":%lld,\"for_ms\":%llu,"
			"\"ends_waiting\":%lld,\"pruned\":%lld}", (long long)d->since_utc_ms,
			(unsigned long long)d->for_ms, (long long)d->ends_waiting,
			(long long)d->pruned);
	else
		fprintf(out, "{\"full\":true,\"since_utc_ms\":null,\"for_ms\":%llu,"
			"\"ends_waiting\":%lld,\"pruned\":%lld}", (unsigned long long)d->for_ms,
			(long long)d->ends_waiting, (long long)d->pruned);
}

int cmd_status(const struct args_global *g, struct args *a, FILE *out)
{
	struct hist_status hs;
	struct jlog_counts k;
	struct diskfull_state disk;
	char reply[512];
	bool json, alive;
	int64_t age = -1, cut, msgs, msg_bytes;
	struct ctx c;
	int rc, asked;

	if ((rc = cmd_json_only_args(a, &json)) != HF_OK)
		return rc;
	if ((rc = ctx_open(g, &c)) != HF_OK)
		return rc;
	if ((rc = jlog_counts(&c.j, &k)) != HF_OK || (rc = hist_status_get(&c, &hs)) != HF_OK ||
	    (rc = jlog_msg_pending(&c.j, &msgs, &msg_bytes)) != HF_OK)
		goto out;
	/* Asking the daemon also tells whether one runs: HF_EBUSY is one that
	** did not answer in time. Only it knows whether the disk is full. */
	asked = port_wake_ask(c.dir, "?state", reply, sizeof(reply), 1000);
	alive = asked == HF_OK || asked == HF_EBUSY;
	if (asked == HF_OK && diskfull_parse(reply, &disk) != HF_OK)
		asked = HF_EPROTO;
	/* Ages need one clock: only within this boot can we say. (Boot 0: no
	** queued job; a fresh log has no boot recorded either.) */
	if (k.oldest_queued_boot > 0 && k.oldest_queued_boot == c.now.boot &&
	    c.now.mono_ms >= k.oldest_queued_mono_ms)
		age = (int64_t)(c.now.mono_ms - k.oldest_queued_mono_ms);
	/* Stored as running with no daemon: see interrupted(). */
	cut = alive ? 0 : k.running;
	if (json) {
		fprintf(out,
			"{\"data\":\"%s\",\"daemon\":%s,\"clock_trusted\":%s,\"jobs\":{"
			"\"queued\":%lld,\"running\":%lld,\"succeeded\":%lld,\"failed\":%lld,"
			"\"dead\":%lld,\"cancelled\":%lld,\"quarantined\":%lld,\"parked\":%lld,"
			"\"interrupted\":%lld},\"oldest_queued_age_ms\":",
			c.dir, alive ? "true" : "false", c.trusted ? "true" : "false",
			(long long)k.queued, (long long)k.running, (long long)k.succeeded,
			(long long)k.failed, (long long)k.dead, (long long)k.cancelled,
			(long long)k.quarantined, (long long)k.parked, (long long)cut);
		if (age >= 0)
			fprintf(out, "%lld", (long long)age);
		else
			fprintf(out, "null");
		hist_status_json(out, &hs);
		fprintf(out, ",\"disk\":");
		print_disk_json(out, asked, &disk);
		fprintf(out, ",\"messages\":{\"waiting\":%lld,\"bytes\":%lld}}\n", (long long)msgs,
			(long long)msg_bytes);
		goto out;
	}
	fprintf(out, "data directory: %s\n", c.dir);
	fprintf(out, "daemon: %s\n", alive ? "running" : "not running");
	if (alive)
		print_disk(out, &c, asked, &disk);
	fprintf(out, "wall clock: %s\n", c.trusted ? "trusted (synchronised)" :
		"untrusted (not synchronised, or before this build): calendar schedules wait");
	fprintf(out, "jobs: %lld queued, %lld running, ", (long long)k.queued,
		(long long)(k.running - cut));
	if (cut)
		fprintf(out, "%lld interrupted (the daemon is not running; its next start recovers "
			"them), ", (long long)cut);
	fprintf(out, "%lld succeeded, %lld failed (retry pending), %lld dead, %lld cancelled, "
		"%lld quarantined, %lld parked\n", (long long)k.succeeded, (long long)k.failed,
		(long long)k.dead, (long long)k.cancelled, (long long)k.quarantined,
		(long long)k.parked);
	if (age >= 0) {
		char d[32];
		units_format_duration((uint64_t)age, d, sizeof(d));
		fprintf(out, "oldest queued job: waiting %s\n", d);
	} else if (k.oldest_queued_boot > 0) {
		fprintf(out, "oldest queued job: submitted before the last reboot\n");
	}
	if (msgs > 0) {
		char sz[32];
		units_format_size((uint64_t)msg_bytes, sz, sizeof(sz));
		fprintf(out, "messages: %lld sent and not taken by a step yet (%s; holdfast send)\n",
			(long long)msgs, sz);
	}
	hist_status_text(out, &c, &hs);
out:
	ctx_close(&c);
	return rc;
}
