/*
** jlog_export.c: history export (issue 16): the export's state and watermark
** in the log, the plan of the next part, its lines of JSON, and the gaps
** left by jobs pruned before they were exported. The tables are
** jlog_schema.c's (version 7).
*/
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "log/jlog_int.h"
#include "port.h"

int jlog_export_get(struct jlog *j, struct jlog_export_state *s)
{
	static const char sql[] =
		"SELECT active, upto, flight_first, flight_last, flight_path, parts, jobs, bytes,"
		" gaps, gap_jobs, last_boot, last_mono_ms, last_utc_ms,"
		" (SELECT coalesce(sum(g.jobs), 0) FROM history_gaps g),"
		" (SELECT count(*) FROM jobs WHERE fin_seq > h.upto)"
		" FROM history_export h WHERE id = 1";
	sqlite3_stmt *st = jlog_stmt(j, sql);
	int src;

	memset(s, 0, sizeof(*s));
	s->last_utc_ms = -1;
	if (!st)
		return HF_EBUG;
	if ((src = sqlite3_step(st)) == SQLITE_ROW) {
		const char *path = jlog_col_text(st, 4);
		s->active = sqlite3_column_int64(st, 0) != 0;
		s->upto = sqlite3_column_int64(st, 1);
		s->flight_first = jlog_col_int_or(st, 2, 0);
		s->flight_last = jlog_col_int_or(st, 3, 0);
		snprintf(s->flight_path, sizeof(s->flight_path), "%s", path ? path : "");
		s->parts = sqlite3_column_int64(st, 5);
		s->jobs = sqlite3_column_int64(st, 6);
		s->bytes = sqlite3_column_int64(st, 7);
		s->gaps = sqlite3_column_int64(st, 8);
		s->gap_jobs = sqlite3_column_int64(st, 9);
		s->last_boot = jlog_col_int_or(st, 10, 0);
		s->last_mono_ms = (uint64_t)jlog_col_int_or(st, 11, 0);
		s->last_utc_ms = jlog_col_int_or(st, 12, -1);
		s->open_gap_jobs = sqlite3_column_int64(st, 13);
		s->pending = sqlite3_column_int64(st, 14);
		src = SQLITE_DONE;
	}
	sqlite3_reset(st);
	return src == SQLITE_DONE ? HF_OK : jlog_sqlite_err(j->db, "export state", src);
}

/* Runs SQL (a string constant) with ARGS in a transaction of its own. */
static int export_write(struct jlog *j, const char *sql, const struct jlog_val *args, int nargs)
{
	int rc;

	if ((rc = jlog_begin(j)) != HF_OK)
		return rc;
	if ((rc = jlog_exec(j, sql, args, nargs)) != HF_OK) {
		jlog_rollback(j);
		return rc;
	}
	return jlog_commit(j);
}

int jlog_export_activate(struct jlog *j, bool on)
{
	static const char sql_is[] = "SELECT active FROM history_export WHERE id = 1";
	static const char sql_set[] = "UPDATE history_export SET active = ?1 WHERE id = 1";
	sqlite3_stmt *st = jlog_stmt(j, sql_is);
	bool is;

	if (!st)
		return HF_EBUG;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return jlog_sqlite_err(j->db, "export state", SQLITE_ERROR);
	}
	is = sqlite3_column_int64(st, 0) != 0;
	sqlite3_reset(st);
	return is == on ? HF_OK : export_write(j, sql_set, JV_ARGS(JV_I(on)));
}

int jlog_export_upto(struct jlog *j, int64_t *upto)
{
	static const char sql[] =
		"SELECT iif(active, upto, -1) FROM history_export WHERE id = 1";
	bool found;

	*upto = -1;
	return jlog_query_int(j, sql, NULL, 0, "export watermark", upto, &found);
}

/* A finished job's day: the UTC date of its end if the wall clock was
** trusted then, else the boot it ended in. */
#define EXPORT_DAY \
	"CASE WHEN end_utc_ms IS NOT NULL" \
	" THEN strftime('%Y-%m-%d', end_utc_ms / 1000, 'unixepoch')" \
	" ELSE 'boot-' || end_boot END"

