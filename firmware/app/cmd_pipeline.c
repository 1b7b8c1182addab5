/*
** cmd_pipeline.c: the pipeline verbs: pipeline add FILE, run NAME, ls and
** show NAME (log/pipeline.c parses and instantiates them).
*/
#include <stdlib.h>
#include <string.h>

#include "app/cmd.h"
#include "app/cmd_int.h"
#include "base/err.h"
#include "log/jlog.h"
#include "log/pipeline.h"
#include "port.h"

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
		cmd_poke(&c);
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

/* pipeline run NAME: queues a run, said once committed (and with
** --wait-remote once the replica holds it). Over 80 lines: its options and
** the one transaction that queues the run, read top to bottom. */
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
		} else if ((rc = cmd_remote_timeout_arg("pipeline run", val, &remote_timeout)) != HF_OK) {
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
	if ((rc = ctx_boot(&c)) == HF_OK)
		rc = pl_instantiate(&c.j, &p, "manual", &c.now, &run);
	if ((rc = ctx_end(&c, rc, "pipeline run", "the run was not queued")) != HF_OK)
		goto out_free;
	cmd_poke(&c);
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
	struct cmd_print *p = arg;

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
	struct cmd_print p = { out, NULL, false, 0, NULL, 0, NULL };
	struct ctx c;
	int rc;

	if ((rc = cmd_json_only_args(a, &p.json)) != HF_OK)
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

	if ((rc = cmd_parse_job_arg("pipeline show", a, opts, &name, cmd_no_opts, NULL)) != HF_OK)
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
	static const struct cmd_sub subs[] = { { "add", pipeline_add }, { "run", pipeline_run },
					       { "ls", pipeline_ls }, { "show", pipeline_show } };

	return cmd_subverb(g, a, out, subs, sizeof(subs) / sizeof(subs[0]),
			   "add FILE | run NAME | ls | show NAME", true);
}
