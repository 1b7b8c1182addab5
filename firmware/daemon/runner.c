/*
** runner.c: the daemon's event loop (see runner.h).
**
** Invariants this file keeps, and why:
**   - Write-ahead intent. A job's process is forked gated (port.h), its
**     attempt row (number, boot, pid = process group, /proc start time) is
**     committed, and only then is the gate released and the job's command
**     exec'd. After any crash, every process that ran is in the log.
**   - An attempt's end is committed before anything that depends on it is
**     started: ends and starts share one transaction, ends first, and the
**     scheduler's query runs after the ends inside it.
**   - Group commit: everything one loop iteration observed (output chunks,
**     exits, timeouts, new starts) goes into one transaction, so one fsync
**     pays for many state changes.
**   - A failed commit acknowledges nothing: the children forked for it are
**     aborted at their gate (they never run). A busy log is retried (the
**     observations wait in memory); so is a full disk, every
**     DISKFULL_RETRY_MS after making room, with nothing new started meanwhile
**     (diskfull.h); an I/O error or a failed fsync stops the daemon with exit
**     1, since nothing may be built on storage that lost a write.
**   - No busy loop and no polling of the disk: the loop sleeps in poll() on
**     the signalfd (SIGCHLD, SIGTERM, SIGINT), the wake socket the CLI pokes
**     after a commit, and the children's pipes, until the next timer.
*/
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/units.h"
#include "daemon/diskfull.h"
#include "daemon/metrics.h"
#include "daemon/runner.h"
#include "daemon/runner_int.h"
#include "daemon/svc.h"
#include "fmt/cfg.h"
#include "log/datadir.h"
#include "log/history.h"
#include "log/jlog.h"
#include "log/pipeline.h"
#include "log/recover.h"
#include "port.h"
#include "ship/export.h"
#include "ship/ship.h"

int runner_wait_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int rc;

	while ((rc = port_poll(&p, 1, -1)) == HF_OK && !(p.revents & POLLIN))
		;
	return rc;
}

static void check_run(void *arg)
{
	struct log_check *c = arg;

	c->rc = jlog_quick_check_file(c->path, &c->ok, c->problem, sizeof(c->problem));
}

static int check_start(struct runner *r)
{
	struct log_check *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return HF_ENOMEM;
	snprintf(c->path, sizeof(c->path), "%s", r->db_path);
	c->started_ms = port_clock_mono_ms();
	if ((rc = port_task_start(check_run, c, &r->check_task, &r->check_fd)) != HF_OK) {
		free(c);
		return rc;
	}
	r->check = c;
	return HF_OK;
}

/* The check ended: a failure stops everything (see struct log_check). */
static void check_done(struct runner *r)
{
	struct log_check *c = r->check;

	port_task_join(r->check_task);
	r->check_task = NULL;
	r->check_fd = -1;
	if (c->rc == HF_OK && c->ok) {
		port_notice("log checked after the unclean stop (quick_check ok, %llu ms, jobs ran "
			 "meanwhile)", (unsigned long long)(port_clock_mono_ms() - c->started_ms));
		free(c);
		r->check = NULL;
		return;
	}
	if (c->rc != HF_OK)
		snprintf(c->problem, sizeof(c->problem), "the check could not run: %s",
			 hf_strerror(c->rc));
	r->corrupt = true;
	r->stopping = true;
	svc_stopping(&r->svc, "the job log failed its check after an unclean stop: killing the "
		     "jobs, recording nothing more, stopping", SVC_STOP_MARGIN_MS);
	for (unsigned i = 0; i < r->nkids; i++)
		if (r->kids[i].used && !r->kids[i].exited)
			runner_signal_child(&r->kids[i], SIGKILL);
}

/* ---- scheduling ----------------------------------------------------------------- */

struct pick {
	struct runner *r;
	const struct jlog_now *now;
	unsigned free;             /* global slots left */
	int rc;
	unsigned started;
};

/* jlog_runnable's callback: starts JR if a slot (and its group) has room,
** its attempt's start written in the tick's transaction. */
static int start_one(const struct jlog_runnable *jr, void *arg)
{
	struct pick *p = arg;
	struct runner *r = p->r;
	struct child *c;
	int rc;

	if (p->free == 0)
		return 1;
	if (jr->group && runner_busy_count(r, jr->group) >= cfg_group_limit(&r->cfg, jr->group))
		return 0; /* this group is full; a lower-priority job may run */
	if (!(c = runner_free_slot(r)))
		return 1;
	if ((rc = runner_spawn(r, jr, c, p->now->mono_ms)) == HF_OK &&
	    (rc = jlog_attempt_start(&r->j, c->job, c->n, c->pc.pid, c->pc.start_time,
				     p->now)) != HF_OK) {
		c->aborted = true;
		port_child_abort(&c->pc);
	}
	/* Bench only: commit this start alone, and let it run. A failed
	** commit leaves the child unstarted: aborted with the tick. */
	if (rc == HF_OK && r->o->no_group_commit &&
	    (rc = jlog_commit(&r->j)) == HF_OK && (rc = jlog_begin(&r->j)) == HF_OK) {
		c->started = true;
		port_child_release(&c->pc);
	}
	if (rc != HF_OK) {
		p->rc = rc;
		return 1;
	}
	p->free--;
	p->started++;
	return 0;
}

/* ---- schedules --------------------------------------------------------------------- */

struct due {
	char name[JLOG_NAME_MAX + 1];
	char *spec;
	bool fire;                 /* else: only arm (first sight of a cron) */
};

struct sched_scan {
	struct runner *r;
	const struct jlog_now *now;
	struct due *due;
	size_t n, cap;
	uint64_t next;             /* mono ms of the next check */
};

