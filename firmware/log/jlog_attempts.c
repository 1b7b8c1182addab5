/*
** jlog_attempts.c: a job's attempts and their output: the start (written
** before the process runs), output chunks, the end and what it does to the
** job (retry with backoff, failure, death of its dependents), cancel
** requests, the attempts still open for the recovery, and reading them back.
** An attempt is open exactly while its job is running: both change in one
** transaction.
*/
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fmt/sched.h"
#include "log/jlog_int.h"
#include "port.h"

/* jlog_attempts_list's callback and its argument, for each row. */
struct attempt_rows {
	int (*cb)(const struct jlog_attempt *a, void *arg);
	void *arg;
};

static int attempt_row(sqlite3_stmt *st, void *arg)
{
	const struct attempt_rows *rows = arg;
	struct jlog_attempt a;

	a.job = sqlite3_column_int64(st, 0);
	a.n = sqlite3_column_int64(st, 1);
	a.boot = sqlite3_column_int64(st, 2);
	a.pid = sqlite3_column_int64(st, 3);
	a.start_mono_ms = (uint64_t)sqlite3_column_int64(st, 4);
	a.end_mono_ms = (uint64_t)jlog_col_int_or(st, 5, 0);
	a.start_utc_ms = jlog_col_int_or(st, 6, -1);
	a.end_utc_ms = jlog_col_int_or(st, 7, -1);
	a.end_reason = jlog_col_text(st, 8);
	a.exit_code = jlog_col_int_or(st, 9, -1);
	a.signal = jlog_col_int_or(st, 10, -1);
	a.out_bytes = sqlite3_column_int64(st, 11);
	a.out_truncated = sqlite3_column_int64(st, 12) != 0;
	a.json = jlog_col_text(st, 13);
	a.duration_ms = jlog_col_int_or(st, 14, -1);
	a.end_unknown = sqlite3_column_int64(st, 15) != 0;
	a.detected_boot = jlog_col_int_or(st, 16, 0);
	a.detected_utc_ms = jlog_col_int_or(st, 17, -1);
	a.alive_ms = jlog_col_int_or(st, 18, -1);
	a.end_boot = jlog_col_int_or(st, 19, 0);
	return rows->cb(&a, rows->arg) ? JLOG_STOP : HF_OK;
}

int jlog_attempts_list(struct jlog *j, int64_t job,
		       int (*cb)(const struct jlog_attempt *a, void *arg), void *arg)
{
	/* An attempt cut by a power loss, or by a daemon crash it did not
	** outlive, has no end time: nobody saw it end. What is known instead:
	** the daemon start that found it (the first run after the attempt
	** started), and a lower bound on when its daemon died, the latest
	** start or end that daemon recorded in that boot before the finder
	** (alive_mono_ms: copied by the finder, schema_v10). */
	static const char sql[] =
		"WITH a AS (SELECT *,"
		"  CASE WHEN end_boot = boot THEN end_mono_ms - start_mono_ms END AS dur,"
		"  end_reason IS NOT NULL AND end_mono_ms IS NULL AS unknown"
		"  FROM attempts WHERE job = ?1),"
		" b AS (SELECT a.*, d.boot AS det_boot, d.start_mono_ms AS det_mono,"
		"  d.start_utc_ms AS det_utc FROM a LEFT JOIN daemon_runs d ON a.unknown AND"
		"  d.id = (SELECT id FROM daemon_runs WHERE boot > a.boot OR"
		"   (boot = a.boot AND start_mono_ms > a.start_mono_ms) ORDER BY id LIMIT 1)),"
		" c AS (SELECT b.*, CASE WHEN det_boot IS NOT NULL THEN alive_mono_ms - start_mono_ms"
		"  END AS alive FROM b)"
		"SELECT job, n, boot, pid, start_mono_ms, end_mono_ms, start_utc_ms, end_utc_ms,"
		" end_reason, exit_code, signal, out_bytes, out_truncated,"
		" json_object('n', n, 'boot', boot, 'pid', pid, 'start_utc_ms', start_utc_ms,"
		"  'end_utc_ms', end_utc_ms, 'duration_ms', dur,"
		"  'end_reason', end_reason, 'exit_code', exit_code, 'signal', signal,"
		"  'output_bytes', out_bytes, 'output_truncated', json(iif(out_truncated,'true','false')),"
		"  'end_known', json(iif(end_mono_ms IS NULL,'false','true')),"
		"  'detected_boot', det_boot, 'detected_utc_ms', det_utc,"
		"  'alive_after_start_ms', alive,"
		"  'start_mono_ms', start_mono_ms, 'end_boot', end_boot,"
		"  'end_mono_ms', end_mono_ms),"
		" dur, unknown, det_boot, det_utc, alive, end_boot"
		" FROM c ORDER BY n";
	struct attempt_rows rows = { cb, arg };

	return jlog_query(j, sql, JV_ARGS(JV_I(job)), "attempts", attempt_row, &rows);
}

