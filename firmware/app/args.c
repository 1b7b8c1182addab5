/*
** args.c: parsing the command line's arguments (see args.h). Unknown
** options are usage errors that name the option meant, when one is close.
*/
#include <string.h>

#include "app/args.h"
#include "base/err.h"
#include "base/suggest.h"
#include "port.h"

int args_parse_global(int argc, char **argv, struct args_global *g)
{
	int i;

	memset(g, 0, sizeof(*g));
	for (i = 1; i < argc; i++) {
		const char *s = argv[i];

		if (s[0] != '-' || strcmp(s, "-") == 0)
			break;
		if (strcmp(s, "--") == 0) {
			port_log("'--' before a verb; usage: holdfast [--data DIR] VERB ...");
			return HF_EINVAL;
		}
		if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
			g->help = true;
		} else if (strcmp(s, "--version") == 0) {
			g->version = true;
		} else if (strcmp(s, "--data") == 0) {
			if (i + 1 >= argc || argv[i + 1][0] == '\0') {
				port_log("--data needs a directory");
				return HF_EINVAL;
			}
			g->data = argv[++i];
		} else if (strncmp(s, "--data=", 7) == 0) {
			if (s[7] == '\0') {
				port_log("--data needs a directory");
				return HF_EINVAL;
			}
			g->data = s + 7;
		} else if (strcmp(s, "--config") == 0 || strncmp(s, "--config=", 9) == 0) {
			const char *v = s[8] == '=' ? s + 9 : i + 1 < argc ? argv[++i] : "";

			if (v[0] == '\0') {
				port_log("--config needs a file");
				return HF_EINVAL;
			}
			g->config = v;
		} else {
			static const char *const known[] = { "--help", "--version", "--data",
							     "--config", NULL };
			const char *best = sug_among(s, known);

			if (best)
				port_log("unknown option '%s' (did you mean '%s'?)", s, best);
			else
				port_log("unknown option '%s' (see holdfast --help)", s);
			return HF_EINVAL;
		}
	}
	g->verb = i;
	return HF_OK;
}

/* Says that long option S (its name LEN bytes after the dashes) is unknown,
** naming the option of OPTS it is likely a slip for, if there is one. */
static void unknown_option(const struct args *a, const struct args_opt *opts, const char *s,
			   size_t len)
{
	char word[SUG_MAX_LEN + 1];
	struct sug sg;

	if (len < sizeof(word)) {
		memcpy(word, s + 2, len);
		word[len] = '\0';
		sug_init(&sg, word);
		for (int k = 0; opts[k].name; k++)
			sug_add(&sg, opts[k].name);
		if (sug_best(&sg)) {
			port_log("%s: unknown option '%.*s' (did you mean '--%s'?)", a->verb,
				 (int)(len + 2), s, sug_best(&sg));
			return;
		}
	}
	port_log("%s: unknown option '%.*s' (see holdfast %s --help)", a->verb,
		 (int)(len + 2), s, a->verb);
}

int args_next(struct args *a, const struct args_opt *opts, int *idx, const char **val)
{
	const char *s, *name, *eq = NULL;
	size_t len;
	int k;

	*val = NULL;
	if (a->i >= a->argc)
		return ARGS_END;
	s = a->argv[a->i++];
	if (a->dashdash || s[0] != '-' || s[1] == '\0') {
		*val = s;
		return ARGS_POSITIONAL;
	}
	if (strcmp(s, "--") == 0) {
		a->dashdash = true;
		return args_next(a, opts, idx, val);
	}
	if (s[1] != '-') {
		/* A short option: exactly one letter, e.g. -h. */
		for (k = 0; opts[k].name; k++) {
			if (opts[k].short_name && opts[k].short_name == s[1] && s[2] == '\0')
				goto found;
		}
		port_log("%s: unknown option '%s' (see holdfast %s --help)", a->verb, s, a->verb);
		return HF_EINVAL;
	}
	name = s + 2;
	eq = strchr(name, '=');
	len = eq ? (size_t)(eq - name) : strlen(name);
	for (k = 0; opts[k].name; k++) {
		if (strlen(opts[k].name) == len && strncmp(opts[k].name, name, len) == 0)
			goto found;
	}
	unknown_option(a, opts, s, len);
	return HF_EINVAL;

found:
	*idx = k;
	if (!opts[k].has_arg) {
		if (s[1] == '-' && eq) {
			port_log("%s: option --%s takes no value", a->verb, opts[k].name);
			return HF_EINVAL;
		}
		return ARGS_OPTION;
	}
	if (s[1] == '-' && eq) {
		*val = eq + 1;
	} else if (a->i < a->argc) {
		*val = a->argv[a->i++];
	} else {
		port_log("%s: option %s needs a value", a->verb, s);
		return HF_EINVAL;
	}
	return ARGS_OPTION;
}

int args_next_option(struct args *a, const struct args_opt *opts, int *idx, const char **val)
{
	int r = args_next(a, opts, idx, val);

	if (r == ARGS_POSITIONAL) {
		port_log("%s: unexpected argument '%s'", a->verb, *val);
		return HF_EINVAL;
	}
	if (r == ARGS_OPTION && *idx == 0)
		return ARGS_HELP;
	return r;
}
