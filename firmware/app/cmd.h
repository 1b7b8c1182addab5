/*
** cmd.h: the verbs of the command line: the jobs' (submit, ls, show, logs,
** cancel, retry, step), prune, status, run, pipeline, and those of WAL shipping
** and restore (sync, replica, restore, debug). cli.c parses global options
** and dispatches here.
*/
#ifndef HF_CMD_H
#define HF_CMD_H

#include <stdio.h>

#include "app/args.h"

int cmd_submit(const struct args_global *g, struct args *a, FILE *out);
int cmd_ls(const struct args_global *g, struct args *a, FILE *out);
int cmd_show(const struct args_global *g, struct args *a, FILE *out);
int cmd_logs(const struct args_global *g, struct args *a, FILE *out);
int cmd_cancel(const struct args_global *g, struct args *a, FILE *out);
int cmd_retry(const struct args_global *g, struct args *a, FILE *out);
int cmd_prune(const struct args_global *g, struct args *a, FILE *out);
int cmd_step(const struct args_global *g, struct args *a, FILE *out);
int cmd_send(const struct args_global *g, struct args *a, FILE *out);
int cmd_status(const struct args_global *g, struct args *a, FILE *out);
int cmd_pipeline(const struct args_global *g, struct args *a, FILE *out);
int cmd_run(const struct args_global *g, struct args *a, FILE *out);
int cmd_sync(const struct args_global *g, struct args *a, FILE *out);
int cmd_replica(const struct args_global *g, struct args *a, FILE *out);
int cmd_restore(const struct args_global *g, struct args *a, FILE *out);
int cmd_debug(const struct args_global *g, struct args *a, FILE *out);

#endif /* HF_CMD_H */
