/*
** diskfull.c: the daemon on a full disk (see diskfull.h).
**
** Why these steps, in this order, to make room. On a full disk even a DELETE
** needs room: in WAL mode every changed page is appended to the WAL before
** the database file changes. So first what frees room without writing the
** log: the spool's unshipped files (their history gets an explicit gap in
** the replica, as when the spool cap drops them), then a checkpoint, which
** truncates the WAL when no reader holds it. Only then the prune, whose
** frames go into the room the WAL gave back, and vacuum steps, which hand
** the pages the prune freed back to the file system once a checkpoint has
** copied them into the database file (in WAL mode the file shrinks there).
**
** A prune's frames are few for what it frees (a deleted page goes on the
** free list without being written; its b-tree parents, the free list's trunk
** pages and the pointer maps are), a vacuum's are one per page moved. When
** the WAL's room is less than that, the transaction fails and is rolled
** back whole: the next one is smaller (a batch an eighth, a vacuum step a
** quarter), down to one job or page, which needs a handful of frames; one
** that fitted lets the next one grow by as much again.
**
** When to prune. History is what a full disk costs for good, so only when
** the cheap steps were not enough: a try that found no room even after its
** checkpoint makes the next try come at once, and that one prunes before it
** commits (diskfull_try_failed). If it fails too, the next pair follows in
** DISKFULL_RETRY_MS. So room that came back by itself between tries (the
** operator deleted a file) prunes nothing.
**
** The floor is the byte budget's (CFG_HISTORY_FLOOR_JOBS, README "History
** limits"): a full disk is the budget's case with no room left, and the
** newest finished jobs are what an operator looks at after one.
*/
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/units.h"
#include "daemon/diskfull.h"
#include "log/history.h"
#include "port.h"

static void keep_line(int level, const char *line, void *arg)
{
	struct diskfull *d = arg;

	d->kept_level[d->nkept % DISKFULL_KEPT] = level;
	snprintf(d->kept[d->nkept++ % DISKFULL_KEPT], sizeof(d->kept[0]), "%s", line);
}

void diskfull_quiet(struct diskfull *d)
{
	d->quiet = true;
	d->nkept = 0;
	port_log_set_sink(keep_line, d);
}

void diskfull_loud(struct diskfull *d, bool replay)
{
	if (!d->quiet)
		return;
	d->quiet = false;
	port_log_set_sink(NULL, NULL);
	for (unsigned i = d->nkept > DISKFULL_KEPT ? d->nkept - DISKFULL_KEPT : 0;
	     replay && i < d->nkept; i++)
		port_logl(d->kept_level[i % DISKFULL_KEPT], "%s", d->kept[i % DISKFULL_KEPT]);
}

