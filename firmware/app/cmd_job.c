/*
** cmd_job.c: the verbs of one job or the list of them: submit, ls, show,
** logs, cancel, retry.
**
** submit prints a job's id only after its row is committed with
** synchronous=FULL, then pokes the daemon (if one runs) to wake it.
*/
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "app/cmd.h"
#include "app/cmd_int.h"
#include "base/crypto.h"
#include "base/err.h"
#include "base/units.h"
#include "fmt/cfg.h"
#include "log/jlog.h"
#include "port.h"

/* Whether S is valid UTF-8 (what the log's JSON columns can hold). */
static bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int n;
		uint32_t cp;

		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) { n = 1; cp = *p & 0x1f; }
		else if ((*p & 0xf0) == 0xe0) { n = 2; cp = *p & 0x0f; }
		else if ((*p & 0xf8) == 0xf0) { n = 3; cp = *p & 0x07; }
		else return false;
		p++;
		for (int i = 0; i < n; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (*p & 0x3f);
		}
		/* Overlong forms, surrogates and beyond U+10FFFF are invalid. */
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
	}
	return true;
}

/* Checks one argv or env entry against the log's limits. */
static int check_text(const char *what, int idx, const char *s, size_t *total)
{
	size_t n = strlen(s);

	if (n > JLOG_ARG_BYTES) {
		port_log("submit: %s %d is %zu bytes; the limit is %d", what, idx, n,
			 JLOG_ARG_BYTES);
		return HF_EINVAL;
	}
	if (!utf8_valid(s)) {
		port_log("submit: %s %d is not valid UTF-8", what, idx);
		return HF_EINVAL;
	}
	*total += n;
	return HF_OK;
}

/* ---- submit ------------------------------------------------------------------ */

enum { SO_HELP, SO_NAME, SO_AFTER, SO_RETRIES, SO_BACKOFF, SO_TIMEOUT, SO_PRIORITY,
       SO_GROUP, SO_KEY, SO_ENV, SO_CWD, SO_NOT_BEFORE, SO_JSON, SO_WAIT_REMOTE, SO_REMOTE_TIMEOUT,
       SO_USER, SO_LIMIT_NOFILE, SO_LIMIT_AS, SO_LIMIT_CORE };
static const struct args_opt submit_opts[] = {
	{ "help", 'h', false }, { "name", 0, true }, { "after", 0, true },
	{ "retries", 0, true }, { "backoff", 0, true }, { "timeout", 0, true },
	{ "priority", 0, true }, { "group", 0, true }, { "key", 0, true },
	{ "env", 0, true }, { "cwd", 0, true }, { "not-before", 0, true },
	{ "json", 0, false }, { "wait-remote", 0, false }, { "remote-timeout", 0, true },
	{ "user", 0, true }, { "limit-nofile", 0, true }, { "limit-as", 0, true },
	{ "limit-core", 0, true }, { NULL, 0, false }
};

#define SUBMIT_AFTER_MAX 64

/* A job being submitted: parsed (submit_parse), checked against the log's
** limits (submit_check), then stored (submit_commit). */
struct submit {
	struct jlog_spec s;
	const char *after_refs[SUBMIT_AFTER_MAX];
	int64_t after_ids[SUBMIT_AFTER_MAX];
	int nafter;
	const char *env[JLOG_ENV_MAX];
	int nenv;
	char cwd[PATH_MAX];
	size_t total;              /* bytes of argv, env and cwd (JLOG_SPEC_BYTES) */
	bool json, wait_remote;
	uint64_t remote_timeout;
};

/* --backoff MIN..MAX. */
static int submit_backoff(struct jlog_spec *s, const char *val)
{
	const char *dots = strstr(val, "..");
	char lo[32];

	if (!dots || (size_t)(dots - val) >= sizeof(lo)) {
		port_log("submit: --backoff wants MIN..MAX, e.g. 1s..5m, not '%s'", val);
		return HF_EINVAL;
	}
	memcpy(lo, val, (size_t)(dots - val));
	lo[dots - val] = '\0';
	if (cmd_parse_dur("submit", "backoff", lo, &s->backoff_min_ms) ||
	    cmd_parse_dur("submit", "backoff", dots + 2, &s->backoff_max_ms))
		return HF_EINVAL;
	if (s->backoff_min_ms > s->backoff_max_ms) {
		port_log("submit: --backoff %s: MIN is larger than MAX", val);
		return HF_EINVAL;
	}
	return HF_OK;
}

