/*
** pipeline.c: parsing, validating and instantiating pipelines (see
** pipeline.h).
**
** Validation walks the document by JSON path with jlog's accessors (SQLite's
** json_type/json_extract/json_each), checks every key against the known
** ones, and reports the first problem with its path. Cycles are found by a
** depth-first search and reported as the cycle itself: "a -> b -> a".
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/suggest.h"
#include "base/units.h"
#include "fmt/cfg.h"
#include "log/pipeline.h"
#include "port.h"

struct parse {
	struct jlog *j;
	const char *text, *src;
	struct pl *p;
};

/* ---- the arena ------------------------------------------------------------ */

static void *keep(struct pl *p, void *ptr)
{
	if (!ptr)
		return NULL;
	if (p->nallocs == p->cap_allocs) {
		size_t cap = p->cap_allocs ? p->cap_allocs * 2 : 64;
		void **n = realloc(p->allocs, cap * sizeof(*n));
		if (!n) {
			free(ptr);
			return NULL;
		}
		p->allocs = n;
		p->cap_allocs = cap;
	}
	p->allocs[p->nallocs++] = ptr;
	return ptr;
}

static void *zalloc(struct pl *p, size_t n)
{
	return keep(p, calloc(1, n ? n : 1));
}

void pl_free(struct pl *p)
{
	for (size_t i = 0; i < p->nallocs; i++)
		free(p->allocs[i]);
	free(p->allocs);
	memset(p, 0, sizeof(*p));
}

/* " (did you mean 'X'?)" for the parameter of P nearest NAME[LEN], or "",
** into BUF[BUFLEN]. */
static void param_hint(const struct pl *p, const char *name, size_t len, char *buf,
		       size_t buflen)
{
	char word[SUG_MAX_LEN + 1];
	struct sug sg;

	buf[0] = '\0';
	if (len >= sizeof(word))
		return;
	memcpy(word, name, len);
	word[len] = '\0';
	sug_init(&sg, word);
	for (int i = 0; i < p->nparams; i++)
		sug_add(&sg, p->param_names[i]);
	if (sug_best(&sg))
		snprintf(buf, buflen, " (did you mean '%s'?)", sug_best(&sg));
}

/* ---- accessors with error reporting ---------------------------------------------- */

static int fail(struct parse *ps, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parse *ps, const char *path, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	port_log("%s: %s: %s", ps->src, path, msg);
	return HF_EINVAL;
}

static int type_at(struct parse *ps, const char *path, char *type, size_t len)
{
	return jlog_json_type(ps->j, ps->text, path, type, len);
}

/* The string at PATH, kept in the arena; *OUT NULL if absent and optional. */
static int get_string(struct parse *ps, const char *path, bool required, char **out)
{
	char type[16], *s;
	int rc;

	*out = NULL;
	if ((rc = type_at(ps, path, type, sizeof(type))) != HF_OK)
		return rc;
	if (!*type)
		return required ? fail(ps, path, "is required") : HF_OK;
	if (strcmp(type, "text"))
		return fail(ps, path, "must be a string, not %s", type);
	if ((rc = jlog_json_text(ps->j, ps->text, path, &s)) != HF_OK)
		return rc;
	if (!keep(ps->p, s))
		return HF_ENOMEM;
	if (strlen(s) > JLOG_ARG_BYTES)
		return fail(ps, path, "is longer than 64 KiB");
	*out = s;
	return HF_OK;
}

static int get_int(struct parse *ps, const char *path, int64_t lo, int64_t hi, int64_t *out)
{
	char type[16], *s;
	char range[64];
	int rc;

	if ((rc = type_at(ps, path, type, sizeof(type))) != HF_OK)
		return rc;
	if (!*type)
		return HF_OK; /* keep the default */
	snprintf(range, sizeof(range), "%lld to %lld", (long long)lo, (long long)hi);
	if (strcmp(type, "integer"))
		return fail(ps, path, "must be a whole number from %s", range);
	if ((rc = jlog_json_text(ps->j, ps->text, path, &s)) != HF_OK)
		return rc;
	*out = strtoll(s, NULL, 10);
	free(s);
	if (*out < lo || *out > hi)
		return fail(ps, path, "must be from %s", range);
	return HF_OK;
}

static int get_bool(struct parse *ps, const char *path, bool *out)
{
	char type[16];
	int rc;

	if ((rc = type_at(ps, path, type, sizeof(type))) != HF_OK)
		return rc;
	if (!*type)
		return HF_OK; /* keep the default */
	if (strcmp(type, "true") && strcmp(type, "false"))
		return fail(ps, path, "must be true or false");
	*out = type[0] == 't';
	return HF_OK;
}

