/*
** jlog_prune.c: bounded history (issue 16): pruning finished jobs by age and
** count in whole units (a pipeline run, a job with its finished dependents),
** the incremental vacuum that gives their pages back, and the history row's
** figures.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/jlog_int.h"
#include "port.h"

/* How long a pruned job's idempotency key is remembered after the job ended
** when the caller's age limit for it is off. */
#define KEY_KEEP_DEFAULT_MS (7LL * 24 * 3600 * 1000)
/* The prune record is rewritten when nothing was removed only this often:
** an idle pass every minute must not write a page every minute. */
#define PRUNE_RECORD_EVERY_MS (10 * 60 * 1000)
/* How deep the walk follows dependents to let a dependency go with them; a
** deeper chain goes over later calls, from its far end. */
#define PRUNE_DEPTH_MAX 32

/* A set of ids (job ids, and -run for pipeline runs), open addressing with
** linear probing; 0 marks an empty slot (ids are never 0). */
struct idset {
	int64_t *v;
	size_t cap, n;
};

static size_t idset_slot(const struct idset *s, int64_t k)
{
	uint64_t x = (uint64_t)k * 0x9E3779B97F4A7C15ull;
	size_t i = (size_t)(x ^ (x >> 29)) & (s->cap - 1);

	while (s->v[i] && s->v[i] != k)
		i = (i + 1) & (s->cap - 1);
	return i;
}

static bool idset_has(const struct idset *s, int64_t k)
{
	return s->cap && s->v[idset_slot(s, k)] == k;
}

static int idset_add(struct idset *s, int64_t k)
{
	if ((s->n + 1) * 2 > s->cap) {
		struct idset t = { calloc(s->cap ? s->cap * 2 : 64, sizeof(int64_t)),
				   s->cap ? s->cap * 2 : 64, 0 };
		if (!t.v)
			return HF_ENOMEM;
		for (size_t i = 0; i < s->cap; i++)
			if (s->v[i])
				t.v[idset_slot(&t, s->v[i])] = s->v[i];
		t.n = s->n;
		free(s->v);
		*s = t;
	}
	size_t i = idset_slot(s, k);
	if (!s->v[i]) {
		s->v[i] = k;
		s->n++;
	}
	return HF_OK;
}

/* A finished job as the prune sees it. */
struct prune_row {
	int64_t id, fin_seq, run, age_ms;
	bool failed;               /* dead or quarantined: keep_failed applies */
};

struct prune {
	struct jlog *j;
	const struct jlog_prune_limits *l;
	int64_t now_dev_ms, now_utc_ms;
	int64_t cut;               /* fin_seq <= cut: due by count or extra */
	int64_t floor_cut;         /* fin_seq >= floor_cut: kept (0: no floor) */
	int64_t jobs;              /* jobs in doomed */
	struct idset doomed;       /* jobs (and -runs) chosen */
	struct idset failed;       /* units that cannot go in this call */
	int64_t *order;            /* doomed jobs, then runs as -id, in order */
	size_t norder, cap_order;
	bool full;                 /* stopped at max_jobs */
};

/* The age expression: the larger of the device-clock age and, when the
** wall clock was trusted at the end and is now, the wall-clock age. ?1 is
** now on the device clock, ?2 now's trusted wall time (NULL if not). */
#define PRUNE_COLS \
	"id, coalesce(fin_seq, 0), state IN ('dead','quarantined'), coalesce(run, 0)," \
	" max(?1 - coalesce(end_dev_ms, ?1)," \
	"  iif(?2 IS NOT NULL AND end_utc_ms IS NOT NULL, ?2 - end_utc_ms, 0))"

static const char sql_prune_walk[] =
	"SELECT " PRUNE_COLS " FROM jobs INDEXED BY jobs_fin"
	" WHERE fin_seq IS NOT NULL ORDER BY fin_seq";