/* --env NAME=VALUE. */
static int submit_env(struct submit *sb, const char *val)
{
	const char *eq = strchr(val, '=');

	if (!eq || eq == val || (val[0] >= '0' && val[0] <= '9')) {
		port_log("submit: --env wants NAME=VALUE, not '%s'", val);
		return HF_EINVAL;
	}
	for (const char *p = val; p < eq; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_')) {
			port_log("submit: --env name '%.*s' has a character other "
				 "than letters, digits and '_'", (int)(eq - val), val);
			return HF_EINVAL;
		}
	if (sb->nenv == JLOG_ENV_MAX) {
		port_log("submit: at most %d --env", JLOG_ENV_MAX);
		return HF_EINVAL;
	}
	/* Twice in one environment, which one a program sees is up to its
	** getenv: refused, as a key twice in a pipeline's "env" is. */
	for (int i = 0; i < sb->nenv; i++)
		if (!strncmp(sb->env[i], val, (size_t)(eq - val) + 1)) {
			port_log("submit: --env %.*s is given twice; keep one",
				 (int)(eq - val), val);
			return HF_EINVAL;
		}
	if (check_text("--env", sb->nenv + 1, val, &sb->total))
		return HF_EINVAL;
	sb->env[sb->nenv++] = val;
	return HF_OK;
}

/* --user, --limit-nofile, --limit-as, --limit-core: what the job runs as. */
static int submit_process(struct jlog_spec *s, int idx, const char *val)
{
	int w = idx - SO_LIMIT_NOFILE;
	struct port_user u;
	const char *why;
	uint64_t v;

	if (idx == SO_USER) {
		/* Looked up here too, so a typo is refused before it is
		** stored; the daemon decides whether it may switch. */
		if (!*val || strlen(val) >= CFG_NAME_MAX || port_user_lookup(val, &u) != HF_OK) {
			port_log("submit: --user %s: no such user in the password database", val);
			return HF_EINVAL;
		}
		s->user = val;
		return HF_OK;
	}
	if (cfg_parse_limit(w, val, &v, &why) != HF_OK) {
		port_log("submit: --%s wants %s, not '%s'", submit_opts[idx].name, why, val);
		return HF_EINVAL;
	}
	s->limit_set[w] = true;
	s->limit[w] = v == CFG_LIMIT_UNLIMITED ? -1 : (int64_t)v;
	return HF_OK;
}

/* One option of submit's, IDX into submit_opts with its value VAL. Over 80
** lines: one case per option, so each option's rule is read in one place. */
static int submit_option(struct submit *sb, int idx, const char *val)
{
	struct jlog_spec *s = &sb->s;
	long long n;

	switch (idx) {
	case SO_HELP: return ARGS_HELP;
	case SO_WAIT_REMOTE:
		sb->wait_remote = true;
		return HF_OK;
	case SO_REMOTE_TIMEOUT:
		return cmd_remote_timeout_arg("submit", val, &sb->remote_timeout);
	case SO_NAME:
		if (!names_valid(val)) {
			port_log("submit: bad --name '%s': letters, digits, '_', '-', '.', "
				 "not starting with a digit, at most %d", val, JLOG_NAME_MAX);
			return HF_EINVAL;
		}
		s->name = val;
		return HF_OK;
	case SO_AFTER:
		if (sb->nafter == SUBMIT_AFTER_MAX) {
			port_log("submit: at most 64 --after");
			return HF_EINVAL;
		}
		sb->after_refs[sb->nafter++] = val;
		return HF_OK;
	case SO_RETRIES:
		if (cmd_parse_int("submit", "retries", val, 0, 1000, &n))
			return HF_EINVAL;
		s->retries = n;
		return HF_OK;
	case SO_BACKOFF:
		return submit_backoff(s, val);
	case SO_TIMEOUT:
		if (cmd_parse_dur("submit", "timeout", val, &s->timeout_ms))
			return HF_EINVAL;
		if (s->timeout_ms == 0) {
			port_log("submit: --timeout 0 would kill the job at once; omit it "
				 "for no timeout");
			return HF_EINVAL;
		}
		return HF_OK;
	case SO_PRIORITY:
		if (cmd_parse_int("submit", "priority", val, -1000, 1000, &n))
			return HF_EINVAL;
		s->priority = n;
		return HF_OK;
	case SO_GROUP:
		if (!names_valid(val)) {
			port_log("submit: bad --group '%s'", val);
			return HF_EINVAL;
		}
		s->group = val;
		return HF_OK;
	case SO_KEY:
		if (!*val || strlen(val) > 256 || !utf8_valid(val)) {
			port_log("submit: --key must be 1 to 256 bytes of UTF-8");
			return HF_EINVAL;
		}
		s->key = val;
		return HF_OK;
	case SO_ENV:
		return submit_env(sb, val);
	case SO_CWD:
		s->cwd = val;
		return HF_OK;
	case SO_USER:
	case SO_LIMIT_NOFILE:
	case SO_LIMIT_AS:
	case SO_LIMIT_CORE:
		return submit_process(s, idx, val);
	case SO_NOT_BEFORE:
		return cmd_parse_dur("submit", "not-before", val, &s->not_before_ms) ? HF_EINVAL :
										     HF_OK;
	case SO_JSON:
		sb->json = true;
		return HF_OK;
	}
	return HF_EBUG;
}

