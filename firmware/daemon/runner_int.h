/*
** runner_int.h: the daemon's state, shared by the files of the runner
** (runner.c: the loop, the jobs and the log; runner_ship.c: shipping and
** the metrics textfile; runner_env.c: a job's environment). Nothing outside
** firmware/daemon/runner*.c includes it (tools/checksrc).
*/
#ifndef HF_RUNNER_INT_H
#define HF_RUNNER_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon/diskfull.h"
#include "daemon/runner.h"
#include "daemon/svc.h"
#include "fmt/cfg.h"
#include "log/history.h"
#include "log/jlog.h"
#include "port.h"
#include "ship/export.h"
#include "ship/replica.h"
#include "ship/ship.h"

#define READ_CHUNK (16 * 1024)      /* one read(2) from a job's pipe */
#define CHUNK_MAX (64 * 1024)       /* one output row at most */
#define TICK_READ_MAX (256 * 1024)  /* bytes taken from one pipe per tick */
#define IDLE_POLL_MS 60000          /* sleep cap with no timer due */
#define COMMIT_RETRY_MS 1000        /* after a commit found the log busy */
#define CKPT_RETRY_MS 5000          /* after a failed checkpoint */
#define CLOCK_BACK_MS (3600 * 1000) /* wall time went back: re-arm cron */

enum why { WHY_NONE, WHY_TIMEOUT, WHY_CANCELLED, WHY_SHUTDOWN, WHY_PARKED };

struct child {
	bool used;
	bool started;              /* the attempt's start is committed */
	bool aborted;              /* gate closed: never ran; reap and forget */
	int64_t job, n;
	char group[JLOG_NAME_MAX + 1];
	struct port_child pc;
	uint64_t deadline_ms;      /* timeout: UINT64_MAX if none */
	uint64_t kill_at_ms;       /* SIGKILL due: UINT64_MAX if none */
	enum why why;
	bool exited;
	int exit_code, sig;         /* port_reap's, once exited */
	int64_t seq;               /* next output chunk number */
	int64_t out_bytes;         /* all output, kept or not */
	int64_t kept_bytes;
	bool truncated;
};

struct chunk {
	int64_t job, n, seq;
	int stream;
	size_t len;
	char *data;
};

/* Who a job runs as: change false keeps the daemon's ids. */
struct job_user {
	bool change;
	char name[CFG_NAME_MAX];
	struct port_user u;
};

/*
** The log's check after an unclean stop (PRAGMA quick_check on a read-only
** connection of its own), run beside the loop (port_task_start), so that it
** does not hold back the first job: on a log of a million jobs it reads
** hundreds of megabytes (48 s from a cold cache on this project's VM, 210x
** an empty log's start; issue 16). Meanwhile jobs run and are recorded as
** usual, nothing is shipped, and the run is not marked clean before the
** check passed. If it fails, the daemon kills its jobs' process groups,
** records nothing more, moves the log aside and exits 1: what ran meanwhile
** is in the moved log, for whoever restores or inspects it. On the heap:
** a daemon stopped by a signal leaves a check still running to die with the
** process, and the thread must not write into a stack frame that is gone.
*/
struct log_check {
	char path[PATH_MAX + 32];
	uint64_t started_ms;
	int rc;
	bool ok;
	char problem[256];
};

struct runner {
	const struct runner_opts *o;
	struct jlog j;
	struct cfg cfg;
	struct ship ship;          /* WAL shipping, when [replica] url is set:
				    * sealing, in the loop (no_net) */
	struct ship up;            /* the uploader's own: the spool to the replica,
				    * in a worker (runner_ship.c) */
	struct port_task *up_task; /* the upload running, or NULL */
	int up_fd;                 /* readable once it ended */
	bool up_probe;             /* it lists the replica first (ship_probe) */
	struct ship_snap *up_snap; /* it takes this snapshot first (ship.h) */
	struct export_put *up_exp; /* and sends this after the spool (export.h) */
	bool snap_taken;           /* a generation started at the last upload's end */
	bool ship_last;            /* the clean stop's last round: no export */
	bool exp_round;            /* the last upload started carried an export write */
	int up_rc;                 /* what it did (the worker's to write) */
	unsigned up_copied;
	uint64_t up_floor;
	bool up_floor_ok;
	struct replica_stats up_stats; /* its replica's counters, as of its end */
	struct export exp;         /* finished jobs to the replica (export.h) */
	uint64_t next_seal;        /* mono ms of the next periodic seal */
	int ship_rc;               /* last shipping result, logged on change */
	unsigned ship_fails;       /* failed shipping rounds in a row */
	uint64_t ship_retry_at;    /* mono ms: no network use before (backoff) */
	int net_fd;                /* link/route changes (-1: none) */
	uint64_t behind_since;     /* mono ms the replica last lacked nothing before */
	int limit_said;            /* which limit holds shipping back, said once */
	bool allowance_said;       /* the budget left is too small for the next file */
	bool offline;              /* no route leaves this machine (said) */
	uint64_t ship_failed_total;
	char db_path[PATH_MAX + 32];
	/* HOLDFAST_JOB_DATA=the data directory, absolute: where a job's
	** `holdfast step` records (whatever directory the job runs in). */
	char job_data[PATH_MAX + 24];
	int sig_fd, wake_fd;
	int64_t boot;
	struct child *kids;
	unsigned nkids;            /* slots, = cfg.concurrency + aborted ones */
	struct chunk *chunks;
	size_t nchunks, cap_chunks;
	size_t chunk_bytes;        /* output in chunks, not yet committed */
	struct diskfull full;      /* the disk is full: waiting for room */
	bool full_try;             /* this tick is a try on a full disk */
	bool stopping;
	uint64_t stop_kill_at;
	bool dirty;                /* something changed: ask the scheduler */
	bool check_cancels;
	uint64_t retry_after;      /* after a commit found the log busy */
	uint64_t next_write;       /* mono ms: the lock is left to others until then */
	uint64_t ckpt_after;       /* after a failed checkpoint */
	int fatal;                 /* HF_ code that stopped the loop, or HF_OK */
	uint64_t next_ready;       /* earliest job waiting on time */
	uint64_t next_sched;       /* when to look at schedules again */
	struct job_user as;        /* [jobs] user, resolved at start */
	struct hist hist;          /* pruning passes, the byte budget */
	unsigned hist_passes;      /* passes the metrics have seen */
	struct log_check *check;   /* the check after an unclean stop, running */
	struct port_task *check_task;
	int check_fd;              /* readable once the check ended */
	bool corrupt;              /* the check failed: kill, record nothing, stop */
	struct svc svc;            /* the service manager (systemd Type=notify) */
};

