/*
** jlog.c: opening, configuring and verifying the job log database.
**
** Why each setting (see jlog.h for the contract):
**   - WAL: readers (the CLI) never block the writer (the daemon), and the WAL
**     is what we ship to the replica, frame by frame.
**   - synchronous=FULL: in WAL mode, NORMAL syncs only at checkpoints, so a
**     power cut can lose the last commits; an acknowledged job must survive.
**     The build also refuses SQLITE_NO_SYNC, and we check it at run time.
**   - wal_autocheckpoint=0 and SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE: a checkpoint
**     we did not plan could move unshipped frames into the database file and
**     restart the WAL, losing history for the replica.
** Settings are read back after being set: SQLite answers a PRAGMA it cannot
** honour with the old value, not with an error.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt/sched.h"
#include "log/jlog.h"
#include "port.h"
#include "sqlite3.h"

/* AddressSanitizer: gcc says __SANITIZE_ADDRESS__, clang before 16 only
** __has_feature. */
#if defined(__SANITIZE_ADDRESS__)
#define HF_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HF_ASAN 1
#endif
#endif
#ifndef HF_ASAN
#define HF_ASAN 0
#endif

/* How long a CLI verb waits for the daemon's write transaction. */
#define JLOG_BUSY_TIMEOUT_MS 5000

/*
** SQLite's codes to ours. SQLITE_FULL is a full disk (ENOSPC, a short write,
** and EDQUOT, which the port's VFS turns into SQLITE_FULL for WAL writes): the
** transaction was rolled back and nothing written before was lost, so the
** caller may wait for room and try again. Every SQLITE_IOERR, a failed or
** refused fsync among them (even one that says ENOSPC: after a failed fsync
** the kernel may have dropped the pages), is HF_EIO, which nothing builds on.
*/
static int map_sqlite(int src)
{
	switch (src & 0xff) {
	case SQLITE_OK: return HF_OK;
	case SQLITE_NOMEM: return HF_ENOMEM;
	case SQLITE_IOERR: return HF_EIO;
	case SQLITE_FULL: return HF_ENOSPC;
	case SQLITE_READONLY: case SQLITE_PERM: case SQLITE_AUTH: return HF_EACCES;
	case SQLITE_CORRUPT: case SQLITE_NOTADB: return HF_ECORRUPT;
	case SQLITE_BUSY: case SQLITE_LOCKED: return HF_EBUSY;
	case SQLITE_CANTOPEN: return HF_EACCES;
	case SQLITE_TOOBIG: return HF_ETOOBIG;
	case SQLITE_MISUSE: return HF_EBUG;
	}
	return HF_ESYS;
}

/* Logs SQLite's own message for a failed step on DB and maps the code. */
static int sqlite_err(struct sqlite3 *db, const char *what, int src)
{
	port_log("job log: %s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(src));
	return map_sqlite(src);
}

/* Runs a statement that returns at most one row; copies its first column as
** text into OUT[OUTLEN] (empty if no row). */
static int query_text(struct sqlite3 *db, const char *sql, char *out, size_t outlen)
{
	sqlite3_stmt *st = NULL;
	int src, rc = HF_EBUG;

	src = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (src != SQLITE_OK)
		return sqlite_err(db, sql, src);
	out[0] = '\0';
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		snprintf(out, outlen, "%s", t ? (const char *)t : "");
		src = sqlite3_step(st);
	}
	rc = src == SQLITE_DONE ? HF_OK : sqlite_err(db, sql, src);
	sqlite3_finalize(st);
	return rc;
}

static int exec(struct sqlite3 *db, const char *sql)
{
	int src = sqlite3_exec(db, sql, NULL, NULL, NULL);

	return src == SQLITE_OK ? HF_OK : sqlite_err(db, sql, src);
}

/* Expects PRAGMA NAME to read back as WANT; logs and fails otherwise. */
static int expect_pragma(struct sqlite3 *db, const char *name, const char *want,
			 const char *why)
{
	char sql[64], got[64];
	int rc;

	snprintf(sql, sizeof(sql), "PRAGMA %s", name);
	if ((rc = query_text(db, sql, got, sizeof(got))) != HF_OK)
		return rc;
	if (strcmp(got, want) != 0) {
		port_log("job log: PRAGMA %s is '%s', need '%s' (%s)", name, got, want, why);
		return HF_ENOTSUP;
	}
	return HF_OK;
}

/*
** SQLite's memory: a heap of its own (memsys5, SQLITE_CONFIG_HEAP) in a
** region that the daemon's children do not inherit (port_mem_unshared),
** reserved once and backed only as used. Two costs of musl's allocator under
** SQLite go with it, both paid per job by the daemon (perf and strace -c of
** tests/soak's daemon, 2 cores, load 16):
**   - copy on write: a job's process is forked gated and waits for the
**     commit of its start (runner.c), sharing every page of the daemon's
**     meanwhile, and that commit writes SQLite's page cache and its
**     allocator's metadata: 36% of the daemon's CPU time went to those page
**     faults and their TLB flushes;
**   - munmap churn: mallocng gives a group back to the kernel as soon as
**     its last block is freed, and SQLite frees and allocates blocks of the
**     same sizes all the time: 12 munmap a job in the daemon, 46 in a
**     `holdfast status`, 990 in a `pipeline run` of 50 jobs, each one a TLB
**     flush too (10% of the daemon's time).
** With both gone the daemon took 2.6 ms of CPU a job instead of 9.2, and
** the soak ran 2.4x the jobs a second (tests/soak's workload, same run).
** A buddy allocator rounds each block up to a power of two, so the region is
** large (virtual, nothing of it resident until used); SQLite still gets all
** the memory it would have had on any device holdfast runs on. If the region
** cannot be had (no overcommit), SQLite uses malloc as before. Not under the
** sanitizers, which must see SQLite's allocations.
*/
#if UINTPTR_MAX > 0xffffffffu
#define JLOG_HEAP_BYTES (1024u << 20)
#else
#define JLOG_HEAP_BYTES (256u << 20)
#endif
#define JLOG_HEAP_MIN 32          /* memsys5's smallest block */

static void heap_init(void)
{
	static bool done;
	void *p;

	if (done)
		return;
	done = true;
#if HF_ASAN
	(void)p;
#else
	/* Only before SQLite initializes (sqlite3_config says MISUSE after). */
	if (port_mem_unshared(JLOG_HEAP_BYTES, &p) == HF_OK &&
	    sqlite3_config(SQLITE_CONFIG_HEAP, p, (int)JLOG_HEAP_BYTES, JLOG_HEAP_MIN) != SQLITE_OK)
		port_log("job log: SQLite's own heap could not be set up; using malloc");
#endif
}

static int open_db(const char *path, const char *vfs, int flags, struct sqlite3 **out)
{
	struct sqlite3 *db = NULL;
	int src;

	heap_init();

	/* Refuse at run time too: a library built with SQLITE_NO_SYNC would turn
	** every fsync into a no-op, and nothing else would notice. */
	if (sqlite3_compileoption_used("NO_SYNC")) {
		port_log("job log: SQLite was built with SQLITE_NO_SYNC; refusing to run");
		return HF_ENOTSUP;
	}
	src = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOFOLLOW, vfs ? vfs : port_db_vfs());
	if (src != SQLITE_OK) {
		int rc = map_sqlite(src);
		port_log("job log: cannot open %s: %s", path,
			 db ? sqlite3_errmsg(db) : sqlite3_errstr(src));
		sqlite3_close(db);
		return rc;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, JLOG_BUSY_TIMEOUT_MS);
	*out = db;
	return HF_OK;
}

/* The per-connection settings, set and then verified. */
static int configure(struct sqlite3 *db)
{
	char sql[48];
	int rc;

	snprintf(sql, sizeof(sql), "PRAGMA synchronous=%s", port_db_synchronous());
	if ((rc = exec(db, sql)) ||
	    (rc = exec(db, "PRAGMA wal_autocheckpoint=0")) ||
	    /* After the WAL restarts (a complete checkpoint), the first commit
	    ** cuts the file back: the WAL's disk use stays near wal_max. */
	    (rc = exec(db, "PRAGMA journal_size_limit=0")) ||
	    (rc = exec(db, "PRAGMA foreign_keys=ON")))
		return rc;
	return HF_OK;
}

static int verify_db(struct sqlite3 *db)
{
	const char *sync = strcmp(port_db_synchronous(), "FULL") == 0 ? "2" : "1";
	char id[32];
	int rc;

	/* Identity first: for someone else's database the other answers do not
	** matter, and "not a holdfast job log" is the useful message. */
	snprintf(id, sizeof(id), "%d", JLOG_APPLICATION_ID);
	if ((rc = expect_pragma(db, "application_id", id, "not a holdfast job log")) != HF_OK)
		return rc == HF_ENOTSUP ? HF_ECORRUPT : rc;
	if ((rc = expect_pragma(db, "journal_mode", "wal",
				"readers must not block the daemon, and the WAL is what is shipped")) ||
	    (rc = expect_pragma(db, "synchronous", sync,
				"FULL: a commit must reach the device before it is acknowledged")) ||
	    (rc = expect_pragma(db, "wal_autocheckpoint", "0",
				"only the daemon checkpoints, after shipping")))
		return rc;
	return HF_OK;
}

int jlog_verify(struct jlog *j)
{
	return verify_db(j->db);
}

/* Version 3: the scheduler's indexes, so that picking the next jobs costs the
** same with 20 jobs queued and with a million (issue 14). SQLite 3.46 chose
** jobs_state for the runnable query and sorted every queued row for its
** ORDER BY; with a deep queue that took seconds under the write lock. Each
** index below serves one query exactly, and the queries name it (INDEXED BY),
** so a planner change cannot quietly bring the sort back:
**   jobs_free   ungrouped runnable jobs in scheduling order
**   jobs_grp    grouped runnable jobs, per group in scheduling order (also
**               how the distinct groups are stepped through, one seek each)
**   jobs_wake   runnable jobs by the time they become ready (the timer) */
static const char schema_v3[] =
	"DROP INDEX jobs_runnable;"
	"CREATE INDEX jobs_free ON jobs(priority DESC, id)"
	"  WHERE state IN ('queued','failed') AND waiting = 0 AND grp IS NULL;"
	"CREATE INDEX jobs_grp ON jobs(grp, priority DESC, id)"
	"  WHERE state IN ('queued','failed') AND waiting = 0 AND grp IS NOT NULL;"
	"CREATE INDEX jobs_wake ON jobs(ready_boot, ready_mono_ms)"
	"  WHERE state IN ('queued','failed') AND waiting = 0;";

/* Schema version 4: who a job runs as and its rlimits, when the job says
** (NULL: the config's [jobs] user and limit_*; -1: unlimited). Older rows
** get NULL, the behaviour they were submitted under. */
static const char schema_v4[] =
	"ALTER TABLE jobs ADD COLUMN user TEXT;"
	"ALTER TABLE jobs ADD COLUMN limit_nofile INTEGER;"
	"ALTER TABLE jobs ADD COLUMN limit_as INTEGER;"
	"ALTER TABLE jobs ADD COLUMN limit_core INTEGER;";

/* Version 8: counts of jobs by state, kept by triggers in the transaction
** that changes them, so that `status` and the metrics read seven rows instead of
** counting every job the log keeps (with a million finished jobs the count
** read the whole jobs_state index: 20x an empty log's status, issue 16).
** The seed below counts once, in the migration. The cost: one more page
** (this table's) in a commit that inserts a job or changes its state. */
static const char schema_counts[] =
	"CREATE TABLE job_counts("
	"  state TEXT PRIMARY KEY,"
	"  n INTEGER NOT NULL"
	") STRICT, WITHOUT ROWID;"
	"INSERT INTO job_counts(state, n) SELECT s.value,"
	"  (SELECT count(*) FROM jobs WHERE state = s.value)"
	"  FROM json_each('[\"queued\",\"running\",\"succeeded\",\"failed\",\"dead\","
	"  \"cancelled\",\"quarantined\"]') s;"
	"CREATE TRIGGER job_counts_insert AFTER INSERT ON jobs BEGIN"
	"  UPDATE job_counts SET n = n + 1 WHERE state = NEW.state;"
	" END;"
	"CREATE TRIGGER job_counts_delete AFTER DELETE ON jobs BEGIN"
	"  UPDATE job_counts SET n = n - 1 WHERE state = OLD.state;"
	" END;"
	"CREATE TRIGGER job_counts_update AFTER UPDATE OF state ON jobs"
	"  WHEN OLD.state IS NOT NEW.state BEGIN"
	"  UPDATE job_counts SET n = n - 1 WHERE state = OLD.state;"
	"  UPDATE job_counts SET n = n + 1 WHERE state = NEW.state;"
	" END;"
	/* What an attempt cut by a power loss shows (jlog_attempts_list): the
	** latest start and end its daemon recorded in that boot, one seek each
	** instead of a scan of every attempt (show of such a job took 8x an
	** empty log's at a million jobs). attempts_boot is written when an
	** attempt starts (boot and start never change); attempts_end, partial,
	** only when one ends: an end is recorded in the boot the attempt ran in
	** (a cut in another boot leaves it NULL), so the rows are appended at
	** its right edge, one page more per commit each. */
	"CREATE INDEX attempts_boot ON attempts(boot, start_mono_ms);"
	"CREATE INDEX attempts_end ON attempts(end_boot, end_mono_ms) WHERE end_boot IS NOT NULL;";

/* Version 9 (flash wear, issue 16): jobs_wake holds only the jobs that wait
** for a time after their submit (submit --not-before, a retry's backoff, a
** revived job; a ready time in another boot is a time too). A job ready when
** it is submitted, nearly all of them, is the daemon's news through the
** submit's wake-up, and was never a timer's: its ready time is in the past
** for every tick that can read it. Its entry cost two WAL frames a job (made
** by the submit, removed by the start) for nothing. */
#define DELAYED "(ready_boot != submit_boot OR ready_mono_ms > submit_mono_ms)"
static const char schema_v9[] =
	"DROP INDEX jobs_wake;"
	"CREATE INDEX jobs_wake ON jobs(ready_boot, ready_mono_ms)"
	"  WHERE state IN ('queued','failed') AND waiting = 0 AND " DELAYED ";";

/* Version 10 (flash wear, issue 16): three pages fewer in the commits that
** start and end a job, about a WAL frame each a job.
**  - The counts by state move from job_counts into the history row, which
**    a job's end writes anyway (finished, fin_seq). The same triggers, the
**    same sums.
**  - attempts_boot and attempts_end go: each was one page more in every
**    commit that started or ended an attempt, only for `show` of an attempt
**    cut by a power loss (how long its daemon was last known alive after it
**    started). The history row now holds the latest start or end a daemon
**    recorded (act_boot, act_mono_ms), and the recovery that finds the cut
**    attempt, the first daemon start after it, copies that bound into the
**    attempt (alive_mono_ms): nothing else has recorded a start or end
**    since. The recovery's own ends (power-loss, daemon-crash) do not move
**    it. Attempts cut before this version get theirs from the old indexes,
**    once, here. */
#define COUNT_COL(s) "n_" s " INTEGER NOT NULL DEFAULT 0"
#define COUNT_ADD(s, row, op) "n_" s " = n_" s " " op " (" row ".state = '" s "')"
#define COUNT_MOVE(s, x) "n_" s " = n_" s " - (OLD.state = '" s "') + (NEW.state = '" s "')"
#define COUNTS_EACH(F, ...) F("queued", __VA_ARGS__) "," F("running", __VA_ARGS__) "," \
	F("succeeded", __VA_ARGS__) "," F("failed", __VA_ARGS__) "," F("dead", __VA_ARGS__) "," \
	F("cancelled", __VA_ARGS__) "," F("quarantined", __VA_ARGS__)
