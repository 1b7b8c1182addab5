/*
** test_jobs.c: the job state machine in the log: idempotency, dependencies,
** scheduling order, retries, dead and cancelled cascades, retry revival.
*/
#include <stdlib.h>
#include <string.h>

#include "daemon/runner.h"
#include "fmt/cfg.h"
#include "log/jlog.h"
#include "port.h"
#include "sqlite3.h"
#include "test.h"

static struct jlog J;
static struct jlog_now NOW = { 1, 1000, -1 };

static void open_log(void)
{
	test_open_log(&J, &NOW);
}

/* Adds a job "true" with optional deps; returns its id. */
static int64_t add(const char *name, int64_t prio, int64_t retries, const int64_t *after,
		   int nafter, const char *key)
{
	char *argv[] = { "true", NULL };
	struct jlog_spec s = { 0 };
	int64_t id = 0;
	bool existed;

	s.name = name;
	s.argv = argv;
	s.argc = 1;
	s.priority = prio;
	s.retries = retries;
	s.backoff_min_ms = 100;
	s.backoff_max_ms = 100;
	s.after = after;
	s.nafter = nafter;
	s.key = key;
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_job_add(&J, &s, &NOW, &id, &existed), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	return id;
}

static const char *state_of(int64_t id)
{
	static char st[32];
	struct jlog_job job;

	CHECK_INT(jlog_job_get(&J, id, &job), HF_OK);
	snprintf(st, sizeof(st), "%s", job.state);
	return st;
}

struct ids {
	int64_t v[64];
	int n;
};

static int collect(const struct jlog_runnable *r, void *arg)
{
	struct ids *ids = arg;
	ids->v[ids->n++] = r->id;
	return ids->n == 64;
}

static struct ids runnable(void)
{
	struct ids ids = { { 0 }, 0 };
	CHECK_INT(jlog_runnable(&J, &NOW, 64, collect, &ids), HF_OK);
	return ids;
}

/* Runs attempt n of JOB to an end with exit CODE, in one transaction. */
static void finish(int64_t job, int64_t n, int code)
{
	struct jlog_end e = { .reason = "exit", .exit_code = code, .signal = -1 };

	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_attempt_start(&J, job, n, 4242, 1, &NOW), HF_OK);
	/* rnd UINT32_MAX: the whole backoff, no jitter taken off. */
	CHECK_INT(jlog_attempt_end(&J, job, n, &e, &NOW, UINT32_MAX), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
}

TEST(jobs_priority_then_fifo)
{
	open_log();
	int64_t a = add(NULL, 0, 0, NULL, 0, NULL);
	int64_t b = add(NULL, 5, 0, NULL, 0, NULL);
	int64_t c = add(NULL, 0, 0, NULL, 0, NULL);
	int64_t d = add(NULL, -3, 0, NULL, 0, NULL);
	int64_t e = add(NULL, 5, 0, NULL, 0, NULL);
	struct ids r = runnable();
	CHECK_INT(r.n, 5);
	CHECK(r.v[0] == b && r.v[1] == e && r.v[2] == a && r.v[3] == c && r.v[4] == d);
}

/* Adds a job "true" of PRIO in GROUP (NULL: none); returns its id. */
static int64_t add_in(const char *group, int64_t prio)
{
	char *argv[] = { "true", NULL };
	struct jlog_spec s = { 0 };
	int64_t id = 0;
	bool existed;

	s.argv = argv;
	s.argc = 1;
	s.priority = prio;
	s.group = group;
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_job_add(&J, &s, &NOW, &id, &existed), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	return id;
}

TEST(jobs_pick_merges_groups_in_order)
{
	open_log();
	int64_t a = add_in(NULL, 0);
	int64_t b = add_in("modem", 5);
	int64_t c = add_in("cam", 5);
	int64_t d = add_in("modem", 0);
	int64_t e = add_in(NULL, 9);
	int64_t f = add_in("cam", 7);
	struct ids r = runnable();
	CHECK_INT(r.n, 6);
	CHECK(r.v[0] == e && r.v[1] == f && r.v[2] == b && r.v[3] == c && r.v[4] == a &&
	      r.v[5] == d);
	/* MAX bounds what each source offers: 1 ungrouped + 1 per group. */
	struct ids one = { { 0 }, 0 };
	CHECK_INT(jlog_runnable(&J, &NOW, 1, collect, &one), HF_OK);
	CHECK(one.n == 3 && one.v[0] == e && one.v[1] == f && one.v[2] == b);
}

/* A scheduler that finds group "modem" full: it skips its jobs and takes
** the first four others, as runner.c's start_one does. */
static int take_unless_modem(const struct jlog_runnable *r, void *arg)
{
	struct ids *ids = arg;

	if (r->group && !strcmp(r->group, "modem"))
		return 0;
	ids->v[ids->n++] = r->id;
	return ids->n == 4;
}

