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

#include "cfg.h"
#include "jlog.h"
#include "ship.h"

#define DISKFULL_RETRY_MS 2000      /* between tries while the disk is full */
#define DISKFULL_FLOOR_JOBS 20      /* finished jobs a full disk never prunes */
#define DISKFULL_PRUNE_BATCH 1000   /* finished jobs pruned beyond the limits per try */
#define DISKFULL_OUTPUT_MEM (4u << 20) /* job output kept in memory while full */

struct diskfull {
	bool on;                   /* the last write found no room; none has succeeded since */
	uint64_t since_mono_ms;    /* when it filled, on this boot's monotonic clock */
	int64_t since_utc_ms;      /* and on the wall clock (< 0: untrusted) */
	uint64_t next_try_ms;      /* the next relief and retry */
	uint64_t tries;            /* retries in this episode */
	uint64_t episodes;         /* times the disk filled since the daemon started */
	int64_t pruned;            /* finished jobs pruned beyond the limits, this episode */
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

/* A write succeeded again: says so, with how long the disk was full and
** how many job ends that were waiting in memory it recorded. */
void diskfull_leave(struct diskfull *d, uint64_t now_mono_ms, unsigned ends);

/*
** Makes room, each step best effort (one that cannot be made is skipped):
** drops the unshipped spool, which ends the replica's generation with a
** recorded gap (S may be NULL: no replica); checkpoints, so the WAL gives
** its room back; prunes finished jobs beyond [history]'s limits, oldest
** first, DISKFULL_PRUNE_BATCH a try, never below DISKFULL_FLOOR_JOBS; gives
** the freed pages back to the file system. Says what it freed, once per
** episode and step.
*/
void diskfull_relieve(struct diskfull *d, struct jlog *j, struct ship *s, const struct cfg *c,
		      const struct jlog_now *now);

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
