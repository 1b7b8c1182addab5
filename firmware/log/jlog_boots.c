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
	sqlite3_stmt *st = jlog_stmt(j, sql_boot_get);
	bool own = sqlite3_get_autocommit(j->db);
	int rc, src;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_text(st, 1, kernel_boot_id, -1, SQLITE_STATIC);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		*boot = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		return HF_OK;
	}
	sqlite3_reset(st);
	if (src != SQLITE_DONE)
		return jlog_sqlite_err(j->db, "boots", src);
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
	st = jlog_stmt(j, sql_boot_add);
	if (!st) {
		rc = HF_EBUG;
		goto out;
	}
	sqlite3_bind_text(st, 1, kernel_boot_id, -1, SQLITE_STATIC);
	jlog_bind_utc(st, 2, utc_ms);
	if ((rc = jlog_step_done(j, st)) != HF_OK)
		goto out;
	*boot = sqlite3_last_insert_rowid(j->db);
	if (!(st = jlog_stmt(j, sql_boot_base))) {
		rc = HF_EBUG;
		goto out;
	}
	sqlite3_bind_int64(st, 1, *boot);
	if ((rc = jlog_step_done(j, st)) != HF_OK)
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
	sqlite3_stmt *st = jlog_stmt(j, sql_get);
	bool own = sqlite3_get_autocommit(j->db);
	int rc, src;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_int64(st, 1, now->boot);
	src = sqlite3_step(st);
	/* Read first, without the write lock: most calls have nothing to do. */
	if (src == SQLITE_ROW &&
	    sqlite3_column_int64(st, 0) + JLOG_UPTIME_STEP_MS > (int64_t)now->mono_ms) {
		sqlite3_reset(st);
		return HF_OK;
	}
	sqlite3_reset(st);
	if (src == SQLITE_DONE)
		return HF_OK;      /* no such boot: nothing to note */
	if (src != SQLITE_ROW)
		return jlog_sqlite_err(j->db, "uptime", src);
	if (own && (rc = jlog_begin(j)) != HF_OK)
		return rc;
	if (!(st = jlog_stmt(j, sql_set))) {
		rc = HF_EBUG;
		goto out;
	}
	sqlite3_bind_int64(st, 1, now->boot);
	sqlite3_bind_int64(st, 2, (int64_t)now->mono_ms);
	if ((rc = jlog_step_done(j, st)) != HF_OK)
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
	sqlite3_stmt *st = jlog_stmt(j, sql);
	int src;

	if (!st)
		return HF_EBUG;
	src = sqlite3_step(st);
	*found = src == SQLITE_ROW;
	*clean = *found && sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	return src == SQLITE_ROW || src == SQLITE_DONE ? HF_OK : jlog_sqlite_err(j->db, "runs", src);
}

int jlog_run_start(struct jlog *j, int64_t pid, const struct jlog_now *now, int64_t *run)
{
	static const char sql[] =
		"INSERT INTO daemon_runs(boot, pid, start_mono_ms, start_utc_ms)"
		" VALUES (?1, ?2, ?3, ?4)";
	sqlite3_stmt *st = jlog_stmt(j, sql);
	int rc;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_int64(st, 1, now->boot);
	sqlite3_bind_int64(st, 2, pid);
	sqlite3_bind_int64(st, 3, (int64_t)now->mono_ms);
	jlog_bind_utc(st, 4, now->utc_ms);
	if ((rc = jlog_step_done(j, st)) == HF_OK)
		*run = sqlite3_last_insert_rowid(j->db);
	return rc;
}

int jlog_run_clean(struct jlog *j, int64_t run, const struct jlog_now *now)
{
	static const char sql[] =
		"UPDATE daemon_runs SET clean = 1, end_mono_ms = ?2, end_utc_ms = ?3 WHERE id = ?1";
	sqlite3_stmt *st = jlog_stmt(j, sql);

	if (!st)
		return HF_EBUG;
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_int64(st, 2, (int64_t)now->mono_ms);
	jlog_bind_utc(st, 3, now->utc_ms);
	return jlog_step_done(j, st);
}