static int scan_one(const struct jlog_pipeline *p, void *arg)
{
	struct sched_scan *sc = arg;
	const struct jlog_now *now = sc->now;
	bool fire = false, arm = false;

	if (!strcmp(p->kind, "every")) {
		/* Never fired, or last fired in another boot (the monotonic clock
		** restarted, and downtime passed): fire once now. */
		if (p->last_boot != now->boot || now->mono_ms >= p->last_mono_ms + p->every_ms)
			fire = true;
		else if (p->last_mono_ms + p->every_ms < sc->next)
			sc->next = p->last_mono_ms + p->every_ms;
	} else if (now->utc_ms >= 0) {
		/* Calendar schedules need trusted wall time; without it, wait. */
		struct cron c;
		char err[128];
		int64_t next;

		if (cron_parse(p->sched, &c, err, sizeof(err)) != HF_OK)
			return 0;
		if (p->last_utc_ms < 0 || p->last_utc_ms > now->utc_ms + CLOCK_BACK_MS) {
			/* First sight: count from now, do not fire for the past. Or
			** wall time went back past the last firing (it was wrong
			** then, or is now): counting from then would stall the
			** schedule until the clock catches up, so count from now. */
			arm = true;
		} else {
			next = cron_next(&c, p->last_utc_ms / 1000);
			if (next >= 0 && next * 1000 <= now->utc_ms)
				fire = true; /* however many slots passed: once */
			else if (next >= 0 && (uint64_t)(next * 1000 - now->utc_ms) <
				 sc->next - now->mono_ms)
				sc->next = now->mono_ms + (uint64_t)(next * 1000 - now->utc_ms);
		}
	}
	if (!fire && !arm)
		return 0;
	if (sc->n == sc->cap) {
		size_t cap = sc->cap ? sc->cap * 2 : 8;
		struct due *d = realloc(sc->due, cap * sizeof(*d));
		if (!d)
			return 1;
		sc->due = d;
		sc->cap = cap;
	}
	snprintf(sc->due[sc->n].name, sizeof(sc->due[sc->n].name), "%s", p->name);
	sc->due[sc->n].spec = fire ? strdup(p->spec) : NULL;
	sc->due[sc->n].fire = fire;
	sc->n++;
	return 0;
}

/* Queues a run of every pipeline whose schedule is due, in the caller's
** transaction. A pipeline that no longer parses is skipped and said. */
static int run_schedules(struct runner *r, const struct jlog_now *now)
{
	struct sched_scan sc = { r, now, NULL, 0, 0, now->mono_ms + IDLE_POLL_MS };
	int rc;

	if ((rc = jlog_pipelines_list(&r->j, true, scan_one, &sc)) != HF_OK)
		goto out;
	for (size_t i = 0; i < sc.n; i++) {
		struct due *d = &sc.due[i];
		struct pl p;
		int64_t run;

		if (d->fire) {
			if (!d->spec) {
				rc = HF_ENOMEM;
				goto out;
			}
			if (pl_parse(&r->j, d->spec, d->name, &p) != HF_OK)
				continue;
			if ((rc = pl_apply_params(&p, NULL, 0)) == HF_OK)
				rc = pl_instantiate(&r->j, &p, "schedule", now, &run);
			pl_free(&p);
			if (rc != HF_OK)
				goto out;
			r->dirty = true;
		}
		if ((rc = jlog_pipeline_fired(&r->j, d->name, now)) != HF_OK)
			goto out;
	}
	/* After changes, look again soon (from the updated records). */
	r->next_sched = sc.n ? now->mono_ms + 1000 : sc.next;
out:
	for (size_t i = 0; i < sc.n; i++)
		free(sc.due[i].spec);
	free(sc.due);
	return rc;
}

/* When the timer must wake the loop next: the first job ready later, or the
** first parked job's wake time, in this boot. */
static int next_wake(struct runner *r, const struct jlog_now *now)
{
	uint64_t parked;
	int rc;

	if ((rc = jlog_next_ready(&r->j, now, &r->next_ready)) != HF_OK ||
	    (rc = jlog_parked_next(&r->j, now, &parked)) != HF_OK)
		return rc;
	if (parked < r->next_ready)
		r->next_ready = parked;
	return HF_OK;
}

static int peek_one(const struct jlog_runnable *jr, void *arg)
{
	(void)jr;
	*(bool *)arg = true;
	return 1;
}

/* Whether this tick has anything to write now, and what: starts
** (*WANT_START), schedules (*WANT_SCHED). BUSY: slots in use. */
static bool tick_due(struct runner *r, const struct jlog_now *now, unsigned busy,
		     bool *want_start, bool *want_sched)
{
	bool have_ends = false;

	*want_sched = !r->stopping && now->mono_ms >= r->next_sched;
	*want_start = false;
	/* A full disk: nothing is written (or started) but by a try. */
	if (r->full.on && !r->full_try)
		return false;
	for (size_t i = 0; i < r->nkids; i++)
		if (runner_finished(&r->kids[i]) && r->kids[i].started)
			have_ends = true;
	/* An end frees a slot in this very transaction: fill it here. */
	*want_start = (r->dirty || have_ends) && !r->stopping && busy < r->cfg.concurrency;
	if (!r->nchunks && !have_ends && !*want_start && !*want_sched)
		return false;
	/* Only starts to look for: peek without the write lock first, so a
	** wake-up with nothing runnable does not block the CLI's writers. */
	if (!r->nchunks && !have_ends && !*want_sched) {
		bool any = false;
		if (jlog_runnable(&r->j, now, 1, peek_one, &any) == HF_OK && !any &&
		    jlog_parked_due(&r->j, now, &any) == HF_OK && !any) {
			next_wake(r, now);
			r->dirty = false;
			return false;
		}
	}
	return now->mono_ms >= r->retry_after && now->mono_ms >= r->next_write;
}

/* Bench only (--no-group-commit): what a runner without group commit pays,
** a commit per row. On failure no transaction is open. */
static int ungroup(struct runner *r)
{
	int rc;

	if (!r->o->no_group_commit)
		return HF_OK;
	if ((rc = jlog_commit(&r->j)) != HF_OK || (rc = jlog_begin(&r->j)) != HF_OK)
		return rc;
	return HF_OK;
}

