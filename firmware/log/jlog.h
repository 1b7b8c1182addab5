/*
** jlog.h: the durable job log, an SQLite database in WAL mode.
**
** firmware/log/: the data directory and its job log, with what reads and
** writes it (history limits, pipelines, boot recovery); on fmt/ and base/.
**
** The job log's files (jlog.c, jlog_*.c, sharing jlog_int.h) are the only
** ones that include sqlite3.h. Every connection they open
** is verified before use: journal_mode=WAL, synchronous=FULL (so a commit is
** on the device before it returns), wal_autocheckpoint=0 and no checkpoint on
** close (only the daemon checkpoints, after the WAL is shipped), and the
** holdfast application id. A database that cannot give all of these is
** refused with a message naming what is missing; we never run on less.
*/
#ifndef HF_JLOG_H
#define HF_JLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/names.h"

struct sqlite3;
struct sqlite3_stmt;

/* 'Hfjl' in the database header's application_id field. */
#define JLOG_APPLICATION_ID 0x48666a6c

#define JLOG_STMT_CACHE 96

/* The page size of a new log (an existing one keeps its own: in WAL mode it
** changes only with a VACUUM outside WAL mode). Flash wear, issue 16: a commit
** writes one WAL frame (24 bytes + a page) for each page it changes, and a
** job's few hundred bytes of rows change about a dozen pages (its row, its
** attempt, the indexes, the counts), so the page size, not the rows, sets
** the bytes a job costs the card. 512 bytes wrote 22.8 KB a `true` job
** against 84 KB with SQLite's default 4096 (tools/bench/wear; BENCHMARKS.md).
** What it costs: an output chunk's overflow chain is eight times as many
** pages to free and to vacuum; `prune` of 40 jobs of 256 KiB took 0.9 s
** against 0.2 s, within the daemon's budget pass either way. */
#define JLOG_PAGE_SIZE 512

struct jlog {
	struct sqlite3 *db;
	/* Prepared statements of the hot paths, keyed by their SQL text's
	** address (each query is a string constant in the job log's files). */
	struct sqlite3_stmt *stmts[JLOG_STMT_CACHE];
	const char *stmt_sql[JLOG_STMT_CACHE];
	/* A statement left on its row for the caller (jlog_job_get). It holds
	** a read snapshot, so it is reset before any transaction begins or ends:
	** a stale snapshot would make BEGIN IMMEDIATE fail with SQLITE_BUSY. */
	struct sqlite3_stmt *pinned;
	/* A second connection, only for checkpoints made while the first one
	** holds the write lock (jlog_checkpoint_held). */
	struct sqlite3 *ckpt_db;
	/* The data directory's writers' turnstile (port.h), held from
	** jlog_begin to the commit or rollback (a zeroed struct has none). */
	bool has_turnstile, in_turnstile;
	int turnstile_fd;
	/* Set by the daemon: each commit notes in others_waited whether another
	** writer waited at the turnstile as it let go (after its fsync). */
	bool watch_waiters, others_waited;
	/* jlog_vacuum_step tried to convert a log that is not incremental yet
	** (once per connection: it rewrites the whole file). */
	bool vacuum_tried;
};

/*
** Creates a new, empty job log at PATH (which must not exist) in WAL mode
** with synchronous=FULL, each read back and verified, and closes it. VFS
** names an SQLite VFS (NULL: the default); tests use it to take capabilities
** away.
*/
int jlog_create(const char *path, const char *vfs);

/* As jlog_create, but with schema VERSION (1 to JLOG_SCHEMA_VERSION) as that
** version's holdfast made it: for tests of the migrations. */
int jlog_create_version(const char *path, const char *vfs, int version);


/* Opens an existing job log read-write and verifies it (see jlog_verify). */
int jlog_open(struct jlog *j, const char *path, const char *vfs);

/* Checks an open connection: WAL, FULL, no autocheckpoint, our application
** id. Logs what is wrong and returns HF_ENOTSUP or HF_ECORRUPT. */
int jlog_verify(struct jlog *j);

/* Closes J (idempotent on a zeroed or closed struct). */
void jlog_close(struct jlog *j);

/* ---- schema ------------------------------------------------------------- */

/* The schema version this binary writes (PRAGMA user_version). Older logs are
** migrated forward by jlog_open, in one transaction; newer ones are refused. */
#define JLOG_SCHEMA_VERSION 14

/* ---- time --------------------------------------------------------------- */

/*
** A point in time as the log records it: the boot counter (a row of the
** boots table, one per kernel boot) and the monotonic clock within that
** boot, which together order events; wall time only when it is trusted
** (utc_ms < 0 otherwise), for display.
*/
struct jlog_now {
	int64_t boot;
	uint64_t mono_ms;
	int64_t utc_ms;
};

