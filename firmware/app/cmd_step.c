/*
** cmd_step.c: `holdfast step NAME -- CMD [ARGS...]`, a durable step of the
** job that runs it (README "Steps").
**
** The first call of NAME in a job runs CMD, commits its result (status,
** stdout up to a cap, times) with synchronous=FULL, and only then hands CMD's
** stdout and status on. Every later call of NAME in the same job, in this
** attempt or a later one (a retry, a power cut, a daemon crash), runs
** nothing: the recorded stdout and status come back. So the record is made
** exactly once; CMD itself runs at least once (a cut between its end and the
** commit runs it again), which HOLDFAST_STEP_KEY lets a service dedupe.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cmd.h"
#include "app/cmd_int.h"
#include "base/crypto.h"
#include "base/units.h"
#include "fmt/cfg.h"
#include "log/jlog.h"
#include "port.h"

/* A step's stdout is recorded up to this (--max-output), and at most
** STEP_OUTPUT_LIMIT: the record is for results (a path, an id, a digest), not
** for data, which belongs in files. */
#define STEP_OUTPUT_DEFAULT (64 * 1024)
#define STEP_OUTPUT_LIMIT (1024 * 1024)
/* What a parked step exits with if it outlives its attempt (its process group
** is ended with the attempt; EX_TEMPFAIL). */
#define STEP_PARKED_EXIT 75

struct step {
	const char *name;
	char **argv;               /* CMD and its arguments, NULL-terminated */
	int argc;
	bool record_failure;
	size_t max_output;
	int64_t job, attempt;
	const char *data;          /* the daemon's data directory */
	char key[64];              /* HOLDFAST_STEP_KEY's value */
};

/* A step's name: 1 to JLOG_STEP_NAME_MAX bytes, no control characters. */
static bool step_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > JLOG_STEP_NAME_MAX)
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* Whether NAME, a step's name or a topic (WHAT), keeps step_name_ok's rules;
** says so for VERB if not. */
static bool name_ok(const char *verb, const char *what, const char *name)
{
	if (step_name_ok(name))
		return true;
	port_log("%s: bad %s '%s': 1 to %d bytes, no control characters", verb, what, name,
		 JLOG_STEP_NAME_MAX);
	return false;
}

/* A positive whole number from the environment variable VAR into *V. */
static int env_id(const char *var, int64_t *v)
{
	const char *s = port_env(var);
	char *end;
	long long n;

	if (!s || !*s) {
		port_log("step: not inside a holdfast job (%s is not set): a step is recorded in "
			 "the job that runs it, so call `holdfast step` from the command of a job "
			 "the daemon runs (see holdfast step --help)", var);
		return HF_EINVAL;
	}
	n = strtoll(s, &end, 10);
	if (*end || n < 1) {
		port_log("step: %s='%s' is not a job's; it is set by the daemon", var, s);
		return HF_EINVAL;
	}
	*v = n;
	return HF_OK;
}

/* The job that runs us, from the environment the daemon gave it, into *S. */
static int step_job(struct step *s)
{
	int rc;

	if ((rc = env_id("HOLDFAST_JOB_ID", &s->job)) != HF_OK ||
	    (rc = env_id("HOLDFAST_ATTEMPT", &s->attempt)) != HF_OK)
		return rc;
	s->data = port_env("HOLDFAST_JOB_DATA");
	if (!s->data || !*s->data) {
		port_log("step: HOLDFAST_JOB_DATA is not set: this job was started by a holdfast "
			 "older than steps, or its environment was cleared");
		return HF_EINVAL;
	}
	return HF_OK;
}

/* Opens the job's log into C (--data of G, else the daemon's directory) and
** checks that S's attempt is the job's running one; if not, says so with
** WHAT_NOT ("nothing was run"). */
static int step_open(const struct args_global *g, const struct step *s, struct ctx *c,
		     const char *what_not)
{
	struct args_global jg = *g;
	char why[160];
	int rc;

	if (!jg.data)
		jg.data = s->data;
	if ((rc = ctx_open(&jg, c)) != HF_OK)
		return rc;
	if ((rc = jlog_steps_owner(&c->j, s->job, s->attempt, why, sizeof(why))) != HF_OK) {
		port_log("step %s: %s; %s", s->name, why, what_not);
		ctx_close(c);
		return rc == HF_ENOENT ? HF_EINVAL : rc;
	}
	return HF_OK;
}