/* The tick's rows, in the transaction open: output, ends, schedules, then
** starts into the free slots. On failure *OPEN says whether the transaction
** is still open. */
static int tick_rows(struct runner *r, const struct jlog_now *now, struct pick *p,
		     unsigned busy, bool *want_start, bool want_sched, bool *open)
{
	int rc;

	for (size_t i = 0; i < r->nchunks; i++) {
		struct chunk *k = &r->chunks[i];
		if ((rc = jlog_output_add(&r->j, k->job, k->n, k->seq, k->stream, k->data,
					  k->len)) != HF_OK)
			return rc;
		if ((rc = ungroup(r)) != HF_OK) {
			*open = false;
			return rc;
		}
	}
	for (size_t i = 0; i < r->nkids; i++) {
		struct child *c = &r->kids[i];
		struct jlog_end e;

		if (!runner_finished(c) || !c->started)
			continue;
		runner_end_of(c, &e);
		if ((rc = jlog_attempt_end(&r->j, c->job, c->n, &e, now, port_random_u32())))
			return rc;
		if ((rc = ungroup(r)) != HF_OK) {
			*open = false;
			return rc;
		}
	}
	if (want_sched) {
		if ((rc = run_schedules(r, now)) != HF_OK)
			return rc;
		*want_start = r->dirty && busy < r->cfg.concurrency;
	}
	if (*want_start) {
		p->free = r->cfg.concurrency - busy;
		if ((rc = jlog_parked_wake(&r->j, now)) != HF_OK ||
		    (rc = jlog_runnable(&r->j, now, p->free, start_one, p)) != HF_OK ||
		    p->rc != HF_OK)
			return rc ? rc : p->rc;
		if ((rc = next_wake(r, now)) != HF_OK)
			return rc;
	}
	return HF_OK;
}

/* One transaction of the tick's rows, committed (*T_END: mono ms after the
** commit); on failure none of it is. */
static int tick_write(struct runner *r, const struct jlog_now *now, struct pick *p,
		      unsigned busy, bool *want_start, bool want_sched, uint64_t *t_end)
{
	uint64_t locked_at;
	bool open = true;
	int rc;

	if ((rc = jlog_begin(&r->j)) != HF_OK)
		return rc;
	locked_at = port_clock_mono_ms();
	if ((rc = tick_rows(r, now, p, busy, want_start, want_sched, &open)) != HF_OK) {
		if (open)
			jlog_rollback(&r->j);
		return rc;
	}
	if ((rc = jlog_commit(&r->j)) != HF_OK)
		return rc;
	/* When another writer (a submit) waited at the turnstile as the commit
	** let go, leave the lock free for as long as this tick held it (1 ms at
	** least), so that it gets its turn before the next tick: the woken waiter
	** would otherwise race the daemon's next tick, and lose on a busy
	** machine. The ends and starts that gather meanwhile go into one bigger
	** group commit. With no one waiting, the next tick may follow at once. */
	*t_end = port_clock_mono_ms();
	r->next_write = r->j.others_waited ?
				*t_end + (*t_end > locked_at ? *t_end - locked_at : 1) : 0;
	return HF_OK;
}

/* The tick is durable: now the new children may run, and what ended is
** forgotten. */
static void tick_durable(struct runner *r, const struct pick *p, bool want_start,
			 uint64_t t_end)
{
	bool freed = false;

	for (size_t i = 0; i < r->nkids; i++) {
		struct child *c = &r->kids[i];
		if (!c->used || c->aborted)
			continue;
		if (!c->started) {
			c->started = true;
			port_child_release(&c->pc);
		} else if (runner_finished(c)) {
			runner_release_slot(c);
			freed = true; /* a slot is free; dependents may be ready */
			hist_note_ends(&r->hist, t_end, 1);
		}
	}
	for (size_t i = 0; i < r->nchunks; i++)
		free(r->chunks[i].data);
	r->nchunks = 0;
	r->chunk_bytes = 0;
	/* Ask the scheduler again if a slot came free, or if every free slot
	** was filled (more may be waiting); otherwise wait for news. */
	r->dirty = freed || (want_start ? p->free == 0 && p->started > 0 : r->dirty);
}

/* Nothing of this tick is durable (RC): the children forked for it never
** run, ends and output stay in memory for the next try. A full disk is
** waited out, a busy log retried, anything else stops the daemon. */
static int tick_failed(struct runner *r, int rc)
{
	for (size_t i = 0; i < r->nkids; i++) {
		struct child *c = &r->kids[i];
		if (c->used && !c->started && !c->aborted) {
			c->aborted = true;
			port_child_abort(&c->pc);
		}
	}
	if (rc == HF_ENOSPC) {
		/* SQLite rolled the transaction back, and nothing written before
		** is lost: keep the tick's work in memory, make room, try again
		** (full_try). --until-idle has nobody to wait for: one try. */
		if (!r->full.on) {
			struct jlog_now n = now_of(r);
			diskfull_enter(&r->full, &n, r->o->dir, "a write to the job log failed: no "
				       "space left");
			/* --until-idle's one try makes all the room it can. */
			r->full.prune_next = r->o->exit_when_idle;
			runner_write_metrics(r, port_clock_mono_ms());
			return rc;
		}
		if (!r->o->exit_when_idle)
			return rc;
	}
	if (rc != HF_EBUSY) {
		/* A write or fsync failed: the kernel may already have dropped
		** what it could not write and cleared the error ("fsyncgate"), so
		** nothing may be built on this state. Stop; the next start runs
		** recovery, which accounts for whatever is still running. */
		r->fatal = rc;
		port_log("cannot write the job log (%s): stopping, nothing more is started. "
			 "Fix the storage (full? failing?) and start holdfast again: recovery "
			 "accounts for the jobs still running", hf_strerror(rc));
		return rc;
	}
	r->retry_after = port_clock_mono_ms() + COMMIT_RETRY_MS;
	port_warn("job log busy (another writer holds it); retrying in %d ms", COMMIT_RETRY_MS);
	return rc;
}