/* Finds (or, with CREATE, adds) the boots row of KERNEL_BOOT_ID; *BOOT is
** its counter, 0 if absent and not created. Inside the caller's transaction
** if one is open, else in its own. */
int jlog_boot(struct jlog *j, const char *kernel_boot_id, int64_t utc_ms, bool create,
	      int64_t *boot);

/*
** The device clock (see "history" below) counts, for each boot, the uptime
** last known of it. The daemon notes its boot's uptime with this, as often
** as it likes: it writes only when the recorded uptime is JLOG_UPTIME_STEP_MS
** behind NOW (a page written per step: flash wear), so after a power cut a
** boot's uptime is known to within a step (job ends, submits and daemon
** starts count too). Inside the caller's transaction if one is open, else
** in its own.
*/
#define JLOG_UPTIME_STEP_MS (5 * 60 * 1000)
int jlog_boot_uptime(struct jlog *j, const struct jlog_now *now);

/* ---- transactions ---------------------------------------------------------- */

/* BEGIN IMMEDIATE (takes the write lock now, waiting up to the busy
** timeout), COMMIT, ROLLBACK. A failed COMMIT is rolled back. */
int jlog_begin(struct jlog *j);
int jlog_commit(struct jlog *j);
void jlog_rollback(struct jlog *j);
/* With LAZY, the next commits do not wait for the device
** (synchronous=NORMAL); without, they do again (FULL, as jlog_verify_db found
** it). Only outside a transaction, and only for a change whose loss to a
** power cut loses nothing but itself (a step's replay count): the WAL is
** appended in order, so the next commit that waits for the device, anyone's,
** makes it durable too. */
int jlog_lazy(struct jlog *j, bool lazy);

/* ---- jobs ---------------------------------------------------------------- */

#define JLOG_NAME_MAX NAMES_MAX  /* job, group and pipeline names (names_valid) */
#define JLOG_ARGV_MAX 256        /* arguments of one command */
#define JLOG_ENV_MAX 128         /* --env entries of one job */
#define JLOG_ARG_BYTES (64 * 1024)   /* one argument or env entry */
#define JLOG_SPEC_BYTES (256 * 1024) /* argv + env + cwd of one job */

/* Whether any job still has work ahead: queued, running, waiting to retry,
** parked until a time, or parked for a message that is there (one parked
** for a message not sent yet waits on others). */
int jlog_has_pending(struct jlog *j, bool *pending);

/* Per-job rlimits, in the order of [jobs] limit_nofile, limit_as, limit_core. */
#define JLOG_NLIMITS 3

struct jlog_spec {
	const char *name;          /* optional */
	int64_t run;               /* pipeline run, 0 for none */
	char *const *argv;         /* argc entries */
	int argc;
	char *const *env;          /* "K=V" */
	int nenv;
	const char *cwd;           /* NULL: the daemon's (/) */
	const char *group;         /* NULL: none */
	int64_t priority;
	int64_t retries;
	uint64_t backoff_min_ms, backoff_max_ms;
	uint64_t timeout_ms;       /* 0: none */
	const char *key;           /* idempotency key, or NULL */
	uint64_t not_before_ms;    /* delay from submission */
	const int64_t *after;      /* ids of dependencies */
	int nafter;
	const char *user;          /* run as this user; NULL: [jobs] user */
	bool limit_set[JLOG_NLIMITS]; /* else [jobs] limit_* */
	int64_t limit[JLOG_NLIMITS]; /* -1: unlimited */
};

/*
** Adds a job inside the caller's transaction. With an idempotency key that
** exists already, nothing is added and *EXISTED is set. Dependencies must
** exist; a dependency that is dead or cancelled is refused (HF_EINVAL,
** logged), one that succeeded already is not waited for.
*/
int jlog_job_add(struct jlog *j, const struct jlog_spec *s, const struct jlog_now *now,
		 int64_t *id, bool *existed);

/* Resolves "12" or a job name (the newest job of that name) to an id. */
int jlog_job_resolve(struct jlog *j, const char *ref, int64_t *id);

/* A job as listed and shown. Strings live until the next call on J. */
struct jlog_job {
	int64_t id;
	const char *name, *state, *reason, *group, *key, *cwd;
	const char *argv_json, *env_json;
	int64_t run, priority, retries, attempts, failures, waiting;
	uint64_t backoff_min_ms, backoff_max_ms, timeout_ms;
	int64_t ready_boot;
	uint64_t ready_mono_ms;
	int64_t submit_utc_ms, end_utc_ms;
	const char *json;          /* the whole row as one JSON object */
	/* When: (boot, monotonic ms), beside the *_utc_ms above (< 0: the wall
	** clock was untrusted); end_boot is 0 until the job ends. */
	int64_t submit_boot, end_boot;
	uint64_t submit_mono_ms, end_mono_ms;
};

