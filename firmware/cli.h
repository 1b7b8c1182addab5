/*
** cli.h: the command line: `holdfast [--data DIR] VERB [options] [-- CMD...]`.
**
** Exit codes: 0 ok, 1 runtime failure, 2 usage or input error. Messages go
** to stderr prefixed "holdfast: "; help and reports go to the output stream.
*/
#ifndef HF_CLI_H
#define HF_CLI_H

#include <stdbool.h>
#include <stdio.h>

enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };

/* A verb returns this (not an HF_ code) to have its help printed. */
#define CLI_HELP 1

/* What comes before the verb. */
struct cli_global {
	const char *data;    /* --data DIR, or NULL */
	const char *config;  /* --config FILE, or NULL (datadir.h: dd_conf_path) */
	bool help;           /* -h / --help */
	bool version;        /* --version */
	int verb;            /* index of the verb in argv; argc if none */
};

/* Parses the global options of ARGV. HF_EINVAL (logged) on a bad one. */
int cli_parse_global(int argc, char **argv, struct cli_global *g);

/* One option a verb accepts. */
struct cli_opt {
	const char *name;    /* long name without dashes, e.g. "data" */
	char short_name;     /* e.g. 'h', or 0 */
	bool has_arg;        /* takes a value: --name V or --name=V */
};

/* Walks a verb's arguments. */
struct cli_args {
	int argc;
	char **argv;
	int i;               /* next argument to look at */
	bool dashdash;       /* "--" was seen: the rest is positional */
	const char *verb;    /* for messages */
};

enum { CLI_END = 0, CLI_POSITIONAL = 1, CLI_OPTION = 2 };

/*
** The next argument: CLI_OPTION with *IDX the index into OPTS (and *VAL its
** value, if it takes one), CLI_POSITIONAL with *VAL, CLI_END, or HF_EINVAL
** (logged) for an unknown option or a missing value. A lone "-" is
** positional; "--" ends options.
*/
int cli_next(struct cli_args *a, const struct cli_opt *opts, int *idx, const char **val);

/* Runs the command line; returns the process exit code. */
int cli_main(int argc, char **argv, FILE *out);

#endif /* HF_CLI_H */