static int get_duration(struct parse *ps, const char *path, uint64_t *ms)
{
	char *s;
	int rc;

	if ((rc = get_string(ps, path, false, &s)) != HF_OK || !s)
		return rc;
	if (units_parse_duration(s, ms) != HF_OK)
		return fail(ps, path, "'%s' is not a duration such as 250ms, 30s, 5m, 2h, 1d", s);
	return HF_OK;
}

static int get_name(struct parse *ps, const char *path, bool required, char **out)
{
	int rc = get_string(ps, path, required, out);

	if (rc == HF_OK && *out && !names_valid(*out))
		return fail(ps, path, "'%s' is not a name (letters, digits, '_', '-', '.'; "
			    "not starting with a digit; at most 128)", *out);
	return rc;
}

/* Collects the keys at PATH (copied; the callback must not nest). */
struct keys {
	char **k;
	int n, cap;
	struct pl *p;
	bool oom;
};

static int add_key(const char *key, void *arg)
{
	struct keys *ks = arg;
	char *dup;

	if (ks->n == ks->cap) {
		int cap = ks->cap ? ks->cap * 2 : 16;
		char **nk = zalloc(ks->p, (size_t)cap * sizeof(char *));
		if (!nk) {
			ks->oom = true;
			return 1;
		}
		if (ks->n)
			memcpy(nk, ks->k, (size_t)ks->n * sizeof(char *));
		ks->k = nk;
		ks->cap = cap;
	}
	if (!(dup = keep(ks->p, strdup(key)))) {
		ks->oom = true;
		return 1;
	}
	ks->k[ks->n++] = dup;
	return 0;
}

static int keys_at(struct parse *ps, const char *path, struct keys *ks)
{
	int rc;

	memset(ks, 0, sizeof(*ks));
	ks->p = ps->p;
	rc = jlog_json_keys(ps->j, ps->text, path, add_key, ks);
	return rc ? rc : ks->oom ? HF_ENOMEM : HF_OK;
}

/* Checks that the object at PATH has only KNOWN keys. */
static int only_keys(struct parse *ps, const char *path, const char *const *known)
{
	char sub[512];
	struct keys ks;
	int rc;

	if ((rc = keys_at(ps, path, &ks)) != HF_OK)
		return rc;
	for (int i = 0; i < ks.n; i++) {
		bool ok = false;
		for (const char *const *k = known; *k && !ok; k++)
			ok = !strcmp(*k, ks.k[i]);
		if (!ok) {
			const char *best = sug_among(ks.k[i], known);

			snprintf(sub, sizeof(sub), "%s.%s", path, ks.k[i]);
			if (best)
				return fail(ps, sub, "unknown key (did you mean '%s'?)", best);
			return fail(ps, sub, "unknown key");
		}
	}
	return HF_OK;
}

static int expect_type(struct parse *ps, const char *path, const char *want)
{
	char type[16];
	int rc;

	if ((rc = type_at(ps, path, type, sizeof(type))) != HF_OK)
		return rc;
	if (strcmp(type, want))
		return fail(ps, path, *type ? "must be an %s" : "is required (an %s)", want);
	return HF_OK;
}

/* An array of strings at PATH into *V (NULL-terminated), or none. */
static int get_strings(struct parse *ps, const char *path, bool required, int max, char ***v,
		       int *n)
{
	char type[16], sub[512];
	struct keys ks;
	int rc;

	*v = NULL;
	*n = 0;
	if ((rc = type_at(ps, path, type, sizeof(type))) != HF_OK)
		return rc;
	if (!*type && !required)
		return HF_OK;
	if (strcmp(type, "array"))
		return fail(ps, path, "must be an array of strings");
	if ((rc = keys_at(ps, path, &ks)) != HF_OK)
		return rc;
	if (ks.n == 0 && required)
		return fail(ps, path, "must not be empty");
	if (ks.n > max) {
		char lim[32];
		snprintf(lim, sizeof(lim), "%d", max);
		return fail(ps, path, "has more than %s entries", lim);
	}
	if (!(*v = zalloc(ps->p, (size_t)(ks.n + 1) * sizeof(char *))))
		return HF_ENOMEM;
	for (int i = 0; i < ks.n; i++) {
		snprintf(sub, sizeof(sub), "%s[%d]", path, i);
		if ((rc = get_string(ps, sub, true, &(*v)[i])) != HF_OK)
			return rc;
	}
	*n = ks.n;
	return HF_OK;
}