/* The virtual machine steps of every statement the job log ran since the
** last call: a cost that does not depend on the machine's speed. */
static long long vm_steps(void)
{
	long long n = 0;

	for (int i = 0; i < JLOG_STMT_CACHE; i++)
		if (J.stmts[i])
			n += sqlite3_stmt_status(J.stmts[i], SQLITE_STMTSTATUS_VM_STEP, 1);
	return n;
}

/* Queues N jobs in one statement: half in group "modem" at priority 5
** (ahead of everything), half ungrouped at priority 0. */
static void bulk_queue(int n)
{
	char sql[1024];

	snprintf(sql, sizeof(sql),
		 "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < %d)"
		 " INSERT INTO jobs(argv, env, grp, priority, retries, backoff_min_ms,"
		 "  backoff_max_ms, timeout_ms, state, ready_boot, ready_mono_ms, submit_boot,"
		 "  submit_mono_ms)"
		 " SELECT '[\"true\"]', '[]', CASE i %% 2 WHEN 0 THEN 'modem' END,"
		 "  CASE i %% 2 WHEN 0 THEN 5 ELSE 0 END, 0, 100, 100, 0, 'queued', 1,"
		 "  CASE WHEN i %% 10 = 0 THEN 5000 ELSE 0 END, 1, 0 FROM c", n);
	CHECK_INT(sqlite3_exec(J.db, sql, NULL, NULL, NULL), SQLITE_OK);
}

static long long pick_cost(void)
{
	struct ids ids = { { 0 }, 0 };
	uint64_t next;

	vm_steps();
	CHECK_INT(jlog_runnable(&J, &NOW, 4, take_unless_modem, &ids), HF_OK);
	CHECK_INT(ids.n, 4);
	CHECK_INT(jlog_next_ready(&J, &NOW, &next), HF_OK);
	CHECK(next == 5000);
	return vm_steps();
}

/* Issue 14: with 196,000 jobs queued the daemon ran 3 jobs a second, since
** the pick sorted every queued row (and walked every job of a full group).
** The pick's cost must not grow with the queue: measured in VM steps at 20
** and at 40,000 queued, and every plan it runs is free of sorts and scans. */
TEST(jobs_pick_cost_does_not_grow_with_queue)
{
	long long small, deep;

	open_log();
	bulk_queue(20);
	small = pick_cost();
	bulk_queue(40000);
	deep = pick_cost();
	if (!(deep <= 2 * small))
		printf("# pick: %lld VM steps at 20 queued, %lld at 40,020\n", small, deep);
	CHECK(deep <= 2 * small);
	for (int i = 0; i < JLOG_STMT_CACHE; i++) {
		char eqp[4096];
		sqlite3_stmt *plan;

		if (!J.stmts[i] || !strstr(sqlite3_sql(J.stmts[i]), "FROM jobs"))
			continue;
		snprintf(eqp, sizeof(eqp), "EXPLAIN QUERY PLAN %s", sqlite3_sql(J.stmts[i]));
		CHECK_INT(sqlite3_prepare_v2(J.db, eqp, -1, &plan, NULL), SQLITE_OK);
		while (sqlite3_step(plan) == SQLITE_ROW) {
			const char *d = (const char *)sqlite3_column_text(plan, 3);
			if (strstr(d, "TEMP B-TREE") || (strstr(d, "SCAN jobs") && !strstr(d, "INDEX")))
				printf("# plan of %.80s: %s\n", sqlite3_sql(J.stmts[i]), d);
			CHECK(!strstr(d, "TEMP B-TREE"));
			CHECK(!(strstr(d, "SCAN jobs") && !strstr(d, "INDEX")));
		}
		sqlite3_finalize(plan);
	}
}

TEST(jobs_idempotency_key)
{
	char *argv[] = { "true", NULL };
	struct jlog_spec s = { 0 };
	int64_t id1, id2;
	bool existed;

	open_log();
	s.argv = argv;
	s.argc = 1;
	s.key = "reading-2026-11-22";
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_job_add(&J, &s, &NOW, &id1, &existed), HF_OK);
	CHECK(!existed);
	CHECK_INT(jlog_job_add(&J, &s, &NOW, &id2, &existed), HF_OK);
	CHECK(existed);
	CHECK_INT(id1, id2);
	CHECK_INT(jlog_commit(&J), HF_OK);
	CHECK_INT(runnable().n, 1);
}