#define COUNT_SEED(s, x) "n_" s " = coalesce((SELECT n FROM job_counts WHERE state = '" s "'), 0)"
#define RECOVERY_ENDS "('power-loss','daemon-crash')"
static const char schema_v10[] =
	"ALTER TABLE history ADD COLUMN " COUNT_COL("queued") ";"
	"ALTER TABLE history ADD COLUMN " COUNT_COL("running") ";"
	"ALTER TABLE history ADD COLUMN " COUNT_COL("succeeded") ";"
	"ALTER TABLE history ADD COLUMN " COUNT_COL("failed") ";"
	"ALTER TABLE history ADD COLUMN " COUNT_COL("dead") ";"
	"ALTER TABLE history ADD COLUMN " COUNT_COL("cancelled") ";"
	"ALTER TABLE history ADD COLUMN " COUNT_COL("quarantined") ";"
	"UPDATE history SET " COUNTS_EACH(COUNT_SEED, 0) ";"
	"DROP TRIGGER job_counts_insert;"
	"DROP TRIGGER job_counts_delete;"
	"DROP TRIGGER job_counts_update;"
	"DROP TABLE job_counts;"
	"CREATE TRIGGER counts_insert AFTER INSERT ON jobs BEGIN"
	"  UPDATE history SET " COUNTS_EACH(COUNT_ADD, "NEW", "+") ";"
	" END;"
	"CREATE TRIGGER counts_delete AFTER DELETE ON jobs BEGIN"
	"  UPDATE history SET " COUNTS_EACH(COUNT_ADD, "OLD", "-") ";"
	" END;"
	"CREATE TRIGGER counts_update AFTER UPDATE OF state ON jobs"
	"  WHEN OLD.state IS NOT NEW.state BEGIN"
	"  UPDATE history SET " COUNTS_EACH(COUNT_MOVE, 0) ";"
	" END;"

	"ALTER TABLE history ADD COLUMN act_boot INTEGER;"
	"ALTER TABLE history ADD COLUMN act_mono_ms INTEGER;"
	"ALTER TABLE attempts ADD COLUMN alive_mono_ms INTEGER;"
	"UPDATE attempts SET alive_mono_ms = (SELECT max("
	"  coalesce((SELECT max(x.start_mono_ms) FROM attempts x INDEXED BY attempts_boot"
	"   WHERE x.boot = attempts.boot AND x.start_mono_ms <"
	"   iif(d.boot > attempts.boot, 9223372036854775807, d.start_mono_ms)), 0),"
	"  coalesce((SELECT max(x.end_mono_ms) FROM attempts x INDEXED BY attempts_end"
	"   WHERE x.end_boot = attempts.boot AND x.end_mono_ms <"
	"   iif(d.boot > attempts.boot, 9223372036854775807, d.start_mono_ms)), 0))"
	"  FROM daemon_runs d WHERE d.id = (SELECT id FROM daemon_runs WHERE boot > attempts.boot"
	"   OR (boot = attempts.boot AND start_mono_ms > attempts.start_mono_ms) ORDER BY id LIMIT 1))"
	" WHERE end_reason IS NOT NULL AND end_mono_ms IS NULL;"
	"UPDATE history SET (act_boot, act_mono_ms) = (SELECT b, ms FROM ("
	"  SELECT boot AS b, start_mono_ms AS ms FROM attempts"
	"  UNION ALL SELECT end_boot, end_mono_ms FROM attempts"
	"   WHERE end_mono_ms IS NOT NULL AND end_reason NOT IN " RECOVERY_ENDS ")"
	"  ORDER BY b DESC, ms DESC LIMIT 1);"
	"DROP INDEX attempts_boot;"
	"DROP INDEX attempts_end;"
	"CREATE TRIGGER attempts_act_start AFTER INSERT ON attempts BEGIN"
	"  UPDATE history SET act_boot = NEW.boot, act_mono_ms = iif(act_boot IS NEW.boot,"
	"   max(act_mono_ms, NEW.start_mono_ms), NEW.start_mono_ms);"
	" END;"
	"CREATE TRIGGER attempts_act_end AFTER UPDATE OF end_mono_ms ON attempts"
	"  WHEN NEW.end_mono_ms IS NOT NULL AND NEW.end_reason NOT IN " RECOVERY_ENDS " BEGIN"
	"  UPDATE history SET act_boot = NEW.end_boot, act_mono_ms = iif(act_boot IS NEW.end_boot,"
	"   max(act_mono_ms, NEW.end_mono_ms), NEW.end_mono_ms);"
	" END;";

/* Version 11 (flash wear, issue 16): attempts_open goes. Its entry, made by
** the commit that starts an attempt and removed by the one that ends it,
** was a page more in each (1.1 WAL frames a job), read only by the recovery
** at a daemon's start. An attempt is open exactly while its job is running
** (both change in one transaction: jlog_attempt_start, jlog_attempt_end),
** so the recovery finds them through jobs_state instead. */
static const char schema_v11[] = "DROP INDEX attempts_open;";

static int migrate(struct jlog *j, long target);
static void say_newer(long version);
static void leave_turnstile(struct jlog *j);
static const char schema_export[];

int jlog_create(const char *path, const char *vfs)
{
	return jlog_create_version(path, vfs, JLOG_SCHEMA_VERSION);
}

int jlog_create_version(const char *path, const char *vfs, int version)
{
	struct sqlite3 *db = NULL;
	struct jlog j;
	enum port_fs_kind kind;
	char sql[64], page[32];
	int rc = HF_EBUG;

	/* SQLite has no O_EXCL: make sure we do not adopt someone's file. */
	if ((rc = port_fs_kind(path, &kind)) != HF_OK)
		return rc;
	if (kind != PORT_FS_NONE) {
		port_log("job log: %s already exists", path);
		return HF_EEXIST;
	}
	rc = open_db(path, vfs, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &db);
	if (rc)
		return rc;
	/* This one connection may checkpoint on close: a new database has no
	** history to ship, and closing it leaves a single self-contained file,
	** schema included, that can be moved into place: a power cut leaves no
	** job log or a whole one. */
	snprintf(sql, sizeof(sql), "PRAGMA application_id=%d", JLOG_APPLICATION_ID);
	if (version < 1 || version > JLOG_SCHEMA_VERSION) {
		rc = HF_EINVAL;
		goto out_close;
	}
	/* Both before the first table, or they take a VACUUM (see to_incremental). */
	snprintf(page, sizeof(page), "PRAGMA page_size=%d", JLOG_PAGE_SIZE);
	if ((rc = exec(db, page)))
		goto out_close;
	if (version >= 5 && (rc = exec(db, "PRAGMA auto_vacuum=INCREMENTAL")))
		goto out_close;
	if ((rc = exec(db, "PRAGMA journal_mode=WAL")) ||
	    (rc = configure(db)) ||
	    (rc = exec(db, sql)) ||
	    (rc = verify_db(db)))
		goto out_close;
	memset(&j, 0, sizeof(j));
	j.db = db;
	if ((rc = migrate(&j, version)) != HF_OK)
		goto out_close;
	if (sqlite3_close(db) != SQLITE_OK) {
		rc = sqlite_err(db, "close", SQLITE_BUSY);
		goto out_close;
	}
	return HF_OK;

out_close:
	sqlite3_close(db);
	return rc;
}

/*
** Schema version 1. STRICT tables, so a type confusion is an error and not a
** silently stored string. Times are (boot, monotonic ms) pairs, with wall
** time beside them only when it was trusted (NULL otherwise).
**   boots      one row per kernel boot seen; id is the boot counter
**   jobs       one row per job; state machine in runner.c. "waiting" counts
**              dependencies not yet succeeded, so the scheduler's query is an
**              index range scan, never a walk over history
**   deps       job waits for dep
**   attempts   one row per attempt, written before the process runs
**   output     captured stdout/stderr in chunks, per attempt
**   pipelines, pipeline_runs: named DAG templates and their instances
*/
static const char schema_v1[] =
	"CREATE TABLE boots("
	"  id INTEGER PRIMARY KEY,"
	"  kernel_boot_id TEXT NOT NULL UNIQUE,"
	"  first_utc_ms INTEGER"
	") STRICT;"
	"CREATE TABLE pipelines("
	"  name TEXT PRIMARY KEY,"
	"  spec TEXT NOT NULL,"
	"  added_utc_ms INTEGER,"
	"  sched_kind TEXT CHECK(sched_kind IN ('every','cron')),"
	"  sched TEXT,"
	"  every_ms INTEGER,"
	"  last_boot INTEGER, last_mono_ms INTEGER, last_utc_ms INTEGER"
	") STRICT;"
	"CREATE TABLE pipeline_runs("
	"  id INTEGER PRIMARY KEY,"
	"  pipeline TEXT NOT NULL REFERENCES pipelines(name),"
	"  params TEXT NOT NULL,"
	"  trigger TEXT NOT NULL CHECK(trigger IN ('manual','schedule')),"
	"  boot INTEGER NOT NULL, mono_ms INTEGER NOT NULL, utc_ms INTEGER"
	") STRICT;"
	"CREATE TABLE jobs("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT,"
	"  run INTEGER REFERENCES pipeline_runs(id),"
	"  argv TEXT NOT NULL,"
	"  env TEXT NOT NULL,"
	"  cwd TEXT,"
	"  grp TEXT,"
	"  priority INTEGER NOT NULL,"
	"  retries INTEGER NOT NULL CHECK(retries >= 0),"
	"  backoff_min_ms INTEGER NOT NULL,"
	"  backoff_max_ms INTEGER NOT NULL,"
	"  timeout_ms INTEGER NOT NULL,"
	"  idem_key TEXT UNIQUE,"
	"  state TEXT NOT NULL CHECK(state IN ('queued','running','succeeded','failed',"
	"    'dead','cancelled','quarantined')),"
	"  reason TEXT,"
	"  cancel_req INTEGER NOT NULL DEFAULT 0,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  failures INTEGER NOT NULL DEFAULT 0,"
	"  unclean INTEGER NOT NULL DEFAULT 0,"
	"  waiting INTEGER NOT NULL DEFAULT 0,"
	"  ready_boot INTEGER NOT NULL, ready_mono_ms INTEGER NOT NULL,"
	"  submit_boot INTEGER NOT NULL, submit_mono_ms INTEGER NOT NULL, submit_utc_ms INTEGER,"
	"  end_boot INTEGER, end_mono_ms INTEGER, end_utc_ms INTEGER"
	") STRICT;"
	"CREATE INDEX jobs_runnable ON jobs(priority DESC, id)"
	"  WHERE state IN ('queued','failed') AND waiting = 0;"
	"CREATE INDEX jobs_state ON jobs(state, id);"
	"CREATE INDEX jobs_name ON jobs(name, id) WHERE name IS NOT NULL;"
	"CREATE INDEX jobs_run ON jobs(run) WHERE run IS NOT NULL;"
	"CREATE TABLE deps("
	"  job INTEGER NOT NULL REFERENCES jobs(id),"
	"  dep INTEGER NOT NULL REFERENCES jobs(id),"
	"  PRIMARY KEY(job, dep)"
	") STRICT, WITHOUT ROWID;"
	"CREATE INDEX deps_by_dep ON deps(dep, job);"
	"CREATE TABLE attempts("
	"  job INTEGER NOT NULL REFERENCES jobs(id),"
	"  n INTEGER NOT NULL,"
	"  boot INTEGER NOT NULL,"
	"  pid INTEGER NOT NULL,"
	"  proc_start INTEGER NOT NULL,"
	"  start_mono_ms INTEGER NOT NULL, start_utc_ms INTEGER,"
	"  end_boot INTEGER, end_mono_ms INTEGER, end_utc_ms INTEGER,"
	"  end_reason TEXT CHECK(end_reason IN ('exit','signal','timeout','power-loss',"
	"    'daemon-crash','cancelled','shutdown','spawn-error')),"
	"  exit_code INTEGER, signal INTEGER,"
	"  out_bytes INTEGER NOT NULL DEFAULT 0,"
	"  out_truncated INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY(job, n)"
	") STRICT;"
	"CREATE INDEX attempts_open ON attempts(job) WHERE end_reason IS NULL;"
	"CREATE TABLE output("
	"  job INTEGER NOT NULL, n INTEGER NOT NULL, seq INTEGER NOT NULL,"
	"  stream INTEGER NOT NULL CHECK(stream IN (1, 2)),"
	"  data BLOB NOT NULL,"
	"  PRIMARY KEY(job, n, seq)"
	") STRICT, WITHOUT ROWID;";

/* Version 2: one row per daemon run, so a start can tell whether the last
** run stopped cleanly (an unclean stop means a power cut or a crash). */
static const char schema_v2[] =
	"CREATE TABLE daemon_runs("
	"  id INTEGER PRIMARY KEY,"
	"  boot INTEGER NOT NULL,"
	"  pid INTEGER NOT NULL,"
	"  start_mono_ms INTEGER NOT NULL, start_utc_ms INTEGER,"
	"  end_mono_ms INTEGER, end_utc_ms INTEGER,"
	"  clean INTEGER NOT NULL DEFAULT 0"
	") STRICT;";

/*
** Schema version 5: bounded history (issue 16).
**   jobs       rebuilt, for two reasons. The idempotency key's UNIQUE
**              constraint made an index entry for every job, NULL keys
**              included: one more page written per submit for nothing. Its
**              index is now partial (jobs_key). And two columns:
**                fin_seq     rising, given as the job reaches a finished
**                            state (succeeded, cancelled, dead,
**                            quarantined), cleared if it is retried: the
**                            order of history, and the prune's index
**                            (jobs_fin), so "nothing due" is one seek
**                end_dev_ms  its end on the device clock (below)
**   boots      base_ms, up_ms: the device clock. A boot's base is the
**              previous boot's base plus that boot's last known uptime
**              (up_ms, noted by the daemon and by every start, end and
**              submit), and never below the latest end_dev_ms given. So
**              base + monotonic ms counts time the device was known to be
**              up, a lower bound on real time that needs no wall clock.
**   history    one row: finished jobs kept (so status counts nothing), the
**              last fin_seq given (never reused, the export's watermark
**              needs that), the device clock's high-water mark, the
**              highest job and run ids ever given (a row id is otherwise
**              reused when the newest rows are pruned), and the last prune.
**   idem_keys  the keys of pruned jobs, each until its job would be `keep`
**              old, so a later submit with the key still finds the job.
** Triggers keep fin_seq, end_dev_ms and the counts, whoever writes the row.
*/
#define FIN_STATES "('succeeded','cancelled','dead','quarantined')"
#define END_DEV_MS(b, m) \
	"coalesce((SELECT base_ms FROM boots WHERE id = " b ") + " m "," \
	" (SELECT dev_ms FROM history))"
