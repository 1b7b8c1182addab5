/*
** cfg.h: holdfast.conf, the per-data-directory configuration.
**
** "key = value" lines under [section] headers; '#' starts a comment. Every
** key is known: a misspelt key is an error with its line number, never
** silently ignored; so is a key set twice, or a section whose keys are split
** under two headers. A missing file means all defaults (a data directory is
** defined by its database; the config is optional).
*/
#ifndef HF_CFG_H
#define HF_CFG_H

#include <stdbool.h>
#include <stdint.h>

/* Longest holdfast.conf we read: a config is a few KiB; more is a mistake. */
#define CFG_MAX_BYTES (64 * 1024)
#define CFG_MAX_GROUPS 32
#define CFG_NAME_MAX 64

struct cfg_group {
	char name[CFG_NAME_MAX];
	unsigned limit;
};

/* [replica] metered: auto (the default route's link is in metered_links),
** or always, or never. */
enum { CFG_METERED_AUTO, CFG_METERED_YES, CFG_METERED_NO };

/* The smallest [log] wal_max accepted. */
#define CFG_WAL_MAX_MIN 65536

/* [jobs] limit_nofile, limit_as, limit_core: per-job rlimits. */
enum { CFG_LIMIT_NOFILE, CFG_LIMIT_AS, CFG_LIMIT_CORE, CFG_NLIMITS };
#define CFG_LIMIT_UNLIMITED UINT64_MAX

/* "limit_nofile", "limit_as", "limit_core", by CFG_LIMIT_*. */
extern const char *const cfg_limit_names[CFG_NLIMITS];

/* Parses a value of limit WHICH (a count of files; a size or "unlimited",
** CFG_LIMIT_UNLIMITED) into *OUT; else HF_EINVAL and what it wants in *WHY. */
int cfg_parse_limit(int which, const char *val, uint64_t *out, const char **why);

/* What jobs never inherit from the daemon's environment, whatever the config
** says: the AWS credentials the replica may be using. */
#define CFG_SECRET_ENV_ALWAYS "AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN"

