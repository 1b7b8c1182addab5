/*
** test_export.c: the history export's side of the job log (issue 16, item
** 12): the watermark that bounds pruning, the parts (a day each, closed by
** a later day), the JSON lines (env names only, output heads with invalid
** UTF-8 replaced), the part in flight, and the gap trigger that records the
** unexported jobs the disk budget prunes.
*/
#include <stdlib.h>
#include <string.h>

#include "log/jlog.h"
#include "port.h"
#include "sqlite3.h"
#include "test.h"

#define DAY_MS (86400LL * 1000)
/* 2026-12-06 00:00 UTC */
#define D0 (20793LL * DAY_MS)

static struct jlog J;
static struct jlog_now NOW = { 1, 1000, -1 };

static void open_log(void)
{
	test_open_log(&J, &NOW);
}

static long long q_int(const char *sql)
{
	return test_q_int(J.db, sql);
}

/* A job "sh -c x" with ENV, run once to exit CODE with OUTPUT (LEN bytes, in
** chunks of CHUNK), at NOW. */
static int64_t job(char *const *env, int nenv, int code, const void *output, size_t len,
		   size_t chunk)
{
	char *argv[] = { "sh", "-c", "x", NULL };
	struct jlog_spec s = { 0 };
	struct jlog_end e = { .reason = "exit", .exit_code = code, .signal = -1 };
	int64_t id = 0, seq = 0;
	bool existed;

	s.argv = argv;
	s.argc = 3;
	s.env = env;
	s.nenv = nenv;
	s.backoff_min_ms = s.backoff_max_ms = 100;
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_job_add(&J, &s, &NOW, &id, &existed), HF_OK);
	CHECK_INT(jlog_attempt_start(&J, id, 1, 4242, 1, &NOW), HF_OK);
	for (size_t off = 0; off < len; off += chunk)
		CHECK_INT(jlog_output_add(&J, id, 1, seq++, 1, (const char *)output + off,
					  len - off < chunk ? len - off : chunk), HF_OK);
	e.out_bytes = (int64_t)len;
	CHECK_INT(jlog_attempt_end(&J, id, 1, &e, &NOW, UINT32_MAX), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	NOW.mono_ms += 10;
	if (NOW.utc_ms >= 0)
		NOW.utc_ms += 10;
	return id;
}

static int64_t simple(void)
{
	return job(NULL, 0, 0, "ok\n", 3, 3);
}

struct lines {
	char *text[16];
	int64_t seq[16];
	int n;
};

static int collect(int64_t fin_seq, const char *line, size_t len, void *arg)
{
	struct lines *l = arg;

	CHECK(strlen(line) == len);
	if (l->n < 16) {
		l->seq[l->n] = fin_seq;
		l->text[l->n++] = strdup(line);
	}
	return 0;
}

static void lines_free(struct lines *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->text[i]);
	l->n = 0;
}

struct seen {
	struct jlog_export_gap g;
	int n;
};

static int gap_seen(const struct jlog_export_gap *x, void *arg)
{
	struct seen *s = arg;

	s->g = *x;
	s->n++;
	return HF_OK;
}

/* Off, pruning is not bound; on, it is bound by the watermark, from 0. */
TEST(export_watermark_bounds_pruning)
{
	int64_t upto;
	struct jlog_export_state st;

	open_log();
	CHECK_INT(jlog_export_upto(&J, &upto), HF_OK);
	CHECK_INT(upto, -1);
	CHECK_INT(jlog_export_activate(&J, true), HF_OK);
	CHECK_INT(jlog_export_upto(&J, &upto), HF_OK);
	CHECK_INT(upto, 0);
	for (int i = 0; i < 4; i++)
		simple();
	CHECK_INT(jlog_export_done(&J, 2, 2, 100, &NOW), HF_OK);
	CHECK_INT(jlog_export_upto(&J, &upto), HF_OK);
	CHECK_INT(upto, 2);
	CHECK_INT(jlog_export_get(&J, &st), HF_OK);
	CHECK(st.active);
	CHECK_INT(st.pending, 2);
	CHECK_INT(st.parts, 1);
	CHECK_INT(st.bytes, 100);

	/* Count limit 0 (keep none), bounded as the prune pass bounds it:
	** only the exported two go, and no gap is recorded. */
	struct jlog_prune_limits l = { 0 };
	struct jlog_prune_result r;
	l.keep_jobs = 0;
	l.max_jobs = 100;
	l.upto_fin_seq = upto;
	CHECK_INT(jlog_prune(&J, &NOW, &l, &r), HF_OK);
	CHECK_INT(r.jobs, 2);
	CHECK_INT(q_int("SELECT min(fin_seq) FROM jobs"), 3);
	CHECK_INT(q_int("SELECT count(*) FROM history_gaps"), 0);
	CHECK_INT(jlog_export_activate(&J, false), HF_OK);
	CHECK_INT(jlog_export_upto(&J, &upto), HF_OK);
	CHECK_INT(upto, -1);
	jlog_close(&J);
}