static const char schema_v5[] =
	"CREATE TABLE jobs_v5("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT,"
	"  run INTEGER REFERENCES pipeline_runs(id),"
	"  argv TEXT NOT NULL,"
	"  env TEXT NOT NULL,"
	"  cwd TEXT,"
	"  grp TEXT,"
	"  priority INTEGER NOT NULL,"
	"  retries INTEGER NOT NULL CHECK(retries >= 0),"
	"  backoff_min_ms INTEGER NOT NULL,"
	"  backoff_max_ms INTEGER NOT NULL,"
	"  timeout_ms INTEGER NOT NULL,"
	"  idem_key TEXT,"
	"  state TEXT NOT NULL CHECK(state IN ('queued','running','succeeded','failed',"
	"    'dead','cancelled','quarantined')),"
	"  reason TEXT,"
	"  cancel_req INTEGER NOT NULL DEFAULT 0,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  failures INTEGER NOT NULL DEFAULT 0,"
	"  unclean INTEGER NOT NULL DEFAULT 0,"
	"  waiting INTEGER NOT NULL DEFAULT 0,"
	"  ready_boot INTEGER NOT NULL, ready_mono_ms INTEGER NOT NULL,"
	"  submit_boot INTEGER NOT NULL, submit_mono_ms INTEGER NOT NULL, submit_utc_ms INTEGER,"
	"  end_boot INTEGER, end_mono_ms INTEGER, end_utc_ms INTEGER,"
	"  user TEXT, limit_nofile INTEGER, limit_as INTEGER, limit_core INTEGER,"
	"  fin_seq INTEGER, end_dev_ms INTEGER"
	") STRICT;"
	"INSERT INTO jobs_v5 SELECT id, name, run, argv, env, cwd, grp, priority, retries,"
	"  backoff_min_ms, backoff_max_ms, timeout_ms, idem_key, state, reason, cancel_req,"
	"  attempts, failures, unclean, waiting, ready_boot, ready_mono_ms, submit_boot,"
	"  submit_mono_ms, submit_utc_ms, end_boot, end_mono_ms, end_utc_ms, user,"
	"  limit_nofile, limit_as, limit_core, NULL, NULL FROM jobs;"
	"DROP TABLE jobs;"
	"ALTER TABLE jobs_v5 RENAME TO jobs;"
	"CREATE INDEX jobs_free ON jobs(priority DESC, id)"
	"  WHERE state IN ('queued','failed') AND waiting = 0 AND grp IS NULL;"
	"CREATE INDEX jobs_grp ON jobs(grp, priority DESC, id)"
	"  WHERE state IN ('queued','failed') AND waiting = 0 AND grp IS NOT NULL;"
	"CREATE INDEX jobs_wake ON jobs(ready_boot, ready_mono_ms)"
	"  WHERE state IN ('queued','failed') AND waiting = 0;"
	"CREATE INDEX jobs_state ON jobs(state, id);"
	"CREATE INDEX jobs_name ON jobs(name, id) WHERE name IS NOT NULL;"
	"CREATE INDEX jobs_run ON jobs(run) WHERE run IS NOT NULL;"
	"CREATE UNIQUE INDEX jobs_key ON jobs(idem_key) WHERE idem_key IS NOT NULL;"
	"CREATE INDEX jobs_fin ON jobs(fin_seq) WHERE fin_seq IS NOT NULL;"

	"ALTER TABLE boots ADD COLUMN base_ms INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE boots ADD COLUMN up_ms INTEGER NOT NULL DEFAULT 0;"
	/* Each boot's last known uptime: the latest time anything recorded in it. */
	"WITH t(b, ms) AS ("
	"  SELECT submit_boot, submit_mono_ms FROM jobs"
	"  UNION ALL SELECT end_boot, end_mono_ms FROM jobs WHERE end_mono_ms IS NOT NULL"
	"  UNION ALL SELECT boot, start_mono_ms FROM attempts"
	"  UNION ALL SELECT end_boot, end_mono_ms FROM attempts WHERE end_mono_ms IS NOT NULL"
	"  UNION ALL SELECT boot, start_mono_ms FROM daemon_runs"
	"  UNION ALL SELECT boot, end_mono_ms FROM daemon_runs WHERE end_mono_ms IS NOT NULL"
	"  UNION ALL SELECT boot, mono_ms FROM pipeline_runs"
	"  UNION ALL SELECT last_boot, last_mono_ms FROM pipelines WHERE last_boot IS NOT NULL),"
	" u(b, ms) AS (SELECT b, max(ms) FROM t GROUP BY b)"
	" UPDATE boots SET up_ms = u.ms FROM u WHERE u.b = boots.id;"
	"UPDATE boots SET base_ms = s.base FROM (SELECT id, coalesce(sum(up_ms) OVER"
	"  (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS base"
	"  FROM boots) s WHERE s.id = boots.id;"

	"CREATE TABLE history("
	"  id INTEGER PRIMARY KEY CHECK(id = 1),"
	"  finished INTEGER NOT NULL,"
	"  fin_seq INTEGER NOT NULL,"
	"  dev_ms INTEGER NOT NULL,"
	"  max_job INTEGER NOT NULL,"
	"  max_run INTEGER NOT NULL,"
	"  last_boot INTEGER, last_mono_ms INTEGER, last_utc_ms INTEGER, last_dev_ms INTEGER,"
	"  last_jobs INTEGER NOT NULL DEFAULT 0,"
	"  total_jobs INTEGER NOT NULL DEFAULT 0"
	") STRICT;"
	"UPDATE jobs SET end_dev_ms = coalesce("
	"  (SELECT base_ms FROM boots WHERE id = jobs.end_boot) + end_mono_ms,"
	"  (SELECT base_ms FROM boots WHERE id = jobs.submit_boot) + submit_mono_ms, 0)"
	" WHERE state IN " FIN_STATES ";"
	"UPDATE jobs SET fin_seq = s.n FROM (SELECT id, row_number() OVER"
	"  (ORDER BY end_dev_ms, id) AS n FROM jobs WHERE state IN " FIN_STATES ") s"
	" WHERE s.id = jobs.id;"
	"INSERT INTO history(id, finished, fin_seq, dev_ms, max_job, max_run)"
	" SELECT 1, (SELECT count(*) FROM jobs WHERE fin_seq IS NOT NULL),"
	"  coalesce((SELECT max(fin_seq) FROM jobs), 0),"
	"  max(coalesce((SELECT max(end_dev_ms) FROM jobs), 0),"
	"      coalesce((SELECT max(base_ms + up_ms) FROM boots), 0)),"
	"  coalesce((SELECT max(id) FROM jobs), 0),"
	"  coalesce((SELECT max(id) FROM pipeline_runs), 0);"

	"CREATE TABLE idem_keys("
	"  key TEXT PRIMARY KEY,"
	"  job INTEGER NOT NULL,"
	"  until_dev_ms INTEGER NOT NULL"
	") STRICT, WITHOUT ROWID;"
	"CREATE INDEX idem_keys_until ON idem_keys(until_dev_ms);"

	/* A job reaching a finished state gets the next fin_seq and its end on
	** the device clock; the device clock's high-water mark moves with it. */
	"CREATE TRIGGER jobs_fin_insert AFTER INSERT ON jobs"
	" WHEN NEW.state IN " FIN_STATES " BEGIN"
	"  UPDATE history SET finished = finished + 1, fin_seq = fin_seq + 1,"
	"   dev_ms = max(dev_ms, " END_DEV_MS("NEW.end_boot", "NEW.end_mono_ms") ");"
	"  UPDATE jobs SET fin_seq = (SELECT fin_seq FROM history),"
	"   end_dev_ms = " END_DEV_MS("NEW.end_boot", "NEW.end_mono_ms") " WHERE id = NEW.id;"
	" END;"
	"CREATE TRIGGER jobs_fin AFTER UPDATE OF state ON jobs"
	" WHEN NEW.state IN " FIN_STATES " AND NEW.fin_seq IS NULL BEGIN"
	"  UPDATE history SET finished = finished + 1, fin_seq = fin_seq + 1,"
	"   dev_ms = max(dev_ms, " END_DEV_MS("NEW.end_boot", "NEW.end_mono_ms") ");"
	"  UPDATE jobs SET fin_seq = (SELECT fin_seq FROM history),"
	"   end_dev_ms = " END_DEV_MS("NEW.end_boot", "NEW.end_mono_ms") " WHERE id = NEW.id;"
	" END;"
	/* Retried: it is work again, not history. */
	"CREATE TRIGGER jobs_unfin AFTER UPDATE OF state ON jobs"
	" WHEN NEW.state NOT IN " FIN_STATES " AND NEW.fin_seq IS NOT NULL BEGIN"
	"  UPDATE history SET finished = finished - 1;"
	"  UPDATE jobs SET fin_seq = NULL, end_dev_ms = NULL WHERE id = NEW.id;"
	" END;"
	"CREATE TRIGGER jobs_fin_delete AFTER DELETE ON jobs"
	" WHEN OLD.fin_seq IS NOT NULL BEGIN"
	"  UPDATE history SET finished = finished - 1;"
	" END;";

/* Whether the log gives freed pages back to the file system (auto_vacuum
** INCREMENTAL, set in every log made since version 5); if not, converts it:
** the setting only takes with a VACUUM, which rewrites the whole file (into
** the WAL, then the file: it needs about twice the log's size free for a
** moment). In a temporary file, not memory: a log can be bigger than RAM.
** A failure is logged and survived: the log works as before, its freed
** pages are reused but not returned, and jlog_vacuum_step tries again. */
static int to_incremental(struct jlog *j)
{
	char v[16];
	int rc;

	if ((rc = query_text(j->db, "PRAGMA auto_vacuum", v, sizeof(v))) != HF_OK)
		return rc;
	if (!strcmp(v, "2"))
		return HF_OK;
	if (j->has_turnstile && !j->in_turnstile) {
		if ((rc = port_turnstile_enter(j->turnstile_fd, JLOG_BUSY_TIMEOUT_MS)) != HF_OK)
			return rc;
		j->in_turnstile = true;
	}
	port_log("job log: converting to auto_vacuum=INCREMENTAL (one VACUUM of the whole "
		 "log, once), so that pruned history gives its space back");
	if ((rc = exec(j->db, "PRAGMA temp_store=FILE")) == HF_OK &&
	    (rc = exec(j->db, "PRAGMA auto_vacuum=INCREMENTAL")) == HF_OK)
		rc = exec(j->db, "VACUUM");
	exec(j->db, "PRAGMA temp_store=DEFAULT");
	leave_turnstile(j);
	if (rc == HF_OK && (rc = query_text(j->db, "PRAGMA auto_vacuum", v, sizeof(v))) == HF_OK &&
	    strcmp(v, "2") != 0)
		rc = HF_ENOTSUP;
	if (rc != HF_OK)
		port_log("job log: could not convert to auto_vacuum=INCREMENTAL (%s); pruned "
			 "history's pages are reused but not given back to the file system until "
			 "it can (the daemon tries again)", hf_strerror(rc));
	return rc;
}

/* Schema version 6 (flash wear, issue 16): attempts becomes a WITHOUT ROWID
** table keyed by (job, n). As a rowid table its primary key was a second
** b-tree (an automatic index), so every attempt started wrote one page more
** than its row needs; keyed by its primary key the row is the only copy. The
** same columns and rows; the table's indexes and triggers, whoever made them,
** are made again from their SQL as it was. Renamed aside first with
** legacy_alter_table, so that no other table's trigger is rewritten to name
** the old copy. */
static const char attempts_v6[] =
	"CREATE TABLE attempts("
	"  job INTEGER NOT NULL REFERENCES jobs(id),"
	"  n INTEGER NOT NULL,"
	"  boot INTEGER NOT NULL,"
	"  pid INTEGER NOT NULL,"
	"  proc_start INTEGER NOT NULL,"
	"  start_mono_ms INTEGER NOT NULL, start_utc_ms INTEGER,"
	"  end_boot INTEGER, end_mono_ms INTEGER, end_utc_ms INTEGER,"
	"  end_reason TEXT CHECK(end_reason IN ('exit','signal','timeout','power-loss',"
	"    'daemon-crash','cancelled','shutdown','spawn-error')),"
	"  exit_code INTEGER, signal INTEGER,"
	"  out_bytes INTEGER NOT NULL DEFAULT 0,"
	"  out_truncated INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY(job, n)"
	") STRICT, WITHOUT ROWID;"
	"INSERT INTO attempts SELECT job, n, boot, pid, proc_start, start_mono_ms,"
	"  start_utc_ms, end_boot, end_mono_ms, end_utc_ms, end_reason, exit_code, signal,"
	"  out_bytes, out_truncated FROM attempts_rowid;"
	"DROP TABLE attempts_rowid;";

static int attempts_without_rowid(struct jlog *j)
{
	sqlite3_stmt *st = NULL;
	char **again = NULL;
	size_t n = 0, i;
	int src, rc;

	src = sqlite3_prepare_v2(j->db, "SELECT sql FROM sqlite_schema WHERE tbl_name = 'attempts'"
				 " AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY rowid",
				 -1, &st, NULL);
	if (src != SQLITE_OK)
		return sqlite_err(j->db, "attempts' indexes", src);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		char **more = realloc(again, (n + 1) * sizeof(*again));
		if (!more || !(more[n] = strdup((const char *)sqlite3_column_text(st, 0)))) {
			again = more ? more : again;
			rc = HF_ENOMEM;
			goto out;
		}
		again = more;
		n++;
	}
	if (src != SQLITE_DONE) {
		rc = sqlite_err(j->db, "attempts' indexes", src);
		goto out;
	}
	if ((rc = exec(j->db, "PRAGMA legacy_alter_table=ON")) ||
	    (rc = exec(j->db, "ALTER TABLE attempts RENAME TO attempts_rowid")) ||
	    (rc = exec(j->db, "PRAGMA legacy_alter_table=OFF")) ||
	    (rc = exec(j->db, attempts_v6)))
		goto out;
	for (i = 0; i < n && rc == HF_OK; i++)
		rc = exec(j->db, again[i]);
out:
	sqlite3_finalize(st);
	for (i = 0; i < n; i++)
		free(again[i]);
	free(again);
	return rc;
}

static int migrate(struct jlog *j, long target)
{
	char v[32], sql[48];
	long version, from;
	bool fk_off;
	int rc;

	if ((rc = query_text(j->db, "PRAGMA user_version", v, sizeof(v))) != HF_OK)
		return rc;
	version = strtol(v, NULL, 10);
	if (version == target)
		return HF_OK;
	if (version > JLOG_SCHEMA_VERSION) {
		say_newer(version);
		return HF_ENOTSUP;
	}
	/* Version 5 rebuilds the jobs table, which others reference: with
	** foreign keys on, DROP TABLE would first delete every row and trip
	** them. The pragma is a no-op inside a transaction, so set it here
	** (SQLite's "12 steps" for altering a table). */
	fk_off = version < 5 && target >= 5;
	if (fk_off && (rc = exec(j->db, "PRAGMA foreign_keys=OFF")) != HF_OK)
		return rc;
	if ((rc = jlog_begin(j)) != HF_OK)
		goto out_fk;
	/* Another process may have migrated while we waited for the lock. */
	if ((rc = query_text(j->db, "PRAGMA user_version", v, sizeof(v))) != HF_OK)
		goto out_rollback;
	from = version = strtol(v, NULL, 10);
	if (version >= target) {
		jlog_rollback(j);
		goto out_fk;
	}
	/* Each step in this one transaction, so a power cut leaves the old or
	** the new schema, never a mix. */
	if (version < 1 && (rc = exec(j->db, schema_v1)) != HF_OK)
		goto out_rollback;
	if (version < 2 && target >= 2 && (rc = exec(j->db, schema_v2)) != HF_OK)
		goto out_rollback;
	if (version < 3 && target >= 3 && (rc = exec(j->db, schema_v3)) != HF_OK)
		goto out_rollback;
	if (version < 4 && target >= 4 && (rc = exec(j->db, schema_v4)) != HF_OK)
		goto out_rollback;
	if (version < 5 && target >= 5 && (rc = exec(j->db, schema_v5)) != HF_OK)
		goto out_rollback;
	if (version < 6 && target >= 6 && (rc = attempts_without_rowid(j)) != HF_OK)
		goto out_rollback;
	if (version < 7 && target >= 7 && (rc = exec(j->db, schema_export)) != HF_OK)
		goto out_rollback;
	if (version < 8 && target >= 8 && (rc = exec(j->db, schema_counts)) != HF_OK)
		goto out_rollback;
	if (version < 9 && target >= 9 && (rc = exec(j->db, schema_v9)) != HF_OK)
		goto out_rollback;
	if (version < 10 && target >= 10 && (rc = exec(j->db, schema_v10)) != HF_OK)
		goto out_rollback;
	if (version < 11 && target >= 11 && (rc = exec(j->db, schema_v11)) != HF_OK)
		goto out_rollback;
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%ld", target);
	if ((rc = exec(j->db, sql)) != HF_OK)
		goto out_rollback;
	if ((rc = jlog_commit(j)) != HF_OK)
		goto out_fk;
	if (fk_off && (rc = exec(j->db, "PRAGMA foreign_keys=ON")) != HF_OK)
		return rc;
	/* An existing log (a new one was made incremental before its first
	** table) is converted once, now; a failure is not the migration's. */
	if (from >= 1 && from < 5 && target >= 5)
		to_incremental(j);
	return HF_OK;

out_rollback:
	jlog_rollback(j);
out_fk:
	if (fk_off)
		exec(j->db, "PRAGMA foreign_keys=ON");
	return rc;
}

