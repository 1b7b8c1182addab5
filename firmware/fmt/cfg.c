/*
** cfg.c: holdfast.conf parsing and the default file (see cfg.h).
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
#include "port.h"

void cfg_init(struct cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->concurrency = 4;
	c->jobs_umask = 022;
	c->kill_grace_ms = 10000;
	c->output_cap = 1024 * 1024;
	c->shutdown_grace_ms = 10000;
	c->quarantine_after = 3;
	c->wal_max = 4 * 1024 * 1024;
	c->seal_interval_ms = 1000;
	c->seal_bytes = 1024 * 1024;
	c->spool_max = 64 * 1024 * 1024;
	c->s3_timeout_ms = 30000;
	c->s3_retries = 4;
	c->s3_part_size = 16 * 1024 * 1024;
	/* Cellular modems' links (wwan0, wwp0s20u4 from ModemManager and
	** the like, ppp0 from pppd). */
	snprintf(c->metered_links, sizeof(c->metered_links), "wwan* wwp* ppp*");
	c->metered_snapshot_max = 1024 * 1024;
	c->history_keep_ms = 7ULL * 24 * 3600 * 1000;
	c->history_keep_failed_ms = 30ULL * 24 * 3600 * 1000;
	c->history_keep_jobs = 10000;
	c->history_max_bytes = 0; /* auto: cfg_max_bytes */
}

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

static int parse_uint(const char *v, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	unsigned long n;

	if (*v < '0' || *v > '9')
		return HF_EINVAL;
	n = strtoul(v, &end, 10);
	if (*end || n < lo || n > hi)
		return HF_EINVAL;
	*out = (unsigned)n;
	return HF_OK;
}

/* The sections and the keys set_key knows, for "did you mean" ([groups]
** takes any group name). Keep in step with set_key: the unit tests check
** every key of cfg_default_text against these. */
static const char *const jobs_keys[] = { "concurrency", "kill_grace", "shutdown_grace",
					 "quarantine_after", "output_cap", "user", "allow_root",
					 "umask", "limit_nofile", "limit_as", "limit_core",
					 "secret_env", NULL };
static const char *const log_keys[] = { "wal_max", NULL };
static const char *const history_keys[] = { "keep", "keep_failed", "keep_jobs", "max_bytes",
					    NULL };
static const char *const replica_keys[] = {
	"url", "endpoint", "timeout", "access_key", "secret_key", "pin", "addressing", "payload",
	"retries", "bandwidth", "daily_budget", "upload_window", "metered", "metered_links",
	"metered_snapshot_max", "part_size", "region", "ca_file", "credentials_file",
	"key_file", "metrics_file", "device", "seal_interval", "spool_max", "seal_bytes", NULL
};
static const struct {
	const char *name;
	const char *const *keys;
} sections[] = { { "jobs", jobs_keys }, { "log", log_keys }, { "replica", replica_keys },
		 { "history", history_keys }, { "groups", NULL } };
#define NSECTIONS (sizeof(sections) / sizeof(sections[0]))

/* What to tell someone whose KEY is unknown in [SECT]: " (it is a [log]
** key)" if it is another section's key, else " (did you mean 'X'?)" for a
** near miss, else nothing; into BUF[LEN]. */
static void key_hint(const char *sect, const char *key, char *buf, size_t len)
{
	const char *best = NULL;

	buf[0] = '\0';
	for (size_t i = 0; i < NSECTIONS; i++) {
		for (const char *const *k = sections[i].keys; k && *k; k++) {
			if (!strcmp(*k, key)) {
				snprintf(buf, len, " (it is a [%s] key)", sections[i].name);
				return;
			}
		}
		if (!strcmp(sections[i].name, sect) && sections[i].keys)
			best = sug_among(key, sections[i].keys);
	}
	if (best)
		snprintf(buf, len, " (did you mean '%s'?)", best);
}

