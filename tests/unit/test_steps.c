/*
** test_steps.c: a job's recorded steps in the log (jlog_steps.c): who may
** record one, a record read back byte for byte, replay counts, the order
** they are listed in, and a log of schema version 11 migrated to hold them;
** the messages that steps wait for (schema version 13).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/jlog.h"
#include "port.h"
#include "sqlite3.h"
#include "test.h"

static struct jlog J;
static struct jlog_now NOW = { 1, 1000, -1 };

/* A job started as attempt N (after N - 1 failed ones); returns its id. */
static int64_t running_job(int64_t attempts)
{
	struct jlog_end e = { .reason = "exit", .exit_code = 1, .signal = -1 };
	bool existed;
	int64_t id = test_job_true(&J, &NOW, 0, NULL, 0, NULL, &existed);

	for (int64_t n = 1; n <= attempts; n++) {
		CHECK_INT(jlog_begin(&J), HF_OK);
		CHECK_INT(jlog_attempt_start(&J, id, n, 4242, 1, &NOW), HF_OK);
		if (n < attempts)
			CHECK_INT(jlog_attempt_end(&J, id, n, &e, &NOW, UINT32_MAX), HF_OK);
		CHECK_INT(jlog_commit(&J), HF_OK);
		NOW.mono_ms += 10;
	}
	return id;
}

static void record(int64_t job, const char *name, int64_t attempt, const void *out, size_t len)
{
	struct jlog_step s;

	memset(&s, 0, sizeof(s));
	s.job = job;
	s.name = name;
	s.attempt = attempt;
	s.argv_json = "[\"true\"]";
	s.exit_code = 0;
	s.signal = -1;
	s.output = out;
	s.output_len = len;
	s.boot = NOW.boot;
	s.start_mono_ms = NOW.mono_ms;
	s.end_mono_ms = NOW.mono_ms + 3;
	s.start_utc_ms = s.end_utc_ms = -1;
	NOW.mono_ms += 10;
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_steps_record(&J, &s), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
}

TEST(steps_only_the_running_attempt_records)
{
	char why[160];
	int64_t id;

	test_open_log(&J, &NOW);
	id = running_job(2);
	CHECK_INT(jlog_steps_owner(&J, id, 2, why, sizeof(why)), HF_OK);
	CHECK_INT(jlog_steps_owner(&J, id, 1, why, sizeof(why)), HF_EINVAL);
	CHECK(strstr(why, "running attempt 2, not 1") != NULL);
	CHECK_INT(jlog_steps_owner(&J, id + 1, 1, why, sizeof(why)), HF_ENOENT);
	CHECK(strstr(why, "no job") != NULL);
	/* Not running any more: refused, saying what it is. */
	struct jlog_end e = { .reason = "exit", .exit_code = 0, .signal = -1 };
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_attempt_end(&J, id, 2, &e, &NOW, UINT32_MAX), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	CHECK_INT(jlog_steps_owner(&J, id, 2, why, sizeof(why)), HF_EINVAL);
	CHECK(strstr(why, "is succeeded, not running") != NULL);
	jlog_close(&J);
}

/* jlog_steps_list's callback: "NAME:ATTEMPT:REPLAYED " of each, into ARG. */
static int list_cb(const struct jlog_step *st, void *arg)
{
	char *seen = arg;
	size_t used = strlen(seen);

	snprintf(seen + used, 128 - used, "%s:%lld:%lld ", st->name, (long long)st->attempt,
		 (long long)st->replayed);
	CHECK(strstr(st->json, "\"duration_ms\":3") != NULL);
	return 0;
}