static const char sql_prune_run[] = "SELECT " PRUNE_COLS " FROM jobs WHERE run = ?3";
static const char sql_prune_job[] = "SELECT " PRUNE_COLS " FROM jobs WHERE id = ?3";
static const char sql_prune_dependents[] = "SELECT job FROM deps WHERE dep = ?1";

static void prune_bind(struct prune *p, sqlite3_stmt *st)
{
	sqlite3_bind_int64(st, 1, p->now_dev_ms);
	jlog_bind_utc(st, 2, p->now_utc_ms);
}

static void prune_row(sqlite3_stmt *st, struct prune_row *r)
{
	r->id = sqlite3_column_int64(st, 0);
	r->fin_seq = sqlite3_column_int64(st, 1);
	r->failed = sqlite3_column_int(st, 2) != 0;
	r->run = sqlite3_column_int64(st, 3);
	r->age_ms = sqlite3_column_int64(st, 4);
}

/* Whether R is past a limit (and within the bounds of this call). */
static bool prune_due(const struct prune *p, const struct prune_row *r)
{
	uint64_t keep = r->failed ? p->l->keep_failed_ms : p->l->keep_ms;

	if (r->fin_seq <= 0)
		return false;      /* not finished */
	if (p->l->upto_fin_seq > 0 && r->fin_seq > p->l->upto_fin_seq)
		return false;
	if (p->floor_cut > 0 && r->fin_seq >= p->floor_cut)
		return false;
	if (r->fin_seq <= p->cut)
		return true;
	return keep > 0 && r->age_ms >= 0 && (uint64_t)r->age_ms >= keep;
}

static int prune_order_add(struct prune *p, int64_t k)
{
	int rc;

	if (p->norder == p->cap_order) {
		size_t cap = p->cap_order ? p->cap_order * 2 : 64;
		int64_t *v = realloc(p->order, cap * sizeof(*v));
		if (!v)
			return HF_ENOMEM;
		p->order = v;
		p->cap_order = cap;
	}
	if ((rc = idset_add(&p->doomed, k)) != HF_OK)
		return rc;
	p->order[p->norder++] = k;
	return HF_OK;
}

/* Reads the rows of bound statement ST into *V (heap, *N rows). */
static int prune_rows(struct jlog *j, sqlite3_stmt *st, struct prune_row **v, size_t *n)
{
	size_t cap = 0;
	int src;

	*v = NULL;
	*n = 0;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			struct prune_row *t = realloc(*v, (cap = cap ? cap * 2 : 8) * sizeof(**v));
			if (!t) {
				sqlite3_reset(st);
				return HF_ENOMEM;
			}
			*v = t;
		}
		prune_row(st, &(*v)[(*n)++]);
	}
	sqlite3_reset(st);
	return src == SQLITE_DONE ? HF_OK : jlog_sqlite_err(j->db, "prune", src);
}

/* The jobs that depend on JOB, into *V (heap, *N). */
static int prune_dependents(struct jlog *j, int64_t job, int64_t **v, size_t *n)
{
	sqlite3_stmt *st = jlog_stmt(j, sql_prune_dependents);
	size_t cap = 0;
	int src;

	*v = NULL;
	*n = 0;
	if (!st)
		return HF_EBUG;
	sqlite3_bind_int64(st, 1, job);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			int64_t *t = realloc(*v, (cap = cap ? cap * 2 : 8) * sizeof(**v));
			if (!t) {
				sqlite3_reset(st);
				return HF_ENOMEM;
			}
			*v = t;
		}
		(*v)[(*n)++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	return src == SQLITE_DONE ? HF_OK : jlog_sqlite_err(j->db, "prune", src);
}

/* Results of prune_unit beside HF_* codes. */
#define UNIT_KEPT 1                /* the unit stays, this call */
#define UNIT_FULL 2                /* it would pass max_jobs: stop here */

static int prune_unit(struct prune *p, const struct prune_row *r, int depth);

