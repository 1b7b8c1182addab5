/*
** jlog_steps.c: a job's recorded steps (schema version 12): who may record
** one (the job's running attempt), finding a record for a replay, recording
** a step's result, counting a replay, and listing them for show; and the
** messages (schema version 13) that `holdfast send` keeps for the steps that
** wait for them; parking (schema version 14): a job whose step sleeps or
** waits long asks to be parked, and the daemon wakes it.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/jlog_int.h"
#include "port.h"

int jlog_steps_owner(struct jlog *j, int64_t job, int64_t attempt, char *why, size_t len)
{
	static const char sql[] = "SELECT state, attempts FROM jobs WHERE id = ?1";
	sqlite3_stmt *st = jlog_stmt(j, sql);
	int src, rc = HF_OK;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_int64(st, 1, job);
	src = sqlite3_step(st);
	if (src == SQLITE_DONE) {
		snprintf(why, len, "there is no job %lld in this log", (long long)job);
		rc = HF_ENOENT;
	} else if (src != SQLITE_ROW) {
		rc = jlog_sqlite_err(j->db, "step's job", src);
	} else if (strcmp((const char *)sqlite3_column_text(st, 0), "running") != 0) {
		snprintf(why, len, "job %lld is %s, not running", (long long)job,
			 (const char *)sqlite3_column_text(st, 0));
		rc = HF_EINVAL;
	} else if (sqlite3_column_int64(st, 1) != attempt) {
		snprintf(why, len, "job %lld is running attempt %lld, not %lld (this process "
			 "outlived its attempt)", (long long)job,
			 (long long)sqlite3_column_int64(st, 1), (long long)attempt);
		rc = HF_EINVAL;
	}
	sqlite3_reset(st);
	return rc;
}

#define STEP_COLS \
	"job, name, attempt, argv, exit_code, signal, output, boot, start_mono_ms," \
	" start_utc_ms, end_mono_ms, end_utc_ms, replayed," \
	" json_object('name', name, 'attempt', attempt, 'exit_code', exit_code," \
	"  'signal', signal, 'output_bytes', length(output), 'boot', boot," \
	"  'start_utc_ms', start_utc_ms, 'end_utc_ms', end_utc_ms," \
	"  'duration_ms', end_mono_ms - start_mono_ms, 'replayed', replayed," \
	"  'argv', json(argv))"

/* One row of STEP_COLS into *S (its strings and output point into ST's row). */
static void step_from_row(sqlite3_stmt *st, struct jlog_step *s)
{
	s->job = sqlite3_column_int64(st, 0);
	s->name = jlog_col_text(st, 1);
	s->attempt = sqlite3_column_int64(st, 2);
	s->argv_json = jlog_col_text(st, 3);
	s->exit_code = jlog_col_int_or(st, 4, -1);
	s->signal = jlog_col_int_or(st, 5, -1);
	s->output = sqlite3_column_blob(st, 6);
	s->output_len = (size_t)sqlite3_column_bytes(st, 6);
	s->boot = sqlite3_column_int64(st, 7);
	s->start_mono_ms = (uint64_t)sqlite3_column_int64(st, 8);
	s->start_utc_ms = jlog_col_int_or(st, 9, -1);
	s->end_mono_ms = (uint64_t)sqlite3_column_int64(st, 10);
	s->end_utc_ms = jlog_col_int_or(st, 11, -1);
	s->replayed = sqlite3_column_int64(st, 12);
	s->json = jlog_col_text(st, 13);
}

int jlog_steps_find(struct jlog *j, int64_t job, const char *name, struct jlog_step *s)
{
	static const char sql[] = "SELECT " STEP_COLS " FROM steps WHERE job = ?1 AND name = ?2";
	sqlite3_stmt *st = jlog_stmt(j, sql);
	int src;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_int64(st, 1, job);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		step_from_row(st, s);
		j->pinned = st;
		return HF_OK;
	}
	sqlite3_reset(st);
	return src == SQLITE_DONE ? HF_ENOENT : jlog_sqlite_err(j->db, "step", src);
}

int jlog_steps_record(struct jlog *j, const struct jlog_step *s)
{
	static const char sql[] =
		"INSERT INTO steps(job, name, attempt, argv, exit_code, signal, output, boot,"
		" start_mono_ms, start_utc_ms, end_mono_ms, end_utc_ms)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";

	return jlog_exec(j, sql, JV_ARGS(JV_I(s->job), JV_T(s->name), JV_I(s->attempt),
					 JV_T(s->argv_json), JV_I_IF(s->exit_code >= 0, s->exit_code),
					 JV_I_IF(s->signal >= 0, s->signal),
					 JV_B(s->output ? s->output : "", s->output_len),
					 JV_I(s->boot), JV_I(s->start_mono_ms), JV_U(s->start_utc_ms),
					 JV_I(s->end_mono_ms), JV_U(s->end_utc_ms)));
}