/* Opens the turnstile of the directory that holds the log at PATH. */
static int open_turnstile(struct jlog *j, const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int rc;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path),
			  path) >= (int)sizeof(dir))
		return HF_ETOOBIG;
	if ((rc = port_turnstile_open(dir, &j->turnstile_fd)) == HF_OK)
		j->has_turnstile = true;
	return rc;
}

static uint32_t be32(const unsigned char *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* SQLite's WAL checksum over N bytes (a multiple of 8) of B, from S[2]:
** 32-bit words in big-endian order if BIG, else little-endian. */
static void wal_cksum(bool big, const unsigned char *b, size_t n, uint32_t s[2])
{
	size_t i;
	uint32_t x, y;

	for (i = 0; i + 8 <= n; i += 8) {
		if (big) {
			x = be32(b + i);
			y = be32(b + i + 4);
		} else {
			x = (uint32_t)b[i + 3] << 24 | (uint32_t)b[i + 2] << 16 | (uint32_t)b[i + 1] << 8 | b[i];
			y = (uint32_t)b[i + 7] << 24 | (uint32_t)b[i + 6] << 16 | (uint32_t)b[i + 5] << 8 |
			    b[i + 4];
		}
		s[0] += x + s[1];
		s[1] += y + s[0];
	}
}

/* Bytes of the WAL read at a time by wal_user_version: whole frames, so
** that a long WAL costs a few reads, not two for each of its frames (every
** command reads it; at 10 MB that was 19 ms of a 27 ms `ls`). */
#define WAL_PEEK_BUF (256u << 10)

/* Page 1's user_version (header offset 60) as of the last transaction
** committed to the WAL at PATH, into *VERSION; untouched if the WAL holds
** no committed page 1 (or is missing, empty or not a WAL). The WAL format
** (sqlite.org/fileformat2.html): a 32-byte header (magic, version, page
** size, checkpoint seq, two salts, a checksum), then frames: a 24-byte
** header (page number, the database size in pages on a commit frame, the
** salts, a running checksum) and the page. Frames count while their salts
** are the header's and the running checksum holds, as SQLite reads them. */
static void wal_user_version(const char *path, long *version)
{
	unsigned char hdr[32], *buf = NULL;
	uint64_t size, off;
	uint32_t s[2] = { 0, 0 }, psize, magic;
	long pending = -1;
	size_t frame, nbuf, want, got, i;
	bool big;
	int fd;

	if (port_fs_open_read(path, &fd, &size) != HF_OK)
		return;
	if (port_fs_pread(fd, hdr, sizeof(hdr), 0, &got) != HF_OK || got != sizeof(hdr))
		goto out;
	magic = be32(hdr);
	psize = be32(hdr + 8);
	if ((magic & ~1u) != 0x377f0682 || psize < 512 || psize > 65536 || (psize & (psize - 1)))
		goto out;
	big = magic & 1;
	wal_cksum(big, hdr, 24, s);
	frame = 24 + (size_t)psize;
	nbuf = WAL_PEEK_BUF / frame > 0 ? WAL_PEEK_BUF / frame * frame : frame;
	if (s[0] != be32(hdr + 24) || s[1] != be32(hdr + 28) || !(buf = malloc(nbuf)))
		goto out;
	for (off = sizeof(hdr); off + frame <= size; off += want) {
		want = size - off < nbuf ? (size_t)(size - off) / frame * frame : nbuf;
		if (port_fs_pread(fd, buf, want, off, &got) != HF_OK || got < frame)
			break;
		want = got / frame * frame;
		for (i = 0; i < want; i += frame) {
			const unsigned char *fh = buf + i, *page = buf + i + 24;
			if (memcmp(fh + 8, hdr + 16, 8) != 0)
				goto out;
			wal_cksum(big, fh, 8, s);
			wal_cksum(big, page, psize, s);
			if (s[0] != be32(fh + 16) || s[1] != be32(fh + 20))
				goto out;
			if (be32(fh) == 1)
				pending = (long)be32(page + 60);
			if (be32(fh + 4) != 0 && pending >= 0) /* a commit frame */
				*version = pending;
		}
	}
out:
	free(buf);
	port_close(fd);
}

/* The schema version of the log at PATH as SQLite would read it, read
** without SQLite: opening the log with SQLite makes its -wal and -shm files,
** and a log this holdfast refuses (a newer one) is left exactly as it was.
** -1 if the header cannot be read (SQLite then says what is wrong). */
static long peek_version(const char *path)
{
	unsigned char hdr[100];
	char side[4096];
	enum port_fs_kind kind;
	long version = -1;
	uint64_t size;
	size_t got;
	int fd;

	if (port_fs_open_read(path, &fd, &size) != HF_OK)
		return -1;
	if (port_fs_pread(fd, hdr, sizeof(hdr), 0, &got) == HF_OK && got == sizeof(hdr) &&
	    memcmp(hdr, "SQLite format 3", 16) == 0)
		version = (long)be32(hdr + 60);
	port_close(fd);
	/* With its -shm beside it, SQLite opens the log without making a file,
	** and migrate() refuses a newer version before anything is written: the
	** WAL is read here only when SQLite would make the -shm (the WAL is as
	** long as wal_max, or 4x that with no daemon, and every command opens
	** the log). */
	if (version >= 0 && snprintf(side, sizeof(side), "%s-shm", path) < (int)sizeof(side) &&
	    port_fs_kind(side, &kind) == HF_OK && kind == PORT_FS_NONE &&
	    snprintf(side, sizeof(side), "%s-wal", path) < (int)sizeof(side))
		wal_user_version(side, &version);
	return version;
}

static void say_newer(long version)
{
	port_log("job log: schema version %ld is newer than this holdfast knows (%d); "
		 "run the newer holdfast", version, JLOG_SCHEMA_VERSION);
}

int jlog_open(struct jlog *j, const char *path, const char *vfs)
{
	struct sqlite3 *db = NULL;
	enum port_fs_kind kind;
	int rc, on = 0;
	long version;

	if ((rc = port_fs_kind(path, &kind)) != HF_OK)
		return rc;
	if (kind == PORT_FS_NONE) {
		port_log("job log %s does not exist (holdfast init creates one)", path);
		return HF_ENOENT;
	}
	if ((version = peek_version(path)) > JLOG_SCHEMA_VERSION) {
		say_newer(version);
		return HF_ENOTSUP;
	}
	rc = open_db(path, vfs, SQLITE_OPEN_READWRITE, &db);
	if (rc)
		return rc;
	if (sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, &on) != SQLITE_OK ||
	    !on) {
		port_log("job log: cannot disable the checkpoint on close");
		rc = HF_ENOTSUP;
		goto out_close;
	}
	if ((rc = configure(db)) || (rc = verify_db(db)))
		goto out_close;
	memset(j, 0, sizeof(*j));
	j->db = db;
	if ((rc = open_turnstile(j, path)) != HF_OK || (rc = migrate(j, JLOG_SCHEMA_VERSION)) != HF_OK) {
		jlog_close(j);
		return rc;
	}
	return HF_OK;

out_close:
	sqlite3_close(db);
	return rc;
}

void jlog_close(struct jlog *j)
{
	if (j->ckpt_db) {
		sqlite3_close(j->ckpt_db);
		j->ckpt_db = NULL;
	}
	j->pinned = NULL;
	for (int i = 0; i < JLOG_STMT_CACHE; i++) {
		sqlite3_finalize(j->stmts[i]);
		j->stmts[i] = NULL;
		j->stmt_sql[i] = NULL;
	}
	if (j->db) {
		sqlite3_close(j->db);
		j->db = NULL;
	}
	if (j->has_turnstile)
		port_close(j->turnstile_fd);
	j->has_turnstile = j->in_turnstile = false;
}

/* ---- statements ------------------------------------------------------------ */

