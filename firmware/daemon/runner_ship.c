/*
** runner_ship.c: the daemon's shipping rounds (runner_int.h): seal what the
** log committed into the spool, copy the spool to the replica when it is
** there and the network, window and budget allow, export finished jobs
** after it, and write the metrics textfile. A failed round loses nothing
** (the WAL and the spool keep it) and backs off.
*/
#include <string.h>

#include "base/err.h"
#include "daemon/metrics.h"
#include "daemon/runner_int.h"
#include "ship/replica.h"

/* After N failed rounds in a row: capped exponential backoff from the seal
** interval, half of it random, so that a fleet whose uplink died together
** does not come back together. A link coming up cuts it short. */
#define SHIP_BACKOFF_MAX_MS (5 * 60 * 1000)

/* The clean stop's rounds at most (runner_ship_last). */
#define SHIP_LAST_ROUNDS 4

static uint64_t ship_backoff_ms(const struct runner *r)
{
	uint64_t ms = r->cfg.seal_interval_ms;

	for (unsigned i = 1; i < r->ship_fails && ms < SHIP_BACKOFF_MAX_MS; i++)
		ms *= 2;
	if (ms > SHIP_BACKOFF_MAX_MS)
		ms = SHIP_BACKOFF_MAX_MS;
	return ms / 2 + port_random_u32() % (ms / 2 + 1);
}

/* The Prometheus textfile, if configured: a failure to write it is said
** once and changes nothing else. */
void runner_write_metrics(struct runner *r, uint64_t t)
{
	static int said = HF_OK;
	struct metrics m = { 0 };
	uint64_t lowest;
	int rc;

	/* The spool is listed only for the textfile: not every tick otherwise. */
	if (!r->cfg.metrics_file[0])
		return;
	m.disk_full = r->full.on;
	m.disk_full_since_utc_ms = r->full.on ? r->full.since_utc_ms : -1;
	m.disk_full_episodes = r->full.episodes;
	if (r->cfg.replica[0]) {
		if (ship_spool_usage(&r->ship, &m.spool_files, &m.spool_bytes, &lowest) != HF_OK)
			m.spool_files = 0;
		m.unsealed_bytes = ship_unsealed_bytes(&r->ship);
		/* Behind while anything waits, or no generation holds the log yet. */
		if (!m.spool_files && !m.unsealed_bytes && r->ship.st.have_gen)
			r->behind_since = 0;
		else if (!r->behind_since)
			r->behind_since = t;
		m.lag_seconds = r->behind_since ? (double)(t - r->behind_since) / 1000 : 0;
		m.sealed_seq = r->ship.st.seq;
		m.gaps = r->ship.st.gaps;
		m.metered_held = r->ship.metered_held;
		m.ship_failures = r->ship_failed_total;
	}
	/* Every request is the uploader's (the loop's sealer makes none), as
	** of its last end: never read while it runs. */
	m.rep = r->up_stats;
	if (jlog_counts(&r->j, &m.jobs) != HF_OK)
		memset(&m.jobs, 0, sizeof(m.jobs));
	if (jlog_history_get(&r->j, &m.history) != HF_OK)
		memset(&m.history, 0, sizeof(m.history));
	m.data_bytes = r->hist.pass.data_bytes;
	m.max_bytes = r->hist.max_bytes;
	if ((rc = metrics_write(r->cfg.metrics_file, &m)) != HF_OK && said == HF_OK)
		port_warn("metrics: cannot write %s (%s)", r->cfg.metrics_file, hf_strerror(rc));
	said = rc;
}

