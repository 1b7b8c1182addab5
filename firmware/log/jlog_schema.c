/*
** jlog_schema.c: the job log's schema, version by version, and the
** migrations between them: a new log is made at the latest version
** (jlog_create), an older one is brought up to it in one transaction when it
** is opened (jlog_migrate), so a power cut leaves the old schema or the new,
** never a mix. Each version's SQL says why it exists; jlog.h has the number.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/jlog_int.h"
#include "port.h"

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
static const char schema_v9[] =
	"DROP INDEX jobs_wake;"
	"CREATE INDEX jobs_wake ON jobs(ready_boot, ready_mono_ms)"
	"  WHERE state IN ('queued','failed') AND waiting = 0 AND " JLOG_DELAYED ";";

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
/* The triggers that keep the counts, over the states EACH names. */
#define COUNT_TRIGGERS(EACH) \
	"CREATE TRIGGER counts_insert AFTER INSERT ON jobs BEGIN" \
	"  UPDATE history SET " EACH(COUNT_ADD, "NEW", "+") ";" \
	" END;" \
	"CREATE TRIGGER counts_delete AFTER DELETE ON jobs BEGIN" \
	"  UPDATE history SET " EACH(COUNT_ADD, "OLD", "-") ";" \
	" END;" \
	"CREATE TRIGGER counts_update AFTER UPDATE OF state ON jobs" \
	"  WHEN OLD.state IS NOT NEW.state BEGIN" \
	"  UPDATE history SET " EACH(COUNT_MOVE, 0) ";" \
	" END;"
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
	COUNT_TRIGGERS(COUNTS_EACH)

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

/*
** Version 12 (durable workflows, issue 19): the steps of a job, each recorded
** once by `holdfast step` (app/cmd_step.c) and replayed from here on the job's
** later attempts. Keyed by (job, name), so a later attempt finds its record
** with one seek and a job's steps are one range: listed by show, deleted
** with the job by the prune. No index beyond the key: a step's commit writes
** its row (and its output's overflow pages) and nothing else.
**   attempt     the attempt that ran the step's command
**   argv        its command (JSON), to say when a replay's differs
**   exit_code, signal   how it ended (NULL for the other)
**   output      its stdout as recorded, up to the step's cap
**   boot, *_mono_ms, *_utc_ms   when it ran (wall time NULL if untrusted)
**   replayed    how many times a later call took the record instead
*/
static const char schema_v12[] =
	"CREATE TABLE steps("
	"  job INTEGER NOT NULL REFERENCES jobs(id),"
	"  name TEXT NOT NULL,"
	"  attempt INTEGER NOT NULL,"
	"  argv TEXT NOT NULL,"
	"  exit_code INTEGER, signal INTEGER,"
	"  output BLOB NOT NULL,"
	"  boot INTEGER NOT NULL,"
	"  start_mono_ms INTEGER NOT NULL, start_utc_ms INTEGER,"
	"  end_mono_ms INTEGER NOT NULL, end_utc_ms INTEGER,"
	"  replayed INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY(job, name)"
	") STRICT, WITHOUT ROWID;";

/*
** Version 13 (durable workflows, issue 19): messages sent by `holdfast send`
** and not yet taken by a waiting step (`holdfast step wait NAME --event
** TOPIC`). A step takes one by deleting it and recording its data as the
** step's output in one transaction: so a message is delivered once, to one
** step, and a taken message is found in its step's record, not here. The
** index is the order a topic's messages are taken in (oldest first).
**   topic       what a waiting step asks for (a step name's rules)
**   data        what the sender gave, up to JLOG_MSG_DATA_MAX bytes
**   boot, sent_mono_ms, sent_utc_ms   when it was sent (wall time NULL if
**               untrusted)
*/
static const char schema_v13[] =
	"CREATE TABLE messages("
	"  id INTEGER PRIMARY KEY,"
	"  topic TEXT NOT NULL,"
	"  data BLOB NOT NULL,"
	"  boot INTEGER NOT NULL,"
	"  sent_mono_ms INTEGER NOT NULL, sent_utc_ms INTEGER"
	") STRICT;"
	"CREATE INDEX messages_topic ON messages(topic, id);";

