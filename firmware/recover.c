/*
** recover.c: boot recovery (see recover.h).
**
** The clean-shutdown flag lives in the log itself (daemon_runs.clean), set in
** the daemon's last transaction. Its absence at the next start means the
** daemon did not get to the end: power cut, kill -9, OOM kill or crash. Only
** then is the (slow, whole-file) quick_check run: a clean stop leaves nothing
** to doubt, and a board that restarts its daemon often should not pay for it.
*/
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "port.h"
#include "recover.h"

struct collected {
	struct jlog_open_attempt *a;
	size_t n, cap;
	bool oom;
};

static int collect(const struct jlog_open_attempt *a, void *arg)
{
	struct collected *c = arg;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct jlog_open_attempt *n = realloc(c->a, cap * sizeof(*n));
		if (!n) {
			c->oom = true;
			return 1;
		}
		c->a = n;
		c->cap = cap;
	}
	c->a[c->n++] = *a;
	return 0;
}

int recover_start(struct jlog *j, const struct jlog_now *now, int64_t quarantine_after,
		  int64_t *run, struct recover_stats *st)
{
	struct collected open = { NULL, 0, 0, false };
	bool found, clean, ok;
	int rc;

	memset(st, 0, sizeof(*st));
	if ((rc = jlog_last_run(j, &found, &clean)) != HF_OK)
		return rc;
	/* Attempts with no end are an unclean stop too (e.g. a log written by a
	** daemon that had no run records). The statement must finish before we
	** write, so they are collected first. */
	if ((rc = jlog_open_attempts(j, collect, &open)) != HF_OK)
		goto out;
	if (open.oom) {
		rc = HF_ENOMEM;
		goto out;
	}
	st->unclean = (found && !clean) || open.n > 0;
	if (st->unclean) {
		if ((rc = jlog_quick_check(j, &ok, st->problem, sizeof(st->problem))) != HF_OK)
			goto out;
		if (!ok) {
			rc = HF_ECORRUPT;
			goto out;
		}
	}
	if ((rc = jlog_begin(j)) != HF_OK)
		goto out;
	for (size_t i = 0; i < open.n; i++) {
		struct jlog_open_attempt *a = &open.a[i];
		struct jlog_end e = { .reason = "power-loss", .exit_code = -1, .signal = -1,
				      .quarantine_after = quarantine_after };
		struct jlog_job job;

		if (a->boot == now->boot) {
			int64_t t;
			e.reason = "daemon-crash";
			/* The same pid with another start time is a stranger that
			** reused it after our child died: leave it alone. */
			if (port_proc_start_time((pid_t)a->pid, &t) == HF_OK && t == a->proc_start &&
			    port_kill_group((pid_t)a->pid, SIGKILL) == HF_OK)
				st->killed++;
			st->daemon_crash++;
		} else {
			st->power_loss++;
		}
		if ((rc = jlog_attempt_end(j, a->job, a->n, &e, now, port_random_u32())) ||
		    (rc = jlog_job_get(j, a->job, &job)))
			goto out_rollback;
		if (!strcmp(job.state, "quarantined"))
			st->quarantined++;
	}
	if ((rc = jlog_run_start(j, (int64_t)port_pid(), now, run)) != HF_OK)
		goto out_rollback;
	rc = jlog_commit(j);
	goto out;

out_rollback:
	jlog_rollback(j);
out:
	free(open.a);
	return rc;
}

int recover_clean_stop(struct jlog *j, int64_t run, const struct jlog_now *now)
{
	int rc;

	if ((rc = jlog_begin(j)) != HF_OK)
		return rc;
	if ((rc = jlog_run_clean(j, run, now)) != HF_OK) {
		jlog_rollback(j);
		return rc;
	}
	return jlog_commit(j);
}