/* ---- strict JSON ------------------------------------------------------------------ */

/* Line and column (1-based, in characters) of byte AT of TEXT. */
static void line_col(const char *text, const char *at, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (const char *c = text; c < at; c++) {
		if (*c == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)*c & 0xc0) != 0x80) { /* not a UTF-8 continuation */
			(*col)++;
		}
	}
}

/* The byte of TEXT at 1-based character position POS (json_error_position
** counts characters). */
static const char *char_at(const char *text, int64_t pos)
{
	const char *c = text;

	for (int64_t n = 1; *c; c++)
		if (((unsigned char)*c & 0xc0) != 0x80 && n++ == pos)
			return c;
	return c;
}

static bool is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '$' || c == '.' || c == '+' || c == '-';
}

/* Past the RFC 8259 number at S (-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?),
** or NULL if S does not start one. */
static const char *skip_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return NULL;
	if (*s == '.') {
		if (!(*++s >= '0' && *s <= '9'))
			return NULL;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		if (*++s == '+' || *s == '-')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return NULL;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return is_word_char(*s) ? NULL : s;
}

/*
** Where TEXT, which SQLite's parser took, first leaves RFC 8259, and *WHAT
** it does there; NULL if this scan finds nothing. SQLite decides whether a
** document is strict (jlog_json_strict); this only points at the place for
** the message, so it looks at tokens, not at the grammar SQLite checked:
** strings with only JSON's escapes and no raw control characters, numbers
** in JSON's form, the three literals, and no comma before '}' or ']'.
** Everything JSON5 adds is one of these: comments, trailing commas, single
** quotes, unquoted keys, hex or signed numbers, Infinity and NaN, escaped
** newlines, more whitespace characters (https://spec.json5.org).
*/
static const char *json5_at(const char *text, const char **what)
{
	const char *s = text, *comma = NULL;

	while (*s) {
		const char *t;

		switch (*s) {
		case ' ': case '\t': case '\n': case '\r':
			s++;
			continue;
		case '"':
			for (t = s + 1; *t != '"'; t++) {
				if (!*t)
					return NULL;
				if ((unsigned char)*t < 0x20) {
					*what = "a raw control character in a string (write it as \\uXXXX)";
					return t;
				}
				if (*t == '\\' && (!*++t || !strchr("\"\\/bfnrtu", *t))) {
					*what = "an escape JSON does not have (only \\\" \\\\ \\/ \\b "
						"\\f \\n \\r \\t \\uXXXX)";
					return t - 1;
				}
			}
			s = t + 1;
			comma = NULL;
			continue;
		case ',':
			comma = s++;
			continue;
		case '}': case ']':
			if (comma) {
				*what = "a trailing comma";
				return comma;
			}
			s++;
			continue;
		case '{': case '[': case ':':
			s++;
			comma = NULL;
			continue;
		case '/':
			if (s[1] == '/' || s[1] == '*') {
				*what = "a comment";
				return s;
			}
			break;
		case '\'':
			*what = "a single-quoted string";
			return s;
		}
		comma = NULL;
		if ((*s == '-' || (*s >= '0' && *s <= '9')) && (t = skip_number(s))) {
			s = t;
			continue;
		}
		if ((!strncmp(s, "true", 4) && !is_word_char(s[4])) ||
		    (!strncmp(s, "null", 4) && !is_word_char(s[4]))) {
			s += 4;
			continue;
		}
		if (!strncmp(s, "false", 5) && !is_word_char(s[5])) {
			s += 5;
			continue;
		}
		*what = is_word_char(*s) ? "a number or word JSON does not have (hex, a sign or "
					   "point JSON does not allow, Infinity, NaN, or a key "
					   "without quotes)" :
					   "a character JSON does not allow here";
		return s;
	}
	return NULL;
}

int pl_check_bytes(const char *text, size_t len, const char *src)
{
	const char *nul = memchr(text, '\0', len);
	int line, col;

	if (!nul)
		return HF_OK;
	line_col(text, nul, &line, &col);
	port_log("%s:%d:%d: a NUL byte; a pipeline is JSON text, which has none", src, line, col);
	return HF_EINVAL;
}