TEST(jobs_dependencies_release_in_order)
{
	open_log();
	int64_t a = add("a", 0, 0, NULL, 0, NULL);
	int64_t b = add("b", 0, 0, (int64_t[]){ a }, 1, NULL);
	/* b named twice: one edge, waited for once. */
	int64_t c = add("c", 0, 0, (int64_t[]){ a, b, b }, 3, NULL);
	struct ids r = runnable();
	CHECK(r.n == 1 && r.v[0] == a);
	finish(a, 1, 0);
	r = runnable();
	CHECK(r.n == 1 && r.v[0] == b);
	finish(b, 1, 0);
	r = runnable();
	CHECK(r.n == 1 && r.v[0] == c);
	/* A dependency that succeeded already is not waited for. */
	int64_t d = add("d", 0, 0, (int64_t[]){ a }, 1, NULL);
	r = runnable();
	CHECK(r.n == 2 && r.v[1] == d);
	int64_t id;
	CHECK_INT(jlog_job_resolve(&J, "b", &id), HF_OK);
	CHECK_INT(id, b);
	CHECK_INT(jlog_job_resolve(&J, "nope", &id), HF_ENOENT);
}

TEST(jobs_retry_then_dead_cascades)
{
	open_log();
	int64_t a = add("a", 0, 2, NULL, 0, NULL);
	int64_t b = add("b", 0, 0, (int64_t[]){ a }, 1, NULL);
	int64_t c = add("c", 0, 0, (int64_t[]){ b }, 1, NULL);
	finish(a, 1, 1);
	CHECK_STR(state_of(a), "failed");
	/* Backoff: not runnable until 100 ms pass on this boot's clock... */
	CHECK_INT(runnable().n, 0);
	uint64_t next;
	CHECK_INT(jlog_next_ready(&J, &NOW, &next), HF_OK);
	CHECK_INT(next, NOW.mono_ms + 100);
	NOW.mono_ms += 100;
	CHECK_INT(runnable().n, 1);
	finish(a, 2, 1);
	/* ...or at once after a reboot (a new boot counter). */
	NOW.boot = 2;
	CHECK_INT(runnable().n, 1);
	NOW.boot = 1;
	finish(a, 3, 1);
	CHECK_STR(state_of(a), "dead");
	CHECK_STR(state_of(b), "dead");
	CHECK_STR(state_of(c), "dead");
	struct jlog_job job;
	CHECK_INT(jlog_job_get(&J, c, &job), HF_OK);
	CHECK(strstr(job.reason, "dependency") != NULL);
	CHECK_INT(runnable().n, 0);
	/* A new job after a dead one is refused: it could never run. */
	char *argv[] = { "true", NULL };
	struct jlog_spec s = { .argv = argv, .argc = 1, .after = (int64_t[]){ a }, .nafter = 1 };
	int64_t id;
	bool existed;
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_job_add(&J, &s, &NOW, &id, &existed), HF_EINVAL);
	jlog_rollback(&J);
	CHECK(test_log_has("is dead"));
	/* retry brings a and everything that died of it back. */
	CHECK_INT(jlog_job_retry(&J, a, &NOW), HF_OK);
	CHECK_STR(state_of(a), "queued");
	CHECK_STR(state_of(b), "queued");
	CHECK_STR(state_of(c), "queued");
	struct ids r = runnable();
	CHECK(r.n == 1 && r.v[0] == a);
	finish(a, 4, 0);
	r = runnable();
	CHECK(r.n == 1 && r.v[0] == b);
}

TEST(jobs_cancel_queued_and_running)
{
	bool later;

	open_log();
	int64_t a = add("a", 0, 0, NULL, 0, NULL);
	int64_t b = add("b", 0, 0, (int64_t[]){ a }, 1, NULL);
	CHECK_INT(jlog_job_cancel(&J, a, &NOW, &later), HF_OK);
	CHECK(!later);
	CHECK_STR(state_of(a), "cancelled");
	CHECK_STR(state_of(b), "dead");
	CHECK_INT(jlog_job_cancel(&J, a, &NOW, &later), HF_EINVAL);
	CHECK(test_log_has("is cancelled already"));

	int64_t c = add("c", 0, 3, NULL, 0, NULL);
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_attempt_start(&J, c, 1, 4242, 1, &NOW), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	CHECK_INT(jlog_job_cancel(&J, c, &NOW, &later), HF_OK);
	CHECK(later);
	int req;
	CHECK_INT(jlog_cancel_requested(&J, c, &req), HF_OK);
	CHECK_INT(req, JLOG_REQ_CANCEL);
	struct jlog_end e = { .reason = "cancelled", .exit_code = -1, .signal = 15 };
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_attempt_end(&J, c, 1, &e, &NOW, 0), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	/* Cancelled, not retried, though it had retries left. */
	CHECK_STR(state_of(c), "cancelled");
}

/* What jlog_attempts_list says of each attempt's end. */
struct ends {
	int n;
	bool unknown[8];
	int64_t duration_ms[8];
	char json[8][512];
};