/* jlog_output_read's callback, its argument and where the next chunk is. */
struct output_rows {
	int (*cb)(int stream, const void *data, size_t len, void *arg);
	void *arg;
	int64_t *next_seq;
};

static int output_row(sqlite3_stmt *st, void *arg)
{
	const struct output_rows *rows = arg;

	*rows->next_seq = sqlite3_column_int64(st, 0) + 1;
	return rows->cb((int)sqlite3_column_int64(st, 1), sqlite3_column_blob(st, 2),
			(size_t)sqlite3_column_bytes(st, 2), rows->arg) ? JLOG_STOP : HF_OK;
}

int jlog_output_read(struct jlog *j, int64_t job, int64_t n, int64_t from_seq,
		     int (*cb)(int stream, const void *data, size_t len, void *arg), void *arg,
		     int64_t *next_seq)
{
	static const char sql[] =
		"SELECT seq, stream, data FROM output WHERE job = ?1 AND n = ?2 AND seq >= ?3"
		" ORDER BY seq";
	struct output_rows rows = { cb, arg, next_seq };

	*next_seq = from_seq;
	return jlog_query(j, sql, JV_ARGS(JV_I(job), JV_I(n), JV_I(from_seq)), "output", output_row,
			  &rows);
}

int jlog_attempt_start(struct jlog *j, int64_t job, int64_t n, int64_t pid,
		       int64_t proc_start, const struct jlog_now *now)
{
	static const char sql_att[] =
		"INSERT INTO attempts(job, n, boot, pid, proc_start, start_mono_ms, start_utc_ms)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
	static const char sql_job[] =
		"UPDATE jobs SET state = 'running', attempts = ?2 WHERE id = ?1";
	int rc;

	if ((rc = jlog_exec(j, sql_att, JV_ARGS(JV_I(job), JV_I(n), JV_I(now->boot), JV_I(pid),
						JV_I(proc_start), JV_I(now->mono_ms),
						JV_U(now->utc_ms)))) != HF_OK)
		return rc;
	return jlog_exec(j, sql_job, JV_ARGS(JV_I(job), JV_I(n)));
}

int jlog_output_add(struct jlog *j, int64_t job, int64_t n, int64_t seq, int stream,
		    const void *data, size_t len)
{
	static const char sql[] =
		"INSERT INTO output(job, n, seq, stream, data) VALUES (?1, ?2, ?3, ?4, ?5)";

	return jlog_exec(j, sql, JV_ARGS(JV_I(job), JV_I(n), JV_I(seq), JV_I(stream),
					 JV_B(data, len)));
}