int jlog_export_plan(struct jlog *j, int64_t max_jobs, struct jlog_export_plan *p)
{
	static const char sql[] =
		"SELECT fin_seq, " EXPORT_DAY ", end_boot, end_mono_ms, end_utc_ms,"
		" state IN ('dead', 'quarantined')"
		" FROM jobs WHERE fin_seq > (SELECT upto FROM history_export WHERE id = 1)"
		" ORDER BY fin_seq LIMIT ?1";
	sqlite3_stmt *st = jlog_stmt(j, sql);
	int src;

	memset(p, 0, sizeof(*p));
	if (!st)
		return HF_EBUG;
	sqlite3_bind_int64(st, 1, max_jobs + 1);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		const char *day = jlog_col_text(st, 1);
		if (!p->jobs) {
			p->first = sqlite3_column_int64(st, 0);
			snprintf(p->day, sizeof(p->day), "%s", day ? day : "");
			p->first_end_boot = jlog_col_int_or(st, 2, 0);
			p->first_end_mono_ms = (uint64_t)jlog_col_int_or(st, 3, 0);
			p->first_end_utc_ms = jlog_col_int_or(st, 4, -1);
			p->first_failed = sqlite3_column_int64(st, 5) != 0;
		} else if (!day || strcmp(day, p->day) != 0 || p->jobs == max_jobs) {
			p->closed = true;
			break;
		}
		p->last = sqlite3_column_int64(st, 0);
		p->jobs++;
	}
	sqlite3_reset(st);
	return src == SQLITE_ROW || src == SQLITE_DONE ? HF_OK : jlog_sqlite_err(j->db, "export plan", src);
}

/*
** U+FFFD for each maximal ill-formed subsequence (Unicode's "substitution of
** maximal subparts", what Python's errors='replace' does, so a reader can
** check a head against the log): IN[LEN] as valid UTF-8 into OUT, which
** has room for 3 * LEN bytes. Returns OUT's length.
*/
static size_t utf8_replace(const uint8_t *in, size_t len, char *out)
{
	size_t i = 0, o = 0;

	while (i < len) {
		uint8_t c = in[i], lo = 0x80, hi = 0xbf;
		size_t need, k;

		if (c < 0x80) {
			out[o++] = (char)c;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3;
		else
			need = 0;
		/* The second byte's range excludes overlongs and surrogates. */
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		else if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		for (k = 1; need && k <= need && i + k < len; k++) {
			uint8_t b = in[i + k];
			if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xbf))
				break;
		}
		if (need && k == need + 1) {
			memcpy(out + o, in + i, k);
			o += k;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
		}
		i += need ? k : 1;
	}
	return o;
}

/* hf_output_head(JOB, N): the first JLOG_EXPORT_HEAD bytes of attempt N's
** output (both streams, in the order captured) as valid UTF-8 text, read
** chunk by chunk only as far as needed: an attempt may hold a MiB. */
struct head_fn {
	sqlite3_stmt *chunks;
};

static void output_head_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct head_fn *h = sqlite3_user_data(ctx);
	uint8_t raw[JLOG_EXPORT_HEAD];
	char text[3 * JLOG_EXPORT_HEAD];
	size_t len = 0;
	int src;

	(void)argc;
	sqlite3_reset(h->chunks);
	sqlite3_bind_value(h->chunks, 1, argv[0]);
	sqlite3_bind_value(h->chunks, 2, argv[1]);
	while (len < sizeof(raw) && (src = sqlite3_step(h->chunks)) == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(h->chunks, 0);
		const void *data = sqlite3_column_blob(h->chunks, 0);
		if (n > sizeof(raw) - len)
			n = sizeof(raw) - len;
		if (n)
			memcpy(raw + len, data, n);
		len += n;
	}
	if (len < sizeof(raw) && src != SQLITE_DONE) {
		sqlite3_reset(h->chunks);
		sqlite3_result_error_code(ctx, src);
		return;
	}
	sqlite3_reset(h->chunks);
	sqlite3_result_text(ctx, text, (int)utf8_replace(raw, len, text), SQLITE_TRANSIENT);
}

/* ISO 8601 (UTC, milliseconds) of wall time X in ms, or NULL. */
#define EXPORT_ISO(x) "strftime('%Y-%m-%dT%H:%M:%fZ', " x " / 1000.0, 'unixepoch')"