/* One group commit: output, ends, schedules, then starts. */
static int commit_tick(struct runner *r)
{
	struct jlog_now now = now_of(r);
	struct pick p = { r, &now, 0, HF_OK, 0 };
	unsigned busy = runner_busy_count(r, NULL);
	bool want_start, want_sched;
	uint64_t t_end = 0;
	int rc;

	if (!tick_due(r, &now, busy, &want_start, &want_sched))
		return HF_OK;
	if ((rc = tick_write(r, &now, &p, busy, &want_start, want_sched, &t_end)) != HF_OK)
		return tick_failed(r, rc);
	tick_durable(r, &p, want_start, t_end);
	return HF_OK;
}

/* ---- the loop ------------------------------------------------------------------------ */

/* Something commit_tick would write: output, ends, or starts to look for. */
static bool has_log_work(const struct runner *r)
{
	if (r->nchunks ||
	    (r->dirty && !r->stopping && runner_busy_count(r, NULL) < r->cfg.concurrency))
		return true;
	for (unsigned i = 0; i < r->nkids; i++)
		if (runner_finished(&r->kids[i]) && r->kids[i].started)
			return true;
	return false;
}

static int next_timeout(const struct runner *r, uint64_t now)
{
	uint64_t t = now + IDLE_POLL_MS;

	for (unsigned i = 0; i < r->nkids; i++) {
		const struct child *c = &r->kids[i];
		if (!c->used || c->exited)
			continue;
		if (c->deadline_ms < t && c->why == WHY_NONE)
			t = c->deadline_ms;
		if (c->kill_at_ms < t)
			t = c->kill_at_ms;
	}
	if (r->next_ready < t)
		t = r->next_ready;
	if (r->retry_after > now && r->retry_after < t)
		t = r->retry_after;
	if (r->next_sched < t && !r->stopping)
		t = r->next_sched;
	if (r->full.on && r->full.next_try_ms < t)
		t = r->full.next_try_ms;
	if (r->cfg.replica[0] && r->next_seal < t)
		t = r->next_seal;
	if (!r->stopping && hist_due(&r->hist) < t)
		t = hist_due(&r->hist);
	/* The watchdog's ping, a status line waiting: the loop turns for them. */
	if (svc_next_ms(&r->svc) < t)
		t = svc_next_ms(&r->svc);
	/* Work for the log: now, or once the lock's free time (commit_tick) or
	** the wait after a busy log is over. */
	if (has_log_work(r)) {
		uint64_t w = now;
		if (r->next_write > w)
			w = r->next_write;
		if (r->retry_after > w)
			w = r->retry_after;
		if (r->full.on && r->full.next_try_ms > w)
			w = r->full.next_try_ms;
		if (w < t)
			t = w;
	}
	return t <= now ? 0 : (int)(t - now);
}

static void handle_timers(struct runner *r, uint64_t now)
{
	if (r->next_ready <= now) {
		r->next_ready = UINT64_MAX;
		r->dirty = true;
	}
	for (unsigned i = 0; i < r->nkids; i++) {
		struct child *c = &r->kids[i];
		if (!c->used || c->exited || c->aborted)
			continue;
		if (c->why == WHY_NONE && c->deadline_ms <= now)
			runner_stop_child(r, c, WHY_TIMEOUT, r->cfg.kill_grace_ms);
		if (c->kill_at_ms <= now) {
			runner_signal_child(c, SIGKILL);
			c->kill_at_ms = UINT64_MAX;
		}
	}
}

static void handle_cancels(struct runner *r)
{
	for (unsigned i = 0; i < r->nkids; i++) {
		struct child *c = &r->kids[i];
		int req = 0;

		if (!c->used || !c->started || c->exited || c->why != WHY_NONE ||
		    jlog_cancel_requested(&r->j, c->job, &req) != HF_OK)
			continue;
		if (req == JLOG_REQ_CANCEL)
			runner_stop_child(r, c, WHY_CANCELLED, r->cfg.kill_grace_ms);
		else if (req == JLOG_REQ_PARK)
			runner_stop_child(r, c, WHY_PARKED, r->cfg.kill_grace_ms);
	}
}

static void begin_shutdown(struct runner *r, int sig)
{
	char grace[32];
	unsigned n = 0;

	if (r->stopping) {
		/* Second signal: no more patience. */
		for (unsigned i = 0; i < r->nkids; i++)
			if (r->kids[i].used && !r->kids[i].exited)
				runner_signal_child(&r->kids[i], SIGKILL);
		port_notice("signal %d again: SIGKILL sent to the process groups of the jobs still "
			 "running", sig);
		return;
	}
	/* As systemd stops a unit: SIGTERM to each job's process group now,
	** SIGKILL to whatever of it still runs when the grace is over. */
	r->stopping = true;
	for (unsigned i = 0; i < r->nkids; i++) {
		struct child *c = &r->kids[i];
		if (c->used && c->started && !c->exited) {
			runner_stop_child(r, c, WHY_SHUTDOWN, r->cfg.shutdown_grace_ms);
			n++;
		}
	}
	units_format_duration(r->cfg.shutdown_grace_ms, grace, sizeof(grace));
	{
		char line[SVC_STATUS_MAX];
		snprintf(line, sizeof(line), "stopping: %u job(s) get SIGTERM, SIGKILL after "
			 "shutdown_grace (%s)", n, grace);
		svc_stopping(&r->svc, line, r->cfg.shutdown_grace_ms + SVC_STOP_MARGIN_MS);
	}
	if (n)
		port_notice("signal %d: stopping (nothing new starts): SIGTERM sent to the process "
			 "groups of %u running job(s); SIGKILL to any still running after "
			 "shutdown_grace (%s)", sig, n, grace);
	else
		port_notice("signal %d: stopping (nothing new starts); no job is running", sig);
}

static bool idle(struct runner *r)
{
	bool pending = true;

	if (runner_live_count(r) || r->nchunks)
		return false;
	return jlog_has_pending(&r->j, &pending) == HF_OK && !pending;
}