/* Submit's options into SB, up to the command, which starts at the first
** positional argument: the rest is its own. */
static int submit_parse(struct submit *sb, struct args *a)
{
	const char *val;
	int r, idx, rc;

	memset(sb, 0, sizeof(*sb));
	sb->s.backoff_min_ms = 1000;
	sb->s.backoff_max_ms = 300000;
	sb->remote_timeout = 60000;
	while ((r = args_next(a, submit_opts, &idx, &val)) != ARGS_END) {
		if (r < 0)
			return r;
		if (r == ARGS_POSITIONAL) {
			a->i--;
			break;
		}
		if ((rc = submit_option(sb, idx, val)) != HF_OK)
			return rc;
	}
	sb->s.argc = a->argc - a->i;
	sb->s.argv = a->argv + a->i;
	sb->s.env = (char *const *)sb->env;
	sb->s.nenv = sb->nenv;
	return HF_OK;
}

/* The command, the directory and their sizes against the log's limits; an
** unset directory is the current one: the job runs where it was submitted
** from, unless told otherwise. */
static int submit_check(struct submit *sb)
{
	struct jlog_spec *s = &sb->s;
	enum port_fs_kind kind;

	if (s->argc <= 0) {
		port_log("submit: no command given (holdfast submit [options] -- CMD ARGS...)");
		return HF_EINVAL;
	}
	if (s->argc > JLOG_ARGV_MAX) {
		port_log("submit: %d arguments; the limit is %d", s->argc, JLOG_ARGV_MAX);
		return HF_EINVAL;
	}
	if (!*s->argv[0]) {
		port_log("submit: the command is an empty string");
		return HF_EINVAL;
	}
	for (int i = 0; i < s->argc; i++)
		if (check_text("argument", i + 1, s->argv[i], &sb->total))
			return HF_EINVAL;
	if (!s->cwd) {
		if (port_cwd(sb->cwd, sizeof(sb->cwd)) != HF_OK) {
			port_log("submit: cannot tell the current directory; give --cwd");
			return HF_EINVAL;
		}
		s->cwd = sb->cwd;
	} else if (s->cwd[0] != '/') {
		port_log("submit: --cwd must be an absolute path, not '%s'", s->cwd);
		return HF_EINVAL;
	} else if (port_fs_kind(s->cwd, &kind) != HF_OK || kind != PORT_FS_DIR) {
		port_log("submit: --cwd %s is not a directory", s->cwd);
		return HF_EINVAL;
	}
	if (check_text("--cwd", 1, s->cwd, &sb->total))
		return HF_EINVAL;
	if (sb->total > JLOG_SPEC_BYTES) {
		port_log("submit: command, environment and directory come to %zu bytes; the "
			 "limit is %d", sb->total, JLOG_SPEC_BYTES);
		return HF_EINVAL;
	}
	return HF_OK;
}

