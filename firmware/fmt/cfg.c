/*
** cfg.c: holdfast.conf parsing (see cfg.h); every key, and the default file
** written from them, are in cfg_keys.c (cfg_int.h).
**
** The parser is line based and bounded: the file is at most CFG_MAX_BYTES,
** a line at most 1 KiB, names at most CFG_NAME_MAX. Errors name the file,
** line and key, and leave the caller's struct in an unspecified but valid
** state (the caller refuses to start).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "base/err.h"
#include "base/names.h"
#include "base/suggest.h"
#include "base/units.h"
#include "fmt/cfg.h"
#include "fmt/cfg_int.h"
#include "port.h"

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* A whole number V (digits only) in [LO, HI] into *OUT. */
static int parse_u64(const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long n;

	if (*v < '0' || *v > '9')
		return HF_EINVAL;
	n = strtoull(v, &end, 10);
	if (*end || n < lo || n > hi)
		return HF_EINVAL;
	*out = n;
	return HF_OK;
}

/* The key NAME of section SECT, or NULL. */
static const struct cfg_key *key_find(const char *sect, const char *name)
{
	for (const struct cfg_key *k = cfg_keys; k->name; k++)
		if (!strcmp(k->name, name) && (!sect || !strcmp(k->sect, sect)))
			return k;
	return NULL;
}

/* What to tell someone whose KEY is unknown in [SECT]: " (it is a [log]
** key)" if it is another section's key, else " (did you mean 'X'?)" for a
** near miss, else nothing; into BUF[LEN]. */
static void key_hint(const char *sect, const char *key, char *buf, size_t len)
{
	const struct cfg_key *other = key_find(NULL, key);
	struct sug sg;

	buf[0] = '\0';
	if (other) {
		snprintf(buf, len, " (it is a [%s] key)", other->sect);
		return;
	}
	sug_init(&sg, key);
	for (const struct cfg_key *k = cfg_keys; k->name; k++)
		if (!strcmp(k->sect, sect))
			sug_add(&sg, k->name);
	if (sug_best(&sg))
		snprintf(buf, len, " (did you mean '%s'?)", sug_best(&sg));
}

/* The index of section S in cfg_sections, or CFG_NSECTIONS. */
static size_t section_index(const char *s)
{
	size_t i = 0;

	while (i < CFG_NSECTIONS && strcmp(cfg_sections[i].name, s))
		i++;
	return i;
}