/* Refuses what SQLite's parser takes but a strict reader must not: JSON5,
** a key twice in one object, U+0000 in a string. Each is an error, not a
** guess: which of two keys wins, or where a string with a NUL ends, differs
** from one reader to the next, and "holdfast pipeline show" must give back
** what runs. */
static int check_strict(struct parse *ps)
{
	const char *at, *what = NULL;
	char path[512];
	bool ok, in_key;
	int line, col, rc;

	if ((rc = jlog_json_strict(ps->j, ps->text, &ok)) != HF_OK)
		return rc;
	if (!ok) {
		if (!(at = json5_at(ps->text, &what))) {
			port_log("%s: not strict JSON (RFC 8259): holdfast does not read JSON5 "
				 "(comments, trailing commas...)", ps->src);
			return HF_EINVAL;
		}
		line_col(ps->text, at, &line, &col);
		port_log("%s:%d:%d: %s: holdfast reads strict JSON (RFC 8259), not JSON5",
			 ps->src, line, col, what);
		return HF_EINVAL;
	}
	if ((rc = jlog_json_dup_key(ps->j, ps->text, path, sizeof(path))) != HF_OK)
		return rc;
	if (*path)
		return fail(ps, path, "the key is given twice in one object (keep one)");
	if ((rc = jlog_json_nul(ps->j, ps->text, path, sizeof(path), &in_key)) != HF_OK)
		return rc;
	if (*path)
		return fail(ps, path, "the %s holds a NUL character (\\u0000)",
			    in_key ? "key" : "string");
	return HF_OK;
}

/* ---- the document --------------------------------------------------------------- */

static int parse_env(struct parse *ps, const char *path, struct pl_job *jb)
{
	char type[16], sub[512];
	struct keys ks;
	int rc;

	if ((rc = type_at(ps, path, type, sizeof(type))) != HF_OK || !*type)
		return rc;
	if (strcmp(type, "object"))
		return fail(ps, path, "must be an object of NAME: \"value\"");
	if ((rc = keys_at(ps, path, &ks)) != HF_OK)
		return rc;
	if (ks.n > JLOG_ENV_MAX)
		return fail(ps, path, "has more than 128 entries");
	if (!(jb->env = zalloc(ps->p, (size_t)(ks.n + 1) * sizeof(char *))))
		return HF_ENOMEM;
	for (int i = 0; i < ks.n; i++) {
		char *v, *kv;
		const char *k = ks.k[i];
		bool ok = *k && !(k[0] >= '0' && k[0] <= '9');
		for (const char *c = k; *c && ok; c++)
			ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			     (*c >= '0' && *c <= '9') || *c == '_';
		snprintf(sub, sizeof(sub), "%s.%s", path, k);
		if (!ok)
			return fail(ps, sub, "is not an environment variable name");
		if ((rc = get_string(ps, sub, true, &v)) != HF_OK)
			return rc;
		if (!(kv = zalloc(ps->p, strlen(k) + strlen(v) + 2)))
			return HF_ENOMEM;
		sprintf(kv, "%s=%s", k, v);
		jb->env[jb->nenv++] = kv;
	}
	return HF_OK;
}

static int parse_identity(struct parse *ps, const char *path, struct pl_job *jb);