TEST(steps_record_find_replay_list)
{
	static const char bin[] = { 'a', 0, 'b', '\n', (char)0xff };
	struct jlog_step s;
	char seen[128] = "";
	int64_t id;

	test_open_log(&J, &NOW);
	id = running_job(1);
	CHECK_INT(jlog_steps_find(&J, id, "fetch", &s), HF_ENOENT);
	record(id, "fetch", 1, bin, sizeof(bin));
	record(id, "empty", 1, NULL, 0);
	CHECK_INT(jlog_steps_find(&J, id, "fetch", &s), HF_OK);
	CHECK_INT(s.attempt, 1);
	CHECK_INT(s.exit_code, 0);
	CHECK_INT(s.signal, -1);
	CHECK_INT(s.output_len, sizeof(bin));
	CHECK(memcmp(s.output, bin, sizeof(bin)) == 0);
	CHECK_STR(s.argv_json, "[\"true\"]");
	CHECK_INT(s.replayed, 0);
	/* A name is recorded once: a second record of it is refused. */
	struct jlog_step again = s;
	again.name = "fetch";
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK(jlog_steps_record(&J, &again) != HF_OK);
	jlog_rollback(&J);
	for (int i = 0; i < 2; i++) {
		CHECK_INT(jlog_begin(&J), HF_OK);
		CHECK_INT(jlog_steps_replayed(&J, id, "fetch"), HF_OK);
		CHECK_INT(jlog_commit(&J), HF_OK);
	}
	CHECK_INT(jlog_steps_find(&J, id, "fetch", &s), HF_OK);
	CHECK_INT(s.replayed, 2);
	CHECK_INT(jlog_steps_find(&J, id, "empty", &s), HF_OK);
	CHECK_INT(s.output_len, 0);
	/* Listed in the order they ran, not by name. */
	struct jlog_end e = { .reason = "exit", .exit_code = 1, .signal = -1 };
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_attempt_end(&J, id, 1, &e, &NOW, UINT32_MAX), HF_OK);
	CHECK_INT(jlog_attempt_start(&J, id, 2, 4243, 1, &NOW), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	record(id, "a-last", 2, "x", 1);
	CHECK_INT(jlog_steps_list(&J, id, list_cb, seen), HF_OK);
	CHECK_STR(seen, "fetch:1:2 empty:1:0 a-last:2:0 ");
	jlog_close(&J);
}

TEST(steps_table_after_migration_from_v11)
{
	sqlite3_stmt *st;

	CHECK_INT(jlog_create_version("v11.db", NULL, 11), HF_OK);
	CHECK_INT(jlog_open(&J, "v11.db", NULL), HF_OK);
	CHECK_INT(sqlite3_prepare_v2(J.db, "SELECT count(*) FROM steps", -1, &st, NULL), SQLITE_OK);
	CHECK_INT(sqlite3_step(st), SQLITE_ROW);
	CHECK_INT(sqlite3_column_int(st, 0), 0);
	sqlite3_finalize(st);
	CHECK_INT(sqlite3_prepare_v2(J.db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	CHECK_INT(sqlite3_step(st), SQLITE_ROW);
	CHECK_INT(sqlite3_column_int(st, 0), JLOG_SCHEMA_VERSION);
	sqlite3_finalize(st);
	jlog_close(&J);
}

/* Messages (schema v13): kept until taken, taken oldest first per topic,
** each once, byte for byte; a message over the cap and a send past the
** pending bounds refused; a log of version 12 migrated to hold them. */
TEST(messages_kept_taken_once_in_order_bounded)
{
	static const char bin[] = { 'x', 0, (char)0xfe };
	int64_t id, first, second, n, bytes;
	size_t len;
	void *data;
	char *big;

	CHECK_INT(jlog_create_version("v12.db", NULL, 12), HF_OK);
	CHECK_INT(jlog_open(&J, "v12.db", NULL), HF_OK);
	CHECK_INT(jlog_msg_pending(&J, &n, &bytes), HF_OK);
	CHECK_INT(n, 0);
	CHECK_INT(jlog_msg_waiting(&J, "t"), HF_ENOENT);
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_msg_send(&J, "t", bin, sizeof(bin), &NOW, &first), HF_OK);
	CHECK_INT(jlog_msg_send(&J, "other", "o", 1, &NOW, &id), HF_OK);
	CHECK_INT(jlog_msg_send(&J, "t", NULL, 0, &NOW, &second), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	CHECK(second > first);
	CHECK_INT(jlog_msg_pending(&J, &n, &bytes), HF_OK);
	CHECK_INT(n, 3);
	CHECK_INT(bytes, sizeof(bin) + 1);
	CHECK_INT(jlog_msg_waiting(&J, "t"), HF_OK);
	/* Taken in a transaction that rolls back: still there. */
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_msg_take(&J, "t", &id, &data, &len), HF_OK);
	free(data);
	jlog_rollback(&J);
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_msg_take(&J, "t", &id, &data, &len), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	CHECK_INT(id, first);
	CHECK_INT(len, sizeof(bin));
	CHECK(memcmp(data, bin, sizeof(bin)) == 0);
	free(data);
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_msg_take(&J, "t", &id, &data, &len), HF_OK);
	CHECK_INT(id, second);
	CHECK_INT(len, 0);
	free(data);
	CHECK_INT(jlog_msg_take(&J, "t", &id, &data, &len), HF_ENOENT);
	CHECK_INT(jlog_commit(&J), HF_OK);
	CHECK_INT(jlog_msg_waiting(&J, "t"), HF_ENOENT);
	CHECK_INT(jlog_msg_waiting(&J, "other"), HF_OK);
	/* Over the cap, and past the pending bytes: refused, nothing kept. */
	CHECK((big = calloc(1, JLOG_MSG_DATA_MAX + 1)) != NULL);
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_msg_send(&J, "t", big, JLOG_MSG_DATA_MAX + 1, &NOW, &id), HF_ETOOBIG);
	for (int i = 0; i < JLOG_MSG_PENDING_BYTES / JLOG_MSG_DATA_MAX - 1; i++)
		CHECK_INT(jlog_msg_send(&J, "t", big, JLOG_MSG_DATA_MAX, &NOW, &id), HF_OK);
	/* 255 of 64KiB and "o": one more of 64KiB is past 16MiB. */
	CHECK_INT(jlog_msg_send(&J, "t", big, JLOG_MSG_DATA_MAX, &NOW, &id), HF_ETOOBIG);
	CHECK_INT(jlog_msg_send(&J, "t", big, JLOG_MSG_DATA_MAX - 1, &NOW, &id), HF_OK);
	jlog_rollback(&J);
	free(big);
	CHECK_INT(jlog_msg_pending(&J, &n, &bytes), HF_OK);
	CHECK_INT(n, 1);
	jlog_close(&J);
}