/*
** Version 14 (durable workflows, issue 19): parked jobs. A step that sleeps
** or waits for a message longer than [jobs] park_after asks the daemon to end
** its attempt; the job is then "parked" (a state of its own, not runnable)
** until its wake time (ready_boot, ready_mono_ms, in the boot it parked in;
** any later boot wakes it) or, when parks has a row for it, a message for
** that row's topic. The attempt ends "parked": no retry is spent. A request
** to park is cancel_req = 2 (1 is the user's cancel). The topic has a table
** of its own because a column added to jobs (STRICT) costs SQLite's ALTER
** TABLE a check of every row: 2.2 s on a million-job log, measured.
**
** 'parked' joins the CHECK constraints of jobs.state and attempts.end_reason.
** Rebuilding both tables for that would rewrite every row of a million-job
** log. A CHECK that allows one value more accepts every row stored, which is
** the case SQLite's ALTER TABLE page allows editing the schema text for
** (writable_schema, then schema_version moved on so that every connection
** reads the schema again), in the migration's one transaction; parked_checked
** makes sure the edit matched once in each table. The counts by state gain
** n_parked, and their triggers are made again with it.
*/
#define COUNTS_EACH14(F, ...) COUNTS_EACH(F, __VA_ARGS__) "," F("parked", __VA_ARGS__)
static const char schema_v14[] =
	"CREATE TABLE parks("
	"  job INTEGER PRIMARY KEY,"
	"  topic TEXT NOT NULL"
	") STRICT;"
	"ALTER TABLE history ADD COLUMN " COUNT_COL("parked") ";"
	"DROP TRIGGER counts_insert;"
	"DROP TRIGGER counts_delete;"
	"DROP TRIGGER counts_update;"
	COUNT_TRIGGERS(COUNTS_EACH14)
	"PRAGMA writable_schema=ON;"
	"UPDATE sqlite_schema SET sql = replace(sql, '''quarantined''))',"
	"  '''quarantined'',''parked''))') WHERE type = 'table' AND name = 'jobs';"
	"UPDATE sqlite_schema SET sql = replace(sql, '''spawn-error''))',"
	"  '''spawn-error'',''parked''))') WHERE type = 'table' AND name = 'attempts';"
	"PRAGMA writable_schema=OFF;";

/* Whether both CHECK constraints now allow 'parked', once each. */
static int parked_checked(struct jlog *j)
{
	char v[32];
	int rc;

	rc = jlog_query_text(j->db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
			     " AND ((name = 'jobs' AND sql LIKE '%''quarantined'',''parked''))%')"
			     " OR (name = 'attempts' AND sql LIKE '%''spawn-error'',''parked''))%'))"
			     " AND sql NOT LIKE '%''parked''%''parked''%'", v, sizeof(v));
	if (rc != HF_OK)
		return rc;
	if (strcmp(v, "2") != 0) {
		port_log("job log: its jobs or attempts table is not as holdfast made it; "
			 "'parked' could not be added to their states (nothing was changed)");
		return HF_ECORRUPT;
	}
	return HF_OK;
}

/* Moves the schema cookie on, so that every connection, this one too, reads
** the edited schema again. */
static int schema_bump(struct jlog *j)
{
	char v[32], sql[64];
	int rc;

	if ((rc = jlog_query_text(j->db, "PRAGMA schema_version", v, sizeof(v))) != HF_OK)
		return rc;
	snprintf(sql, sizeof(sql), "PRAGMA schema_version=%lld", strtoll(v, NULL, 10) + 1);
	return jlog_db_exec(j->db, sql);
}