/* Every job that depends on a job of the unit V[N] must go too (in this
** call, or before it): a kept job's dependency rows stay whole, and so no
** unfinished job ever loses a dependency. */
static int prune_unit_dependents(struct prune *p, const struct prune_row *v, size_t n,
				 int depth)
{
	int rc = HF_OK;

	for (size_t i = 0; i < n && rc == HF_OK; i++) {
		int64_t *d = NULL;
		size_t nd;

		if ((rc = prune_dependents(p->j, v[i].id, &d, &nd)) != HF_OK)
			return rc;
		for (size_t k = 0; k < nd && rc == HF_OK; k++) {
			struct prune_row *dr = NULL;
			size_t ndr;
			bool inside = false;
			sqlite3_stmt *st;

			for (size_t m = 0; m < n && !inside; m++)
				inside = v[m].id == d[k];
			if (inside || idset_has(&p->doomed, d[k]))
				continue;
			if (depth >= PRUNE_DEPTH_MAX) {
				rc = UNIT_KEPT;
				break;
			}
			if (!(st = jlog_stmt(p->j, sql_prune_job))) {
				rc = HF_EBUG;
				break;
			}
			prune_bind(p, st);
			sqlite3_bind_int64(st, 3, d[k]);
			if ((rc = prune_rows(p->j, st, &dr, &ndr)) == HF_OK)
				rc = ndr == 1 ? prune_unit(p, &dr[0], depth + 1) : HF_EBUG;
			free(dr);
		}
		free(d);
	}
	return rc;
}

/*
** Chooses R's unit (its whole pipeline run, or R alone) if every job of it
** is due and every job depending on it can go too; HF_OK if chosen (now or
** before), UNIT_KEPT if it stays, UNIT_FULL if it would pass max_jobs.
*/
static int prune_unit(struct prune *p, const struct prune_row *r, int depth)
{
	int64_t key = r->run > 0 ? -r->run : r->id;
	struct prune_row *v = NULL;
	size_t n = 1;
	int rc;

	if (idset_has(&p->doomed, key))
		return HF_OK;
	if (idset_has(&p->failed, key))
		return UNIT_KEPT;
	if (r->run > 0) {
		sqlite3_stmt *st = jlog_stmt(p->j, sql_prune_run);
		if (!st)
			return HF_EBUG;
		prune_bind(p, st);
		sqlite3_bind_int64(st, 3, r->run);
		if ((rc = prune_rows(p->j, st, &v, &n)) != HF_OK)
			return rc;
	} else if ((v = malloc(sizeof(*v)))) {
		v[0] = *r;
	} else {
		return HF_ENOMEM;
	}
	rc = HF_OK;
	for (size_t i = 0; i < n && rc == HF_OK; i++)
		if (!prune_due(p, &v[i]))
			rc = UNIT_KEPT;
	if (rc == HF_OK)
		rc = prune_unit_dependents(p, v, n, depth);
	if (rc == HF_OK && !p->l->dry_run && p->l->max_jobs > 0 && p->jobs > 0 &&
	    p->jobs + (int64_t)n > p->l->max_jobs)
		rc = UNIT_FULL;
	/* Whole runs only, but one run bigger than max_jobs still goes, alone. */
	for (size_t i = 0; i < n && rc == HF_OK; i++)
		rc = prune_order_add(p, v[i].id);
	if (rc == HF_OK) {
		p->jobs += (int64_t)n;
		if (r->run > 0)
			rc = prune_order_add(p, key);
	} else if (rc == UNIT_KEPT && depth < PRUNE_DEPTH_MAX) {
		int src = idset_add(&p->failed, key);
		if (src != HF_OK)
			rc = src;
	}
	free(v);
	return rc;
}