/* A durable sleep's rest: by the monotonic clock in one boot, the wall clock
** across a reboot when both ends trusted it, else the device clock (time
** powered off does not count: late, never early); never more than the
** sleep, never below 0. */
TEST(steps_sleep_left_by_the_rules)
{
	struct jlog_step_clock then = { 3, 10000, -1, 50000 }, now = then;
	const int64_t h = 3600000;

	now.mono_ms = 10000 + 1000;
	CHECK_INT(jlog_steps_sleep_left(&then, &now, h), h - 1000);
	now.mono_ms = 10000 + 2 * h;
	CHECK_INT(jlog_steps_sleep_left(&then, &now, h), 0);
	/* Another boot, no trusted wall clock: the device clock. Boot 4's base
	** is boot 3's base plus its known uptime (20 minutes after the sleep
	** began); 5 minutes into boot 4, 35 minutes are left. */
	now = (struct jlog_step_clock){ 4, 5 * 60000, -1, 50000 + 10000 + 20 * 60000 };
	CHECK_INT(jlog_steps_sleep_left(&then, &now, h), 35 * 60000);
	/* The same with the wall clock trusted both times: 2 hours passed. */
	then.utc_ms = 1700000000000;
	now.utc_ms = then.utc_ms + 2 * h;
	CHECK_INT(jlog_steps_sleep_left(&then, &now, h), 0);
	now.utc_ms = then.utc_ms + 600000;
	CHECK_INT(jlog_steps_sleep_left(&then, &now, h), h - 600000);
	/* A wall clock set back: never more than the sleep itself. */
	now.utc_ms = then.utc_ms - 5 * h;
	CHECK_INT(jlog_steps_sleep_left(&then, &now, h), h);
	/* Trusted at one end only: the device clock again. */
	now.utc_ms = -1;
	CHECK_INT(jlog_steps_sleep_left(&then, &now, h), 35 * 60000);
}