/* The byte budget is not bound: what it prunes past the watermark becomes
** one gap record (merged), closed and listed once, forgotten once written.
** Off (no replica), pruning records nothing. */
TEST(export_gap_trigger)
{
	struct jlog_export_gap g;
	struct jlog_export_state st;

	open_log();
	CHECK_INT(jlog_export_activate(&J, true), HF_OK);
	for (int i = 0; i < 6; i++)
		simple();
	CHECK_INT(jlog_export_done(&J, 1, 1, 10, &NOW), HF_OK);

	struct jlog_prune_limits l = { 0 };
	struct jlog_prune_result r;
	l.keep_jobs = -1;
	l.extra = 4; /* the budget: the 4 oldest, whatever the watermark */
	l.max_jobs = 2; /* in two transactions: the gap grows across them */
	CHECK_INT(jlog_prune(&J, &NOW, &l, &r), HF_OK);
	CHECK_INT(jlog_prune(&J, &NOW, &l, &r), HF_OK);
	CHECK_INT(q_int("SELECT count(*) FROM jobs"), 2);
	CHECK_INT(q_int("SELECT count(*) FROM history_gaps"), 1);
	CHECK_INT(q_int("SELECT lo FROM history_gaps"), 2);
	CHECK_INT(q_int("SELECT hi FROM history_gaps"), 4);
	CHECK_INT(q_int("SELECT jobs FROM history_gaps"), 3);
	CHECK_INT(jlog_export_get(&J, &st), HF_OK);
	CHECK_INT(st.open_gap_jobs, 3);

	struct seen seen = { { 0 }, 0 };
	CHECK_INT(jlog_export_gaps(&J, gap_seen, &seen), HF_OK);
	CHECK_INT(seen.n, 1);
	g = seen.g;
	CHECK_INT(g.lo, 2);
	CHECK_INT(g.hi, 4);
	CHECK_INT(g.jobs, 3);
	CHECK_INT(g.upto, 1);
	/* Closed: a later prune starts a new gap, not this one. */
	CHECK_INT(q_int("SELECT count(*) FROM history_gaps WHERE open IS NOT NULL"), 0);
	CHECK_INT(jlog_export_gap_done(&J, &g), HF_OK);
	CHECK_INT(q_int("SELECT count(*) FROM history_gaps"), 0);
	CHECK_INT(jlog_export_get(&J, &st), HF_OK);
	CHECK_INT(st.gaps, 1);
	CHECK_INT(st.gap_jobs, 3);

	/* Off: the budget prunes the rest and nothing is recorded. */
	CHECK_INT(jlog_export_activate(&J, false), HF_OK);
	l.extra = 10;
	l.max_jobs = 100;
	CHECK_INT(jlog_prune(&J, &NOW, &l, &r), HF_OK);
	CHECK_INT(q_int("SELECT count(*) FROM jobs"), 0);
	CHECK_INT(q_int("SELECT count(*) FROM history_gaps"), 0);
	jlog_close(&J);
}