/*
** Uploads run beside the loop (port_task_start; inline under the sim port),
** on a struct ship of their own: the loop seals under the write lock and
** never waits on the network (ship no_net), so a replica that stalls every
** request holds back neither job timeouts nor submits (issue 18;
** tools/bench/stall). The two share only files: the spool (files renamed
** into place, taken by the uploader under its lock), the state (written
** by the sealer only, read by the uploader at each round) and the daily
** budget (locked). At most one upload runs: a new generation's snapshot
** (ship.h) alone, or the spool then the history export's next write
** (export.h), which the loop prepared; its end is taken in by the loop
** (runner_upload_done), which records what the export wrote, does the
** backoff and says what changed.
*/
static void upload_run(void *arg)
{
	struct runner *r = arg;

	r->up_copied = 0;
	r->up_floor_ok = false;
	if ((r->up_rc = ship_load(&r->up)) != HF_OK)
		return;
	if (r->up_probe) {
		r->up_rc = ship_probe(&r->up, &r->up_floor);
		r->up_floor_ok = r->up_rc == HF_OK;
		if (r->up_rc != HF_OK)
			return;
	}
	ship_limit(&r->up); /* its allowance: what is left of the day's budget */
	/* A new generation's snapshot is a round of its own: the sealer began
	** it (its read transaction holds the database as it was then), and
	** the generation must start, durably, before anything of it is sent
	** from the spool, so that a kill mid-upload resumes in the same one. */
	if (r->up_snap) {
		r->up_rc = ship_snap_take(&r->up, r->up_snap);
		return;
	}
	/* The history export after the spool: the log's own history comes
	** first, and the export gets what is left of the day's budget. */
	if ((r->up_rc = ship_upload(&r->up, &r->up_copied)) == HF_OK && r->up_exp)
		export_send(&r->up, r->up_exp);
}

int runner_ship_init(struct runner *r)
{
	int rc;

	r->up_fd = -1;
	if ((rc = ship_init(&r->ship, r->o->dir, &r->cfg)) != HF_OK ||
	    (rc = ship_load(&r->ship)) != HF_OK ||
	    (rc = ship_init(&r->up, r->o->dir, &r->cfg)) != HF_OK) {
		ship_free(&r->ship);
		ship_free(&r->up);
		return rc;
	}
	r->ship.no_net = true;
	return HF_OK;
}

/* A round's outcome RC: sealed, and unless HELD (the backoff, a limit, no
** network) uploaded. The backoff, and what is said once per change. */
static void round_end(struct runner *r, int rc, bool held, uint64_t t)
{
	if (rc == HF_ENOENT)
		rc = HF_OK; /* not configured here, or not mounted: the spool keeps it */
	if (rc == HF_OK && !held) {
		r->ship_fails = 0;
		r->ship_retry_at = 0;
	} else if (rc != HF_OK) {
		r->ship_fails++;
		r->ship_retry_at = t + ship_backoff_ms(r);
	}
	if (rc != r->ship_rc && rc != HF_OK)
		port_warn("replica: shipping failed (%s); the spool keeps everything, trying again "
			 "in %llu s%s", hf_strerror(rc),
			 (unsigned long long)((r->ship_retry_at - t + 999) / 1000),
			 r->net_fd >= 0 ? " or when a network comes up" : "");
	else if (rc == HF_OK && r->ship_rc != HF_OK && !held)
		port_notice("replica: shipping works again");
	r->ship_rc = rc == HF_OK && held ? r->ship_rc : rc;
	if (rc == HF_OK && !held) {
		if (r->up.allowance_held && !r->allowance_said)
			port_notice("replica: the daily budget has %llu bytes left, too few for the "
				    "next file; it waits for the next day, the spool keeps everything until "
				 "then", (unsigned long long)r->up.allowance);
		r->allowance_said = r->up.allowance_held;
	}
	if (rc != HF_OK)
		r->ship_failed_total++;
}

/* An upload that ended (joined, or run here), taken in by the loop. */
static void upload_taken(struct runner *r, uint64_t t)
{
	r->up_fd = -1;
	r->up_snap = NULL;
	replica_stats(r->up.rep, &r->up_stats);
	r->ship.metered_held = r->up.metered_held;
	if (r->up_floor_ok) {
		/* The first generation may start: seal again now. */
		r->ship.floor = r->up_floor;
		r->ship.floor_known = true;
		r->next_seal = 0;
	}
	if (ship_snap_done(&r->ship)) {
		r->next_seal = 0; /* a generation started: seal what came after */
		r->snap_taken = true;
	}
	if (r->up_exp) {
		struct jlog_now now = now_of(r);
		export_done(&r->exp, &r->j, &now, r->up_exp);
		r->up_exp = NULL;
	}
	round_end(r, r->up_rc, false, t);
}

void runner_upload_done(struct runner *r)
{
	uint64_t t = port_clock_mono_ms();

	port_task_join(r->up_task);
	r->up_task = NULL;
	upload_taken(r, t);
	runner_write_metrics(r, t);
}