/* Calls CB for jobs, newest first, of STATE (NULL: all), at most LIMIT
** (0: no limit). CB returns non-zero to stop. */
int jlog_jobs_list(struct jlog *j, const char *state, int64_t limit,
		   int (*cb)(const struct jlog_job *job, void *arg), void *arg);

/* Fills *JOB for ID; HF_ENOENT (logged) if there is none. The strings stay
** valid until the next jlog call that begins or ends a transaction. */
int jlog_job_get(struct jlog *j, int64_t id, struct jlog_job *job);

/* An attempt as shown. */
struct jlog_attempt {
	int64_t job, n, boot, pid;
	int64_t end_boot;                  /* 0 while running */
	uint64_t start_mono_ms, end_mono_ms;
	int64_t start_utc_ms, end_utc_ms;  /* < 0: wall time was untrusted */
	const char *end_reason;            /* NULL while running */
	int64_t exit_code, signal;         /* < 0 if not applicable */
	int64_t out_bytes;
	bool out_truncated;
	const char *json;
	int64_t duration_ms;               /* < 0: unknown (across a reboot, or no end time) */
	bool end_unknown;                  /* ended (power-loss, daemon-crash) unseen: */
	int64_t detected_boot;             /*   boot of the daemon start that found it (0: none) */
	int64_t detected_utc_ms;           /*   and its wall time (< 0: untrusted) */
	int64_t alive_ms;                  /*   its daemon was last known alive this long
					         after the attempt started (< 0: unknown) */
};

int jlog_attempts_list(struct jlog *j, int64_t job,
		       int (*cb)(const struct jlog_attempt *a, void *arg), void *arg);

/* Calls CB with each output chunk of attempt N of JOB from chunk FROM_SEQ
** on; *NEXT_SEQ is where to continue (for --follow). */
int jlog_output_read(struct jlog *j, int64_t job, int64_t n, int64_t from_seq,
		     int (*cb)(int stream, const void *data, size_t len, void *arg), void *arg,
		     int64_t *next_seq);

/* ---- steps (jlog_steps.c) ----------------------------------------------------- */

/* A step's name: 1 to JLOG_STEP_NAME_MAX bytes of UTF-8, no control bytes. */
#define JLOG_STEP_NAME_MAX 200

/* A job's step as recorded (README "Steps"). */
struct jlog_step {
	int64_t job;
	const char *name;
	int64_t attempt;                   /* the attempt that ran its command */
	const char *argv_json;             /* that command */
	int64_t exit_code, signal;         /* how it ended; < 0 for the other */
	const void *output;                /* its stdout, output_len bytes */
	size_t output_len;
	int64_t boot;
	uint64_t start_mono_ms, end_mono_ms;
	int64_t start_utc_ms, end_utc_ms;  /* < 0: wall time was untrusted */
	int64_t replayed;                  /* times a later call took the record */
	const char *json;                  /* listed only */
};

/* Whether JOB is running attempt ATTEMPT, the only one that may record its
** steps: HF_OK, else HF_ENOENT or HF_EINVAL with the reason in WHY. */
int jlog_steps_owner(struct jlog *j, int64_t job, int64_t attempt, char *why, size_t len);
/* JOB's step NAME into *S, HF_ENOENT if none is recorded. The strings and the
** output stay valid until the next jlog call that begins or ends a
** transaction. */
int jlog_steps_find(struct jlog *j, int64_t job, const char *name, struct jlog_step *s);
/* Records step *S (json unused), in the caller's transaction. */
int jlog_steps_record(struct jlog *j, const struct jlog_step *s);
/* Counts one replay of JOB's step NAME, in the caller's transaction. */
int jlog_steps_replayed(struct jlog *j, int64_t job, const char *name);
/* The device clock's base of BOOT (see jlog_boot_uptime) into *BASE_MS;
** HF_ENOENT if the log has no such boot. */
int jlog_steps_boot_base(struct jlog *j, int64_t boot, int64_t *base_ms);

/* When a durable sleep was recorded, and now. */
struct jlog_step_clock {
	int64_t boot;
	uint64_t mono_ms;
	int64_t utc_ms;            /* < 0: the wall clock was not trusted */
	int64_t base_ms;           /* the boot's device-clock base */
};
/* What is left of a sleep of SLEEP_MS recorded at THEN, at NOW (README
** "Steps", step sleep): in one boot by the monotonic clock; across a reboot
** by the wall clock if it was trusted both times, else by the device clock
** (uptime known since: time powered off does not count, so the sleep ends
** late, never early). Never more than SLEEP_MS, never below 0. */
int64_t jlog_steps_sleep_left(const struct jlog_step_clock *then, const struct jlog_step_clock *now,
			      int64_t sleep_ms);