/* ---- a full disk ------------------------------------------------------------------ */

/* Ends of jobs that wait (in memory) to be written. */
static unsigned ends_waiting(const struct runner *r)
{
	unsigned k = 0;

	for (unsigned i = 0; i < r->nkids; i++)
		if (runner_finished(&r->kids[i]) && r->kids[i].started)
			k++;
	return k;
}

/* status asks (port_wake_ask): the disk's state as diskfull_format says it. */
static void answer(const char *question, char *reply, size_t len, void *arg)
{
	const struct runner *r = arg;

	(void)question;
	diskfull_format(&r->full, port_clock_mono_ms(), ends_waiting(r), reply, len);
}

/* A try on a full disk: make room, then the tick's commit, quietly. A
** failed write other than for room while making it (an I/O error, a failed
** fsync) stops the daemon as a failed commit does. */
static int full_try_begin(struct runner *r)
{
	struct jlog_now now = now_of(r);
	int rc;

	r->full_try = true;
	diskfull_quiet(&r->full);
	rc = diskfull_relieve(&r->full, &r->j, r->cfg.replica[0] ? &r->ship : NULL, &r->cfg,
			      r->o->dir, &now);
	if (rc != HF_OK) {
		r->fatal = rc;
		port_log("cannot write the job log while making room on the full disk (%s): "
			 "stopping, nothing more is started. Fix the storage and start holdfast "
			 "again: recovery accounts for the jobs still running", hf_strerror(rc));
		return rc;
	}
	/* The try commits now, whatever waits (busy, or others' turn), and
	** looks for jobs to start: there may be room for them too. */
	r->retry_after = r->next_write = 0;
	r->dirty = true;
	return HF_OK;
}

static void full_try_end(struct runner *r, int rc, unsigned ends)
{
	uint64_t t = port_clock_mono_ms();

	r->full_try = false;
	diskfull_loud(&r->full, r->fatal != HF_OK);
	if (rc == HF_OK) {
		diskfull_leave(&r->full, t, ends);
		runner_write_metrics(r, t);
		return;
	}
	diskfull_try_failed(&r->full, t);
	if (rc == HF_ENOSPC && r->stopping && runner_busy_count(r, NULL) == 0) {
		/* Stopping, every job has ended, and still no room: nothing more
		** to wait for here. Recovery at the next start ends the attempts
		** left open (daemon-crash) and queues the jobs again. */
		r->fatal = rc;
		port_log("stopping with the disk still full: the ends of %u job(s) could not be "
			 "recorded; the next start records them as cut by a daemon crash and "
			 "queues them again", ends_waiting(r));
	}
}

/* A checkpoint now: with a replica, everything up to the WAL's end is
** sealed first, with the write lock held across the checkpoint, so no
** unsealed frame is copied. */
static int checkpoint_now(struct runner *r)
{
	struct jlog_now jn;
	char sealed[200];
	bool done;

	if (r->cfg.replica[0]) {
		jn = now_of(r);
		return ship_checkpoint(&r->ship, &r->j, &jn, sealed, sizeof(sealed));
	}
	return jlog_checkpoint(&r->j, &done);
}

/* history.c's checkpoint after a vacuum: the freed pages go back to the file
** system only once the WAL's copies of them are checkpointed. */
static int hist_checkpoint(void *arg)
{
	return checkpoint_now(arg);
}

/* A pruning step, when one is due; one line per pass that removed
** anything, and the metrics once a pass is over. A failed write stops the
** daemon as a failed commit does. */
static void maybe_prune(struct runner *r)
{
	struct jlog_now now = now_of(r);
	int rc;

	/* A full disk: its tries make room (diskfull_relieve). */
	if (r->stopping || r->full.on || now.mono_ms < hist_due(&r->hist))
		return;
	rc = hist_tick(&r->hist, &r->j, &now);
	if (rc == HF_ENOSPC) {
		diskfull_enter(&r->full, &now, r->o->dir, "a prune found no room to write");
		runner_write_metrics(r, now.mono_ms);
		return;
	}
	if (rc != HF_OK && rc != HF_EBUSY) {
		r->fatal = rc;
		port_log("cannot write the job log while pruning (%s): stopping, nothing more is "
			 "started. Fix the storage (full? failing?) and start holdfast again",
			 hf_strerror(rc));
		return;
	}
	/* The budget prunes past the export's watermark (with a recorded gap):
	** export what is due now, so that the gap is as small as it can be. */
	if (r->hist.pass.extra > 0 || r->hist.pass.over_budget)
		export_urge(&r->exp);
	if (r->hist.passes != r->hist_passes) {
		r->hist_passes = r->hist.passes;
		runner_write_metrics(r, now.mono_ms);
	}
}

static void maybe_checkpoint(struct runner *r, uint64_t now)
{
	int64_t wal;
	int rc;

	/* A failed checkpoint loses nothing (the WAL keeps every frame, and a
	** later checkpoint copies them again); try again later, not every tick. */
	if (now < r->ckpt_after)
		return;
	if (jlog_wal_bytes(&r->j, &wal) != HF_OK || (uint64_t)wal <= r->cfg.wal_max)
		return;
	if ((rc = checkpoint_now(r)) != HF_OK)
		r->ckpt_after = now + CKPT_RETRY_MS;
	else
		hist_note_checkpoint(&r->hist);
}

/*
** The service manager's status line (systemctl status shows it): what runs,
** what waits, and what holds the daemon back. One read of the job log's
** counts (rows kept by triggers), at most once per SVC_STATUS_MS.
*/
static void status_line(struct runner *r, const char *head, char *buf, size_t len)
{
	struct jlog_counts jc;
	size_t n;

	if (jlog_counts(&r->j, &jc) != HF_OK)
		jc.queued = -1;
	n = (size_t)snprintf(buf, len, "%s%u running, %lld queued", head,
			     runner_busy_count(r, NULL), (long long)jc.queued);
#define ADD(...) do { if (n < len) n += (size_t)snprintf(buf + n, len - n, __VA_ARGS__); } while (0)
	if (r->stopping)
		ADD("; stopping, nothing new starts");
	if (r->full.on)
		ADD("; disk FULL, waiting for room, nothing new starts");
	if (r->check)
		ADD("; checking the log after an unclean stop");
	if (r->offline)
		ADD("; replica: no network");
	else if (r->ship_fails)
		ADD("; replica: shipping failed %u time(s) in a row", r->ship_fails);
#undef ADD
}

