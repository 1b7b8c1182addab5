/*
** cmd.h: the job verbs of the command line (submit, ls, show, logs, cancel,
** retry, status, run). cli.c parses global options and dispatches here.
*/
#ifndef HF_CMD_H
#define HF_CMD_H

#include <stdint.h>
#include <stdio.h>

#include "app/args.h"

int cmd_submit(const struct args_global *g, struct args *a, FILE *out);
int cmd_ls(const struct args_global *g, struct args *a, FILE *out);
int cmd_show(const struct args_global *g, struct args *a, FILE *out);
int cmd_logs(const struct args_global *g, struct args *a, FILE *out);
int cmd_cancel(const struct args_global *g, struct args *a, FILE *out);
int cmd_retry(const struct args_global *g, struct args *a, FILE *out);
int cmd_prune(const struct args_global *g, struct args *a, FILE *out);
int cmd_status(const struct args_global *g, struct args *a, FILE *out);
int cmd_pipeline(const struct args_global *g, struct args *a, FILE *out);
int cmd_run(const struct args_global *g, struct args *a, FILE *out);
/* cmd_ship.c: WAL shipping and restore. */
int cmd_sync(const struct args_global *g, struct args *a, FILE *out);
int cmd_replica(const struct args_global *g, struct args *a, FILE *out);
int cmd_restore(const struct args_global *g, struct args *a, FILE *out);
/* After a commit: seals it and copies the spool until the replica holds
** the segment (or snapshot) with it, checked there, for up to TIMEOUT_MS. */
int cmd_wait_remote(const struct args_global *g, uint64_t timeout_ms);
int cmd_debug(const struct args_global *g, struct args *a, FILE *out);

#endif /* HF_CMD_H */