/* Calls CB with each of JOB's steps in the order they ran. */
int jlog_steps_list(struct jlog *j, int64_t job, int (*cb)(const struct jlog_step *s, void *arg),
		    void *arg);

/* ---- messages (jlog_steps.c): `holdfast send`, taken by `step wait` ---------- */

/* A message's topic follows a step name's rules; its data is at most
** JLOG_MSG_DATA_MAX bytes. The log keeps at most JLOG_MSG_PENDING_MAX
** messages that no step has taken, of JLOG_MSG_PENDING_BYTES in all: a send
** past either is refused (HF_ETOOBIG), so a topic nobody waits for cannot
** fill the disk. */
#define JLOG_MSG_DATA_MAX (64 * 1024)
#define JLOG_MSG_PENDING_MAX 10000
#define JLOG_MSG_PENDING_BYTES (16 * 1024 * 1024)

/* Keeps DATA (LEN bytes) as a message of TOPIC sent at NOW, in the caller's
** transaction; its id into *ID. HF_ETOOBIG past the pending bounds. */
int jlog_msg_send(struct jlog *j, const char *topic, const void *data, size_t len,
		  const struct jlog_now *now, int64_t *id);
/* Takes the oldest message of TOPIC, in the caller's transaction: deletes it
** and gives its id and a copy of its data (*DATA, heap, the caller frees;
** *LEN bytes). HF_ENOENT if none waits. */
int jlog_msg_take(struct jlog *j, const char *topic, int64_t *id, void **data, size_t *len);
/* HF_OK if a message of TOPIC waits to be taken, else HF_ENOENT (a read). */
int jlog_msg_waiting(struct jlog *j, const char *topic);
/* How many messages wait to be taken, and their bytes. */
int jlog_msg_pending(struct jlog *j, int64_t *count, int64_t *bytes);

/* ---- parking (jlog_steps.c) ------------------------------------------------------ */

/*
** A job whose step sleeps or waits longer than [jobs] park_after does not keep
** a process: the step asks (jlog_park) and the daemon ends the attempt as
** "parked" (no retry spent); the job, parked, is woken (queued again) when it
** is due: its wake time in the boot it parked in, any later boot, or a
** message for its topic. Its steps replay when it runs again.
*/
/* Asks, in the caller's transaction, that attempt ATTEMPT of JOB (running,
** no cancel pending: else HF_ENOENT) be parked until WAKE_MONO_MS of NOW's
** boot, or with TOPIC (not NULL) until a message for it comes first. REASON
** is what ls and show say of the parked job. */
int jlog_park(struct jlog *j, int64_t job, int64_t attempt, const char *topic,
	      uint64_t wake_mono_ms, const struct jlog_now *now, const char *reason);
/* Whether a parked job is due to wake at NOW (a read). */
int jlog_parked_due(struct jlog *j, const struct jlog_now *now, bool *due);
/* Queues every parked job that is due at NOW, ready now (caller's transaction). */
int jlog_parked_wake(struct jlog *j, const struct jlog_now *now);
/* The earliest wake time after NOW, in NOW's boot, of a job parked until a
** time (not for a message), or UINT64_MAX. */
int jlog_parked_next(struct jlog *j, const struct jlog_now *now, uint64_t *mono_ms);

/* Counts by state and the oldest queued job's submission. */
struct jlog_counts {
	int64_t queued, running, succeeded, failed, dead, cancelled, quarantined, parked;
	int64_t oldest_queued_boot;
	uint64_t oldest_queued_mono_ms;    /* valid if oldest_queued_boot > 0 */
};
int jlog_counts(struct jlog *j, struct jlog_counts *c);

/*
** cancel: a queued or waiting job becomes cancelled at once and its
** dependents dead; a running one is marked for the daemon to stop (*LATER).
** retry: a dead, cancelled, failed or quarantined job is queued again with a
** fresh retry budget, and dependents that died because of it come back.
** Both run in their own transaction and log why they refuse.
*/
int jlog_job_cancel(struct jlog *j, int64_t id, const struct jlog_now *now, bool *later);
int jlog_job_retry(struct jlog *j, int64_t id, const struct jlog_now *now);

/* ---- pipelines ------------------------------------------------------------------ */

/* Stores (or replaces) pipeline NAME's validated SPEC and schedule (KIND
** NULL, "every" or "cron"); a replaced pipeline keeps its last fire time. */
int jlog_pipeline_put(struct jlog *j, const char *name, const char *spec, const char *kind,
		      const char *sched, uint64_t every_ms, int64_t utc_ms);

/* The stored spec of NAME as a heap string; HF_ENOENT (logged) if none. */
int jlog_pipeline_spec(struct jlog *j, const char *name, char **spec);

struct jlog_pipeline {
	const char *name, *kind, *sched, *spec;  /* kind, sched NULL: unscheduled */
	uint64_t every_ms;
	int64_t last_boot;         /* 0: never fired */
	uint64_t last_mono_ms;
	int64_t last_utc_ms;       /* < 0: none */
	int64_t runs;
	const char *json;
};