int jlog_steps_replayed(struct jlog *j, int64_t job, const char *name)
{
	static const char sql[] =
		"UPDATE steps SET replayed = replayed + 1 WHERE job = ?1 AND name = ?2";

	return jlog_exec(j, sql, JV_ARGS(JV_I(job), JV_T(name)));
}

/* jlog_steps_list's callback and its argument. */
struct step_rows {
	int (*cb)(const struct jlog_step *s, void *arg);
	void *arg;
};

static int step_row(sqlite3_stmt *st, void *arg)
{
	const struct step_rows *rows = arg;
	struct jlog_step s;

	step_from_row(st, &s);
	return rows->cb(&s, rows->arg) ? JLOG_STOP : HF_OK;
}

int jlog_steps_list(struct jlog *j, int64_t job, int (*cb)(const struct jlog_step *s, void *arg),
		    void *arg)
{
	/* In the order they ran: an attempt runs in one boot, so its
	** monotonic clock orders its steps. */
	static const char sql[] = "SELECT " STEP_COLS " FROM steps WHERE job = ?1"
				  " ORDER BY attempt, start_mono_ms, name";
	struct step_rows rows = { cb, arg };

	return jlog_query(j, sql, JV_ARGS(JV_I(job)), "steps", step_row, &rows);
}

int jlog_steps_boot_base(struct jlog *j, int64_t boot, int64_t *base_ms)
{
	static const char sql[] = "SELECT base_ms FROM boots WHERE id = ?1";
	bool found;
	int rc;

	if ((rc = jlog_query_int(j, sql, JV_ARGS(JV_I(boot)), "boot", base_ms, &found)) != HF_OK)
		return rc;
	return found ? HF_OK : HF_ENOENT;
}

int64_t jlog_steps_sleep_left(const struct jlog_step_clock *then, const struct jlog_step_clock *now,
			      int64_t sleep_ms)
{
	int64_t left;

	if (then->boot == now->boot)
		left = (int64_t)then->mono_ms + sleep_ms - (int64_t)now->mono_ms;
	else if (then->utc_ms >= 0 && now->utc_ms >= 0)
		left = then->utc_ms + sleep_ms - now->utc_ms;
	else
		left = then->base_ms + (int64_t)then->mono_ms + sleep_ms -
		       (now->base_ms + (int64_t)now->mono_ms);
	/* Never longer than the whole sleep: a clock set back since (the wall
	** clock), or a device clock that lost a boot, must not stretch it. */
	if (left > sleep_ms)
		left = sleep_ms;
	return left > 0 ? left : 0;
}

/* ---- messages ------------------------------------------------------------------ */