/* Whether V is a list of environment variable names (a final '*' makes a
** prefix), space-separated. */
static bool env_names_are_valid(const char *v)
{
	for (const char *p = v; *p; p++) {
		bool first = p == v || p[-1] == ' ';
		if (*p == ' ' || (*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
			continue;
		if (*p >= '0' && *p <= '9' && !first)
			continue;
		if (*p == '*' && !first && (p[1] == ' ' || !p[1]))
			continue;
		return false;
	}
	return true;
}

/* Whether V, a value for a text key, keeps RULE (cfg_int.h, CFG_R_*). */
static bool text_is_valid(int rule, const char *v)
{
	struct port_user u;

	switch (rule) {
	case CFG_R_NONEMPTY:
		return *v;
	case CFG_R_USER:
		return *v && !strpbrk(v, " \t:/") && port_user_lookup(v, &u) == HF_OK;
	case CFG_R_ENV_NAMES:
		return env_names_are_valid(v);
	case CFG_R_URL:
		return !strncmp(v, "file:///", 8) || (!strncmp(v, "s3://", 5) && v[5]);
	case CFG_R_ENDPOINT:
		return !strncmp(v, "https://", 8) || !strncmp(v, "http://", 7);
	case CFG_R_KEY:
		return *v && !strpbrk(v, " \t");
	case CFG_R_PIN:
		return !strncmp(v, "sha256//", 8) && strlen(v) == 52;
	case CFG_R_LINKS:
		return strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "0123456789-_.:@*?[] ") == strlen(v);
	case CFG_R_PATH:
		return v[0] == '/';
	case CFG_R_NAME:
		return names_valid(v);
	default:
		return true;
	}
}

/* The index of V among CHOICES ("a|b|c"), or -1. */
static int choice_index(const char *choices, const char *v)
{
	size_t len = strlen(v);
	int i = 0;

	for (const char *p = choices; *p; i++) {
		size_t n = strcspn(p, "|");
		if (n == len && !memcmp(p, v, n))
			return i;
		p += n + (p[n] == '|');
	}
	return -1;
}

/* "HH:MM-HH:MM" (UTC, may wrap past midnight, not empty) into minutes of
** the day. */
static int parse_window(const char *v, int *start, int *end)
{
	int h1, m1, h2, m2, n = 0;

	if (sscanf(v, "%2d:%2d-%2d:%2d%n", &h1, &m1, &h2, &m2, &n) != 4 || v[n] || h1 > 23 ||
	    h2 > 23 || m1 > 59 || m2 > 59 || h1 < 0 || h2 < 0 || m1 < 0 || m2 < 0 ||
	    h1 * 60 + m1 == h2 * 60 + m2)
		return HF_EINVAL;
	*start = h1 * 60 + m1;
	*end = h2 * 60 + m2;
	return HF_OK;
}

/* Sets key K of C from VAL as the table says (cfg_int.h); else HF_EINVAL,
** and what the key wants in *WHY. */
static int set_key(struct cfg *c, const struct cfg_key *k, const char *val, const char **why)
{
	char *at = (char *)c + k->off;
	uint64_t n;
	int i;

	*why = k->why;
	switch (k->type) {
	case CFG_T_UINT:
	case CFG_T_INT64:
		if (parse_u64(val, k->lo, k->hi, &n))
			return HF_EINVAL;
		if (k->type == CFG_T_UINT)
			*(unsigned *)(void *)at = (unsigned)n;
		else
			*(int64_t *)(void *)at = (int64_t)n;
		return HF_OK;
	case CFG_T_DURATION:
	case CFG_T_SIZE:
		if (((k->flags & CFG_F_ZERO) && !strcmp(val, "0")) ||
		    ((k->flags & CFG_F_AUTO) && !strcmp(val, "auto")))
			n = 0;
		else if ((k->type == CFG_T_SIZE ? units_parse_size(val, &n) :
						  units_parse_duration(val, &n)) != HF_OK ||
			 (n < k->lo && !(n == 0 && (k->flags & CFG_F_ZERO))) || n > k->hi)
			return HF_EINVAL;
		*(uint64_t *)(void *)at = n;
		return HF_OK;
	case CFG_T_TEXT:
		if (strlen(val) >= k->size || !text_is_valid(k->rule, val))
			return HF_EINVAL;
		memcpy(at, val, strlen(val) + 1);
		return HF_OK;
	case CFG_T_CHOICE:
		if ((i = choice_index(k->choices, val)) < 0)
			return HF_EINVAL;
		if (k->size == sizeof(bool))
			*(bool *)(void *)at = i;
		else
			*(int *)(void *)at = i;
		return HF_OK;
	case CFG_T_OCTAL: {
		char *end;
		unsigned long m = strtoul(val, &end, 8);
		if (*val < '0' || *val > '7' || *end || m > k->hi)
			return HF_EINVAL;
		*(unsigned *)(void *)at = (unsigned)m;
		return HF_OK;
	}
	case CFG_T_WINDOW:
		return parse_window(val, &c->window_start, &c->window_end);
	case CFG_T_LIMIT:
		if (cfg_parse_limit(k->rule, val, &c->limit[k->rule], why) != HF_OK)
			return HF_EINVAL;
		c->limit_set[k->rule] = true;
		return HF_OK;
	}
	return HF_EINVAL;
}

void cfg_init(struct cfg *c)
{
	const char *why;

	memset(c, 0, sizeof(*c));
	for (const struct cfg_key *k = cfg_keys; k->name; k++)
		if (k->shown && *k->shown && !(k->flags & CFG_F_EXAMPLE))
			(void)set_key(c, k, k->shown, &why);
}

const char *const cfg_limit_names[CFG_NLIMITS] = { "limit_nofile", "limit_as", "limit_core" };

int cfg_parse_limit(int which, const char *val, uint64_t *out, const char **why)
{
	if (which == CFG_LIMIT_NOFILE) {
		*why = "a number of open files from 3 to 1048576";
		return parse_u64(val, 3, 1048576, out);
	}
	*why = "a size such as 512MiB, or unlimited";
	if (strcmp(val, "unlimited") == 0) {
		*out = CFG_LIMIT_UNLIMITED;
		return HF_OK;
	}
	/* Stored in the job log as a signed 64-bit number. */
	if (units_parse_size(val, out) != HF_OK || *out > (uint64_t)INT64_MAX)
		return HF_EINVAL;
	return HF_OK;
}

/* [groups] NAME = LIMIT: any group name is a key. */
static int set_group(struct cfg *c, const char *key, const char *val, const char **why)
{
	uint64_t limit;

	*why = "GROUP = LIMIT, a group name of at most 63 characters and a whole number "
	       "from 1 to 1024";
	if (!names_valid(key) || strlen(key) >= CFG_NAME_MAX || parse_u64(val, 1, 1024, &limit))
		return HF_EINVAL;
	for (unsigned i = 0; i < c->ngroups; i++) {
		if (strcmp(c->groups[i].name, key) == 0) {
			c->groups[i].limit = (unsigned)limit;
			return HF_OK;
		}
	}
	if (c->ngroups == CFG_MAX_GROUPS) {
		*why = "at most 32 groups";
		return HF_ETOOBIG;
	}
	snprintf(c->groups[c->ngroups].name, CFG_NAME_MAX, "%s", key);
	c->groups[c->ngroups++].limit = (unsigned)limit;
	return HF_OK;
}

/*
** A section or a key given twice is an error, not "the last one wins": in a
** file edited by hand, or by a provisioning script that appends, the second
** one is usually the mistake, and which one counts should not be a guess.
** (git config and systemd units merge repeats because their keys may hold
** lists; every holdfast.conf key holds one value.) A section counts as
** given where its first setting is: a header with only comments under it,
** like each of the default file's, is a template, so a [replica] block added
** at the end of that file is not a second [replica] (appending is how
** scripts and our tests configure a directory).
**
** The settings seen so far are recorded by where their key is in TEXT. Each
** is a known key of a known section, or one of at most CFG_MAX_GROUPS groups,
** and each is there once, so a valid file never reaches CFG_SEEN_MAX.
*/
#define CFG_SEEN_MAX 256

struct seen {
	struct {
		const char *key; /* in TEXT, not NUL-terminated */
		size_t len;
		size_t sect;     /* index into cfg_sections[] */
		int line;
	} v[CFG_SEEN_MAX];
	int n;
	int sect_line[CFG_NSECTIONS]; /* the header each section's settings are under */
};

/* Records KEY[LEN] (in TEXT), set on line LINE of NAME in section [SECT]
** (index SI) under the header on line HEADER; refuses a repeat. */
static int seen_add(struct seen *sn, const char *name, int line, int header, size_t si,
		    const char *sect, const char *key, size_t len)
{
	if (sn->sect_line[si] && sn->sect_line[si] != header) {
		port_log("%s:%d: section [%s] again (first on line %d); put all its keys under "
			 "one [%s]", name, header, sect, sn->sect_line[si], sect);
		return HF_EINVAL;
	}
	sn->sect_line[si] = header;
	for (int i = 0; i < sn->n; i++) {
		if (sn->v[i].sect == si && sn->v[i].len == len && !memcmp(sn->v[i].key, key, len)) {
			port_log("%s:%d: %.*s set again in [%s] (first on line %d); keep one", name,
				 line, (int)len, key, sect, sn->v[i].line);
			return HF_EINVAL;
		}
	}
	if (sn->n == CFG_SEEN_MAX) {
		port_log("%s:%d: more than %d settings", name, line, CFG_SEEN_MAX);
		return HF_EINVAL;
	}
	sn->v[sn->n].key = key;
	sn->v[sn->n].len = len;
	sn->v[sn->n].sect = si;
	sn->v[sn->n++].line = line;
	return HF_OK;
}

/* The section a header line S ("[name]") names, said with NAME:LINENO
** if it is malformed or unknown (then CFG_NSECTIONS). */
static size_t section_of(char *s, const char *name, int lineno)
{
	char *end = strchr(s, ']');
	struct sug sg;
	size_t si;

	if (!end || end[1] != '\0') {
		port_log("%s:%d: malformed section header '%s'", name, lineno, s);
		return CFG_NSECTIONS;
	}
	*end = '\0';
	s = trim(s + 1);
	if ((si = section_index(s)) < CFG_NSECTIONS)
		return si;
	sug_init(&sg, s);
	for (size_t i = 0; i < CFG_NSECTIONS; i++)
		sug_add(&sg, cfg_sections[i].name);
	if (sug_best(&sg))
		port_log("%s:%d: unknown section [%s] (did you mean [%s]?)", name, lineno, s,
			 sug_best(&sg));
	else
		port_log("%s:%d: unknown section [%s] (known: jobs, log, replica, history, "
			 "groups)", name, lineno, s);
	return CFG_NSECTIONS;
}

/* [history] max_bytes, set on line LINE of NAME (0: not set), is not
** below the floor that the whole file's other keys make (said if it is). */
static bool max_bytes_ok(const struct cfg *c, const char *name, int line)
{
	char have[32], floor[32];

	if (!line || !c->history_max_bytes || c->history_max_bytes >= cfg_max_bytes_floor(c))
		return true;
	units_format_size(c->history_max_bytes, have, sizeof(have));
	units_format_size(cfg_max_bytes_floor(c), floor, sizeof(floor));
	port_log("%s:%d: max_bytes %s is below the least the job log needs to work with these "
		 "settings, %s (4 x [log] wal_max, [replica] spool_max when a replica is set, "
		 "20 x [jobs] output_cap for the newest jobs, and 8MiB)", name, line, have, floor);
	return false;
}

int cfg_parse(struct cfg *c, const char *text, const char *name)
{
	char line[1024], sect[CFG_NAME_MAX] = "";
	struct seen sn = { .n = 0 };
	const char *p = text;
	int lineno = 0, header = 0, max_bytes_line = 0;
	size_t si = CFG_NSECTIONS;

	while (*p) {
		const char *nl = strchr(p, '\n'), *start = p;
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *s, *eq, *key, *val, *hash;
		const struct cfg_key *k;
		const char *why = NULL;
		int rc;

		lineno++;
		if (len >= sizeof(line)) {
			port_log("%s:%d: line longer than %zu bytes", name, lineno, sizeof(line) - 1);
			return HF_EINVAL;
		}
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (nl ? 1 : 0);
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		s = trim(line);
		if (*s == '\0')
			continue;
		if (*s == '[') {
			if ((si = section_of(s, name, lineno)) == CFG_NSECTIONS)
				return HF_EINVAL;
			header = lineno;
			snprintf(sect, sizeof(sect), "%s", cfg_sections[si].name);
			continue;
		}
		if (!(eq = strchr(s, '='))) {
			port_log("%s:%d: expected 'key = value', got '%s'", name, lineno, s);
			return HF_EINVAL;
		}
		*eq = '\0';
		key = trim(s);
		val = trim(eq + 1);
		if (!*sect) {
			port_log("%s:%d: '%s' is outside any [section]", name, lineno, key);
			return HF_EINVAL;
		}
		if (strcmp(sect, "groups") == 0)
			rc = set_group(c, key, val, &why);
		else if ((k = key_find(sect, key)) != NULL)
			rc = set_key(c, k, val, &why);
		else
			rc = HF_ENOENT;
		if (rc == HF_ENOENT) {
			char hint[96];

			key_hint(sect, key, hint, sizeof(hint));
			port_log("%s:%d: unknown key '%s' in [%s]%s", name, lineno, key, sect,
				 hint);
			return HF_EINVAL;
		}
		if (rc != HF_OK) {
			port_log("%s:%d: bad value '%s' for %s: want %s", name, lineno, val, key, why);
			return HF_EINVAL;
		}
		if (seen_add(&sn, name, lineno, header, si, sect, start + (key - line),
			     strlen(key)) != HF_OK)
			return HF_EINVAL;
		if (strcmp(sect, "history") == 0 && strcmp(key, "max_bytes") == 0)
			max_bytes_line = lineno;
	}
	return max_bytes_ok(c, name, max_bytes_line) ? HF_OK : HF_EINVAL;
}

uint64_t cfg_max_bytes_floor(const struct cfg *c)
{
	uint64_t f = 4 * c->wal_max + CFG_HISTORY_FLOOR_JOBS * c->output_cap + CFG_MAX_BYTES_SLACK;

	if (c->replica[0])
		f += c->spool_max;
	return f;
}

uint64_t cfg_max_bytes(const struct cfg *c, uint64_t fs_bytes)
{
	uint64_t b, floor = cfg_max_bytes_floor(c);

	if (c->history_max_bytes)
		return c->history_max_bytes;
	/* journald's SystemMaxUse: 10% of the file system, at most 4 GiB. */
	b = fs_bytes / 10;
	if (b > CFG_MAX_BYTES_CAP)
		b = CFG_MAX_BYTES_CAP;
	return b < floor ? floor : b;
}

int cfg_load(struct cfg *c, const char *path)
{
	char *text = NULL;
	size_t len;
	int rc;

	cfg_init(c);
	rc = port_fs_read_file(path, CFG_MAX_BYTES, &text, &len);
	if (rc == HF_ENOENT)
		return HF_OK;
	if (rc != HF_OK)
		return rc;
	if (strlen(text) != len) {
		const char *nul = text + strlen(text), *bol = text;
		int line = 1;

		for (const char *q = text; q < nul; q++)
			if (*q == '\n') {
				line++;
				bol = q + 1;
			}
		port_log("%s:%d:%d: a NUL byte; a config is text, which has none", path, line,
			 (int)(nul - bol) + 1);
		rc = HF_EINVAL;
	} else {
		rc = cfg_parse(c, text, path);
	}
	crypto_wipe(text, len); /* it may hold a secret */
	free(text);
	/* A secret others can read is no secret: refuse, and say how to fix it. */
	mode_t mode;
	if (rc == HF_OK && c->s3_secret_key[0] && port_fs_mode(path, &mode) == HF_OK && (mode & 077)) {
		port_log("%s holds [replica] secret_key but others can read it (mode %04o); chmod 600 "
			 "it, or move the keys to a credentials_file", path, (unsigned)mode);
		rc = HF_EACCES;
	}
	return rc;
}

/* Whether NAME (NAME_LEN bytes) is in LIST: a space-separated list of
** names, each either exact or, ending in '*', a prefix. */
static bool name_in_list(const char *list, const char *name, size_t name_len)
{
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, " ");
		if (n && p[n - 1] == '*' ? name_len >= n - 1 && !memcmp(p, name, n - 1) :
		    n == name_len && !memcmp(p, name, n))
			return true;
		p += n;
		p += strspn(p, " ");
	}
	return false;
}

bool cfg_env_is_secret(const struct cfg *c, const char *name, size_t name_len)
{
	return name_in_list(CFG_SECRET_ENV_ALWAYS, name, name_len) ||
	       (c && name_in_list(c->secret_env, name, name_len));
}

void cfg_wipe(struct cfg *c)
{
	crypto_wipe(c->s3_access_key, sizeof(c->s3_access_key));
	crypto_wipe(c->s3_secret_key, sizeof(c->s3_secret_key));
}

unsigned cfg_group_limit(const struct cfg *c, const char *name)
{
	for (unsigned i = 0; i < c->ngroups; i++)
		if (strcmp(c->groups[i].name, name) == 0)
			return c->groups[i].limit;
	return 1;
}

const char *cfg_init_text(bool root)
{
	static const char root_text[] =
		"# holdfast init ran as root, so jobs run as root, which needs saying here.\n"
		"# Better: a user for them (user = NAME) and no allow_root.\n"
		"allow_root = yes\n";
	static char buf[8192];
	const char *def = cfg_default_text(), *at = strstr(def, "\n[jobs]\n");

	if (!root || !at)
		return def;
	at += strlen("\n[jobs]\n");
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - def), def, root_text, at);
	return buf;
}