/* Calls CB for every pipeline (SCHEDULED_ONLY: those with a schedule). */
int jlog_pipelines_list(struct jlog *j, bool scheduled_only,
			int (*cb)(const struct jlog_pipeline *p, void *arg), void *arg);

/* Adds a run of PIPELINE with parameters KV ("k=v"). */
int jlog_run_add(struct jlog *j, const char *pipeline, char *const *kv, int n,
		 const char *trigger, const struct jlog_now *now, int64_t *run);

/* Records that NAME's schedule was handled at NOW (fired, or armed). */
int jlog_pipeline_fired(struct jlog *j, const char *name, const struct jlog_now *now);

/* ---- the daemon's side ------------------------------------------------------ */

/* A job the scheduler may start: what the runner needs to exec it. */
struct jlog_runnable {
	int64_t id, priority, attempts;
	const char *group;         /* NULL: none */
	const char *argv_json, *env_json, *cwd;
	uint64_t timeout_ms;
	const char *user;          /* NULL: [jobs] user */
	bool limit_set[JLOG_NLIMITS];
	int64_t limit[JLOG_NLIMITS]; /* -1: unlimited */
};

/* Builds the JSON array of the N strings V (as stored for argv and env) with
** SQLite's own JSON functions, so the quoting is SQLite's, into a heap string. */
int jlog_json_array(struct jlog *j, char *const *v, int n, char **out);

/* Splits a JSON array of strings (as stored for argv and env) into a
** NULL-terminated heap vector *V of *N strings: one allocation, one free(). */
int jlog_json_strings(struct jlog *j, const char *json, char ***v, int *n);

/* ---- JSON, through SQLite's JSON functions ------------------------------------- */

/* Checks that TEXT is well-formed JSON; if not, *POS is the 1-based
** character position of the first error (json_error_position). */
int jlog_json_check(struct jlog *j, const char *text, int64_t *pos);

/* The JSON type at PATH in JSON ("object", "array", "text", "integer",
** "real", "true", "false", "null"), or "" if PATH does not exist. */
int jlog_json_type(struct jlog *j, const char *json, const char *path, char *type, size_t len);

/* The value at PATH as a heap string (text as is, numbers formatted, arrays
** and objects as JSON), or NULL if absent. */
int jlog_json_text(struct jlog *j, const char *json, const char *path, char **out);

/* Calls CB with each key (objects) or index (arrays, as "0", "1", ...) at
** PATH, in order, until CB returns non-zero. */
int jlog_json_keys(struct jlog *j, const char *json, const char *path,
		   int (*cb)(const char *key, void *arg), void *arg);

/* TEXT (UTF-8) as a JSON string, quoted and escaped by SQLite, into a heap
** string. */
int jlog_json_quote(struct jlog *j, const char *text, char **out);

/* Whether well-formed TEXT is strict RFC 8259 JSON: SQLite's parser also
** takes JSON5 (comments, trailing commas, single quotes, unquoted keys, hex
** numbers...), which json_valid(X) without flags refuses. */
int jlog_json_strict(struct jlog *j, const char *text, bool *rfc8259);

/* The path (as "$.a[2].b") of the first key of TEXT that its object holds
** twice, into PATH[LEN], or "" if every object's keys are unique. SQLite
** keeps both and json_extract reads the first; other readers differ. */
int jlog_json_dup_key(struct jlog *j, const char *text, char *path, size_t len);

/* The path of the first string or key of TEXT that holds U+0000 ("\u0000"),
** into PATH[LEN] with *IN_KEY saying which, or "" if none does: such a
** string cannot be a C string, and would be cut short at the NUL. */
int jlog_json_nul(struct jlog *j, const char *text, char *path, size_t len, bool *in_key);

/* Calls CB for queued (or retry-waiting) jobs whose dependencies succeeded
** and whose time has come, highest priority first, FIFO within a priority,
** until CB returns non-zero. At most MAX jobs of each concurrency group (and
** MAX ungrouped ones) are offered: the caller can start no more than MAX.
** The cost does not grow with the depth of the queue (see jlog.c). */
int jlog_runnable(struct jlog *j, const struct jlog_now *now, unsigned max,
		  int (*cb)(const struct jlog_runnable *r, void *arg), void *arg);

/* When the next waiting job becomes ready in this boot: *MONO_MS, or
** UINT64_MAX if none is waiting on time. */
int jlog_next_ready(struct jlog *j, const struct jlog_now *now, uint64_t *mono_ms);

/* Records attempt N of JOB as started by process (group) PID, whose
** /proc start time is PROC_START, and marks the job running. */
int jlog_attempt_start(struct jlog *j, int64_t job, int64_t n, int64_t pid,
		       int64_t proc_start, const struct jlog_now *now);