/* Counts one replay of S: for people, so a replay neither fails for want of
** it nor waits for the device (a cut loses a count, and nothing else). */
static int step_count_replay(struct ctx *c, const struct step *s)
{
	int rc;

	if ((rc = jlog_lazy(&c->j, true)) == HF_OK && (rc = ctx_begin(c)) == HF_OK) {
		if ((rc = jlog_steps_replayed(&c->j, s->job, s->name)) == HF_OK)
			rc = jlog_commit(&c->j);
		else
			jlog_rollback(&c->j);
	}
	/* FULL again, whatever else this connection does. */
	if (jlog_lazy(&c->j, false) != HF_OK && rc == HF_OK)
		rc = HF_EIO;
	if (rc != HF_OK)
		port_log("step %s: replayed, but the replay could not be counted (%s)", s->name,
			 hf_strerror(rc));
	return rc;
}

/* Options, NAME, "--" and CMD into *S; the job from the environment. */
static int step_parse(struct args *a, struct step *s)
{
	enum { SO_HELP, SO_RECORD_FAILURE, SO_MAX_OUTPUT };
	static const struct args_opt opts[] = { { "help", 'h', false },
						{ "record-failure", 0, false },
						{ "max-output", 0, true },
						{ NULL, 0, false } };
	const char *val;
	uint64_t n;
	int r, idx;

	memset(s, 0, sizeof(*s));
	s->max_output = STEP_OUTPUT_DEFAULT;
	while (!s->name && (r = args_next(a, opts, &idx, &val)) != ARGS_END) {
		if (r < 0)
			return r;
		if (r == ARGS_POSITIONAL)
			s->name = val;
		else if (idx == SO_HELP)
			return ARGS_HELP;
		else if (idx == SO_RECORD_FAILURE)
			s->record_failure = true;
		else if (units_parse_size(val, &n) != HF_OK || n < 1 || n > STEP_OUTPUT_LIMIT) {
			port_log("step: bad --max-output '%s': a size from 1 to 1MiB", val);
			return HF_EINVAL;
		} else
			s->max_output = (size_t)n;
	}
	if (!s->name || a->i >= a->argc || strcmp(a->argv[a->i], "--") != 0 ||
	    a->i + 1 >= a->argc) {
		port_log("step: usage: holdfast step [--record-failure] [--max-output SIZE] NAME -- "
			 "CMD [ARGS...]");
		return HF_EINVAL;
	}
	if (!name_ok("step", "name", s->name))
		return HF_EINVAL;
	s->argv = a->argv + a->i + 1;
	s->argc = a->argc - a->i - 1;
	return step_job(s);
}

/* HOLDFAST_STEP_KEY: the same for every attempt of this job's step NAME,
** different for any other, and safe in an HTTP header (Idempotency-Key). */
static void step_key(struct step *s)
{
	uint8_t h[32];
	int n;

	crypto_sha256(s->name, strlen(s->name), h);
	n = snprintf(s->key, sizeof(s->key), "holdfast-%lld-", (long long)s->job);
	for (int i = 0; i < 8 && n + 2 < (int)sizeof(s->key); i++, n += 2)
		snprintf(s->key + n, 3, "%02x", h[i]);
}

/* The exit status a shell gives a command that ended so. */
static int step_status(int64_t exit_code, int64_t sig)
{
	return exit_code >= 0 ? (int)exit_code : 128 + (int)sig;
}

/* Our environment with HOLDFAST_STEP and HOLDFAST_STEP_KEY set: a heap
** vector with its strings, one free(). */
static char **step_env(const struct step *s)
{
	char **base = port_environ(), **v, *p;
	size_t nbase = 0, bytes = 0, k = 0;
	char name[JLOG_STEP_NAME_MAX + 16], key[96];

	snprintf(name, sizeof(name), "HOLDFAST_STEP=%s", s->name);
	snprintf(key, sizeof(key), "HOLDFAST_STEP_KEY=%s", s->key);
	for (; base && base[nbase]; nbase++)
		;
	bytes = strlen(name) + strlen(key) + 2;
	if (!(v = malloc((nbase + 3) * sizeof(*v) + bytes)))
		return NULL;
	p = (char *)(v + nbase + 3);
	for (size_t i = 0; i < nbase; i++)
		if (strncmp(base[i], "HOLDFAST_STEP=", 14) && strncmp(base[i], "HOLDFAST_STEP_KEY=", 18))
			v[k++] = base[i];
	v[k++] = strcpy(p, name);
	v[k++] = strcpy(p + strlen(name) + 1, key);
	v[k] = NULL;
	return v;
}

/* What CMD did. */
struct step_run {
	char *out;                 /* its stdout, len bytes, if not over */
	size_t len;
	bool over;                 /* more than max_output: passed on, not kept */
	int exit_code, sig;
	uint64_t start_mono_ms, end_mono_ms;
	int64_t start_utc_ms, end_utc_ms;
};