/* The fin_seq at OFFSET in ascending (or descending) order; 0 if none. */
static int prune_fin_at(struct jlog *j, int64_t offset, bool desc, int64_t *fin_seq)
{
	static const char sql_asc[] =
		"SELECT fin_seq FROM jobs INDEXED BY jobs_fin WHERE fin_seq IS NOT NULL"
		" ORDER BY fin_seq LIMIT 1 OFFSET ?1";
	static const char sql_desc[] =
		"SELECT fin_seq FROM jobs INDEXED BY jobs_fin WHERE fin_seq IS NOT NULL"
		" ORDER BY fin_seq DESC LIMIT 1 OFFSET ?1";
	bool found;

	*fin_seq = 0;
	return jlog_query_int(j, desc ? sql_desc : sql_asc, JV_ARGS(JV_I(offset)), "prune", fin_seq,
			      &found);
}

/* Now on the device clock, and the finished jobs kept. */
static int prune_now(struct jlog *j, const struct jlog_now *now, int64_t *dev_ms,
		     int64_t *finished)
{
	static const char sql[] =
		"SELECT coalesce((SELECT base_ms FROM boots WHERE id = ?1) + ?2, dev_ms), finished"
		" FROM history";
	sqlite3_stmt *st = jlog_stmt(j, sql);
	int src;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_int64(st, 1, now->boot);
	sqlite3_bind_int64(st, 2, (int64_t)now->mono_ms);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		*dev_ms = sqlite3_column_int64(st, 0);
		*finished = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (src == SQLITE_ROW)
		return HF_OK;
	return src == SQLITE_DONE ? HF_ECORRUPT : jlog_sqlite_err(j->db, "history", src);
}

/*
** Walks finished jobs oldest first (jobs_fin) and chooses what goes. The
** walk stops at the first job that no limit can reach: past the count and
** extra cut and younger than the shortest age limit (every later job ended
** later), or past the bounds. So when nothing is due it reads one row; what
** it walks over otherwise is what stays for a reason (a dead job within
** keep_failed, a job a queued job depends on, a run not finished).
*/
static int prune_choose(struct prune *p)
{
	const struct jlog_prune_limits *l = p->l;
	uint64_t min_keep = 0;
	struct prune_row r;
	sqlite3_stmt *st;
	int rc = HF_OK, src;

	if (l->keep_ms > 0)
		min_keep = l->keep_ms;
	if (l->keep_failed_ms > 0 && (min_keep == 0 || l->keep_failed_ms < min_keep))
		min_keep = l->keep_failed_ms;
	if (!(st = jlog_stmt(p->j, sql_prune_walk)))
		return HF_EBUG;
	prune_bind(p, st);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		prune_row(st, &r);
		if ((l->upto_fin_seq > 0 && r.fin_seq > l->upto_fin_seq) ||
		    (p->floor_cut > 0 && r.fin_seq >= p->floor_cut) ||
		    (r.fin_seq > p->cut &&
		     (min_keep == 0 || r.age_ms < 0 || (uint64_t)r.age_ms < min_keep)))
			break;
		if (!prune_due(p, &r))
			continue;
		rc = prune_unit(p, &r, 0);
		if (rc == UNIT_KEPT)
			rc = HF_OK;
		if (rc == UNIT_FULL) {
			p->full = true;
			rc = HF_OK;
			break;
		}
		if (rc != HF_OK)
			break;
	}
	sqlite3_reset(st);
	if (rc == HF_OK && src != SQLITE_ROW && src != SQLITE_DONE)
		rc = jlog_sqlite_err(p->j->db, "prune", src);
	return rc;
}

/* The chosen jobs (WANT_RUNS: runs) as a JSON array of ids, for the
** set-based statements below: one statement per table per call, not per
** job. Each statement with a trigger or a foreign key opens a statement
** journal, and at a few per job that cost more than the deletes (the
** allocator's munmap churn): 0.92 ms a job before, 0.054 after (batches of
** 1,000 on a 2-core machine at load 13). */
static int prune_ids_json(const struct prune *p, bool want_runs, char **out)
{
	size_t cap = 2 + p->norder * 21, len = 0;
	char *v = malloc(cap);

	if (!v)
		return HF_ENOMEM;
	v[len++] = '[';
	for (size_t i = 0; i < p->norder; i++) {
		if ((p->order[i] < 0) != want_runs)
			continue;
		len += (size_t)snprintf(v + len, cap - len, "%s%lld", len > 1 ? "," : "",
					(long long)(want_runs ? -p->order[i] : p->order[i]));
	}
	v[len++] = ']';
	v[len] = '\0';
	*out = v;
	return HF_OK;
}

