/*
** cmd.c: the job verbs (see cmd.h).
**
** Every verb validates all of its input before it opens the log: a bad
** duration, an unknown option, a huge argument or a missing dependency is a
** usage error (exit 2) that names the problem, and the database is not
** written. submit prints a job's id only after its row is committed with
** synchronous=FULL, then pokes the daemon (if one runs) to wake it.
*/
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "app/cmd.h"
#include "app/cmd_ship.h"
#include "app/ctx.h"
#include "base/err.h"
#include "base/units.h"
#include "daemon/diskfull.h"
#include "daemon/runner.h"
#include "fmt/cfg.h"
#include "log/datadir.h"
#include "log/history.h"
#include "log/jlog.h"
#include "log/pipeline.h"
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

static int parse_int(const char *verb, const char *opt, const char *v, long long lo,
		     long long hi, long long *out)
{
	char *end;
	long long n;

	n = strtoll(v, &end, 10);
	if (!*v || *end || n < lo || n > hi) {
		port_log("%s: --%s wants a whole number from %lld to %lld, not '%s'", verb, opt,
			 lo, hi, v);
		return HF_EINVAL;
	}
	*out = n;
	return HF_OK;
}

static int parse_dur(const char *verb, const char *opt, const char *v, uint64_t *ms)
{
	if (units_parse_duration(v, ms) != HF_OK) {
		port_log("%s: --%s wants a duration such as 250ms, 30s, 5m, 2h or 1d, not '%s'",
			 verb, opt, v);
		return HF_EINVAL;
	}
	return HF_OK;
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

static void poke(const struct ctx *c)
{
	port_wake_send(c->dir);
}

/* Parses the arguments of a verb that takes only --help and --json. */
static int json_only_args(struct args *a, bool *json)
{
	static const struct args_opt opts[] = { { "help", 'h', false }, { "json", 0, false },
					       { NULL, 0, false } };
	const char *val;
	int r, idx;

	*json = false;
	while ((r = args_next(a, opts, &idx, &val)) != ARGS_END) {
		if (r < 0)
			return r;
		if (r == ARGS_POSITIONAL) {
			port_log("%s: unexpected argument '%s'", a->verb, val);
			return HF_EINVAL;
		}
		if (idx == 0)
			return ARGS_HELP;
		*json = true;
	}
	return HF_OK;
}

/* ---- submit ------------------------------------------------------------------ */

/* --remote-timeout VAL of VERB into *MS: a duration above zero. */
static int remote_timeout_arg(const char *verb, const char *val, uint64_t *ms)
{
	if (units_parse_duration(val, ms) || !*ms) {
		port_log("%s: --remote-timeout: '%s' is not a duration such as 30s", verb, val);
		return HF_EINVAL;
	}
	return HF_OK;
}

int cmd_submit(const struct args_global *g, struct args *a, FILE *out)
{
	enum { O_HELP, O_NAME, O_AFTER, O_RETRIES, O_BACKOFF, O_TIMEOUT, O_PRIORITY,
	       O_GROUP, O_KEY, O_ENV, O_CWD, O_NOT_BEFORE, O_JSON, O_WAIT_REMOTE, O_REMOTE_TIMEOUT,
	       O_USER, O_LIMIT_NOFILE, O_LIMIT_AS, O_LIMIT_CORE };
	static const struct args_opt opts[] = {
		{ "help", 'h', false }, { "name", 0, true }, { "after", 0, true },
		{ "retries", 0, true }, { "backoff", 0, true }, { "timeout", 0, true },
		{ "priority", 0, true }, { "group", 0, true }, { "key", 0, true },
		{ "env", 0, true }, { "cwd", 0, true }, { "not-before", 0, true },
		{ "json", 0, false }, { "wait-remote", 0, false }, { "remote-timeout", 0, true },
		{ "user", 0, true }, { "limit-nofile", 0, true }, { "limit-as", 0, true },
		{ "limit-core", 0, true }, { NULL, 0, false }
	};
	const char *after_refs[64];
	int nafter = 0, nenv = 0, r, idx;
	const char *val, *env[JLOG_ENV_MAX];
	char cwd[PATH_MAX];
	struct jlog_spec s;
	int64_t after_ids[64], id = 0;
	long long n;
	bool json = false, existed = false, wait_remote = false;
	uint64_t remote_timeout = 60000;
	size_t total = 0;
	struct ctx c;
	int rc;

	memset(&s, 0, sizeof(s));
	s.backoff_min_ms = 1000;
	s.backoff_max_ms = 300000;
	while ((r = args_next(a, opts, &idx, &val)) != ARGS_END) {
		if (r < 0)
			return r;
		if (r == ARGS_POSITIONAL) {
			/* The command starts here; the rest is its own. */
			a->i--;
			break;
		}
		switch (idx) {
		case O_HELP: return ARGS_HELP;
		case O_WAIT_REMOTE:
			wait_remote = true;
			break;
		case O_REMOTE_TIMEOUT:
			if ((rc = remote_timeout_arg("submit", val, &remote_timeout)) != HF_OK)
				return rc;
			break;
		case O_NAME:
			if (!names_valid(val)) {
				port_log("submit: bad --name '%s': letters, digits, '_', '-', '.', "
					 "not starting with a digit, at most %d", val, JLOG_NAME_MAX);
				return HF_EINVAL;
			}
			s.name = val;
			break;
		case O_AFTER:
			if (nafter == 64) {
				port_log("submit: at most 64 --after");
				return HF_EINVAL;
			}
			after_refs[nafter++] = val;
			break;
		case O_RETRIES:
			if (parse_int("submit", "retries", val, 0, 1000, &n))
				return HF_EINVAL;
			s.retries = n;
			break;
		case O_BACKOFF: {
			const char *dots = strstr(val, "..");
			char lo[32];
			if (!dots || (size_t)(dots - val) >= sizeof(lo)) {
				port_log("submit: --backoff wants MIN..MAX, e.g. 1s..5m, not '%s'", val);
				return HF_EINVAL;
			}
			memcpy(lo, val, (size_t)(dots - val));
			lo[dots - val] = '\0';
			if (parse_dur("submit", "backoff", lo, &s.backoff_min_ms) ||
			    parse_dur("submit", "backoff", dots + 2, &s.backoff_max_ms))
				return HF_EINVAL;
			if (s.backoff_min_ms > s.backoff_max_ms) {
				port_log("submit: --backoff %s: MIN is larger than MAX", val);
				return HF_EINVAL;
			}
			break;
		}
		case O_TIMEOUT:
			if (parse_dur("submit", "timeout", val, &s.timeout_ms))
				return HF_EINVAL;
			if (s.timeout_ms == 0) {
				port_log("submit: --timeout 0 would kill the job at once; omit it "
					 "for no timeout");
				return HF_EINVAL;
			}
			break;
		case O_PRIORITY:
			if (parse_int("submit", "priority", val, -1000, 1000, &n))
				return HF_EINVAL;
			s.priority = n;
			break;
		case O_GROUP:
			if (!names_valid(val)) {
				port_log("submit: bad --group '%s'", val);
				return HF_EINVAL;
			}
			s.group = val;
			break;
		case O_KEY:
			if (!*val || strlen(val) > 256 || !utf8_valid(val)) {
				port_log("submit: --key must be 1 to 256 bytes of UTF-8");
				return HF_EINVAL;
			}
			s.key = val;
			break;
		case O_ENV: {
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
			if (nenv == JLOG_ENV_MAX) {
				port_log("submit: at most %d --env", JLOG_ENV_MAX);
				return HF_EINVAL;
			}
			/* Twice in one environment, which one a program sees is up
			** to its getenv: refused, as a key twice in a pipeline's
			** "env" is. */
			for (int i = 0; i < nenv; i++)
				if (!strncmp(env[i], val, (size_t)(eq - val) + 1)) {
					port_log("submit: --env %.*s is given twice; keep one",
						 (int)(eq - val), val);
					return HF_EINVAL;
				}
			if (check_text("--env", nenv + 1, val, &total))
				return HF_EINVAL;
			env[nenv++] = val;
			break;
		}
		case O_CWD:
			s.cwd = val;
			break;
		case O_USER: {
			struct port_user u;
			/* Looked up here too, so a typo is refused before it is
			** stored; the daemon decides whether it may switch. */
			if (!*val || strlen(val) >= CFG_NAME_MAX || port_user_lookup(val, &u) != HF_OK) {
				port_log("submit: --user %s: no such user in the password database", val);
				return HF_EINVAL;
			}
			s.user = val;
			break;
		}
		case O_LIMIT_NOFILE:
		case O_LIMIT_AS:
		case O_LIMIT_CORE: {
			int w = idx - O_LIMIT_NOFILE;
			const char *why;
			uint64_t v;
			if (cfg_parse_limit(w, val, &v, &why) != HF_OK) {
				port_log("submit: --%s wants %s, not '%s'", opts[idx].name, why, val);
				return HF_EINVAL;
			}
			s.limit_set[w] = true;
			s.limit[w] = v == CFG_LIMIT_UNLIMITED ? -1 : (int64_t)v;
			break;
		}
		case O_NOT_BEFORE:
			if (parse_dur("submit", "not-before", val, &s.not_before_ms))
				return HF_EINVAL;
			break;
		case O_JSON:
			json = true;
			break;
		}
	}
	s.argc = a->argc - a->i;
	s.argv = a->argv + a->i;
	if (s.argc <= 0) {
		port_log("submit: no command given (holdfast submit [options] -- CMD ARGS...)");
		return HF_EINVAL;
	}
	if (s.argc > JLOG_ARGV_MAX) {
		port_log("submit: %d arguments; the limit is %d", s.argc, JLOG_ARGV_MAX);
		return HF_EINVAL;
	}
	if (!*s.argv[0]) {
		port_log("submit: the command is an empty string");
		return HF_EINVAL;
	}
	for (int i = 0; i < s.argc; i++)
		if (check_text("argument", i + 1, s.argv[i], &total))
			return HF_EINVAL;
	/* The job runs where it was submitted from, unless told otherwise. */
	if (!s.cwd) {
		if (port_cwd(cwd, sizeof(cwd)) != HF_OK) {
			port_log("submit: cannot tell the current directory; give --cwd");
			return HF_EINVAL;
		}
		s.cwd = cwd;
	} else {
		enum port_fs_kind kind;
		if (s.cwd[0] != '/') {
			port_log("submit: --cwd must be an absolute path, not '%s'", s.cwd);
			return HF_EINVAL;
		}
		if (port_fs_kind(s.cwd, &kind) != HF_OK || kind != PORT_FS_DIR) {
			port_log("submit: --cwd %s is not a directory", s.cwd);
			return HF_EINVAL;
		}
	}
	if (check_text("--cwd", 1, s.cwd, &total))
		return HF_EINVAL;
	if (total > JLOG_SPEC_BYTES) {
		port_log("submit: command, environment and directory come to %zu bytes; the "
			 "limit is %d", total, JLOG_SPEC_BYTES);
		return HF_EINVAL;
	}
	s.env = (char *const *)env;
	s.nenv = nenv;

	if ((rc = ctx_open(g, &c)) != HF_OK)
		return rc;
	if ((rc = ctx_begin(&c)) != HF_OK)
		goto out;
	for (int i = 0; i < nafter; i++) {
		if ((rc = jlog_job_resolve(&c.j, after_refs[i], &after_ids[i])) != HF_OK) {
			rc = rc == HF_ENOENT ? HF_EINVAL : rc;
			goto out_rollback;
		}
	}
	s.after = after_ids;
	s.nafter = nafter;
	if ((rc = ctx_boot(&c)) != HF_OK)
		goto out_rollback;
	if ((rc = jlog_job_add(&c.j, &s, &c.now, &id, &existed)) != HF_OK)
		goto out_rollback;
	if ((rc = jlog_commit(&c.j)) != HF_OK)
		goto out;
	poke(&c);
	/* Durable here; with --wait-remote printed only once the replica has
	** it too. */
	if (wait_remote && (rc = cmd_wait_remote(g, remote_timeout)) != HF_OK) {
		port_log("submit: job %lld is queued here, but the replica does not hold it yet",
			 (long long)id);
		goto out;
	}
	/* Durable now; only now may the id be printed. */
	if (json)
		fprintf(out, "{\"id\":%lld,\"existed\":%s}\n", (long long)id,
			existed ? "true" : "false");
	else
		fprintf(out, "%lld\n", (long long)id);
	if (existed)
		port_log("submit: key '%s' is job %lld already; nothing new was queued", s.key,
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

/* ---- ls ------------------------------------------------------------------------ */

struct print {
	FILE *out;
	struct jlog *j;
	bool json;
	int count;
	const char *dir;
	int daemon;                /* 0: not asked yet, 1: running, -1: not running */
	const struct jlog_now *now;  /* for times shown relative to now */
};

/* Said of a job left running by a daemon that is gone (kill -9, crash, a
** power cut not yet followed by a start). */
#define INTERRUPTED_WHY "daemon not running: its next start recovers the job"

/*
** A job stored as running while no daemon runs is not running: nothing
** watches it or will record its end, and the next daemon start ends its
** attempt (daemon-crash or power-loss). Said so, rather than a new stored
** state: the recovery that follows is the daemon's to record.
*/
static bool interrupted(struct print *p, const char *state)
{
	if (strcmp(state, "running"))
		return false;
	if (!p->daemon)
		p->daemon = port_wake_probe(p->dir) == HF_OK ? 1 : -1;
	return p->daemon < 0;
}

/* A job's JSON object with "interrupted" (see interrupted()) added. */
static void print_job_json(struct print *p, const struct jlog_job *job)
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

/* A recorded time for people, in BUF of WHEN_LEN bytes (see units_format_when). */
#define WHEN_LEN 48
static const char *fmt_when(const struct jlog_now *now, int64_t utc_ms, int64_t boot,
			    uint64_t mono_ms, char *buf)
{
	units_format_when(utc_ms, boot, mono_ms, now->boot, now->mono_ms, buf, WHEN_LEN);
	return buf;
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
	struct print *p = arg;
	char t[WHEN_LEN];

	if (p->json) {
		fputs(p->count ? "," : "", p->out);
		print_job_json(p, job);
	} else {
		bool cut = interrupted(p, job->state);

		fmt_when(p->now, job->submit_utc_ms, job->submit_boot, job->submit_mono_ms, t);
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
					      "dead", "cancelled", "quarantined" };
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
	struct print p = { out, NULL, false, 0, NULL, 0, NULL };
	struct ctx c;
	int r, idx, rc;

	while ((r = args_next(a, opts, &idx, &val)) != ARGS_END) {
		if (r < 0)
			return r;
		if (r == ARGS_POSITIONAL) {
			port_log("ls: unexpected argument '%s'", val);
			return HF_EINVAL;
		}
		if (idx == O_HELP)
			return ARGS_HELP;
		if (idx == O_STATE) {
			if (!valid_state(val)) {
				port_log("ls: unknown state '%s' (queued, running, succeeded, failed, "
					 "dead, cancelled, quarantined)", val);
				return HF_EINVAL;
			}
			state = val;
		} else if (idx == O_LIMIT) {
			if (parse_int("ls", "limit", val, 0, 1000000000, &limit))
				return HF_EINVAL;
		} else {
			p.json = true;
		}
	}
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

static int parse_job_arg(const char *verb, struct args *a, const struct args_opt *opts,
			 const char **ref, int (*opt_cb)(int idx, const char *val, void *arg),
			 void *arg)
{
	const char *val;
	int r, idx;

	*ref = NULL;
	while ((r = args_next(a, opts, &idx, &val)) != ARGS_END) {
		if (r < 0)
			return r;
		if (r == ARGS_OPTION) {
			if (idx == 0)
				return ARGS_HELP;
			if ((r = opt_cb(idx, val, arg)) != HF_OK)
				return r;
			continue;
		}
		if (*ref) {
			port_log("%s: one job at a time ('%s' is extra)", verb, val);
			return HF_EINVAL;
		}
		*ref = val;
	}
	if (!*ref) {
		port_log("%s: which job? give its id or name", verb);
		return HF_EINVAL;
	}
	return HF_OK;
}

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
	struct print *p = arg;
	char dur[32] = "", t[WHEN_LEN];

	if (p->json) {
		fprintf(p->out, "%s%s", p->count++ ? "," : "", at->json);
		return 0;
	}
	if (at->end_reason && at->duration_ms >= 0)
		units_format_duration((uint64_t)at->duration_ms, dur, sizeof(dur));
	fprintf(p->out, "  attempt %lld: pid %lld, boot %lld, started %s, ", (long long)at->n,
		(long long)at->pid, (long long)at->boot,
		fmt_when(p->now, at->start_utc_ms, at->boot, at->start_mono_ms, t));
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
			fmt_when(p->now, at->end_utc_ms, at->end_boot, at->end_mono_ms, t));
	fprintf(p->out, ", %lld bytes of output%s\n", (long long)at->out_bytes,
		at->out_truncated ? " (truncated)" : "");
	return 0;
}

int cmd_show(const struct args_global *g, struct args *a, FILE *out)
{
	static const struct args_opt opts[] = { { "help", 'h', false }, { "json", 0, false },
					       { NULL, 0, false } };
	struct print p = { out, NULL, false, 0, NULL, 0, NULL };
	struct jlog_job job;
	const char *ref;
	int64_t id;
	struct ctx c;
	char dur[32], t[WHEN_LEN];
	int rc;

	if ((rc = parse_job_arg("show", a, opts, &ref, json_flag, &p.json)) != HF_OK)
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
	fprintf(out, "  submitted %s", fmt_when(&c.now, job.submit_utc_ms, job.submit_boot,
						job.submit_mono_ms, t));
	if (job.end_boot)
		fprintf(out, ", ended %s", fmt_when(&c.now, job.end_utc_ms, job.end_boot,
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
	rc = jlog_attempts_list(&c.j, id, print_attempt, &p);
out:
	ctx_close(&c);
	return rc;
}

/* ---- logs ----------------------------------------------------------------------- */

struct logs_opts {
	long long attempt;
	bool follow;
};

static int logs_opt(int idx, const char *val, void *arg)
{
	struct logs_opts *o = arg;

	if (idx == 1)
		return parse_int("logs", "attempt", val, 1, 1000000, &o->attempt);
	o->follow = true;
	return HF_OK;
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
					       { "follow", 'f', false }, { NULL, 0, false } };
	struct logs_opts o = { 0, false };
	struct last_attempt last = { 0, false };
	const char *ref;
	int64_t id, seq = 0;
	struct ctx c;
	int rc;

	if ((rc = parse_job_arg("logs", a, opts, &ref, logs_opt, &o)) != HF_OK)
		return rc;
	if ((rc = ctx_open(g, &c)) != HF_OK)
		return rc;
	if ((rc = jlog_job_resolve(&c.j, ref, &id)) != HF_OK) {
		rc = rc == HF_ENOENT ? HF_EINVAL : rc;
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

static int no_opts(int idx, const char *val, void *arg)
{
	(void)idx;
	(void)val;
	(void)arg;
	return HF_OK;
}

/* cancel and retry: one job reference, one transaction, a poke. */
static int job_action(const struct args_global *g, struct args *a, FILE *out, bool retry)
{
	static const struct args_opt opts[] = { { "help", 'h', false }, { NULL, 0, false } };
	const char *ref;
	int64_t id;
	bool later = false;
	struct ctx c;
	int rc;

	if ((rc = parse_job_arg(a->verb, a, opts, &ref, no_opts, NULL)) != HF_OK)
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
		poke(&c);
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

/* ---- prune ---------------------------------------------------------------------------- */

/* With no daemon running, `prune` checkpoints the WAL itself (sealed into
** the spool first when a replica is set), so what it vacuumed goes back to
** the file system now. */
static int prune_checkpoint(void *arg)
{
	ctx_checkpoint_now(arg);
	return HF_OK;
}

int cmd_prune(const struct args_global *g, struct args *a, FILE *out)
{
	enum { O_HELP, O_DRY, O_OLDER, O_KEEP, O_JSON };
	static const struct args_opt opts[] = { { "help", 'h', false }, { "dry-run", 0, false },
					       { "older-than", 0, true }, { "keep", 0, true },
					       { "json", 0, false }, { NULL, 0, false } };
	bool seen[5] = { false }, daemon;
	const char *val;
	uint64_t older = 0;
	long long keep = 0;
	char conf[PATH_MAX + 32], data[32], budget[32], outb[32];
	struct hist_pass hp;
	struct jlog_history hs;
	struct hist h;
	struct cfg cfg;
	struct ctx c;
	int r, idx, rc;

	while ((r = args_next(a, opts, &idx, &val)) != ARGS_END) {
		if (r < 0)
			return r;
		if (r == ARGS_POSITIONAL) {
			port_log("prune: unexpected argument '%s'", val);
			return HF_EINVAL;
		}
		if (idx == O_HELP)
			return ARGS_HELP;
		/* Two values for one limit: which one was meant is a guess. */
		if (seen[idx]) {
			port_log("prune: --%s given twice; give it once", opts[idx].name);
			return HF_EINVAL;
		}
		seen[idx] = true;
		if (idx == O_OLDER && (rc = parse_dur("prune", "older-than", val, &older)) != HF_OK)
			return rc;
		if (idx == O_KEEP &&
		    (rc = parse_int("prune", "keep", val, 0, 1000000000, &keep)) != HF_OK)
			return rc;
	}
	/* The config first: a bad one is an error before the log is opened. */
	if ((rc = dd_resolve(g->data, c.dir, sizeof(c.dir), &daemon)) != HF_OK ||
	    (rc = dd_conf_path(g->config, c.dir, conf, sizeof(conf), &daemon)) != HF_OK)
		return rc;
	if ((rc = cfg_load(&cfg, conf)) != HF_OK)
		return rc;
	if ((rc = ctx_open(g, &c)) != HF_OK) {
		cfg_wipe(&cfg);
		return rc;
	}
	daemon = port_wake_probe(c.dir) == HF_OK;
	/* While the daemon runs it owns the checkpoints, and with them the
	** budget: it is poked at the end. */
	if ((rc = hist_init(&h, &cfg, c.dir, daemon ? NULL : prune_checkpoint, &c)) != HF_OK)
		goto out;
	cfg_wipe(&cfg);
	/* The flags mean what they say: --older-than 0 is every age, --keep 0
	** keeps none (in holdfast.conf, 0 turns a limit off). */
	if (seen[O_OLDER])
		h.lim.keep_ms = h.lim.keep_failed_ms = older ? older : 1;
	if (seen[O_KEEP])
		h.lim.keep_jobs = keep;
	if (!seen[O_DRY])
		ctx_bound_wal(&c);
	if ((rc = ctx_boot(&c)) != HF_OK ||
	    (rc = hist_run(&h, &c.j, &c.now, seen[O_DRY], NULL, &hp)) != HF_OK ||
	    (rc = jlog_history_get(&c.j, &hs)) != HF_OK)
		goto out;
	if (!seen[O_DRY] && hp.pruned.jobs && daemon)
		poke(&c);
	if (seen[O_JSON]) {
		fprintf(out,
			"{\"dry_run\":%s,\"jobs\":%lld,\"runs\":%lld,\"attempts\":%lld,"
			"\"output_chunks\":%lld,\"output_bytes\":%lld,\"budget_jobs\":%lld,"
			"\"finished_kept\":%lld,\"data_bytes\":%llu,\"max_bytes\":%llu,"
			"\"over_budget\":%s}\n",
			seen[O_DRY] ? "true" : "false", (long long)hp.pruned.jobs,
			(long long)hp.pruned.runs, (long long)hp.pruned.attempts,
			(long long)hp.pruned.output_chunks, (long long)hp.pruned.output_bytes,
			(long long)hp.extra, (long long)hs.finished,
			(unsigned long long)hp.data_bytes, (unsigned long long)h.max_bytes,
			hp.over_budget ? "true" : "false");
		goto out;
	}
	units_format_size((uint64_t)hp.pruned.output_bytes, outb, sizeof(outb));
	units_format_size(hp.data_bytes, data, sizeof(data));
	units_format_size(h.max_bytes, budget, sizeof(budget));
	fprintf(out, "%s %lld finished job(s) (%lld run(s), %lld attempt(s), %s of output)",
		seen[O_DRY] ? "would prune" : "pruned", (long long)hp.pruned.jobs,
		(long long)hp.pruned.runs, (long long)hp.pruned.attempts, outb);
	if (hp.extra)
		fprintf(out, ", %lld of them past the limits for the disk budget",
			(long long)hp.extra);
	fprintf(out, "; %lld finished job(s) %s\n",
		(long long)(seen[O_DRY] ? hs.finished - hp.pruned.jobs : hs.finished),
		seen[O_DRY] ? "would stay" : "kept");
	fprintf(out, "data directory: %s of its %s budget%s\n", data, budget,
		!hp.over_budget ? "" :
		seen[O_DRY] || daemon ? " (over it: the oldest finished jobs go, whatever their "
					"age, down to the 20 newest)" :
					" (still over it: the 20 newest finished jobs are kept)");
out:
	ctx_close(&c);
	return rc;
}

/* ---- status --------------------------------------------------------------------------- */

/* The history part of status: what is kept, the budget, the last prune. */
struct hist_status {
	struct jlog_history h;
	uint64_t data_bytes, max_bytes;
	bool have_budget, max_auto;
	int64_t age_ms;            /* of the last prune; < 0: unknown */
};

static int hist_status_get(struct ctx *c, struct hist_status *hs)
{
	struct cfg cfg;
	uint64_t fs = 0;
	int rc;

	memset(hs, 0, sizeof(*hs));
	hs->age_ms = -1;
	if ((rc = jlog_history_get(&c->j, &hs->h)) != HF_OK)
		return rc;
	/* A config with an error still leaves status useful (it was said). */
	if (cfg_load(&cfg, c->conf) == HF_OK && port_fs_usage(c->dir, &hs->data_bytes) == HF_OK &&
	    (cfg.history_max_bytes || port_fs_total_size(c->dir, &fs) == HF_OK)) {
		hs->max_bytes = cfg_max_bytes(&cfg, fs);
		hs->max_auto = !cfg.history_max_bytes;
		hs->have_budget = true;
	}
	cfg_wipe(&cfg);
	/* An age needs one clock: the wall clock trusted then and now, or the
	** monotonic one within this boot. */
	if (hs->h.last_boot && hs->h.last_utc_ms > 0 && c->now.utc_ms >= hs->h.last_utc_ms)
		hs->age_ms = c->now.utc_ms - hs->h.last_utc_ms;
	else if (hs->h.last_boot && hs->h.last_boot == c->now.boot &&
		 c->now.mono_ms >= hs->h.last_mono_ms)
		hs->age_ms = (int64_t)(c->now.mono_ms - hs->h.last_mono_ms);
	return HF_OK;
}

static void hist_status_json(FILE *out, const struct hist_status *hs)
{
	fprintf(out, ",\"history\":{\"finished\":%lld,\"log_bytes\":%lld,\"free_bytes\":%lld,",
		(long long)hs->h.finished, (long long)hs->h.db_bytes, (long long)hs->h.free_bytes);
	if (hs->have_budget)
		fprintf(out, "\"data_bytes\":%llu,\"max_bytes\":%llu,\"max_bytes_auto\":%s,",
			(unsigned long long)hs->data_bytes, (unsigned long long)hs->max_bytes,
			hs->max_auto ? "true" : "false");
	else
		fprintf(out, "\"data_bytes\":null,\"max_bytes\":null,\"max_bytes_auto\":null,");
	fprintf(out, "\"pruned_total\":%lld,\"last_prune\":", (long long)hs->h.total_jobs);
	if (!hs->h.last_boot) {
		fprintf(out, "null}");
		return;
	}
	fprintf(out, "{\"boot\":%lld,\"mono_ms\":%llu,\"utc_ms\":", (long long)hs->h.last_boot,
		(unsigned long long)hs->h.last_mono_ms);
	if (hs->h.last_utc_ms > 0)
		fprintf(out, "%lld", (long long)hs->h.last_utc_ms);
	else
		fprintf(out, "null");
	fprintf(out, ",\"age_ms\":");
	if (hs->age_ms >= 0)
		fprintf(out, "%lld", (long long)hs->age_ms);
	else
		fprintf(out, "null");
	fprintf(out, ",\"jobs\":%lld}}", (long long)hs->h.last_jobs);
}

static void hist_status_text(FILE *out, const struct ctx *c, const struct hist_status *hs)
{
	char a[32], b[32], when[64];

	units_format_size((uint64_t)hs->h.db_bytes, a, sizeof(a));
	units_format_size((uint64_t)hs->h.free_bytes, b, sizeof(b));
	fprintf(out, "history: %lld finished job(s) kept; job log %s (%s free)\n",
		(long long)hs->h.finished, a, b);
	if (hs->have_budget) {
		units_format_size(hs->data_bytes, a, sizeof(a));
		units_format_size(hs->max_bytes, b, sizeof(b));
		fprintf(out, "disk budget: %s of %s used (%.0f%%; log, WAL and spool)%s\n", a, b,
			hs->max_bytes ? 100.0 * (double)hs->data_bytes / (double)hs->max_bytes : 0.0,
			hs->max_auto ? ", auto: 10% of the file system, at most 4GiB" : "");
	}
	if (!hs->h.last_boot) {
		fprintf(out, "last prune: never\n");
		return;
	}
	if (hs->h.last_utc_ms > 0) {
		units_format_utc(hs->h.last_utc_ms, false, when, sizeof(when));
	} else if (hs->age_ms >= 0) {
		char d[32];
		units_format_approx((uint64_t)hs->age_ms, d, sizeof(d));
		snprintf(when, sizeof(when), "%s ago", d);
	} else {
		char d[32];
		units_format_approx(hs->h.last_mono_ms, d, sizeof(d));
		snprintf(when, sizeof(when), "boot %lld +%s (no trusted clock then)",
			 (long long)hs->h.last_boot, d);
	}
	(void)c;
	fprintf(out, "last prune: %s; the last that removed any removed %lld job(s), %lld in all\n",
		when, (long long)hs->h.last_jobs, (long long)hs->h.total_jobs);
}

/* The disk's state as the daemon sees it, in status's words. */
static void print_disk(FILE *out, const struct ctx *c, int asked, const struct diskfull_state *d)
{
	char when[WHEN_LEN], dur[32];

	if (asked != HF_OK) {
		fprintf(out, "disk: unknown (the daemon did not answer)\n");
		return;
	}
	if (!d->full) {
		fprintf(out, "disk: ok\n");
		return;
	}
	units_format_duration(d->for_ms, dur, sizeof(dur));
	fprintf(out, "disk: FULL since %s (%s): the disk holding %s has no room; nothing new "
		"starts, %lld job end(s) wait in memory, %lld old job(s) pruned to make room; "
		"trying again every %d s\n",
		fmt_when(&c->now, d->since_utc_ms, c->now.boot, c->now.mono_ms - d->for_ms, when),
		dur, c->dir, (long long)d->ends_waiting, (long long)d->pruned,
		DISKFULL_RETRY_MS / 1000);
}

static void print_disk_json(FILE *out, int asked, const struct diskfull_state *d)
{
	if (asked != HF_OK)
		fprintf(out, "null");
	else if (!d->full)
		fprintf(out, "{\"full\":false}");
	else if (d->since_utc_ms >= 0)
		fprintf(out, "{\"full\":true,\"since_utc_ms\":%lld,\"for_ms\":%llu,"
			"\"ends_waiting\":%lld,\"pruned\":%lld}", (long long)d->since_utc_ms,
			(unsigned long long)d->for_ms, (long long)d->ends_waiting,
			(long long)d->pruned);
	else
		fprintf(out, "{\"full\":true,\"since_utc_ms\":null,\"for_ms\":%llu,"
			"\"ends_waiting\":%lld,\"pruned\":%lld}", (unsigned long long)d->for_ms,
			(long long)d->ends_waiting, (long long)d->pruned);
}

int cmd_status(const struct args_global *g, struct args *a, FILE *out)
{
	struct hist_status hs;
	struct jlog_counts k;
	struct diskfull_state disk;
	char reply[512];
	bool json, alive;
	int64_t age = -1, cut;
	struct ctx c;
	int rc, asked;

	if ((rc = json_only_args(a, &json)) != HF_OK)
		return rc;
	if ((rc = ctx_open(g, &c)) != HF_OK)
		return rc;
	if ((rc = jlog_counts(&c.j, &k)) != HF_OK || (rc = hist_status_get(&c, &hs)) != HF_OK)
		goto out;
	/* Asking the daemon also tells whether one runs: HF_EBUSY is one that
	** did not answer in time. Only it knows whether the disk is full. */
	asked = port_wake_ask(c.dir, "?state", reply, sizeof(reply), 1000);
	alive = asked == HF_OK || asked == HF_EBUSY;
	if (asked == HF_OK && diskfull_parse(reply, &disk) != HF_OK)
		asked = HF_EPROTO;
	/* Ages need one clock: only within this boot can we say. (Boot 0: no
	** queued job; a fresh log has no boot recorded either.) */
	if (k.oldest_queued_boot > 0 && k.oldest_queued_boot == c.now.boot &&
	    c.now.mono_ms >= k.oldest_queued_mono_ms)
		age = (int64_t)(c.now.mono_ms - k.oldest_queued_mono_ms);
	/* Stored as running with no daemon: see interrupted(). */
	cut = alive ? 0 : k.running;
	if (json) {
		fprintf(out,
			"{\"data\":\"%s\",\"daemon\":%s,\"clock_trusted\":%s,\"jobs\":{"
			"\"queued\":%lld,\"running\":%lld,\"succeeded\":%lld,\"failed\":%lld,"
			"\"dead\":%lld,\"cancelled\":%lld,\"quarantined\":%lld,"
			"\"interrupted\":%lld},\"oldest_queued_age_ms\":",
			c.dir, alive ? "true" : "false", c.trusted ? "true" : "false",
			(long long)k.queued, (long long)k.running, (long long)k.succeeded,
			(long long)k.failed, (long long)k.dead, (long long)k.cancelled,
			(long long)k.quarantined, (long long)cut);
		if (age >= 0)
			fprintf(out, "%lld", (long long)age);
		else
			fprintf(out, "null");
		hist_status_json(out, &hs);
		fprintf(out, ",\"disk\":");
		print_disk_json(out, asked, &disk);
		fprintf(out, "}\n");
		goto out;
	}
	fprintf(out, "data directory: %s\n", c.dir);
	fprintf(out, "daemon: %s\n", alive ? "running" : "not running");
	if (alive)
		print_disk(out, &c, asked, &disk);
	fprintf(out, "wall clock: %s\n", c.trusted ? "trusted (synchronised)" :
		"untrusted (not synchronised, or before this build): calendar schedules wait");
	fprintf(out, "jobs: %lld queued, %lld running, ", (long long)k.queued,
		(long long)(k.running - cut));
	if (cut)
		fprintf(out, "%lld interrupted (the daemon is not running; its next start recovers "
			"them), ", (long long)cut);
	fprintf(out, "%lld succeeded, %lld failed (retry pending), %lld dead, %lld cancelled, "
		"%lld quarantined\n", (long long)k.succeeded, (long long)k.failed,
		(long long)k.dead, (long long)k.cancelled, (long long)k.quarantined);
	if (age >= 0) {
		char d[32];
		units_format_duration((uint64_t)age, d, sizeof(d));
		fprintf(out, "oldest queued job: waiting %s\n", d);
	} else if (k.oldest_queued_boot > 0) {
		fprintf(out, "oldest queued job: submitted before the last reboot\n");
	}
	hist_status_text(out, &c, &hs);
out:
	ctx_close(&c);
	return rc;
}

/* ---- run ------------------------------------------------------------------------------- */

int cmd_run(const struct args_global *g, struct args *a, FILE *out)
{
	static const struct args_opt opts[] = { { "help", 'h', false },
					       { "until-idle", 0, false },
					       { "allow-volatile", 0, false },
					       { "pidfile", 0, true },
					       { "syslog", 0, false },
					       { NULL, 0, false } };
	struct runner_opts o = { NULL, NULL, false, false, NULL };
	const char *val, *bench;
	char dir[PATH_MAX], conf[PATH_MAX + 32];
	bool def, allow_volatile = false, use_syslog = false;
	int r, idx, rc;

	(void)out;
	while ((r = args_next(a, opts, &idx, &val)) != ARGS_END) {
		if (r < 0)
			return r;
		if (r == ARGS_POSITIONAL) {
			port_log("run: unexpected argument '%s'", val);
			return HF_EINVAL;
		}
		if (idx == 0)
			return ARGS_HELP;
		if (idx == 1)
			o.exit_when_idle = true;
		else if (idx == 2)
			allow_volatile = true;
		else if (idx == 3 && !val[0]) {
			port_log("run: --pidfile needs a file name");
			return HF_EINVAL;
		} else if (idx == 3)
			o.pidfile = val;
		else
			use_syslog = true;
	}
	/* A daemon runs unattended for months: one failure repeated every
	** second must not bury the rest of its log, nor fill the disk. */
	port_log_ratelimit(RUN_LOG_BURST, RUN_LOG_INTERVAL_MS);
	if (use_syslog)
		port_log_syslog(); /* stderr (said) if no one listens */
	if ((rc = dd_resolve(g->data, dir, sizeof(dir), &def)) != HF_OK ||
	    (rc = dd_check_links(dir)) != HF_OK ||
	    (rc = dd_check_storage(dir, allow_volatile)) != HF_OK ||
	    (rc = dd_conf_path(g->config, dir, conf, sizeof(conf), &def)) != HF_OK)
		return rc;
	o.dir = dir;
	o.conf = conf;
	/* Bench only (tools/bench/jobs): measure what group commit saves. */
	bench = getenv("HOLDFAST_BENCH_NO_GROUP_COMMIT");
	o.no_group_commit = bench && !strcmp(bench, "1");
	return runner_run(&o);
}

/* ---- pipeline ------------------------------------------------------------------------ */

static int pipeline_add(const struct args_global *g, struct args *a, FILE *out)
{
	static const struct args_opt opts[] = { { "help", 'h', false }, { NULL, 0, false } };
	const char *file = NULL, *val;
	char *text = NULL;
	size_t len;
	struct pl p;
	struct ctx c;
	int r, idx, rc;

	while ((r = args_next(a, opts, &idx, &val)) != ARGS_END) {
		if (r < 0)
			return r;
		if (r == ARGS_OPTION)
			return ARGS_HELP;
		if (file) {
			port_log("pipeline add: one file at a time ('%s' is extra)", val);
			return HF_EINVAL;
		}
		file = val;
	}
	if (!file) {
		port_log("pipeline add: which file? (holdfast pipeline add FILE.json)");
		return HF_EINVAL;
	}
	if ((rc = port_fs_read_file(file, PL_MAX_BYTES, &text, &len)) != HF_OK) {
		if (rc == HF_ENOENT)
			port_log("pipeline add: %s does not exist", file);
		return rc == HF_ENOENT || rc == HF_ETOOBIG ? HF_EINVAL : rc;
	}
	if ((rc = pl_check_bytes(text, len, file)) != HF_OK) {
		free(text);
		return rc;
	}
	if ((rc = ctx_open(g, &c)) != HF_OK) {
		free(text);
		return rc;
	}
	/* Everything is checked, parameters included, before anything is stored. */
	if ((rc = pl_parse(&c.j, text, file, &p)) != HF_OK)
		goto out;
	if ((rc = pl_apply_params(&p, NULL, 0)) != HF_OK)
		goto out_free;
	if ((rc = ctx_begin(&c)) != HF_OK)
		goto out_free;
	rc = jlog_pipeline_put(&c.j, p.name, text,
			       p.sched == PL_SCHED_EVERY ? "every" :
			       p.sched == PL_SCHED_CRON ? "cron" : NULL,
			       p.sched_text, p.every_ms, c.now.utc_ms);
	if (rc == HF_OK)
		rc = jlog_commit(&c.j);
	else
		jlog_rollback(&c.j);
	if (rc == HF_OK) {
		fprintf(out, "pipeline %s: %d job%s%s%s\n", p.name, p.njobs, p.njobs == 1 ? "" : "s",
			p.sched ? ", schedule " : "", p.sched ? p.sched_text : "");
		poke(&c);
	}
	if (rc == HF_ENOSPC)
		ctx_say_full(&c, "pipeline add", "the pipeline was not stored");
out_free:
	pl_free(&p);
out:
	free(text);
	ctx_close(&c);
	return rc;
}

static int pipeline_run(const struct args_global *g, struct args *a, FILE *out)
{
	static const struct args_opt opts[] = {
		{ "help", 'h', false },	       { "param", 0, true },	      { "json", 0, false },
		{ "wait-remote", 0, false }, { "remote-timeout", 0, true }, { NULL, 0, false }
	};
	char *params[PL_MAX_PARAMS], *text = NULL;
	const char *name = NULL, *val;
	int nparams = 0, r, idx, rc;
	bool json = false, wait_remote = false;
	uint64_t remote_timeout = 60000;
	int64_t run = 0;
	struct pl p;
	struct ctx c;

	while ((r = args_next(a, opts, &idx, &val)) != ARGS_END) {
		if (r < 0)
			return r;
		if (r == ARGS_POSITIONAL) {
			if (name) {
				port_log("pipeline run: one pipeline at a time ('%s' is extra)", val);
				return HF_EINVAL;
			}
			name = val;
		} else if (idx == 0) {
			return ARGS_HELP;
		} else if (idx == 1) {
			if (nparams == PL_MAX_PARAMS || !strchr(val, '=')) {
				port_log("pipeline run: --param wants NAME=VALUE (at most %d), not '%s'",
					 PL_MAX_PARAMS, val);
				return HF_EINVAL;
			}
			params[nparams++] = (char *)val;
		} else if (idx == 2) {
			json = true;
		} else if (idx == 3) {
			wait_remote = true;
		} else if ((rc = remote_timeout_arg("pipeline run", val, &remote_timeout)) != HF_OK) {
			return rc;
		}
	}
	if (!name) {
		port_log("pipeline run: which pipeline? (holdfast pipeline run NAME)");
		return HF_EINVAL;
	}
	if ((rc = ctx_open(g, &c)) != HF_OK)
		return rc;
	if ((rc = jlog_pipeline_spec(&c.j, name, &text)) != HF_OK) {
		rc = rc == HF_ENOENT ? HF_EINVAL : rc;
		goto out;
	}
	if ((rc = pl_parse(&c.j, text, name, &p)) != HF_OK)
		goto out;
	if ((rc = pl_apply_params(&p, params, nparams)) != HF_OK)
		goto out_free;
	if ((rc = ctx_begin(&c)) != HF_OK)
		goto out_free;
	if ((rc = ctx_boot(&c)) != HF_OK ||
	    (rc = pl_instantiate(&c.j, &p, "manual", &c.now, &run)) != HF_OK) {
		jlog_rollback(&c.j);
		if (rc == HF_ENOSPC)
			ctx_say_full(&c, "pipeline run", "the run was not queued");
		goto out_free;
	}
	if ((rc = jlog_commit(&c.j)) != HF_OK) {
		if (rc == HF_ENOSPC)
			ctx_say_full(&c, "pipeline run", "the run was not queued");
		goto out_free;
	}
	poke(&c);
	/* A job that asks for it (or --wait-remote): the run is printed only
	** once the replica holds the commit that queued it. */
	for (int i = 0; i < p.njobs; i++)
		wait_remote |= p.jobs[i].wait_remote;
	if (wait_remote && (rc = cmd_wait_remote(g, remote_timeout)) != HF_OK) {
		port_log("pipeline run: run %lld of %s is queued here, but the replica does not "
			 "hold it yet", (long long)run, p.name);
		goto out_free;
	}
	if (json)
		fprintf(out, "{\"run\":%lld,\"jobs\":%d}\n", (long long)run, p.njobs);
	else
		fprintf(out, "pipeline %s: run %lld queued (%d job%s)%s\n", p.name, (long long)run,
			p.njobs, p.njobs == 1 ? "" : "s", wait_remote ? ", and in the replica" : "");
out_free:
	pl_free(&p);
out:
	free(text);
	ctx_close(&c);
	return rc;
}

static int print_pipeline(const struct jlog_pipeline *pp, void *arg)
{
	struct print *p = arg;

	if (p->json)
		fprintf(p->out, "%s%s", p->count ? "," : "", pp->json);
	else
		fprintf(p->out, "%-24s %-6s %-20s %6lld\n", pp->name, pp->kind ? pp->kind : "-",
			pp->sched ? pp->sched : "-", (long long)pp->runs);
	p->count++;
	return 0;
}

static int pipeline_ls(const struct args_global *g, struct args *a, FILE *out)
{
	struct print p = { out, NULL, false, 0, NULL, 0, NULL };
	struct ctx c;
	int rc;

	if ((rc = json_only_args(a, &p.json)) != HF_OK)
		return rc;
	if ((rc = ctx_open(g, &c)) != HF_OK)
		return rc;
	if (p.json)
		fputc('[', out);
	else
		fprintf(out, "%-24s %-6s %-20s %6s\n", "NAME", "SCHED", "EVERY/CRON", "RUNS");
	rc = jlog_pipelines_list(&c.j, false, print_pipeline, &p);
	if (p.json)
		fputs("]\n", out);
	ctx_close(&c);
	return rc;
}

static int pipeline_show(const struct args_global *g, struct args *a, FILE *out)
{
	static const struct args_opt opts[] = { { "help", 'h', false }, { NULL, 0, false } };
	const char *name;
	char *text = NULL;
	struct ctx c;
	int rc;

	if ((rc = parse_job_arg("pipeline show", a, opts, &name, no_opts, NULL)) != HF_OK)
		return rc;
	if ((rc = ctx_open(g, &c)) != HF_OK)
		return rc;
	if ((rc = jlog_pipeline_spec(&c.j, name, &text)) == HF_OK) {
		fputs(text, out);
		if (*text && text[strlen(text) - 1] != '\n')
			fputc('\n', out);
	}
	free(text);
	ctx_close(&c);
	return rc == HF_ENOENT ? HF_EINVAL : rc;
}

int cmd_pipeline(const struct args_global *g, struct args *a, FILE *out)
{
	static const struct {
		const char *name;
		int (*fn)(const struct args_global *, struct args *, FILE *);
	} subs[] = { { "add", pipeline_add }, { "run", pipeline_run }, { "ls", pipeline_ls },
		     { "show", pipeline_show } };
	const char *sub;

	if (a->i >= a->argc) {
		port_log("pipeline: which? add FILE | run NAME | ls | show NAME");
		return HF_EINVAL;
	}
	sub = a->argv[a->i++];
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help"))
		return ARGS_HELP;
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (!strcmp(sub, subs[i].name)) {
			char verb[32];
			snprintf(verb, sizeof(verb), "pipeline %s", sub);
			a->verb = verb;
			int rc = subs[i].fn(g, a, out);
			a->verb = "pipeline";
			return rc;
		}
	}
	port_log("pipeline: unknown subcommand '%s' (add, run, ls, show)", sub);
	return HF_EINVAL;
}
