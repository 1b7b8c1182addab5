/*
** cli.h: the command line: `holdfast [--data DIR] VERB [options] [-- CMD...]`.
**
** Exit codes: 0 ok, 1 runtime failure, 2 usage or input error. Messages go
** to stderr prefixed "holdfast: "; help and reports go to the output stream.
*/
#ifndef HF_CLI_H
#define HF_CLI_H

#include <stdio.h>

enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };

/* Runs the command line; returns the process exit code. */
int cli_main(int argc, char **argv, FILE *out);

#endif /* HF_CLI_H */
