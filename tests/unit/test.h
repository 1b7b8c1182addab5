/*
** test.h: a small unit-test harness that runs the same on the host and under
** qemu-user. Each test runs in its own forked process with its own empty
** temporary directory as the working directory, so a crash or a leaked file
** descriptor fails one test, not the run. The runner prints "ok - NAME" or
** "FAIL - NAME: where: what" per test and ends with "N passed, N failed".
*/
#ifndef HF_TEST_H
#define HF_TEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

void test_register(const char *name, void (*fn)(void));
void test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define TEST(name)                                                            \
	static void name(void);                                               \
	__attribute__((constructor)) static void reg_##name(void)             \
	{                                                                     \
		test_register(#name, name);                                   \
	}                                                                     \
	static void name(void)

/* A failed check ends the test (it runs in its own process). */
#define CHECK(cond)                                                           \
	do {                                                                  \
		if (!(cond))                                                  \
			test_fail(__FILE__, __LINE__, "%s", #cond);           \
	} while (0)

#define CHECK_INT(a, b)                                                       \
	do {                                                                  \
		long long a_ = (long long)(a), b_ = (long long)(b);           \
		if (a_ != b_)                                                 \
			test_fail(__FILE__, __LINE__, "%s == %lld, want %s == %lld", \
				  #a, a_, #b, b_);                            \
	} while (0)

#define CHECK_STR(a, b)                                                       \
	do {                                                                  \
		const char *a_ = (a), *b_ = (b);                              \
		if (!a_ || !b_ || strcmp(a_, b_) != 0)                        \
			test_fail(__FILE__, __LINE__, "%s is \"%s\", want \"%s\"", \
				  #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
	} while (0)

/* ---- helpers (helpers.c) ---- */

/* The first column of SQL's first row on DB: -1 if NULL, -12345 (and a "#"
** line saying why) if it does not prepare. */
struct sqlite3;
long long test_q_int(struct sqlite3 *db, const char *sql);

/* Creates the job log t.db in the test's directory, opens it as J and
** records its first boot ("boot-a"); NOW is that boot at mono 1000 ms with
** an untrusted wall clock. */
struct jlog;
struct jlog_now;
void test_open_log(struct jlog *j, struct jlog_now *now);

/* In J's open transaction: adds a job "true" (in pipeline run RUN if > 0,
** after AFTER[NAFTER], with idempotency KEY if not NULL; EXISTED, if not
** NULL, says whether KEY named a job already) and returns its id. */
int64_t test_job_true(struct jlog *j, const struct jlog_now *now, int64_t run,
		      const int64_t *after, int nafter, const char *key, bool *existed);
/* In J's open transaction: attempt 1 of JOB exits with CODE (with no
** retries, 0 succeeds, else the job is dead) after OUT_BYTES of output ('x',
** in chunks of 1000). */
void test_job_finish(struct jlog *j, const struct jlog_now *now, int64_t job, int code,
		     int out_bytes);

/* Log lines captured from port_log since the test started (or the last
** test_log_clear), joined by newlines. */
const char *test_log(void);
void test_log_clear(void);
bool test_log_has(const char *needle);

/* Writes a whole file (test setup; aborts the test on failure). */
void test_write_file(const char *path, const char *text);
/* Reads a whole file into a static buffer (NULL if missing). */
const char *test_read_file(const char *path);
/* A listing of DIR and everything below it: "path mode size sha\n"... so a
** test can show that nothing changed. Returns a heap string. */
char *test_tree_digest(const char *dir);

/* A disk of ROOM free bytes under SQLite (pwrite and ftruncate of the unix
** VFS): a write that grows a file takes room, a truncation gives it back,
** a write that does not fit fails with ERR (ENOSPC: a full disk; EIO).
** ROOM < 0: no limit. test_sqlite_room: what is left. */
void test_sqlite_writes(long long room, int err);
long long test_sqlite_room(void);

/* ---- syscall fault injection on port_sys (fault.c) ---- */

enum fault_call {
	FAULT_OPEN, FAULT_CLOSE, FAULT_READ, FAULT_WRITE, FAULT_FSYNC,
	FAULT_RENAME, FAULT_UNLINK, FAULT_MKDIR, FAULT_RMDIR, FAULT_RENAME_NOREPLACE,
	FAULT_LINK, FAULT_PWRITE, FAULT_FTRUNCATE, FAULT_NCALLS
};

/* From now on, the NTH call (1-based) of CALL fails with ERR; with
** PERSISTENT, every later call fails too. FAULT_NCALLS as CALL counts
** every call of every kind. */
void fault_arm(enum fault_call call, int nth, int err, bool persistent);
/* Restores the real syscalls; returns how many faults fired. */
int fault_disarm(void);
/* The kind of call the last fault fired on (FAULT_NCALLS if none). */
enum fault_call fault_last(void);
/* Calls seen since the last arm (of CALL, or all for FAULT_NCALLS). */
int fault_calls(enum fault_call call);

#endif /* HF_TEST_H */
