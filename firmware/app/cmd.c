/*
** cmd.c: what the verbs share (cmd_int.h: checking a number or a
** duration, a verb's job argument, waking the daemon), and run, which hands
** the process over to the daemon (daemon/runner.c).
**
** Every verb validates all of its input before it opens the log: a bad
** duration, an unknown option, a huge argument or a missing dependency is a
** usage error (exit 2) that names the problem, and the database is not
** written.
*/
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "app/cmd.h"
#include "app/cmd_int.h"
#include "base/err.h"
#include "base/units.h"
#include "daemon/runner.h"
#include "log/datadir.h"
#include "port.h"

int cmd_parse_int(const char *verb, const char *opt, const char *v, long long lo,
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

int cmd_parse_dur(const char *verb, const char *opt, const char *v, uint64_t *ms)
{
	if (units_parse_duration(v, ms) != HF_OK) {
		port_log("%s: --%s wants a duration such as 250ms, 30s, 5m, 2h or 1d, not '%s'",
			 verb, opt, v);
		return HF_EINVAL;
	}
	return HF_OK;
}

void cmd_poke(const struct ctx *c)
{
	port_wake_send(c->dir);
}

/* Parses the arguments of a verb that takes only --help and --json. */
int cmd_json_only_args(struct args *a, bool *json)
{
	static const struct args_opt opts[] = { { "help", 'h', false }, { "json", 0, false },
					       { NULL, 0, false } };
	const char *val;
	int r, idx;

	*json = false;
	while ((r = args_next_option(a, opts, &idx, &val)) == ARGS_OPTION)
		*json = true;
	return r == ARGS_END ? HF_OK : r;
}

int cmd_subverb(const struct args_global *g, struct args *a, FILE *out,
		const struct cmd_sub *subs, size_t n, const char *which, bool name_verb)
{
	const char *verb = a->verb, *sub;
	char names[128] = "", both[32];
	size_t used = 0;

	if (a->i >= a->argc) {
		port_log("%s: which? %s", verb, which);
		return HF_EINVAL;
	}
	sub = a->argv[a->i++];
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help"))
		return ARGS_HELP;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(sub, subs[i].name) != 0)
			continue;
		if (name_verb) {
			snprintf(both, sizeof(both), "%s %s", verb, sub);
			a->verb = both;
		}
		int rc = subs[i].fn(g, a, out);
		a->verb = verb;
		return rc;
	}
	for (size_t i = 0; i < n && used < sizeof(names); i++)
		used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "",
					 subs[i].name);
	port_log("%s: unknown subcommand '%s' (%s)", verb, sub, names);
	return HF_EINVAL;
}

/* --remote-timeout VAL of VERB into *MS: a duration above zero. */
int cmd_remote_timeout_arg(const char *verb, const char *val, uint64_t *ms)
{
	if (units_parse_duration(val, ms) || !*ms) {
		port_log("%s: --remote-timeout: '%s' is not a duration such as 30s", verb, val);
		return HF_EINVAL;
	}
	return HF_OK;
}

/* A recorded time for people, in BUF of CMD_WHEN_LEN bytes (see units_format_when). */
#define CMD_WHEN_LEN 48
const char *cmd_fmt_when(const struct jlog_now *now, int64_t utc_ms, int64_t boot,
			 uint64_t mono_ms, char *buf)
{
	units_format_when(utc_ms, boot, mono_ms, now->boot, now->mono_ms, buf, CMD_WHEN_LEN);
	return buf;
}

int cmd_parse_job_arg(const char *verb, struct args *a, const struct args_opt *opts,
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

int cmd_no_opts(int idx, const char *val, void *arg)
{
	(void)idx;
	(void)val;
	(void)arg;
	return HF_OK;
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
	while ((r = args_next_option(a, opts, &idx, &val)) == ARGS_OPTION) {
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
	if (r != ARGS_END)
		return r;
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