#define PRUNE_IDS "(SELECT value FROM json_each(?1))"

/* Counts what the chosen jobs IDS hold, into R. */
static int prune_count(struct jlog *j, const char *ids, struct jlog_prune_result *r)
{
	static const char sql[] =
		"SELECT (SELECT count(*) FROM attempts WHERE job IN " PRUNE_IDS "),"
		" count(*), coalesce(sum(length(data)), 0) FROM output WHERE job IN " PRUNE_IDS;
	sqlite3_stmt *st = jlog_stmt(j, sql);
	int src;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_text(st, 1, ids, -1, SQLITE_STATIC);
	if ((src = sqlite3_step(st)) == SQLITE_ROW) {
		r->attempts += sqlite3_column_int64(st, 0);
		r->output_chunks += sqlite3_column_int64(st, 1);
		r->output_bytes += sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	return src == SQLITE_ROW ? HF_OK : jlog_sqlite_err(j->db, "prune", src);
}

/* Deletes the jobs IDS with their output, steps, attempts and dependency rows, and
** keeps each one's idempotency key until the job would be KEEP old; then
** the runs RUNS, which their jobs referenced. */
static int prune_delete(struct prune *p, const char *ids, const char *runs)
{
	static const char sql_key[] =
		"INSERT OR REPLACE INTO idem_keys(key, job, until_dev_ms)"
		" SELECT idem_key, id, end_dev_ms + iif(state IN ('dead','quarantined'), ?2, ?3)"
		" FROM jobs WHERE id IN " PRUNE_IDS " AND idem_key IS NOT NULL"
		" AND end_dev_ms + iif(state IN ('dead','quarantined'), ?2, ?3) > ?4";
	static const char *const sql_del[] = {
		"DELETE FROM output WHERE job IN " PRUNE_IDS,
		"DELETE FROM steps WHERE job IN " PRUNE_IDS,
		"DELETE FROM attempts WHERE job IN " PRUNE_IDS,
		"DELETE FROM deps WHERE job IN " PRUNE_IDS,
		"DELETE FROM deps WHERE dep IN " PRUNE_IDS,
		"DELETE FROM jobs WHERE id IN " PRUNE_IDS,
		"DELETE FROM pipeline_runs WHERE id IN " PRUNE_IDS,
	};
	const struct jlog_prune_limits *l = p->l;
	int64_t keep_failed_ms = l->keep_failed_ms ? (int64_t)l->keep_failed_ms : KEY_KEEP_DEFAULT_MS;
	int64_t keep_ms = l->keep_ms ? (int64_t)l->keep_ms : KEY_KEEP_DEFAULT_MS;
	int rc;

	if ((rc = jlog_exec(p->j, sql_key, JV_ARGS(JV_T(ids), JV_I(keep_failed_ms), JV_I(keep_ms),
						   JV_I(p->now_dev_ms)))) != HF_OK)
		return rc;
	for (size_t i = 0; i < sizeof(sql_del) / sizeof(sql_del[0]); i++) {
		const char *v = i + 1 < sizeof(sql_del) / sizeof(sql_del[0]) ? ids : runs;

		if ((rc = jlog_exec(p->j, sql_del[i], JV_ARGS(JV_T(v)))) != HF_OK)
			return rc;
	}
	return HF_OK;
}

/* Removes what prune_choose chose, and forgets expired keys. */
static int prune_apply(struct prune *p, struct jlog_prune_result *r)
{
	static const char sql_ids[] =
		"UPDATE history SET max_job = max(max_job, coalesce((SELECT max(id) FROM jobs), 0)),"
		" max_run = max(max_run, coalesce((SELECT max(id) FROM pipeline_runs), 0))";
	static const char sql_keys[] =
		"DELETE FROM idem_keys WHERE key IN (SELECT key FROM idem_keys"
		" WHERE until_dev_ms <= ?1 ORDER BY until_dev_ms LIMIT ?2)";
	char *ids = NULL, *runs = NULL;
	int rc;

	for (size_t i = 0; i < p->norder; i++) {
		if (p->order[i] < 0)
			r->runs++;
		else
			r->jobs++;
	}
	if (p->norder > 0) {
		if ((rc = prune_ids_json(p, false, &ids)) != HF_OK ||
		    (rc = prune_ids_json(p, true, &runs)) != HF_OK ||
		    (rc = prune_count(p->j, ids, r)) != HF_OK)
			goto out;
		if (!p->l->dry_run &&
		    ((rc = jlog_exec(p->j, sql_ids, NULL, 0)) != HF_OK ||
		     (rc = prune_delete(p, ids, runs)) != HF_OK))
			goto out;
	}
	rc = HF_OK;
	if (p->l->dry_run)
		goto out;
	rc = jlog_exec(p->j, sql_keys, JV_ARGS(JV_I(p->now_dev_ms),
					       JV_I(p->l->max_jobs > 0 ? p->l->max_jobs : 1000)));
out:
	free(ids);
	free(runs);
	return rc;
}

/* Records the prune in the history row: what it removed, or, when it
** removed nothing, only that it ran, and that at most every
** PRUNE_RECORD_EVERY_MS. The boot's uptime is noted with it. */
static int prune_record(struct prune *p, const struct jlog_now *now, int64_t removed)
{
	static const char sql[] =
		"UPDATE history SET last_boot = ?1, last_mono_ms = ?2, last_utc_ms = ?3,"
		" last_dev_ms = ?4, last_jobs = iif(?5 > 0, ?5, last_jobs),"
		" total_jobs = total_jobs + ?5"
		" WHERE ?5 > 0 OR last_dev_ms IS NULL OR last_dev_ms + ?6 <= ?4"
		" OR last_dev_ms > ?4";
	int rc;

	if ((rc = jlog_exec(p->j, sql, JV_ARGS(JV_I(now->boot), JV_I(now->mono_ms),
					       JV_U(now->utc_ms), JV_I(p->now_dev_ms), JV_I(removed),
					       JV_I(PRUNE_RECORD_EVERY_MS)))) != HF_OK)
		return rc;
	return jlog_boot_uptime(p->j, now);
}

int jlog_prune(struct jlog *j, const struct jlog_now *now,
	       const struct jlog_prune_limits *l, struct jlog_prune_result *r)
{
	struct prune p = { .j = j, .l = l, .now_utc_ms = now->utc_ms };
	int64_t finished = 0, extra;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = jlog_begin(j)) != HF_OK)
		return rc;
	if ((rc = prune_now(j, now, &p.now_dev_ms, &finished)) != HF_OK)
		goto out;
	if (l->floor_jobs > 0 && finished <= l->floor_jobs)
		goto record;
	/* Each cut is an OFFSET walk of the index: the floor from the newest. */
	if (l->floor_jobs > 0 &&
	    (rc = prune_fin_at(j, l->floor_jobs - 1, true, &p.floor_cut)) != HF_OK)
		goto out;
	extra = l->extra > 0 ? l->extra : 0;
	if (l->keep_jobs >= 0 && finished - l->keep_jobs > extra)
		extra = finished - l->keep_jobs;
	if (extra > finished)
		extra = finished;
	/* The cut is the fin_seq of the EXTRA-th oldest: counted from whichever
	** end is nearer (a million over keep_jobs is keep_jobs from the top). */
	if (extra > 0 && (rc = extra - 1 <= finished - extra ?
			  prune_fin_at(j, extra - 1, false, &p.cut) :
			  prune_fin_at(j, finished - extra, true, &p.cut)) != HF_OK)
		goto out;
	if ((rc = prune_choose(&p)) != HF_OK || (rc = prune_apply(&p, r)) != HF_OK)
		goto out;
	r->more = p.full;