/* The cached statement for SQL (a string constant), reset and unbound. */
static sqlite3_stmt *stmt(struct jlog *j, const char *sql)
{
	int i, free_slot = -1;
	sqlite3_stmt *st = NULL;

	for (i = 0; i < JLOG_STMT_CACHE; i++) {
		if (j->stmt_sql[i] == sql) {
			sqlite3_reset(j->stmts[i]);
			sqlite3_clear_bindings(j->stmts[i]);
			return j->stmts[i];
		}
		if (!j->stmt_sql[i] && free_slot < 0)
			free_slot = i;
	}
	if (sqlite3_prepare_v3(j->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
	    SQLITE_OK) {
		port_log("job log: prepare: %s (%.60s...)", sqlite3_errmsg(j->db), sql);
		return NULL;
	}
	if (free_slot >= 0) {
		j->stmts[free_slot] = st;
		j->stmt_sql[free_slot] = sql;
	} else {
		/* Cache full: a bug in JLOG_STMT_CACHE sizing, but still correct. */
		port_log("job log: statement cache full");
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

/* Steps ST to completion (no rows expected). */
static int step_done(struct jlog *j, sqlite3_stmt *st)
{
	int src;

	if (!st)
		return HF_EBUG;
	src = sqlite3_step(st);
	sqlite3_reset(st);
	if (src == SQLITE_DONE || src == SQLITE_ROW)
		return HF_OK;
	return sqlite_err(j->db, "step", src);
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static void bind_utc(sqlite3_stmt *st, int i, int64_t utc_ms)
{
	if (utc_ms >= 0)
		sqlite3_bind_int64(st, i, utc_ms);
	else
		sqlite3_bind_null(st, i);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static int64_t col_int_or(sqlite3_stmt *st, int i, int64_t dflt)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? dflt : sqlite3_column_int64(st, i);
}

/* ---- transactions ---------------------------------------------------------- */

static void unpin(struct jlog *j)
{
	if (j->pinned) {
		sqlite3_reset(j->pinned);
		j->pinned = NULL;
	}
}

/* Says why a write transaction could not begin within the busy timeout: who
** holds the write lock, and what to do about it. */
static void say_locked(struct jlog *j)
{
	const char *path = sqlite3_db_filename(j->db, "main");
	char cmd[160];
	int pid;

	if (path && port_db_writer(path, &pid, cmd, sizeof(cmd)) == HF_OK) {
		port_log("job log locked for %d s by process %d (%s), which holds its write "
			 "lock. holdfast's own writers hold it for milliseconds: if that is a "
			 "sqlite3 shell or another program, end its transaction; if it is the "
			 "daemon, it may be stuck (look at its log). Nothing was changed; try "
			 "again", JLOG_BUSY_TIMEOUT_MS / 1000, pid, cmd[0] ? cmd : "?");
		return;
	}
	port_log("job log locked for %d s by another writer, which has let go since. "
		 "Nothing was changed; try again", JLOG_BUSY_TIMEOUT_MS / 1000);
}

static void leave_turnstile(struct jlog *j)
{
	if (j->in_turnstile) {
		j->others_waited = j->watch_waiters && port_turnstile_waited(j->turnstile_fd);
		port_turnstile_leave(j->turnstile_fd);
		j->in_turnstile = false;
	}
}

/* Writers take turns at the turnstile (port.h) before SQLite's write lock,
** which then only waits for writers that are not holdfast (a sqlite3 shell). */
int jlog_begin(struct jlog *j)
{
	int rc, src;

	unpin(j);
	if (j->has_turnstile && !j->in_turnstile) {
		rc = port_turnstile_enter(j->turnstile_fd, JLOG_BUSY_TIMEOUT_MS);
		if (rc == HF_EBUSY)
			say_locked(j);
		if (rc != HF_OK)
			return rc;
		j->in_turnstile = true;
	}
	src = sqlite3_exec(j->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (src == SQLITE_OK)
		return HF_OK;
	leave_turnstile(j);
	if ((src & 0xff) == SQLITE_BUSY) {
		say_locked(j);
		return HF_EBUSY;
	}
	return sqlite_err(j->db, "BEGIN IMMEDIATE", src);
}

int jlog_commit(struct jlog *j)
{
	int rc, src;

	unpin(j);
	src = sqlite3_exec(j->db, "COMMIT", NULL, NULL, NULL);
	if (src == SQLITE_OK) {
		leave_turnstile(j);
		return HF_OK;
	}
	/* SQLite leaves the transaction open after a failed COMMIT (e.g. an
	** fsync error); nothing of it may be acknowledged, so roll it back. */
	rc = sqlite_err(j->db, "COMMIT", src);
	sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
	leave_turnstile(j);
	return rc;
}

void jlog_rollback(struct jlog *j)
{
	unpin(j);
	if (!sqlite3_get_autocommit(j->db))
		sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
	leave_turnstile(j);
}

/* ---- boots ------------------------------------------------------------------ */

static const char sql_boot_get[] = "SELECT id FROM boots WHERE kernel_boot_id = ?1";
static const char sql_boot_add[] =
	"INSERT INTO boots(kernel_boot_id, first_utc_ms) VALUES (?1, ?2)";
/* A new boot's base on the device clock: the previous boot's base plus the
** uptime last known of it (its noted up_ms, or anything recorded later in
** it: a daemon run, the newest job's submit, the last attempt of the newest
** job that has one: its start or end), and never below the device time of any job end (history.dev_ms).
** Each is a lower bound on how long that boot lasted, so a base never runs
** ahead of real time. Every probe is a seek or a short table: no history
** is walked at boot. */
static const char sql_boot_base[] =
	"UPDATE boots SET base_ms = coalesce((SELECT max(p.base_ms + max(p.up_ms,"
	"   coalesce((SELECT max(max(start_mono_ms, coalesce(end_mono_ms, 0)))"
	"    FROM daemon_runs WHERE boot = p.id), 0),"
	"   coalesce((SELECT iif(submit_boot = p.id, submit_mono_ms, 0) FROM jobs"
	"    WHERE id = (SELECT max(id) FROM jobs)), 0),"
	"   coalesce((SELECT max(iif(boot = p.id, start_mono_ms, 0),"
	"    iif(end_boot = p.id, coalesce(end_mono_ms, 0), 0)) FROM attempts"
	"    WHERE job = (SELECT max(job) FROM attempts) ORDER BY n DESC LIMIT 1), 0)),"
	"  (SELECT dev_ms FROM history))"
	"  FROM boots p WHERE p.id < ?1 ORDER BY p.id DESC LIMIT 1),"
	" (SELECT dev_ms FROM history), 0)"
	" WHERE id = ?1";

int jlog_boot(struct jlog *j, const char *kernel_boot_id, int64_t utc_ms, bool create,
	      int64_t *boot)
{
	sqlite3_stmt *st = stmt(j, sql_boot_get);
	bool own = sqlite3_get_autocommit(j->db);
	int rc, src;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_text(st, 1, kernel_boot_id, -1, SQLITE_STATIC);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		*boot = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		return HF_OK;
	}
	sqlite3_reset(st);
	if (src != SQLITE_DONE)
		return sqlite_err(j->db, "boots", src);
	*boot = 0;
	if (!create)
		return HF_OK;
	if (own && (rc = jlog_begin(j)) != HF_OK)
		return rc;
	/* Look again under the write lock: another process may have added it. */
	st = stmt(j, sql_boot_get);
	sqlite3_bind_text(st, 1, kernel_boot_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*boot = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		return own ? jlog_commit(j) : HF_OK;
	}
	sqlite3_reset(st);
	st = stmt(j, sql_boot_add);
	if (!st) {
		rc = HF_EBUG;
		goto out;
	}
	sqlite3_bind_text(st, 1, kernel_boot_id, -1, SQLITE_STATIC);
	bind_utc(st, 2, utc_ms);
	if ((rc = step_done(j, st)) != HF_OK)
		goto out;
	*boot = sqlite3_last_insert_rowid(j->db);
	if (!(st = stmt(j, sql_boot_base))) {
		rc = HF_EBUG;
		goto out;
	}
	sqlite3_bind_int64(st, 1, *boot);
	if ((rc = step_done(j, st)) != HF_OK)
		goto out;
	return own ? jlog_commit(j) : HF_OK;
out:
	if (own)
		jlog_rollback(j);
	return rc;
}

int jlog_boot_uptime(struct jlog *j, const struct jlog_now *now)
{
	static const char sql_get[] = "SELECT up_ms FROM boots WHERE id = ?1";
	static const char sql_set[] =
		"UPDATE boots SET up_ms = ?2 WHERE id = ?1 AND up_ms < ?2";
	sqlite3_stmt *st = stmt(j, sql_get);
	bool own = sqlite3_get_autocommit(j->db);
	int rc, src;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_int64(st, 1, now->boot);
	src = sqlite3_step(st);
	/* Read first, without the write lock: most calls have nothing to do. */
	if (src == SQLITE_ROW &&
	    sqlite3_column_int64(st, 0) + JLOG_UPTIME_STEP_MS > (int64_t)now->mono_ms) {
		sqlite3_reset(st);
		return HF_OK;
	}
	sqlite3_reset(st);
	if (src == SQLITE_DONE)
		return HF_OK;      /* no such boot: nothing to note */
	if (src != SQLITE_ROW)
		return sqlite_err(j->db, "uptime", src);
	if (own && (rc = jlog_begin(j)) != HF_OK)
		return rc;
	if (!(st = stmt(j, sql_set))) {
		rc = HF_EBUG;
		goto out;
	}
	sqlite3_bind_int64(st, 1, now->boot);
	sqlite3_bind_int64(st, 2, (int64_t)now->mono_ms);
	if ((rc = step_done(j, st)) != HF_OK)
		goto out;
	return own ? jlog_commit(j) : HF_OK;
out:
	if (own)
		jlog_rollback(j);
	return rc;
}

/* ---- jobs ------------------------------------------------------------------- */

/* Builds a JSON array of N strings with SQLite's own JSON functions (so the
** quoting is SQLite's, not ours) into a heap string. */
static int json_strings(struct jlog *j, char *const *v, int n, char **out)
{
	static const char sql[] = "SELECT json_insert(?1, '$[#]', ?2)";
	sqlite3_stmt *st = stmt(j, sql);
	char *acc;

	if (!st)
		return HF_EBUG;
	acc = strdup("[]");
	if (!acc)
		return HF_ENOMEM;
	for (int i = 0; i < n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, acc, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, v[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_ROW) {
			free(acc);
			sqlite3_reset(st);
			return sqlite_err(j->db, "json", SQLITE_ERROR);
		}
		free(acc);
		acc = strdup(col_text(st, 0));
		if (!acc) {
			sqlite3_reset(st);
			return HF_ENOMEM;
		}
	}
	sqlite3_reset(st);
	*out = acc;
	return HF_OK;
}

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
	int rc = HF_EBUG, src;

	*existed = false;
	if (s->key) {
		if (!(st = stmt(j, sql_job_by_key)))
			return HF_EBUG;
		sqlite3_bind_text(st, 1, s->key, -1, SQLITE_STATIC);
		src = sqlite3_step(st);
		if (src == SQLITE_ROW) {
			*id = sqlite3_column_int64(st, 0);
			*existed = true;
			sqlite3_reset(st);
			return HF_OK;
		}
		sqlite3_reset(st);
		if (src != SQLITE_DONE)
			return sqlite_err(j->db, "idempotency key", src);
	}
	for (int i = 0; i < s->nafter; i++) {
		const char *state;
		bool dup = false;

		/* The same dependency named twice is one edge, waited for once. */
		for (int k = 0; k < i && !dup; k++)
			dup = s->after[k] == s->after[i];
		if (dup)
			continue;
		if (!(st = stmt(j, sql_dep_state)))
			return HF_EBUG;
		sqlite3_bind_int64(st, 1, s->after[i]);
		if (sqlite3_step(st) != SQLITE_ROW) {
			sqlite3_reset(st);
			port_log("dependency %lld does not exist", (long long)s->after[i]);
			return HF_EINVAL;
		}
		state = col_text(st, 0);
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
	if ((rc = json_strings(j, s->argv, s->argc, &argv)) ||
	    (rc = json_strings(j, s->env, s->nenv, &env)))
		goto out;
	if (!(st = stmt(j, sql_job_insert))) {
		rc = HF_EBUG;
		goto out;
	}
	bind_text_or_null(st, 1, s->name);
	if (s->run > 0)
		sqlite3_bind_int64(st, 2, s->run);
	else
		sqlite3_bind_null(st, 2);
	sqlite3_bind_text(st, 3, argv, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, env, -1, SQLITE_STATIC);
	bind_text_or_null(st, 5, s->cwd);
	bind_text_or_null(st, 6, s->group);
	sqlite3_bind_int64(st, 7, s->priority);
	sqlite3_bind_int64(st, 8, s->retries);
	sqlite3_bind_int64(st, 9, (int64_t)s->backoff_min_ms);
	sqlite3_bind_int64(st, 10, (int64_t)s->backoff_max_ms);
	sqlite3_bind_int64(st, 11, (int64_t)s->timeout_ms);
	bind_text_or_null(st, 12, s->key);
	sqlite3_bind_int64(st, 13, waiting);
	sqlite3_bind_int64(st, 14, now->boot);
	sqlite3_bind_int64(st, 15, (int64_t)(now->mono_ms + s->not_before_ms));
	sqlite3_bind_int64(st, 16, (int64_t)now->mono_ms);
	bind_utc(st, 17, now->utc_ms);
	bind_text_or_null(st, 18, s->user);
	for (int i = 0; i < JLOG_NLIMITS; i++) {
		if (s->limit_set[i])
			sqlite3_bind_int64(st, 19 + i, s->limit[i]);
		else
			sqlite3_bind_null(st, 19 + i);
	}
	if ((rc = step_done(j, st)) != HF_OK)
		goto out;
	*id = sqlite3_last_insert_rowid(j->db);
	for (int i = 0; i < s->nafter; i++) {
		if (!(st = stmt(j, sql_dep_insert))) {
			rc = HF_EBUG;
			goto out;
		}
		sqlite3_bind_int64(st, 1, *id);
		sqlite3_bind_int64(st, 2, s->after[i]);
		if ((rc = step_done(j, st)) != HF_OK)
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
		"SELECT EXISTS (SELECT 1 FROM jobs WHERE state IN ('queued','running','failed'))";
	sqlite3_stmt *st = stmt(j, sql);
	int src;

	if (!st)
		return HF_EBUG;
	src = sqlite3_step(st);
	*pending = src == SQLITE_ROW && sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return src == SQLITE_ROW ? HF_OK : sqlite_err(j->db, "pending", src);
}

int jlog_job_resolve(struct jlog *j, const char *ref, int64_t *id)
{
	static const char sql_by_id[] = "SELECT id FROM jobs WHERE id = ?1";
	static const char sql_by_name[] =
		"SELECT id FROM jobs WHERE name = ?1 ORDER BY id DESC LIMIT 1";
	sqlite3_stmt *st;
	char *end;
	long long n = strtoll(ref, &end, 10);
	bool numeric = *ref && *end == '\0' && n > 0;
	int src;

	if (!(st = stmt(j, numeric ? sql_by_id : sql_by_name)))
		return HF_EBUG;
	if (numeric)
		sqlite3_bind_int64(st, 1, n);
	else
		sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		return HF_OK;
	}
	sqlite3_reset(st);
	if (src != SQLITE_DONE)
		return sqlite_err(j->db, "resolve", src);
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
	o->name = col_text(st, 1);
	o->state = col_text(st, 2);
	o->reason = col_text(st, 3);
	o->group = col_text(st, 4);
	o->key = col_text(st, 5);
	o->cwd = col_text(st, 6);
	o->argv_json = col_text(st, 7);
	o->env_json = col_text(st, 8);
	o->run = col_int_or(st, 9, 0);
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
	o->submit_utc_ms = col_int_or(st, 20, -1);
	o->end_utc_ms = col_int_or(st, 21, -1);
	o->json = col_text(st, 22);
	o->submit_boot = sqlite3_column_int64(st, 23);
	o->submit_mono_ms = (uint64_t)sqlite3_column_int64(st, 24);
	o->end_boot = col_int_or(st, 25, 0);
	o->end_mono_ms = (uint64_t)col_int_or(st, 26, 0);
}

int jlog_jobs_list(struct jlog *j, const char *state, int64_t limit,
		   int (*cb)(const struct jlog_job *job, void *arg), void *arg)
{
	static const char sql_all[] =
		"SELECT " JOB_COLS " FROM jobs ORDER BY id DESC LIMIT ?1";
	static const char sql_state[] =
		"SELECT " JOB_COLS " FROM jobs WHERE state = ?2 ORDER BY id DESC LIMIT ?1";
	sqlite3_stmt *st = stmt(j, state ? sql_state : sql_all);
	struct jlog_job o;
	int src;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_int64(st, 1, limit > 0 ? limit : -1);
	if (state)
		sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		job_from_row(st, &o);
		if (cb(&o, arg))
			break;
	}
	sqlite3_reset(st);
	return src == SQLITE_ROW || src == SQLITE_DONE ? HF_OK : sqlite_err(j->db, "list", src);
}

int jlog_job_get(struct jlog *j, int64_t id, struct jlog_job *job)
{
	static const char sql[] = "SELECT " JOB_COLS " FROM jobs WHERE id = ?1";
	sqlite3_stmt *st = stmt(j, sql);
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
		return sqlite_err(j->db, "show", src);
	port_log("no job with id %lld", (long long)id);
	return HF_ENOENT;
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
	sqlite3_stmt *st = stmt(j, sql);
	struct jlog_attempt a;
	int src;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_int64(st, 1, job);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		a.job = sqlite3_column_int64(st, 0);
		a.n = sqlite3_column_int64(st, 1);
		a.boot = sqlite3_column_int64(st, 2);
		a.pid = sqlite3_column_int64(st, 3);
		a.start_mono_ms = (uint64_t)sqlite3_column_int64(st, 4);
		a.end_mono_ms = (uint64_t)col_int_or(st, 5, 0);
		a.start_utc_ms = col_int_or(st, 6, -1);
		a.end_utc_ms = col_int_or(st, 7, -1);
		a.end_reason = col_text(st, 8);
		a.exit_code = col_int_or(st, 9, -1);
		a.signal = col_int_or(st, 10, -1);
		a.out_bytes = sqlite3_column_int64(st, 11);
		a.out_truncated = sqlite3_column_int64(st, 12) != 0;
		a.json = col_text(st, 13);
		a.duration_ms = col_int_or(st, 14, -1);
		a.end_unknown = sqlite3_column_int64(st, 15) != 0;
		a.detected_boot = col_int_or(st, 16, 0);
		a.detected_utc_ms = col_int_or(st, 17, -1);
		a.alive_ms = col_int_or(st, 18, -1);
		a.end_boot = col_int_or(st, 19, 0);
		if (cb(&a, arg))
			break;
	}
	sqlite3_reset(st);
	return src == SQLITE_ROW || src == SQLITE_DONE ? HF_OK : sqlite_err(j->db, "attempts", src);
}

int jlog_output_read(struct jlog *j, int64_t job, int64_t n, int64_t from_seq,
		     int (*cb)(int stream, const void *data, size_t len, void *arg), void *arg,
		     int64_t *next_seq)
{
	static const char sql[] =
		"SELECT seq, stream, data FROM output WHERE job = ?1 AND n = ?2 AND seq >= ?3"
		" ORDER BY seq";
	sqlite3_stmt *st = stmt(j, sql);
	int src;

	if (!st)
		return HF_EBUG;
	*next_seq = from_seq;
	sqlite3_bind_int64(st, 1, job);
	sqlite3_bind_int64(st, 2, n);
	sqlite3_bind_int64(st, 3, from_seq);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		*next_seq = sqlite3_column_int64(st, 0) + 1;
		if (cb((int)sqlite3_column_int64(st, 1), sqlite3_column_blob(st, 2),
		       (size_t)sqlite3_column_bytes(st, 2), arg))
			break;
	}
	sqlite3_reset(st);
	return src == SQLITE_ROW || src == SQLITE_DONE ? HF_OK : sqlite_err(j->db, "output", src);
}

int jlog_counts(struct jlog *j, struct jlog_counts *c)
{
	static const char sql_counts[] =
		"SELECT n_queued, n_running, n_succeeded, n_failed, n_dead, n_cancelled,"
		" n_quarantined FROM history";
	static const char sql_oldest[] =
		"SELECT submit_boot, submit_mono_ms FROM jobs WHERE state = 'queued'"
		" ORDER BY id LIMIT 1";
	sqlite3_stmt *st = stmt(j, sql_counts);
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
	}
	sqlite3_reset(st);
	if (src != SQLITE_ROW)
		return sqlite_err(j->db, "counts", src == SQLITE_DONE ? SQLITE_CORRUPT : src);
	if (!(st = stmt(j, sql_oldest)))
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
static int kill_dependents(struct jlog *j, int64_t job, const char *reason,
			   const struct jlog_now *now)
{
	static const char sql[] =
		"WITH RECURSIVE down(id) AS ("
		"  SELECT job FROM deps WHERE dep = ?1"
		"  UNION SELECT d.job FROM deps d JOIN down ON d.dep = down.id)"
		" UPDATE jobs SET state = 'dead', reason = ?2, end_boot = ?3, end_mono_ms = ?4,"
		"  end_utc_ms = ?5"
		" WHERE id IN down AND state IN ('queued', 'failed')";
	sqlite3_stmt *st = stmt(j, sql);

	if (!st)
		return HF_EBUG;
	sqlite3_bind_int64(st, 1, job);
	sqlite3_bind_text(st, 2, reason, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, now->boot);
	sqlite3_bind_int64(st, 4, (int64_t)now->mono_ms);
	bind_utc(st, 5, now->utc_ms);
	return step_done(j, st);
}

/* Sets a job's terminal or waiting state. */
static const char sql_set_state[] =
	"UPDATE jobs SET state = ?2, reason = ?3, end_boot = ?4, end_mono_ms = ?5,"
	" end_utc_ms = ?6, cancel_req = 0 WHERE id = ?1";

static int set_state(struct jlog *j, int64_t id, const char *state, const char *reason,
		     const struct jlog_now *now)
{
	sqlite3_stmt *st = stmt(j, sql_set_state);
	bool ended = strcmp(state, "queued") && strcmp(state, "failed") && strcmp(state, "running");

	if (!st)
		return HF_EBUG;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	bind_text_or_null(st, 3, reason);
	if (ended) {
		sqlite3_bind_int64(st, 4, now->boot);
		sqlite3_bind_int64(st, 5, (int64_t)now->mono_ms);
		bind_utc(st, 6, now->utc_ms);
	}
	return step_done(j, st);
}

int jlog_job_cancel(struct jlog *j, int64_t id, const struct jlog_now *now, bool *later)
{
	static const char sql_req[] = "UPDATE jobs SET cancel_req = 1 WHERE id = ?1";
	struct jlog_job job;
	char reason[96];
	int rc;

	*later = false;
	if ((rc = jlog_begin(j)) != HF_OK)
		return rc;
	if ((rc = jlog_job_get(j, id, &job)) != HF_OK)
		goto out;
	if (!strcmp(job.state, "running")) {
		sqlite3_stmt *st = stmt(j, sql_req);
		if (!st) {
			rc = HF_EBUG;
			goto out;
		}
		sqlite3_bind_int64(st, 1, id);
		if ((rc = step_done(j, st)) != HF_OK)
			goto out;
		*later = true;
	} else if (!strcmp(job.state, "queued") || !strcmp(job.state, "failed")) {
		snprintf(reason, sizeof(reason), "dependency %lld was cancelled", (long long)id);
		if ((rc = set_state(j, id, "cancelled", "cancelled by the user", now)) ||
		    (rc = kill_dependents(j, id, reason, now)))
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
	sqlite3_stmt *st;
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
	if (!(st = stmt(j, sql_revive))) {
		rc = HF_EBUG;
		goto out;
	}
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now->boot);
	sqlite3_bind_int64(st, 3, (int64_t)now->mono_ms);
	if ((rc = step_done(j, st)) != HF_OK)
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
	sqlite3_stmt *st = stmt(j, sql);

	if (!st)
		return HF_EBUG;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, spec, -1, SQLITE_STATIC);
	bind_utc(st, 3, utc_ms);
	bind_text_or_null(st, 4, kind);
	bind_text_or_null(st, 5, sched);
	if (kind && !strcmp(kind, "every"))
		sqlite3_bind_int64(st, 6, (int64_t)every_ms);
	return step_done(j, st);
}