static int parse_job(struct parse *ps, int i)
{
	static const char *const known[] = { "name", "argv", "after", "env", "cwd", "group",
					     "priority", "retries", "backoff", "timeout",
					     "wait_remote", "user", "limit_nofile", "limit_as",
					     "limit_core", NULL };
	struct pl_job *jb = &ps->p->jobs[i];
	char path[64], sub[96], *s;
	int rc;

	snprintf(path, sizeof(path), "$.jobs[%d]", i);
	jb->backoff_min_ms = 1000;
	jb->backoff_max_ms = 300000;
	if ((rc = expect_type(ps, path, "object")) || (rc = only_keys(ps, path, known)))
		return rc;
#define SUB(k) (snprintf(sub, sizeof(sub), "%s.%s", path, k), sub)
	if ((rc = get_name(ps, SUB("name"), true, &jb->name)) ||
	    (rc = get_strings(ps, SUB("argv"), true, JLOG_ARGV_MAX, &jb->argv, &jb->argc)) ||
	    (rc = parse_env(ps, SUB("env"), jb)) ||
	    (rc = get_string(ps, SUB("cwd"), false, &jb->cwd)) ||
	    (rc = get_name(ps, SUB("group"), false, &jb->group)) ||
	    (rc = get_int(ps, SUB("priority"), -1000, 1000, &jb->priority)) ||
	    (rc = get_int(ps, SUB("retries"), 0, 1000, &jb->retries)) ||
	    (rc = get_duration(ps, SUB("timeout"), &jb->timeout_ms)) ||
	    (rc = get_bool(ps, SUB("wait_remote"), &jb->wait_remote)) ||
	    (rc = parse_identity(ps, path, jb)))
		return rc;
	if (jb->cwd && jb->cwd[0] != '/')
		return fail(ps, SUB("cwd"), "must be an absolute path, not '%s'", jb->cwd);
	if (jb->argv[0][0] == '\0')
		return fail(ps, SUB("argv[0]"), "the command is an empty string");
	if ((rc = get_string(ps, SUB("backoff"), false, &s)) != HF_OK)
		return rc;
	if (s) {
		char *dots = strstr(s, ".."), lo[32];
		if (!dots || (size_t)(dots - s) >= sizeof(lo))
			return fail(ps, sub, "'%s' is not MIN..MAX, e.g. 1s..5m", s);
		memcpy(lo, s, (size_t)(dots - s));
		lo[dots - s] = '\0';
		if (units_parse_duration(lo, &jb->backoff_min_ms) ||
		    units_parse_duration(dots + 2, &jb->backoff_max_ms) ||
		    jb->backoff_min_ms > jb->backoff_max_ms)
			return fail(ps, sub, "'%s' is not MIN..MAX with MIN <= MAX", s);
	}
	if (jb->timeout_ms == 0 && (rc = type_at(ps, SUB("timeout"), sub, sizeof(sub))) == HF_OK &&
	    *sub)
		return fail(ps, path, "timeout 0 would kill the job at once; omit it");
#undef SUB
	return HF_OK;
}

/* A job's "user" (it must exist here) and its "limit_*": a whole number,
** or a string as in holdfast.conf ("512MiB", "unlimited"). */
static int parse_identity(struct parse *ps, const char *path, struct pl_job *jb)
{
	char sub[96], type[16], *s;
	struct port_user u;
	int rc;

	snprintf(sub, sizeof(sub), "%s.user", path);
	if ((rc = get_string(ps, sub, false, &jb->user)) != HF_OK)
		return rc;
	if (jb->user && (!*jb->user || strlen(jb->user) >= CFG_NAME_MAX ||
			 port_user_lookup(jb->user, &u) != HF_OK))
		return fail(ps, sub, "no user '%s' in the password database", jb->user);
	for (int i = 0; i < JLOG_NLIMITS; i++) {
		const char *why;
		uint64_t v;

		snprintf(sub, sizeof(sub), "%s.%s", path, cfg_limit_names[i]);
		if ((rc = type_at(ps, sub, type, sizeof(type))) != HF_OK)
			return rc;
		if (!*type)
			continue;
		if (strcmp(type, "integer") && strcmp(type, "text"))
			return fail(ps, sub, "must be a whole number or a string, not %s", type);
		if ((rc = jlog_json_text(ps->j, ps->text, sub, &s)) != HF_OK)
			return rc;
		rc = cfg_parse_limit(i, s, &v, &why);
		if (rc != HF_OK) {
			rc = fail(ps, sub, "'%s' is not %s", s, why);
			free(s);
			return rc;
		}
		free(s);
		jb->limit_set[i] = true;
		jb->limit[i] = v == CFG_LIMIT_UNLIMITED ? -1 : (int64_t)v;
	}
	return HF_OK;
}

/* Resolves each job's "after" names to indexes. */
static int link_after(struct parse *ps)
{
	struct pl *p = ps->p;
	char path[96];
	char **names;
	int n, rc;

	for (int i = 0; i < p->njobs; i++) {
		for (int k = 0; k < i; k++)
			if (!strcmp(p->jobs[k].name, p->jobs[i].name)) {
				snprintf(path, sizeof(path), "$.jobs[%d].name", i);
				return fail(ps, path, "'%s' is used by an earlier job too",
					    p->jobs[i].name);
			}
	}
	for (int i = 0; i < p->njobs; i++) {
		struct pl_job *jb = &p->jobs[i];

		snprintf(path, sizeof(path), "$.jobs[%d].after", i);
		if ((rc = get_strings(ps, path, false, PL_MAX_JOBS, &names, &n)) != HF_OK)
			return rc;
		if (!(jb->after = zalloc(p, (size_t)(n + 1) * sizeof(int))))
			return HF_ENOMEM;
		for (int a = 0; a < n; a++) {
			int found = -1;
			for (int k = 0; k < p->njobs && found < 0; k++)
				if (!strcmp(p->jobs[k].name, names[a]))
					found = k;
			snprintf(path, sizeof(path), "$.jobs[%d].after[%d]", i, a);
			if (found < 0)
				return fail(ps, path, "no job named '%s' in this pipeline", names[a]);
			if (found == i)
				return fail(ps, path, "'%s' cannot wait for itself", names[a]);
			jb->after[jb->nafter++] = found;
		}
	}
	return HF_OK;
}

