/*
** jlog_jobs.c: jobs and pipelines: submitting (with dependencies and
** idempotency keys), resolving a name or id, listing, reading, counting by
** state, cancelling and retrying; pipelines and their runs; and the
** scheduler's pick of the runnable jobs, each source read from the index that
** serves exactly its query.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/jlog_int.h"
#include "port.h"

/* A key is found on its job, or, once the job was pruned, in idem_keys. */
/* A new id, above every id ever given: SQLite would give max(id) + 1, and
** reuse the ids of the newest rows once they are pruned. Both are seeks. */
#define NEXT_ID(table, col) \
	"max(coalesce((SELECT max(id) FROM " table "), 0)," \
	" coalesce((SELECT " col " FROM history), 0)) + 1"

static const char sql_job_by_key[] =
	"SELECT id FROM jobs WHERE idem_key = ?1"
	" UNION ALL SELECT job FROM idem_keys WHERE key = ?1 LIMIT 1";
static const char sql_dep_state[] = "SELECT state, name FROM jobs WHERE id = ?1";
static const char sql_job_insert[] =
	"INSERT INTO jobs(id, name, run, argv, env, cwd, grp, priority, retries, backoff_min_ms,"
	"  backoff_max_ms, timeout_ms, idem_key, state, waiting, ready_boot, ready_mono_ms,"
	"  submit_boot, submit_mono_ms, submit_utc_ms, user, limit_nofile, limit_as, limit_core)"
	" VALUES (" NEXT_ID("jobs", "max_job") ", ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
	"  ?11, ?12, 'queued', ?13, ?14, ?15, ?14, ?16, ?17, ?18, ?19, ?20, ?21)";
static const char sql_dep_insert[] = "INSERT OR IGNORE INTO deps(job, dep) VALUES (?1, ?2)";

int jlog_job_add(struct jlog *j, const struct jlog_spec *s, const struct jlog_now *now,
		 int64_t *id, bool *existed)
{
	sqlite3_stmt *st;
	char *argv = NULL, *env = NULL;
	int64_t waiting = 0;
	int rc = HF_EBUG;

	*existed = false;
	if (s->key && ((rc = jlog_query_int(j, sql_job_by_key, JV_ARGS(JV_T(s->key)),
					    "idempotency key", id, existed)) != HF_OK || *existed))
		return rc;
	for (int i = 0; i < s->nafter; i++) {
		const char *state;
		bool dup = false;

		/* The same dependency named twice is one edge, waited for once. */
		for (int k = 0; k < i && !dup; k++)
			dup = s->after[k] == s->after[i];
		if (dup)
			continue;
		if (!(st = jlog_stmt(j, sql_dep_state)))
			return HF_EBUG;
		sqlite3_bind_int64(st, 1, s->after[i]);
		if (sqlite3_step(st) != SQLITE_ROW) {
			sqlite3_reset(st);
			port_log("dependency %lld does not exist", (long long)s->after[i]);
			return HF_EINVAL;
		}
		state = jlog_col_text(st, 0);
		if (!strcmp(state, "dead") || !strcmp(state, "cancelled")) {
			port_log("dependency %lld is %s: the job could never run; "
				 "retry the dependency first", (long long)s->after[i], state);
			sqlite3_reset(st);
			return HF_EINVAL;
		}
		if (strcmp(state, "succeeded") != 0)
			waiting++;
		sqlite3_reset(st);
	}
	if ((rc = jlog_json_array(j, s->argv, s->argc, &argv)) ||
	    (rc = jlog_json_array(j, s->env, s->nenv, &env)))
		goto out;
	_Static_assert(JLOG_NLIMITS == 3, "sql_job_insert binds three limits");
	if ((rc = jlog_exec(j, sql_job_insert, JV_ARGS(
		JV_T(s->name), JV_I_IF(s->run > 0, s->run), JV_T(argv), JV_T(env), JV_T(s->cwd),
		JV_T(s->group), JV_I(s->priority), JV_I(s->retries), JV_I(s->backoff_min_ms),
		JV_I(s->backoff_max_ms), JV_I(s->timeout_ms), JV_T(s->key), JV_I(waiting),
		JV_I(now->boot), JV_I(now->mono_ms + s->not_before_ms), JV_I(now->mono_ms),
		JV_U(now->utc_ms), JV_T(s->user), JV_I_IF(s->limit_set[0], s->limit[0]),
		JV_I_IF(s->limit_set[1], s->limit[1]),
		JV_I_IF(s->limit_set[2], s->limit[2])))) != HF_OK)
		goto out;
	*id = sqlite3_last_insert_rowid(j->db);
	for (int i = 0; i < s->nafter; i++) {
		if ((rc = jlog_exec(j, sql_dep_insert, JV_ARGS(JV_I(*id), JV_I(s->after[i])))) != HF_OK)
			goto out;
	}
	rc = HF_OK;
out:
	free(argv);
	free(env);
	return rc;
}