/* An attempt failed (its exit, a signal, a timeout, a spawn error) with WHY
** (in a buffer of WHY_LEN): the job is retried after its backoff while it
** has retries left, else it is dead, and so is every job that waits on it. */
static int attempt_failed(struct jlog *j, int64_t job, char *why, size_t why_len,
			  const struct jlog_now *now, uint32_t rnd)
{
	static const char sql_retry[] =
		"UPDATE jobs SET state = 'failed', failures = failures + 1,"
		" reason = ?2, ready_boot = ?3, ready_mono_ms = ?4 WHERE id = ?1";
	static const char sql_count_failure[] =
		"UPDATE jobs SET failures = failures + 1 WHERE id = ?1";
	static const char sql_fail_count[] =
		"SELECT failures, retries, backoff_min_ms, backoff_max_ms FROM jobs WHERE id = ?1";
	sqlite3_stmt *st;
	char dep_reason[200];
	int64_t failures, retries;
	uint64_t backoff_ms;
	int rc;

	if (!(st = jlog_stmt(j, sql_fail_count)))
		return HF_EBUG;
	sqlite3_bind_int64(st, 1, job);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return jlog_sqlite_err(j->db, "attempt end", SQLITE_ERROR);
	}
	failures = sqlite3_column_int64(st, 0) + 1;
	retries = sqlite3_column_int64(st, 1);
	backoff_ms = sched_backoff_ms((uint64_t)sqlite3_column_int64(st, 2),
				      (uint64_t)sqlite3_column_int64(st, 3), failures, rnd);
	sqlite3_reset(st);
	if (failures <= retries)
		return jlog_exec(j, sql_retry, JV_ARGS(JV_I(job), JV_T(why), JV_I(now->boot),
						       JV_I(now->mono_ms + backoff_ms)));
	if (retries > 0) {
		size_t l = strlen(why);
		snprintf(why + l, why_len - l, "; no retries left (%lld)", (long long)retries);
	}
	snprintf(dep_reason, sizeof(dep_reason), "dependency %lld dead: %s", (long long)job, why);
	if ((rc = jlog_set_state(j, job, "dead", why, now)) != HF_OK)
		return rc;
	if ((rc = jlog_exec(j, sql_count_failure, JV_ARGS(JV_I(job)))) != HF_OK)
		return rc;
	return jlog_kill_dependents(j, job, dep_reason, now);
}

int jlog_attempt_end(struct jlog *j, int64_t job, int64_t n, const struct jlog_end *e,
		     const struct jlog_now *now, uint32_t rnd)
{
	static const char sql_end[] =
		"UPDATE attempts SET end_boot = ?3, end_mono_ms = ?4, end_utc_ms = ?5,"
		" end_reason = ?6, exit_code = ?7, signal = ?8, out_bytes = ?9,"
		" out_truncated = ?10, alive_mono_ms = iif(?4 IS NULL,"
		"  (SELECT act_mono_ms FROM history WHERE act_boot = attempts.boot), NULL)"
		" WHERE job = ?1 AND n = ?2 AND end_reason IS NULL";
	static const char sql_release[] =
		"UPDATE jobs SET waiting = waiting - 1"
		" WHERE id IN (SELECT job FROM deps WHERE dep = ?1) AND waiting > 0";
	static const char sql_requeue[] =
		"UPDATE jobs SET state = 'queued', reason = ?2, ready_boot = ?3, ready_mono_ms = ?4,"
		" cancel_req = iif(cancel_req = " JLOG_REQ_PARK_S ", 0, cancel_req) WHERE id = ?1";
	static const char sql_park[] =
		"UPDATE jobs SET state = 'parked', cancel_req = 0 WHERE id = ?1 AND cancel_req != "
		JLOG_REQ_CANCEL_S;
	static const char sql_unpark[] = "DELETE FROM parks WHERE job = ?1";
	static const char sql_unclean[] =
		"UPDATE jobs SET unclean = iif(?2, unclean + 1, 0) WHERE id = ?1";
	static const char sql_unclean_count[] = "SELECT unclean FROM jobs WHERE id = ?1";
	bool known = !e->end_unknown;
	sqlite3_stmt *st;
	char why[160], dep_reason[200];
	bool unclean, cancelled = false;
	int rc;

	if ((rc = jlog_exec(j, sql_end, JV_ARGS(JV_I(job), JV_I(n), JV_I_IF(known, now->boot),
						JV_I_IF(known, now->mono_ms),
						JV_U_IF(known, now->utc_ms), JV_T(e->reason),
						JV_I_IF(e->exit_code >= 0, e->exit_code),
						JV_I_IF(e->signal >= 0, e->signal),
						JV_I(e->out_bytes), JV_I(e->out_truncated)))) != HF_OK)
		return rc;

	/* Any other end drops the topic a park request it did not live to
	** honour left (jlog_park). */
	if (strcmp(e->reason, "parked") != 0 &&
	    (rc = jlog_exec(j, sql_unpark, JV_ARGS(JV_I(job)))) != HF_OK)
		return rc;
	/* Unclean ends in a row: a job running whenever the power goes may be
	** what browns the board out. Any other end breaks the series. */
	unclean = !strcmp(e->reason, "power-loss") || !strcmp(e->reason, "daemon-crash");
	if ((rc = jlog_exec(j, sql_unclean, JV_ARGS(JV_I(job), JV_I(unclean)))) != HF_OK)
		return rc;
	if (unclean && e->quarantine_after > 0) {
		if (!(st = jlog_stmt(j, sql_unclean_count)))
			return HF_EBUG;
		sqlite3_bind_int64(st, 1, job);
		if (sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_int64(st, 0) >= e->quarantine_after) {
			snprintf(why, sizeof(why), "running during %lld unclean stops in a row "
				 "(last: %s); held until holdfast retry",
				 (long long)sqlite3_column_int64(st, 0), e->reason);
			sqlite3_reset(st);
			return jlog_set_state(j, job, "quarantined", why, now);
		}
		sqlite3_reset(st);
	}

	/* Parked at its step's request: not the job's fault, and not an end; the
	** reason the step gave stays (jlog_park), and its topic if it has one.
	** Unless the user cancelled it meanwhile: then it is cancelled. */
	if (!strcmp(e->reason, "parked")) {
		if ((rc = jlog_exec(j, sql_park, JV_ARGS(JV_I(job)))) != HF_OK ||
		    sqlite3_changes(j->db) == 1 ||
		    (rc = jlog_exec(j, sql_unpark, JV_ARGS(JV_I(job)))) != HF_OK)
			return rc;
		cancelled = true;
	}
	if (!strcmp(e->reason, "exit") && e->exit_code == 0) {
		if ((rc = jlog_set_state(j, job, "succeeded", NULL, now)) != HF_OK)
			return rc;
		return jlog_exec(j, sql_release, JV_ARGS(JV_I(job)));
	}
	if (!strcmp(e->reason, "exit"))
		snprintf(why, sizeof(why), "attempt %lld exited with status %lld", (long long)n,
			 (long long)e->exit_code);
	else if (!strcmp(e->reason, "signal"))
		snprintf(why, sizeof(why), "attempt %lld killed by signal %lld", (long long)n,
			 (long long)e->signal);
	else
		snprintf(why, sizeof(why), "attempt %lld ended: %s", (long long)n, e->reason);

	if (cancelled || !strcmp(e->reason, "cancelled")) {
		snprintf(dep_reason, sizeof(dep_reason), "dependency %lld was cancelled",
			 (long long)job);
		if ((rc = jlog_set_state(j, job, "cancelled", "cancelled by the user", now)))
			return rc;
		return jlog_kill_dependents(j, job, dep_reason, now);
	}
	if (!strcmp(e->reason, "shutdown") || unclean) {
		/* Not the job's fault: run it again, without spending a retry.
		** A job that keeps cutting the power was quarantined above. */
		return jlog_exec(j, sql_requeue, JV_ARGS(JV_I(job), JV_T(why), JV_I(now->boot),
							 JV_I(now->mono_ms)));
	}
	return attempt_failed(j, job, why, sizeof(why), now, rnd);
}

