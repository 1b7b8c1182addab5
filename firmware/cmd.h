/*
** cmd.h: the job verbs of the command line (submit, ls, show, logs, cancel,
** retry, status, run). cli.c parses global options and dispatches here.
*/
#ifndef HF_CMD_H
#define HF_CMD_H

#include <stdio.h>

#include "cli.h"

int cmd_submit(const struct cli_global *g, struct cli_args *a, FILE *out);
int cmd_ls(const struct cli_global *g, struct cli_args *a, FILE *out);
int cmd_show(const struct cli_global *g, struct cli_args *a, FILE *out);
int cmd_logs(const struct cli_global *g, struct cli_args *a, FILE *out);
int cmd_cancel(const struct cli_global *g, struct cli_args *a, FILE *out);
int cmd_retry(const struct cli_global *g, struct cli_args *a, FILE *out);
int cmd_status(const struct cli_global *g, struct cli_args *a, FILE *out);
int cmd_pipeline(const struct cli_global *g, struct cli_args *a, FILE *out);
int cmd_run(const struct cli_global *g, struct cli_args *a, FILE *out);

/* Whether S is valid UTF-8 (what the log's JSON columns can hold). */
bool cmd_utf8_valid(const char *s);

#endif /* HF_CMD_H */