int jlog_export_lines(struct jlog *j, const char *device, int64_t first, int64_t last,
		      int (*cb)(int64_t fin_seq, const char *line, size_t len, void *arg),
		      void *arg)
{
	/* One line per job, built by SQLite's JSON functions. Environment
	** variables by name only: their values may be secrets. Times twice:
	** ISO 8601 when the wall clock was trusted (null otherwise) for query
	** engines, and the log's own (boot, monotonic ms) pairs. */
	static const char sql[] =
		"SELECT fin_seq, json_object("
		" 'device', ?3, 'id', id, 'fin_seq', fin_seq, 'name', name, 'state', state,"
		" 'reason', reason, 'day', " EXPORT_DAY ","
		" 'pipeline', (SELECT pipeline FROM pipeline_runs WHERE id = jobs.run), 'run', run,"
		" 'argv', json(argv),"
		" 'env_names', (SELECT json_group_array(iif(instr(value, '=') > 0,"
		"   substr(value, 1, instr(value, '=') - 1), value)) FROM json_each(jobs.env)),"
		" 'cwd', cwd, 'group', grp, 'user', user, 'key', idem_key,"
		" 'priority', priority, 'retries', retries, 'timeout_ms', timeout_ms,"
		" 'attempt_count', attempts, 'failures', failures,"
		" 'submitted', " EXPORT_ISO("submit_utc_ms") ", 'submitted_utc_ms', submit_utc_ms,"
		" 'submitted_boot', submit_boot, 'submitted_mono_ms', submit_mono_ms,"
		" 'ended', " EXPORT_ISO("end_utc_ms") ", 'ended_utc_ms', end_utc_ms,"
		" 'ended_boot', end_boot, 'ended_mono_ms', end_mono_ms, 'ended_dev_ms', end_dev_ms,"
		" 'attempts', (SELECT json_group_array(json(a)) FROM (SELECT json_object("
		"   'n', n, 'boot', boot, 'pid', pid,"
		"   'started', " EXPORT_ISO("start_utc_ms") ", 'start_utc_ms', start_utc_ms,"
		"   'start_mono_ms', start_mono_ms,"
		"   'ended', " EXPORT_ISO("end_utc_ms") ", 'end_utc_ms', end_utc_ms,"
		"   'end_boot', end_boot, 'end_mono_ms', end_mono_ms,"
		"   'end_reason', end_reason, 'exit_code', exit_code, 'signal', signal,"
		"   'output_bytes', out_bytes,"
		"   'output_truncated', json(iif(out_truncated, 'true', 'false')),"
		"   'output_head', hf_output_head(job, n)) AS a"
		"   FROM attempts WHERE job = jobs.id ORDER BY n)))"
		" FROM jobs WHERE fin_seq BETWEEN ?1 AND ?2 ORDER BY fin_seq";
	static const char sql_chunks[] =
		"SELECT data FROM output WHERE job = ?1 AND n = ?2 ORDER BY seq";
	struct head_fn h = { NULL };
	sqlite3_stmt *st = NULL;
	int src, rc = HF_EBUG;

	jlog_unpin(j);
	if ((src = sqlite3_prepare_v2(j->db, sql_chunks, -1, &h.chunks, NULL)) != SQLITE_OK)
		return jlog_sqlite_err(j->db, "export", src);
	src = sqlite3_create_function_v2(j->db, "hf_output_head", 2, SQLITE_UTF8, &h,
					 output_head_fn, NULL, NULL, NULL);
	if (src != SQLITE_OK) {
		rc = jlog_sqlite_err(j->db, "export", src);
		goto out;
	}
	/* Not cached: the function it calls is registered only for this call. */
	if ((src = sqlite3_prepare_v2(j->db, sql, -1, &st, NULL)) != SQLITE_OK) {
		rc = jlog_sqlite_err(j->db, "export", src);
		goto out;
	}
	sqlite3_bind_int64(st, 1, first);
	sqlite3_bind_int64(st, 2, last);
	sqlite3_bind_text(st, 3, device, -1, SQLITE_STATIC);
	while ((src = sqlite3_step(st)) == SQLITE_ROW)
		if (cb(sqlite3_column_int64(st, 0), jlog_col_text(st, 1),
		       (size_t)sqlite3_column_bytes(st, 1), arg))
			break;
	rc = src == SQLITE_ROW || src == SQLITE_DONE ? HF_OK : jlog_sqlite_err(j->db, "export", src);
out:
	sqlite3_finalize(st);
	sqlite3_create_function_v2(j->db, "hf_output_head", 2, SQLITE_UTF8, NULL, NULL, NULL,
				   NULL, NULL);
	sqlite3_finalize(h.chunks);
	return rc;
}