/* Depth-first search; on a cycle, logs it as "a -> b -> a". */
static int visit(struct parse *ps, int i, char *color, int *stack, int depth, int *out, int *nout)
{
	struct pl *p = ps->p;

	color[i] = 1;
	stack[depth] = i;
	for (int a = 0; a < p->jobs[i].nafter; a++) {
		int d = p->jobs[i].after[a];
		if (color[d] == 1) {
			char cyc[2048];
			size_t used = 0;
			int from = 0;
			while (stack[from] != d)
				from++;
			/* The edges point from a job to what it waits for, so the
			** cycle reads "a waits for b waits for ... a". */
			for (int s = from; s <= depth && used < sizeof(cyc); s++)
				used += (size_t)snprintf(cyc + used, sizeof(cyc) - used, "%s -> ",
							 p->jobs[stack[s]].name);
			if (used < sizeof(cyc))
				snprintf(cyc + used, sizeof(cyc) - used, "%s", p->jobs[d].name);
			port_log("%s: $.jobs: dependency cycle: %s (each waits for the next)",
				 ps->src, cyc);
			return HF_EINVAL;
		}
		if (color[d] == 0) {
			int rc = visit(ps, d, color, stack, depth + 1, out, nout);
			if (rc)
				return rc;
		}
	}
	color[i] = 2;
	out[(*nout)++] = i; /* after everything it waits for */
	return HF_OK;
}

static int order_jobs(struct parse *ps)
{
	struct pl *p = ps->p;
	char *color = zalloc(p, (size_t)p->njobs);
	int *stack = zalloc(p, (size_t)p->njobs * sizeof(int));
	int nout = 0, rc;

	p->order = zalloc(p, (size_t)p->njobs * sizeof(int));
	if (!color || !stack || !p->order)
		return HF_ENOMEM;
	for (int i = 0; i < p->njobs; i++)
		if (color[i] == 0 && (rc = visit(ps, i, color, stack, 0, p->order, &nout)))
			return rc;
	return HF_OK;
}

static int parse_params(struct parse *ps)
{
	struct pl *p = ps->p;
	char type[16], sub[512];
	struct keys ks;
	int rc;

	if ((rc = type_at(ps, "$.params", type, sizeof(type))) != HF_OK || !*type)
		return rc;
	if (strcmp(type, "object"))
		return fail(ps, "$.params", "must be an object of name: \"default\"");
	if ((rc = keys_at(ps, "$.params", &ks)) != HF_OK)
		return rc;
	if (ks.n > PL_MAX_PARAMS)
		return fail(ps, "$.params", "has more than 64 parameters");
	p->param_names = zalloc(p, (size_t)(ks.n + 1) * sizeof(char *));
	p->param_values = zalloc(p, (size_t)(ks.n + 1) * sizeof(char *));
	if (!p->param_names || !p->param_values)
		return HF_ENOMEM;
	for (int i = 0; i < ks.n; i++) {
		snprintf(sub, sizeof(sub), "$.params.%s", ks.k[i]);
		if (!names_valid(ks.k[i]))
			return fail(ps, sub, "is not a parameter name");
		if ((rc = get_string(ps, sub, true, &p->param_values[i])) != HF_OK)
			return rc;
		p->param_names[i] = ks.k[i];
	}
	p->nparams = ks.n;
	return HF_OK;
}