/* Once per turn of the loop: the watchdog's ping, and the status line. */
static void svc_turn(struct runner *r, uint64_t now)
{
	char line[SVC_STATUS_MAX];

	svc_tick(&r->svc, now);
	if (svc_status_due(&r->svc, now)) {
		status_line(r, "", line, sizeof(line));
		svc_status(&r->svc, line, now);
	}
}

/* What the loop waits on, into PFD: signals, the wake socket, link changes,
** the log check's end, an upload's end, and every child's two pipes. Their
** count. */
static unsigned watch(const struct runner *r, struct pollfd *pfd)
{
	unsigned n = 0;

	pfd[n++] = (struct pollfd){ .fd = r->sig_fd, .events = POLLIN };
	pfd[n++] = (struct pollfd){ .fd = r->wake_fd, .events = POLLIN };
	pfd[n++] = (struct pollfd){ .fd = r->net_fd, .events = POLLIN };
	pfd[n++] = (struct pollfd){ .fd = r->check_task ? r->check_fd : -1, .events = POLLIN };
	pfd[n++] = (struct pollfd){ .fd = r->up_task ? r->up_fd : -1, .events = POLLIN };
	for (unsigned i = 0; i < r->nkids; i++) {
		const struct child *c = &r->kids[i];
		pfd[n++] = (struct pollfd){ .fd = c->used ? c->pc.out_fd : -1, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = c->used ? c->pc.err_fd : -1, .events = POLLIN };
	}
	return n;
}

/* What poll saw in PFD (as watch filled it): signals, a poke or a
** question from the CLI, a link coming up, output, exits, the check's end. */
static void handle_events(struct runner *r, const struct pollfd *pfd)
{
	int sig;

	while (port_signals_read(r->sig_fd, &sig) == HF_OK) {
		if (sig == SIGCHLD)
			runner_reap(r);
		else if (sig == SIGTERM || sig == SIGINT)
			begin_shutdown(r, sig);
		/* SIGHUP: ignored for now (no config reload yet). */
	}
	/* A poke (a commit by the CLI), or status asking. */
	if ((pfd[1].revents & POLLIN) && port_wake_drain(r->wake_fd, answer, r)) {
		hist_note_writer(&r->hist, port_clock_mono_ms());
		r->dirty = true;
		r->check_cancels = true;
		r->next_sched = 0; /* a pipeline may have been added */
	}
	/* A network came up: whatever waits goes now, backoff or not. */
	if ((pfd[2].revents & POLLIN) && port_netwatch_read(r->net_fd) && r->cfg.replica[0] &&
	    (r->ship_fails || r->ship_retry_at || r->offline)) {
		r->ship_retry_at = 0;
		r->next_seal = 0;
	}
	for (unsigned i = 0; i < r->nkids; i++) {
		struct child *c = &r->kids[i];
		if (!c->used)
			continue;
		runner_read_pipe(r, c, &c->pc.out_fd, 1);
		runner_read_pipe(r, c, &c->pc.err_fd, 2);
	}
	runner_reap(r);
	if (r->check_task && (pfd[3].revents & POLLIN))
		check_done(r);
	if (r->up_task && (pfd[4].revents & POLLIN))
		runner_upload_done(r);
}

/* A turn's work once the events are in: timers, cancels, the tick's
** commit (a try, on a full disk), pruning, a checkpoint, shipping. False:
** the daemon must stop (r->fatal says why). */
static bool work(struct runner *r)
{
	uint64_t now = port_clock_mono_ms();
	int rc;

	handle_timers(r, now);
	if (r->check_cancels) {
		r->check_cancels = false;
		handle_cancels(r);
	}
	/* Aborted children (a failed commit) are reaped and forgotten. */
	for (unsigned i = 0; i < r->nkids; i++)
		if (r->kids[i].aborted && r->kids[i].exited)
			runner_release_slot(&r->kids[i]);
	if (r->full.on && now >= r->full.next_try_ms) {
		unsigned ends = ends_waiting(r);
		if ((rc = full_try_begin(r)) == HF_OK)
			rc = commit_tick(r);
		full_try_end(r, rc, ends);
	} else {
		rc = commit_tick(r);
	}
	if (rc != HF_OK && r->fatal)
		return false;
	/* Nothing is pruned from a log whose check has not passed. */
	if (!r->check)
		maybe_prune(r);
	if (r->fatal)
		return false;
	if (!r->full.on) /* a full disk's tries checkpoint */
		maybe_checkpoint(r, now);
	runner_maybe_ship(r, now);
	return true;
}

/* --until-idle, going: a whole pruning pass first, so that what ran is
** pruned by the same rules as under a daemon that stays. */
static void last_pass(struct runner *r)
{
	struct jlog_now jn = now_of(r);
	struct hist_pass hp;
	int rc;

	if ((rc = hist_run(&r->hist, &r->j, &jn, false, "history: ", &hp)) != HF_OK &&
	    rc != HF_EBUSY) {
		r->fatal = rc;
		port_log("cannot write the job log while pruning (%s)", hf_strerror(rc));
	} else if (hp.pruned.jobs) {
		runner_write_metrics(r, jn.mono_ms);
	}
}