int jlog_has_pending(struct jlog *j, bool *pending)
{
	/* Served by the jobs_state index: no walk over finished history. */
	static const char sql[] =
		"SELECT EXISTS (SELECT 1 FROM jobs WHERE state IN ('queued','running','failed'))"
		" OR EXISTS (SELECT 1 FROM jobs WHERE state = 'parked' AND (NOT EXISTS (SELECT 1"
		"  FROM parks p WHERE p.job = jobs.id) OR " JLOG_PARK_MESSAGE "))";
	int64_t v = 0;
	bool found;
	int rc = jlog_query_int(j, sql, NULL, 0, "pending", &v, &found);

	*pending = found && v != 0;
	/* EXISTS always gives a row. */
	return rc == HF_OK && !found ? jlog_sqlite_err(j->db, "pending", SQLITE_DONE) : rc;
}

int jlog_job_resolve(struct jlog *j, const char *ref, int64_t *id)
{
	static const char sql_by_id[] = "SELECT id FROM jobs WHERE id = ?1";
	static const char sql_by_name[] =
		"SELECT id FROM jobs WHERE name = ?1 ORDER BY id DESC LIMIT 1";
	char *end;
	long long n = strtoll(ref, &end, 10);
	bool numeric = *ref && *end == '\0' && n > 0, found;
	int rc;

	if (numeric)
		rc = jlog_query_int(j, sql_by_id, JV_ARGS(JV_I(n)), "resolve", id, &found);
	else
		rc = jlog_query_int(j, sql_by_name, JV_ARGS(JV_T(ref)), "resolve", id, &found);
	if (rc != HF_OK || found)
		return rc;
	port_log("no job %s '%s'", numeric ? "with id" : "named", ref);
	return HF_ENOENT;
}

#define JOB_COLS \
	"id, name, state, reason, grp, idem_key, cwd, argv, env, run, priority, retries," \
	" attempts, failures, waiting, backoff_min_ms, backoff_max_ms, timeout_ms," \
	" ready_boot, ready_mono_ms, submit_utc_ms, end_utc_ms," \
	" json_object('id', id, 'name', name, 'state', state, 'reason', reason," \
	"  'argv', json(argv), 'env', json(env), 'cwd', cwd, 'group', grp," \
	"  'priority', priority, 'retries', retries, 'attempts', attempts," \
	"  'failures', failures, 'waiting_on', waiting, 'timeout_ms', timeout_ms," \
	"  'backoff_min_ms', backoff_min_ms, 'backoff_max_ms', backoff_max_ms," \
	"  'key', idem_key, 'run', run, 'submitted_utc_ms', submit_utc_ms," \
	"  'ended_utc_ms', end_utc_ms, 'submitted_boot', submit_boot," \
	"  'submitted_mono_ms', submit_mono_ms, 'ended_boot', end_boot," \
	"  'ended_mono_ms', end_mono_ms, 'user', user, 'limit_nofile', limit_nofile," \
	"  'limit_as', limit_as, 'limit_core', limit_core)," \
	" submit_boot, submit_mono_ms, end_boot, end_mono_ms"

