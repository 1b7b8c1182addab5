/*
** jlog_boots.c: the boots the log has seen, each with its base on the device
** clock (the uptime known of the boots before it), and the daemon's runs, so
** that a start can tell whether the last run stopped cleanly.
*/
#include <stdint.h>

#include "log/jlog_int.h"
#include "port.h"

static const char sql_boot_get[] = "SELECT id FROM boots WHERE kernel_boot_id = ?1";
static const char sql_boot_add[] =
	"INSERT INTO boots(kernel_boot_id, first_utc_ms) VALUES (?1, ?2)";
/* A new boot's base on the device clock: the previous boot's base plus the
** uptime last known of it (its noted up_ms, or anything recorded later in
** it: a daemon run, the newest job's submit, the last attempt of the newest
** job that has one: its start or end), and never below the device time of any job end (history.dev_ms).
** Each is a lower bound on how long that boot lasted, so a base never runs
** ahead of real time. Every probe is a seek or a short table: no history
** is walked at boot. */
static const char sql_boot_base[] =
	"UPDATE boots SET base_ms = coalesce((SELECT max(p.base_ms + max(p.up_ms,"
	"   coalesce((SELECT max(max(start_mono_ms, coalesce(end_mono_ms, 0)))"
	"    FROM daemon_runs WHERE boot = p.id), 0),"
	"   coalesce((SELECT iif(submit_boot = p.id, submit_mono_ms, 0) FROM jobs"
	"    WHERE id = (SELECT max(id) FROM jobs)), 0),"
	"   coalesce((SELECT max(iif(boot = p.id, start_mono_ms, 0),"
	"    iif(end_boot = p.id, coalesce(end_mono_ms, 0), 0)) FROM attempts"
	"    WHERE job = (SELECT max(job) FROM attempts) ORDER BY n DESC LIMIT 1), 0)),"
	"  (SELECT dev_ms FROM history))"
	"  FROM boots p WHERE p.id < ?1 ORDER BY p.id DESC LIMIT 1),"
	" (SELECT dev_ms FROM history), 0)"
	" WHERE id = ?1";

int jlog_boot(struct jlog *j, const char *kernel_boot_id, int64_t utc_ms, bool create,
	      int64_t *boot)
{
	sqlite3_stmt *st;
	bool own = sqlite3_get_autocommit(j->db), found;
	int rc;

	if ((rc = jlog_query_int(j, sql_boot_get, JV_ARGS(JV_T(kernel_boot_id)), "boots", boot,
				 &found)) != HF_OK || found)
		return rc;
	*boot = 0;
	if (!create)
		return HF_OK;
	if (own && (rc = jlog_begin(j)) != HF_OK)
		return rc;
	/* Look again under the write lock: another process may have added it. */
	st = jlog_stmt(j, sql_boot_get);
	sqlite3_bind_text(st, 1, kernel_boot_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*boot = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		return own ? jlog_commit(j) : HF_OK;
	}
	sqlite3_reset(st);
	if ((rc = jlog_exec(j, sql_boot_add, JV_ARGS(JV_T(kernel_boot_id), JV_U(utc_ms)))) != HF_OK)
		goto out;
	*boot = sqlite3_last_insert_rowid(j->db);
	if ((rc = jlog_exec(j, sql_boot_base, JV_ARGS(JV_I(*boot)))) != HF_OK)
		goto out;
	return own ? jlog_commit(j) : HF_OK;
out:
	if (own)
		jlog_rollback(j);
	return rc;
}

int jlog_boot_uptime(struct jlog *j, const struct jlog_now *now)
{
	static const char sql_get[] = "SELECT up_ms FROM boots WHERE id = ?1";
	static const char sql_set[] =
		"UPDATE boots SET up_ms = ?2 WHERE id = ?1 AND up_ms < ?2";
	bool own = sqlite3_get_autocommit(j->db), found;
	int64_t up_ms = 0;
	int rc;

	/* Read first, without the write lock: most calls have nothing to do
	** (and with no such boot there is nothing to note). */
	if ((rc = jlog_query_int(j, sql_get, JV_ARGS(JV_I(now->boot)), "uptime", &up_ms,
				 &found)) != HF_OK || !found ||
	    up_ms + JLOG_UPTIME_STEP_MS > (int64_t)now->mono_ms)
		return rc;
	if (own && (rc = jlog_begin(j)) != HF_OK)
		return rc;
	if ((rc = jlog_exec(j, sql_set, JV_ARGS(JV_I(now->boot), JV_I(now->mono_ms)))) != HF_OK)
		goto out;
	return own ? jlog_commit(j) : HF_OK;
out:
	if (own)
		jlog_rollback(j);
	return rc;
}

/* ---- daemon runs ------------------------------------------------------------ */

int jlog_last_run(struct jlog *j, bool *found, bool *clean)
{
	static const char sql[] = "SELECT clean FROM daemon_runs ORDER BY id DESC LIMIT 1";
	int64_t v = 0;
	int rc = jlog_query_int(j, sql, NULL, 0, "runs", &v, found);

	*clean = *found && v != 0;
	return rc;
}

int jlog_run_start(struct jlog *j, int64_t pid, const struct jlog_now *now, int64_t *run)
{
	static const char sql[] =
		"INSERT INTO daemon_runs(boot, pid, start_mono_ms, start_utc_ms)"
		" VALUES (?1, ?2, ?3, ?4)";
	int rc = jlog_exec(j, sql, JV_ARGS(JV_I(now->boot), JV_I(pid), JV_I(now->mono_ms),
					  JV_U(now->utc_ms)));

	if (rc == HF_OK)
		*run = sqlite3_last_insert_rowid(j->db);
	return rc;
}

int jlog_run_clean(struct jlog *j, int64_t run, const struct jlog_now *now)
{
	static const char sql[] =
		"UPDATE daemon_runs SET clean = 1, end_mono_ms = ?2, end_utc_ms = ?3 WHERE id = ?1";

	return jlog_exec(j, sql, JV_ARGS(JV_I(run), JV_I(now->mono_ms), JV_U(now->utc_ms)));
}