/* Appends a chunk of output of attempt N; SEQ is per attempt from 0. */
int jlog_output_add(struct jlog *j, int64_t job, int64_t n, int64_t seq, int stream,
		    const void *data, size_t len);

/* How an attempt ended. */
struct jlog_end {
	const char *reason;        /* exit, signal, timeout, cancelled, shutdown,
				      power-loss, daemon-crash */
	int64_t quarantine_after;  /* unclean ends (power-loss, daemon-crash) in a
				      row that quarantine the job; 0: never */
	int64_t exit_code;         /* -1 if none */
	int64_t signal;            /* -1 if none */
	int64_t out_bytes;
	bool out_truncated;
	bool end_unknown;          /* when it ended is not known (a power loss, or
				      a daemon crash that outlived the job): the
				      end time is left NULL, not set to now */
};

/* Ends attempt N of JOB and moves the job on: succeeded (dependents are
** released), retry (state failed, ready after the job's backoff, jittered by
** RND), or dead (and its dependents with it); cancelled for a cancel, queued
** again (not counted against retries) for a shutdown, a power loss or a
** daemon crash (none is the job's fault; QUARANTINE_AFTER bounds the last
** two); parked at its step's request (jlog_park), or cancelled if the user
** cancelled it meanwhile. */
int jlog_attempt_end(struct jlog *j, int64_t job, int64_t n, const struct jlog_end *e,
		     const struct jlog_now *now, uint32_t rnd);

/* JOB's pending request to the daemon (jobs.cancel_req) into *REQ: 0 none,
** JLOG_REQ_CANCEL (the user's cancel), JLOG_REQ_PARK (its step's, jlog_park). */
#define JLOG_REQ_CANCEL 1
#define JLOG_REQ_PARK 2
#define JLOG_REQ_CANCEL_S "1"
#define JLOG_REQ_PARK_S "2"
int jlog_cancel_requested(struct jlog *j, int64_t job, int *req);

/* ---- history: pruning finished jobs (issue 16) ------------------------------------ */

/*
** Finished jobs (succeeded, cancelled, dead, quarantined; never queued,
** running or failed-awaiting-retry) are history. Each finished job carries
** a finish sequence number (fin_seq, rising, assigned as it finishes; cleared
** if it is retried) and its end on the device clock (end_dev_ms): the boot's
** base (the known uptime of every earlier boot) plus the monotonic time, a
** lower bound on real age that needs no wall clock. When the wall clock was
** trusted both at the end and now, the age is the larger of the two.
**
** A job goes only with its whole pipeline run (every job of the run finished
** and past its limit), never while an unfinished job depends on it; its
** attempts, output and dependency rows go with it. The idempotency key of a
** pruned job is remembered (idem_keys) until the job is KEEP_MS old, so a
** later submit with that key still finds it.
*/
struct jlog_prune_limits {
	uint64_t keep_ms;        /* succeeded, cancelled: pruned past this age */
	uint64_t keep_failed_ms; /* dead, quarantined: pruned past this age */
	int64_t keep_jobs;       /* at most this many finished jobs kept (newest by
				  * fin_seq); < 0: no count limit */
	int64_t extra;           /* also the EXTRA oldest finished jobs, whatever
				  * their age (disk budget, full disk) ... */
	int64_t floor_jobs;      /* ... but never fewer than FLOOR_JOBS kept */
	int64_t upto_fin_seq;    /* > 0: only jobs with fin_seq <= this (the
				  * history export's watermark); 0: no bound */
	int64_t max_jobs;        /* bound of one call (one transaction) */
	bool dry_run;            /* count only; change nothing */
};

struct jlog_prune_result {
	int64_t jobs, runs, attempts, output_chunks, output_bytes;
	bool more;               /* stopped at MAX_JOBS with more to prune */
};

/* Prunes at most L->max_jobs jobs in one transaction of its own (or counts
** them all, with L->dry_run), oldest fin_seq first; records when and what in
** the log (jlog_history_get). As implemented (jlog.c):
**   - a finished job stays while any job that depends on it stays (so a
**     kept job's dependency rows are whole, and no unfinished job loses
**     one); when its dependents can go, they go in the same call;
**   - FLOOR_JOBS bounds every limit, not only EXTRA; MAX_JOBS <= 0: no
**     bound; a pipeline run bigger than MAX_JOBS goes whole, alone;
**   - when nothing is due it reads one row of the jobs_fin index (about a
**     hundred VM steps, whatever the history's size), and writes nothing
**     unless its record is PRUNE_RECORD_EVERY_MS (10 min) old; it notes the
**     boot's uptime (jlog_boot_uptime) as it records;
**   - a pruned job's key is kept until its job is KEEP_MS (KEEP_FAILED_MS
**     for dead and quarantined jobs; 7 days when that limit is 0) old on the
**     device clock, and expired keys are forgotten here. */
int jlog_prune(struct jlog *j, const struct jlog_now *now,
	       const struct jlog_prune_limits *l, struct jlog_prune_result *r);