static void job_from_row(sqlite3_stmt *st, struct jlog_job *o)
{
	o->id = sqlite3_column_int64(st, 0);
	o->name = jlog_col_text(st, 1);
	o->state = jlog_col_text(st, 2);
	o->reason = jlog_col_text(st, 3);
	o->group = jlog_col_text(st, 4);
	o->key = jlog_col_text(st, 5);
	o->cwd = jlog_col_text(st, 6);
	o->argv_json = jlog_col_text(st, 7);
	o->env_json = jlog_col_text(st, 8);
	o->run = jlog_col_int_or(st, 9, 0);
	o->priority = sqlite3_column_int64(st, 10);
	o->retries = sqlite3_column_int64(st, 11);
	o->attempts = sqlite3_column_int64(st, 12);
	o->failures = sqlite3_column_int64(st, 13);
	o->waiting = sqlite3_column_int64(st, 14);
	o->backoff_min_ms = (uint64_t)sqlite3_column_int64(st, 15);
	o->backoff_max_ms = (uint64_t)sqlite3_column_int64(st, 16);
	o->timeout_ms = (uint64_t)sqlite3_column_int64(st, 17);
	o->ready_boot = sqlite3_column_int64(st, 18);
	o->ready_mono_ms = (uint64_t)sqlite3_column_int64(st, 19);
	o->submit_utc_ms = jlog_col_int_or(st, 20, -1);
	o->end_utc_ms = jlog_col_int_or(st, 21, -1);
	o->json = jlog_col_text(st, 22);
	o->submit_boot = sqlite3_column_int64(st, 23);
	o->submit_mono_ms = (uint64_t)sqlite3_column_int64(st, 24);
	o->end_boot = jlog_col_int_or(st, 25, 0);
	o->end_mono_ms = (uint64_t)jlog_col_int_or(st, 26, 0);
}

/* jlog_jobs_list's callback and its argument, for each row. */
struct job_rows {
	int (*cb)(const struct jlog_job *job, void *arg);
	void *arg;
};

static int job_row(sqlite3_stmt *st, void *arg)
{
	const struct job_rows *rows = arg;
	struct jlog_job o;

	job_from_row(st, &o);
	return rows->cb(&o, rows->arg) ? JLOG_STOP : HF_OK;
}

int jlog_jobs_list(struct jlog *j, const char *state, int64_t limit,
		   int (*cb)(const struct jlog_job *job, void *arg), void *arg)
{
	static const char sql_all[] =
		"SELECT " JOB_COLS " FROM jobs ORDER BY id DESC LIMIT ?1";
	static const char sql_state[] =
		"SELECT " JOB_COLS " FROM jobs WHERE state = ?2 ORDER BY id DESC LIMIT ?1";
	struct job_rows rows = { cb, arg };

	if (limit <= 0)
		limit = -1;
	if (state)
		return jlog_query(j, sql_state, JV_ARGS(JV_I(limit), JV_T(state)), "list", job_row,
				  &rows);
	return jlog_query(j, sql_all, JV_ARGS(JV_I(limit)), "list", job_row, &rows);
}

int jlog_job_get(struct jlog *j, int64_t id, struct jlog_job *job)
{
	static const char sql[] = "SELECT " JOB_COLS " FROM jobs WHERE id = ?1";
	sqlite3_stmt *st = jlog_stmt(j, sql);
	int src;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_int64(st, 1, id);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		/* The row stays readable until the statement is next used. */
		job_from_row(st, job);
		j->pinned = st;
		return HF_OK;
	}
	sqlite3_reset(st);
	if (src != SQLITE_DONE)
		return jlog_sqlite_err(j->db, "show", src);
	port_log("no job with id %lld", (long long)id);
	return HF_ENOENT;
}

