/*
** export.h: the fleet's history. With a replica, finished jobs (with their
** attempts and the head of each attempt's output) go to it as zstd-compressed
** JSON lines before pruning may take them, so that a query engine (DuckDB,
** Athena, ClickHouse) reads a whole fleet's history where it already is.
**
** Replica layout, below DEVICE/history/:
**   YYYY-MM-DD/FIRST-LAST.jsonl.zst   jobs that finished that UTC day (the
**                                     wall clock trusted at their end), by
**                                     fin_seq FIRST..LAST (12 digits each)
**   undated/boot-N-FIRST-LAST.jsonl.zst  jobs that finished in boot N with
**                                     no trusted clock
**   gaps/FROM-TO.json                 finished jobs with fin_seq FROM..TO
**                                     were pruned before they were exported
**                                     (the disk budget wins over the export)
** A day's part goes once the day is over (a job of a later day finished,
** or the clock says so), so a day is one object unless it holds more than
** EXPORT_PART_JOBS jobs or pruning presses (see export.c). Sealed with
** [replica] key_file like everything else there when it is set.
*/
#ifndef HF_EXPORT_H
#define HF_EXPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "fmt/cfg.h"
#include "log/jlog.h"
#include "ship/ship.h"

#define EXPORT_PART_JOBS 10000             /* jobs in one part at most */
#define EXPORT_PART_RAW_MAX (32u << 20)    /* JSON bytes of one part at most */
#define EXPORT_LOOK_MS 10000               /* how often the log is looked at */

struct export {
	struct ship *ship;       /* the device name */
	const struct cfg *cfg;
	bool active;             /* a replica is configured */
	bool urged;              /* pruning waits: the next part goes now */
	uint64_t next_ms;        /* mono ms of the next look (0: at once) */
	int said;                /* the last failure logged (HF_OK: none) */
};

/* Sets up E over the shipper S (cannot fail). */
void export_init(struct export *e, struct ship *s, const struct cfg *cfg);

/* At daemon start: turns the export (and the prune bound and the gap
** trigger) on if a replica is configured, off if not. */
int export_start(struct export *e, struct jlog *j);

/* Pruning is held back by the watermark (or the disk budget presses): the
** oldest unexported jobs go at the next tick, whatever their day. */
void export_urge(struct export *e);

/*
** The daemon's uploader sends the export's writes, after the spool (the log's
** own history first), so the loop never waits on the replica for them:
**   export_next   in the loop, at a shipping round: the next write due (a
**                 gap record, a part in flight, or a new part, whose range
**                 is committed as in flight first), or *OUT NULL if none;
**   export_send   in the uploader, with its own struct ship UP, after the
**                 spool went out: the write (create-only);
**   export_done   in the loop once the upload ended: the gap or the part
**                 recorded as in the replica if it went, and P freed.
** A replica away or the daily budget spent: nothing, quietly (the log keeps
** it all, and pruning waits). Failures are logged once per change.
*/
struct export_put {
	char rel[256];           /* where, below the replica */
	void *buf;
	size_t len;
	bool is_gap;             /* a gap record (gap), else a part up to LAST */
	struct jlog_export_gap gap;
	int64_t last, jobs;
	bool sent;               /* export_send ran: RC is what it did */
	int rc;
};
int export_next(struct export *e, struct jlog *j, const struct jlog_now *now,
		struct export_put **out);
void export_send(struct ship *up, struct export_put *p);
int export_done(struct export *e, struct jlog *j, const struct jlog_now *now,
		struct export_put *p);
void export_put_free(struct export_put *p);

/* The replica path of a part (DAY "YYYY-MM-DD" or "boot-N"). */
void export_part_path(const char *device, const char *day, int64_t first, int64_t last,
		      char *out, size_t len);

#endif /* HF_EXPORT_H */