/* Stores the job (its --after references resolved in the same
** transaction) and prints its id once it is durable, and with
** --wait-remote once the replica holds it too. */
static int submit_commit(const struct args_global *g, struct submit *sb, FILE *out)
{
	int64_t id = 0;
	bool existed = false;
	struct ctx c;
	int rc;

	if ((rc = ctx_open(g, &c)) != HF_OK)
		return rc;
	if ((rc = ctx_begin(&c)) != HF_OK)
		goto out;
	for (int i = 0; i < sb->nafter; i++) {
		if ((rc = jlog_job_resolve(&c.j, sb->after_refs[i], &sb->after_ids[i])) != HF_OK) {
			rc = rc == HF_ENOENT ? HF_EINVAL : rc;
			goto out_rollback;
		}
	}
	sb->s.after = sb->after_ids;
	sb->s.nafter = sb->nafter;
	if ((rc = ctx_boot(&c)) != HF_OK)
		goto out_rollback;
	if ((rc = jlog_job_add(&c.j, &sb->s, &c.now, &id, &existed)) != HF_OK)
		goto out_rollback;
	if ((rc = jlog_commit(&c.j)) != HF_OK)
		goto out;
	cmd_poke(&c);
	/* Durable here; with --wait-remote printed only once the replica has
	** it too. */
	if (sb->wait_remote && (rc = cmd_wait_remote(g, sb->remote_timeout)) != HF_OK) {
		port_log("submit: job %lld is queued here, but the replica does not hold it yet",
			 (long long)id);
		goto out;
	}
	/* Durable now; only now may the id be printed. */
	if (sb->json)
		fprintf(out, "{\"id\":%lld,\"existed\":%s}\n", (long long)id,
			existed ? "true" : "false");
	else
		fprintf(out, "%lld\n", (long long)id);
	if (existed)
		port_log("submit: key '%s' is job %lld already; nothing new was queued", sb->s.key,
			 (long long)id);
	ctx_close(&c);
	return HF_OK;

out_rollback:
	jlog_rollback(&c.j);
out:
	if (rc == HF_ENOSPC)
		ctx_say_full(&c, "submit", "the job was not queued");
	ctx_close(&c);
	return rc;
}

int cmd_submit(const struct args_global *g, struct args *a, FILE *out)
{
	struct submit sb;
	int rc;

	if ((rc = submit_parse(&sb, a)) != HF_OK || (rc = submit_check(&sb)) != HF_OK)
		return rc;
	return submit_commit(g, &sb, out);
}

/* ---- ls ------------------------------------------------------------------------ */

/* Said of a job left running by a daemon that is gone (kill -9, crash, a
** power cut not yet followed by a start). */
#define INTERRUPTED_WHY "daemon not running: its next start recovers the job"

/*
** A job stored as running while no daemon runs is not running: nothing
** watches it or will record its end, and the next daemon start ends its
** attempt (daemon-crash or power-loss). Said so, rather than a new stored
** state: the recovery that follows is the daemon's to record.
*/
static bool interrupted(struct cmd_print *p, const char *state)
{
	if (strcmp(state, "running"))
		return false;
	if (!p->daemon)
		p->daemon = port_wake_probe(p->dir) == HF_OK ? 1 : -1;
	return p->daemon < 0;
}

/* A job's JSON object with "interrupted" (see interrupted()) added. */
static void print_job_json(struct cmd_print *p, const struct jlog_job *job)
{
	size_t len = strlen(job->json);

	/* json_object() output ends in '}'; anything else is printed as is. */
	if (!len || job->json[len - 1] != '}') {
		fputs(job->json, p->out);
		return;
	}
	fprintf(p->out, "%.*s,\"interrupted\":%s}", (int)(len - 1), job->json,
		interrupted(p, job->state) ? "true" : "false");
}

/* Renders a stored argv (JSON) as a shell-like line, for people. */
static void print_command(FILE *out, struct jlog *j, const char *argv_json, size_t max)
{
	char **v = NULL;
	int n = 0;
	size_t used = 0;

	if (jlog_json_strings(j, argv_json, &v, &n) != HF_OK) {
		fputs(argv_json, out);
		return;
	}
	for (int i = 0; i < n && used < max; i++) {
		bool quote = strpbrk(v[i], " \t\n'\"$\\;&|<>()*?`") != NULL || !*v[i];

		if (i)
			used += (size_t)fprintf(out, " ");
		if (!quote) {
			used += (size_t)fprintf(out, "%s", v[i]);
			continue;
		}
		/* POSIX shell quoting: '...' with each ' written as '\''. */
		fputc('\'', out);
		for (const char *c = v[i]; *c && used < max; c++, used++)
			fputs(*c == '\'' ? "'\\''" : (char[]){ *c, 0 }, out);
		fputc('\'', out);
		used += 2;
	}
	if (used >= max)
		fputs(" ...", out);
	free(v);
}