/* Reads CMD's stdout from FD into R, up to the cap; past it, what was read
** and the rest go to OUT as they come (nothing is lost, nothing recorded). */
static int step_read(const struct step *s, int fd, struct step_run *r, FILE *out)
{
	char buf[16384];
	size_t got;
	int rc;

	for (;;) {
		if ((rc = port_read_nb(fd, buf, sizeof(buf), &got)) != HF_OK)
			return rc;
		if (got == 0)
			return HF_OK;
		if (!r->over && r->len + got > s->max_output) {
			r->over = true;
			fwrite(r->out, 1, r->len, out);
		}
		if (r->over) {
			fwrite(buf, 1, got, out);
			continue;
		}
		memcpy(r->out + r->len, buf, got);
		r->len += got;
	}
}

/* Runs CMD: its stdout into R (see step_read), its status and times. */
static int step_exec(const struct step *s, struct step_run *r, FILE *out)
{
	char **envp;
	pid_t pid;
	int fd, rc, wrc;

	if (!(r->out = malloc(s->max_output)) || !(envp = step_env(s)))
		return HF_ENOMEM;
	r->start_mono_ms = port_clock_mono_ms();
	r->start_utc_ms = port_clock_utc_or_none();
	rc = port_run_piped(s->argv, envp, &pid, &fd);
	free(envp);
	if (rc == HF_ENOENT || rc == HF_EACCES) {
		/* Said; it ends as a shell's would: 127 not found, 126 not runnable. */
		r->exit_code = rc == HF_ENOENT ? 127 : 126;
		r->sig = -1;
		r->end_mono_ms = r->start_mono_ms;
		r->end_utc_ms = r->start_utc_ms;
		return HF_OK;
	}
	if (rc != HF_OK)
		return rc;
	rc = step_read(s, fd, r, out);
	port_close(fd);
	/* Waited for even after a read error, so no zombie is left. */
	wrc = port_wait(pid, &r->exit_code, &r->sig);
	r->end_mono_ms = port_clock_mono_ms();
	r->end_utc_ms = port_clock_utc_or_none();
	return rc != HF_OK ? rc : wrc;
}

/* Records R as step S of its job, whose command was ARGV_JSON, in C's open
** transaction, if the attempt that ran it still runs. */
static int step_record(struct ctx *c, const struct step *s, const struct step_run *r,
		       const char *argv_json)
{
	struct jlog_step rec;
	char why[160];
	int rc;

	if ((rc = ctx_boot(c)) != HF_OK)
		return rc;
	if ((rc = jlog_steps_owner(&c->j, s->job, s->attempt, why, sizeof(why))) != HF_OK) {
		port_log("step %s: not recorded: %s", s->name, why);
		return rc == HF_ENOENT ? HF_EINVAL : rc;
	}
	memset(&rec, 0, sizeof(rec));
	rec.job = s->job;
	rec.name = s->name;
	rec.attempt = s->attempt;
	rec.argv_json = argv_json;
	rec.exit_code = r->exit_code;
	rec.signal = r->sig;
	rec.output = r->out;
	rec.output_len = r->len;
	rec.boot = c->now.boot;
	rec.start_mono_ms = r->start_mono_ms;
	rec.end_mono_ms = r->end_mono_ms;
	rec.start_utc_ms = r->start_utc_ms;
	rec.end_utc_ms = r->end_utc_ms;
	return jlog_steps_record(&c->j, &rec);
}

/* Commits R as step S of its job, whose command was ARGV_JSON, if the
** attempt that ran it still runs. */
static int step_commit(struct ctx *c, const struct step *s, const struct step_run *r,
		       const char *argv_json)
{
	int rc;

	if ((rc = ctx_begin(c)) != HF_OK)
		return rc;
	return ctx_end(c, step_record(c, s, r, argv_json), "step",
			"the step's result was not recorded (it runs again on the job's next "
			"attempt)");
}

/* The first call of step S: runs CMD, records it, hands its stdout on. */
static int step_first(struct ctx *c, const struct step *s, FILE *out)
{
	struct step_run r;
	char *argv_json = NULL;
	int rc, status;

	memset(&r, 0, sizeof(r));
	if ((rc = step_exec(s, &r, out)) != HF_OK)
		goto out;
	status = step_status(r.exit_code, r.sig);
	if (r.over) {
		port_log("step %s: its output is over the cap of %zu bytes (--max-output): passed "
			 "on, not recorded, and the step runs again on the job's next attempt",
			 s->name, s->max_output);
		rc = HF_EINVAL;
		goto out;
	}
	if (status != 0 && !s->record_failure) {
		port_log("step %s: exit status %d: not recorded (it runs again on the job's next "
			 "attempt; --record-failure keeps a failure)", s->name, status);
	} else if ((rc = jlog_json_array(&c->j, s->argv, s->argc, &argv_json)) != HF_OK ||
		   (rc = step_commit(c, s, &r, argv_json)) != HF_OK) {
		goto out;
	}
	fwrite(r.out, 1, r.len, out);
	rc = ARGS_EXIT(status);
out:
	free(argv_json);
	free(r.out);
	return rc;
}