/* Gives up to MAX_PAGES free pages back to the file system (PRAGMA
** incremental_vacuum, its own transaction; MAX_PAGES <= 0: all of them);
** *LEFT is how many free pages remain. HF_ENOTSUP (with *LEFT set) if the
** log cannot give pages back: a log from before version 5 whose conversion
** to auto_vacuum=INCREMENTAL failed (tried again once per connection). */
int jlog_vacuum_step(struct jlog *j, int64_t max_pages, int64_t *left);

/* Whether the log gives freed pages back (auto_vacuum=INCREMENTAL). Unlike
** jlog_vacuum_step it never tries the conversion, a VACUUM of the whole
** log: what a full disk must not start. */
bool jlog_is_incremental(struct jlog *j);

/* History as status shows it. */
struct jlog_history {
	int64_t finished;        /* finished jobs kept */
	int64_t db_bytes;        /* page_count x page_size */
	int64_t free_bytes;      /* of which on the free list */
	int64_t page_size;
	int64_t last_boot;       /* last prune: 0 if never */
	uint64_t last_mono_ms;
	int64_t last_utc_ms;     /* 0 if the clock was not trusted */
	int64_t last_jobs;       /* jobs removed by the last prune that removed any */
	int64_t total_jobs;      /* jobs removed ever */
};
int jlog_history_get(struct jlog *j, struct jlog_history *h);

/* ---- history export (issue 16) -------------------------------------------------- */

/*
** With a replica, finished jobs are exported (export.c) before pruning may
** take them. The log keeps the export's state: its watermark UPTO (every
** finished job with fin_seq <= UPTO is in the replica, or was pruned before
** it got there, which is recorded as a gap), the part being written, and the
** gaps not yet written to the replica. While the export is active a delete
** trigger on jobs records every unexported finished job that goes as a gap:
** the disk budget may prune past the watermark, never silently.
*/
#define JLOG_EXPORT_HEAD 4096    /* bytes of an attempt's output exported */

struct jlog_export_state {
	bool active;             /* a replica is configured: export runs, and
				  * pruning waits for it */
	int64_t upto;            /* the watermark (fin_seq) */
	int64_t flight_first;    /* the part being written (0: none): fin_seq */
	int64_t flight_last;     /*   range, and its path in the replica */
	char flight_path[256];
	int64_t parts, jobs, bytes; /* written so far (bytes: compressed) */
	int64_t gaps, gap_jobs;  /* gap records written, and the jobs they name */
	int64_t open_gap_jobs;   /* pruned unexported, not yet written as a gap */
	int64_t pending;         /* finished jobs past the watermark */
	int64_t last_boot;       /* the last part written: 0 if none */
	uint64_t last_mono_ms;
	int64_t last_utc_ms;     /* < 0: untrusted */
};
int jlog_export_get(struct jlog *j, struct jlog_export_state *s);

/* Turns the export on (a replica is configured) or off. Its own
** transaction, written only if it changes. */
int jlog_export_activate(struct jlog *j, bool on);

/* The bound pruning's age and count limits must keep: *UPTO is -1 when the
** export is off (no bound), else the watermark: only jobs with fin_seq <=
** *UPTO may go (0: none yet; jlog_prune_limits.upto_fin_seq = 0 would mean
** no bound, so the caller skips that step). The byte budget is not bound. */
int jlog_export_upto(struct jlog *j, int64_t *upto);

/*
** The next part: from the watermark on, in fin_seq order, the finished
** jobs that share the first one's day (DAY: "YYYY-MM-DD" of its end when
** the wall clock was trusted then, else "boot-N" of its boot), at most
** MAX_JOBS. CLOSED: a later job has another day (this day's part is
** complete), or MAX_JOBS were found. JOBS 0: nothing to export.
*/
struct jlog_export_plan {
	int64_t first, last, jobs;
	char day[32];
	bool closed;
	int64_t first_end_boot;  /* the first job's end, for its age */
	uint64_t first_end_mono_ms;
	int64_t first_end_utc_ms; /* < 0: untrusted */
	bool first_failed;       /* dead or quarantined (keep_failed) */
};
int jlog_export_plan(struct jlog *j, int64_t max_jobs, struct jlog_export_plan *p);

/* Calls CB with the JSON line (no newline) of each finished job with
** FIRST <= fin_seq <= LAST, in fin_seq order, as one read transaction sees
** them, until CB returns non-zero. DEVICE is written into each line. */
int jlog_export_lines(struct jlog *j, const char *device, int64_t first, int64_t last,
		      int (*cb)(int64_t fin_seq, const char *line, size_t len, void *arg),
		      void *arg);