int jlog_counts(struct jlog *j, struct jlog_counts *c)
{
	static const char sql_counts[] =
		"SELECT n_queued, n_running, n_succeeded, n_failed, n_dead, n_cancelled,"
		" n_quarantined, n_parked FROM history";
	static const char sql_oldest[] =
		"SELECT submit_boot, submit_mono_ms FROM jobs WHERE state = 'queued'"
		" ORDER BY id LIMIT 1";
	sqlite3_stmt *st = jlog_stmt(j, sql_counts);
	int src;

	memset(c, 0, sizeof(*c));
	if (!st)
		return HF_EBUG;
	if ((src = sqlite3_step(st)) == SQLITE_ROW) {
		c->queued = sqlite3_column_int64(st, 0);
		c->running = sqlite3_column_int64(st, 1);
		c->succeeded = sqlite3_column_int64(st, 2);
		c->failed = sqlite3_column_int64(st, 3);
		c->dead = sqlite3_column_int64(st, 4);
		c->cancelled = sqlite3_column_int64(st, 5);
		c->quarantined = sqlite3_column_int64(st, 6);
		c->parked = sqlite3_column_int64(st, 7);
	}
	sqlite3_reset(st);
	if (src != SQLITE_ROW)
		return jlog_sqlite_err(j->db, "counts", src == SQLITE_DONE ? SQLITE_CORRUPT : src);
	if (!(st = jlog_stmt(j, sql_oldest)))
		return HF_EBUG;
	if (sqlite3_step(st) == SQLITE_ROW) {
		c->oldest_queued_boot = sqlite3_column_int64(st, 0);
		c->oldest_queued_mono_ms = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return HF_OK;
}

/* Marks every transitive dependent of JOB that has not ended as dead, with
** REASON; inside the caller's transaction. */
int jlog_kill_dependents(struct jlog *j, int64_t job, const char *reason,
			   const struct jlog_now *now)
{
	static const char sql[] =
		"WITH RECURSIVE down(id) AS ("
		"  SELECT job FROM deps WHERE dep = ?1"
		"  UNION SELECT d.job FROM deps d JOIN down ON d.dep = down.id)"
		" UPDATE jobs SET state = 'dead', reason = ?2, end_boot = ?3, end_mono_ms = ?4,"
		"  end_utc_ms = ?5"
		" WHERE id IN down AND state IN ('queued', 'failed')";

	return jlog_exec(j, sql, JV_ARGS(JV_I(job), JV_T(reason), JV_I(now->boot),
					 JV_I(now->mono_ms), JV_U(now->utc_ms)));
}

/* Sets a job's terminal or waiting state. */
static const char sql_set_state[] =
	"UPDATE jobs SET state = ?2, reason = ?3, end_boot = ?4, end_mono_ms = ?5,"
	" end_utc_ms = ?6, cancel_req = 0 WHERE id = ?1";

int jlog_set_state(struct jlog *j, int64_t id, const char *state, const char *reason,
		     const struct jlog_now *now)
{
	bool ended = strcmp(state, "queued") && strcmp(state, "failed") && strcmp(state, "running");

	return jlog_exec(j, sql_set_state, JV_ARGS(JV_I(id), JV_T(state), JV_T(reason),
						   JV_I_IF(ended, now->boot),
						   JV_I_IF(ended, now->mono_ms),
						   JV_U_IF(ended, now->utc_ms)));
}

int jlog_job_cancel(struct jlog *j, int64_t id, const struct jlog_now *now, bool *later)
{
	static const char sql_req[] = "UPDATE jobs SET cancel_req = 1 WHERE id = ?1";
	static const char sql_unpark[] = "DELETE FROM parks WHERE job = ?1";
	struct jlog_job job;
	char reason[96];
	int rc;

	*later = false;
	if ((rc = jlog_begin(j)) != HF_OK)
		return rc;
	if ((rc = jlog_job_get(j, id, &job)) != HF_OK)
		goto out;
	if (!strcmp(job.state, "running")) {
		if ((rc = jlog_exec(j, sql_req, JV_ARGS(JV_I(id)))) != HF_OK)
			goto out;
		*later = true;
	} else if (!strcmp(job.state, "queued") || !strcmp(job.state, "failed") ||
		   !strcmp(job.state, "parked")) {
		snprintf(reason, sizeof(reason), "dependency %lld was cancelled", (long long)id);
		if ((rc = jlog_set_state(j, id, "cancelled", "cancelled by the user", now)) ||
		    (rc = jlog_exec(j, sql_unpark, JV_ARGS(JV_I(id)))) ||
		    (rc = jlog_kill_dependents(j, id, reason, now)))
			goto out;
	} else {
		port_log("job %lld is %s already; nothing to cancel", (long long)id, job.state);
		rc = HF_EINVAL;
		goto out;
	}
	return jlog_commit(j);
out:
	jlog_rollback(j);
	return rc;
}

int jlog_job_retry(struct jlog *j, int64_t id, const struct jlog_now *now)
{
	/* The job, and every transitive dependent that died because of a
	** dependency, start over; "waiting" is recounted from their deps. */
	static const char sql_revive[] =
		"WITH RECURSIVE down(id) AS ("
		"  SELECT ?1"
		"  UNION SELECT d.job FROM deps d JOIN down ON d.dep = down.id"
		"   JOIN jobs x ON x.id = d.job"
		"   WHERE x.state = 'dead' AND x.reason LIKE 'dependency %')"
		" UPDATE jobs SET state = 'queued', reason = NULL, failures = 0, unclean = 0,"
		"  cancel_req = 0, end_boot = NULL, end_mono_ms = NULL, end_utc_ms = NULL,"
		"  ready_boot = ?2, ready_mono_ms = ?3,"
		"  waiting = (SELECT count(*) FROM deps d JOIN jobs p ON p.id = d.dep"
		"             WHERE d.job = jobs.id AND p.state != 'succeeded')"
		" WHERE id IN down";
	struct jlog_job job;
	int rc;

	if ((rc = jlog_begin(j)) != HF_OK)
		return rc;
	if ((rc = jlog_job_get(j, id, &job)) != HF_OK)
		goto out;
	if (strcmp(job.state, "dead") && strcmp(job.state, "cancelled") &&
	    strcmp(job.state, "quarantined") && strcmp(job.state, "failed")) {
		port_log("job %lld is %s; only dead, cancelled, failed or quarantined jobs "
			 "can be retried", (long long)id, job.state);
		rc = HF_EINVAL;
		goto out;
	}
	if ((rc = jlog_exec(j, sql_revive, JV_ARGS(JV_I(id), JV_I(now->boot),
						   JV_I(now->mono_ms)))) != HF_OK)
		goto out;
	return jlog_commit(j);
out:
	jlog_rollback(j);
	return rc;
}

/* ---- pipelines ------------------------------------------------------------------ */

int jlog_pipeline_put(struct jlog *j, const char *name, const char *spec, const char *kind,
		      const char *sched, uint64_t every_ms, int64_t utc_ms)
{
	static const char sql[] =
		"INSERT INTO pipelines(name, spec, added_utc_ms, sched_kind, sched, every_ms)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
		" ON CONFLICT(name) DO UPDATE SET spec = excluded.spec,"
		"  added_utc_ms = excluded.added_utc_ms, sched_kind = excluded.sched_kind,"
		"  sched = excluded.sched, every_ms = excluded.every_ms";
	bool every = kind && !strcmp(kind, "every");

	return jlog_exec(j, sql, JV_ARGS(JV_T(name), JV_T(spec), JV_U(utc_ms), JV_T(kind),
					 JV_T(sched), JV_I_IF(every, every_ms)));
}

int jlog_pipeline_spec(struct jlog *j, const char *name, char **spec)
{
	static const char sql[] = "SELECT spec FROM pipelines WHERE name = ?1";
	sqlite3_stmt *st = jlog_stmt(j, sql);
	int src;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		*spec = strdup(jlog_col_text(st, 0));
		sqlite3_reset(st);
		return *spec ? HF_OK : HF_ENOMEM;
	}
	sqlite3_reset(st);
	if (src != SQLITE_DONE)
		return jlog_sqlite_err(j->db, "pipeline", src);
	port_log("no pipeline named '%s' (see holdfast pipeline ls)", name);
	return HF_ENOENT;
}