static int note_end(const struct jlog_attempt *at, void *arg)
{
	struct ends *e = arg;

	if (e->n < 8) {
		e->unknown[e->n] = at->end_unknown;
		e->duration_ms[e->n] = at->duration_ms;
		snprintf(e->json[e->n], sizeof(e->json[0]), "%s", at->json);
		e->n++;
	}
	return 0;
}

TEST(jobs_shutdown_and_power_loss_accounting)
{
	open_log();
	int64_t a = add("a", 0, 0, NULL, 0, NULL);
	struct jlog_end e = { .reason = "shutdown", .exit_code = -1, .signal = 15 };

	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_attempt_start(&J, a, 1, 4242, 1, &NOW), HF_OK);
	CHECK_INT(jlog_attempt_end(&J, a, 1, &e, &NOW, 0), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	/* A shutdown is not the job's fault: queued again, no retry spent. */
	CHECK_STR(state_of(a), "queued");
	struct jlog_job job;
	CHECK_INT(jlog_job_get(&J, a, &job), HF_OK);
	CHECK_INT(job.failures, 0);
	CHECK_INT(job.attempts, 1);
	/* Nor is a power loss or a daemon crash: with no retries at all the job
	** is queued again, says why, and no end time is made up for the cut. */
	e.reason = "power-loss";
	e.end_unknown = true;
	e.quarantine_after = 3;
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_attempt_start(&J, a, 2, 4243, 1, &NOW), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_attempt_end(&J, a, 2, &e, &NOW, 0), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	CHECK_STR(state_of(a), "queued");
	CHECK_INT(jlog_job_get(&J, a, &job), HF_OK);
	CHECK(strstr(job.reason, "power-loss") != NULL);
	CHECK_INT(job.failures, 0);
	e.reason = "daemon-crash";
	e.end_unknown = false; /* its group was still running: ended now */
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_attempt_start(&J, a, 3, 4244, 1, &NOW), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	NOW.mono_ms += 1500;
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_attempt_end(&J, a, 3, &e, &NOW, 0), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	CHECK_STR(state_of(a), "queued");
	CHECK_INT(jlog_job_get(&J, a, &job), HF_OK);
	CHECK_INT(job.failures, 0);
	struct ends got = { 0 };
	CHECK_INT(jlog_attempts_list(&J, a, note_end, &got), HF_OK);
	CHECK_INT(got.n, 3);
	CHECK(!got.unknown[0] && got.unknown[1] && !got.unknown[2]);
	CHECK_INT(got.duration_ms[1], -1); /* power-loss: unknown */
	CHECK_INT(got.duration_ms[2], 1500); /* daemon-crash, ended by us */
	CHECK(strstr(got.json[1], "\"end_utc_ms\":null,\"duration_ms\":null") != NULL);
	CHECK(strstr(got.json[1], "\"end_known\":false") != NULL);
	CHECK(strstr(got.json[2], "\"end_known\":true") != NULL);
}

/* An attempt cut by a daemon crash: what is known is how long its daemon was
** last seen alive after it started, the latest start or end that daemon
** recorded (the history row's act_*, copied by the recovery). The
** recovery's own ends, an orphan it ended by its hand included, do not
** count: they come after the crash. */
TEST(jobs_cut_attempt_alive_bound)
{
	struct jlog_now t = { 1, 1000, -1 };
	struct jlog_end ok = { .reason = "exit", .exit_code = 0, .signal = -1 };
	struct jlog_end crash = { .reason = "daemon-crash", .exit_code = -1, .signal = -1,
				  .quarantine_after = 3 };
	struct ends got = { 0 };
	int64_t run;

	open_log();
	int64_t a = add("a", 0, 0, NULL, 0, NULL);
	int64_t b = add("b", 0, 0, NULL, 0, NULL);
	int64_t c = add("c", 0, 0, NULL, 0, NULL);
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_attempt_start(&J, a, 1, 4242, 1, &t), HF_OK);
	t.mono_ms = 1100;
	CHECK_INT(jlog_attempt_start(&J, c, 1, 4243, 1, &t), HF_OK);
	t.mono_ms = 1200;
	CHECK_INT(jlog_attempt_start(&J, b, 1, 4244, 1, &t), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	t.mono_ms = 1700;
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_attempt_end(&J, b, 1, &ok, &t, 0), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	/* The daemon dies; the next one starts at 5000 in the same boot. c's
	** leader still ran: ended now, by the recovery; a's end nobody saw. */
	t.mono_ms = 5000;
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_attempt_end(&J, c, 1, &crash, &t, 0), HF_OK);
	crash.end_unknown = true;
	CHECK_INT(jlog_attempt_end(&J, a, 1, &crash, &t, 0), HF_OK);
	CHECK_INT(jlog_run_start(&J, 99, &t, &run), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	CHECK_INT(jlog_attempts_list(&J, a, note_end, &got), HF_OK);
	CHECK_INT(got.n, 1);
	CHECK(got.unknown[0]);
	if (!strstr(got.json[0], "\"alive_after_start_ms\":700"))
		test_fail(__FILE__, __LINE__, "bound: %s", got.json[0]);
	/* c ended by the recovery, its end known: no bound to show. */
	memset(&got, 0, sizeof(got));
	CHECK_INT(jlog_attempts_list(&J, c, note_end, &got), HF_OK);
	CHECK(!got.unknown[0]);
	CHECK(strstr(got.json[0], "\"alive_after_start_ms\":null") != NULL);
}