static int print_job_line(const struct jlog_job *job, void *arg)
{
	struct cmd_print *p = arg;
	char t[CMD_WHEN_LEN];

	if (p->json) {
		fputs(p->count ? "," : "", p->out);
		print_job_json(p, job);
	} else {
		bool cut = interrupted(p, job->state);

		cmd_fmt_when(p->now, job->submit_utc_ms, job->submit_boot, job->submit_mono_ms, t);
		fprintf(p->out, "%-7lld %-11s %3lld  %-20s  %-16s ", (long long)job->id,
			cut ? "interrupted" : job->state, (long long)job->attempts, t,
			job->name ? job->name : "-");
		print_command(p->out, p->j, job->argv_json, 60);
		if (cut)
			fprintf(p->out, "  (" INTERRUPTED_WHY ")");
		else if (job->reason)
			fprintf(p->out, "  (%s)", job->reason);
		fputc('\n', p->out);
	}
	p->count++;
	return 0;
}

static bool valid_state(const char *s)
{
	static const char *const states[] = { "queued", "running", "succeeded", "failed",
					      "dead", "cancelled", "quarantined", "parked" };
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (!strcmp(s, states[i]))
			return true;
	return false;
}

int cmd_ls(const struct args_global *g, struct args *a, FILE *out)
{
	enum { O_HELP, O_STATE, O_LIMIT, O_JSON };
	static const struct args_opt opts[] = {
		{ "help", 'h', false }, { "state", 0, true }, { "limit", 0, true },
		{ "json", 0, false }, { NULL, 0, false }
	};
	const char *state = NULL, *val;
	long long limit = 50;
	struct cmd_print p = { out, NULL, false, 0, NULL, 0, NULL };
	struct ctx c;
	int r, idx, rc;

	while ((r = args_next_option(a, opts, &idx, &val)) == ARGS_OPTION) {
		if (idx == O_STATE) {
			if (!valid_state(val)) {
				port_log("ls: unknown state '%s' (queued, running, succeeded, failed, "
					 "dead, cancelled, quarantined, parked)", val);
				return HF_EINVAL;
			}
			state = val;
		} else if (idx == O_LIMIT) {
			if (cmd_parse_int("ls", "limit", val, 0, 1000000000, &limit))
				return HF_EINVAL;
		} else {
			p.json = true;
		}
	}
	if (r != ARGS_END)
		return r;
	if ((rc = ctx_open(g, &c)) != HF_OK)
		return rc;
	p.j = &c.j;
	p.dir = c.dir;
	p.now = &c.now;
	if (p.json)
		fputc('[', out);
	else
		fprintf(out, "%-7s %-11s %3s  %-20s  %-16s %s\n", "ID", "STATE", "TRY", "SUBMITTED",
			"NAME", "COMMAND");
	rc = jlog_jobs_list(&c.j, state, limit, print_job_line, &p);
	if (p.json)
		fputs("]\n", out);
	ctx_close(&c);
	return rc;
}

/* ---- show ---------------------------------------------------------------------- */

static int json_flag(int idx, const char *val, void *arg)
{
	(void)idx;
	(void)val;
	*(bool *)arg = true;
	return HF_OK;
}

/* What is known of an attempt whose end nobody saw (see jlog_attempts_list). */
static void print_unknown_end(FILE *out, const struct jlog_attempt *at)
{
	char t[40], d[32];

	fprintf(out, "%s, ended: unknown (%s detected at restart", at->end_reason, at->end_reason);
	if (at->detected_boot > 0) {
		fprintf(out, ", boot %lld", (long long)at->detected_boot);
		if (at->detected_utc_ms >= 0) {
			units_format_utc(at->detected_utc_ms, false, t, sizeof(t));
			fprintf(out, ", %s", t);
		}
	}
	if (at->alive_ms > 0) {
		units_format_duration((uint64_t)at->alive_ms, d, sizeof(d));
		fprintf(out, "; its daemon was last known alive %s after it started", d);
	}
	fputc(')', out);
}