int jlog_cancel_requested(struct jlog *j, int64_t job, int *req)
{
	static const char sql[] = "SELECT cancel_req FROM jobs WHERE id = ?1";
	int64_t v = 0;
	bool found;
	int rc = jlog_query_int(j, sql, JV_ARGS(JV_I(job)), "cancel", &v, &found);

	*req = found ? (int)v : 0;
	return rc;
}

/* jlog_open_attempts' callback and its argument, for each row. */
struct open_rows {
	int (*cb)(const struct jlog_open_attempt *a, void *arg);
	void *arg;
};

static int open_row(sqlite3_stmt *st, void *arg)
{
	const struct open_rows *rows = arg;
	struct jlog_open_attempt a;

	a.job = sqlite3_column_int64(st, 0);
	a.n = sqlite3_column_int64(st, 1);
	a.boot = sqlite3_column_int64(st, 2);
	a.pid = sqlite3_column_int64(st, 3);
	a.proc_start = sqlite3_column_int64(st, 4);
	return rows->cb(&a, rows->arg) ? JLOG_STOP : HF_OK;
}

int jlog_open_attempts(struct jlog *j,
		       int (*cb)(const struct jlog_open_attempt *a, void *arg), void *arg)
{
	static const char sql[] =
		"SELECT a.job, a.n, a.boot, a.pid, a.proc_start FROM jobs j"
		" JOIN attempts a ON a.job = j.id AND a.n = j.attempts"
		" WHERE j.state = 'running' AND a.end_reason IS NULL";
	struct open_rows rows = { cb, arg };

	return jlog_query(j, sql, NULL, 0, "open attempts", open_row, &rows);
}
