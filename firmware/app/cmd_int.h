/*
** cmd_int.h: what the verb files (cmd.c, cmd_*.c) share, and no one else
** may include: checking a verb's arguments, printing a job list, waiting
** for the replica, and reading a replica (cmd_replica.c) for restore.
*/
#ifndef HF_CMD_INT_H
#define HF_CMD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "app/args.h"
#include "app/ctx.h"
#include "base/names.h"
#include "log/jlog.h"
#include "ship/replica.h"

/* ---- arguments (cmd.c) ---- */

/* --OPT V of VERB as a whole number in LO..HI into *OUT; HF_EINVAL (said)
** if it is not one. */
int cmd_parse_int(const char *verb, const char *opt, const char *v, long long lo,
		  long long hi, long long *out);
/* --OPT V of VERB as a duration into *MS; HF_EINVAL (said) if it is not one. */
int cmd_parse_dur(const char *verb, const char *opt, const char *v, uint64_t *ms);
/* --remote-timeout VAL of VERB into *MS: a duration above zero. */
int cmd_remote_timeout_arg(const char *verb, const char *val, uint64_t *ms);
/* Parses the arguments of a verb that takes only --help and --json. */
int cmd_json_only_args(struct args *a, bool *json);
/* One job (or pipeline) reference into *REF, options (OPTS[0] is --help)
** through OPT_CB. */
int cmd_parse_job_arg(const char *verb, struct args *a, const struct args_opt *opts,
		      const char **ref, int (*opt_cb)(int idx, const char *val, void *arg),
		      void *arg);
/* cmd_parse_job_arg's OPT_CB for a verb with no option but --help. */
int cmd_no_opts(int idx, const char *val, void *arg);

/* A sub-verb (sync now, pipeline add, ...) and the function that runs it. */
struct cmd_sub {
	const char *name;
	int (*fn)(const struct args_global *g, struct args *a, FILE *out);
};
/* Runs the sub-verb of SUBS (N of them) that A's next argument names, with
** "VERB SUB" as A's verb while it runs if NAME_VERB; WHICH is the usage
** said when none is given. */
int cmd_subverb(const struct args_global *g, struct args *a, FILE *out,
		const struct cmd_sub *subs, size_t n, const char *which, bool name_verb);

/* Wakes the daemon, if one runs, to see what was just committed. */
void cmd_poke(const struct ctx *c);

/* ---- printing ---- */

/* A list being printed: jobs (cmd_job.c), pipelines. */
struct cmd_print {
	FILE *out;
	struct jlog *j;
	bool json;
	int count;
	const char *dir;
	int daemon;                /* 0: not asked yet, 1: running, -1: not running */
	const struct jlog_now *now;  /* for times shown relative to now */
};

/* A recorded time for people, in BUF of CMD_WHEN_LEN bytes (see units_format_when). */
#define CMD_WHEN_LEN 48
const char *cmd_fmt_when(const struct jlog_now *now, int64_t utc_ms, int64_t boot,
			 uint64_t mono_ms, char *buf);

/* ---- the replica (cmd_sync.c, cmd_replica.c) ---- */

/* After a commit: seals it and copies the spool until the replica holds
** the segment (or snapshot) with it, checked there, for up to TIMEOUT_MS. */
int cmd_wait_remote(const struct args_global *g, uint64_t timeout_ms);

/* S from a replica (a name, a header field), safe to print: see
** restore_escape. Each call has its own buffer of a ring of four. */
const char *cmd_safe(const char *s);
/* Opens the replica named on the command line (settings for S3 from the
** environment and the defaults), with an optional CA bundle and key file. */
int cmd_open_arg(const char *url, const char *ca, const char *key, struct replica *rp);
/* Generation GEN's manifest of device DEV: *FOLLOWS and WHY its gap record. */
int cmd_read_manifest(const struct replica *rp, const char *dev, const char *gen,
		      uint64_t *follows, char *why, size_t why_len);
/* *BEST among GENS of DEV: the newest generation (at AT_MS, if >= 0). */
int cmd_pick_generation(const struct replica *rp, const char *verb, const char *dev,
			const struct names *gens, int64_t at_ms, size_t *best);
/* When replica file REL was sealed, into OUT (left as it is if unknown). */
void cmd_sealed_when(const struct replica *rp, const char *rel, char *out, size_t len);

#endif /* HF_CMD_INT_H */
