/*
** runner_kids.c: the daemon's children (runner_int.h): slots, counts, their
** output read from the pipes into chunks for the next commit, signals,
** reaping, how an end is recorded, and starting one (the user it runs as,
** its environment, the gated fork).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/runner_int.h"
#include "fmt/cfg.h"
#include "log/jlog.h"
#include "port.h"

/* Children not yet reaped (the corrupt path waits for them, records nothing). */
unsigned runner_unreaped(const struct runner *r)
{
	unsigned k = 0;

	for (unsigned i = 0; i < r->nkids; i++)
		if (r->kids[i].used && !r->kids[i].exited)
			k++;
	return k;
}

bool runner_finished(const struct child *c)
{
	return c->used && c->exited && c->pc.out_fd < 0 && c->pc.err_fd < 0;
}

/*
** Children that hold a concurrency slot (of GROUP, or all). A finished child
** does not: its end is written in the same transaction as the next starts,
** and before them, so its slot can be given away in that transaction.
** (Counting it made every start wait one more loop and one more commit.)
*/
unsigned runner_busy_count(const struct runner *r, const char *group)
{
	unsigned k = 0;

	for (unsigned i = 0; i < r->nkids; i++) {
		const struct child *c = &r->kids[i];
		if (c->used && !c->aborted && !runner_finished(c) &&
		    (!group || !strcmp(c->group, group)))
			k++;
	}
	return k;
}

/* Children whose end is not yet committed (finished or not). */
unsigned runner_live_count(const struct runner *r)
{
	unsigned k = 0;

	for (unsigned i = 0; i < r->nkids; i++)
		if (r->kids[i].used && !r->kids[i].aborted)
			k++;
	return k;
}

struct child *runner_free_slot(struct runner *r)
{
	for (unsigned i = 0; i < r->nkids; i++)
		if (!r->kids[i].used)
			return &r->kids[i];
	return NULL;
}

/* ---- output ----------------------------------------------------------------- */

static int add_chunk(struct runner *r, struct child *c, int stream, const char *buf,
		     size_t len)
{
	struct chunk *last = r->nchunks ? &r->chunks[r->nchunks - 1] : NULL;

	c->out_bytes += (int64_t)len;
	if (c->kept_bytes >= (int64_t)r->cfg.output_cap) {
		c->truncated = true;
		return HF_OK;
	}
	/* The disk is full: what waits in memory is bounded; the rest of the
	** output is counted, not kept, as past output_cap. */
	if (r->full.on && r->chunk_bytes + len > DISKFULL_OUTPUT_MEM) {
		c->truncated = true;
		return HF_OK;
	}
	r->chunk_bytes += len;
	if ((uint64_t)c->kept_bytes + len > r->cfg.output_cap) {
		len = (size_t)(r->cfg.output_cap - (uint64_t)c->kept_bytes);
		c->truncated = true;
	}
	c->kept_bytes += (int64_t)len;
	/* Coalesce with the previous chunk of the same stream and attempt. */
	if (last && last->job == c->job && last->n == c->n && last->stream == stream &&
	    last->len + len <= CHUNK_MAX) {
		char *d = realloc(last->data, last->len + len);
		if (!d)
			return HF_ENOMEM;
		memcpy(d + last->len, buf, len);
		last->data = d;
		last->len += len;
		return HF_OK;
	}
	if (r->nchunks == r->cap_chunks) {
		size_t cap = r->cap_chunks ? r->cap_chunks * 2 : 64;
		struct chunk *n = realloc(r->chunks, cap * sizeof(*n));
		if (!n)
			return HF_ENOMEM;
		r->chunks = n;
		r->cap_chunks = cap;
	}
	last = &r->chunks[r->nchunks];
	last->data = malloc(len ? len : 1);
	if (!last->data)
		return HF_ENOMEM;
	memcpy(last->data, buf, len);
	last->len = len;
	last->job = c->job;
	last->n = c->n;
	last->seq = c->seq++;
	last->stream = stream;
	r->nchunks++;
	return HF_OK;
}