/*
** The export's state and its gap trigger (ship/export.c says how they are used).
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
	rc = jlog_open_db(path, vfs, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &db);
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
	if ((rc = jlog_db_exec(db, page)))
		goto out_close;
	if (version >= 5 && (rc = jlog_db_exec(db, "PRAGMA auto_vacuum=INCREMENTAL")))
		goto out_close;
	if ((rc = jlog_db_exec(db, "PRAGMA journal_mode=WAL")) ||
	    (rc = jlog_configure(db)) ||
	    (rc = jlog_db_exec(db, sql)) ||
	    (rc = jlog_verify_db(db)))
		goto out_close;
	memset(&j, 0, sizeof(j));
	j.db = db;
	if ((rc = jlog_migrate(&j, version)) != HF_OK)
		goto out_close;
	if (sqlite3_close(db) != SQLITE_OK) {
		rc = jlog_sqlite_err(db, "close", SQLITE_BUSY);
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
int jlog_to_incremental(struct jlog *j)
{
	char v[16];
	int rc;

	if ((rc = jlog_query_text(j->db, "PRAGMA auto_vacuum", v, sizeof(v))) != HF_OK)
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
	if ((rc = jlog_db_exec(j->db, "PRAGMA temp_store=FILE")) == HF_OK &&
	    (rc = jlog_db_exec(j->db, "PRAGMA auto_vacuum=INCREMENTAL")) == HF_OK)
		rc = jlog_db_exec(j->db, "VACUUM");
	jlog_db_exec(j->db, "PRAGMA temp_store=DEFAULT");
	jlog_leave_turnstile(j);
	if (rc == HF_OK && (rc = jlog_query_text(j->db, "PRAGMA auto_vacuum", v, sizeof(v))) == HF_OK &&
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
		return jlog_sqlite_err(j->db, "attempts' indexes", src);
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
		rc = jlog_sqlite_err(j->db, "attempts' indexes", src);
		goto out;
	}
	if ((rc = jlog_db_exec(j->db, "PRAGMA legacy_alter_table=ON")) ||
	    (rc = jlog_db_exec(j->db, "ALTER TABLE attempts RENAME TO attempts_rowid")) ||
	    (rc = jlog_db_exec(j->db, "PRAGMA legacy_alter_table=OFF")) ||
	    (rc = jlog_db_exec(j->db, attempts_v6)))
		goto out;
	for (i = 0; i < n && rc == HF_OK; i++)
		rc = jlog_db_exec(j->db, again[i]);
out:
	sqlite3_finalize(st);
	for (i = 0; i < n; i++)
		free(again[i]);
	free(again);
	return rc;
}

int jlog_migrate(struct jlog *j, long target)
{
	char v[32], sql[48];
	long version, from;
	bool fk_off;
	int rc;

	if ((rc = jlog_query_text(j->db, "PRAGMA user_version", v, sizeof(v))) != HF_OK)
		return rc;
	version = strtol(v, NULL, 10);
	if (version == target)
		return HF_OK;
	if (version > JLOG_SCHEMA_VERSION) {
		jlog_say_newer(version);
		return HF_ENOTSUP;
	}
	/* Version 5 rebuilds the jobs table, which others reference: with
	** foreign keys on, DROP TABLE would first delete every row and trip
	** them. The pragma is a no-op inside a transaction, so set it here
	** (SQLite's "12 steps" for altering a table). */
	fk_off = version < 5 && target >= 5;
	if (fk_off && (rc = jlog_db_exec(j->db, "PRAGMA foreign_keys=OFF")) != HF_OK)
		return rc;
	if ((rc = jlog_begin(j)) != HF_OK)
		goto out_fk;
	/* Another process may have migrated while we waited for the lock. */
	if ((rc = jlog_query_text(j->db, "PRAGMA user_version", v, sizeof(v))) != HF_OK)
		goto out_rollback;
	from = version = strtol(v, NULL, 10);
	if (version >= target) {
		jlog_rollback(j);
		goto out_fk;
	}
	/* Each step in this one transaction, so a power cut leaves the old or
	** the new schema, never a mix. */
	if (version < 1 && (rc = jlog_db_exec(j->db, schema_v1)) != HF_OK)
		goto out_rollback;
	if (version < 2 && target >= 2 && (rc = jlog_db_exec(j->db, schema_v2)) != HF_OK)
		goto out_rollback;
	if (version < 3 && target >= 3 && (rc = jlog_db_exec(j->db, schema_v3)) != HF_OK)
		goto out_rollback;
	if (version < 4 && target >= 4 && (rc = jlog_db_exec(j->db, schema_v4)) != HF_OK)
		goto out_rollback;
	if (version < 5 && target >= 5 && (rc = jlog_db_exec(j->db, schema_v5)) != HF_OK)
		goto out_rollback;
	if (version < 6 && target >= 6 && (rc = attempts_without_rowid(j)) != HF_OK)
		goto out_rollback;
	if (version < 7 && target >= 7 && (rc = jlog_db_exec(j->db, schema_export)) != HF_OK)
		goto out_rollback;
	if (version < 8 && target >= 8 && (rc = jlog_db_exec(j->db, schema_counts)) != HF_OK)
		goto out_rollback;
	if (version < 9 && target >= 9 && (rc = jlog_db_exec(j->db, schema_v9)) != HF_OK)
		goto out_rollback;
	if (version < 10 && target >= 10 && (rc = jlog_db_exec(j->db, schema_v10)) != HF_OK)
		goto out_rollback;
	if (version < 11 && target >= 11 && (rc = jlog_db_exec(j->db, schema_v11)) != HF_OK)
		goto out_rollback;
	if (version < 12 && target >= 12 && (rc = jlog_db_exec(j->db, schema_v12)) != HF_OK)
		goto out_rollback;
	if (version < 13 && target >= 13 && (rc = jlog_db_exec(j->db, schema_v13)) != HF_OK)
		goto out_rollback;
	if (version < 14 && target >= 14 &&
	    ((rc = jlog_db_exec(j->db, schema_v14)) != HF_OK || (rc = schema_bump(j)) != HF_OK ||
	     (rc = parked_checked(j)) != HF_OK))
		goto out_rollback;
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%ld", target);
	if ((rc = jlog_db_exec(j->db, sql)) != HF_OK)
		goto out_rollback;
	if ((rc = jlog_commit(j)) != HF_OK)
		goto out_fk;
	if (fk_off && (rc = jlog_db_exec(j->db, "PRAGMA foreign_keys=ON")) != HF_OK)
		return rc;
	/* An existing log (a new one was made incremental before its first
	** table) is converted once, now; a failure is not the migration's. */
	if (from >= 1 && from < 5 && target >= 5)
		jlog_to_incremental(j);
	return HF_OK;

out_rollback:
	jlog_rollback(j);
out_fk:
	if (fk_off)
		jlog_db_exec(j->db, "PRAGMA foreign_keys=ON");
	return rc;
}
