/*
** history.c: pruning passes and the byte budget (see history.h).
**
** Why the pass looks the way it does:
**   - Every step is its own short transaction (jlog_prune of HIST_BATCH
**     jobs, jlog_vacuum_step of at most HIST_VACUUM_PAGES), so a submit waits for at
**     most one step, never for a whole pass.
**   - Freed pages are first of all reused: a new job's rows go into the
**     free list before the file grows. Vacuuming and checkpointing after
**     every small prune would rewrite pages for nothing (an earlier attempt
**     paid 300 KB of flash writes per job that way), so a pass vacuums only
**     when HIST_VACUUM_MIN free bytes have gathered, or over the budget; and
**     a pass starts early only when HIST_ENDS_MAX (or 1% of keep_jobs) jobs
**     have ended since the last one, else on the interval.
**   - Over the budget there are no pauses: a paced budget falls behind a
**     device that writes faster than the pauses let it prune. Each round
**     prunes as many of the oldest finished jobs as the excess is likely to
**     hold (measured bytes per job), vacuums and checkpoints, and measures
**     the directory again.
*/
#include <stdio.h>
#include <string.h>

#include "base/units.h"
#include "fmt/cfg.h"
#include "log/history.h"
#include "port.h"

#define HIST_INTERVAL_MS 60000     /* between passes, at most */
#define HIST_INTERVAL_MIN_MS 1000
#define HIST_ENDS_DELAY_MS 5000    /* a pass this long after enough ends */
#define HIST_ENDS_MAX 64
#define HIST_PAUSE_MS 20           /* between two steps of a paced pass */
#define HIST_QUIET_MS 200          /* no step this long after a CLI writer */
#define HIST_STARVE_MS 500         /* ... unless none went for this long */
#define HIST_BURST_MS 50           /* steps back to back over the budget */
#define HIST_VACUUM_MIN (1 << 20)  /* free bytes worth giving back */
#define HIST_MEASURE_MS 500        /* the budget looked at, with jobs ending */

enum { HIST_IDLE, HIST_PRUNE, HIST_BUDGET, HIST_VACUUM, HIST_CKPT, HIST_DONE };

void hist_limits(const struct cfg *c, struct jlog_prune_limits *l)
{
	memset(l, 0, sizeof(*l));
	l->keep_ms = c->history_keep_ms;
	l->keep_failed_ms = c->history_keep_failed_ms;
	l->keep_jobs = c->history_keep_jobs > 0 ? c->history_keep_jobs : -1;
}

int hist_init(struct hist *h, const struct cfg *c, const char *dir,
	      int (*checkpoint)(void *arg), void *arg)
{
	uint64_t fs = 0, shortest;
	int rc;

	memset(h, 0, sizeof(*h));
	snprintf(h->dir, sizeof(h->dir), "%s", dir);
	hist_limits(c, &h->lim);
	h->lim.max_jobs = HIST_BATCH;
	h->max_bytes_auto = c->history_max_bytes == 0;
	if (h->max_bytes_auto && (rc = port_fs_total_size(dir, &fs)) != HF_OK)
		return rc;
	h->max_bytes = cfg_max_bytes(c, fs);
	h->wal_max = c->wal_max;
	h->checkpoint = checkpoint;
	h->arg = arg;
	/* Half the shortest age limit: a job is then at most 1.5 x its keep
	** old before it goes. */
	h->interval_ms = HIST_INTERVAL_MS;
	shortest = h->lim.keep_ms;
	if (h->lim.keep_failed_ms && (!shortest || h->lim.keep_failed_ms < shortest))
		shortest = h->lim.keep_failed_ms;
	if (shortest && shortest / 2 < h->interval_ms)
		h->interval_ms = shortest / 2;
	if (h->interval_ms < HIST_INTERVAL_MIN_MS)
		h->interval_ms = HIST_INTERVAL_MIN_MS;
	h->ends_trigger = HIST_ENDS_MAX;
	if (h->lim.keep_jobs > 0 && h->lim.keep_jobs / 100 < h->ends_trigger)
		h->ends_trigger = h->lim.keep_jobs / 100 > 0 ? h->lim.keep_jobs / 100 : 1;
	/* The first pass soon after start: a log may have waited long. */
	h->next_pass = port_clock_mono_ms() + HIST_ENDS_DELAY_MS;
	return HF_OK;
}

void hist_note_ends(struct hist *h, uint64_t now, int64_t n)
{
	h->ends += n;
	if (h->ends >= h->ends_trigger && h->next_pass > now + HIST_ENDS_DELAY_MS)
		h->next_pass = now + HIST_ENDS_DELAY_MS;
}

void hist_note_writer(struct hist *h, uint64_t now)
{
	h->quiet_until = now + HIST_QUIET_MS;
}