/* jlog_pipelines_list's callback and its argument, for each row. */
struct pipeline_rows {
	int (*cb)(const struct jlog_pipeline *p, void *arg);
	void *arg;
};

static int pipeline_row(sqlite3_stmt *st, void *arg)
{
	const struct pipeline_rows *rows = arg;
	struct jlog_pipeline p;

	p.name = jlog_col_text(st, 0);
	p.kind = jlog_col_text(st, 1);
	p.sched = jlog_col_text(st, 2);
	p.spec = jlog_col_text(st, 3);
	p.every_ms = (uint64_t)jlog_col_int_or(st, 4, 0);
	p.last_boot = jlog_col_int_or(st, 5, 0);
	p.last_mono_ms = (uint64_t)jlog_col_int_or(st, 6, 0);
	p.last_utc_ms = jlog_col_int_or(st, 7, -1);
	p.runs = sqlite3_column_int64(st, 8);
	p.json = jlog_col_text(st, 9);
	return rows->cb(&p, rows->arg) ? JLOG_STOP : HF_OK;
}

int jlog_pipelines_list(struct jlog *j, bool scheduled_only,
			int (*cb)(const struct jlog_pipeline *p, void *arg), void *arg)
{
	static const char sql[] =
		"SELECT name, sched_kind, sched, spec, every_ms, last_boot, last_mono_ms,"
		" last_utc_ms, (SELECT count(*) FROM pipeline_runs r WHERE r.pipeline = p.name),"
		" json_object('name', name, 'schedule', sched_kind, 'every_or_cron', sched,"
		"  'last_fired_utc_ms', last_utc_ms, 'runs',"
		"  (SELECT count(*) FROM pipeline_runs r WHERE r.pipeline = p.name),"
		"  'jobs', json_array_length(spec, '$.jobs'))"
		" FROM pipelines p WHERE ?1 = 0 OR sched_kind IS NOT NULL ORDER BY name";
	struct pipeline_rows rows = { cb, arg };

	return jlog_query(j, sql, JV_ARGS(JV_I(scheduled_only)), "pipelines", pipeline_row, &rows);
}