int jlog_pipeline_spec(struct jlog *j, const char *name, char **spec)
{
	static const char sql[] = "SELECT spec FROM pipelines WHERE name = ?1";
	sqlite3_stmt *st = stmt(j, sql);
	int src;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		*spec = strdup(col_text(st, 0));
		sqlite3_reset(st);
		return *spec ? HF_OK : HF_ENOMEM;
	}
	sqlite3_reset(st);
	if (src != SQLITE_DONE)
		return sqlite_err(j->db, "pipeline", src);
	port_log("no pipeline named '%s' (see holdfast pipeline ls)", name);
	return HF_ENOENT;
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
	sqlite3_stmt *st = stmt(j, sql);
	struct jlog_pipeline p;
	int src;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_int(st, 1, scheduled_only);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		p.name = col_text(st, 0);
		p.kind = col_text(st, 1);
		p.sched = col_text(st, 2);
		p.spec = col_text(st, 3);
		p.every_ms = (uint64_t)col_int_or(st, 4, 0);
		p.last_boot = col_int_or(st, 5, 0);
		p.last_mono_ms = (uint64_t)col_int_or(st, 6, 0);
		p.last_utc_ms = col_int_or(st, 7, -1);
		p.runs = sqlite3_column_int64(st, 8);
		p.json = col_text(st, 9);
		if (cb(&p, arg))
			break;
	}
	sqlite3_reset(st);
	return src == SQLITE_ROW || src == SQLITE_DONE ? HF_OK : sqlite_err(j->db, "pipelines", src);
}

int jlog_run_add(struct jlog *j, const char *pipeline, char *const *kv, int n,
		 const char *trigger, const struct jlog_now *now, int64_t *run)
{
	static const char sql[] =
		"INSERT INTO pipeline_runs(id, pipeline, params, trigger, boot, mono_ms, utc_ms)"
		" VALUES (" NEXT_ID("pipeline_runs", "max_run") ", ?1, ?2, ?3, ?4, ?5, ?6)";
	sqlite3_stmt *st;
	char *params;
	int rc;

	if ((rc = json_strings(j, kv, n, &params)) != HF_OK)
		return rc;
	if (!(st = stmt(j, sql))) {
		free(params);
		return HF_EBUG;
	}
	sqlite3_bind_text(st, 1, pipeline, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, params, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, trigger, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now->boot);
	sqlite3_bind_int64(st, 5, (int64_t)now->mono_ms);
	bind_utc(st, 6, now->utc_ms);
	rc = step_done(j, st);
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
	sqlite3_stmt *st = stmt(j, sql);

	if (!st)
		return HF_EBUG;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now->boot);
	sqlite3_bind_int64(st, 3, (int64_t)now->mono_ms);
	bind_utc(st, 4, now->utc_ms);
	return step_done(j, st);
}

/* ---- the daemon's side ------------------------------------------------------ */

int jlog_json_check(struct jlog *j, const char *text, int64_t *pos)
{
	static const char sql[] = "SELECT json_error_position(?1)";
	sqlite3_stmt *st = stmt(j, sql);
	int src;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	src = sqlite3_step(st);
	*pos = src == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return src == SQLITE_ROW ? HF_OK : sqlite_err(j->db, "json", src);
}

int jlog_json_type(struct jlog *j, const char *json, const char *path, char *type, size_t len)
{
	static const char sql[] = "SELECT json_type(?1, ?2)";
	sqlite3_stmt *st = stmt(j, sql);
	int src;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
	src = sqlite3_step(st);
	snprintf(type, len, "%s", src == SQLITE_ROW && col_text(st, 0) ? col_text(st, 0) : "");
	sqlite3_reset(st);
	return src == SQLITE_ROW ? HF_OK : sqlite_err(j->db, "json", src);
}

int jlog_json_text(struct jlog *j, const char *json, const char *path, char **out)
{
	static const char sql[] =
		"SELECT CASE json_type(?1, ?2) WHEN 'object' THEN json_extract(?1, ?2)"
		" WHEN 'array' THEN json_extract(?1, ?2) WHEN 'true' THEN 'true'"
		" WHEN 'false' THEN 'false' ELSE CAST(json_extract(?1, ?2) AS TEXT) END";
	sqlite3_stmt *st = stmt(j, sql);
	int src;

	if (!st)
		return HF_EBUG;
	*out = NULL;
	sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW && col_text(st, 0) && !(*out = strdup(col_text(st, 0)))) {
		sqlite3_reset(st);
		return HF_ENOMEM;
	}
	sqlite3_reset(st);
	return src == SQLITE_ROW ? HF_OK : sqlite_err(j->db, "json", src);
}

int jlog_json_keys(struct jlog *j, const char *json, const char *path,
		   int (*cb)(const char *key, void *arg), void *arg)
{
	static const char sql[] = "SELECT key FROM json_each(?1, ?2) ORDER BY id";
	sqlite3_stmt *st = stmt(j, sql);
	int src;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		/* Copy: CB may run other JSON statements. */
		char key[256];
		snprintf(key, sizeof(key), "%s", col_text(st, 0) ? col_text(st, 0) : "");
		if (cb(key, arg))
			break;
	}
	sqlite3_reset(st);
	return src == SQLITE_ROW || src == SQLITE_DONE ? HF_OK : sqlite_err(j->db, "json", src);
}

int jlog_json_strict(struct jlog *j, const char *text, bool *rfc8259)
{
	/* Since 3.45 json_valid(X) means json_valid(X, 1): RFC 8259 text only
	** (https://sqlite.org/json1.html#jvalid); 2 would admit JSON5. */
	static const char sql[] = "SELECT json_valid(?1, 1)";
	sqlite3_stmt *st = stmt(j, sql);
	int src;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	src = sqlite3_step(st);
	*rfc8259 = src == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
	sqlite3_reset(st);
	return src == SQLITE_ROW ? HF_OK : sqlite_err(j->db, "json", src);
}

/* Copies column I of ST (a json_tree path: escapes are kept as written, so
** it is printable) into BUF[LEN], or "" for none. */
static void col_path(sqlite3_stmt *st, int i, char *buf, size_t len)
{
	snprintf(buf, len, "%s", col_text(st, i) ? col_text(st, i) : "");
}

int jlog_json_dup_key(struct jlog *j, const char *text, char *path, size_t len)
{
	/* json_tree lists every member, duplicates included, each with its
	** container's id: two rows with one parent and one key are a
	** duplicate (array members' keys are their distinct indexes). All
	** rows of a group share their fullkey. */
	static const char sql[] =
		"SELECT fullkey FROM json_tree(?1) WHERE parent IS NOT NULL"
		" GROUP BY parent, key HAVING count(*) > 1 ORDER BY min(id) LIMIT 1";
	sqlite3_stmt *st = stmt(j, sql);
	int src;

	if (!st)
		return HF_EBUG;
	path[0] = '\0';
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	if ((src = sqlite3_step(st)) == SQLITE_ROW)
		col_path(st, 0, path, len);
	sqlite3_reset(st);
	return src == SQLITE_ROW || src == SQLITE_DONE ? HF_OK : sqlite_err(j->db, "json", src);
}

int jlog_json_nul(struct jlog *j, const char *text, char *path, size_t len, bool *in_key)
{
	/* As blobs, so instr() sees the bytes past a NUL. */
	static const char sql[] =
		"SELECT fullkey, instr(CAST(key AS BLOB), x'00') > 0 FROM json_tree(?1)"
		" WHERE instr(CAST(key AS BLOB), x'00') > 0"
		" OR (type = 'text' AND instr(CAST(atom AS BLOB), x'00') > 0)"
		" ORDER BY id LIMIT 1";
	sqlite3_stmt *st = stmt(j, sql);
	int src;

	if (!st)
		return HF_EBUG;
	path[0] = '\0';
	*in_key = false;
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	if ((src = sqlite3_step(st)) == SQLITE_ROW) {
		col_path(st, 0, path, len);
		*in_key = sqlite3_column_int(st, 1) != 0;
	}
	sqlite3_reset(st);
	return src == SQLITE_ROW || src == SQLITE_DONE ? HF_OK : sqlite_err(j->db, "json", src);
}

int jlog_json_strings(struct jlog *j, const char *json, char ***v, int *n)
{
	static const char sql[] =
		"SELECT count(*), sum(length(CAST(value AS BLOB)) + 1) FROM json_each(?1)";
	static const char sql_each[] = "SELECT value FROM json_each(?1) ORDER BY key";
	sqlite3_stmt *st = stmt(j, sql);
	int64_t count, bytes;
	char **vec, *p;
	int i = 0, src;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
	if ((src = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		return sqlite_err(j->db, "json", src);
	}
	count = sqlite3_column_int64(st, 0);
	bytes = col_int_or(st, 1, 0);
	sqlite3_reset(st);
	vec = malloc((size_t)(count + 1) * sizeof(char *) + (size_t)bytes);
	if (!vec)
		return HF_ENOMEM;
	p = (char *)(vec + count + 1);
	if (!(st = stmt(j, sql_each))) {
		free(vec);
		return HF_EBUG;
	}
	sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
	while ((src = sqlite3_step(st)) == SQLITE_ROW && i < count) {
		int len = sqlite3_column_bytes(st, 0);
		memcpy(p, sqlite3_column_text(st, 0), (size_t)len + 1);
		vec[i++] = p;
		p += len + 1;
	}
	sqlite3_reset(st);
	vec[i] = NULL;
	*v = vec;
	*n = i;
	return HF_OK;
}

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
		return sqlite_err(j->db, "runnable", src);
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

	if (!(st = stmt(j, sql_pick_free)))
		return HF_EBUG;
	pick_bind(st, now, max);
	if ((rc = pick_collect(j, st, set)) != HF_OK)
		return rc;
	if (!(groups = stmt(j, sql_pick_groups)))
		return HF_EBUG;
	while (!set->full && (src = sqlite3_step(groups)) == SQLITE_ROW) {
		if (!(st = stmt(j, sql_pick_grp))) {
			sqlite3_reset(groups);
			return HF_EBUG;
		}
		pick_bind(st, now, max);
		sqlite3_bind_text(st, 4, col_text(groups, 0), -1, SQLITE_TRANSIENT);
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
	return src == SQLITE_DONE ? HF_OK : sqlite_err(j->db, "runnable groups", src);
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
		if (!(st = stmt(j, sql_pick_row))) {
			rc = HF_EBUG;
			goto out;
		}
		sqlite3_bind_int64(st, 1, set.v[i].id);
		if ((src = sqlite3_step(st)) != SQLITE_ROW) {
			sqlite3_reset(st);
			rc = src == SQLITE_DONE ? HF_EBUG : sqlite_err(j->db, "runnable row", src);
			goto out;
		}
		r.id = sqlite3_column_int64(st, 0);
		r.priority = sqlite3_column_int64(st, 1);
		r.attempts = sqlite3_column_int64(st, 2);
		r.group = col_text(st, 3);
		r.argv_json = col_text(st, 4);
		r.env_json = col_text(st, 5);
		r.cwd = col_text(st, 6);
		r.timeout_ms = (uint64_t)sqlite3_column_int64(st, 7);
		r.user = col_text(st, 8);
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
		" WHERE " RUNNABLE " AND " DELAYED " AND ready_boot = ?1 AND ready_mono_ms > ?2";
	sqlite3_stmt *st = stmt(j, sql);
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
	return src == SQLITE_ROW ? HF_OK : sqlite_err(j->db, "next ready", src);
}

int jlog_attempt_start(struct jlog *j, int64_t job, int64_t n, int64_t pid,
		       int64_t proc_start, const struct jlog_now *now)
{
	static const char sql_att[] =
		"INSERT INTO attempts(job, n, boot, pid, proc_start, start_mono_ms, start_utc_ms)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
	static const char sql_job[] =
		"UPDATE jobs SET state = 'running', attempts = ?2 WHERE id = ?1";
	sqlite3_stmt *st = stmt(j, sql_att);
	int rc;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_int64(st, 1, job);
	sqlite3_bind_int64(st, 2, n);
	sqlite3_bind_int64(st, 3, now->boot);
	sqlite3_bind_int64(st, 4, pid);
	sqlite3_bind_int64(st, 5, proc_start);
	sqlite3_bind_int64(st, 6, (int64_t)now->mono_ms);
	bind_utc(st, 7, now->utc_ms);
	if ((rc = step_done(j, st)) != HF_OK)
		return rc;
	if (!(st = stmt(j, sql_job)))
		return HF_EBUG;
	sqlite3_bind_int64(st, 1, job);
	sqlite3_bind_int64(st, 2, n);
	return step_done(j, st);
}

int jlog_output_add(struct jlog *j, int64_t job, int64_t n, int64_t seq, int stream,
		    const void *data, size_t len)
{
	static const char sql[] =
		"INSERT INTO output(job, n, seq, stream, data) VALUES (?1, ?2, ?3, ?4, ?5)";
	sqlite3_stmt *st = stmt(j, sql);

	if (!st)
		return HF_EBUG;
	sqlite3_bind_int64(st, 1, job);
	sqlite3_bind_int64(st, 2, n);
	sqlite3_bind_int64(st, 3, seq);
	sqlite3_bind_int(st, 4, stream);
	sqlite3_bind_blob(st, 5, data, (int)len, SQLITE_STATIC);
	return step_done(j, st);
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
	static const char sql_retry[] =
		"UPDATE jobs SET state = 'failed', failures = failures + 1,"
		" reason = ?2, ready_boot = ?3, ready_mono_ms = ?4 WHERE id = ?1";
	static const char sql_requeue[] =
		"UPDATE jobs SET state = 'queued', reason = ?2,"
		" ready_boot = ?3, ready_mono_ms = ?4 WHERE id = ?1";
	static const char sql_unclean[] =
		"UPDATE jobs SET unclean = iif(?2, unclean + 1, 0) WHERE id = ?1";
	static const char sql_unclean_count[] = "SELECT unclean FROM jobs WHERE id = ?1";
	static const char sql_count_failure[] =
		"UPDATE jobs SET failures = failures + 1 WHERE id = ?1";
	static const char sql_fail_count[] =
		"SELECT failures, retries, backoff_min_ms, backoff_max_ms FROM jobs WHERE id = ?1";
	sqlite3_stmt *st = stmt(j, sql_end);
	char why[160], dep_reason[200];
	int64_t failures, retries;
	uint64_t backoff_ms;
	bool unclean;
	int rc;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_int64(st, 1, job);
	sqlite3_bind_int64(st, 2, n);
	if (!e->end_unknown) {
		sqlite3_bind_int64(st, 3, now->boot);
		sqlite3_bind_int64(st, 4, (int64_t)now->mono_ms);
		bind_utc(st, 5, now->utc_ms);
	}
	sqlite3_bind_text(st, 6, e->reason, -1, SQLITE_STATIC);
	if (e->exit_code >= 0)
		sqlite3_bind_int64(st, 7, e->exit_code);
	if (e->signal >= 0)
		sqlite3_bind_int64(st, 8, e->signal);
	sqlite3_bind_int64(st, 9, e->out_bytes);
	sqlite3_bind_int(st, 10, e->out_truncated);
	if ((rc = step_done(j, st)) != HF_OK)
		return rc;

	/* Unclean ends in a row: a job running whenever the power goes may be
	** what browns the board out. Any other end breaks the series. */
	unclean = !strcmp(e->reason, "power-loss") || !strcmp(e->reason, "daemon-crash");
	if (!(st = stmt(j, sql_unclean)))
		return HF_EBUG;
	sqlite3_bind_int64(st, 1, job);
	sqlite3_bind_int(st, 2, unclean);
	if ((rc = step_done(j, st)) != HF_OK)
		return rc;
	if (unclean && e->quarantine_after > 0) {
		if (!(st = stmt(j, sql_unclean_count)))
			return HF_EBUG;
		sqlite3_bind_int64(st, 1, job);
		if (sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_int64(st, 0) >= e->quarantine_after) {
			snprintf(why, sizeof(why), "running during %lld unclean stops in a row "
				 "(last: %s); parked until holdfast retry",
				 (long long)sqlite3_column_int64(st, 0), e->reason);
			sqlite3_reset(st);
			return set_state(j, job, "quarantined", why, now);
		}
		sqlite3_reset(st);
	}

	if (!strcmp(e->reason, "exit") && e->exit_code == 0) {
		if ((rc = set_state(j, job, "succeeded", NULL, now)) != HF_OK)
			return rc;
		if (!(st = stmt(j, sql_release)))
			return HF_EBUG;
		sqlite3_bind_int64(st, 1, job);
		return step_done(j, st);
	}
	if (!strcmp(e->reason, "exit"))
		snprintf(why, sizeof(why), "attempt %lld exited with status %lld", (long long)n,
			 (long long)e->exit_code);
	else if (!strcmp(e->reason, "signal"))
		snprintf(why, sizeof(why), "attempt %lld killed by signal %lld", (long long)n,
			 (long long)e->signal);
	else
		snprintf(why, sizeof(why), "attempt %lld ended: %s", (long long)n, e->reason);

	if (!strcmp(e->reason, "cancelled")) {
		snprintf(dep_reason, sizeof(dep_reason), "dependency %lld was cancelled",
			 (long long)job);
		if ((rc = set_state(j, job, "cancelled", "cancelled by the user", now)))
			return rc;
		return kill_dependents(j, job, dep_reason, now);
	}
	if (!strcmp(e->reason, "shutdown") || unclean) {
		/* Not the job's fault: run it again, without spending a retry.
		** A job that keeps cutting the power was quarantined above. */
		if (!(st = stmt(j, sql_requeue)))
			return HF_EBUG;
		sqlite3_bind_int64(st, 1, job);
		sqlite3_bind_text(st, 2, why, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, now->boot);
		sqlite3_bind_int64(st, 4, (int64_t)now->mono_ms);
		return step_done(j, st);
	}
	if (!(st = stmt(j, sql_fail_count)))
		return HF_EBUG;
	sqlite3_bind_int64(st, 1, job);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return sqlite_err(j->db, "attempt end", SQLITE_ERROR);
	}
	failures = sqlite3_column_int64(st, 0) + 1;
	retries = sqlite3_column_int64(st, 1);
	backoff_ms = sched_backoff_ms((uint64_t)sqlite3_column_int64(st, 2),
				      (uint64_t)sqlite3_column_int64(st, 3), failures, rnd);
	sqlite3_reset(st);
	if (failures <= retries) {
		if (!(st = stmt(j, sql_retry)))
			return HF_EBUG;
		sqlite3_bind_int64(st, 1, job);
		sqlite3_bind_text(st, 2, why, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, now->boot);
		sqlite3_bind_int64(st, 4, (int64_t)(now->mono_ms + backoff_ms));
		return step_done(j, st);
	}
	if (retries > 0) {
		size_t l = strlen(why);
		snprintf(why + l, sizeof(why) - l, "; no retries left (%lld)", (long long)retries);
	}
	snprintf(dep_reason, sizeof(dep_reason), "dependency %lld dead: %s", (long long)job, why);
	if ((rc = set_state(j, job, "dead", why, now)) != HF_OK)
		return rc;
	if (!(st = stmt(j, sql_count_failure)))
		return HF_EBUG;
	sqlite3_bind_int64(st, 1, job);
	if ((rc = step_done(j, st)) != HF_OK)
		return rc;
	return kill_dependents(j, job, dep_reason, now);
}