/* Parts are runs of one day: a later day closes a day; untrusted ends are
** grouped by boot; MAX_JOBS closes a part too. */
TEST(export_plan_days)
{
	struct jlog_export_plan p;

	open_log();
	CHECK_INT(jlog_export_activate(&J, true), HF_OK);
	CHECK_INT(jlog_export_plan(&J, 100, &p), HF_OK);
	CHECK_INT(p.jobs, 0);
	NOW.utc_ms = D0 + 3600 * 1000;
	simple();
	simple();
	CHECK_INT(jlog_export_plan(&J, 100, &p), HF_OK);
	CHECK_INT(p.jobs, 2);
	CHECK_STR(p.day, "2026-12-06");
	CHECK(!p.closed);
	CHECK_INT(p.first_end_utc_ms, D0 + 3600 * 1000);
	CHECK_INT(jlog_export_plan(&J, 1, &p), HF_OK);
	CHECK_INT(p.jobs, 1);
	CHECK(p.closed);
	NOW.utc_ms = -1;
	simple();
	CHECK_INT(jlog_export_plan(&J, 100, &p), HF_OK);
	CHECK_INT(p.first, 1);
	CHECK_INT(p.last, 2);
	CHECK(p.closed);
	CHECK_INT(jlog_export_done(&J, 2, 2, 1, &NOW), HF_OK);
	CHECK_INT(jlog_export_plan(&J, 100, &p), HF_OK);
	CHECK_STR(p.day, "boot-1");
	CHECK_INT(p.first, 3);
	CHECK(!p.closed);
	NOW.utc_ms = D0 + DAY_MS + 5;
	simple();
	CHECK_INT(jlog_export_plan(&J, 100, &p), HF_OK);
	CHECK(p.closed);
	CHECK_INT(p.jobs, 1);

	/* In flight: recorded until done moves the watermark past it. */
	struct jlog_export_state st;
	CHECK_INT(jlog_export_flight(&J, 3, 3, "dev/history/undated/boot-1-x"), HF_OK);
	CHECK_INT(jlog_export_get(&J, &st), HF_OK);
	CHECK_INT(st.flight_first, 3);
	CHECK_INT(st.flight_last, 3);
	CHECK_STR(st.flight_path, "dev/history/undated/boot-1-x");
	CHECK_INT(jlog_export_done(&J, 3, 1, 1, &NOW), HF_OK);
	CHECK_INT(jlog_export_get(&J, &st), HF_OK);
	CHECK_INT(st.flight_first, 0);
	CHECK_INT(st.upto, 3);
	CHECK_STR(st.flight_path, "");
	jlog_close(&J);
}

/* The lines: env by name only; the head is the first 4 KiB of the output,
** across chunks, with every maximal ill-formed subsequence replaced by one
** U+FFFD (Unicode's recommended practice, as Python decodes). */
TEST(export_lines)
{
	char *env[] = { "SECRET=hunter2-value", "PLAIN", NULL };
	static const char bad[] = "a\xff" "b\xe2\x82" "c\x00" "d\xed\xa0\x80" "e\xf0\x9f\x98\x80"
				  "f\xe0\x80" "g\xc1\xbf" "h\xf4\x90\x80\x80" "i\xe2\x82";
	char big[10000];
	struct lines l = { 0 };

	open_log();
	NOW.utc_ms = D0 + 1234;
	job(env, 2, 3, bad, sizeof(bad) - 1, 5);
	memset(big, 'y', sizeof(big));
	job(NULL, 0, 0, big, sizeof(big), 1000);
	CHECK_INT(jlog_export_lines(&J, "dev1", 1, 2, collect, &l), HF_OK);
	CHECK_INT(l.n, 2);
	CHECK_INT(l.seq[0], 1);
	CHECK(strstr(l.text[0], "\"device\":\"dev1\""));
	CHECK(strstr(l.text[0], "\"env_names\":[\"SECRET\",\"PLAIN\"]"));
	CHECK(!strstr(l.text[0], "hunter2"));
	CHECK(strstr(l.text[0], "\"state\":\"dead\""));
	CHECK(strstr(l.text[0], "\"exit_code\":3"));
	CHECK(strstr(l.text[0], "\"ended\":\"2026-12-06T00:00:01.234Z\""));
	CHECK(strstr(l.text[0], "\"day\":\"2026-12-06\""));
	CHECK(strstr(l.text[0],
		"\"output_head\":\"a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\\u0000d\xef\xbf\xbd\xef\xbf\xbd"
		"\xef\xbf\xbd" "e\xf0\x9f\x98\x80" "f\xef\xbf\xbd\xef\xbf\xbd" "g\xef\xbf\xbd"
		"\xef\xbf\xbd" "h\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "i\xef\xbf\xbd\""));
	/* 4096 y's exactly, not one more. */
	char want[4096 + 32];
	snprintf(want, sizeof(want), "\"output_head\":\"%.*s\"", 4096, big);
	CHECK(strstr(l.text[1], want));
	CHECK(strstr(l.text[1], "\"output_bytes\":10000"));
	/* The range is the range. */
	lines_free(&l);
	CHECK_INT(jlog_export_lines(&J, "dev1", 2, 2, collect, &l), HF_OK);
	CHECK_INT(l.n, 1);
	CHECK_INT(l.seq[0], 2);
	lines_free(&l);
	jlog_close(&J);
}