/* Hands a recorded step on: REC's stdout to OUT, the replay counted; its
** exit status (for cli.c) is returned. */
static int step_hand_on(struct ctx *c, const struct step *s, const struct jlog_step *rec,
			FILE *out)
{
	size_t len = rec->output_len;
	int status = step_status(rec->exit_code, rec->signal);
	char *copy;

	/* The record's strings live until the next transaction: copied first. */
	if (!(copy = malloc(len ? len : 1)))
		return HF_ENOMEM;
	if (len)
		memcpy(copy, rec->output, len);
	step_count_replay(c, s);
	fwrite(copy, 1, len, out);
	free(copy);
	return ARGS_EXIT(status);
}

/* A recorded step: its stdout and status again, and the replay counted. */
static int step_replay(struct ctx *c, const struct step *s, const struct jlog_step *rec,
		       FILE *out)
{
	char *argv_json = NULL;

	if (jlog_json_array(&c->j, s->argv, s->argc, &argv_json) == HF_OK &&
	    strcmp(argv_json, rec->argv_json) != 0)
		port_log("step %s: replaying what attempt %lld recorded, whose command was %s; this "
			 "call's is %s (a step is known by its name)", s->name,
			 (long long)rec->attempt, rec->argv_json, argv_json);
	free(argv_json);
	return step_hand_on(c, s, rec, out);
}

/* ---- parking ------------------------------------------------------------------ */

/* How often a parked step's process looks whether the daemon ended its
** attempt yet (it is ended with its job's process group; this is for a
** daemon that is not there to do it). */
#define PARKED_POLL_MS 1000

/* [jobs] park_after of C's data directory: a sleep or wait longer than this
** parks the job; 0: never (and when the configuration cannot be read, which
** cfg_load says: the step then waits in its process). */
static uint64_t park_after(const struct ctx *c)
{
	struct cfg cfg;

	return cfg_load(&cfg, c->conf) == HF_OK ? cfg.park_after_ms : 0;
}

/* Asks the daemon to park S's job (jlog_park: until WAKE_MONO_MS of this
** boot, or with TOPIC until a message for it) and pokes it. Else the caller
** waits in its process: HF_ENOENT the attempt may not park (a cancel is
** pending, or it ended), HF_EEXIST a message for TOPIC is there, or the
** log could not be written (said). */
static int step_park(struct ctx *c, const struct step *s, const char *topic,
		     uint64_t wake_mono_ms, const char *reason)
{
	int rc;

	if ((rc = ctx_begin(c)) != HF_OK)
		return rc;
	rc = jlog_park(&c->j, s->job, s->attempt, topic, wake_mono_ms, &c->now, reason);
	if (topic && rc == HF_OK && jlog_msg_waiting(&c->j, topic) == HF_OK)
		rc = HF_EEXIST; /* a message came meanwhile: take it, not park */
	if ((rc = ctx_end(c, rc, "step", "the job was not parked (the step waits in its "
			  "process)")) == HF_OK)
		cmd_poke(c);
	return rc;
}

/* After step_park: waits, its process doing nothing, for the daemon to end
** its attempt (with its process group); exits if it finds the attempt ended
** (the daemon restarted). A parked step never returns a result: its job
** runs again, and the step then replays or parks again. */
static int step_parked(struct ctx *c, const struct step *s)
{
	char why[160];

	for (;;) {
		port_poll(NULL, 0, PARKED_POLL_MS);
		if (jlog_steps_owner(&c->j, s->job, s->attempt, why, sizeof(why)) != HF_OK)
			return ARGS_EXIT(STEP_PARKED_EXIT);
	}
}

/* ---- step sleep ------------------------------------------------------------- */

/* How a sleep step's "command" is recorded: what it slept for. */
#define SLEEP_JSON "{\"sleep_ms\":"

/* `step sleep NAME DURATION`'s arguments into *S and *SLEEP_MS. */
static int sleep_parse(struct args *a, struct step *s, uint64_t *sleep_ms)
{
	static const struct args_opt opts[] = { { "help", 'h', false }, { NULL, 0, false } };
	const char *pos[2] = { NULL, NULL }, *val;
	int r, idx, n = 0;

	memset(s, 0, sizeof(*s));
	while ((r = args_next(a, opts, &idx, &val)) != ARGS_END) {
		if (r < 0)
			return r;
		if (r == ARGS_OPTION)
			return ARGS_HELP;
		if (n == 2) {
			port_log("step sleep: unexpected argument '%s' (usage: holdfast step sleep NAME "
				 "DURATION)", val);
			return HF_EINVAL;
		}
		pos[n++] = val;
	}
	if (n < 2) {
		port_log("step sleep: usage: holdfast step sleep NAME DURATION");
		return HF_EINVAL;
	}
	s->name = pos[0];
	if (!name_ok("step sleep", "name", s->name))
		return HF_EINVAL;
	if (units_parse_duration(pos[1], sleep_ms) != HF_OK) {
		port_log("step sleep: bad duration '%s' (e.g. 90s, 15m, 2h, 1d)", pos[1]);
		return HF_EINVAL;
	}
	return step_job(s);
}

