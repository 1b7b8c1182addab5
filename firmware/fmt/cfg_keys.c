/*
** cfg_keys.c: every key of holdfast.conf, once (cfg_int.h), and the
** commented default file written from them (cfg_default_text).
**
** Only libc here, no port and no other module: the Makefile compiles this
** file for the build machine to print holdfast.conf.example, whatever the
** board it builds for.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fmt/cfg.h"
#include "fmt/cfg_int.h"

#define AT(field) .off = offsetof(struct cfg, field), .size = sizeof(((struct cfg *)0)->field)
#define ANY .hi = UINT64_MAX

const struct cfg_section cfg_sections[CFG_NSECTIONS] = {
	{ "jobs", "", "" },
	{ "log", "", "" },
	{ "replica",
	  "# Where the job log is shipped (sealed WAL segments and snapshots), whenever\n"
	  "# it is there and writable: a USB stick, a NAS mount. Unset: no shipping.\n", "" },
	{ "history",
	  "# Finished jobs (succeeded, cancelled, dead, quarantined) are pruned with\n"
	  "# their attempts and output, a whole pipeline run at a time, never one an\n"
	  "# unfinished job depends on. Age counts from a job's end, on the boot\n"
	  "# counter and monotonic clock when the wall clock is not trusted.\n", "" },
	{ "groups",
	  "# Concurrency limit per group (submit --group NAME). Unlisted groups: 1.\n"
	  "# modem = 1\n"
	  "# camera = 2\n", "" },
};

const struct cfg_key cfg_keys[] = {
	/* [jobs] */
	{ "jobs", "concurrency", CFG_T_UINT, AT(concurrency), .lo = 1, .hi = 1024, .shown = "4",
	  .why = "a whole number from 1 to 1024",
	  .doc = "jobs running at once, all groups together" },
	{ "jobs", "kill_grace", CFG_T_DURATION, AT(kill_grace_ms), ANY, .shown = "10s",
	  .why = "a duration such as 10s",
	  .doc = "after a timeout: SIGTERM, this long, then SIGKILL" },
	{ "jobs", "park_after", CFG_T_DURATION, AT(park_after_ms), ANY, .shown = "30s",
	  .why = "a duration such as 30s (0: never)",
	  .doc = "a step sleep (or a step wait without --timeout) longer than this parks\n"
		 "its job: the process ends, no retry is spent, the job runs again when due" },
	{ "jobs", "shutdown_grace", CFG_T_DURATION, AT(shutdown_grace_ms), ANY, .shown = "10s",
	  .why = "a duration such as 10s",
	  .doc = "on SIGTERM/SIGINT: jobs get SIGTERM, this long, then SIGKILL" },
	{ "jobs", "output_cap", CFG_T_SIZE, AT(output_cap), ANY, .shown = "1MiB",
	  .why = "a size such as 1MiB",
	  .doc = "stdout+stderr kept per attempt; the rest is counted" },
	{ "jobs", "quarantine_after", CFG_T_INT64, AT(quarantine_after), .hi = 100, .shown = "3",
	  .why = "a whole number from 0 (never) to 100",
	  .doc = "a job running during this many unclean stops in a\n"
		 "row (power cuts, crashes) is held; 0: never" },
	{ "jobs", "user", CFG_T_TEXT, CFG_R_USER, AT(jobs_user), .shown = "",
	  .why = "the name of a user in the password database (/etc/passwd)",
	  .doc = "run jobs as this user, with its groups (the daemon\n"
		 "must be root); unset: as the daemon's user" },
	{ "jobs", "allow_root", CFG_T_CHOICE, AT(jobs_allow_root), .choices = "no|yes",
	  .shown = "no", .why = "yes or no",
	  .doc = "a root daemon without user = refuses to start\n"
		 "unless this says yes: jobs would run as root" },
	{ "jobs", "umask", CFG_T_OCTAL, AT(jobs_umask), .hi = 0777, .shown = "022",
	  .why = "an octal mask from 000 to 777, such as 022 or 027",
	  .doc = "every job's umask" },
	{ "jobs", "limit_nofile", CFG_T_LIMIT, CFG_LIMIT_NOFILE, .shown = "",
	  .doc = "rlimits of every job (soft = hard); unset: the" },
	{ "jobs", "limit_as", CFG_T_LIMIT, CFG_LIMIT_AS, .shown = "",
	  .doc = "daemon's. nofile: open files; as: address space," },
	{ "jobs", "limit_core", CFG_T_LIMIT, CFG_LIMIT_CORE, .shown = "",
	  .doc = "core: core file size (0: none), sizes or unlimited" },
	{ "jobs", "secret_env", CFG_T_TEXT, CFG_R_ENV_NAMES, AT(secret_env), .shown = "",
	  .why = "environment variable names (NAME, or a prefix NAME*), space-separated",
	  .doc = "more variables jobs do not inherit from the daemon,\n"
		 "besides AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and\n"
		 "AWS_SESSION_TOKEN (NAME, or NAME* for a prefix)" },

	/* [log] */
	{ "log", "wal_max", CFG_T_SIZE, AT(wal_max), .lo = CFG_WAL_MAX_MIN, ANY, .shown = "4MiB",
	  .why = "a size of at least 64KiB, such as 4MiB",
	  .doc = "checkpoint the job log's WAL once it is this big" },

	/* [replica] */
	{ "replica", "url", CFG_T_TEXT, CFG_R_URL, CFG_F_EXAMPLE, AT(replica),
	  .shown = "file:///media/usb/holdfast",
	  .why = "file:///ABSOLUTE/DIR (a USB stick, a NAS mount...) or s3://BUCKET/PREFIX",
	  .doc = "or s3://BUCKET/PREFIX with:" },
	{ "replica", "endpoint", CFG_T_TEXT, CFG_R_ENDPOINT, CFG_F_EXAMPLE, AT(s3_endpoint),
	  .shown = "https://s3.eu-west-1.amazonaws.com",
	  .why = "https://HOST[:PORT] of the S3 service" },
	{ "replica", "region", CFG_T_TEXT, CFG_R_NONEMPTY, CFG_F_EXAMPLE, AT(s3_region),
	  .shown = "eu-west-1", .why = "an S3 region such as eu-west-1" },
	{ "replica", "ca_file", CFG_T_TEXT, CFG_R_PATH, CFG_F_EXAMPLE, AT(s3_ca_file),
	  .shown = "/etc/ssl/certs/ca-certificates.crt", .why = "an absolute path" },
	{ "replica", "credentials_file", CFG_T_TEXT, CFG_R_PATH, CFG_F_EXAMPLE,
	  AT(s3_credentials_file), .shown = "/etc/holdfast/s3.credentials",
	  .why = "an absolute path",
	  .doc = "0600: access_key = ..., secret_key = ...\n"
		 "(or access_key = ... and secret_key = ... here,\n"
		 "or $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY)" },
	{ "replica", "access_key", CFG_T_TEXT, CFG_R_KEY, CFG_F_HIDDEN, AT(s3_access_key),
	  .why = "the S3 key (up to 255 characters, no spaces)" },
	{ "replica", "secret_key", CFG_T_TEXT, CFG_R_KEY, CFG_F_HIDDEN, AT(s3_secret_key),
	  .why = "the S3 key (up to 255 characters, no spaces)" },
	{ "replica", "key_file", CFG_T_TEXT, CFG_R_PATH, CFG_F_EXAMPLE, AT(replica_key_file),
	  .shown = "/etc/holdfast/replica.key", .why = "an absolute path",
	  .doc = "0600: encrypt and authenticate what is\n"
		 "shipped (holdfast replica keygen FILE makes one)" },
	{ "replica", "pin", CFG_T_TEXT, CFG_R_PIN, CFG_F_EXAMPLE, AT(s3_pin),
	  .shown = "sha256//BASE64",
	  .why = "sha256//BASE64: the SHA-256 of the server's public key",
	  .doc = "also require this server public key (SPKI SHA-256)" },
	{ "replica", "addressing", CFG_T_CHOICE, AT(s3_virtual_host), .choices = "path|virtual",
	  .shown = "path",
	  .why = "path (https://ENDPOINT/BUCKET/KEY) or virtual (https://BUCKET.ENDPOINT/KEY)",
	  .doc = "or virtual: https://BUCKET.ENDPOINT/KEY" },
	{ "replica", "payload", CFG_T_CHOICE, AT(s3_unsigned_payload),
	  .choices = "signed|unsigned", .shown = "signed",
	  .why = "signed (the server checks each body's SHA-256) or unsigned (TLS only, less CPU)",
	  .doc = "the server checks each body's SHA-256; unsigned:\n"
		 "TLS alone guards the bytes, for half the CPU" },
	{ "replica", "part_size", CFG_T_SIZE, AT(s3_part_size), .lo = 5ULL << 20,
	  .hi = 5ULL << 30, .shown = "16MiB", .why = "a size from 5MiB to 5GiB, such as 16MiB",
	  .doc = "multipart uploads above this (5MiB to 5GiB)" },
	{ "replica", "retries", CFG_T_UINT, AT(s3_retries), .hi = 20, .shown = "4",
	  .why = "a number of tries after the first, 0 to 20",
	  .doc = "more tries of a network, 5xx or 429 failure" },
	{ "replica", "bandwidth", CFG_T_SIZE, .flags = CFG_F_ZERO, AT(bandwidth), .lo = 1024, ANY,
	  .shown = "0", .why = "bytes per second sent, such as 256KiB (0: no cap)",
	  .doc = "bytes/s sent to S3 at most, such as 256KiB (0: no cap)" },
	{ "replica", "daily_budget", CFG_T_SIZE, .flags = CFG_F_ZERO, AT(daily_budget), .lo = 65536, ANY,
	  .shown = "0", .why = "bytes sent to the replica per day, such as 50MiB (0: no budget)",
	  .doc = "bytes sent to S3 per UTC day at most, such as 50MiB;\n"
		 "past it the spool keeps everything until the next day" },
	{ "replica", "upload_window", CFG_T_WINDOW, .shown = "",
	  .why = "HH:MM-HH:MM in UTC, such as 01:00-05:00 (may wrap past midnight)",
	  .doc = "HH:MM-HH:MM UTC, such as 01:00-05:00: ship only then\n"
		 "(honoured only while the wall clock is trusted)" },
	{ "replica", "metered", CFG_T_CHOICE, AT(metered), .choices = "auto|yes|no",
	  .shown = "auto",
	  .why = "auto (when the default route's link is in metered_links), yes or no",
	  .doc = "on a metered link only the job log is sent: snapshots\n"
		 "over metered_snapshot_max (and the segments after\n"
		 "them) wait for another link. auto: metered when the\n"
		 "default route goes by one of metered_links; yes; no" },
	/* Cellular modems' links (wwan0, wwp0s20u4 from ModemManager and the
	** like, ppp0 from pppd). */
	{ "replica", "metered_links", CFG_T_TEXT, CFG_R_LINKS, AT(metered_links),
	  .shown = "wwan* wwp* ppp*",
	  .why = "link names or patterns such as wwan* ppp0, space-separated" },
	{ "replica", "metered_snapshot_max", CFG_T_SIZE, AT(metered_snapshot_max), ANY,
	  .shown = "1MiB",
	  .why = "a size such as 1MiB: larger snapshots wait for an unmetered link" },
	{ "replica", "timeout", CFG_T_DURATION, AT(s3_timeout_ms), .lo = 1000, .hi = 600000,
	  .shown = "30s", .why = "a duration from 1s to 10m, such as 30s",
	  .doc = "longest wait for the replica's network" },
	{ "replica", "metrics_file", CFG_T_TEXT, CFG_R_PATH, CFG_F_EXAMPLE, AT(metrics_file),
	  .shown = "/var/lib/prometheus/node-exporter/holdfast.prom",
	  .why = "an absolute path",
	  .doc = "\nPrometheus textfile (node_exporter's collector):\n"
		 "lag, spool, requests, failures, jobs by state" },
	{ "replica", "device", CFG_T_TEXT, CFG_R_NAME, CFG_F_EXAMPLE, AT(device),
	  .shown = "gateway-7", .why = "a name of letters, digits, '.', '_' and '-'",
	  .doc = "this device's name in the replica (default: host name)" },
	{ "replica", "seal_interval", CFG_T_DURATION, AT(seal_interval_ms), ANY, .shown = "1s",
	  .why = "a duration such as 10s",
	  .doc = "seal new frames into a segment at least this often:\n"
		 "the replica lags commits by about this much; idle,\n"
		 "nothing is sealed and no request is made" },
	{ "replica", "seal_bytes", CFG_T_SIZE, AT(seal_bytes), ANY, .shown = "1MiB",
	  .why = "a size such as 1MiB", .doc = "or once this much WAL is unsealed" },
	{ "replica", "spool_max", CFG_T_SIZE, AT(spool_max), .lo = 65536, ANY, .shown = "64MiB",
	  .why = "a size of at least 64KiB, such as 64MiB",
	  .doc = "unshipped segments kept while the replica is away;\n"
		 "past it they are dropped (a gap, recorded) and a\n"
		 "new snapshot follows once the replica is back" },

	/* [history] */
	{ "history", "keep", CFG_T_DURATION, .flags = CFG_F_ZERO, AT(history_keep_ms), ANY, .shown = "7d",
	  .why = "a duration such as 7d or 12h (0: no age limit)",
	  .doc = "succeeded and cancelled jobs kept this long (0: no\n"
		 "age limit)" },
	{ "history", "keep_failed", CFG_T_DURATION, .flags = CFG_F_ZERO, AT(history_keep_failed_ms), ANY,
	  .shown = "30d", .why = "a duration such as 7d or 12h (0: no age limit)",
	  .doc = "dead and quarantined jobs kept this long (0: none)" },
	{ "history", "keep_jobs", CFG_T_INT64, AT(history_keep_jobs), .hi = 1000000000,
	  .shown = "10000",
	  .why = "a number of finished jobs from 0 (no count limit) to 1000000000",
	  .doc = "at most this many finished jobs kept, newest first\n"
		 "(0: no count limit)" },
	/* Its floor depends on [log] and [replica] keys that may come later in
	** the file: cfg_parse checks it at the end. */
	{ "history", "max_bytes", CFG_T_SIZE, .flags = CFG_F_AUTO, AT(history_max_bytes), .lo = 1,
	  .hi = INT64_MAX, .shown = "auto",
	  .why = "a size such as 512MiB, or auto (10% of the file system, at most 4GiB)",
	  .doc = "budget of the data directory (log, WAL, spool): past\n"
		 "it the oldest finished jobs go whatever their age,\n"
		 "down to the 20 newest. auto: 10% of the file\n"
		 "system, at most 4GiB; never below what the log\n"
		 "needs (4 x wal_max + spool_max with a replica +\n"
		 "20 x output_cap + 8MiB), an error if set below" },
	{ .name = NULL }
};