/* The event loop: wait, take the events in, work, until a stop (a signal,
** --until-idle, a fatal error); r->fatal, HF_OK after a clean stop. */
static int loop(struct runner *r)
{
	struct pollfd *pfd;
	unsigned cap = 5 + 2 * r->nkids;

	pfd = calloc(cap, sizeof(*pfd));
	if (!pfd)
		return HF_ENOMEM;
	for (;;) {
		uint64_t now = port_clock_mono_ms();
		unsigned n;
		int rc;

		svc_turn(r, now);
		n = watch(r, pfd);
		if ((rc = port_poll(pfd, n, next_timeout(r, now))) != HF_OK) {
			r->fatal = rc;
			break;
		}
		svc_touch(&r->svc);
		port_log_flush(); /* what the rate limit held back, summed up */
		handle_events(r, pfd);
		if (r->corrupt) {
			/* Killed; reaped, but nothing more goes into this log. */
			if (!runner_unreaped(r)) {
				r->fatal = HF_ECORRUPT;
				break;
			}
			continue;
		}
		if (!work(r))
			break;
		if (r->stopping && runner_live_count(r) == 0 && !r->nchunks)
			break;
		if (r->o->exit_when_idle && !r->dirty && idle(r)) {
			last_pass(r);
			break;
		}
	}
	free(pfd);
	return r->fatal;
}

/*
** The log failed its check after an unclean stop: move it (and its WAL and
** index) aside under one name, so nothing runs on it and nothing of it is
** lost, and say what to do.
*/
static void quarantine_log(struct runner *r, const char *problem)
{
	static const char *const ext[] = { "", "-wal", "-shm" };
	char from[PATH_MAX + 40], to[PATH_MAX + 80];
	struct jlog_now now = now_of(r);

	jlog_close(&r->j);
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		snprintf(from, sizeof(from), "%s%s", r->db_path, ext[i]);
		snprintf(to, sizeof(to), "%s.corrupt-b%lld-%llu%s", r->db_path, (long long)r->boot,
			 (unsigned long long)now.mono_ms, ext[i]);
		port_fs_rename(from, to);
	}
	port_log("the job log failed its integrity check after an unclean stop (%s). It was "
		 "moved to %s.corrupt-b%lld-%llu; holdfast will not run on a corrupt log. To go "
		 "on: restore it from a replica (WAL shipping), or set the directory aside "
		 "(mv %s %s.broken) and run holdfast init %s for a new, empty log.",
		 problem, r->db_path, (long long)r->boot, (unsigned long long)now.mono_ms,
		 r->o->dir, r->o->dir, r->o->dir);
}

/*
** The pid file (run --pidfile), for init systems that track a daemon by one
** (sysvinit's start-stop-daemon, OpenRC). Written only once the daemon holds
** its data directory (so a second daemon, refused, never overwrites the
** first one's) and boot recovery is done: a script that waits for the file
** waits for a daemon that is up, and one that dies before has said why on
** stderr. Removed at exit, whatever the exit; a kill -9 leaves it, and the
** scripts check the pid it names before they trust it.
*/
static int pidfile_write(const char *path)
{
	char text[32];
	int n = snprintf(text, sizeof(text), "%ld\n", (long)port_pid());

	return port_fs_replace(path, text, (size_t)n, 0644);
}

/* The daemon's state from O, its config read, jobs' user resolved, the
** shipper loaded and the wake socket bound (no other daemon on the
** directory). On failure nothing is left to free. */
static int setup(struct runner *r, const struct runner_opts *o)
{
	char conf[PATH_MAX + 32], why[256], cwd[PATH_MAX];
	int rc;

	memset(r, 0, sizeof(*r));
	r->o = o;
	/* First: the service manager's variables leave the environment
	** before any job could inherit them. */
	svc_init(&r->svc);
	r->sig_fd = r->wake_fd = r->net_fd = r->check_fd = r->up_fd = -1;
	r->next_ready = UINT64_MAX;
	r->dirty = true;
	if (o->conf)
		snprintf(conf, sizeof(conf), "%s", o->conf);
	else
		snprintf(conf, sizeof(conf), "%s/%s", o->dir, DD_CONF_NAME);
	snprintf(r->db_path, sizeof(r->db_path), "%s/%s", o->dir, DD_DB_NAME);
	if (o->dir[0] == '/' || port_cwd(cwd, sizeof(cwd)) != HF_OK)
		cwd[0] = '\0';
	snprintf(r->job_data, sizeof(r->job_data), "HOLDFAST_JOB_DATA=%s%s%s", cwd,
		 cwd[0] ? "/" : "", o->dir);
	if ((rc = cfg_load(&r->cfg, conf)) != HF_OK)
		return rc;
	/* Refused here, once, rather than job by job. */
	if ((rc = runner_resolve_user(&r->cfg, r->cfg.jobs_user, &r->as, why, sizeof(why))) !=
	    HF_OK) {
		port_log("%s: %s", conf, why);
		cfg_wipe(&r->cfg);
		return rc;
	}
	if (r->cfg.replica[0] && (rc = runner_ship_init(r)) != HF_OK) {
		cfg_wipe(&r->cfg);
		return rc;
	}
	/* Only a remote replica cares when links come up; without the kernel's
	** notifications the backoff alone paces the retries. */
	if (r->cfg.replica[0] && port_netwatch_open(&r->net_fd) != HF_OK)
		r->net_fd = -1;
	if ((rc = port_wake_listen(o->dir, &r->wake_fd)) != HF_OK) {
		if (rc == HF_EBUSY)
			port_log("another holdfast daemon is running for %s", o->dir);
		return rc;
	}
	return HF_OK;
}