int jlog_export_flight(struct jlog *j, int64_t first, int64_t last, const char *path)
{
	static const char sql[] =
		"UPDATE history_export SET flight_first = ?1, flight_last = ?2, flight_path = ?3"
		" WHERE id = 1";

	return export_write(j, sql, JV_ARGS(JV_I(first), JV_I(last), JV_T(path)));
}

int jlog_export_done(struct jlog *j, int64_t last, int64_t jobs, int64_t bytes,
		     const struct jlog_now *now)
{
	static const char sql[] =
		"UPDATE history_export SET upto = max(upto, ?1), flight_first = NULL,"
		" flight_last = NULL, flight_path = NULL, parts = parts + 1, jobs = jobs + ?2,"
		" bytes = bytes + ?3, last_boot = ?4, last_mono_ms = ?5,"
		" last_utc_ms = iif(?6 >= 0, ?6, NULL) WHERE id = 1";

	return export_write(j, sql, JV_ARGS(JV_I(last), JV_I(jobs), JV_I(bytes), JV_I(now->boot),
					    JV_I(now->mono_ms), JV_I(now->utc_ms)));
}

int jlog_export_gaps(struct jlog *j, int (*cb)(const struct jlog_export_gap *g, void *arg),
		     void *arg)
{
	static const char sql_open[] = "SELECT 1 FROM history_gaps WHERE open IS NOT NULL";
	static const char sql_close[] =
		"UPDATE history_gaps SET open = NULL,"
		" upto = (SELECT upto FROM history_export WHERE id = 1) WHERE open IS NOT NULL";
	static const char sql_list[] =
		"SELECT id, lo, hi, jobs, upto FROM history_gaps WHERE open IS NULL ORDER BY id"
		" LIMIT 16";
	struct jlog_export_gap g[16];
	sqlite3_stmt *st = jlog_stmt(j, sql_open);
	size_t n = 0;
	int src, rc;
	bool open;

	if (!st)
		return HF_EBUG;
	open = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	if (open && (rc = export_write(j, sql_close, NULL, 0)) != HF_OK)
		return rc;
	if (!(st = jlog_stmt(j, sql_list)))
		return HF_EBUG;
	/* Gathered first: the callback writes to the replica, which must not
	** happen with a read snapshot held (it would pin the WAL). */
	while (n < 16 && (src = sqlite3_step(st)) == SQLITE_ROW) {
		g[n].id = sqlite3_column_int64(st, 0);
		g[n].lo = sqlite3_column_int64(st, 1);
		g[n].hi = sqlite3_column_int64(st, 2);
		g[n].jobs = sqlite3_column_int64(st, 3);
		g[n].upto = jlog_col_int_or(st, 4, 0);
		n++;
	}
	sqlite3_reset(st);
	if (n < 16 && src != SQLITE_DONE)
		return jlog_sqlite_err(j->db, "export gaps", src);
	for (size_t i = 0; i < n; i++)
		if ((rc = cb(&g[i], arg)) != HF_OK)
			return rc;
	return HF_OK;
}

int jlog_export_gap_done(struct jlog *j, const struct jlog_export_gap *g)
{
	static const char sql_del[] = "DELETE FROM history_gaps WHERE id = ?1";
	static const char sql_count[] =
		"UPDATE history_export SET gaps = gaps + 1, gap_jobs = gap_jobs + ?1 WHERE id = 1";
	int rc;

	if ((rc = jlog_begin(j)) != HF_OK)
		return rc;
	if ((rc = jlog_exec(j, sql_del, JV_ARGS(JV_I(g->id)))) != HF_OK ||
	    (rc = jlog_exec(j, sql_count, JV_ARGS(JV_I(g->jobs)))) != HF_OK) {
		jlog_rollback(j);
		return rc;
	}
	return jlog_commit(j);
}