static int print_attempt(const struct jlog_attempt *at, void *arg)
{
	struct cmd_print *p = arg;
	char dur[32] = "", t[CMD_WHEN_LEN];

	if (p->json) {
		fprintf(p->out, "%s%s", p->count++ ? "," : "", at->json);
		return 0;
	}
	if (at->end_reason && at->duration_ms >= 0)
		units_format_duration((uint64_t)at->duration_ms, dur, sizeof(dur));
	fprintf(p->out, "  attempt %lld: pid %lld, boot %lld, started %s, ", (long long)at->n,
		(long long)at->pid, (long long)at->boot,
		cmd_fmt_when(p->now, at->start_utc_ms, at->boot, at->start_mono_ms, t));
	if (!at->end_reason)
		fprintf(p->out, "%s", p->daemon < 0 ? "interrupted (" INTERRUPTED_WHY ")" : "running");
	else if (at->end_unknown)
		print_unknown_end(p->out, at);
	else if (!strcmp(at->end_reason, "exit"))
		fprintf(p->out, "exit %lld after %s", (long long)at->exit_code, dur);
	else if (!strcmp(at->end_reason, "signal"))
		fprintf(p->out, "signal %lld after %s", (long long)at->signal, dur);
	else
		fprintf(p->out, "%s%s%s", at->end_reason, *dur ? " after " : "", dur);
	if (at->end_reason && !*dur && !at->end_unknown)
		fprintf(p->out, " (recorded %s)",
			cmd_fmt_when(p->now, at->end_utc_ms, at->end_boot, at->end_mono_ms, t));
	fprintf(p->out, ", %lld bytes of output%s\n", (long long)at->out_bytes,
		at->out_truncated ? " (truncated)" : "");
	return 0;
}

/* A recorded step (README "Steps"). */
static int print_step(const struct jlog_step *st, void *arg)
{
	struct cmd_print *p = arg;
	char dur[32];

	if (p->json) {
		fprintf(p->out, "%s%s", p->count++ ? "," : "", st->json);
		return 0;
	}
	if (!p->count++)
		fputs("  steps (name, the attempt that ran it, how it ended, output, replays):\n",
		      p->out);
	units_format_duration(st->end_mono_ms - st->start_mono_ms, dur, sizeof(dur));
	fprintf(p->out, "    %s: attempt %lld, ", st->name, (long long)st->attempt);
	if (st->signal >= 0)
		fprintf(p->out, "signal %lld", (long long)st->signal);
	else
		fprintf(p->out, "exit %lld", (long long)st->exit_code);
	fprintf(p->out, " after %s, %zu bytes, replayed %lld time%s\n", dur, st->output_len,
		(long long)st->replayed, st->replayed == 1 ? "" : "s");
	return 0;
}