int jlog_cancel_requested(struct jlog *j, int64_t job, bool *yes)
{
	static const char sql[] = "SELECT cancel_req FROM jobs WHERE id = ?1";
	sqlite3_stmt *st = stmt(j, sql);
	int src;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_int64(st, 1, job);
	src = sqlite3_step(st);
	*yes = src == SQLITE_ROW && sqlite3_column_int64(st, 0) != 0;
	sqlite3_reset(st);
	return src == SQLITE_ROW || src == SQLITE_DONE ? HF_OK : sqlite_err(j->db, "cancel", src);
}

/* ---- history: pruning finished jobs ---------------------------------------------- */

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
	bind_utc(st, 2, p->now_utc_ms);
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
	return src == SQLITE_DONE ? HF_OK : sqlite_err(j->db, "prune", src);
}

/* The jobs that depend on JOB, into *V (heap, *N). */
static int prune_dependents(struct jlog *j, int64_t job, int64_t **v, size_t *n)
{
	sqlite3_stmt *st = stmt(j, sql_prune_dependents);
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
	return src == SQLITE_DONE ? HF_OK : sqlite_err(j->db, "prune", src);
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
			if (!(st = stmt(p->j, sql_prune_job))) {
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
		sqlite3_stmt *st = stmt(p->j, sql_prune_run);
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
	sqlite3_stmt *st = stmt(j, desc ? sql_desc : sql_asc);
	int src;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_int64(st, 1, offset);
	src = sqlite3_step(st);
	*fin_seq = src == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return src == SQLITE_ROW || src == SQLITE_DONE ? HF_OK : sqlite_err(j->db, "prune", src);
}

/* Now on the device clock, and the finished jobs kept. */
static int prune_now(struct jlog *j, const struct jlog_now *now, int64_t *dev_ms,
		     int64_t *finished)
{
	static const char sql[] =
		"SELECT coalesce((SELECT base_ms FROM boots WHERE id = ?1) + ?2, dev_ms), finished"
		" FROM history";
	sqlite3_stmt *st = stmt(j, sql);
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
	return src == SQLITE_DONE ? HF_ECORRUPT : sqlite_err(j->db, "history", src);
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
	if (!(st = stmt(p->j, sql_prune_walk)))
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
		rc = sqlite_err(p->j->db, "prune", src);
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
	sqlite3_stmt *st = stmt(j, sql);
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
	return src == SQLITE_ROW ? HF_OK : sqlite_err(j->db, "prune", src);
}

/* Deletes the jobs IDS with their output, attempts and dependency rows, and
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
		"DELETE FROM attempts WHERE job IN " PRUNE_IDS,
		"DELETE FROM deps WHERE job IN " PRUNE_IDS,
		"DELETE FROM deps WHERE dep IN " PRUNE_IDS,
		"DELETE FROM jobs WHERE id IN " PRUNE_IDS,
		"DELETE FROM pipeline_runs WHERE id IN " PRUNE_IDS,
	};
	const struct jlog_prune_limits *l = p->l;
	sqlite3_stmt *st = stmt(p->j, sql_key);
	int rc;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_text(st, 1, ids, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, l->keep_failed_ms ? (int64_t)l->keep_failed_ms :
			   KEY_KEEP_DEFAULT_MS);
	sqlite3_bind_int64(st, 3, l->keep_ms ? (int64_t)l->keep_ms : KEY_KEEP_DEFAULT_MS);
	sqlite3_bind_int64(st, 4, p->now_dev_ms);
	if ((rc = step_done(p->j, st)) != HF_OK)
		return rc;
	for (size_t i = 0; i < sizeof(sql_del) / sizeof(sql_del[0]); i++) {
		if (!(st = stmt(p->j, sql_del[i])))
			return HF_EBUG;
		sqlite3_bind_text(st, 1, i + 1 < sizeof(sql_del) / sizeof(sql_del[0]) ? ids : runs,
				  -1, SQLITE_STATIC);
		if ((rc = step_done(p->j, st)) != HF_OK)
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
	sqlite3_stmt *st;
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
		    ((rc = step_done(p->j, stmt(p->j, sql_ids))) != HF_OK ||
		     (rc = prune_delete(p, ids, runs)) != HF_OK))
			goto out;
	}
	rc = HF_OK;
	if (p->l->dry_run)
		goto out;
	if (!(st = stmt(p->j, sql_keys))) {
		rc = HF_EBUG;
		goto out;
	}
	sqlite3_bind_int64(st, 1, p->now_dev_ms);
	sqlite3_bind_int64(st, 2, p->l->max_jobs > 0 ? p->l->max_jobs : 1000);
	rc = step_done(p->j, st);
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
	sqlite3_stmt *st = stmt(p->j, sql);
	int rc;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_int64(st, 1, now->boot);
	sqlite3_bind_int64(st, 2, (int64_t)now->mono_ms);
	bind_utc(st, 3, now->utc_ms);
	sqlite3_bind_int64(st, 4, p->now_dev_ms);
	sqlite3_bind_int64(st, 5, removed);
	sqlite3_bind_int64(st, 6, PRUNE_RECORD_EVERY_MS);
	if ((rc = step_done(p->j, st)) != HF_OK)
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
	if ((rc = query_text(j->db, "PRAGMA auto_vacuum", v, sizeof(v))) != HF_OK)
		return rc;
	if (strcmp(v, "2") != 0 && !j->vacuum_tried) {
		j->vacuum_tried = true;
		to_incremental(j);
		if ((rc = query_text(j->db, "PRAGMA auto_vacuum", v, sizeof(v))) != HF_OK)
			return rc;
	}
	if (strcmp(v, "2") != 0) {
		if ((rc = query_text(j->db, "PRAGMA freelist_count", v, sizeof(v))) == HF_OK)
			*left = strtoll(v, NULL, 10);
		return rc == HF_OK ? HF_ENOTSUP : rc;
	}
	if ((rc = jlog_begin(j)) != HF_OK)
		return rc;
	snprintf(sql, sizeof(sql), "PRAGMA incremental_vacuum(%lld)",
		 (long long)(max_pages > 0 ? max_pages : 0));
	if ((rc = exec(j->db, sql)) != HF_OK ||
	    (rc = query_text(j->db, "PRAGMA freelist_count", v, sizeof(v))) != HF_OK) {
		jlog_rollback(j);
		return rc;
	}
	*left = strtoll(v, NULL, 10);
	return jlog_commit(j);
}

bool jlog_is_incremental(struct jlog *j)
{
	char v[16];

	return query_text(j->db, "PRAGMA auto_vacuum", v, sizeof(v)) == HF_OK && !strcmp(v, "2");
}

int jlog_history_get(struct jlog *j, struct jlog_history *h)
{
	static const char sql[] =
		"SELECT finished, coalesce(last_boot, 0), coalesce(last_mono_ms, 0),"
		" coalesce(last_utc_ms, 0), last_jobs, total_jobs,"
		" (SELECT page_count FROM pragma_page_count()),"
		" (SELECT freelist_count FROM pragma_freelist_count()),"
		" (SELECT page_size FROM pragma_page_size()) FROM history";
	sqlite3_stmt *st = stmt(j, sql);
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
	return src == SQLITE_DONE ? HF_ECORRUPT : sqlite_err(j->db, "history", src);
}

int jlog_last_run(struct jlog *j, bool *found, bool *clean)
{
	static const char sql[] = "SELECT clean FROM daemon_runs ORDER BY id DESC LIMIT 1";
	sqlite3_stmt *st = stmt(j, sql);
	int src;

	if (!st)
		return HF_EBUG;
	src = sqlite3_step(st);
	*found = src == SQLITE_ROW;
	*clean = *found && sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	return src == SQLITE_ROW || src == SQLITE_DONE ? HF_OK : sqlite_err(j->db, "runs", src);
}

int jlog_run_start(struct jlog *j, int64_t pid, const struct jlog_now *now, int64_t *run)
{
	static const char sql[] =
		"INSERT INTO daemon_runs(boot, pid, start_mono_ms, start_utc_ms)"
		" VALUES (?1, ?2, ?3, ?4)";
	sqlite3_stmt *st = stmt(j, sql);
	int rc;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_int64(st, 1, now->boot);
	sqlite3_bind_int64(st, 2, pid);
	sqlite3_bind_int64(st, 3, (int64_t)now->mono_ms);
	bind_utc(st, 4, now->utc_ms);
	if ((rc = step_done(j, st)) == HF_OK)
		*run = sqlite3_last_insert_rowid(j->db);
	return rc;
}

int jlog_run_clean(struct jlog *j, int64_t run, const struct jlog_now *now)
{
	static const char sql[] =
		"UPDATE daemon_runs SET clean = 1, end_mono_ms = ?2, end_utc_ms = ?3 WHERE id = ?1";
	sqlite3_stmt *st = stmt(j, sql);

	if (!st)
		return HF_EBUG;
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_int64(st, 2, (int64_t)now->mono_ms);
	bind_utc(st, 3, now->utc_ms);
	return step_done(j, st);
}

int jlog_open_attempts(struct jlog *j,
		       int (*cb)(const struct jlog_open_attempt *a, void *arg), void *arg)
{
	static const char sql[] =
		"SELECT a.job, a.n, a.boot, a.pid, a.proc_start FROM jobs j"
		" JOIN attempts a ON a.job = j.id AND a.n = j.attempts"
		" WHERE j.state = 'running' AND a.end_reason IS NULL";
	sqlite3_stmt *st = stmt(j, sql);
	struct jlog_open_attempt a;
	int src;

	if (!st)
		return HF_EBUG;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		a.job = sqlite3_column_int64(st, 0);
		a.n = sqlite3_column_int64(st, 1);
		a.boot = sqlite3_column_int64(st, 2);
		a.pid = sqlite3_column_int64(st, 3);
		a.proc_start = sqlite3_column_int64(st, 4);
		if (cb(&a, arg))
			break;
	}
	sqlite3_reset(st);
	return src == SQLITE_ROW || src == SQLITE_DONE ? HF_OK : sqlite_err(j->db, "open attempts", src);
}

int jlog_wal_bytes(struct jlog *j, int64_t *bytes)
{
	const char *db = sqlite3_db_filename(j->db, "main");
	const char *wal = db ? sqlite3_filename_wal(db) : NULL;
	int64_t mtime_ns;
	uint64_t size;

	*bytes = 0;
	if (!wal)
		return HF_EBUG;
	if (port_fs_stamp(wal, &size, &mtime_ns) == HF_OK)
		*bytes = (int64_t)size;
	return HF_OK;
}

int jlog_checkpoint(struct jlog *j, bool *done)
{
	int log = 0, ckpt = 0;
	int src = sqlite3_wal_checkpoint_v2(j->db, "main", SQLITE_CHECKPOINT_TRUNCATE, &log, &ckpt);

	if (src == SQLITE_BUSY) {
		/* A reader holds an old snapshot: copy what we can, truncate later. */
		src = sqlite3_wal_checkpoint_v2(j->db, "main", SQLITE_CHECKPOINT_PASSIVE, &log,
						&ckpt);
		*done = false;
		return src == SQLITE_OK || src == SQLITE_BUSY ? HF_OK :
			sqlite_err(j->db, "checkpoint", src);
	}
	*done = src == SQLITE_OK;
	return src == SQLITE_OK ? HF_OK : sqlite_err(j->db, "checkpoint", src);
}

int jlog_checkpoint_now(struct jlog *j, bool *done)
{
	int rc;

	sqlite3_busy_timeout(j->db, 0);
	rc = jlog_checkpoint(j, done);
	sqlite3_busy_timeout(j->db, JLOG_BUSY_TIMEOUT_MS);
	return rc;
}

const char *jlog_path(struct jlog *j)
{
	return sqlite3_db_filename(j->db, "main");
}