/* Ends attempt N of JOB (started first) uncleanly. */
static void cut(int64_t job, int64_t n, const char *reason)
{
	struct jlog_end e = { .reason = reason, .exit_code = -1, .signal = -1,
			      .quarantine_after = 3 };

	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_attempt_start(&J, job, n, 4242, 1, &NOW), HF_OK);
	CHECK_INT(jlog_attempt_end(&J, job, n, &e, &NOW, UINT32_MAX), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
}

TEST(jobs_quarantine_after_three_unclean_stops_in_a_row)
{
	open_log();
	int64_t a = add("a", 0, 100, NULL, 0, NULL);
	int64_t b = add("b", 0, 100, (int64_t[]){ a }, 1, NULL);

	cut(a, 1, "power-loss");
	cut(a, 2, "daemon-crash");
	CHECK_STR(state_of(a), "queued"); /* run again, no retry spent */
	/* A clean end in between breaks the series. */
	finish(a, 3, 1);
	cut(a, 4, "power-loss");
	cut(a, 5, "power-loss");
	CHECK_STR(state_of(a), "queued");
	cut(a, 6, "power-loss");
	CHECK_STR(state_of(a), "quarantined");
	struct jlog_job job;
	CHECK_INT(jlog_job_get(&J, a, &job), HF_OK);
	CHECK(strstr(job.reason, "3 unclean stops in a row") != NULL);
	/* Parked, not dead: its dependent waits, and nothing runs. */
	CHECK_STR(state_of(b), "queued");
	NOW.mono_ms += 1000000;
	CHECK_INT(runnable().n, 0);
	CHECK_INT(jlog_job_retry(&J, a, &NOW), HF_OK);
	CHECK_STR(state_of(a), "queued");
	CHECK_INT(jlog_job_get(&J, a, &job), HF_OK);
	CHECK_INT(job.attempts, 6); /* history kept */
}

TEST(jobs_schema_is_versioned)
{
	open_log();
	jlog_close(&J);
	/* A log from a newer holdfast is refused, not misread. */
	CHECK_INT(jlog_open(&J, "t.db", NULL), HF_OK);
	CHECK_INT(sqlite3_exec(J.db, "PRAGMA user_version=99", NULL, NULL, NULL), 0);
	jlog_close(&J);
	CHECK_INT(jlog_open(&J, "t.db", NULL), HF_ENOTSUP);
	CHECK(test_log_has("schema version 99 is newer"));
}

/* A version 3 log (before jobs had a user and limits) opens, and is migrated
** in place: its jobs keep NULL there, the config's user and limits. */
TEST(jobs_schema_v3_log_migrates)
{
	sqlite3_stmt *st;
	sqlite3 *db;

	CHECK_INT(jlog_create_version("t.db", NULL, 3), HF_OK);
	CHECK_INT(sqlite3_open("t.db", &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, "INSERT INTO boots(kernel_boot_id) VALUES ('boot-a');"
			       "INSERT INTO jobs(argv, env, priority, retries, "
			       "backoff_min_ms, backoff_max_ms, timeout_ms, state, ready_boot, "
			       "ready_mono_ms, submit_boot, submit_mono_ms) VALUES "
			       "('[\"true\"]', '[]', 0, 0, 0, 0, 0, 'queued', 1, 0, 1, 0);",
			       NULL, NULL, NULL), 0);
	sqlite3_close(db);
	CHECK_INT(jlog_open(&J, "t.db", NULL), HF_OK);
	CHECK_INT(sqlite3_prepare_v2(J.db, "SELECT count(*), count(user), count(limit_nofile) "
				     "FROM jobs", -1, &st, NULL), 0);
	CHECK_INT(sqlite3_step(st), SQLITE_ROW);
	CHECK_INT(sqlite3_column_int(st, 0), 1);
	CHECK_INT(sqlite3_column_int(st, 1), 0);
	CHECK_INT(sqlite3_column_int(st, 2), 0);
	sqlite3_finalize(st);
	CHECK_INT(sqlite3_prepare_v2(J.db, "PRAGMA user_version", -1, &st, NULL), 0);
	CHECK_INT(sqlite3_step(st), SQLITE_ROW);
	CHECK_INT(sqlite3_column_int(st, 0), JLOG_SCHEMA_VERSION);
	sqlite3_finalize(st);
	/* The counts by state start from what the log held. */
	struct jlog_counts k;
	CHECK_INT(jlog_counts(&J, &k), HF_OK);
	CHECK_INT(k.queued, 1);
	CHECK_INT(k.succeeded + k.running + k.failed + k.dead + k.cancelled + k.quarantined, 0);
}