int pl_parse(struct jlog *j, const char *text, const char *src, struct pl *p)
{
	static const char *const known[] = { "name", "description", "params", "every", "cron",
					     "jobs", NULL };
	struct parse ps = { j, text, src, p };
	char err[160], *every, *cron, *desc;
	struct keys ks;
	int64_t pos;
	int rc;

	memset(p, 0, sizeof(*p));
	if (strlen(text) > PL_MAX_BYTES) {
		port_log("%s: larger than 1 MiB", src);
		return HF_EINVAL;
	}
	if ((rc = jlog_json_check(j, text, &pos)) != HF_OK)
		goto out;
	if (pos > 0) {
		int line, col;

		line_col(text, char_at(text, pos), &line, &col);
		port_log("%s:%d:%d: not valid JSON: syntax error at character %lld", src, line,
			 col, (long long)pos);
		rc = HF_EINVAL;
		goto out;
	}
	if ((rc = check_strict(&ps)) != HF_OK)
		goto out;
	if ((rc = expect_type(&ps, "$", "object")) || (rc = only_keys(&ps, "$", known)) ||
	    (rc = get_name(&ps, "$.name", true, &p->name)) ||
	    (rc = get_string(&ps, "$.description", false, &desc)) ||
	    (rc = parse_params(&ps)) ||
	    (rc = get_string(&ps, "$.every", false, &every)) ||
	    (rc = get_string(&ps, "$.cron", false, &cron)))
		goto out;
	if (every && cron) {
		rc = fail(&ps, "$", "has both \"every\" and \"cron\"; choose one");
		goto out;
	}
	if (every) {
		if (units_parse_duration(every, &p->every_ms) || p->every_ms < 1000) {
			rc = fail(&ps, "$.every", "'%s' is not a duration of at least 1s", every);
			goto out;
		}
		p->sched = PL_SCHED_EVERY;
		p->sched_text = every;
	} else if (cron) {
		if (cron_parse(cron, &p->cron, err, sizeof(err)) != HF_OK) {
			port_log("%s: $.cron: '%s': %s", src, cron, err);
			rc = HF_EINVAL;
			goto out;
		}
		p->sched = PL_SCHED_CRON;
		p->sched_text = cron;
	}
	if ((rc = expect_type(&ps, "$.jobs", "array")) || (rc = keys_at(&ps, "$.jobs", &ks)))
		goto out;
	if (ks.n == 0 || ks.n > PL_MAX_JOBS) {
		rc = fail(&ps, "$.jobs", "must hold 1 to 256 jobs");
		goto out;
	}
	p->njobs = ks.n;
	if (!(p->jobs = zalloc(p, (size_t)ks.n * sizeof(*p->jobs)))) {
		rc = HF_ENOMEM;
		goto out;
	}
	for (int i = 0; i < ks.n; i++)
		if ((rc = parse_job(&ps, i)) != HF_OK)
			goto out;
	if ((rc = link_after(&ps)) || (rc = order_jobs(&ps)))
		goto out;
	return HF_OK;
out:
	pl_free(p);
	return rc;
}

/* ---- parameters ------------------------------------------------------------------ */

/* Expands {{name}} in S; *OUT is a new arena string. */
static int expand(struct pl *p, const char *s, const char *where, char **out)
{
	size_t cap = strlen(s) + 1, used = 0;
	char *buf = malloc(cap);

	if (!buf)
		return HF_ENOMEM;
	while (*s) {
		const char *open = strstr(s, "{{"), *close, *val = NULL;
		size_t lit = open ? (size_t)(open - s) : strlen(s), vlen;

		while (used + lit + 1 > cap)
			buf = realloc(buf, cap *= 2);
		if (!buf)
			return HF_ENOMEM;
		memcpy(buf + used, s, lit);
		used += lit;
		s += lit;
		if (!open)
			break;
		if (!(close = strstr(open + 2, "}}"))) {
			port_log("pipeline %s: %s: '{{' without '}}'", p->name, where);
			free(buf);
			return HF_EINVAL;
		}
		for (int i = 0; i < p->nparams && !val; i++)
			if (strlen(p->param_names[i]) == (size_t)(close - open - 2) &&
			    !strncmp(p->param_names[i], open + 2, (size_t)(close - open - 2)))
				val = p->param_values[i];
		if (!val) {
			char hint[SUG_MAX_LEN + 32];

			param_hint(p, open + 2, (size_t)(close - open - 2), hint, sizeof(hint));
			port_log("pipeline %s: %s: unknown parameter {{%.*s}}%s", p->name, where,
				 (int)(close - open - 2), open + 2,
				 *hint ? hint : " (declare it in \"params\")");
			free(buf);
			return HF_EINVAL;
		}
		vlen = strlen(val);
		while (used + vlen + 1 > cap)
			buf = realloc(buf, cap *= 2);
		if (!buf)
			return HF_ENOMEM;
		memcpy(buf + used, val, vlen);
		used += vlen;
		s = close + 2;
	}
	buf[used] = '\0';
	if (used > JLOG_ARG_BYTES) {
		port_log("pipeline %s: %s: longer than 64 KiB after parameters", p->name, where);
		free(buf);
		return HF_EINVAL;
	}
	*out = keep(p, buf);
	return *out ? HF_OK : HF_ENOMEM;
}