/* The job log opened, this boot recorded, the export and the history
** limits set up, signals taken, the children's slots made. */
static int start(struct runner *r)
{
	char boot_id[64];
	int rc;

	if ((rc = jlog_open(&r->j, r->db_path, NULL)) != HF_OK)
		return rc;
	r->j.watch_waiters = true; /* commit_tick leaves waiting writers their turn */
	/* On with a replica, off without one: pruning waits for the export only
	** while there is somewhere to export to. */
	export_init(&r->exp, &r->ship, &r->cfg);
	if ((rc = export_start(&r->exp, &r->j)) != HF_OK ||
	    (rc = hist_init(&r->hist, &r->cfg, r->o->dir, hist_checkpoint, r)) != HF_OK ||
	    (rc = port_boot_id(boot_id, sizeof(boot_id))) != HF_OK)
		return rc;
	if ((rc = jlog_boot(&r->j, boot_id, port_clock_utc_or_none(), true, &r->boot)) != HF_OK ||
	    (rc = port_signals_open(&r->sig_fd)) != HF_OK)
		return rc;
	r->nkids = r->cfg.concurrency * 2; /* room for aborted children being reaped */
	r->kids = calloc(r->nkids, sizeof(*r->kids));
	if (!r->kids)
		return HF_ENOMEM;
	for (unsigned i = 0; i < r->nkids; i++)
		r->kids[i].pc.out_fd = r->kids[i].pc.err_fd = r->kids[i].pc.gate_fd = -1;
	return HF_OK;
}

/* What the last run left open is ended and its jobs queued again (*RUN:
** this run's row); after an unclean stop the log's check starts beside the
** jobs. Then the service manager hears that the daemon is ready. */
static int recover(struct runner *r, int64_t *run)
{
	struct jlog_now now = now_of(r);
	struct recover_stats st;
	int rc;

	rc = recover_start(&r->j, &now, r->cfg.quarantine_after, run, &st);
	if (rc == HF_ECORRUPT)
		quarantine_log(r, "database disk image is malformed (found by the recovery)");
	if (rc != HF_OK)
		return rc;
	if (st.unclean) {
		port_warn("the last run did not stop cleanly; %lld attempt(s) cut by a power loss, "
			 "%lld by a daemon crash (%lld process group(s) killed), %lld job(s) "
			 "quarantined; checking the log (quick_check) while jobs run",
			 (long long)st.power_loss, (long long)st.daemon_crash, (long long)st.killed,
			 (long long)st.quarantined);
		if ((rc = check_start(r)) != HF_OK)
			return rc;
	}
	/* Recovery is done: every attempt the last run left open is ended and
	** its job queued again. The log's check may still run, beside the jobs
	** (the status says so): waiting for it would hold systemd's start (and
	** TimeoutStartSec) for minutes on a big log. */
	if (r->svc.on) {
		char head[128], line[SVC_STATUS_MAX];
		if (st.unclean)
			snprintf(head, sizeof(head), "recovered: %lld attempt(s) cut by a power loss, "
				 "%lld by a daemon crash; ", (long long)st.power_loss,
				 (long long)st.daemon_crash);
		else
			snprintf(head, sizeof(head), "started after a clean stop; ");
		status_line(r, head, line, sizeof(line));
		svc_ready(&r->svc, line, port_clock_mono_ms());
	}
	return HF_OK;
}

/* The loop ended with RC: say so, wait for (or leave) the log's check, and
** after a clean stop mark run RUN clean, ship a last time and write the
** metrics. */
static int finish(struct runner *r, int rc, int64_t run)
{
	struct jlog_now now;

	/* Stopped by itself (--until-idle, or a failure): say so too. */
	if (!r->stopping) {
		char line[SVC_STATUS_MAX];
		snprintf(line, sizeof(line), "stopping: %s",
			 rc == HF_OK ? "nothing left to run" : hf_strerror(rc));
		svc_stopping(&r->svc, line, SVC_STOP_MARGIN_MS);
	}
	if (rc == HF_ECORRUPT && r->corrupt) {
		quarantine_log(r, r->check->problem);
		return rc;
	}
	/* Stopped by --until-idle before the check ended: wait for it, the run
	** cannot be marked clean before. A signal does not wait (a check can
	** take minutes): the run stays unclean and the next start checks again. */
	if (rc == HF_OK && r->check_task && !r->stopping) {
		if ((rc = runner_wait_readable(r->check_fd)) == HF_OK)
			check_done(r);
		if (r->corrupt) {
			quarantine_log(r, r->check->problem);
			return HF_ECORRUPT;
		}
	}
	if (rc == HF_OK && r->check_task) {
		port_warn("stopped before the log's check after the unclean stop ended: the next "
			 "start checks it again");
		/* The thread and its check die with the process (see struct log_check). */
		r->check_task = NULL;
		r->check = NULL;
		return rc;
	}
	if (rc == HF_OK) {
		maybe_checkpoint(r, port_clock_mono_ms());
		now = now_of(r);
		rc = recover_clean_stop(&r->j, run, &now);
	}
	if (rc == HF_OK && r->cfg.replica[0])
		runner_ship_last(r);
	/* The textfile as the daemon leaves it: a pass the stop cut short has
	** pruned rows that no pass end has written (tests/history saw it). */
	if (rc == HF_OK)
		runner_write_metrics(r, port_clock_mono_ms());
	return rc;
}

/* Everything setup and start took, given back. */
static void teardown(struct runner *r)
{
	if (!r->check_task)
		free(r->check);
	/* An upload still running dies with the process (a stop by a signal
	** does not wait for a stalled replica), with the snapshot it takes. */
	if (r->up_task)
		r->ship.snap = NULL;
	ship_free(&r->ship);
	if (!r->up_task)
		ship_free(&r->up);
	for (size_t i = 0; i < r->nchunks; i++)
		free(r->chunks[i].data);
	free(r->chunks);
	free(r->kids);
	jlog_close(&r->j);
	port_close(r->sig_fd);
	port_close(r->wake_fd);
	port_close(r->net_fd);
	cfg_wipe(&r->cfg);
}

int runner_run(const struct runner_opts *o)
{
	struct runner r;
	bool pid_written = false;
	int64_t run = 0;
	int rc;

	if ((rc = setup(&r, o)) != HF_OK)
		return rc;
	if ((rc = start(&r)) == HF_OK && (rc = recover(&r, &run)) == HF_OK &&
	    (!o->pidfile || (rc = pidfile_write(o->pidfile)) == HF_OK)) {
		pid_written = o->pidfile != NULL;
		rc = finish(&r, loop(&r), run);
	}
	if (pid_written)
		port_fs_unlink(o->pidfile);
	teardown(&r);
	return rc;
}
