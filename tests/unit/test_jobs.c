/*
** test_jobs.c: the job state machine in the log: idempotency, dependencies,
** scheduling order, retries, dead and cancelled cascades, retry revival.
*/
#include <stdlib.h>

#include "jlog.h"
#include "port.h"
#include "runner.h"
#include "sqlite3.h"
#include "test.h"

static struct jlog J;
static struct jlog_now NOW = { 1, 1000, -1 };

static void open_log(void)
{
	int64_t boot;

	CHECK_INT(jlog_create("t.db", NULL), HF_OK);
	CHECK_INT(jlog_open(&J, "t.db", NULL), HF_OK);
	CHECK_INT(jlog_boot(&J, "boot-a", -1, true, &boot), HF_OK);
	CHECK_INT(boot, 1);
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
	CHECK_INT(jlog_runnable(&J, &NOW, collect, &ids), HF_OK);
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
	bool yes;
	CHECK_INT(jlog_cancel_requested(&J, c, &yes), HF_OK);
	CHECK(yes);
	struct jlog_end e = { .reason = "cancelled", .exit_code = -1, .signal = 15 };
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_attempt_end(&J, c, 1, &e, &NOW, 0), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	/* Cancelled, not retried, though it had retries left. */
	CHECK_STR(state_of(c), "cancelled");
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
	/* A power loss is: with no retries the job is dead, and says why. */
	e.reason = "power-loss";
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_attempt_start(&J, a, 2, 4243, 1, &NOW), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_attempt_end(&J, a, 2, &e, &NOW, 0), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	CHECK_STR(state_of(a), "dead");
	CHECK_INT(jlog_job_get(&J, a, &job), HF_OK);
	CHECK(strstr(job.reason, "power-loss") != NULL);
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
	CHECK_STR(state_of(a), "failed"); /* retrying, by its policy */
	/* A clean end in between breaks the series. */
	finish(a, 3, 1);
	cut(a, 4, "power-loss");
	cut(a, 5, "power-loss");
	CHECK_STR(state_of(a), "failed");
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

TEST(runner_job_environment)
{
	char *base[] = { "PATH=/bin", "HOME=/root", "HOLDFAST_JOB_ID=666", NULL };
	char *job[] = { "HOME=/tmp", "X=1" };
	char **e = runner_job_env(base, job, 2, 7, 3);

	CHECK(e != NULL);
	CHECK_STR(e[0], "PATH=/bin");
	CHECK_STR(e[1], "HOME=/tmp");
	CHECK_STR(e[2], "X=1");
	CHECK_STR(e[3], "HOLDFAST_JOB_ID=7");
	CHECK_STR(e[4], "HOLDFAST_ATTEMPT=3");
	CHECK(e[5] == NULL);
	free(e);
	/* The job's own HOLDFAST_ATTEMPT does not shadow ours. */
	char *job2[] = { "HOLDFAST_ATTEMPT=9", "Y=2", "HOLDFAST_JOB_ID=8" };
	e = runner_job_env(base, job2, 3, 7, 3);
	CHECK(e != NULL);
	CHECK_STR(e[0], "PATH=/bin");
	CHECK_STR(e[1], "HOME=/root");
	CHECK_STR(e[2], "Y=2");
	CHECK_STR(e[3], "HOLDFAST_JOB_ID=7");
	CHECK_STR(e[4], "HOLDFAST_ATTEMPT=3");
	CHECK(e[5] == NULL);
	free(e);
}
