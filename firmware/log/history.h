/*
** history.h: keeping the job log's history within [history]'s limits and
** the data directory within its byte budget, for the daemon (passes paced
** between its other work) and for `holdfast prune` (one pass, now).
**
** A pass is rounds of: jlog_prune of at most HIST_BATCH jobs (one short
** transaction), then, when enough pages are free or the budget is exceeded,
** jlog_vacuum_step of at most HIST_VACUUM_PAGES and a checkpoint that hands
** the freed pages back to the file system. Under the budget the daemon
** pauses between steps and never steps right after a CLI writer, so that
** submits do not wait behind pruning; over the budget it goes back to back
** until under it (a paced budget falls behind a busy device and overshoots),
** pruning the oldest finished jobs whatever their age, down to the
** CFG_HISTORY_FLOOR_JOBS newest.
*/
#ifndef HF_HISTORY_H
#define HF_HISTORY_H

#include <stdbool.h>
#include <stdint.h>

#include "log/jlog.h"

struct cfg;

#define HIST_BATCH 50            /* jobs per prune transaction */
#define HIST_VACUUM_PAGES 256    /* pages per incremental_vacuum transaction */

/* What a pass did, summed over its rounds. */
struct hist_pass {
	struct jlog_prune_result pruned; /* .more: stopped with more due */
	int64_t extra;               /* of which for the byte budget */
	int64_t vacuumed_pages;
	uint64_t data_bytes;         /* the data directory at the end (0: unknown) */
	bool over_budget;            /* still over max_bytes at the end */
};

struct hist {
	char dir[4096];
	struct jlog_prune_limits lim; /* keep, keep_failed, keep_jobs */
	uint64_t max_bytes;          /* the budget (cfg_max_bytes) */
	uint64_t wal_max;            /* [log] wal_max: what the WAL may hold */
	bool max_bytes_auto;
	/* Gives the WAL's pages back after a vacuum: the owner's checkpoint
	** (sealed first when a replica is set); NULL: none may be made now. */
	int (*checkpoint)(void *arg);
	void *arg;

	/* The daemon's pacing (hist_tick). */
	uint64_t interval_ms;        /* between passes */
	uint64_t next_pass;          /* mono ms */
	uint64_t step_at;            /* mono ms of the next step of a pass */
	uint64_t quiet_until;        /* a CLI writer was just here */
	uint64_t stepped_at;         /* mono ms of the last step */
	int64_t ends;                /* jobs ended since the last pass */
	int64_t ends_trigger;        /* that many make a pass come early */
	uint64_t measured_at;        /* mono ms the budget was last looked at */
	bool look;                   /* a look at the budget is due now */
	int stage;                   /* HIST_* in history.c; 0: no pass running */
	int rounds;                  /* budget rounds of this pass */
	unsigned passes;             /* passes ended, ever */
	struct hist_pass pass;
	bool floor_said;             /* "over budget at the floor" said once */
};

/* [history]'s age and count limits from C (keep, keep_failed, keep_jobs),
** the rest of L zero: what the daemon's passes prune by, and what a full
** disk prunes beyond (diskfull.c). */
void hist_limits(const struct cfg *c, struct jlog_prune_limits *l);

/*
** Sets H up for data directory DIR from C: the limits, the budget (10% of
** the file system, see cfg_max_bytes) and the pass interval (60 s, or half
** the shortest age limit). CHECKPOINT(ARG) as above.
*/
int hist_init(struct hist *h, const struct cfg *c, const char *dir,
	      int (*checkpoint)(void *arg), void *arg);

/* The daemon's side: N jobs ended (committed) at NOW; a CLI writer was seen
** at NOW (the wake socket). */
void hist_note_ends(struct hist *h, uint64_t now, int64_t n);
void hist_note_writer(struct hist *h, uint64_t now);
/* The daemon checkpointed: the log file may have grown by the WAL's new
** pages, so the budget is looked at now, not at the next half second. */
void hist_note_checkpoint(struct hist *h);

/* When hist_tick has something to do (mono ms). */
uint64_t hist_due(const struct hist *h);

/*
** Does what is due at NOW.MONO_MS: starts a pass, or runs its next step
** (back to back for up to a few tens of ms when over the budget). Logs one
** line per pass that removed anything. An error of the log (other than
** busy) is returned: the caller decides (the daemon stops on a failed write).
*/
int hist_tick(struct hist *h, struct jlog *j, const struct jlog_now *now);

/* A whole pass now, without pauses (`holdfast prune`, and the daemon's
** `run --until-idle` before it exits). With DRY_RUN, only counts what the
** age and count limits would prune, changing nothing. WHO: the log line's
** prefix, as hist_tick's; NULL: no line (the caller reports). */
int hist_run(struct hist *h, struct jlog *j, const struct jlog_now *now, bool dry_run,
	     const char *who, struct hist_pass *out);

#endif /* HF_HISTORY_H */