record:
	if (l->dry_run) {
		jlog_rollback(j);
		goto done;
	}
	if ((rc = prune_record(&p, now, r->jobs)) != HF_OK)
		goto out;
	rc = jlog_commit(j);
	goto done;
out:
	jlog_rollback(j);
done:
	free(p.doomed.v);
	free(p.failed.v);
	free(p.order);
	return rc;
}

int jlog_vacuum_step(struct jlog *j, int64_t max_pages, int64_t *left)
{
	char v[32], sql[64];
	int rc;

	*left = 0;
	if ((rc = jlog_query_text(j->db, "PRAGMA auto_vacuum", v, sizeof(v))) != HF_OK)
		return rc;
	if (strcmp(v, "2") != 0 && !j->vacuum_tried) {
		j->vacuum_tried = true;
		jlog_to_incremental(j);
		if ((rc = jlog_query_text(j->db, "PRAGMA auto_vacuum", v, sizeof(v))) != HF_OK)
			return rc;
	}
	if (strcmp(v, "2") != 0) {
		if ((rc = jlog_query_text(j->db, "PRAGMA freelist_count", v, sizeof(v))) == HF_OK)
			*left = strtoll(v, NULL, 10);
		return rc == HF_OK ? HF_ENOTSUP : rc;
	}
	if ((rc = jlog_begin(j)) != HF_OK)
		return rc;
	snprintf(sql, sizeof(sql), "PRAGMA incremental_vacuum(%lld)",
		 (long long)(max_pages > 0 ? max_pages : 0));
	if ((rc = jlog_db_exec(j->db, sql)) != HF_OK ||
	    (rc = jlog_query_text(j->db, "PRAGMA freelist_count", v, sizeof(v))) != HF_OK) {
		jlog_rollback(j);
		return rc;
	}
	*left = strtoll(v, NULL, 10);
	return jlog_commit(j);
}

