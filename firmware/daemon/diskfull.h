/*
** diskfull.h: the daemon on a full disk (README "A full disk").
**
** A write to the job log that fails for lack of room (HF_ENOSPC: ENOSPC, or
** EDQUOT) is not an I/O error: SQLite rolled the transaction back and nothing
** written before was lost, so the daemon does not stop. It starts nothing
** new, keeps what it observes of the jobs still running (their output, up to
** a bound, and their ends) in memory, makes room (diskfull_relieve) and tries
** again every DISKFULL_RETRY_MS, and goes on by itself once a write succeeds.
** An I/O error or a failed fsync still stops it (runner.c says why).
**
** The state is the daemon's alone (a full disk cannot take a record of
** itself); `holdfast status` asks the daemon for it over its wake socket, as
** one line that diskfull_format writes and diskfull_parse reads.
*/
#ifndef HF_DISKFULL_H
#define HF_DISKFULL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fmt/cfg.h"
#include "log/jlog.h"
#include "ship/ship.h"

#define DISKFULL_RETRY_MS 2000      /* between tries while the disk is full */
#define DISKFULL_PRUNE_BATCH 1000   /* finished jobs pruned beyond the limits per try */
#define DISKFULL_VACUUM_PAGES 256   /* pages given back per vacuum transaction */
#define DISKFULL_GIVE_BACK_MS 500   /* vacuum and checkpoint rounds per prune, at most */
#define DISKFULL_PRUNE_MS 2000      /* prune and give-back rounds per try, at most */
#define DISKFULL_FREE_MIN (1 << 20) /* free pages left to give back: no prune first */
#define DISKFULL_OUTPUT_MEM (4u << 20) /* job output kept in memory while full */

struct diskfull {
	bool on;                   /* the last write found no room; none has succeeded since */
	uint64_t since_mono_ms;    /* when it filled, on this boot's monotonic clock */
	int64_t since_utc_ms;      /* and on the wall clock (< 0: untrusted) */
	uint64_t next_try_ms;      /* the next relief and retry */
	uint64_t tries;            /* retries in this episode */
	uint64_t episodes;         /* times the disk filled since the daemon started */
	int64_t pruned;            /* finished jobs pruned beyond the limits, this episode */
	int64_t pruned_output;     /* ... their output, bytes */
	int64_t given_back;        /* bytes the log file gave back, this episode */
	int64_t batch;             /* jobs the next prune tries (smaller after ENOSPC) */
	bool prune_next;           /* the last try found no room after a checkpoint:
				    * the next one (at once) prunes */
	bool prune_over;           /* nothing more may be pruned, this episode (said) */
	bool free_left;            /* free pages are left to give back */
	bool dropped;              /* the replica's spool was dropped, this episode */
	/* While quiet: the port's log lines, the last DISKFULL_KEPT of them. */
	bool quiet;
	char kept[8][256];
	int kept_level[8];
	unsigned nkept;
};
#define DISKFULL_KEPT 8

/* What status shows: parsed from the daemon's answer. */
struct diskfull_state {
	bool full;
	int64_t since_utc_ms;      /* < 0: untrusted */
	uint64_t for_ms;           /* how long it has been full */
	int64_t ends_waiting;      /* job ends kept in memory until there is room */
	int64_t pruned;
};

/* The disk filled (WHAT failed): says so once for the episode; the first
** relief and retry are due at once. */
void diskfull_enter(struct diskfull *d, const struct jlog_now *now, const char *dir,
		    const char *what);

/* A write succeeded again: says so, with how long the disk was full, how
** many job ends that were waiting in memory it recorded, and what was
** pruned and given back to make room. */
void diskfull_leave(struct diskfull *d, uint64_t now_mono_ms, unsigned ends);

/*
** Makes room before a try, each step best effort (one that finds no room,
** or the log busy, is skipped):
**   - drops the unshipped spool, which ends the replica's generation with a
**     recorded gap (S may be NULL: no replica);
**   - checkpoints, so the WAL gives its room back;
** and, when the last try found no room even so (diskfull_try_failed), so
** that history is pruned only when the room did not come back by itself:
**   - prunes finished jobs beyond [history]'s limits (C), oldest first, at
**     most DISKFULL_PRUNE_BATCH a try (fewer after a prune found no room),
**     never below the CFG_HISTORY_FLOOR_JOBS newest, whole pipeline runs,
**     never a job an unfinished one depends on (jlog_prune). Not bound by
**     the history export's watermark: what goes unexported is recorded as a
**     gap, as for the byte budget. Skipped while DISKFULL_FREE_MIN of free
**     pages are still to be given back;
**   - gives the free pages back (incremental vacuum and a checkpoint, in
**     rounds, for up to DISKFULL_GIVE_BACK_MS), so the log file shrinks;
** and again, for up to DISKFULL_PRUNE_MS, until DIR's file system has a
** margin of 2 x [log] wal_max free, nothing more may go, or a round frees
** nothing.
** Says what it dropped, and once per episode what it pruned and freed when
** nothing more may be pruned (diskfull_leave says it otherwise). Returns an
** error other than a full disk or a busy log (an I/O error, a failed
** fsync): the caller stops, as for a failed commit.
*/
int diskfull_relieve(struct diskfull *d, struct jlog *j, struct ship *s, const struct cfg *c,
		     const char *dir, const struct jlog_now *now);

/* A try found no room (at NOW_MONO_MS): the next is at once, and prunes,
** if this one did not and more may be pruned; else in DISKFULL_RETRY_MS. */
void diskfull_try_failed(struct diskfull *d, uint64_t now_mono_ms);

/*
** Each try fails the way the first did (SQLite's "database or disk is
** full", the port's failed write), and that was said when the disk filled:
** between diskfull_quiet and diskfull_loud the log's lines are kept, not
** said, and said after all (REPLAY) only if the try failed for another
** reason. diskfull's own messages are said either way.
*/
void diskfull_quiet(struct diskfull *d);
void diskfull_loud(struct diskfull *d, bool replay);

/* The state as one line for status ("disk ok" or "disk full ..."). */
void diskfull_format(const struct diskfull *d, uint64_t now_mono_ms, int64_t ends_waiting,
		     char *out, size_t len);
/* Reads a line diskfull_format wrote: HF_EPROTO if it is not one. */
int diskfull_parse(const char *text, struct diskfull_state *st);

#endif /* HF_DISKFULL_H */