int jlog_run_add(struct jlog *j, const char *pipeline, char *const *kv, int n,
		 const char *trigger, const struct jlog_now *now, int64_t *run)
{
	static const char sql[] =
		"INSERT INTO pipeline_runs(id, pipeline, params, trigger, boot, mono_ms, utc_ms)"
		" VALUES (" NEXT_ID("pipeline_runs", "max_run") ", ?1, ?2, ?3, ?4, ?5, ?6)";
	char *params;
	int rc;

	if ((rc = jlog_json_array(j, kv, n, &params)) != HF_OK)
		return rc;
	rc = jlog_exec(j, sql, JV_ARGS(JV_T(pipeline), JV_T(params), JV_T(trigger),
				       JV_I(now->boot), JV_I(now->mono_ms), JV_U(now->utc_ms)));
	free(params);
	if (rc == HF_OK)
		*run = sqlite3_last_insert_rowid(j->db);
	return rc;
}

int jlog_pipeline_fired(struct jlog *j, const char *name, const struct jlog_now *now)
{
	static const char sql[] =
		"UPDATE pipelines SET last_boot = ?2, last_mono_ms = ?3,"
		" last_utc_ms = coalesce(?4, last_utc_ms) WHERE name = ?1";

	return jlog_exec(j, sql, JV_ARGS(JV_T(name), JV_I(now->boot), JV_I(now->mono_ms),
					 JV_U(now->utc_ms)));
}

/* ---- the scheduler's pick ------------------------------------------------------ */