/* The clock of C's now, or of REC's start, with its boot's device-clock base. */
static int sleep_clock(struct ctx *c, int64_t boot, uint64_t mono_ms, int64_t utc_ms,
		       struct jlog_step_clock *k)
{
	k->boot = boot;
	k->mono_ms = mono_ms;
	k->utc_ms = utc_ms;
	return jlog_steps_boot_base(&c->j, boot, &k->base_ms);
}

/* Records the sleep S of SLEEP_MS as begun now, or finds it begun; *THEN is
** when it began, *SLEEP_MS what it was recorded with. */
static int sleep_begin(struct ctx *c, const struct step *s, uint64_t *sleep_ms,
		       struct jlog_step_clock *then)
{
	struct jlog_step rec;
	struct step_run r;
	char json[48];
	uint64_t recorded;
	int rc;

	if ((rc = jlog_steps_find(&c->j, s->job, s->name, &rec)) == HF_OK) {
		if (strncmp(rec.argv_json, SLEEP_JSON, strlen(SLEEP_JSON)) != 0) {
			port_log("step sleep %s: this job recorded a step of that name that ran a "
				 "command, not a sleep", s->name);
			return HF_EINVAL;
		}
		recorded = strtoull(rec.argv_json + strlen(SLEEP_JSON), NULL, 10);
		if (recorded != *sleep_ms)
			port_log("step sleep %s: sleeping as attempt %lld recorded it, %s; this call "
				 "says %llu ms (a step is known by its name)", s->name,
				 (long long)rec.attempt, rec.argv_json, (unsigned long long)*sleep_ms);
		*sleep_ms = recorded;
		if ((rc = sleep_clock(c, rec.boot, rec.start_mono_ms, rec.start_utc_ms, then)))
			return rc;
		step_count_replay(c, s);
		return HF_OK;
	}
	if (rc != HF_ENOENT)
		return rc;
	memset(&r, 0, sizeof(r));
	r.exit_code = 0;
	r.sig = -1;
	r.start_mono_ms = r.end_mono_ms = c->now.mono_ms;
	r.start_utc_ms = r.end_utc_ms = c->now.utc_ms;
	snprintf(json, sizeof(json), SLEEP_JSON "%llu}", (unsigned long long)*sleep_ms);
	if ((rc = step_commit(c, s, &r, json)) != HF_OK)
		return rc;
	return sleep_clock(c, c->now.boot, c->now.mono_ms, c->now.utc_ms, then);
}

/* `holdfast step sleep NAME DURATION`: the wake time is recorded once (the
** first call), and every call sleeps until it, by the rules of
** jlog_steps_sleep_left. The log is closed while it sleeps. */
static int step_sleep(const struct args_global *g, struct args *a)
{
	struct jlog_step_clock then, now;
	char reason[160], d[32];
	uint64_t sleep_ms, after;
	struct step s;
	struct ctx c;
	int64_t left = 0;
	int rc;

	if ((rc = sleep_parse(a, &s, &sleep_ms)) != HF_OK ||
	    (rc = step_open(g, &s, &c, "not sleeping")) != HF_OK)
		return rc;
	if ((rc = sleep_begin(&c, &s, &sleep_ms, &then)) == HF_OK && (rc = ctx_boot(&c)) == HF_OK)
		rc = sleep_clock(&c, c.now.boot, c.now.mono_ms, c.now.utc_ms, &now);
	if (rc == HF_OK)
		left = jlog_steps_sleep_left(&then, &now, (int64_t)sleep_ms);
	/* Long: the job parks, its process ends, and it runs again at the wake
	** time (this call then replays the sleep, with less or nothing left). */
	if (rc == HF_OK && (after = park_after(&c)) && (uint64_t)left > after) {
		units_format_duration((uint64_t)left, d, sizeof(d));
		snprintf(reason, sizeof(reason), "step sleep %s: %s left when it parked", s.name, d);
		if (step_park(&c, &s, NULL, c.now.mono_ms + (uint64_t)left, reason) == HF_OK)
			rc = step_parked(&c, &s);
		/* else not parked (a cancel pending, or the log not written, said):
		** it sleeps here. */
	}
	ctx_close(&c);
	if (rc != HF_OK)
		return rc;
	/* Slept in pieces: a poll's timeout is an int of milliseconds. */
	for (uint64_t end = port_clock_mono_ms() + (uint64_t)left, t;
	     (t = port_clock_mono_ms()) < end;)
		port_poll(NULL, 0, end - t > 86400000 ? 86400000 : (int)(end - t));
	return ARGS_EXIT(0);
}