void hist_note_checkpoint(struct hist *h)
{
	h->look = true;
}

uint64_t hist_due(const struct hist *h)
{
	uint64_t t;

	if (h->stage == HIST_IDLE) {
		if (h->look)
			return 0;
		/* Jobs ended: a look at the budget (a stat per file) now and
		** then, so a busy device is caught before it is far over. */
		t = h->measured_at + HIST_MEASURE_MS;
		return h->ends > 0 && t < h->next_pass ? t : h->next_pass;
	}
	t = h->step_at;
	/* Writers first, but not forever: under a stream of submits a step
	** still goes every HIST_STARVE_MS. */
	if (!h->pass.over_budget && h->quiet_until > t)
		t = h->quiet_until < h->stepped_at + HIST_STARVE_MS ? h->quiet_until :
			h->stepped_at + HIST_STARVE_MS > t ? h->stepped_at + HIST_STARVE_MS : t;
	return t;
}

/* Room for what jobs write between two looks at the budget: 1/32 of it. */
static uint64_t budget_room(const struct hist *h)
{
	return h->max_bytes / 32;
}

/* What the budget passes aim under: a WAL and the room below max_bytes. The
** log file grows only at a checkpoint, by the new pages of a WAL of up to
** wal_max, while the WAL itself may hold as much again. (cfg_max_bytes'
** floor is 4 x wal_max.) */
static uint64_t budget_target(const struct hist *h)
{
	return h->max_bytes - budget_room(h) - h->wal_max;
}

/* Pages per vacuum step: every page it moves is written to the WAL (with
** the pages that point to it), so a step is kept to an eighth of wal_max in
** the log's own pages, at most HIST_VACUUM_PAGES. */
static int64_t vacuum_pages(const struct hist *h, int64_t page_size)
{
	int64_t n = (int64_t)(h->wal_max / 8) / (page_size > 0 ? page_size : 4096);

	return n < 16 ? 16 : n > HIST_VACUUM_PAGES ? HIST_VACUUM_PAGES : n;
}

/* The data directory's bytes, and whether they are over the budget. */
static int measure(struct hist *h)
{
	int rc = port_fs_usage(h->dir, &h->pass.data_bytes);

	h->pass.over_budget = rc == HF_OK && h->pass.data_bytes > budget_target(h);
	return rc;
}

static void add_result(struct hist_pass *p, const struct jlog_prune_result *r)
{
	p->pruned.jobs += r->jobs;
	p->pruned.runs += r->runs;
	p->pruned.attempts += r->attempts;
	p->pruned.output_chunks += r->output_chunks;
	p->pruned.output_bytes += r->output_bytes;
	p->pruned.more = r->more;
}

/* How many of the oldest finished jobs the excess over the budget likely
** holds, with the room: the excess and the room that the free pages do not
** cover, over the log's bytes per finished job (no more: with 256 KiB of
** output a job, a batch of 50 would take 12 MiB of history that the budget
** does not need). New rows then fill the room's free pages before the file
** grows again. 0: none to prune (the free pages are enough, or only the
** floor is left). */
static int64_t budget_extra(struct hist *h, struct jlog *j)
{
	struct jlog_history hs;
	uint64_t need, used, per;

	if (!h->pass.over_budget || jlog_history_get(j, &hs) != HF_OK)
		return 0;
	need = h->pass.data_bytes - budget_target(h) + budget_room(h);
	if ((uint64_t)hs.free_bytes >= need)
		return 0;
	if (hs.finished <= CFG_HISTORY_FLOOR_JOBS)
		return 0;
	need -= (uint64_t)hs.free_bytes;
	used = (uint64_t)(hs.db_bytes - hs.free_bytes);
	per = used / (uint64_t)hs.finished;
	return (int64_t)(need / (per ? per : 1)) + 1;
}

/* One prune step: the age and count limits, or with EXTRA the budget's. */
static int prune_step(struct hist *h, struct jlog *j, const struct jlog_now *now, int64_t extra,
		      bool dry_run, struct jlog_prune_result *r)
{
	struct jlog_prune_limits l = h->lim;

	if (extra > 0) {
		/* The budget wins over the export's watermark (a gap is
		** recorded by the export), never over the floor. */
		l.extra = extra;
		l.floor_jobs = CFG_HISTORY_FLOOR_JOBS;
		l.upto_fin_seq = 0;
	} else {
		/* The age and count limits take only what the history export
		** has in the replica (export.h): read from the log, so that
		** `holdfast prune` keeps it too. -1: no export (no replica);
		** 0: on, nothing exported yet, so nothing may go. */
		int64_t upto;
		int rc = jlog_export_upto(j, &upto);
		if (rc != HF_OK)
			return rc;
		if (upto == 0) {
			memset(r, 0, sizeof(*r));
			return HF_OK;
		}
		l.upto_fin_seq = upto > 0 ? upto : 0;
	}
	l.dry_run = dry_run;
	if (dry_run)
		l.max_jobs = INT64_MAX;
	return jlog_prune(j, now, &l, r);
}

