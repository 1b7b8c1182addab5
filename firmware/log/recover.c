/*
** recover.c: boot recovery (see recover.h).
**
** The clean-shutdown flag lives in the log itself (daemon_runs.clean), set in
** the daemon's last transaction. Its absence at the next start means the
** daemon did not get to the end: power cut, kill -9, OOM kill or crash. Only
** then does the daemon check the log (quick_check, slow: the whole file; in
** runner.c, beside its loop): a clean stop leaves nothing to doubt, and a
** board that restarts its daemon often should not pay for it.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/recover.h"
#include "port.h"

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
	bool found, clean;
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
	if ((rc = jlog_begin(j)) != HF_OK)
		goto out;
	for (size_t i = 0; i < open.n; i++) {
		struct jlog_open_attempt *a = &open.a[i];
		struct jlog_end e = { .reason = "power-loss", .exit_code = -1, .signal = -1,
				      .quarantine_after = quarantine_after };
		struct jlog_job job;

		if (a->boot == now->boot) {
			enum port_orphan left = PORT_ORPHAN_NONE;
			char id[48], att[48];
			/* As runner_job_env put them in the job's environment. */
			const char *const marks[] = { id, att, NULL };

			e.reason = "daemon-crash";
			snprintf(id, sizeof(id), "HOLDFAST_JOB_ID=%lld", (long long)a->job);
			snprintf(att, sizeof(att), "HOLDFAST_ATTEMPT=%lld", (long long)a->n);
			/* The group goes even if its leader is gone: what the job
			** left in the background would run on unwatched. A stranger
			** that took the pid or the group is left alone. */
			if (port_kill_orphan_group((pid_t)a->pid, a->proc_start, marks, SIGKILL,
						   &left) == HF_OK && left != PORT_ORPHAN_NONE)
				st->killed++;
			/* A leader still running ended now, by our hand; otherwise
			** it ended at some time since the crash that nobody saw. */
			e.end_unknown = left != PORT_ORPHAN_LEADER;
			st->daemon_crash++;
		} else {
			/* Everything stopped with the power, at a time not recorded. */
			e.end_unknown = true;
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