/* ---- step wait, send ---------------------------------------------------------- */

/* How often a waiting step looks for its message (a read of the log). */
#define WAIT_POLL_MS 50
/* What a wait that timed out exits with, as timeout(1) does. */
#define WAIT_TIMED_OUT 124

/* `step wait NAME --event TOPIC`'s arguments into *S, *TOPIC, *TIMEOUT_MS
** (0: none). */
static int wait_parse(struct args *a, struct step *s, const char **topic, uint64_t *timeout_ms)
{
	enum { WO_HELP, WO_EVENT, WO_TIMEOUT, WO_RECORD_FAILURE };
	static const struct args_opt opts[] = { { "help", 'h', false },
						{ "event", 0, true },
						{ "timeout", 0, true },
						{ "record-failure", 0, false },
						{ NULL, 0, false } };
	const char *val;
	int r, idx;

	memset(s, 0, sizeof(*s));
	*topic = NULL;
	*timeout_ms = 0;
	while ((r = args_next(a, opts, &idx, &val)) != ARGS_END) {
		if (r < 0)
			return r;
		if (r == ARGS_POSITIONAL) {
			if (s->name) {
				port_log("step wait: unexpected argument '%s' (usage: holdfast step "
					 "wait NAME --event TOPIC [--timeout DURATION])", val);
				return HF_EINVAL;
			}
			s->name = val;
		} else if (idx == WO_HELP) {
			return ARGS_HELP;
		} else if (idx == WO_EVENT) {
			*topic = val;
		} else if (idx == WO_RECORD_FAILURE) {
			s->record_failure = true;
		} else if ((r = cmd_parse_dur("step wait", "timeout", val, timeout_ms)) != HF_OK) {
			return r;
		} else if (*timeout_ms == 0) {
			port_log("step wait: --timeout must be above zero (leave it out to wait for "
				 "as long as the job may run)");
			return HF_EINVAL;
		}
	}
	if (!s->name || !*topic) {
		port_log("step wait: usage: holdfast step wait NAME --event TOPIC "
			 "[--timeout DURATION] [--record-failure]");
		return HF_EINVAL;
	}
	if (!name_ok("step wait", "name", s->name))
		return HF_EINVAL;
	if (!name_ok("step wait", "topic", *topic))
		return HF_EINVAL;
	return step_job(s);
}

/* The record's "command" of a wait for TOPIC: {"event":TOPIC,...} with
** MORE ("\"message\":5") after it; a heap string. */
static int wait_json(struct ctx *c, const char *topic, const char *more, char **json)
{
	char *q;
	int rc;

	if ((rc = jlog_json_quote(&c->j, topic, &q)) != HF_OK)
		return rc;
	if (!(*json = malloc(strlen(q) + strlen(more) + 16)))
		rc = HF_ENOMEM;
	else
		sprintf(*json, "{\"event\":%s,%s}", q, more);
	free(q);
	return rc;
}

/* Takes TOPIC's oldest message for the wait S, begun at R's start: the
** message leaves the log and becomes S's record in one transaction, so it
** is delivered once. HF_ENOENT if none waits; R's output is its data. */
static int wait_take(struct ctx *c, const struct step *s, const char *topic, struct step_run *r)
{
	char more[48], *json = NULL;
	int64_t id;
	void *data;
	int rc;

	if ((rc = ctx_begin(c)) != HF_OK)
		return rc;
	if ((rc = jlog_msg_take(&c->j, topic, &id, &data, &r->len)) != HF_OK) {
		jlog_rollback(&c->j);
		return rc;
	}
	r->out = data;
	r->end_mono_ms = port_clock_mono_ms();
	r->end_utc_ms = port_clock_utc_or_none();
	snprintf(more, sizeof(more), "\"message\":%lld", (long long)id);
	if ((rc = wait_json(c, topic, more, &json)) == HF_OK)
		rc = step_record(c, s, r, json);
	free(json);
	return ctx_end(c, rc, "step wait", "the message was not taken (it waits for the next try)");
}