/* The free bytes a vacuum may give back to the file system. Near the budget
** (within its room of the target) the room's worth of free pages stays in
** the log for new rows, so that the file is not shrunk only to grow again
** (each page a vacuum moves is written twice); over the budget, at least
** the excess goes. */
static int64_t spare_free(const struct hist *h, const struct jlog_history *hs)
{
	uint64_t target = budget_target(h), room = budget_room(h);
	int64_t spare = hs->free_bytes, over;

	if (h->pass.data_bytes + room > target)
		spare -= (int64_t)room;
	if (h->pass.over_budget) {
		over = (int64_t)(h->pass.data_bytes - target);
		if (spare < over)
			spare = over < hs->free_bytes ? over : hs->free_bytes;
	}
	return spare > 0 ? spare : 0;
}

/* Whether the free pages are worth a vacuum now. */
static bool want_vacuum(struct hist *h, struct jlog *j)
{
	struct jlog_history hs;
	int64_t spare;

	if (jlog_history_get(j, &hs) != HF_OK || (spare = spare_free(h, &hs)) <= 0)
		return false;
	return h->pass.over_budget || spare >= HIST_VACUUM_MIN;
}

static int vacuum_step(struct hist *h, struct jlog *j, bool *done)
{
	struct jlog_history hs;
	int64_t left = 0, pages, spare;
	int rc;

	if ((rc = jlog_history_get(j, &hs)) != HF_OK)
		return rc;
	pages = vacuum_pages(h, hs.page_size);
	spare = hs.page_size > 0 ? (spare_free(h, &hs) + hs.page_size - 1) / hs.page_size : 0;
	if (spare < pages)
		pages = spare;
	if (pages <= 0) {
		*done = true;
		return HF_OK;
	}
	rc = jlog_vacuum_step(j, pages, &left);
	if (rc == HF_ENOTSUP) {
		/* A log that could not be made incremental (jlog says why):
		** pruning still frees pages for new rows. */
		*done = true;
		return HF_OK;
	}
	if (rc == HF_OK)
		h->pass.vacuumed_pages += pages;
	*done = rc != HF_OK || left == 0 || pages == spare;
	return rc;
}

static void say(struct hist *h, const char *who)
{
	const struct hist_pass *p = &h->pass;
	char out[32], data[32], budget[32];

	if (!p->pruned.jobs)
		return;
	units_format_size((uint64_t)p->pruned.output_bytes, out, sizeof(out));
	units_format_size(p->data_bytes, data, sizeof(data));
	units_format_size(h->max_bytes, budget, sizeof(budget));
	port_info("%spruned %lld finished job(s) (%lld run(s), %lld attempt(s), %s of output)"
		  "%s%.0lld%s; the data directory holds %s of its %s budget", who,
		 (long long)p->pruned.jobs, (long long)p->pruned.runs,
		 (long long)p->pruned.attempts, out, p->extra ? ", of which " : "",
		 (long long)p->extra, p->extra ? " past keep for the disk budget" : "", data,
		 budget);
}

/* Over the budget with only the floor left: said once until it is not. */
static void say_floor(struct hist *h, struct jlog *j)
{
	struct jlog_history hs;
	char data[32], budget[32];

	if (!h->pass.over_budget) {
		h->floor_said = false;
		return;
	}
	if (h->floor_said || jlog_history_get(j, &hs) != HF_OK ||
	    hs.finished > CFG_HISTORY_FLOOR_JOBS)
		return;
	units_format_size(h->pass.data_bytes, data, sizeof(data));
	units_format_size(h->max_bytes, budget, sizeof(budget));
	port_warn("history: the data directory holds %s, over its %s budget ([history] "
		 "max_bytes), with only the %d newest finished jobs left, which are kept; the "
		 "rest is unfinished jobs, the WAL or the spool", data, budget,
		 CFG_HISTORY_FLOOR_JOBS);
	h->floor_said = true;
}