struct cfg {
	unsigned concurrency;        /* [jobs] concurrency: running at once */
	char jobs_user[CFG_NAME_MAX]; /* [jobs] user: jobs run as this user ("": ours) */
	bool jobs_allow_root;        /* [jobs] allow_root: jobs may run as root */
	unsigned jobs_umask;         /* [jobs] umask (022) */
	bool limit_set[CFG_NLIMITS]; /* [jobs] limit_*: else inherited */
	uint64_t limit[CFG_NLIMITS]; /*   CFG_LIMIT_UNLIMITED: unlimited */
	char secret_env[512];        /* [jobs] secret_env: more names (or NAME* prefixes)
				      * jobs do not inherit */
	uint64_t kill_grace_ms;      /* [jobs] kill_grace: SIGTERM -> SIGKILL */
	uint64_t output_cap;         /* [jobs] output_cap: bytes kept per attempt */
	uint64_t shutdown_grace_ms;  /* [jobs] shutdown_grace: on SIGTERM/SIGINT */
	uint64_t park_after_ms;      /* [jobs] park_after: a longer step sleep or wait parks */
	int64_t quarantine_after;    /* [jobs] quarantine_after: unclean stops */
	uint64_t wal_max;            /* [log] wal_max: checkpoint past this */
	char replica[1024];          /* [replica] url: file:///DIR, s3://BUCKET/PREFIX,
				      * or "" (off) */
	char s3_endpoint[512];       /* [replica] endpoint: https://HOST[:PORT] */
	char s3_region[64];          /* [replica] region */
	char s3_ca_file[1024];       /* [replica] ca_file: CA bundle for the endpoint */
	char s3_credentials_file[1024]; /* [replica] credentials_file (0600) */
	char replica_key_file[1024]; /* [replica] key_file (0600): encrypt and
				      * authenticate what goes there (rcrypt.c) */
	char metrics_file[1024];     /* [replica] metrics_file: Prometheus textfile */
	char s3_access_key[256];     /* [replica] access_key, secret_key: only in */
	char s3_secret_key[256];     /*   a holdfast.conf no one else may read */
	uint64_t s3_timeout_ms;      /* [replica] timeout: every network wait */
	char s3_pin[64];             /* [replica] pin: sha256//BASE64 of the server's key */
	bool s3_virtual_host;        /* [replica] addressing = virtual (else path) */
	bool s3_unsigned_payload;    /* [replica] payload = unsigned (else signed) */
	unsigned s3_retries;         /* [replica] retries of a retryable failure */
	uint64_t s3_part_size;       /* [replica] part_size: multipart above it */
	uint64_t bandwidth;          /* [replica] bandwidth: bytes/s sent (0: no cap) */
	uint64_t daily_budget;       /* [replica] daily_budget: bytes sent a day (0: none) */
	int window_start, window_end; /* [replica] upload_window, minutes of the UTC
				      * day; start == end: always */
	int metered;                 /* [replica] metered: CFG_METERED_* */
	char metered_links[256];     /* [replica] metered_links: link name patterns */
	uint64_t metered_snapshot_max; /* [replica] metered_snapshot_max: larger
				      * snapshots wait for an unmetered link */
	char device[CFG_NAME_MAX];   /* [replica] device: this device's name */
	uint64_t seal_interval_ms;   /* [replica] seal_interval */
	uint64_t seal_bytes;         /* [replica] seal_bytes: WAL bytes */
	uint64_t spool_max;          /* [replica] spool_max: unshipped bytes kept */
	uint64_t history_keep_ms;    /* [history] keep: age of a finished job (7d) */
	uint64_t history_keep_failed_ms; /* [history] keep_failed: dead, quarantined (30d) */
	int64_t history_keep_jobs;   /* [history] keep_jobs: newest finished kept (10000) */
	uint64_t history_max_bytes;  /* [history] max_bytes: data directory budget;
				      * 0: derived from the file system (cfg_max_bytes) */
	unsigned ngroups;            /* [groups] NAME = LIMIT */
	struct cfg_group groups[CFG_MAX_GROUPS];
};

/* The defaults (cannot fail). */
void cfg_init(struct cfg *c);

/* Parses TEXT (named NAME in messages) over the values already in C. */
int cfg_parse(struct cfg *c, const char *text, const char *name);

/* cfg_init, then the file at PATH if it exists. */
int cfg_load(struct cfg *c, const char *path);

/* Whether environment variable NAME (of NAME_LEN bytes) is one that jobs
** must not inherit: CFG_SECRET_ENV_ALWAYS or [jobs] secret_env. */
bool cfg_env_is_secret(const struct cfg *c, const char *name, size_t name_len);

/* Wipes the secrets in C (mbedtls_platform_zeroize, which the compiler may
** not drop as a dead store); C stays usable, without them. */
void cfg_wipe(struct cfg *c);

/* The concurrency limit of group NAME: as configured, else 1. */
unsigned cfg_group_limit(const struct cfg *c, const char *name);

/* [history] max_bytes: the least it may be (4 x wal_max, spool_max with a
** replica, room for the CFG_HISTORY_FLOOR_JOBS newest jobs' output, and
** CFG_MAX_BYTES_SLACK for the log's own pages), and what it is: as set, else
** 10% of FS_BYTES (the file system holding the data directory), at most
** CFG_MAX_BYTES_CAP, never below the floor. */
#define CFG_HISTORY_FLOOR_JOBS 20
#define CFG_MAX_BYTES_SLACK (8ULL << 20)
#define CFG_MAX_BYTES_CAP (4ULL << 30)
uint64_t cfg_max_bytes_floor(const struct cfg *c);
uint64_t cfg_max_bytes(const struct cfg *c, uint64_t fs_bytes);

/* The commented default configuration that `holdfast init` writes. */
const char *cfg_default_text(void);

/* What `holdfast init` writes: the default configuration, and for a root
** user (ROOT) "allow_root = yes" under [jobs] with a comment saying why:
** jobs would run as root, which the daemon does only when the config says so. */
const char *cfg_init_text(bool root);

#endif /* HF_CFG_H */