/* Whether REC, a step of S's name, is a wait; says so if it was not for
** TOPIC (compared as wait_json wrote it, so escaped alike). */
static int wait_recorded(struct ctx *c, const struct step *s, const char *topic,
			 const struct jlog_step *rec)
{
	char *json;
	int rc;

	if (strncmp(rec->argv_json, "{\"event\":", 9) != 0) {
		port_log("step wait %s: this job recorded a step of that name that was not a wait "
			 "(%s)", s->name, rec->argv_json);
		return HF_EINVAL;
	}
	/* Said, not refused: the record is what the job saw. "{"event":T,"
	** is this call's own record up to what it found. */
	if ((rc = wait_json(c, topic, "", &json)) != HF_OK)
		return rc;
	if (strncmp(rec->argv_json, json, strlen(json) - 1) != 0)
		port_log("step wait %s: replaying what attempt %lld recorded, %s; this call waits "
			 "for '%s' (a step is known by its name)", s->name, (long long)rec->attempt,
			 rec->argv_json, topic);
	free(json);
	return HF_OK;
}

/* `holdfast step wait NAME --event TOPIC`: the first message sent to TOPIC
** (`holdfast send`) that no step took, taken once and recorded as the step's
** output; later calls replay it. The process polls the log while it waits
** (parking the job instead is not built yet). */
static int step_wait(const struct args_global *g, struct args *a, FILE *out)
{
	struct jlog_step rec;
	struct step_run r;
	const char *topic;
	char why[160], *json = NULL;
	uint64_t timeout_ms, end, after;
	struct step s;
	struct ctx c;
	int rc;

	if ((rc = wait_parse(a, &s, &topic, &timeout_ms)) != HF_OK ||
	    (rc = step_open(g, &s, &c, "not waiting")) != HF_OK)
		return rc;
	if ((rc = jlog_steps_find(&c.j, s.job, s.name, &rec)) == HF_OK) {
		if ((rc = wait_recorded(&c, &s, topic, &rec)) == HF_OK)
			rc = step_hand_on(&c, &s, &rec, out);
	}
	if (rc != HF_ENOENT) {
		ctx_close(&c);
		return rc;
	}
	memset(&r, 0, sizeof(r));
	r.sig = -1;
	r.start_mono_ms = port_clock_mono_ms();
	r.start_utc_ms = port_clock_utc_or_none();
	end = r.start_mono_ms + timeout_ms;
	/* A wait with no timeout that lasts past park_after parks the job until
	** a message comes (a timeout counts from each call, so a wait with one
	** keeps its process). */
	after = timeout_ms ? 0 : park_after(&c);
	for (;;) {
		/* A read first: the write lock only to take what is there. */
		if ((rc = jlog_msg_waiting(&c.j, topic)) == HF_OK)
			rc = wait_take(&c, &s, topic, &r);
		if (rc != HF_ENOENT || (timeout_ms && port_clock_mono_ms() >= end))
			break;
		if (after && port_clock_mono_ms() - r.start_mono_ms >= after) {
			snprintf(why, sizeof(why), "step wait %s: parked until a message for '%.60s'",
				 s.name, topic);
			if ((rc = step_park(&c, &s, topic, UINT64_MAX, why)) == HF_OK) {
				rc = step_parked(&c, &s);
				break;
			}
			/* Not parked: a message came (taken next), or the attempt
			** may not park or the log was not written (said): it waits
			** here. */
			if (rc != HF_EEXIST)
				after = 0;
			continue;
		}
		port_poll(NULL, 0, WAIT_POLL_MS);
		/* Our attempt may have ended while we slept (the daemon restarted
		** and ran the job again): a stray wait must not take a message.
		** (step_open checked it before the first try.) */
		if ((rc = jlog_steps_owner(&c.j, s.job, s.attempt, why, sizeof(why))) != HF_OK) {
			port_log("step wait %s: %s; not waiting", s.name, why);
			rc = rc == HF_ENOENT ? HF_EINVAL : rc;
			break;
		}
	}
	if (rc == HF_OK) {
		fwrite(r.out, 1, r.len, out);
		rc = ARGS_EXIT(0);
	} else if (rc == HF_ENOENT) {
		/* Timed out. */
		r.exit_code = WAIT_TIMED_OUT;
		r.end_mono_ms = port_clock_mono_ms();
		r.end_utc_ms = port_clock_utc_or_none();
		if (!s.record_failure) {
			port_log("step wait %s: no message for '%s' in %llu ms: exit %d, not recorded "
				 "(the next attempt waits again; --record-failure keeps the timeout)",
				 s.name, topic, (unsigned long long)timeout_ms, WAIT_TIMED_OUT);
			rc = ARGS_EXIT(WAIT_TIMED_OUT);
		} else if ((rc = wait_json(&c, topic, "\"timed_out\":true", &json)) == HF_OK &&
			   (rc = step_commit(&c, &s, &r, json)) == HF_OK) {
			port_log("step wait %s: no message for '%s' in %llu ms: exit %d, recorded",
				 s.name, topic, (unsigned long long)timeout_ms, WAIT_TIMED_OUT);
			rc = ARGS_EXIT(WAIT_TIMED_OUT);
		}
	}
	free(json);
	free(r.out);
	ctx_close(&c);
	return rc;
}