int jlog_page_size(struct jlog *j, uint32_t *page_size)
{
	char v[32];
	int rc = query_text(j->db, "PRAGMA page_size", v, sizeof(v));

	*page_size = rc == HF_OK ? (uint32_t)strtoul(v, NULL, 10) : 0;
	return rc;
}

int jlog_snapshot(struct jlog *j, int (*fn)(void *arg, uint32_t pgno, const void *page),
		  void *arg, uint32_t *npages)
{
	sqlite3_stmt *st = NULL;
	uint32_t page_size;
	int rc, src;

	if ((rc = jlog_page_size(j, &page_size)) != HF_OK)
		return rc;
	*npages = 0;
	src = sqlite3_prepare_v2(j->db, "SELECT pgno, data FROM sqlite_dbpage ORDER BY pgno", -1,
				 &st, NULL);
	if (src != SQLITE_OK)
		return sqlite_err(j->db, "snapshot", src);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 1) != (int)page_size) {
			port_log("job log: snapshot: page of %d bytes, expected %u",
				 sqlite3_column_bytes(st, 1), page_size);
			sqlite3_finalize(st);
			return HF_EBUG;
		}
		if ((rc = fn(arg, (uint32_t)sqlite3_column_int64(st, 0), sqlite3_column_blob(st, 1)))) {
			sqlite3_finalize(st);
			return rc;
		}
		(*npages)++;
	}
	sqlite3_finalize(st);
	return src == SQLITE_DONE ? HF_OK : sqlite_err(j->db, "snapshot", src);
}

int jlog_checkpoint_held(struct jlog *j, bool *complete, uint32_t *wal_frames)
{
	int log = 0, ckpt = 0, src, on = 0;

	*complete = false;
	*wal_frames = 0;
	if (!j->ckpt_db) {
		int rc = open_db(jlog_path(j), NULL, SQLITE_OPEN_READWRITE, &j->ckpt_db);
		if (rc != HF_OK)
			return rc;
		if (sqlite3_db_config(j->ckpt_db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, &on) !=
			    SQLITE_OK || !on || (rc = configure(j->ckpt_db)) != HF_OK) {
			sqlite3_close(j->ckpt_db);
			j->ckpt_db = NULL;
			return rc ? rc : HF_ENOTSUP;
		}
	}
	src = sqlite3_wal_checkpoint_v2(j->ckpt_db, "main", SQLITE_CHECKPOINT_PASSIVE, &log, &ckpt);
	if (src != SQLITE_OK && src != SQLITE_BUSY)
		return sqlite_err(j->ckpt_db, "checkpoint", src);
	*complete = src == SQLITE_OK && log >= 0 && ckpt == log;
	*wal_frames = log > 0 ? (uint32_t)log : 0;
	return HF_OK;
}

int jlog_quick_check_file(const char *path, bool *ok, char *problem, size_t len)
{
	struct sqlite3 *db = NULL;
	int rc;

	*ok = false;
	snprintf(problem, len, "not checked");
	if ((rc = open_db(path, NULL, SQLITE_OPEN_READONLY, &db)) != HF_OK)
		return rc;
	rc = query_text(db, "PRAGMA quick_check", problem, len);
	if (rc == HF_ECORRUPT) {
		/* A database too broken to check is not ok either. */
		snprintf(problem, len, "the check itself failed: database disk image is malformed");
		rc = HF_OK;
	} else if (rc == HF_OK) {
		*ok = strcmp(problem, "ok") == 0;
	}
	sqlite3_close(db);
	return rc;
}

int jlog_integrity_file(const char *path, bool *ok, char *problem, size_t len)
{
	struct sqlite3 *db = NULL;
	int rc;

	*ok = false;
	if ((rc = open_db(path, NULL, SQLITE_OPEN_READWRITE, &db)) != HF_OK)
		return rc;
	rc = query_text(db, "PRAGMA integrity_check", problem, len);
	if (rc == HF_ECORRUPT) {
		snprintf(problem, len, "database disk image is malformed");
		rc = HF_OK;
	} else if (rc == HF_OK) {
		*ok = strcmp(problem, "ok") == 0;
	}
	sqlite3_close(db);
	return rc;
}

const char *jlog_sqlite_version(void)
{
	return sqlite3_libversion();
}

const char *jlog_sqlite_sourceid(void)
{
	return sqlite3_sourceid();
}

/* ---- history export (issue 16) ------------------------------------------------------ */

/*
** The export's state and its gap trigger (export.c says how they are used).
** Kept by the log, not the spool: the watermark must move in the same
** history as the jobs it bounds, and it is shipped like them.
**   history_export  one row: active (a replica is configured), the watermark
**                   upto, the part in flight (its fin_seq range and replica
**                   path, so a part cut by a crash is written again the same,
**                   never as a second overlapping part), and totals
**   history_gaps    finished jobs pruned before they were exported, merged
**                   into ranges; "open" marks the one the trigger adds to,
**                   closed ones wait to be written to the replica
** The trigger costs a one-row lookup per deleted job. Only a job past the
** watermark counts (fin_seq is NULL for unfinished jobs: never a gap).
*/
/* Version 7. */
static const char schema_export[] =
	"CREATE TABLE history_export("
	"  id INTEGER PRIMARY KEY CHECK(id = 1),"
	"  active INTEGER NOT NULL DEFAULT 0,"
	"  upto INTEGER NOT NULL DEFAULT 0,"
	"  flight_first INTEGER, flight_last INTEGER, flight_path TEXT,"
	"  parts INTEGER NOT NULL DEFAULT 0, jobs INTEGER NOT NULL DEFAULT 0,"
	"  bytes INTEGER NOT NULL DEFAULT 0,"
	"  gaps INTEGER NOT NULL DEFAULT 0, gap_jobs INTEGER NOT NULL DEFAULT 0,"
	"  last_boot INTEGER, last_mono_ms INTEGER, last_utc_ms INTEGER"
	") STRICT;"
	"INSERT INTO history_export(id) VALUES (1);"
	"CREATE TABLE history_gaps("
	"  id INTEGER PRIMARY KEY,"
	"  lo INTEGER NOT NULL, hi INTEGER NOT NULL, jobs INTEGER NOT NULL,"
	"  open INTEGER CHECK(open = 1),"
	"  upto INTEGER"
	") STRICT;"
	"CREATE UNIQUE INDEX history_gaps_open ON history_gaps(open) WHERE open IS NOT NULL;"
	"CREATE TRIGGER history_gap AFTER DELETE ON jobs"
	"  WHEN OLD.fin_seq > (SELECT upto FROM history_export WHERE id = 1 AND active)"
	" BEGIN"
	"  INSERT INTO history_gaps(lo, hi, jobs, open) VALUES (OLD.fin_seq, OLD.fin_seq, 1, 1)"
	"   ON CONFLICT(open) WHERE open IS NOT NULL DO UPDATE SET"
	"   lo = min(lo, excluded.lo), hi = max(hi, excluded.hi), jobs = jobs + 1;"
	" END;";

int jlog_export_get(struct jlog *j, struct jlog_export_state *s)
{
	static const char sql[] =
		"SELECT active, upto, flight_first, flight_last, flight_path, parts, jobs, bytes,"
		" gaps, gap_jobs, last_boot, last_mono_ms, last_utc_ms,"
		" (SELECT coalesce(sum(g.jobs), 0) FROM history_gaps g),"
		" (SELECT count(*) FROM jobs WHERE fin_seq > h.upto)"
		" FROM history_export h WHERE id = 1";
	sqlite3_stmt *st = stmt(j, sql);
	int src;

	memset(s, 0, sizeof(*s));
	s->last_utc_ms = -1;
	if (!st)
		return HF_EBUG;
	if ((src = sqlite3_step(st)) == SQLITE_ROW) {
		const char *path = col_text(st, 4);
		s->active = sqlite3_column_int64(st, 0) != 0;
		s->upto = sqlite3_column_int64(st, 1);
		s->flight_first = col_int_or(st, 2, 0);
		s->flight_last = col_int_or(st, 3, 0);
		snprintf(s->flight_path, sizeof(s->flight_path), "%s", path ? path : "");
		s->parts = sqlite3_column_int64(st, 5);
		s->jobs = sqlite3_column_int64(st, 6);
		s->bytes = sqlite3_column_int64(st, 7);
		s->gaps = sqlite3_column_int64(st, 8);
		s->gap_jobs = sqlite3_column_int64(st, 9);
		s->last_boot = col_int_or(st, 10, 0);
		s->last_mono_ms = (uint64_t)col_int_or(st, 11, 0);
		s->last_utc_ms = col_int_or(st, 12, -1);
		s->open_gap_jobs = sqlite3_column_int64(st, 13);
		s->pending = sqlite3_column_int64(st, 14);
		src = SQLITE_DONE;
	}
	sqlite3_reset(st);
	return src == SQLITE_DONE ? HF_OK : sqlite_err(j->db, "export state", src);
}

/* Runs SQL (a string constant, parameters ?1.. bound from V[0..N-1]) in a
** transaction of its own. */
static int export_write(struct jlog *j, const char *sql, const int64_t *v, int n)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = jlog_begin(j)) != HF_OK)
		return rc;
	if (!(st = stmt(j, sql))) {
		jlog_rollback(j);
		return HF_EBUG;
	}
	for (int i = 0; i < n; i++)
		sqlite3_bind_int64(st, i + 1, v[i]);
	if ((rc = step_done(j, st)) != HF_OK) {
		jlog_rollback(j);
		return rc;
	}
	return jlog_commit(j);
}

int jlog_export_activate(struct jlog *j, bool on)
{
	static const char sql_is[] = "SELECT active FROM history_export WHERE id = 1";
	static const char sql_set[] = "UPDATE history_export SET active = ?1 WHERE id = 1";
	sqlite3_stmt *st = stmt(j, sql_is);
	int64_t v = on;
	bool is;

	if (!st)
		return HF_EBUG;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return sqlite_err(j->db, "export state", SQLITE_ERROR);
	}
	is = sqlite3_column_int64(st, 0) != 0;
	sqlite3_reset(st);
	return is == on ? HF_OK : export_write(j, sql_set, &v, 1);
}

int jlog_export_upto(struct jlog *j, int64_t *upto)
{
	static const char sql[] =
		"SELECT iif(active, upto, -1) FROM history_export WHERE id = 1";
	sqlite3_stmt *st = stmt(j, sql);
	int src;

	*upto = -1;
	if (!st)
		return HF_EBUG;
	if ((src = sqlite3_step(st)) == SQLITE_ROW) {
		*upto = sqlite3_column_int64(st, 0);
		src = SQLITE_DONE;
	}
	sqlite3_reset(st);
	return src == SQLITE_DONE ? HF_OK : sqlite_err(j->db, "export watermark", src);
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
	sqlite3_stmt *st = stmt(j, sql);
	int src;

	memset(p, 0, sizeof(*p));
	if (!st)
		return HF_EBUG;
	sqlite3_bind_int64(st, 1, max_jobs + 1);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		const char *day = col_text(st, 1);
		if (!p->jobs) {
			p->first = sqlite3_column_int64(st, 0);
			snprintf(p->day, sizeof(p->day), "%s", day ? day : "");
			p->first_end_boot = col_int_or(st, 2, 0);
			p->first_end_mono_ms = (uint64_t)col_int_or(st, 3, 0);
			p->first_end_utc_ms = col_int_or(st, 4, -1);
			p->first_failed = sqlite3_column_int64(st, 5) != 0;
		} else if (!day || strcmp(day, p->day) != 0 || p->jobs == max_jobs) {
			p->closed = true;
			break;
		}
		p->last = sqlite3_column_int64(st, 0);
		p->jobs++;
	}
	sqlite3_reset(st);
	return src == SQLITE_ROW || src == SQLITE_DONE ? HF_OK : sqlite_err(j->db, "export plan", src);
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

	unpin(j);
	if ((src = sqlite3_prepare_v2(j->db, sql_chunks, -1, &h.chunks, NULL)) != SQLITE_OK)
		return sqlite_err(j->db, "export", src);
	src = sqlite3_create_function_v2(j->db, "hf_output_head", 2, SQLITE_UTF8, &h,
					 output_head_fn, NULL, NULL, NULL);
	if (src != SQLITE_OK) {
		rc = sqlite_err(j->db, "export", src);
		goto out;
	}
	/* Not cached: the function it calls is registered only for this call. */
	if ((src = sqlite3_prepare_v2(j->db, sql, -1, &st, NULL)) != SQLITE_OK) {
		rc = sqlite_err(j->db, "export", src);
		goto out;
	}
	sqlite3_bind_int64(st, 1, first);
	sqlite3_bind_int64(st, 2, last);
	sqlite3_bind_text(st, 3, device, -1, SQLITE_STATIC);
	while ((src = sqlite3_step(st)) == SQLITE_ROW)
		if (cb(sqlite3_column_int64(st, 0), col_text(st, 1),
		       (size_t)sqlite3_column_bytes(st, 1), arg))
			break;
	rc = src == SQLITE_ROW || src == SQLITE_DONE ? HF_OK : sqlite_err(j->db, "export", src);
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
	sqlite3_stmt *st;
	int rc;

	if ((rc = jlog_begin(j)) != HF_OK)
		return rc;
	if (!(st = stmt(j, sql))) {
		jlog_rollback(j);
		return HF_EBUG;
	}
	sqlite3_bind_int64(st, 1, first);
	sqlite3_bind_int64(st, 2, last);
	sqlite3_bind_text(st, 3, path, -1, SQLITE_STATIC);
	if ((rc = step_done(j, st)) != HF_OK) {
		jlog_rollback(j);
		return rc;
	}
	return jlog_commit(j);
}

int jlog_export_done(struct jlog *j, int64_t last, int64_t jobs, int64_t bytes,
		     const struct jlog_now *now)
{
	static const char sql[] =
		"UPDATE history_export SET upto = max(upto, ?1), flight_first = NULL,"
		" flight_last = NULL, flight_path = NULL, parts = parts + 1, jobs = jobs + ?2,"
		" bytes = bytes + ?3, last_boot = ?4, last_mono_ms = ?5,"
		" last_utc_ms = iif(?6 >= 0, ?6, NULL) WHERE id = 1";
	int64_t v[] = { last, jobs, bytes, now->boot, (int64_t)now->mono_ms, now->utc_ms };

	return export_write(j, sql, v, 6);
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
	sqlite3_stmt *st = stmt(j, sql_open);
	size_t n = 0;
	int src, rc;
	bool open;

	if (!st)
		return HF_EBUG;
	open = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	if (open && (rc = export_write(j, sql_close, NULL, 0)) != HF_OK)
		return rc;
	if (!(st = stmt(j, sql_list)))
		return HF_EBUG;
	/* Gathered first: the callback writes to the replica, which must not
	** happen with a read snapshot held (it would pin the WAL). */
	while (n < 16 && (src = sqlite3_step(st)) == SQLITE_ROW) {
		g[n].id = sqlite3_column_int64(st, 0);
		g[n].lo = sqlite3_column_int64(st, 1);
		g[n].hi = sqlite3_column_int64(st, 2);
		g[n].jobs = sqlite3_column_int64(st, 3);
		g[n].upto = col_int_or(st, 4, 0);
		n++;
	}
	sqlite3_reset(st);
	if (n < 16 && src != SQLITE_DONE)
		return sqlite_err(j->db, "export gaps", src);
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
	sqlite3_stmt *st;
	int rc;

	if ((rc = jlog_begin(j)) != HF_OK)
		return rc;
	if (!(st = stmt(j, sql_del))) {
		rc = HF_EBUG;
		goto out_rollback;
	}
	sqlite3_bind_int64(st, 1, g->id);
	if ((rc = step_done(j, st)) != HF_OK)
		goto out_rollback;
	if (!(st = stmt(j, sql_count))) {
		rc = HF_EBUG;
		goto out_rollback;
	}
	sqlite3_bind_int64(st, 1, g->jobs);
	if ((rc = step_done(j, st)) != HF_OK)
		goto out_rollback;
	return jlog_commit(j);

out_rollback:
	jlog_rollback(j);
	return rc;
}