/*
** The scheduler's pick. Runnable jobs come from a few sources, each read in
** scheduling order (priority, then FIFO) from an index that serves exactly
** its query: the ungrouped jobs (jobs_free) and each concurrency group
** (jobs_grp). A group is read on its own because a full group must not be
** stepped over row by row: 200,000 jobs queued behind a "modem" group with
** one slot would otherwise be walked on every tick. Each source gives at
** most MAX candidates (no more can start), their ids are merged in
** scheduling order, and each row is then read by its id for the callback.
** The cost is O((groups + 1) * (log n + MAX)): the number of distinct
** groups that have work, not the depth of the queue.
*/
#define RUNNABLE "state IN ('queued','failed') AND waiting = 0"
#define READY "(ready_boot != ?1 OR ready_mono_ms <= ?2)"
static const char sql_pick_free[] =
	"SELECT id, priority FROM jobs INDEXED BY jobs_free"
	" WHERE " RUNNABLE " AND grp IS NULL AND " READY
	" ORDER BY priority DESC, id LIMIT ?3";
static const char sql_pick_grp[] =
	"SELECT id, priority FROM jobs INDEXED BY jobs_grp"
	" WHERE " RUNNABLE " AND grp = ?4 AND " READY
	" ORDER BY priority DESC, id LIMIT ?3";
/* The distinct groups with runnable jobs, one index seek each (a "skip
** scan" written out: SQLite would otherwise read every grouped row). */
static const char sql_pick_groups[] =
	"WITH RECURSIVE g(x) AS ("
	"  SELECT (SELECT grp FROM jobs INDEXED BY jobs_grp"
	"          WHERE " RUNNABLE " AND grp IS NOT NULL ORDER BY grp LIMIT 1)"
	"  UNION ALL"
	"  SELECT (SELECT grp FROM jobs INDEXED BY jobs_grp"
	"          WHERE " RUNNABLE " AND grp IS NOT NULL AND grp > g.x ORDER BY grp LIMIT 1)"
	"  FROM g WHERE g.x IS NOT NULL)"
	" SELECT x FROM g WHERE x IS NOT NULL";
static const char sql_pick_row[] =
	"SELECT id, priority, attempts, grp, argv, env, cwd, timeout_ms, user, limit_nofile,"
	"  limit_as, limit_core FROM jobs WHERE id = ?1";

/* Bounds the merge's memory whatever the number of groups: past it, the
** groups later in name order wait for a later tick (said once per pick). */
#define PICK_CANDIDATES_MAX 65536

struct pick_cand {
	int64_t id, priority;
};

struct pick_set {
	struct pick_cand *v;
	size_t n, cap;
	bool full;
};

static int pick_cmp(const void *a, const void *b)
{
	const struct pick_cand *x = a, *y = b;

	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Adds the rows of the bound statement ST to SET. */
static int pick_collect(struct jlog *j, sqlite3_stmt *st, struct pick_set *set)
{
	int src;

	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (set->n == set->cap) {
			size_t cap = set->cap ? set->cap * 2 : 16;
			struct pick_cand *v;

			if (cap > PICK_CANDIDATES_MAX) {
				set->full = true;
				break;
			}
			if (!(v = realloc(set->v, cap * sizeof(*v)))) {
				sqlite3_reset(st);
				return HF_ENOMEM;
			}
			set->v = v;
			set->cap = cap;
		}
		set->v[set->n].id = sqlite3_column_int64(st, 0);
		set->v[set->n].priority = sqlite3_column_int64(st, 1);
		set->n++;
	}
	sqlite3_reset(st);
	if (src != SQLITE_ROW && src != SQLITE_DONE)
		return jlog_sqlite_err(j->db, "runnable", src);
	return HF_OK;
}

static void pick_bind(sqlite3_stmt *st, const struct jlog_now *now, unsigned max)
{
	sqlite3_bind_int64(st, 1, now->boot);
	sqlite3_bind_int64(st, 2, (int64_t)now->mono_ms);
	sqlite3_bind_int64(st, 3, max);
}

/* Gathers every source's first MAX runnable jobs into SET. */
static int pick_candidates(struct jlog *j, const struct jlog_now *now, unsigned max,
			   struct pick_set *set)
{
	sqlite3_stmt *groups, *st;
	int rc, src;