/* `holdfast send [--json] TOPIC [DATA | -]`: a message for a step that waits
** for TOPIC, kept (durably) until one takes it. */
int cmd_send(const struct args_global *g, struct args *a, FILE *out)
{
	static const struct args_opt opts[] = { { "help", 'h', false }, { "json", 0, false },
						{ NULL, 0, false } };
	const char *pos[2] = { NULL, NULL }, *val;
	char *buf = NULL;
	size_t len = 0;
	int64_t id = 0, count, bytes;
	bool json = false;
	int r, idx, n = 0, rc;
	struct ctx c;

	while ((r = args_next(a, opts, &idx, &val)) != ARGS_END) {
		if (r < 0)
			return r;
		if (r == ARGS_OPTION && idx == 0)
			return ARGS_HELP;
		if (r == ARGS_OPTION) {
			json = true;
		} else if (n == 2) {
			port_log("send: unexpected argument '%s' (usage: holdfast send [--json] TOPIC "
				 "[DATA | -])",
				 val);
			return HF_EINVAL;
		} else {
			pos[n++] = val;
		}
	}
	if (n < 1) {
		port_log("send: usage: holdfast send [--json] TOPIC [DATA | -]");
		return HF_EINVAL;
	}
	if (!name_ok("send", "topic", pos[0]))
		return HF_EINVAL;
	if (pos[1] && !strcmp(pos[1], "-")) {
		/* One byte past the cap, to know it is over. */
		if (!(buf = malloc(JLOG_MSG_DATA_MAX + 1)))
			return HF_ENOMEM;
		len = fread(buf, 1, JLOG_MSG_DATA_MAX + 1, stdin);
		if (ferror(stdin)) {
			port_log("send: reading the message from stdin failed; nothing was sent");
			rc = HF_EIO;
			goto out;
		}
	} else if (pos[1]) {
		len = strlen(pos[1]);
	}
	if (len > JLOG_MSG_DATA_MAX) {
		port_log("send: the message is over %d bytes; nothing was sent (a message is for a "
			 "result or a path, not for data)", JLOG_MSG_DATA_MAX);
		rc = HF_EINVAL;
		goto out;
	}
	if ((rc = ctx_open(g, &c)) != HF_OK)
		goto out;
	if ((rc = ctx_begin(&c)) == HF_OK) {
		if ((rc = ctx_boot(&c)) == HF_OK)
			rc = jlog_msg_send(&c.j, pos[0], buf ? buf : pos[1], len, &c.now, &id);
		if (rc == HF_ETOOBIG && jlog_msg_pending(&c.j, &count, &bytes) == HF_OK)
			port_log("send: %lld messages (%lld bytes) wait for steps that have not taken "
				 "them, at most %d (%d bytes) are kept; nothing was sent",
				 (long long)count, (long long)bytes, JLOG_MSG_PENDING_MAX,
				 JLOG_MSG_PENDING_BYTES);
		if ((rc = ctx_end(&c, rc, "send", "the message was not kept")) == HF_OK)
			cmd_poke(&c); /* a job parked for the topic wakes */
	}
	ctx_close(&c);
	if (rc == HF_OK)
		fprintf(out, json ? "{\"message\":%lld}\n" : "%lld\n", (long long)id);
	if (rc == HF_ETOOBIG)
		rc = HF_EINVAL;
out:
	free(buf);
	return rc;
}

int cmd_step(const struct args_global *g, struct args *a, FILE *out)
{
	struct jlog_step rec;
	struct step s;
	struct ctx c;
	int rc;

	/* `step sleep NAME DURATION` and `step wait NAME --event TOPIC`; a step
	** named "sleep" or "wait" is `step sleep -- CMD`. */
	if (a->i + 1 < a->argc && strcmp(a->argv[a->i + 1], "--")) {
		if (!strcmp(a->argv[a->i], "sleep")) {
			a->i++;
			return step_sleep(g, a);
		}
		if (!strcmp(a->argv[a->i], "wait")) {
			a->i++;
			return step_wait(g, a, out);
		}
	}
	if ((rc = step_parse(a, &s)) != HF_OK || (rc = step_open(g, &s, &c, "nothing was run")))
		return rc;
	step_key(&s);
	if ((rc = jlog_steps_find(&c.j, s.job, s.name, &rec)) == HF_OK) {
		rc = step_replay(&c, &s, &rec, out);
	} else if (rc == HF_ENOENT) {
		rc = step_first(&c, &s, out);
	}
	ctx_close(&c);
	return rc;
}