/* jlog_counts (the history row's counts its triggers keep) against count(*) by
** state, in every state; *TOTAL: the jobs. */
static void counts_agree(int64_t *total)
{
	static const char *const states[] = { "queued", "running", "succeeded", "failed",
					       "dead", "cancelled", "quarantined" };
	struct jlog_counts k;
	sqlite3_stmt *st;
	int64_t n = 0;

	CHECK_INT(jlog_counts(&J, &k), HF_OK);
	const int64_t got[] = { k.queued, k.running, k.succeeded, k.failed, k.dead,
				k.cancelled, k.quarantined };
	for (int i = 0; i < 7; i++) {
		CHECK_INT(sqlite3_prepare_v2(J.db, "SELECT count(*) FROM jobs WHERE state = ?1",
					     -1, &st, NULL), 0);
		sqlite3_bind_text(st, 1, states[i], -1, SQLITE_STATIC);
		CHECK_INT(sqlite3_step(st), SQLITE_ROW);
		if (got[i] != sqlite3_column_int64(st, 0))
			test_fail(__FILE__, __LINE__, "%s: counted %lld, count(*) %lld", states[i],
				  (long long)got[i], (long long)sqlite3_column_int64(st, 0));
		n += got[i];
		sqlite3_finalize(st);
	}
	*total = n;
}

/* The counts status reads follow every change of a job's state: submit,
** start, success, failure and retry, dead with its cascade, cancel (queued
** and running), shutdown and power-loss requeues, quarantine, retry, and
** a delete (what pruning does). */
TEST(jobs_counts_follow_every_change)
{
	int64_t n;
	bool later;

	open_log();
	counts_agree(&n);
	CHECK_INT(n, 0);
	int64_t a = add("a", 0, 1, NULL, 0, NULL);
	int64_t b = add("b", 0, 0, (int64_t[]){ a }, 1, NULL);
	int64_t c = add("c", 0, 0, NULL, 0, "k");
	add("c2", 0, 0, NULL, 0, "k"); /* the same key: no new job */
	counts_agree(&n);
	CHECK_INT(n, 3);
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_attempt_start(&J, a, 1, 4242, 1, &NOW), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	counts_agree(&n);
	CHECK_STR(state_of(a), "running");
	struct jlog_end e = { .reason = "exit", .exit_code = 1, .signal = -1 };
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_attempt_end(&J, a, 1, &e, &NOW, UINT32_MAX), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	CHECK_STR(state_of(a), "failed");
	counts_agree(&n);
	finish(a, 2, 1);
	CHECK_STR(state_of(a), "dead");
	CHECK_STR(state_of(b), "dead");
	counts_agree(&n);
	CHECK_INT(jlog_job_retry(&J, a, &NOW), HF_OK);
	counts_agree(&n);
	finish(a, 3, 0);
	CHECK_STR(state_of(a), "succeeded");
	counts_agree(&n);
	CHECK_INT(jlog_job_cancel(&J, c, &NOW, &later), HF_OK);
	CHECK_STR(state_of(c), "cancelled");
	counts_agree(&n);
	int64_t d = add("d", 0, 0, NULL, 0, NULL);
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_attempt_start(&J, d, 1, 4242, 1, &NOW), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	CHECK_INT(jlog_job_cancel(&J, d, &NOW, &later), HF_OK);
	CHECK(later);
	e = (struct jlog_end){ .reason = "cancelled", .exit_code = -1, .signal = 15 };
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_attempt_end(&J, d, 1, &e, &NOW, 0), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	CHECK_STR(state_of(d), "cancelled");
	counts_agree(&n);
	int64_t q = add("q", 0, 0, NULL, 0, NULL);
	e = (struct jlog_end){ .reason = "shutdown", .exit_code = -1, .signal = 15 };
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_attempt_start(&J, q, 1, 4242, 1, &NOW), HF_OK);
	CHECK_INT(jlog_attempt_end(&J, q, 1, &e, &NOW, 0), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	CHECK_STR(state_of(q), "queued");
	counts_agree(&n);
	cut(q, 2, "power-loss");
	cut(q, 3, "power-loss");
	cut(q, 4, "daemon-crash");
	CHECK_STR(state_of(q), "quarantined");
	counts_agree(&n);
	CHECK_INT(n, 5);
	/* A statement rolled back leaves the counts as they were. */
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(sqlite3_exec(J.db, "UPDATE jobs SET state = 'dead'", NULL, NULL, NULL), 0);
	jlog_rollback(&J);
	counts_agree(&n);
	/* Deleting finished jobs (pruning) takes them off their state's count. */
	CHECK_INT(sqlite3_exec(J.db, "DELETE FROM output; DELETE FROM attempts WHERE job IN "
			       "(SELECT id FROM jobs WHERE state IN ('cancelled','dead'));"
			       "DELETE FROM deps; DELETE FROM jobs WHERE state IN "
			       "('cancelled','dead')", NULL, NULL, NULL), 0);
	counts_agree(&n);
	CHECK_INT(n, 3);
	/* Negative control: a count changed behind the triggers' back is seen. */
	CHECK_INT(sqlite3_exec(J.db, "UPDATE history SET n_succeeded = n_succeeded + 1",
			       NULL, NULL, NULL), 0);
	struct jlog_counts k;
	CHECK_INT(jlog_counts(&J, &k), HF_OK);
	CHECK_INT(k.succeeded, 2);
}