/* Drains what FD has now (bounded per tick); closes it at EOF. */
void runner_read_pipe(struct runner *r, struct child *c, int *fd, int stream)
{
	char buf[READ_CHUNK];
	size_t got, total = 0;

	while (*fd >= 0 && total < TICK_READ_MAX) {
		int rc = port_read_nb(*fd, buf, sizeof(buf), &got);
		if (rc == HF_EBUSY)
			return;
		if (rc != HF_OK || got == 0) {
			port_close(*fd);
			*fd = -1;
			return;
		}
		total += got;
		if (add_chunk(r, c, stream, buf, got) != HF_OK) {
			/* Out of memory: count the bytes, drop them, say so. */
			c->truncated = true;
		}
	}
}

/* ---- children ----------------------------------------------------------------- */

void runner_signal_child(struct child *c, int sig)
{
	port_kill_group(c->pc.pid, sig);
}

void runner_stop_child(struct runner *r, struct child *c, enum why why, uint64_t grace_ms)
{
	uint64_t now = port_clock_mono_ms();

	if (c->exited)
		return;
	if (c->why == WHY_NONE)
		c->why = why;
	runner_signal_child(c, SIGTERM);
	if (c->kill_at_ms == UINT64_MAX || now + grace_ms < c->kill_at_ms)
		c->kill_at_ms = now + grace_ms;
	(void)r;
}

void runner_reap(struct runner *r)
{
	int exit_code, sig;
	pid_t pid;

	while (port_reap(&pid, &exit_code, &sig) == HF_OK) {
		for (unsigned i = 0; i < r->nkids; i++) {
			struct child *c = &r->kids[i];
			if (c->used && c->pc.pid == pid) {
				c->exited = true;
				c->exit_code = exit_code;
				c->sig = sig;
				/* The group may outlive its leader: its pipes stay
				** open until the last member exits. Make sure. */
				if (!c->aborted)
					runner_signal_child(c, SIGKILL);
				break;
			}
		}
	}
}

void runner_release_slot(struct child *c)
{
	port_close(c->pc.out_fd);
	port_close(c->pc.err_fd);
	port_child_abort(&c->pc);
	memset(c, 0, sizeof(*c));
}

void runner_end_of(const struct child *c, struct jlog_end *e)
{
	/* The whole struct, so no field is left as stack garbage (end_unknown
	** was, found by UBSan); quarantine_after is 0: only unclean stops count
	** towards quarantine, and this end was seen. */
	*e = (struct jlog_end){ .exit_code = -1, .signal = -1, .out_bytes = c->out_bytes,
				.out_truncated = c->truncated };
	if (c->exit_code >= 0) {
		e->exit_code = c->exit_code;
		e->reason = "exit";
	} else {
		e->signal = c->sig;
		e->reason = "signal";
	}
	switch (c->why) {
	case WHY_TIMEOUT: e->reason = "timeout"; break;
	case WHY_CANCELLED: e->reason = "cancelled"; break;
	case WHY_SHUTDOWN:
		/* A job that finished its work during the grace period succeeded. */
		if (c->exit_code != 0)
			e->reason = "shutdown";
		break;
	case WHY_PARKED:
		/* Ended at its step's request (jlog_park); a job that ended by
		** itself meanwhile ended as it did. */
		if (c->exit_code != 0)
			e->reason = "parked";
		break;
	case WHY_NONE: break;
	}
}

/*
** Resolves USER (NULL or "": the daemon's own user) into *JU under the rules
** of README "Jobs: environment and privileges": a root daemon runs no job as
** root unless [jobs] allow_root says yes; a daemon that is not root runs
** jobs as itself and can switch to no one else. Else says why in WHY[LEN].
*/
int runner_resolve_user(const struct cfg *c, const char *user, struct job_user *ju, char *why,
			size_t len)
{
	uid_t self = port_uid();
	int rc;

	memset(ju, 0, sizeof(*ju));
	if (!user || !*user) {
		if (self == 0 && !c->jobs_allow_root) {
			snprintf(why, len, "holdfast runs as root and no [jobs] user is set, so jobs "
				 "would run as root: set [jobs] user = NAME (the user jobs run as), "
				 "or allow_root = yes to run them as root");
			return HF_EINVAL;
		}
		return HF_OK;
	}
	if ((rc = port_user_lookup(user, &ju->u)) != HF_OK) {
		snprintf(why, len, "no user '%s' in the password database", user);
		return rc == HF_ENOENT ? HF_EINVAL : rc;
	}
	if (ju->u.uid == 0 && !c->jobs_allow_root) {
		snprintf(why, len, "user %s is root (uid 0): jobs run as root only with "
			 "[jobs] allow_root = yes", user);
		return HF_EINVAL;
	}
	if (self != 0 && ju->u.uid != self) {
		snprintf(why, len, "holdfast runs as uid %u, not root, so it cannot run jobs as %s "
			 "(uid %u)", (unsigned)self, user, (unsigned)ju->u.uid);
		return HF_EINVAL;
	}
	ju->change = self == 0;
	snprintf(ju->name, sizeof(ju->name), "%s", user);
	return HF_OK;
}