int cmd_show(const struct args_global *g, struct args *a, FILE *out)
{
	static const struct args_opt opts[] = { { "help", 'h', false }, { "json", 0, false },
					       { NULL, 0, false } };
	struct cmd_print p = { out, NULL, false, 0, NULL, 0, NULL };
	struct jlog_job job;
	const char *ref;
	int64_t id;
	struct ctx c;
	char dur[32], t[CMD_WHEN_LEN];
	int rc;

	if ((rc = cmd_parse_job_arg("show", a, opts, &ref, json_flag, &p.json)) != HF_OK)
		return rc;
	if ((rc = ctx_open(g, &c)) != HF_OK)
		return rc;
	p.j = &c.j;
	p.dir = c.dir;
	p.now = &c.now;
	if ((rc = jlog_job_resolve(&c.j, ref, &id)) || (rc = jlog_job_get(&c.j, id, &job))) {
		rc = rc == HF_ENOENT ? HF_EINVAL : rc; /* no such job: the input's fault */
		goto out;
	}
	if (p.json) {
		fputs("{\"job\":", out);
		print_job_json(&p, &job);
		fputs(",\"attempts\":[", out);
		rc = jlog_attempts_list(&c.j, id, print_attempt, &p);
		fputs("],\"steps\":[", out);
		p.count = 0;
		if (rc == HF_OK)
			rc = jlog_steps_list(&c.j, id, print_step, &p);
		fputs("]}\n", out);
		goto out;
	}
	fprintf(out, "job %lld%s%s: %s", (long long)job.id, job.name ? " " : "",
		job.name ? job.name : "", interrupted(&p, job.state) ? "interrupted" : job.state);
	if (p.daemon < 0)
		fprintf(out, " (" INTERRUPTED_WHY ")");
	else if (job.reason)
		fprintf(out, " (%s)", job.reason);
	fputs("\n  command: ", out);
	print_command(out, &c.j, job.argv_json, 4096);
	fprintf(out, "\n  cwd: %s\n", job.cwd ? job.cwd : "/");
	fprintf(out, "  submitted %s", cmd_fmt_when(&c.now, job.submit_utc_ms, job.submit_boot,
						job.submit_mono_ms, t));
	if (job.end_boot)
		fprintf(out, ", ended %s", cmd_fmt_when(&c.now, job.end_utc_ms, job.end_boot,
						job.end_mono_ms, t));
	fputc('\n', out);
	if (strcmp(job.env_json, "[]"))
		fprintf(out, "  env: %s\n", job.env_json);
	fprintf(out, "  priority %lld, retries %lld (failed %lld so far), ", (long long)job.priority,
		(long long)job.retries, (long long)job.failures);
	units_format_duration(job.backoff_min_ms, dur, sizeof(dur));
	fprintf(out, "backoff %s..", dur);
	units_format_duration(job.backoff_max_ms, dur, sizeof(dur));
	fprintf(out, "%s", dur);
	if (job.timeout_ms) {
		units_format_duration(job.timeout_ms, dur, sizeof(dur));
		fprintf(out, ", timeout %s", dur);
	}
	fputc('\n', out);
	if (job.group)
		fprintf(out, "  group: %s\n", job.group);
	if (job.key)
		fprintf(out, "  key: %s\n", job.key);
	if (job.waiting)
		fprintf(out, "  waiting for %lld dependenc%s\n", (long long)job.waiting,
			job.waiting == 1 ? "y" : "ies");
	if ((rc = jlog_attempts_list(&c.j, id, print_attempt, &p)) == HF_OK)
		rc = jlog_steps_list(&c.j, id, print_step, &p);
out:
	ctx_close(&c);
	return rc;
}

/* ---- logs ----------------------------------------------------------------------- */

struct logs_opts {
	long long attempt;
	bool follow, json;
	const char *step;
};

static int logs_opt(int idx, const char *val, void *arg)
{
	struct logs_opts *o = arg;

	switch (idx) {
	case 1: return cmd_parse_int("logs", "attempt", val, 1, 1000000, &o->attempt);
	case 2: o->follow = true; return HF_OK;
	case 3: o->step = val; return HF_OK;
	case 4: o->json = true; return HF_OK;
	}
	return HF_EBUG;
}

/* logs --step NAME: the step's recorded stdout as it was handed on; with
** --json, the step's record with its output as a JSON string (UTF-8
** without NUL) or in base64. */
static int logs_step(struct ctx *c, int64_t id, const struct logs_opts *o, FILE *out)
{
	struct jlog_step st;
	char *text = NULL, *quoted = NULL;
	int rc;

	if ((rc = jlog_steps_find(&c->j, id, o->step, &st)) == HF_ENOENT) {
		port_log("logs: job %lld has no step '%s' recorded", (long long)id, o->step);
		return HF_EINVAL;
	}
	if (rc != HF_OK)
		return rc;
	if (!o->json) {
		fwrite(st.output, 1, st.output_len, out);
		return HF_OK;
	}
	if (!(text = malloc(st.output_len * 4 / 3 + 8)))
		return HF_ENOMEM;
	memcpy(text, st.output, st.output_len);
	text[st.output_len] = '\0';
	fprintf(out, "{\"job\":%lld,\"step\":%s,", (long long)id, st.json);
	if (strlen(text) == st.output_len && utf8_valid(text) &&
	    (rc = jlog_json_quote(&c->j, text, &quoted)) == HF_OK) {
		fprintf(out, "\"output\":%s}\n", quoted);
	} else if (rc == HF_OK) {
		crypto_base64(st.output, st.output_len, text, st.output_len * 4 / 3 + 8);
		fprintf(out, "\"output_base64\":\"%s\"}\n", text);
	}
	free(quoted);
	free(text);
	return rc;
}

static int write_chunk(int stream, const void *data, size_t len, void *arg)
{
	FILE *out = arg;

	/* stdout of the job to ours; its stderr to our stderr. */
	fwrite(data, 1, len, stream == 2 ? stderr : out);
	return 0;
}

struct last_attempt {
	int64_t n;
	bool ended;
};

