/*
** cmd.h: the job verbs of the command line (submit, ls, show, logs, cancel,
** retry, status, run). cli.c parses global options and dispatches here.
*/
#ifndef HF_CMD_H
#define HF_CMD_H

#include <limits.h>
#include <stdio.h>

#include "cli.h"
#include "jlog.h"

/* An open data directory, for the verbs that use the job log. */
struct ctx {
	char dir[PATH_MAX];
	char conf[PATH_MAX + 32];  /* its config (dd_conf_path) */
	struct jlog j;
	struct jlog_now now;       /* now.boot is 0 until ctx_boot */
	bool trusted;
	char boot_id[64];
};

/* Opens the data directory of G (messages say what is missing). */
int ctx_open(const struct cli_global *g, struct ctx *c);
/* Begins a writing command's transaction (jlog_begin), keeping the WAL
** bounded first when no daemon runs (cmd_bound_wal). */
int ctx_begin(struct ctx *c);
/* Says that VERB failed because the disk holding the data directory is full
** (HF_ENOSPC), and that WHAT ("the job was not queued"), like everything of
** the rolled-back transaction, was not stored. */
void cmd_say_full(const struct ctx *c, const char *verb, const char *what);
/* Makes sure this boot has its row, inside the caller's transaction. */
int ctx_boot(struct ctx *c);
void ctx_close(struct ctx *c);

int cmd_submit(const struct cli_global *g, struct cli_args *a, FILE *out);
int cmd_ls(const struct cli_global *g, struct cli_args *a, FILE *out);
int cmd_show(const struct cli_global *g, struct cli_args *a, FILE *out);
int cmd_logs(const struct cli_global *g, struct cli_args *a, FILE *out);
int cmd_cancel(const struct cli_global *g, struct cli_args *a, FILE *out);
int cmd_retry(const struct cli_global *g, struct cli_args *a, FILE *out);
int cmd_prune(const struct cli_global *g, struct cli_args *a, FILE *out);
int cmd_status(const struct cli_global *g, struct cli_args *a, FILE *out);
int cmd_pipeline(const struct cli_global *g, struct cli_args *a, FILE *out);
int cmd_run(const struct cli_global *g, struct cli_args *a, FILE *out);
/* cmd_ship.c: WAL shipping and restore. */
int cmd_sync(const struct cli_global *g, struct cli_args *a, FILE *out);
int cmd_replica(const struct cli_global *g, struct cli_args *a, FILE *out);
int cmd_restore(const struct cli_global *g, struct cli_args *a, FILE *out);
/* After a commit: seals it and copies the spool until the replica holds
** the segment (or snapshot) with it, checked there, for up to TIMEOUT_MS. */
int cmd_wait_remote(const struct cli_global *g, uint64_t timeout_ms);
/* Before a writing command's transaction, with no daemon running: keeps
** the WAL under SHIP_WAL_CAP_FACTOR x wal_max as the daemon would (sealed
** first). */
void cmd_bound_wal(struct ctx *c);
/* The same checkpoint now, whatever the WAL's size (`prune`, after a
** vacuum, so the freed pages go back to the file system). */
void cmd_checkpoint_now(struct ctx *c);
int cmd_debug(const struct cli_global *g, struct cli_args *a, FILE *out);

/* Whether S is valid UTF-8 (what the log's JSON columns can hold). */
bool cmd_utf8_valid(const char *s);

#endif /* HF_CMD_H */