/*
** One step of the pass in H->stage. The stages: PRUNE (the age and count
** limits, batch by batch) -> BUDGET (measure; prune extra if over) ->
** VACUUM (if worth it) -> CKPT -> BUDGET again while over and progressing
** -> DONE.
*/
static int step(struct hist *h, struct jlog *j, const struct jlog_now *now)
{
	struct jlog_prune_result r;
	int64_t extra;
	bool done;
	int rc;

	switch (h->stage) {
	case HIST_PRUNE:
		if ((rc = prune_step(h, j, now, 0, false, &r)) != HF_OK)
			return rc;
		add_result(&h->pass, &r);
		if (!r.more)
			h->stage = HIST_BUDGET;
		return HF_OK;
	case HIST_BUDGET: {
		uint64_t before = h->pass.data_bytes;

		measure(h);
		if (h->pass.over_budget && h->rounds++ && h->pass.data_bytes >= before) {
			/* A round gave nothing back (the checkpoint could not
			** truncate the WAL: a reader pins it): pruning more would
			** not help now. The next pass tries again. */
			h->stage = HIST_DONE;
			return HF_OK;
		}
		/* Without a checkpoint (a CLI while the daemon runs) nothing
		** shrinks here: the daemon enforces the budget. */
		if (h->checkpoint && (extra = budget_extra(h, j)) > 0) {
			if ((rc = prune_step(h, j, now, extra, false, &r)) != HF_OK)
				return rc;
			add_result(&h->pass, &r);
			h->pass.extra += r.jobs;
			if (!r.jobs && !want_vacuum(h, j)) {
				/* Nothing more may go (the floor, or unfinished
				** runs): stop here rather than spin. */
				say_floor(h, j);
				h->stage = HIST_DONE;
				return HF_OK;
			}
		}
		h->stage = want_vacuum(h, j) ? HIST_VACUUM : HIST_DONE;
		if (h->stage == HIST_DONE)
			say_floor(h, j);
		return HF_OK;
	}
	case HIST_VACUUM:
		if ((rc = vacuum_step(h, j, &done)) != HF_OK)
			return rc;
		/* Over the budget the file must shrink now: a checkpoint per
		** vacuum step keeps the WAL from growing by what is vacuumed. */
		if (done || h->pass.over_budget)
			h->stage = HIST_CKPT;
		return HF_OK;
	case HIST_CKPT:
		if (h->checkpoint)
			h->checkpoint(h->arg);
		/* Over the budget: measure again (more vacuum, or more jobs). */
		h->stage = h->pass.over_budget ? HIST_BUDGET : HIST_DONE;
		return HF_OK;
	}
	h->stage = HIST_DONE;
	return HF_OK;
}

static void pass_start(struct hist *h)
{
	memset(&h->pass, 0, sizeof(h->pass));
	h->rounds = 0;
	h->stage = HIST_PRUNE;
	h->ends = 0;
}

static void pass_end(struct hist *h, uint64_t t, const char *who)
{
	if (!h->pass.data_bytes)
		measure(h);
	h->measured_at = t;
	h->look = false;
	h->passes++;
	if (who)
		say(h, who);
	h->stage = HIST_IDLE;
	h->next_pass = t + h->interval_ms;
}

int hist_tick(struct hist *h, struct jlog *j, const struct jlog_now *now)
{
	uint64_t t = now->mono_ms, until = t + HIST_BURST_MS;
	int rc = HF_OK;

	if (t < hist_due(h))
		return HF_OK;
	if (h->stage == HIST_IDLE && t < h->next_pass) {
		/* Only the look at the budget was due. */
		h->measured_at = t;
		h->look = false;
		if (port_fs_usage(h->dir, &h->pass.data_bytes) != HF_OK ||
		    h->pass.data_bytes <= budget_target(h))
			return HF_OK;
	}
	if (h->stage == HIST_IDLE)
		pass_start(h);
	do {
		h->stepped_at = port_clock_mono_ms();
		rc = step(h, j, now);
		if (rc == HF_EBUSY) {
			/* Another writer holds the log: this step again later. */
			h->step_at = port_clock_mono_ms() + HIST_QUIET_MS;
			return HF_OK;
		}
		if (rc != HF_OK || h->stage == HIST_DONE)
			break;
	} while (h->pass.over_budget && port_clock_mono_ms() < until);
	t = port_clock_mono_ms();
	if (rc != HF_OK || h->stage == HIST_DONE) {
		pass_end(h, t, "history: ");
		return rc;
	}
	h->step_at = h->pass.over_budget ? t : t + HIST_PAUSE_MS;
	return HF_OK;
}

int hist_run(struct hist *h, struct jlog *j, const struct jlog_now *now, bool dry_run,
	     const char *who, struct hist_pass *out)
{
	int rc = HF_OK;

	pass_start(h);
	if (dry_run) {
		struct jlog_prune_result r;
		if ((rc = prune_step(h, j, now, 0, true, &r)) == HF_OK)
			add_result(&h->pass, &r);
		measure(h);
		h->stage = HIST_IDLE;
		*out = h->pass;
		return rc;
	}
	while (h->stage != HIST_DONE && (rc = step(h, j, now)) == HF_OK)
		;
	pass_end(h, port_clock_mono_ms(), who);
	*out = h->pass;
	return rc;
}