	if (!(st = jlog_stmt(j, sql_pick_free)))
		return HF_EBUG;
	pick_bind(st, now, max);
	if ((rc = pick_collect(j, st, set)) != HF_OK)
		return rc;
	if (!(groups = jlog_stmt(j, sql_pick_groups)))
		return HF_EBUG;
	while (!set->full && (src = sqlite3_step(groups)) == SQLITE_ROW) {
		if (!(st = jlog_stmt(j, sql_pick_grp))) {
			sqlite3_reset(groups);
			return HF_EBUG;
		}
		pick_bind(st, now, max);
		sqlite3_bind_text(st, 4, jlog_col_text(groups, 0), -1, SQLITE_TRANSIENT);
		if ((rc = pick_collect(j, st, set)) != HF_OK) {
			sqlite3_reset(groups);
			return rc;
		}
	}
	sqlite3_reset(groups);
	if (set->full) {
		port_log("scheduler: more than %d candidates; groups late in name order "
			 "wait for a later round", PICK_CANDIDATES_MAX);
		return HF_OK;
	}
	return src == SQLITE_DONE ? HF_OK : jlog_sqlite_err(j->db, "runnable groups", src);
}

int jlog_runnable(struct jlog *j, const struct jlog_now *now, unsigned max,
		  int (*cb)(const struct jlog_runnable *r, void *arg), void *arg)
{
	struct pick_set set = { 0 };
	struct jlog_runnable r;
	sqlite3_stmt *st;
	int rc, src;

	if (max == 0)
		return HF_OK;
	if ((rc = pick_candidates(j, now, max, &set)) != HF_OK)
		goto out;
	if (set.n > 1)
		qsort(set.v, set.n, sizeof(*set.v), pick_cmp);
	for (size_t i = 0; i < set.n; i++) {
		if (!(st = jlog_stmt(j, sql_pick_row))) {
			rc = HF_EBUG;
			goto out;
		}
		sqlite3_bind_int64(st, 1, set.v[i].id);
		if ((src = sqlite3_step(st)) != SQLITE_ROW) {
			sqlite3_reset(st);
			rc = src == SQLITE_DONE ? HF_EBUG : jlog_sqlite_err(j->db, "runnable row", src);
			goto out;
		}
		r.id = sqlite3_column_int64(st, 0);
		r.priority = sqlite3_column_int64(st, 1);
		r.attempts = sqlite3_column_int64(st, 2);
		r.group = jlog_col_text(st, 3);
		r.argv_json = jlog_col_text(st, 4);
		r.env_json = jlog_col_text(st, 5);
		r.cwd = jlog_col_text(st, 6);
		r.timeout_ms = (uint64_t)sqlite3_column_int64(st, 7);
		r.user = jlog_col_text(st, 8);
		for (int k = 0; k < JLOG_NLIMITS; k++) {
			r.limit_set[k] = sqlite3_column_type(st, 9 + k) != SQLITE_NULL;
			r.limit[k] = sqlite3_column_int64(st, 9 + k);
		}
		src = cb(&r, arg);
		sqlite3_reset(st);
		if (src)
			break;
	}
out:
	free(set.v);
	return rc;
}

int jlog_next_ready(struct jlog *j, const struct jlog_now *now, uint64_t *mono_ms)
{
	static const char sql[] =
		"SELECT min(ready_mono_ms) FROM jobs INDEXED BY jobs_wake"
		" WHERE " RUNNABLE " AND " JLOG_DELAYED " AND ready_boot = ?1 AND ready_mono_ms > ?2";
	sqlite3_stmt *st = jlog_stmt(j, sql);
	int src;

	if (!st)
		return HF_EBUG;
	*mono_ms = UINT64_MAX;
	sqlite3_bind_int64(st, 1, now->boot);
	sqlite3_bind_int64(st, 2, (int64_t)now->mono_ms);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		*mono_ms = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return src == SQLITE_ROW ? HF_OK : jlog_sqlite_err(j->db, "next ready", src);
}