static const char head[] =
	"# holdfast.conf: configuration of this holdfast data directory.\n"
	"#\n"
	"# Format: \"key = value\" lines under [section] headers; '#' starts a\n"
	"# comment. Durations are written like 250ms, 30s, 5m, 2h, 1d and sizes\n"
	"# like 64KiB or 10MB. Unknown keys are errors, not ignored, and so is a key\n"
	"# set twice or a section's keys split under two headers. This file is\n"
	"# private (mode 0600): it may hold the replica's credentials.\n"
	"#\n"
	"# Every setting is shown with its default; uncomment to change it.\n";

/* A key's comment starts in this column, and so do its further lines. */
#define DOC_COLUMN 25

/* The default file as it is written: BUF, AT bytes used. Writing stops
** short of the end (a unit test checks the file fits). */
struct out {
	char buf[12288];
	size_t at;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->at, sizeof(o->buf) - o->at, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->at += (size_t)n < sizeof(o->buf) - o->at ? (size_t)n : sizeof(o->buf) - o->at - 1;
}

/* "# KEY = SHOWN", then its comment from DOC_COLUMN on (at least two
** blanks after a long value), then the comment's further lines, each a
** comment with its text in the same column. */
static void put_key(struct out *o, const struct cfg_key *k)
{
	const char *d = k->doc ? k->doc : "";
	size_t start = o->at, line = strcspn(d, "\n");

	put(o, "# %s =%s%s", k->name, *k->shown ? " " : "", k->shown);
	if (line) {
		int pad = DOC_COLUMN - (int)(o->at - start);
		put(o, "%*s# %.*s", pad < 2 ? 2 : pad, "", (int)line, d);
	}
	for (d += line; *d == '\n'; d += line) {
		line = strcspn(++d, "\n");
		put(o, "\n#%*s# %.*s", DOC_COLUMN - 1, "", (int)line, d);
	}
	put(o, "\n");
}

const char *cfg_default_text(void)
{
	static struct out o;

	if (o.at)
		return o.buf;
	put(&o, "%s", head);
	for (size_t s = 0; s < CFG_NSECTIONS; s++) {
		put(&o, "\n[%s]\n%s", cfg_sections[s].name, cfg_sections[s].intro);
		for (const struct cfg_key *k = cfg_keys; k->name; k++)
			if (!strcmp(k->sect, cfg_sections[s].name) && !(k->flags & CFG_F_HIDDEN))
				put_key(&o, k);
		put(&o, "%s", cfg_sections[s].outro);
	}
	return o.buf;
}