static bool section_is_known(const char *s)
{
	for (size_t i = 0; i < NSECTIONS; i++)
		if (!strcmp(sections[i].name, s))
			return true;
	return false;
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

/* [jobs] user, allow_root, umask, limit_* and secret_env: who a job runs
** as and what it gets (README "Jobs: environment and privileges"). */
static int set_jobs_identity(struct cfg *c, const char *key, const char *val, const char **why)
{
	if (strcmp(key, "user") == 0) {
		struct port_user u;
		*why = "the name of a user in the password database (/etc/passwd)";
		if (!*val || strlen(val) >= sizeof(c->jobs_user) || strpbrk(val, " \t:/"))
			return HF_EINVAL;
		if (port_user_lookup(val, &u) != HF_OK)
			return HF_EINVAL;
		snprintf(c->jobs_user, sizeof(c->jobs_user), "%s", val);
		return HF_OK;
	}
	if (strcmp(key, "allow_root") == 0) {
		*why = "yes or no";
		if (strcmp(val, "yes") != 0 && strcmp(val, "no") != 0)
			return HF_EINVAL;
		c->jobs_allow_root = val[0] == 'y';
		return HF_OK;
	}
	if (strcmp(key, "umask") == 0) {
		char *end;
		unsigned long m = strtoul(val, &end, 8);
		*why = "an octal mask from 000 to 777, such as 022 or 027";
		if (*val < '0' || *val > '7' || *end || m > 0777)
			return HF_EINVAL;
		c->jobs_umask = (unsigned)m;
		return HF_OK;
	}
	if (strcmp(key, "secret_env") == 0) {
		*why = "environment variable names (NAME, or a prefix NAME*), space-separated";
		if (strlen(val) >= sizeof(c->secret_env) || !env_names_are_valid(val))
			return HF_EINVAL;
		snprintf(c->secret_env, sizeof(c->secret_env), "%s", val);
		return HF_OK;
	}
	for (int i = 0; i < CFG_NLIMITS; i++) {
		if (strcmp(key, cfg_limit_names[i]) != 0)
			continue;
		if (cfg_parse_limit(i, val, &c->limit[i], why) != HF_OK)
			return HF_EINVAL;
		c->limit_set[i] = true;
		return HF_OK;
	}
	*why = NULL;
	return HF_ENOENT;
}

const char *const cfg_limit_names[CFG_NLIMITS] = { "limit_nofile", "limit_as", "limit_core" };

int cfg_parse_limit(int which, const char *val, uint64_t *out, const char **why)
{
	if (which == CFG_LIMIT_NOFILE) {
		unsigned n;
		*why = "a number of open files from 3 to 1048576";
		if (parse_uint(val, 3, 1048576, &n))
			return HF_EINVAL;
		*out = n;
		return HF_OK;
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

static int set_key(struct cfg *c, const char *sect, const char *key, const char *val,
		   const char **why)
{
	if (strcmp(sect, "jobs") == 0) {
		if (strcmp(key, "concurrency") == 0) {
			*why = "a whole number from 1 to 1024";
			return parse_uint(val, 1, 1024, &c->concurrency);
		}
		if (strcmp(key, "kill_grace") == 0) {
			*why = "a duration such as 10s";
			return units_parse_duration(val, &c->kill_grace_ms);
		}
		if (strcmp(key, "shutdown_grace") == 0) {
			*why = "a duration such as 10s";
			return units_parse_duration(val, &c->shutdown_grace_ms);
		}
		if (strcmp(key, "quarantine_after") == 0) {
			unsigned n;
			*why = "a whole number from 0 (never) to 100";
			if (parse_uint(val, 0, 100, &n))
				return HF_EINVAL;
			c->quarantine_after = n;
			return HF_OK;
		}
		if (strcmp(key, "output_cap") == 0) {
			*why = "a size such as 1MiB";
			return units_parse_size(val, &c->output_cap);
		}
		if (strncmp(key, "limit_", 6) == 0 || strcmp(key, "umask") == 0 ||
		    strcmp(key, "user") == 0 || strcmp(key, "allow_root") == 0 ||
		    strcmp(key, "secret_env") == 0)
			return set_jobs_identity(c, key, val, why);
	} else if (strcmp(sect, "log") == 0) {
		if (strcmp(key, "wal_max") == 0) {
			*why = "a size of at least 64KiB, such as 4MiB";
			if (units_parse_size(val, &c->wal_max) || c->wal_max < CFG_WAL_MAX_MIN)
				return HF_EINVAL;
			return HF_OK;
		}
	} else if (strcmp(sect, "replica") == 0) {
		if (strcmp(key, "url") == 0) {
			*why = "file:///ABSOLUTE/DIR (a USB stick, a NAS mount...) or s3://BUCKET/PREFIX";
			if ((strncmp(val, "file:///", 8) != 0 && (strncmp(val, "s3://", 5) != 0 || !val[5])) ||
			    strlen(val) >= sizeof(c->replica))
				return HF_EINVAL;
			snprintf(c->replica, sizeof(c->replica), "%s", val);
			return HF_OK;
		}
		if (strcmp(key, "endpoint") == 0) {
			*why = "https://HOST[:PORT] of the S3 service";
			if ((strncmp(val, "https://", 8) && strncmp(val, "http://", 7)) ||
			    strlen(val) >= sizeof(c->s3_endpoint))
				return HF_EINVAL;
			snprintf(c->s3_endpoint, sizeof(c->s3_endpoint), "%s", val);
			return HF_OK;
		}
		if (strcmp(key, "timeout") == 0) {
			*why = "a duration from 1s to 10m, such as 30s";
			if (units_parse_duration(val, &c->s3_timeout_ms) || c->s3_timeout_ms < 1000 ||
			    c->s3_timeout_ms > 600000)
				return HF_EINVAL;
			return HF_OK;
		}
		if (strcmp(key, "access_key") == 0 || strcmp(key, "secret_key") == 0) {
			char *dst = key[0] == 'a' ? c->s3_access_key : c->s3_secret_key;
			*why = "the S3 key (up to 255 characters, no spaces)";
			if (!*val || strlen(val) >= sizeof(c->s3_access_key) || strpbrk(val, " \t"))
				return HF_EINVAL;
			snprintf(dst, sizeof(c->s3_access_key), "%s", val);
			return HF_OK;
		}
		if (strcmp(key, "pin") == 0) {
			*why = "sha256//BASE64: the SHA-256 of the server's public key";
			if (strncmp(val, "sha256//", 8) != 0 || strlen(val) != 52)
				return HF_EINVAL;
			snprintf(c->s3_pin, sizeof(c->s3_pin), "%s", val);
			return HF_OK;
		}
		if (strcmp(key, "addressing") == 0) {
			*why = "path (https://ENDPOINT/BUCKET/KEY) or virtual (https://BUCKET.ENDPOINT/KEY)";
			if (strcmp(val, "path") != 0 && strcmp(val, "virtual") != 0)
				return HF_EINVAL;
			c->s3_virtual_host = val[0] == 'v';
			return HF_OK;
		}
		if (strcmp(key, "payload") == 0) {
			*why = "signed (the server checks each body's SHA-256) or unsigned (TLS only, less CPU)";
			if (strcmp(val, "signed") != 0 && strcmp(val, "unsigned") != 0)
				return HF_EINVAL;
			c->s3_unsigned_payload = val[0] == 'u';
			return HF_OK;
		}
		if (strcmp(key, "retries") == 0) {
			char *e;
			unsigned long n = strtoul(val, &e, 10);
			*why = "a number of tries after the first, 0 to 20";
			if (!*val || *e || n > 20)
				return HF_EINVAL;
			c->s3_retries = (unsigned)n;
			return HF_OK;
		}
		if (strcmp(key, "bandwidth") == 0) {
			*why = "bytes per second sent, such as 256KiB (0: no cap)";
			if (units_parse_size(val, &c->bandwidth) ||
			    (c->bandwidth && c->bandwidth < 1024))
				return HF_EINVAL;
			return HF_OK;
		}
		if (strcmp(key, "daily_budget") == 0) {
			*why = "bytes sent to the replica per day, such as 50MiB (0: no budget)";
			if (units_parse_size(val, &c->daily_budget) ||
			    (c->daily_budget && c->daily_budget < 65536))
				return HF_EINVAL;
			return HF_OK;
		}
		if (strcmp(key, "upload_window") == 0) {
			int h1, m1, h2, m2, n = 0;
			*why = "HH:MM-HH:MM in UTC, such as 01:00-05:00 (may wrap past midnight)";
			if (sscanf(val, "%2d:%2d-%2d:%2d%n", &h1, &m1, &h2, &m2, &n) != 4 || val[n] ||
			    h1 > 23 || h2 > 23 || m1 > 59 || m2 > 59 || h1 < 0 || h2 < 0 || m1 < 0 ||
			    m2 < 0 || h1 * 60 + m1 == h2 * 60 + m2)
				return HF_EINVAL;
			c->window_start = h1 * 60 + m1;
			c->window_end = h2 * 60 + m2;
			return HF_OK;
		}
		if (strcmp(key, "metered") == 0) {
			*why = "auto (when the default route's link is in metered_links), yes or no";
			if (strcmp(val, "auto") == 0)
				c->metered = CFG_METERED_AUTO;
			else if (strcmp(val, "yes") == 0)
				c->metered = CFG_METERED_YES;
			else if (strcmp(val, "no") == 0)
				c->metered = CFG_METERED_NO;
			else
				return HF_EINVAL;
			return HF_OK;
		}
		if (strcmp(key, "metered_links") == 0) {
			*why = "link names or patterns such as wwan* ppp0, space-separated";
			if (strlen(val) >= sizeof(c->metered_links) ||
			    strspn(val, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					"0123456789-_.:@*?[] ") != strlen(val))
				return HF_EINVAL;
			snprintf(c->metered_links, sizeof(c->metered_links), "%s", val);
			return HF_OK;
		}
		if (strcmp(key, "metered_snapshot_max") == 0) {
			*why = "a size such as 1MiB: larger snapshots wait for an unmetered link";
			return units_parse_size(val, &c->metered_snapshot_max) ? HF_EINVAL : HF_OK;
		}
		if (strcmp(key, "part_size") == 0) {
			*why = "a size from 5MiB to 5GiB, such as 16MiB";
			if (units_parse_size(val, &c->s3_part_size) || c->s3_part_size < (5u << 20) ||
			    c->s3_part_size > (5ull << 30))
				return HF_EINVAL;
			return HF_OK;
		}
		if (strcmp(key, "region") == 0) {
			*why = "an S3 region such as eu-west-1";
			if (!*val || strlen(val) >= sizeof(c->s3_region))
				return HF_EINVAL;
			snprintf(c->s3_region, sizeof(c->s3_region), "%s", val);
			return HF_OK;
		}
		if (strcmp(key, "ca_file") == 0 || strcmp(key, "credentials_file") == 0 ||
		    strcmp(key, "metrics_file") == 0 || strcmp(key, "key_file") == 0) {
			char *dst = key[0] == 'm' ? c->metrics_file :
				    key[0] == 'k' ? c->replica_key_file :
				    key[0] == 'c' && key[1] == 'a' ? c->s3_ca_file : c->s3_credentials_file;
			*why = "an absolute path";
			if (val[0] != '/' || strlen(val) >= sizeof(c->s3_ca_file))
				return HF_EINVAL;
			snprintf(dst, sizeof(c->s3_ca_file), "%s", val);
			return HF_OK;
		}
		if (strcmp(key, "device") == 0) {
			*why = "a name of letters, digits, '.', '_' and '-'";
			if (!names_valid(val))
				return HF_EINVAL;
			snprintf(c->device, sizeof(c->device), "%s", val);
			return HF_OK;
		}
		if (strcmp(key, "seal_interval") == 0) {
			*why = "a duration such as 10s";
			return units_parse_duration(val, &c->seal_interval_ms);
		}
		if (strcmp(key, "spool_max") == 0) {
			*why = "a size of at least 64KiB, such as 64MiB";
			if (units_parse_size(val, &c->spool_max) || c->spool_max < 65536)
				return HF_EINVAL;
			return HF_OK;
		}
		if (strcmp(key, "seal_bytes") == 0) {
			*why = "a size such as 1MiB";
			return units_parse_size(val, &c->seal_bytes);
		}
	} else if (strcmp(sect, "history") == 0) {
		if (strcmp(key, "keep") == 0 || strcmp(key, "keep_failed") == 0) {
			uint64_t *dst = key[4] ? &c->history_keep_failed_ms : &c->history_keep_ms;
			*why = "a duration such as 7d or 12h (0: no age limit)";
			if (strcmp(val, "0") == 0) {
				*dst = 0;
				return HF_OK;
			}
			return units_parse_duration(val, dst);
		}
		if (strcmp(key, "keep_jobs") == 0) {
			char *e;
			unsigned long long n = strtoull(val, &e, 10);
			*why = "a number of finished jobs from 0 (no count limit) to 1000000000";
			if (*val < '0' || *val > '9' || *e || n > 1000000000ULL)
				return HF_EINVAL;
			c->history_keep_jobs = (int64_t)n;
			return HF_OK;
		}
		if (strcmp(key, "max_bytes") == 0) {
			/* Its floor depends on [log] and [replica] keys that may come
			** later in the file: cfg_parse checks it at the end. */
			*why = "a size such as 512MiB, or auto (10% of the file system, at most 4GiB)";
			if (strcmp(val, "auto") == 0) {
				c->history_max_bytes = 0;
				return HF_OK;
			}
			if (units_parse_size(val, &c->history_max_bytes) || !c->history_max_bytes ||
			    c->history_max_bytes > (uint64_t)INT64_MAX)
				return HF_EINVAL;
			return HF_OK;
		}
	} else if (strcmp(sect, "groups") == 0) {
		unsigned limit;

		*why = "GROUP = LIMIT, a group name and a whole number from 1 to 1024";
		if (!names_valid(key) || parse_uint(val, 1, 1024, &limit))
			return HF_EINVAL;
		for (unsigned i = 0; i < c->ngroups; i++) {
			if (strcmp(c->groups[i].name, key) == 0) {
				c->groups[i].limit = limit;
				return HF_OK;
			}
		}
		if (c->ngroups == CFG_MAX_GROUPS) {
			*why = "at most 32 groups";
			return HF_ETOOBIG;
		}
		snprintf(c->groups[c->ngroups].name, CFG_NAME_MAX, "%s", key);
		c->groups[c->ngroups++].limit = limit;
		return HF_OK;
	}
	*why = NULL;
	return HF_ENOENT;
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
		size_t sect;     /* index into sections[] */
		int line;
	} v[CFG_SEEN_MAX];
	int n;
	int sect_line[NSECTIONS]; /* the header each section's settings are under */
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

static size_t section_index(const char *s)
{
	size_t i = 0;

	while (i < NSECTIONS && strcmp(sections[i].name, s))
		i++;
	return i;
}

int cfg_parse(struct cfg *c, const char *text, const char *name)
{
	char line[1024], sect[CFG_NAME_MAX] = "";
	struct seen sn = { .n = 0 };
	const char *p = text;
	int lineno = 0, header = 0, max_bytes_line = 0;
	size_t si = NSECTIONS;

	while (*p) {
		const char *nl = strchr(p, '\n'), *start = p;
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *s, *eq, *key, *val, *hash;
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
			char *end = strchr(s, ']');
			if (!end || end[1] != '\0') {
				port_log("%s:%d: malformed section header '%s'", name, lineno, s);
				return HF_EINVAL;
			}
			*end = '\0';
			s = trim(s + 1);
			if (!section_is_known(s)) {
				struct sug sg;

				sug_init(&sg, s);
				for (size_t i = 0; i < NSECTIONS; i++)
					sug_add(&sg, sections[i].name);
				if (sug_best(&sg))
					port_log("%s:%d: unknown section [%s] (did you mean [%s]?)",
						 name, lineno, s, sug_best(&sg));
				else
					port_log("%s:%d: unknown section [%s] (known: jobs, log, "
						 "replica, history, groups)", name, lineno, s);
				return HF_EINVAL;
			}
			si = section_index(s);
			header = lineno;
			snprintf(sect, sizeof(sect), "%s", s);
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
		rc = set_key(c, sect, key, val, &why);
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
	if (max_bytes_line && c->history_max_bytes &&
	    c->history_max_bytes < cfg_max_bytes_floor(c)) {
		char have[32], floor[32];

		units_format_size(c->history_max_bytes, have, sizeof(have));
		units_format_size(cfg_max_bytes_floor(c), floor, sizeof(floor));
		port_log("%s:%d: max_bytes %s is below the least the job log needs to work with "
			 "these settings, %s (4 x [log] wal_max, [replica] spool_max when a "
			 "replica is set, 20 x [jobs] output_cap for the newest jobs, and 8MiB)",
			 name, max_bytes_line, have, floor);
		return HF_EINVAL;
	}
	return HF_OK;
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

const char *cfg_default_text(void)
{
	return
	"# holdfast.conf: configuration of this holdfast data directory.\n"
	"#\n"
	"# Format: \"key = value\" lines under [section] headers; '#' starts a\n"
	"# comment. Durations are written like 250ms, 30s, 5m, 2h, 1d and sizes\n"
	"# like 64KiB or 10MB. Unknown keys are errors, not ignored, and so is a key\n"
	"# set twice or a section's keys split under two headers. This file is\n"
	"# private (mode 0600): it may hold the replica's credentials.\n"
	"#\n"
	"# Every setting is shown with its default; uncomment to change it.\n"
	"\n"
	"[jobs]\n"
	"# concurrency = 4        # jobs running at once, all groups together\n"
	"# kill_grace = 10s       # after a timeout: SIGTERM, this long, then SIGKILL\n"
	"# shutdown_grace = 10s   # on SIGTERM/SIGINT: jobs get SIGTERM, this long, then SIGKILL\n"
	"# output_cap = 1MiB      # stdout+stderr kept per attempt; the rest is counted\n"
	"# quarantine_after = 3   # a job running during this many unclean stops in a\n"
	"                         # row (power cuts, crashes) is parked; 0: never\n"
	"# user =                 # run jobs as this user, with its groups (the daemon\n"
	"#                        # must be root); unset: as the daemon's user\n"
	"# allow_root = no        # a root daemon without user = refuses to start\n"
	"#                        # unless this says yes: jobs would run as root\n"
	"# umask = 022            # every job's umask\n"
	"# limit_nofile =         # rlimits of every job (soft = hard); unset: the\n"
	"# limit_as =             # daemon's. nofile: open files; as: address space,\n"
	"# limit_core =           # core: core file size (0: none), sizes or unlimited\n"
	"# secret_env =           # more variables jobs do not inherit from the daemon,\n"
	"#                        # besides AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and\n"
	"#                        # AWS_SESSION_TOKEN (NAME, or NAME* for a prefix)\n"
	"\n"
	"[log]\n"
	"# wal_max = 4MiB         # checkpoint the job log's WAL once it is this big\n"
	"\n"
	"[replica]\n"
	"# Where the job log is shipped (sealed WAL segments and snapshots), whenever\n"
	"# it is there and writable: a USB stick, a NAS mount. Unset: no shipping.\n"
	"# url = file:///media/usb/holdfast  # or s3://BUCKET/PREFIX with:\n"
	"# endpoint = https://s3.eu-west-1.amazonaws.com\n"
	"# region = eu-west-1\n"
	"# ca_file = /etc/ssl/certs/ca-certificates.crt\n"
	"# credentials_file = /etc/holdfast/s3.credentials  # 0600: access_key = ..., secret_key = ...\n"
	"#                        # (or access_key = ... and secret_key = ... here,\n"
	"#                        # or $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY)\n"
	"# key_file = /etc/holdfast/replica.key  # 0600: encrypt and authenticate what is\n"
	"#                        # shipped (holdfast replica keygen FILE makes one)\n"
	"# pin = sha256//BASE64   # also require this server public key (SPKI SHA-256)\n"
	"# addressing = path      # or virtual: https://BUCKET.ENDPOINT/KEY\n"
	"# payload = signed       # the server checks each body's SHA-256; unsigned:\n"
	"#                        # TLS alone guards the bytes, for half the CPU\n"
	"# part_size = 16MiB      # multipart uploads above this (5MiB to 5GiB)\n"
	"# retries = 4            # more tries of a network, 5xx or 429 failure\n"
	"# bandwidth = 0          # bytes/s sent to S3 at most, such as 256KiB (0: no cap)\n"
	"# daily_budget = 0       # bytes sent to S3 per UTC day at most, such as 50MiB;\n"
	"#                        # past it the spool keeps everything until the next day\n"
	"# upload_window =        # HH:MM-HH:MM UTC, such as 01:00-05:00: ship only then\n"
	"#                        # (honoured only while the wall clock is trusted)\n"
	"# metered = auto         # on a metered link only the job log is sent: snapshots\n"
	"#                        # over metered_snapshot_max (and the segments after\n"
	"#                        # them) wait for another link. auto: metered when the\n"
	"#                        # default route goes by one of metered_links; yes; no\n"
	"# metered_links = wwan* wwp* ppp*\n"
	"# metered_snapshot_max = 1MiB\n"
	"# timeout = 30s          # longest wait for the replica's network\n"
	"# metrics_file = /var/lib/prometheus/node-exporter/holdfast.prom\n"
	"#                        # Prometheus textfile (node_exporter's collector):\n"
	"#                        # lag, spool, requests, failures, jobs by state\n"
	"# device = gateway-7     # this device's name in the replica (default: host name)\n"
	"# seal_interval = 1s     # seal new frames into a segment at least this often:\n"
	"#                        # the replica lags commits by about this much; idle,\n"
	"#                        # nothing is sealed and no request is made\n"
	"# seal_bytes = 1MiB      # or once this much WAL is unsealed\n"
	"# spool_max = 64MiB      # unshipped segments kept while the replica is away;\n"
	"#                        # past it they are dropped (a gap, recorded) and a\n"
	"#                        # new snapshot follows once the replica is back\n"
	"\n"
	"[history]\n"
	"# Finished jobs (succeeded, cancelled, dead, quarantined) are pruned with\n"
	"# their attempts and output, a whole pipeline run at a time, never one an\n"
	"# unfinished job depends on. Age counts from a job's end, on the boot\n"
	"# counter and monotonic clock when the wall clock is not trusted.\n"
	"# keep = 7d              # succeeded and cancelled jobs kept this long (0: no\n"
	"#                        # age limit)\n"
	"# keep_failed = 30d      # dead and quarantined jobs kept this long (0: none)\n"
	"# keep_jobs = 10000      # at most this many finished jobs kept, newest first\n"
	"#                        # (0: no count limit)\n"
	"# max_bytes = auto       # budget of the data directory (log, WAL, spool): past\n"
	"#                        # it the oldest finished jobs go whatever their age,\n"
	"#                        # down to the 20 newest. auto: 10% of the file\n"
	"#                        # system, at most 4GiB; never below what the log\n"
	"#                        # needs (4 x wal_max + spool_max with a replica +\n"
	"#                        # 20 x output_cap + 8MiB), an error if set below\n"
	"\n"
	"[groups]\n"
	"# Concurrency limit per group (submit --group NAME). Unlisted groups: 1.\n"
	"# modem = 1\n"
	"# camera = 2\n";
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
