/*
** args.h: the command line's arguments: the global options before the verb
** and a walk over a verb's own, for cli.c's dispatcher and every verb.
*/
#ifndef HF_ARGS_H
#define HF_ARGS_H

#include <stdbool.h>

/* A verb returns this (not an HF_ code) to have its help printed. */
#define ARGS_HELP 1
/* ... or this to exit with STATUS (0-255) of its own (`step` hands on its
** command's): above every HF_ code and ARGS_HELP. */
#define ARGS_EXIT(status) (0x100 + (status))

/* What comes before the verb. */
struct args_global {
	const char *data;    /* --data DIR, or NULL */
	const char *config;  /* --config FILE, or NULL (datadir.h: dd_conf_path) */
	bool help;           /* -h / --help */
	bool version;        /* --version */
	int verb;            /* index of the verb in argv; argc if none */
};

/* Parses the global options of ARGV. HF_EINVAL (logged) on a bad one. */
int args_parse_global(int argc, char **argv, struct args_global *g);

/* One option a verb accepts. */
struct args_opt {
	const char *name;    /* long name without dashes, e.g. "data" */
	char short_name;     /* e.g. 'h', or 0 */
	bool has_arg;        /* takes a value: --name V or --name=V */
};

/* Walks a verb's arguments. */
struct args {
	int argc;
	char **argv;
	int i;               /* next argument to look at */
	bool dashdash;       /* "--" was seen: the rest is positional */
	const char *verb;    /* for messages */
};

enum { ARGS_END = 0, ARGS_POSITIONAL = 1, ARGS_OPTION = 2 };

/*
** The next argument: ARGS_OPTION with *IDX the index into OPTS (and *VAL its
** value, if it takes one), ARGS_POSITIONAL with *VAL, ARGS_END, or HF_EINVAL
** (logged) for an unknown option or a missing value. A lone "-" is
** positional; "--" ends options.
*/
int args_next(struct args *a, const struct args_opt *opts, int *idx, const char **val);

/*
** args_next for a verb that takes options only, --help first in OPTS: the
** next one as ARGS_OPTION (*IDX, *VAL as args_next), ARGS_END, ARGS_HELP for
** --help, or HF_EINVAL (logged) for a positional argument and as args_next.
** Its callers loop while it returns ARGS_OPTION and return anything else
** but ARGS_END.
*/
int args_next_option(struct args *a, const struct args_opt *opts, int *idx, const char **val);

#endif /* HF_ARGS_H */