/* The log's clocks now: the wall clock only while it is trusted (-1 if
** not). */
static inline struct jlog_now now_of(const struct runner *r)
{
	struct jlog_now n;

	n.boot = r->boot;
	n.mono_ms = port_clock_mono_ms();
	n.utc_ms = port_clock_utc_or_none();
	return n;
}

/* runner.c: waits until FD is readable (a task's end: port_task_start). */
int runner_wait_readable(int fd);

/*
** runner_kids.c: the children.
**   runner_unreaped      children not yet reaped
**   runner_finished      C exited and its pipes are closed
**   runner_busy_count    children that hold a concurrency slot (of GROUP,
**                        or all with NULL): not the finished ones
**   runner_live_count    children whose end is not yet committed
**   runner_free_slot     a free slot, or NULL
**   runner_read_pipe     drains what *FD (STREAM: stdout or stderr) has now
**                        (bounded per tick) into chunks for the next
**                        commit; closes it at EOF
**   runner_signal_child  SIG to C's process group
**   runner_stop_child    SIGTERM now, SIGKILL after GRACE_MS, for WHY
**   runner_reap          collects every exited child
**   runner_release_slot  closes C's pipes and frees its slot
**   runner_end_of        C's end as the log records it
**   runner_resolve_user  [jobs] user into *JU (README "Jobs: environment and
**                        privileges"), or why not into WHY[LEN]
**   runner_spawn         forks JR's command into slot C, gated: it runs
**                        once its start is committed (MONO_MS: now)
*/
unsigned runner_unreaped(const struct runner *r);
bool runner_finished(const struct child *c);
unsigned runner_busy_count(const struct runner *r, const char *group);
unsigned runner_live_count(const struct runner *r);
struct child *runner_free_slot(struct runner *r);
void runner_read_pipe(struct runner *r, struct child *c, int *fd, int stream);
void runner_signal_child(struct child *c, int sig);
void runner_stop_child(struct runner *r, struct child *c, enum why why, uint64_t grace_ms);
void runner_reap(struct runner *r);
void runner_release_slot(struct child *c);
void runner_end_of(const struct child *c, struct jlog_end *e);
int runner_resolve_user(const struct cfg *c, const char *user, struct job_user *ju, char *why,
			size_t len);
int runner_spawn(struct runner *r, const struct jlog_runnable *jr, struct child *c,
		 uint64_t mono_ms);

/* runner_ship.c: a shipping round now (seal, upload, export, metrics), and
** one when the seal interval or the unsealed bytes say so. */
void runner_ship_now(struct runner *r);
void runner_maybe_ship(struct runner *r, uint64_t now);
/* runner_ship.c: the clean stop's last try: everything this run wrote,
** sealed and shipped if possible, whatever the backoff says, waited for:
** rounds until one leaves nothing unsealed (a new generation's snapshot is
** a round alone, and the export writes to the log after its round's seal). */
void runner_ship_last(struct runner *r);

/* runner_ship.c: the uploader set up beside the sealer (no_net), and its
** end taken in (the loop saw up_fd readable), or waited for. */
int runner_ship_init(struct runner *r);
void runner_upload_done(struct runner *r);
void runner_upload_wait(struct runner *r);

/* runner_ship.c: the Prometheus textfile, if configured (T: mono ms now). */
void runner_write_metrics(struct runner *r, uint64_t t);

#endif /* HF_RUNNER_INT_H */