TEST(runner_job_environment)
{
	char *base[] = { "PATH=/bin", "HOME=/root", "HOLDFAST_JOB_ID=666", NULL };
	char *job[] = { "HOME=/tmp", "X=1" };
	char **e = runner_job_env(base, NULL, NULL, NULL, job, 2, NULL, 7, 3);

	CHECK(e != NULL);
	CHECK_STR(e[0], "PATH=/bin");
	CHECK_STR(e[1], "HOME=/tmp");
	CHECK_STR(e[2], "X=1");
	CHECK_STR(e[3], "HOLDFAST_JOB_ID=7");
	CHECK_STR(e[4], "HOLDFAST_ATTEMPT=3");
	CHECK(e[5] == NULL);
	free(e);
	/* The job's own HOLDFAST_ATTEMPT does not shadow ours. */
	char *job2[] = { "HOLDFAST_ATTEMPT=9", "Y=2", "HOLDFAST_JOB_ID=8", "HOLDFAST_JOB_DATA=/x" };
	e = runner_job_env(base, NULL, NULL, NULL, job2, 4, "HOLDFAST_JOB_DATA=/d", 7, 3);
	CHECK(e != NULL);
	CHECK_STR(e[0], "PATH=/bin");
	CHECK_STR(e[1], "HOME=/root");
	CHECK_STR(e[2], "Y=2");
	CHECK_STR(e[3], "HOLDFAST_JOB_ID=7");
	CHECK_STR(e[4], "HOLDFAST_ATTEMPT=3");
	CHECK_STR(e[5], "HOLDFAST_JOB_DATA=/d");
	CHECK(e[6] == NULL);
	free(e);
}

/* Secrets of the daemon stay out: the AWS keys always, [jobs] secret_env's
** names and prefixes too; a job's own env may still set them. As another
** user, HOME, USER and LOGNAME are that user's unless the job sets them. */
TEST(runner_job_environment_keeps_secrets_out)
{
	char *base[] = { "PATH=/bin", "AWS_SECRET_ACCESS_KEY=s", "AWS_ACCESS_KEY_ID=a",
			 "AWS_SESSION_TOKEN=t", "AWS_REGION=eu", "DB_PASSWORD=p", "TOKEN_A=1",
			 "TOKEN=2", "HOME=/root", "USER=root", "LOGNAME=root", NULL };
	char *job[] = { "AWS_ACCESS_KEY_ID=mine", "LOGNAME=custom" };
	struct cfg c;
	char **e;

	cfg_init(&c);
	CHECK_INT(cfg_parse(&c, "[jobs]\nsecret_env = DB_PASSWORD TOKEN_*\n", "t.conf"), HF_OK);
	CHECK(cfg_env_is_secret(&c, "TOKEN_A", 7));
	CHECK(!cfg_env_is_secret(&c, "TOKEN", 5));
	CHECK(cfg_env_is_secret(NULL, "AWS_SESSION_TOKEN", 17));
	CHECK(!cfg_env_is_secret(NULL, "AWS_SESSION_TOKE", 16));
	e = runner_job_env(base, &c, "nobody", "/nonexistent", job, 2, NULL, 5, 1);
	CHECK(e != NULL);
	CHECK_STR(e[0], "PATH=/bin");
	CHECK_STR(e[1], "AWS_REGION=eu");
	CHECK_STR(e[2], "TOKEN=2");
	CHECK_STR(e[3], "HOME=/nonexistent");
	CHECK_STR(e[4], "USER=nobody");
	CHECK_STR(e[5], "AWS_ACCESS_KEY_ID=mine");
	CHECK_STR(e[6], "LOGNAME=custom");
	CHECK_STR(e[7], "HOLDFAST_JOB_ID=5");
	CHECK_STR(e[8], "HOLDFAST_ATTEMPT=1");
	CHECK(e[9] == NULL);
	free(e);
	CHECK_INT(cfg_parse(&c, "[jobs]\nsecret_env = 9LIVES\n", "t.conf"), HF_EINVAL);
	CHECK_INT(cfg_parse(&c, "[jobs]\nsecret_env = A*B\n", "t.conf"), HF_EINVAL);
	CHECK(test_log_has("t.conf:2: bad value 'A*B' for secret_env"));
}