int pl_apply_params(struct pl *p, char *const *kv, int n)
{
	char where[96];
	int rc;

	for (int i = 0; i < n; i++) {
		const char *eq = strchr(kv[i], '=');
		int found = -1;
		for (int k = 0; eq && k < p->nparams && found < 0; k++)
			if (strlen(p->param_names[k]) == (size_t)(eq - kv[i]) &&
			    !strncmp(p->param_names[k], kv[i], (size_t)(eq - kv[i])))
				found = k;
		if (!eq || found < 0) {
			char hint[SUG_MAX_LEN + 32] = "";

			if (eq)
				param_hint(p, kv[i], (size_t)(eq - kv[i]), hint, sizeof(hint));
			port_log("pipeline %s: --param '%s': %s%s", p->name, kv[i],
				 !eq ? "want NAME=VALUE" : "no such parameter in \"params\"", hint);
			return HF_EINVAL;
		}
		p->param_values[found] = (char *)eq + 1;
	}
	for (int i = 0; i < p->njobs; i++) {
		struct pl_job *jb = &p->jobs[i];
		for (int a = 0; a < jb->argc; a++) {
			snprintf(where, sizeof(where), "$.jobs[%d].argv[%d]", i, a);
			if ((rc = expand(p, jb->argv[a], where, &jb->argv[a])) != HF_OK)
				return rc;
		}
		for (int e = 0; e < jb->nenv; e++) {
			snprintf(where, sizeof(where), "$.jobs[%d].env", i);
			if ((rc = expand(p, jb->env[e], where, &jb->env[e])) != HF_OK)
				return rc;
		}
		if (jb->cwd) {
			snprintf(where, sizeof(where), "$.jobs[%d].cwd", i);
			if ((rc = expand(p, jb->cwd, where, &jb->cwd)) != HF_OK)
				return rc;
		}
	}
	return HF_OK;
}

int pl_instantiate(struct jlog *j, const struct pl *p, const char *trigger,
		   const struct jlog_now *now, int64_t *run)
{
	int64_t *ids, after[PL_MAX_JOBS];
	char **kv;
	int rc = HF_ENOMEM;

	ids = calloc((size_t)p->njobs, sizeof(*ids));
	kv = calloc((size_t)p->nparams + 1, sizeof(*kv));
	if (!ids || !kv)
		goto out;
	for (int i = 0; i < p->nparams; i++) {
		kv[i] = malloc(strlen(p->param_names[i]) + strlen(p->param_values[i]) + 2);
		if (!kv[i])
			goto out;
		sprintf(kv[i], "%s=%s", p->param_names[i], p->param_values[i]);
	}
	if ((rc = jlog_run_add(j, p->name, kv, p->nparams, trigger, now, run)) != HF_OK)
		goto out;
	/* In topological order, so every dependency has its id already. */
	for (int o = 0; o < p->njobs; o++) {
		const struct pl_job *jb = &p->jobs[p->order[o]];
		struct jlog_spec s;
		bool existed;

		memset(&s, 0, sizeof(s));
		s.name = jb->name;
		s.run = *run;
		s.argv = jb->argv;
		s.argc = jb->argc;
		s.env = jb->env;
		s.nenv = jb->nenv;
		s.cwd = jb->cwd ? jb->cwd : "/";
		s.group = jb->group;
		s.priority = jb->priority;
		s.retries = jb->retries;
		s.backoff_min_ms = jb->backoff_min_ms;
		s.backoff_max_ms = jb->backoff_max_ms;
		s.timeout_ms = jb->timeout_ms;
		s.user = jb->user;
		memcpy(s.limit_set, jb->limit_set, sizeof(s.limit_set));
		memcpy(s.limit, jb->limit, sizeof(s.limit));
		for (int a = 0; a < jb->nafter; a++)
			after[a] = ids[jb->after[a]];
		s.after = after;
		s.nafter = jb->nafter;
		if ((rc = jlog_job_add(j, &s, now, &ids[p->order[o]], &existed)) != HF_OK)
			goto out;
	}
	rc = HF_OK;
out:
	for (int i = 0; kv && i < p->nparams; i++)
		free(kv[i]);
	free(kv);
	free(ids);
	return rc;
}