/* Records the part FIRST..LAST at PATH as being written (before it goes),
** then, once it is durable in the replica, moves the watermark to LAST and
** counts it (BYTES: its size there, JOBS: lines). Each its own transaction. */
int jlog_export_flight(struct jlog *j, int64_t first, int64_t last, const char *path);
int jlog_export_done(struct jlog *j, int64_t last, int64_t jobs, int64_t bytes,
		     const struct jlog_now *now);

/* Gaps: jlog_export_gaps closes the gap the trigger is adding to (so it no
** longer grows) and calls CB for every gap not yet written; once its record
** is durable in the replica, jlog_export_gap_done forgets it. */
struct jlog_export_gap {
	int64_t id, lo, hi, jobs;  /* fin_seq LO..HI: JOBS of them were pruned */
	int64_t upto;              /* the watermark when it was closed */
};
int jlog_export_gaps(struct jlog *j, int (*cb)(const struct jlog_export_gap *g, void *arg),
		     void *arg);
int jlog_export_gap_done(struct jlog *j, const struct jlog_export_gap *g);

/* ---- daemon runs (boot recovery) ------------------------------------------------- */

/* The last daemon run before this one: *FOUND, and whether it stopped
** cleanly. */
int jlog_last_run(struct jlog *j, bool *found, bool *clean);

/* Records a new daemon run (unclean until jlog_run_clean); *RUN is its id. */
int jlog_run_start(struct jlog *j, int64_t pid, const struct jlog_now *now, int64_t *run);

/* Marks RUN as stopped cleanly. */
int jlog_run_clean(struct jlog *j, int64_t run, const struct jlog_now *now);

/* PRAGMA quick_check on a read-only connection of its own to the log at PATH
** (*OK, and the first problem in PROBLEM[LEN]); the log
** may be open elsewhere in this process meanwhile, on another thread (the
** daemon's check after an unclean stop). A log too damaged to check is
** HF_OK with *OK false. */
int jlog_quick_check_file(const char *path, bool *ok, char *problem, size_t len);

/* Attempts left without an end by an earlier daemon. */
struct jlog_open_attempt {
	int64_t job, n, boot, pid, proc_start;
};
int jlog_open_attempts(struct jlog *j,
		       int (*cb)(const struct jlog_open_attempt *a, void *arg), void *arg);

/* Size of the WAL file in bytes, and a checkpoint (TRUNCATE when nothing
** blocks it, else PASSIVE). *DONE says whether the whole WAL was copied. */
int jlog_wal_bytes(struct jlog *j, int64_t *bytes);
int jlog_checkpoint(struct jlog *j, bool *done);
/* The same without waiting for a reader (or a writer) to let go: the
** daemon's tries on a full disk must not hold up its loop. */
int jlog_checkpoint_now(struct jlog *j, bool *done);

/*
** For WAL shipping. Each runs inside the caller's transaction (jlog_begin:
** the write lock, so no frame is appended meanwhile):
**   jlog_checkpoint_held  a PASSIVE checkpoint from a second connection:
**                   it copies exactly the frames there are (none can be
**                   added), *COMPLETE if all of them, *WAL_FRAMES how many
**                   SQLite counts as committed; the WAL restarts at the
**                   next write after a complete one.
** jlog_path is the database file's path.
*/
int jlog_checkpoint_held(struct jlog *j, bool *complete, uint32_t *wal_frames);
const char *jlog_path(struct jlog *j);

/*
** A snapshot that is read after the write lock is released: jlog_reader_begin,
** called with J's write lock held, opens a connection of its own and starts a
** read transaction on it, which sees the database as of the WAL's end then,
** whatever is committed after; jlog_reader_snapshot streams that state's pages
** to FN in page order (sqlite_dbpage; from one thread at a time); jlog_reader_end
** ends the transaction and frees RD. While it lasts, no checkpoint copies
** past its end and the WAL does not restart.
*/
struct jlog_reader;
int jlog_reader_begin(struct jlog *j, struct jlog_reader **rd);
int jlog_reader_snapshot(struct jlog_reader *rd,
			 int (*fn)(void *arg, uint32_t pgno, const void *page), void *arg,
			 uint32_t *page_size, uint32_t *npages);
void jlog_reader_end(struct jlog_reader *rd);

/* PRAGMA integrity_check of the database file PATH (opened read-only, no
** WAL of its own expected): *OK, and the first problem in PROBLEM[LEN]. */
int jlog_integrity_file(const char *path, bool *ok, char *problem, size_t len);

/* "3.46.1" and SQLite's source id, for --version. */
const char *jlog_sqlite_version(void);
const char *jlog_sqlite_sourceid(void);

#endif /* HF_JLOG_H */