int jlog_msg_pending(struct jlog *j, int64_t *count, int64_t *bytes)
{
	/* length() of a BLOB reads its size from the record, not its pages. */
	static const char sql[] = "SELECT count(*), coalesce(sum(length(data)), 0) FROM messages";
	sqlite3_stmt *st = jlog_stmt(j, sql);
	int src;

	if (!st)
		return HF_EBUG;
	if ((src = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		return jlog_sqlite_err(j->db, "pending messages", src);
	}
	*count = sqlite3_column_int64(st, 0);
	*bytes = sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	return HF_OK;
}

int jlog_msg_send(struct jlog *j, const char *topic, const void *data, size_t len,
		  const struct jlog_now *now, int64_t *id)
{
	static const char sql[] =
		"INSERT INTO messages(topic, data, boot, sent_mono_ms, sent_utc_ms)"
		" VALUES (?1, ?2, ?3, ?4, ?5)";
	int64_t count, bytes;
	int rc;

	if (len > JLOG_MSG_DATA_MAX)
		return HF_ETOOBIG;
	if ((rc = jlog_msg_pending(j, &count, &bytes)) != HF_OK)
		return rc;
	if (count + 1 > JLOG_MSG_PENDING_MAX || bytes + (int64_t)len > JLOG_MSG_PENDING_BYTES)
		return HF_ETOOBIG;
	rc = jlog_exec(j, sql, JV_ARGS(JV_T(topic), JV_B(data ? data : "", len), JV_I(now->boot),
				       JV_I(now->mono_ms), JV_U(now->utc_ms)));
	if (rc == HF_OK)
		*id = sqlite3_last_insert_rowid(j->db);
	return rc;
}

int jlog_msg_waiting(struct jlog *j, const char *topic)
{
	static const char sql[] = "SELECT EXISTS(SELECT 1 FROM messages WHERE topic = ?1)";
	int64_t any;
	bool found;
	int rc;

	if ((rc = jlog_query_int(j, sql, JV_ARGS(JV_T(topic)), "messages", &any, &found)) != HF_OK)
		return rc;
	return any ? HF_OK : HF_ENOENT;
}

int jlog_msg_take(struct jlog *j, const char *topic, int64_t *id, void **data, size_t *len)
{
	static const char sql[] =
		"SELECT id, data FROM messages WHERE topic = ?1 ORDER BY id LIMIT 1";
	sqlite3_stmt *st = jlog_stmt(j, sql);
	int src;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_text(st, 1, topic, -1, SQLITE_TRANSIENT);
	src = sqlite3_step(st);
	if (src != SQLITE_ROW) {
		sqlite3_reset(st);
		return src == SQLITE_DONE ? HF_ENOENT : jlog_sqlite_err(j->db, "message", src);
	}
	*id = sqlite3_column_int64(st, 0);
	*len = (size_t)sqlite3_column_bytes(st, 1);
	if (!(*data = malloc(*len ? *len : 1))) {
		sqlite3_reset(st);
		return HF_ENOMEM;
	}
	if (*len)
		memcpy(*data, sqlite3_column_blob(st, 1), *len);
	sqlite3_reset(st);
	return jlog_exec(j, "DELETE FROM messages WHERE id = ?1", JV_ARGS(JV_I(*id)));
}

/* ---- parking ------------------------------------------------------------------ */

/* A parked job that is due: its wake time has come in the boot it parked in,
** or the device booted since (the step that parked reckons its own time
** again when it runs), or a message waits for its topic. Read through
** jobs_state: the cost is the parked jobs', not the log's. */
#define PARKED_DUE \
	" FROM jobs INDEXED BY jobs_state WHERE state = 'parked' AND (ready_boot != ?1" \
	" OR ready_mono_ms <= ?2 OR " JLOG_PARK_MESSAGE ")"

int jlog_park(struct jlog *j, int64_t job, int64_t attempt, const char *topic,
	      uint64_t wake_mono_ms, const struct jlog_now *now, const char *reason)
{
	static const char sql[] =
		"UPDATE jobs SET cancel_req = 2, ready_boot = ?3, ready_mono_ms = ?4, reason = ?5"
		" WHERE id = ?1 AND attempts = ?2 AND state = 'running' AND cancel_req = 0";
	static const char sql_topic[] = "INSERT OR REPLACE INTO parks(job, topic) VALUES (?1, ?2)";
	static const char sql_no_topic[] = "DELETE FROM parks WHERE job = ?1";
	int rc;

	if (wake_mono_ms > INT64_MAX)
		wake_mono_ms = INT64_MAX;
	rc = jlog_exec(j, sql, JV_ARGS(JV_I(job), JV_I(attempt), JV_I(now->boot),
				       JV_I((int64_t)wake_mono_ms), JV_T(reason)));
	if (rc == HF_OK && sqlite3_changes(j->db) != 1)
		return HF_ENOENT;
	if (rc == HF_OK)
		rc = topic ? jlog_exec(j, sql_topic, JV_ARGS(JV_I(job), JV_T(topic))) :
			     jlog_exec(j, sql_no_topic, JV_ARGS(JV_I(job)));
	return rc;
}

int jlog_parked_due(struct jlog *j, const struct jlog_now *now, bool *due)
{
	static const char sql[] = "SELECT EXISTS (SELECT 1" PARKED_DUE ")";
	int64_t v = 0;
	bool found;
	int rc = jlog_query_int(j, sql, JV_ARGS(JV_I(now->boot), JV_I((int64_t)now->mono_ms)),
				"parked", &v, &found);

	*due = found && v != 0;
	return rc;
}

int jlog_parked_wake(struct jlog *j, const struct jlog_now *now)
{
	/* Its parks row stays: it is read only while the job is parked, and
	** the next park or the attempt's end replaces or removes it. */
	static const char sql[] =
		"UPDATE jobs SET state = 'queued', ready_boot = ?1, ready_mono_ms = ?2,"
		" reason = 'woken; ' || coalesce(reason, 'parked')"
		" WHERE id IN (SELECT id" PARKED_DUE ")";

	return jlog_exec(j, sql, JV_ARGS(JV_I(now->boot), JV_I((int64_t)now->mono_ms)));
}

int jlog_parked_next(struct jlog *j, const struct jlog_now *now, uint64_t *mono_ms)
{
	static const char sql[] =
		"SELECT min(ready_mono_ms) FROM jobs INDEXED BY jobs_state"
		" WHERE state = 'parked' AND ready_boot = ?1 AND ready_mono_ms > ?2"
		" AND NOT EXISTS (SELECT 1 FROM parks p WHERE p.job = jobs.id)";
	int64_t v = 0;
	bool found;
	int rc = jlog_query_int(j, sql, JV_ARGS(JV_I(now->boot), JV_I((int64_t)now->mono_ms)),
				"parked", &v, &found);

	*mono_ms = rc == HF_OK && found && v > 0 ? (uint64_t)v : UINT64_MAX;
	return rc;
}