/* How job JR's process is set up: directory, user, umask, limits (the
** job's own, else the config's). */
static void spawn_of(const struct runner *r, const struct jlog_runnable *jr,
		     const struct job_user *ju, struct port_spawn *sp)
{
	static const int map[CFG_NLIMITS] = { PORT_RLIM_NOFILE, PORT_RLIM_AS, PORT_RLIM_CORE };

	port_spawn_init(sp);
	if (ju->change) {
		sp->user = ju->name;
		sp->uid = ju->u.uid;
		sp->gid = ju->u.gid;
	}
	sp->umask = (mode_t)r->cfg.jobs_umask;
	for (int i = 0; i < CFG_NLIMITS; i++) {
		sp->limit[map[i]].set = r->cfg.limit_set[i];
		sp->limit[map[i]].value = r->cfg.limit[i] == CFG_LIMIT_UNLIMITED ?
			PORT_RLIM_UNLIMITED : r->cfg.limit[i];
		if (jr->limit_set[i]) {
			sp->limit[map[i]].set = true;
			sp->limit[map[i]].value = jr->limit[i] < 0 ? PORT_RLIM_UNLIMITED :
				(uint64_t)jr->limit[i];
		}
	}
}

/* Forks JR's command into slot C, gated: it runs only once its start is
** committed (tick_durable). MONO_MS: now, for its timeout. */
int runner_spawn(struct runner *r, const struct jlog_runnable *jr, struct child *c,
		 uint64_t mono_ms)
{
	char **argv = NULL, **env = NULL, **envp = NULL, *cwd = NULL;
	int argc = 0, nenv = 0, rc;
	const struct job_user *ju;
	struct job_user own;
	struct port_spawn sp;
	char why[256];

	if ((rc = jlog_json_strings(&r->j, jr->argv_json, &argv, &argc)) ||
	    (rc = jlog_json_strings(&r->j, jr->env_json, &env, &nenv)))
		goto out;
	if (argc == 0) {
		rc = HF_ECORRUPT;
		goto out;
	}
	/* A job's own user is checked against the same rules as [jobs] user;
	** one it may not run as is started as an attempt that only says why
	** (in its output, exit 127), so the log shows it and retries apply. */
	ju = &r->as;
	why[0] = '\0';
	if (jr->user && runner_resolve_user(&r->cfg, jr->user, &own, why, sizeof(why)) == HF_OK)
		ju = &own;
	envp = runner_job_env(port_environ(), &r->cfg, ju->change ? ju->name : NULL,
			      ju->change ? ju->u.home : NULL, env, nenv, r->job_data,
			      (long long)jr->id, (long long)jr->attempts + 1);
	if (!envp) {
		rc = HF_ENOMEM;
		goto out;
	}
	memset(c, 0, sizeof(*c));
	c->pc.out_fd = c->pc.err_fd = c->pc.gate_fd = -1;
	spawn_of(r, jr, ju, &sp);
	if (why[0])
		sp.refuse = why;
	/* The child reads SP after fork, and SQLite's memory, where JR's
	** strings are, is not inherited (jlog.c): a copy. */
	if (jr->cwd && !(sp.cwd = cwd = strdup(jr->cwd))) {
		rc = HF_ENOMEM;
		goto out;
	}
	if ((rc = port_spawn_gated(argv, envp, &sp, &c->pc)) != HF_OK)
		goto out;
	c->used = true;
	c->job = jr->id;
	c->n = jr->attempts + 1;
	snprintf(c->group, sizeof(c->group), "%s", jr->group ? jr->group : "");
	c->deadline_ms = jr->timeout_ms ? mono_ms + jr->timeout_ms : UINT64_MAX;
	c->kill_at_ms = UINT64_MAX;
out:
	free(argv);
	free(env);
	free(envp);
	free(cwd);
	return rc;
}

