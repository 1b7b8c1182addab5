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
	if (r->ship.rep)
		replica_stats(r->ship.rep, &m.rep);
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

/* Seals what is new and copies the spool to the replica if it is there. A
** failure loses nothing (the WAL and the spool keep it): said once per
** change; the network is left alone until the backoff has passed or a link
** comes up, while sealing goes on into the spool. */
void runner_ship_now(struct runner *r)
{
	struct jlog_now now = now_of(r);
	uint64_t t = port_clock_mono_ms();
	int limit = ship_limit(&r->ship); /* and the allowance: the budget left */
	char sealed[200];
	unsigned copied = 0;
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
	if ((rc = jlog_begin(&r->j)) == HF_OK) {
		rc = ship_seal(&r->ship, &r->j, &now, sealed, sizeof(sealed));
		jlog_rollback(&r->j); /* sealing writes nothing to the log */
	}
	if (rc == HF_OK && !r->ship.hold) {
		rc = ship_upload(&r->ship, &copied);
		if (rc == HF_ENOENT)
			rc = HF_OK; /* not configured here, or not mounted: the spool keeps it */
	}
	if (rc == HF_OK && !r->ship.hold) {
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
	else if (rc == HF_OK && r->ship_rc != HF_OK && !r->ship.hold)
		port_notice("replica: shipping works again");
	r->ship_rc = rc == HF_OK && r->ship.hold ? r->ship_rc : rc;
	if (rc == HF_OK && !r->ship.hold) {
		unsigned parts;
		/* The history export goes the same way, once the spool has: the
		** log's own history comes first. */
		export_tick(&r->exp, &r->j, &now, &parts);
		if (r->ship.allowance_held && !r->allowance_said)
			port_notice("replica: the daily budget has %llu bytes left, too few for the "
				    "next file; it waits for the next day, the spool keeps everything until "
				 "then", (unsigned long long)r->ship.allowance);
		r->allowance_said = r->ship.allowance_held;
	}
	r->next_seal = t + r->cfg.seal_interval_ms;
	if (rc != HF_OK)
		r->ship_failed_total++;
	ship_count(&r->ship); /* anything the round sent besides files */
	runner_write_metrics(r, t);
}

void runner_maybe_ship(struct runner *r, uint64_t now)
{
	/* Nothing of a log whose check has not passed leaves the device. */
	if (r->check)
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