void runner_upload_wait(struct runner *r)
{
	if (!r->up_task)
		return;
	runner_wait_readable(r->up_fd);
	runner_upload_done(r);
}

/* Seals what is new, then starts an upload of the spool if none runs and
** the replica may be used. A failure loses nothing (the WAL and the spool
** keep it): said once per change; the network is left alone until the
** backoff has passed or a link comes up, while sealing goes on into the
** spool. */
void runner_ship_now(struct runner *r)
{
	struct jlog_now now = now_of(r);
	uint64_t t = port_clock_mono_ms();
	int limit = ship_limit(&r->ship); /* and the allowance: the budget left */
	char sealed[200];
	int rc;

	if (limit != r->limit_said && limit != SHIP_LIMIT_NONE)
		port_notice("replica: %s; sealing goes on, the spool keeps everything until then",
			 limit == SHIP_LIMIT_WINDOW ? "outside the upload window, shipping waits for it" :
						 "the daily budget is spent, shipping waits for the next day");
	r->limit_said = limit;
	/* No route off this machine: no try, no backoff; a link or route
	** coming up (netwatch) starts the next round at once. */
	bool offline = replica_needs_network(r->ship.rep) && !port_net_online();
	if (offline != r->offline)
		port_notice(offline ? "replica: no network (no route leaves this machine); shipping "
				   "waits for one, sealing goes on into the spool" :
				   "replica: a network is up; shipping");
	r->offline = offline;
	r->ship.hold = t < r->ship_retry_at || limit != SHIP_LIMIT_NONE || offline;
	/* A generation due starts only if the uploader can take its snapshot
	** at once (below): else it waits for the next round that can. */
	r->ship.snap_defer = !r->ship.hold && !r->up_task;
	if ((rc = jlog_begin(&r->j)) == HF_OK) {
		rc = ship_seal(&r->ship, &r->j, &now, sealed, sizeof(sealed));
		jlog_rollback(&r->j); /* sealing writes nothing to the log */
	}
	r->ship.snap_defer = false;
	r->next_seal = t + r->cfg.seal_interval_ms;
	if (rc != HF_OK || r->ship.hold) {
		round_end(r, rc, r->ship.hold, t);
	} else if (!r->up_task) {
		r->up_probe = !r->ship.st.have_gen && !r->ship.st.gen_counter &&
			      !r->ship.floor_known;
		r->up_snap = r->ship.snap;
		if (!r->up_snap && !r->ship_last)
			export_next(&r->exp, &r->j, &now, &r->up_exp);
		r->exp_round = r->up_exp != NULL;
		if (port_task_start(upload_run, r, &r->up_task, &r->up_fd) != HF_OK) {
			/* No thread: the upload runs here, as it did before. */
			r->up_task = NULL;
			upload_run(r);
			upload_taken(r, t);
		}
	}
	runner_write_metrics(r, t);
}

void runner_ship_last(struct runner *r)
{
	runner_upload_wait(r);
	r->exp.next_ms = 0;
	for (int round = 0; round < SHIP_LAST_ROUNDS; round++) {
		/* The last round exports nothing: what it seals is the end. */
		r->ship_last = round == SHIP_LAST_ROUNDS - 1;
		r->ship_retry_at = 0;
		r->snap_taken = false;
		r->exp_round = false;
		runner_ship_now(r);
		runner_upload_wait(r);
		/* Again if that round was a new generation's snapshot alone (the
		** spool comes next), or the export wrote to the log after its
		** seal (the watermark, a part in flight). */
		if (!r->snap_taken && !r->exp_round)
			break;
	}
	r->ship_last = false;
}

void runner_maybe_ship(struct runner *r, uint64_t now)
{
	/* Nothing of a log whose check has not passed leaves the device. */
	if (r->check)
		return;
	/* Nor while a snapshot is under way: it is the uploader's (ship.h). */
	if (r->ship.snap)
		return;
	if (r->cfg.replica[0] && (now >= r->next_seal ||
				  ship_unsealed_bytes(&r->ship) >= r->cfg.seal_bytes)) {
		/* On a full disk sealing fails as the log's writes do, said once;
		** copying the spool away still makes room. */
		if (r->full.on)
			diskfull_quiet(&r->full);
		runner_ship_now(r);
		diskfull_loud(&r->full, false);
	}
}