/* JOB's state, failures and pending request, as "STATE FAILURES REQ". */
static const char *job_row(int64_t job)
{
	static char buf[64];
	sqlite3_stmt *st;

	buf[0] = '\0';
	CHECK_INT(sqlite3_prepare_v2(J.db, "SELECT state || ' ' || failures || ' ' || cancel_req"
				     " FROM jobs WHERE id = ?1", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, job);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(buf, sizeof(buf), "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return buf;
}

/* Parking (schema v14, made from v13 by editing two CHECK constraints): a
** running attempt asks once; its end as parked spends no retry; the job is
** not runnable, counted as parked, and woken when due: its time, a later
** boot, or a message for its topic. The constraints still refuse the rest. */
TEST(parking_spends_no_retry_and_wakes_when_due)
{
	struct jlog_end e = { .reason = "parked", .exit_code = -1, .signal = 15 };
	struct jlog_counts k;
	int64_t a, b, id;
	uint64_t next;
	bool due, pending;
	int req;

	CHECK_INT(jlog_create_version("v13p.db", NULL, 13), HF_OK);
	CHECK_INT(jlog_open(&J, "v13p.db", NULL), HF_OK);
	a = running_job(1);
	b = running_job(1);
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_park(&J, a, 2, NULL, NOW.mono_ms + 500, &NOW, "r"), HF_ENOENT);
	CHECK_INT(jlog_park(&J, a, 1, NULL, NOW.mono_ms + 500, &NOW, "sleeps"), HF_OK);
	CHECK_INT(jlog_park(&J, b, 1, "t", UINT64_MAX, &NOW, "waits"), HF_OK);
	CHECK_INT(jlog_park(&J, b, 1, "t", UINT64_MAX, &NOW, "waits"), HF_ENOENT);
	CHECK_INT(jlog_commit(&J), HF_OK);
	CHECK_INT(jlog_cancel_requested(&J, a, &req), HF_OK);
	CHECK_INT(req, JLOG_REQ_PARK);
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_attempt_end(&J, a, 1, &e, &NOW, 0), HF_OK);
	CHECK_INT(jlog_attempt_end(&J, b, 1, &e, &NOW, 0), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	CHECK_STR(job_row(a), "parked 0 0");
	CHECK_STR(job_row(b), "parked 0 0");
	CHECK_INT(jlog_counts(&J, &k), HF_OK);
	CHECK_INT(k.parked, 2);
	CHECK_INT(k.running, 0);
	CHECK_INT(jlog_parked_due(&J, &NOW, &due), HF_OK);
	CHECK(!due);
	CHECK_INT(jlog_parked_next(&J, &NOW, &next), HF_OK);
	CHECK_INT(next, NOW.mono_ms + 500);
	CHECK_INT(jlog_has_pending(&J, &pending), HF_OK);
	CHECK(pending);
	/* Its time: a wakes, b waits on. */
	NOW.mono_ms += 500;
	CHECK_INT(jlog_parked_due(&J, &NOW, &due), HF_OK);
	CHECK(due);
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_parked_wake(&J, &NOW), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	CHECK_STR(job_row(a), "queued 0 0");
	CHECK_STR(job_row(b), "parked 0 0");
	CHECK_INT(jlog_parked_due(&J, &NOW, &due), HF_OK);
	CHECK(!due);
	CHECK_INT(jlog_parked_next(&J, &NOW, &next), HF_OK);
	CHECK(next == UINT64_MAX);
	/* A message for b's topic wakes it. */
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_msg_send(&J, "other", "x", 1, &NOW, &id), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	CHECK_INT(jlog_parked_due(&J, &NOW, &due), HF_OK);
	CHECK(!due);
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_msg_send(&J, "t", "x", 1, &NOW, &id), HF_OK);
	CHECK_INT(jlog_parked_wake(&J, &NOW), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	CHECK_STR(job_row(b), "queued 0 0");
	/* Parked far ahead, then the device boots again: due at once. */
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_attempt_start(&J, a, 2, 4242, 1, &NOW), HF_OK);
	CHECK_INT(jlog_park(&J, a, 2, NULL, NOW.mono_ms + 86400000, &NOW, "sleeps"), HF_OK);
	CHECK_INT(jlog_attempt_end(&J, a, 2, &e, &NOW, 0), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	CHECK_INT(jlog_parked_due(&J, &NOW, &due), HF_OK);
	CHECK(!due);
	NOW.boot++;
	CHECK_INT(jlog_parked_due(&J, &NOW, &due), HF_OK);
	CHECK(due);
	NOW.boot--;
	/* A park request the attempt did not live to honour is dropped with it. */
	e.reason = "power-loss";
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_attempt_start(&J, b, 2, 4242, 1, &NOW), HF_OK);
	CHECK_INT(jlog_park(&J, b, 2, NULL, NOW.mono_ms + 1000, &NOW, "sleeps"), HF_OK);
	CHECK_INT(jlog_attempt_end(&J, b, 2, &e, &NOW, 0), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	CHECK_STR(job_row(b), "queued 0 0");
	/* Cancelled by the user while it parks: cancelled, its topic gone. */
	bool later;
	e.reason = "parked";
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_attempt_start(&J, b, 3, 4242, 1, &NOW), HF_OK);
	CHECK_INT(jlog_park(&J, b, 3, "t", UINT64_MAX, &NOW, "waits"), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	CHECK_INT(jlog_job_cancel(&J, b, &NOW, &later), HF_OK);
	CHECK(later);
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(jlog_attempt_end(&J, b, 3, &e, &NOW, 0), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	CHECK_STR(job_row(b), "cancelled 0 0");
	{
		sqlite3_stmt *st;
		CHECK_INT(sqlite3_prepare_v2(J.db, "SELECT count(*) FROM parks WHERE job = ?1", -1,
					     &st, NULL), SQLITE_OK);
		sqlite3_bind_int64(st, 1, b);
		CHECK_INT(sqlite3_step(st), SQLITE_ROW);
		CHECK_INT(sqlite3_column_int(st, 0), 0);
		sqlite3_finalize(st);
	}
	/* The edited constraints: 'parked' in, anything else still out. */
	CHECK_INT(sqlite3_exec(J.db, "UPDATE jobs SET state = 'napping' WHERE id = 1", NULL, NULL,
			       NULL), SQLITE_CONSTRAINT_CHECK);
	CHECK_INT(sqlite3_exec(J.db, "UPDATE attempts SET end_reason = 'napping' WHERE job = 1",
			       NULL, NULL, NULL), SQLITE_CONSTRAINT_CHECK);
	jlog_close(&J);
}
