/*
** pipeline.h: pipelines, named DAGs of jobs written as JSON.
**
**   {
**     "name": "nightly",
**     "params": { "dir": "/var/lib/data" },        defaults for {{dir}}
**     "every": "15m"    or    "cron": "0 3 * * *",  optional schedule
**     "jobs": [
**       { "name": "capture", "argv": ["capture.sh", "{{dir}}"],
**         "retries": 3, "backoff": "1s..1m", "timeout": "5m",
**         "env": { "K": "V" }, "cwd": "/", "group": "camera", "priority": 0 },
**       { "name": "upload", "argv": ["..."], "after": ["capture"] }
**     ]
**   }
**
** The JSON is read with SQLite's JSON functions (through jlog), never a
** hand-written parser. Every error names the file and the JSON path (or the
** character position of a syntax error), and nothing is stored. "every" is
** a monotonic interval; "cron" fires only while wall time is trusted. After
** downtime a missed schedule fires once, not once per missed slot.
*/
#ifndef HF_PIPELINE_H
#define HF_PIPELINE_H

#include <stdint.h>

#include "fmt/cron.h"
#include "log/jlog.h"

#define PL_MAX_JOBS 256
#define PL_MAX_PARAMS 64
#define PL_MAX_BYTES (1024 * 1024)

enum pl_sched { PL_SCHED_NONE, PL_SCHED_EVERY, PL_SCHED_CRON };

struct pl_job {
	char *name;
	char **argv;
	int argc;
	char **env;              /* "K=V" */
	int nenv;
	char *cwd, *group;
	int64_t priority, retries;
	uint64_t backoff_min_ms, backoff_max_ms, timeout_ms;
	int *after;              /* indexes into jobs[] */
	int nafter;
	bool wait_remote;        /* pipeline run returns once the replica holds it */
	char *user;              /* NULL: [jobs] user */
	bool limit_set[JLOG_NLIMITS]; /* "limit_nofile", "limit_as", "limit_core" */
	int64_t limit[JLOG_NLIMITS]; /* -1: unlimited */
};

struct pl {
	char *name;
	enum pl_sched sched;
	char *sched_text;        /* as written */
	uint64_t every_ms;
	struct cron cron;
	char **param_names, **param_values;
	int nparams;
	struct pl_job *jobs;
	int njobs;
	int *order;              /* a topological order of jobs[] */
	/* Everything above is allocated here and freed by pl_free. */
	void **allocs;
	size_t nallocs, cap_allocs;
};

/* Refuses (HF_EINVAL, naming SRC:LINE:COLUMN) a file of LEN bytes read into
** TEXT that holds a NUL byte: pl_parse sees TEXT only up to its first NUL. */
int pl_check_bytes(const char *text, size_t len, const char *src);

/* Parses and validates pipeline TEXT (named SRC in messages) into *P:
** strict RFC 8259 JSON, every object's keys unique, no U+0000 in a string. */
int pl_parse(struct jlog *j, const char *text, const char *src, struct pl *p);

/* Replaces {{name}} in argv, env and cwd with the parameters: the
** defaults, overridden by KV ("name=value") entries. */
int pl_apply_params(struct pl *p, char *const *kv, int n);

/* Adds a run of P (TRIGGER "manual" or "schedule") and all its jobs, in the
** caller's transaction; *RUN is the run's id. */
int pl_instantiate(struct jlog *j, const struct pl *p, const char *trigger,
		   const struct jlog_now *now, int64_t *run);

void pl_free(struct pl *p);

#endif /* HF_PIPELINE_H */