bool jlog_is_incremental(struct jlog *j)
{
	char v[16];

	return jlog_query_text(j->db, "PRAGMA auto_vacuum", v, sizeof(v)) == HF_OK && !strcmp(v, "2");
}

int jlog_history_get(struct jlog *j, struct jlog_history *h)
{
	static const char sql[] =
		"SELECT finished, coalesce(last_boot, 0), coalesce(last_mono_ms, 0),"
		" coalesce(last_utc_ms, 0), last_jobs, total_jobs,"
		" (SELECT page_count FROM pragma_page_count()),"
		" (SELECT freelist_count FROM pragma_freelist_count()),"
		" (SELECT page_size FROM pragma_page_size()) FROM history";
	sqlite3_stmt *st = jlog_stmt(j, sql);
	int src;

	memset(h, 0, sizeof(*h));
	if (!st)
		return HF_EBUG;
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		int64_t page = sqlite3_column_int64(st, 8);
		h->finished = sqlite3_column_int64(st, 0);
		h->last_boot = sqlite3_column_int64(st, 1);
		h->last_mono_ms = (uint64_t)sqlite3_column_int64(st, 2);
		h->last_utc_ms = sqlite3_column_int64(st, 3);
		h->last_jobs = sqlite3_column_int64(st, 4);
		h->total_jobs = sqlite3_column_int64(st, 5);
		h->db_bytes = sqlite3_column_int64(st, 6) * page;
		h->free_bytes = sqlite3_column_int64(st, 7) * page;
		h->page_size = page;
	}
	sqlite3_reset(st);
	if (src == SQLITE_ROW)
		return HF_OK;
	return src == SQLITE_DONE ? HF_ECORRUPT : jlog_sqlite_err(j->db, "history", src);
}