/* Entries of the index NAME, read from its root page (sqlite_dbpage): the
** index must still fit in one leaf. */
static int index_entries_of(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st;
	const unsigned char *p;
	int n = -1;

	CHECK_INT(sqlite3_prepare_v2(db, "SELECT data FROM sqlite_dbpage WHERE pgno ="
				     " (SELECT rootpage FROM sqlite_schema WHERE name = ?1)",
				     -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	CHECK_INT(sqlite3_step(st), SQLITE_ROW);
	p = sqlite3_column_blob(st, 0);
	CHECK(p && sqlite3_column_bytes(st, 0) >= 8);
	if (p && p[0] == 0x0a) /* an index leaf */
		n = p[3] << 8 | p[4];
	sqlite3_finalize(st);
	return n;
}

static int index_entries(const char *name)
{
	return index_entries_of(J.db, name);
}

/* Version 9: the timer's index (jobs_wake) holds only the jobs that wait for
** a time (a not-before, a backoff, a ready time in another boot): a job
** ready when submitted writes no entry there, and is still picked. A
** version 8 log is migrated to it. */
TEST(jobs_wake_holds_only_delayed_jobs)
{
	char *argv[] = { "true", NULL };
	struct jlog_spec s = { 0 };
	struct ids ids;
	uint64_t next;
	int64_t id;
	sqlite3 *db;
	bool existed;

	CHECK_INT(jlog_create_version("t.db", NULL, 8), HF_OK);
	CHECK_INT(sqlite3_open("t.db", &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, "INSERT INTO boots(kernel_boot_id) VALUES ('boot-a'), ('boot-b');"
			       "INSERT INTO jobs(argv, env, priority, retries, backoff_min_ms,"
			       " backoff_max_ms, timeout_ms, state, ready_boot, ready_mono_ms,"
			       " submit_boot, submit_mono_ms) VALUES"
			       " ('[\"true\"]', '[]', 0, 0, 0, 0, 0, 'queued', 1, 500, 1, 500),"
			       " ('[\"true\"]', '[]', 0, 0, 0, 0, 0, 'queued', 1, 9000, 1, 500),"
			       " ('[\"true\"]', '[]', 0, 0, 0, 0, 0, 'failed', 2, 100, 1, 500);",
			       NULL, NULL, NULL), SQLITE_OK);
	CHECK_INT(index_entries_of(db, "jobs_wake"), 3);
	CHECK_INT(sqlite3_close(db), SQLITE_OK);
	CHECK_INT(jlog_open(&J, "t.db", NULL), HF_OK);
	CHECK_INT(index_entries("jobs_wake"), 2);   /* jobs 2 and 3 */
	NOW.boot = 1;
	NOW.mono_ms = 1000;
	CHECK_INT(jlog_next_ready(&J, &NOW, &next), HF_OK);
	CHECK_INT(next, 9000);
	ids = runnable();          /* 1, and 3: its ready time is another boot's */
	CHECK_INT(ids.n, 2);
	CHECK_INT(ids.v[0], 1);
	CHECK_INT(ids.v[1], 3);
	/* New jobs: one ready now (no entry), one not before 5 s from now. */
	s.argv = argv;
	s.argc = 1;
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_job_add(&J, &s, &NOW, &id, &existed), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	CHECK_INT(index_entries("jobs_wake"), 2);
	s.not_before_ms = 5000;
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_job_add(&J, &s, &NOW, &id, &existed), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	CHECK_INT(index_entries("jobs_wake"), 3);
	CHECK_INT(jlog_next_ready(&J, &NOW, &next), HF_OK);
	CHECK_INT(next, 6000);
	ids = runnable();
	CHECK_INT(ids.n, 3);
	CHECK_INT(ids.v[2], 4);
	NOW.mono_ms = 6000;
	CHECK_INT(runnable().n, 4);
	NOW.boot = 2;          /* a reboot: everything is ready */
	CHECK_INT(runnable().n, 5);
	NOW.boot = 1;
	NOW.mono_ms = 1000;
}