/* Says a line of ours at LEVEL, quiet or not. */
static void say(struct diskfull *d, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(struct diskfull *d, int level, const char *fmt, ...)
{
	char line[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (d->quiet)
		port_log_set_sink(NULL, NULL);
	port_logl(level, "%s", line);
	if (d->quiet)
		port_log_set_sink(keep_line, d);
}

void diskfull_enter(struct diskfull *d, const struct jlog_now *now, const char *dir,
		    const char *what)
{
	d->on = true;
	d->since_mono_ms = d->next_try_ms = now->mono_ms;
	d->since_utc_ms = now->utc_ms;
	d->tries = 0;
	d->episodes++;
	d->pruned = d->pruned_output = d->given_back = 0;
	d->batch = DISKFULL_PRUNE_BATCH;
	d->prune_next = d->prune_over = d->free_left = false;
	d->dropped = false;
	say(d, PORT_LOG_WARNING,
	    "the disk holding %s is full (%s): nothing new starts until there is room; "
	    "running jobs go on, their ends wait in memory. Making room: unshipped replica "
	    "files are dropped (a gap), old history is pruned beyond [history]'s limits down "
	    "to the %d newest finished jobs; trying again every %d s", dir, what,
	    CFG_HISTORY_FLOOR_JOBS, DISKFULL_RETRY_MS / 1000);
}

/* What this episode pruned and gave back, as a clause: "" if nothing. */
static void freed_clause(const struct diskfull *d, char *out, size_t len)
{
	char o[32], g[32];

	if (!d->pruned && !d->given_back) {
		snprintf(out, len, "%s", "");
		return;
	}
	units_format_size((uint64_t)d->pruned_output, o, sizeof(o));
	units_format_size((uint64_t)d->given_back, g, sizeof(g));
	snprintf(out, len, "%" PRId64 " finished job(s) with %s of output were pruned past "
		 "[history]'s limits and the log file gave back %s", d->pruned, o, g);
}

void diskfull_leave(struct diskfull *d, uint64_t now_mono_ms, unsigned ends)
{
	char dur[32], freed[200];

	units_format_duration(now_mono_ms - d->since_mono_ms, dur, sizeof(dur));
	freed_clause(d, freed, sizeof(freed));
	say(d, PORT_LOG_NOTICE,
	    "the disk has room again after %s: %u job end(s) that waited in memory are "
	    "recorded%s%s; jobs start again", dur, ends, freed[0] ? "; to make room, " : "",
	    freed);
	d->on = false;
}

/* A step's error: a full disk or a busy log skips the step, anything else
** (an I/O error, a failed fsync) is the caller's to stop for. */
static bool skippable(int rc)
{
	return rc == HF_OK || rc == HF_ENOSPC || rc == HF_EBUSY;
}

/* The spool is not the job log: a drop that fails is tried again next time,
** whatever the error (the shipper has logged it). */
static void drop_spool(struct diskfull *d, struct jlog *j, struct ship *s)
{
	unsigned files = 0;
	uint64_t bytes = 0, gaps;

	if (!s || d->dropped || jlog_begin(j) != HF_OK)
		return;
	/* Under the write lock, as every change to the shipping state. */
	gaps = ship_load(s) == HF_OK ? s->st.gaps : UINT64_MAX;
	if (ship_drop(s, "the disk holding the data directory is full", &files, &bytes) ==
	    HF_OK) {
		d->dropped = true;
		if (s->st.gaps != gaps)
			say(d, PORT_LOG_WARNING,
			    "replica: %s; %s, a new snapshot follows once there is room",
			    s->st.last_gap, files ? "dropped from the spool" : "so it ends");
	}
	jlog_rollback(j);
}

/* The log's size in bytes as this connection sees it (pages x page size):
** what the file shrinks to at the next checkpoint. */
static int64_t log_bytes(struct jlog *j, int64_t *free_bytes)
{
	struct jlog_history hs;

	if (jlog_history_get(j, &hs) != HF_OK)
		return *free_bytes = -1;
	*free_bytes = hs.free_bytes;
	return hs.db_bytes;
}

/* One prune of the oldest finished jobs past the limits, smaller after each
** one that found no room, down to a single job. */
static int prune(struct diskfull *d, struct jlog *j, const struct cfg *c,
		 const struct jlog_now *now)
{
	struct jlog_prune_limits l;
	struct jlog_prune_result r;
	int rc;

	hist_limits(c, &l);
	/* The export's watermark does not hold a full disk back (upto 0): the
	** log's delete trigger records what goes unexported as a gap. */
	l.upto_fin_seq = 0;
	l.floor_jobs = CFG_HISTORY_FLOOR_JOBS;
	/* Every finished job is due (EXTRA: all of them) but the floor and what
	** jlog_prune keeps; MAX_JOBS bounds the transaction. */
	l.extra = INT64_MAX;
	for (;;) {
		l.max_jobs = d->batch;
		rc = jlog_prune(j, now, &l, &r);
		if (rc != HF_ENOSPC || d->batch == 1)
			break;
		d->batch = d->batch / 8 > 0 ? d->batch / 8 : 1;
	}
	if (rc != HF_OK)
		return rc;
	/* It fitted: the next may be bigger again (the WAL's room comes back
	** with every checkpoint). */
	d->batch = d->batch * 8 < DISKFULL_PRUNE_BATCH ? d->batch * 8 : DISKFULL_PRUNE_BATCH;
	d->pruned += r.jobs;
	d->pruned_output += r.output_bytes;
	/* Nothing went: only the floor, unfinished jobs and what they depend
	** on are left, and while the disk is full no job finishes. */
	d->prune_over = r.jobs == 0;
	return HF_OK;
}

/* Vacuum steps, each followed by a checkpoint, until no free page is left,
** a step finds no room even at one page, or DISKFULL_GIVE_BACK_MS passed;
** smaller after a step that found no room, bigger again after one that did. */
static int give_back(struct jlog *j)
{
	uint64_t until = port_clock_mono_ms() + DISKFULL_GIVE_BACK_MS;
	int64_t pages = DISKFULL_VACUUM_PAGES, left;
	bool done;
	int rc;

	if (!jlog_is_incremental(j))
		return HF_OK;
	for (;;) {
		rc = jlog_vacuum_step(j, pages, &left);
		if (rc == HF_ENOSPC && pages > 1) {
			pages = pages / 4 > 0 ? pages / 4 : 1;
			continue;
		}
		if (rc != HF_OK)
			return rc;
		if ((rc = jlog_checkpoint_now(j, &done)) != HF_OK || left == 0 ||
		    port_clock_mono_ms() >= until)
			return rc;
		/* The checkpoint gave the WAL's room back, and the pages moved
		** out of the file's end some more: the next step may be bigger. */
		pages = pages * 4 < DISKFULL_VACUUM_PAGES ? pages * 4 : DISKFULL_VACUUM_PAGES;
	}
}

/* Whether DIR's file system has the margin a full disk prunes for: room
** for a WAL of wal_max and for what its checkpoint grows the log file by.
** Unknown: yes (no more is pruned for it). */
static bool has_margin(const char *dir, const struct cfg *c)
{
	uint64_t avail;

	return port_fs_free_space(dir, &avail) != HF_OK || avail >= 2 * c->wal_max;
}

/* One round: a prune (unless free pages are still to give back), then the
** pages given back. *PROGRESS: something was pruned or given back. */
static int prune_round(struct diskfull *d, struct jlog *j, const struct cfg *c,
		       const struct jlog_now *now, bool *progress)
{
	int64_t before, after, free_bytes, pruned = d->pruned;
	char freed[200];
	int rc;

	*progress = false;
	before = log_bytes(j, &free_bytes);
	/* Free pages still to give back come first: pruning more would only
	** add to them (a log that cannot give them back prunes anyway: its
	** free pages take the next commit's rows). */
	if (!d->prune_over && (free_bytes < DISKFULL_FREE_MIN || !jlog_is_incremental(j))) {
		if (!skippable(rc = prune(d, j, c, now)))
			return rc;
		if (rc == HF_OK && d->prune_over) {
			freed_clause(d, freed, sizeof(freed));
			say(d, PORT_LOG_WARNING,
			    "no more history may be pruned to make room: the %d newest "
			    "finished jobs are kept, and every unfinished job with what it "
			    "depends on%s%s", CFG_HISTORY_FLOOR_JOBS,
			    freed[0] ? "; so far " : "", freed);
		}
	}
	if (!skippable(rc = give_back(j)))
		return rc;
	after = log_bytes(j, &free_bytes);
	d->free_left = free_bytes > 0 && jlog_is_incremental(j);
	if (before > 0 && after > 0 && after < before)
		d->given_back += before - after;
	*progress = d->pruned > pruned || (before > 0 && after > 0 && after < before);
	return HF_OK;
}

int diskfull_relieve(struct diskfull *d, struct jlog *j, struct ship *s, const struct cfg *c,
		     const char *dir, const struct jlog_now *now)
{
	uint64_t until;
	bool done, progress;
	int rc;

	d->tries++;
	drop_spool(d, j, s);
	if (!skippable(rc = jlog_checkpoint_now(j, &done)))
		return rc;
	if (!d->prune_next)
		return HF_OK;
	/* Rounds until the margin, not only until the next commit fits: a
	** commit that takes the last bytes leaves its checkpoint (which grows
	** the log file by what the WAL added) no room, and then not even a
	** prune fits until something else lets go of some. */
	until = port_clock_mono_ms() + DISKFULL_PRUNE_MS;
	do {
		if ((rc = prune_round(d, j, c, now, &progress)) != HF_OK)
			return rc;
	} while (progress && !has_margin(dir, c) && port_clock_mono_ms() < until);
	return HF_OK;
}

void diskfull_try_failed(struct diskfull *d, uint64_t now_mono_ms)
{
	/* Pruning includes giving pages back, which goes on after the last
	** job that may go has gone. */
	d->prune_next = !d->prune_next && (!d->prune_over || d->free_left);
	d->next_try_ms = now_mono_ms + (d->prune_next ? 0 : DISKFULL_RETRY_MS);
}

void diskfull_format(const struct diskfull *d, uint64_t now_mono_ms, int64_t ends_waiting,
		     char *out, size_t len)
{
	if (!d->on) {
		snprintf(out, len, "disk ok");
		return;
	}
	snprintf(out, len, "disk full since_utc_ms=%" PRId64 " for_ms=%" PRIu64 " ends=%" PRId64
		 " pruned=%" PRId64, d->since_utc_ms, now_mono_ms - d->since_mono_ms,
		 ends_waiting, d->pruned);
}

int diskfull_parse(const char *text, struct diskfull_state *st)
{
	memset(st, 0, sizeof(*st));
	if (!strcmp(text, "disk ok"))
		return HF_OK;
	if (sscanf(text, "disk full since_utc_ms=%" SCNd64 " for_ms=%" SCNu64 " ends=%" SCNd64
		   " pruned=%" SCNd64, &st->since_utc_ms, &st->for_ms, &st->ends_waiting,
		   &st->pruned) != 4)
		return HF_EPROTO;
	st->full = true;
	return HF_OK;
}