static int note_attempt(const struct jlog_attempt *at, void *arg)
{
	struct last_attempt *l = arg;

	l->n = at->n;
	l->ended = at->end_reason != NULL;
	return 0;
}

int cmd_logs(const struct args_global *g, struct args *a, FILE *out)
{
	static const struct args_opt opts[] = { { "help", 'h', false }, { "attempt", 0, true },
					       { "follow", 'f', false }, { "step", 0, true },
					       { "json", 0, false }, { NULL, 0, false } };
	struct logs_opts o = { 0, false, false, NULL };
	struct last_attempt last = { 0, false };
	const char *ref;
	int64_t id, seq = 0;
	struct ctx c;
	int rc;

	if ((rc = cmd_parse_job_arg("logs", a, opts, &ref, logs_opt, &o)) != HF_OK)
		return rc;
	if (o.step ? o.attempt || o.follow : o.json) {
		port_log("logs: --step goes with --json only, --attempt and --follow without it");
		return HF_EINVAL;
	}
	if ((rc = ctx_open(g, &c)) != HF_OK)
		return rc;
	if ((rc = jlog_job_resolve(&c.j, ref, &id)) != HF_OK) {
		rc = rc == HF_ENOENT ? HF_EINVAL : rc;
		goto out;
	}
	if (o.step) {
		rc = logs_step(&c, id, &o, out);
		goto out;
	}
	for (;;) {
		struct jlog_job job;

		last.n = 0;
		if ((rc = jlog_attempts_list(&c.j, id, note_attempt, &last)) != HF_OK)
			goto out;
		if (o.attempt && o.attempt > last.n && !o.follow) {
			port_log("logs: job %lld has %lld attempt(s), not %lld", (long long)id,
				 (long long)last.n, o.attempt);
			rc = HF_EINVAL;
			goto out;
		}
		if (last.n > 0 && (!o.attempt || o.attempt <= last.n)) {
			int64_t n = o.attempt ? o.attempt : last.n;
			if ((rc = jlog_output_read(&c.j, id, n, seq, write_chunk, out, &seq)))
				goto out;
			fflush(out);
			if (!o.follow || (n < last.n || last.ended))
				break;
		} else if (!o.follow) {
			break;
		}
		/* --follow: wait for more, or for the job to end. */
		if ((rc = jlog_job_get(&c.j, id, &job)) != HF_OK)
			goto out;
		if (last.n == 0 && strcmp(job.state, "queued") && strcmp(job.state, "failed") &&
		    strcmp(job.state, "running"))
			break;
		port_poll(NULL, 0, 200);
	}
out:
	ctx_close(&c);
	return rc;
}

/* ---- cancel, retry ------------------------------------------------------------------ */

/* cancel and retry: one job reference, one transaction, a poke. */
static int job_action(const struct args_global *g, struct args *a, FILE *out, bool retry)
{
	static const struct args_opt opts[] = { { "help", 'h', false }, { NULL, 0, false } };
	const char *ref;
	int64_t id;
	bool later = false;
	struct ctx c;
	int rc;

	if ((rc = cmd_parse_job_arg(a->verb, a, opts, &ref, cmd_no_opts, NULL)) != HF_OK)
		return rc;
	if ((rc = ctx_open(g, &c)) != HF_OK)
		return rc;
	ctx_bound_wal(&c); /* as ctx_begin: the job_retry/job_cancel transaction follows */
	if ((rc = jlog_job_resolve(&c.j, ref, &id)) == HF_OK && (rc = ctx_boot(&c)) == HF_OK &&
	    (rc = retry ? jlog_job_retry(&c.j, id, &c.now) :
			  jlog_job_cancel(&c.j, id, &c.now, &later)) == HF_OK) {
		fprintf(out, "job %lld: %s\n", (long long)id,
			retry ? "queued again" :
			later ? "stopping (the daemon ends it)" : "cancelled");
		cmd_poke(&c);
	}
	if (rc == HF_ENOSPC)
		ctx_say_full(&c, a->verb, retry ? "the job was not queued again" :
						  "the job was not cancelled");
	ctx_close(&c);
	return rc == HF_ENOENT ? HF_EINVAL : rc;
}

int cmd_cancel(const struct args_global *g, struct args *a, FILE *out)
{
	return job_action(g, a, out, false);
}

int cmd_retry(const struct args_global *g, struct args *a, FILE *out)
{
	return job_action(g, a, out, true);
}
