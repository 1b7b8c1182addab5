/*
** cmd.h: the job verbs of the command line (submit, ls, show, logs, cancel,
** retry, status, run). cli.c parses global options and dispatches here.
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
int cmd_status(const struct args_global *g, struct args *a, FILE *out);
int cmd_pipeline(const struct args_global *g, struct args *a, FILE *out);
int cmd_run(const struct args_global *g, struct args *a, FILE *out);

#endif /* HF_CMD_H */
