/*
** test_units.c: durations, sizes, cron expressions, backoff, config.
*/
#include <stdlib.h>
#include <string.h>

#include "base/units.h"
#include "fmt/cfg.h"
#include "fmt/cron.h"
#include "fmt/sched.h"
#include "port.h"
#include "ship/ship.h"
#include "test.h"

TEST(units_durations)
{
	uint64_t ms;

	CHECK_INT(units_parse_duration("250ms", &ms), HF_OK); CHECK_INT(ms, 250);
	CHECK_INT(units_parse_duration("30s", &ms), HF_OK); CHECK_INT(ms, 30000);
	CHECK_INT(units_parse_duration("5m", &ms), HF_OK); CHECK_INT(ms, 300000);
	CHECK_INT(units_parse_duration("2h", &ms), HF_OK); CHECK_INT(ms, 7200000);
	CHECK_INT(units_parse_duration("1d", &ms), HF_OK); CHECK_INT(ms, 86400000);
	CHECK_INT(units_parse_duration("1h30m", &ms), HF_OK); CHECK_INT(ms, 5400000);
	CHECK_INT(units_parse_duration("0", &ms), HF_OK); CHECK_INT(ms, 0);
	const char *bad[] = { "", "5", "5x", "m", "-5s", "5 s", "1.5s", "s5", "5sm",
			      "99999999999999999999s", "36600000d", NULL };
	for (int i = 0; bad[i]; i++)
		if (units_parse_duration(bad[i], &ms) != HF_EINVAL)
			test_fail(__FILE__, __LINE__, "'%s' accepted as a duration", bad[i]);
	CHECK_INT(units_parse_duration(NULL, &ms), HF_EINVAL);
}

TEST(units_sizes_and_format)
{
	uint64_t b;
	char buf[32];

	CHECK_INT(units_parse_size("512", &b), HF_OK); CHECK_INT(b, 512);
	CHECK_INT(units_parse_size("64KiB", &b), HF_OK); CHECK_INT(b, 65536);
	CHECK_INT(units_parse_size("10MB", &b), HF_OK); CHECK_INT(b, 10000000);
	CHECK_INT(units_parse_size("1GiB", &b), HF_OK); CHECK_INT(b, 1073741824);
	CHECK_INT(units_parse_size("1.5MB", &b), HF_EINVAL);
	CHECK_INT(units_parse_size("10 MB", &b), HF_EINVAL);
	CHECK_INT(units_parse_size("MB", &b), HF_EINVAL);
	CHECK_INT(units_parse_size("99999999999GiB", &b), HF_EINVAL);
	units_format_duration(5400000, buf, sizeof(buf)); CHECK_STR(buf, "1h30m");
	units_format_duration(250, buf, sizeof(buf)); CHECK_STR(buf, "250ms");
	units_format_duration(0, buf, sizeof(buf)); CHECK_STR(buf, "0s");
	units_format_duration(90061001, buf, sizeof(buf)); CHECK_STR(buf, "1d1h1m1s1ms");
	units_format_size(64ULL << 20, buf, sizeof(buf)); CHECK_STR(buf, "64MiB");
	units_format_size(1023, buf, sizeof(buf)); CHECK_STR(buf, "1023B");
	units_format_size(74760192, buf, sizeof(buf)); CHECK_STR(buf, "71.3MiB");
}

TEST(units_approx_and_when)
{
	char buf[64];

	units_format_approx(0, buf, sizeof(buf)); CHECK_STR(buf, "0.0s");
	units_format_approx(12549, buf, sizeof(buf)); CHECK_STR(buf, "12.5s");  /* truncated */
	units_format_approx(59999, buf, sizeof(buf)); CHECK_STR(buf, "59.9s");
	units_format_approx(60000, buf, sizeof(buf)); CHECK_STR(buf, "1m");
	units_format_approx(192999, buf, sizeof(buf)); CHECK_STR(buf, "3m12s");
	units_format_approx(7500000, buf, sizeof(buf)); CHECK_STR(buf, "2h5m");
	units_format_approx(97200000 + 59000, buf, sizeof(buf)); CHECK_STR(buf, "1d3h");
	units_format_approx(86400000 + 60000, buf, sizeof(buf)); CHECK_STR(buf, "1d");
	/* Trusted wall time wins, whatever the boot. */
	units_format_when(1714564800000, 3, 5000, 7, 9000, buf, sizeof(buf));
	CHECK_STR(buf, "2024-05-01T12:00:00Z");
	units_format_when(0, 3, 5000, 3, 9000, buf, sizeof(buf));
	CHECK_STR(buf, "1970-01-01T00:00:00Z");
	/* Untrusted, this boot: an age on the monotonic clock. */
	units_format_when(-1, 3, 5000, 3, 197000, buf, sizeof(buf));
	CHECK_STR(buf, "3m12s ago");
	/* Untrusted, another boot (or this one not recorded yet, 0): no clock
	** relates the two, so the time within that boot. */
	units_format_when(-1, 3, 12500, 4, 197000, buf, sizeof(buf));
	CHECK_STR(buf, "boot 3 +12.5s");
	units_format_when(-1, 3, 12500, 0, 197000, buf, sizeof(buf));
	CHECK_STR(buf, "boot 3 +12.5s");
	/* The same boot but a clock behind the record cannot say "ago". */
	units_format_when(-1, 3, 12500, 3, 100, buf, sizeof(buf));
	CHECK_STR(buf, "boot 3 +12.5s");
	/* A short buffer is cut, not overrun. */
	char small[8];
	units_format_when(-1, 3, 12500, 4, 0, small, sizeof(small));
	CHECK_STR(small, "boot 3 ");
}

TEST(cron_parse_fields)
{
	struct cron c;
	char err[128];

	CHECK_INT(cron_parse("*/15 3 * * 1-5", &c, err, sizeof(err)), HF_OK);
	CHECK(c.minute == ((1ULL << 0) | (1ULL << 15) | (1ULL << 30) | (1ULL << 45)));
	CHECK_INT(c.hour, 1u << 3);
	CHECK(c.dom_any && !c.dow_any);
	CHECK_INT(c.dow, 0x3e);
	CHECK_INT(cron_parse("0 0 1,15 * 7", &c, err, sizeof(err)), HF_OK);
	CHECK_INT(c.dow, 1); /* 7 is Sunday */
	CHECK_INT(c.dom, (1u << 1) | (1u << 15));
	CHECK_INT(cron_parse("5/20 * * * *", &c, err, sizeof(err)), HF_OK);
	CHECK(c.minute == ((1ULL << 5) | (1ULL << 25) | (1ULL << 45)));
	CHECK_INT(cron_parse("10-12/2 * * * *", &c, err, sizeof(err)), HF_OK);
	CHECK(c.minute == ((1ULL << 10) | (1ULL << 12)));
	CHECK_INT(cron_parse("* * * *", &c, err, sizeof(err)), HF_EINVAL);
	CHECK(strstr(err, "4 fields"));
	CHECK_INT(cron_parse("60 * * * *", &c, err, sizeof(err)), HF_EINVAL);
	CHECK(strstr(err, "minute field '60' is out of range 0-59"));
	CHECK_INT(cron_parse("* 24 * * *", &c, err, sizeof(err)), HF_EINVAL);
	CHECK_INT(cron_parse("* * 0 * *", &c, err, sizeof(err)), HF_EINVAL);
	CHECK_INT(cron_parse("* * * 13 *", &c, err, sizeof(err)), HF_EINVAL);
	CHECK_INT(cron_parse("*/0 * * * *", &c, err, sizeof(err)), HF_EINVAL);
	CHECK_INT(cron_parse("a * * * *", &c, err, sizeof(err)), HF_EINVAL);
	CHECK_INT(cron_parse("5-1 * * * *", &c, err, sizeof(err)), HF_EINVAL);
	CHECK_INT(cron_parse("* * * * * *", &c, err, sizeof(err)), HF_EINVAL);
}

TEST(cron_next_times)
{
	struct cron c;
	char err[128];
	/* 2026-11-22 03:07:10 UTC, a Sunday */
	int64_t t = 1795316830;

	CHECK_INT(cron_parse("*/15 * * * *", &c, err, sizeof(err)), HF_OK);
	CHECK_INT(cron_next(&c, t), 1795317300);           /* 03:15 */
	CHECK_INT(cron_parse("0 3 * * *", &c, err, sizeof(err)), HF_OK);
	CHECK_INT(cron_next(&c, t), 1795316400 + 86400);    /* tomorrow 03:00 */
	CHECK_INT(cron_parse("30 12 * * 1", &c, err, sizeof(err)), HF_OK);
	CHECK_INT(cron_next(&c, t), 1795316400 - 3 * 3600 + 86400 + 12 * 3600 + 1800); /* Mon */
	/* Both day fields restricted: either matches (the 1st, or a Sunday). */
	CHECK_INT(cron_parse("0 0 1 * 0", &c, err, sizeof(err)), HF_OK);
	CHECK_INT(cron_next(&c, t), 1795910400);            /* Sun 2026-11-29 */
	CHECK_INT(cron_parse("0 0 31 2 *", &c, err, sizeof(err)), HF_OK);
	CHECK_INT(cron_next(&c, t), -1);                    /* never */
	CHECK_INT(cron_parse("* * * * *", &c, err, sizeof(err)), HF_OK);
	CHECK_INT(cron_next(&c, 1795316880), 1795316940);   /* strictly after */
}

TEST(backoff_grows_caps_and_jitters)
{
	/* Equal jitter: within [d/2, d] of the exponential delay d. */
	for (int64_t k = 1; k <= 12; k++) {
		uint64_t d = 1000ULL << (k - 1);
		if (d > 60000)
			d = 60000;
		uint64_t lo = sched_backoff_ms(1000, 60000, k, 0);
		uint64_t hi = sched_backoff_ms(1000, 60000, k, UINT32_MAX);
		CHECK_INT(lo, d - d / 2);
		CHECK_INT(hi, d);
		for (uint32_t r = 1; r < 4000000000u; r += 97654321u) {
			uint64_t v = sched_backoff_ms(1000, 60000, k, r);
			CHECK(v >= lo && v <= hi);
		}
	}
	CHECK_INT(sched_backoff_ms(500, 100, 3, UINT32_MAX), 500);  /* max < min */
	CHECK_INT(sched_backoff_ms(1000, 1ULL << 40, 1000, UINT32_MAX), 1ULL << 40);
	CHECK_INT(sched_backoff_ms(0, 0, 5, 12345), 0);
}

TEST(cfg_defaults_and_the_default_file)
{
	struct cfg c;

	cfg_init(&c);
	CHECK_INT(c.concurrency, 4);
	/* What init writes must parse, and mean the defaults. */
	CHECK_INT(cfg_parse(&c, cfg_default_text(), "default"), HF_OK);
	CHECK_INT(c.concurrency, 4);
	CHECK_INT(c.output_cap, 1048576);
	CHECK_INT(cfg_group_limit(&c, "anything"), 1);
}

/* The default file is written from the key table that the parser reads
** (cfg_keys.c): uncommenting every "# key = value" line that shows a default
** (not the replica's examples) changes nothing, and the values are the ones
** the daemon has always had. The values an example shows parse, except the
** pin's placeholder. */
TEST(cfg_init_is_every_default)
{
	static const char *const examples[] = { "url", "endpoint", "region", "ca_file",
		"credentials_file", "key_file", "pin", "metrics_file", "device", NULL };
	const char *p = cfg_default_text();
	char *text = malloc(strlen(p) + 1), *o = text;
	struct cfg a, b;
	bool groups = false;

	CHECK(strlen(p) > 4000 && strlen(p) < 12000);
	while (*p) {
		size_t n = strcspn(p, "\n");
		const char *eq = memchr(p, '=', n);
		bool example = !strncmp(p, "[groups]", 8);
		if (p[0] == '#' && p[1] == ' ' && p[2] >= 'a' && p[2] <= 'z' && eq && !groups) {
			for (int i = 0; examples[i]; i++)
				example |= !strncmp(p + 2, examples[i], strlen(examples[i])) &&
					   p[2 + strlen(examples[i])] == ' ';
			/* "# key =" with no value: unset by default. */
			if (!example && eq + 2 < p + n && eq[1] == ' ' && eq[2] != ' ')
				p += 2;
		}
		groups |= example && p[0] == '[';
		n = strcspn(p, "\n");
		memcpy(o, p, n);
		o[n] = '\n';
		o += n + 1;
		p += n + (p[n] == '\n');
	}
	*o = '\0';
	cfg_init(&a);
	cfg_init(&b);
	CHECK_INT(cfg_parse(&b, text, "uncommented"), HF_OK);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	CHECK(strstr(text, "\nconcurrency = 4 ") && strstr(text, "\nmax_bytes = auto "));
	CHECK(strstr(text, "\n# url = file://"));
	free(text);
	CHECK_INT(a.concurrency, 4);
	CHECK_INT(a.jobs_umask, 022);
	CHECK_INT(a.kill_grace_ms, 10000);
	CHECK_INT(a.shutdown_grace_ms, 10000);
	CHECK_INT(a.output_cap, 1 << 20);
	CHECK_INT(a.quarantine_after, 3);
	CHECK_INT(a.wal_max, 4 << 20);
	CHECK_INT(a.seal_interval_ms, 1000);
	CHECK_INT(a.seal_bytes, 1 << 20);
	CHECK_INT(a.spool_max, 64 << 20);
	CHECK_INT(a.s3_timeout_ms, 30000);
	CHECK_INT(a.s3_retries, 4);
	CHECK_INT(a.s3_part_size, 16 << 20);
	CHECK_INT(a.metered_snapshot_max, 1 << 20);
	CHECK_INT(a.history_keep_jobs, 10000);
	CHECK(!a.s3_virtual_host && !a.s3_unsigned_payload && !a.jobs_allow_root);
	CHECK(!a.replica[0] && !a.device[0] && !a.jobs_user[0] && !a.limit_set[0]);
	CHECK_INT(a.window_start, a.window_end);
	CHECK_INT(cfg_parse(&b, "[replica]\nurl = file:///media/usb/holdfast\n"
			    "endpoint = https://s3.eu-west-1.amazonaws.com\nregion = eu-west-1\n"
			    "ca_file = /etc/ssl/certs/ca-certificates.crt\ndevice = gateway-7\n"
			    "addressing = virtual\npayload = unsigned\nupload_window = 22:30-04:00\n",
			    "examples"), HF_OK);
	CHECK(b.s3_virtual_host && b.s3_unsigned_payload);
	CHECK_INT(b.window_start, 22 * 60 + 30);
	CHECK_INT(b.window_end, 4 * 60);
	CHECK_INT(cfg_parse(&b, "[replica]\naddressing = Path\n", "t.conf"), HF_EINVAL);
}

/* A name longer than its field holds is refused, not cut short: a device
** or group of 64 characters would be another name once stored. */
TEST(cfg_refuses_names_it_cannot_keep)
{
	char text[256], name[CFG_NAME_MAX + 1];
	struct cfg c;

	memset(name, 'd', CFG_NAME_MAX - 1);
	name[CFG_NAME_MAX - 1] = '\0';
	cfg_init(&c);
	snprintf(text, sizeof(text), "[replica]\ndevice = %s\n[groups]\n%s = 2\n", name, name);
	CHECK_INT(cfg_parse(&c, text, "t.conf"), HF_OK);
	CHECK_STR(c.device, name);
	CHECK_INT(cfg_group_limit(&c, name), 2);
	strcat(name, "d");
	cfg_init(&c);
	snprintf(text, sizeof(text), "[replica]\ndevice = %s\n", name);
	CHECK_INT(cfg_parse(&c, text, "t.conf"), HF_EINVAL);
	CHECK(test_log_has("bad value"));
	snprintf(text, sizeof(text), "[groups]\n%s = 2\n", name);
	CHECK_INT(cfg_parse(&c, text, "t.conf"), HF_EINVAL);
	CHECK(test_log_has("at most 63 characters"));
}

/* [history]: the defaults, 0 for "no limit", auto and the floor of
** max_bytes, which keys after it (wal_max, a replica) still raise. */
TEST(cfg_history_keys)
{
	struct cfg c;

	cfg_init(&c);
	CHECK_INT(c.history_keep_ms, 7ULL * 86400000);
	CHECK_INT(c.history_keep_failed_ms, 30ULL * 86400000);
	CHECK_INT(c.history_keep_jobs, 10000);
	CHECK_INT(c.history_max_bytes, 0);
	CHECK(strstr(strstr(cfg_default_text(), "\n[history]\n"), "\n# keep = 7d ") != NULL);
	CHECK_INT(cfg_parse(&c, "[history]\nkeep = 2h\nkeep_failed = 0\nkeep_jobs = 0\n"
			   "max_bytes = 1GiB\n", "t.conf"), HF_OK);
	CHECK_INT(c.history_keep_ms, 7200000);
	CHECK_INT(c.history_keep_failed_ms, 0);
	CHECK_INT(c.history_keep_jobs, 0);
	CHECK_INT(c.history_max_bytes, 1ULL << 30);
	/* auto: 10% of the file system, capped, never below the floor. */
	cfg_init(&c);
	CHECK_INT(cfg_max_bytes_floor(&c), 4 * (4ULL << 20) + 20 * (1ULL << 20) + (8ULL << 20));
	CHECK_INT(cfg_max_bytes(&c, 100ULL << 30), 4ULL << 30);
	CHECK_INT(cfg_max_bytes(&c, 8ULL << 30), (8ULL << 30) / 10);
	CHECK_INT(cfg_max_bytes(&c, 100ULL << 20), cfg_max_bytes_floor(&c));
	CHECK_INT(cfg_parse(&c, "[history]\nmax_bytes = auto\n", "t.conf"), HF_OK);
	CHECK_INT(c.history_max_bytes, 0);
	/* Each bad value, and a budget under the floor, even one that only the
	** [log] section after it puts there. */
	CHECK_INT(cfg_parse(&c, "[history]\nkeep = soon\n", "t.conf"), HF_EINVAL);
	CHECK_INT(cfg_parse(&c, "[history]\nkeep_failed = -1d\n", "t.conf"), HF_EINVAL);
	CHECK_INT(cfg_parse(&c, "[history]\nkeep_jobs = 1e3\n", "t.conf"), HF_EINVAL);
	CHECK_INT(cfg_parse(&c, "[history]\nmax_bytes = 0\n", "t.conf"), HF_EINVAL);
	CHECK_INT(cfg_parse(&c, "[history]\nmax_bytes = 1MiB\n", "t.conf"), HF_EINVAL);
	cfg_init(&c);
	CHECK_INT(cfg_parse(&c, "[history]\nmax_bytes = 50MiB\n", "t.conf"), HF_OK);
	cfg_init(&c);
	CHECK_INT(cfg_parse(&c, "[history]\nmax_bytes = 50MiB\n[log]\nwal_max = 16MiB\n",
			    "t.conf"), HF_EINVAL);
	cfg_init(&c);
	CHECK_INT(cfg_parse(&c, "[history]\nmax_bytes = 50MiB\n[replica]\nurl = file:///r\n",
			    "t.conf"), HF_EINVAL);
}

TEST(cfg_parses_and_names_errors)
{
	struct cfg c;

	cfg_init(&c);
	CHECK_INT(cfg_parse(&c, "[jobs]\nconcurrency = 16 # comment\nkill_grace=2s\n"
			    "output_cap = 64KiB\n[log]\nwal_max = 1MiB\n[groups]\nmodem = 2\n",
			    "t.conf"), HF_OK);
	CHECK_INT(c.concurrency, 16);
	CHECK_INT(c.kill_grace_ms, 2000);
	CHECK_INT(c.output_cap, 65536);
	CHECK_INT(c.wal_max, 1048576);
	CHECK_INT(cfg_group_limit(&c, "modem"), 2);
	CHECK_INT(cfg_parse(&c, "[jobs]\nconcurency = 3\n", "t.conf"), HF_EINVAL);
	CHECK(test_log_has("t.conf:2: unknown key 'concurency' in [jobs] (did you mean "
			   "'concurrency'?)"));
	CHECK_INT(cfg_parse(&c, "\n\n[jobs]\nkill_grace = soon\n", "t.conf"), HF_EINVAL);
	CHECK(test_log_has("t.conf:4: bad value 'soon' for kill_grace"));
	CHECK_INT(cfg_parse(&c, "concurrency = 3\n", "t.conf"), HF_EINVAL);
	CHECK(test_log_has("outside any [section]"));
	CHECK_INT(cfg_parse(&c, "[nope]\n", "t.conf"), HF_EINVAL);
	CHECK_INT(cfg_parse(&c, "[jobs]\nconcurrency = 0\n", "t.conf"), HF_EINVAL);
	CHECK_INT(cfg_parse(&c, "[jobs]\nconcurrency\n", "t.conf"), HF_EINVAL);
	CHECK_INT(cfg_parse(&c, "[groups]\nbad name = 1\n", "t.conf"), HF_EINVAL);
	CHECK_INT(cfg_load(&c, "missing.conf"), HF_OK); /* absent: defaults */
	CHECK_INT(c.concurrency, 4);
	/* Metered mode. */
	CHECK_INT(c.metered, CFG_METERED_AUTO);
	CHECK_STR(c.metered_links, "wwan* wwp* ppp*");
	CHECK_INT(cfg_parse(&c, "[replica]\nmetered = yes\nmetered_links = usb0 wl*\n"
			    "metered_snapshot_max = 256KiB\n", "t.conf"), HF_OK);
	CHECK_INT(c.metered, CFG_METERED_YES);
	CHECK_STR(c.metered_links, "usb0 wl*");
	CHECK_INT(c.metered_snapshot_max, 262144);
	CHECK_INT(cfg_parse(&c, "[replica]\nmetered = sometimes\n", "t.conf"), HF_EINVAL);
	CHECK(test_log_has("t.conf:2: bad value 'sometimes' for metered"));
	CHECK_INT(cfg_parse(&c, "[replica]\nmetered_links = wwan0;rm\n", "t.conf"), HF_EINVAL);
}

/* [jobs] user, allow_root, umask and limits: values and errors. */
TEST(cfg_jobs_privileges)
{
	struct cfg c;

	cfg_init(&c);
	CHECK_INT(c.jobs_umask, 022);
	CHECK(!c.jobs_allow_root && !c.jobs_user[0] && !c.limit_set[CFG_LIMIT_CORE]);
	CHECK_INT(cfg_parse(&c, "[jobs]\nuser = root\nallow_root = yes\numask = 027\n"
			    "limit_nofile = 64\nlimit_as = 512MiB\nlimit_core = unlimited\n",
			    "t.conf"), HF_OK);
	CHECK_STR(c.jobs_user, "root");
	CHECK(c.jobs_allow_root);
	CHECK_INT(c.jobs_umask, 027);
	CHECK(c.limit_set[CFG_LIMIT_NOFILE] && c.limit[CFG_LIMIT_NOFILE] == 64);
	CHECK(c.limit[CFG_LIMIT_AS] == 512ull << 20);
	CHECK(c.limit[CFG_LIMIT_CORE] == CFG_LIMIT_UNLIMITED);
	CHECK_INT(cfg_parse(&c, "[jobs]\nuser = no-such-user-here\n", "t.conf"), HF_EINVAL);
	CHECK(test_log_has("t.conf:2: bad value 'no-such-user-here' for user: want the name of "
			   "a user in the password database"));
	CHECK_INT(cfg_parse(&c, "[jobs]\numask = 0800\n", "t.conf"), HF_EINVAL);
	CHECK_INT(cfg_parse(&c, "[jobs]\nallow_root = maybe\n", "t.conf"), HF_EINVAL);
	CHECK_INT(cfg_parse(&c, "[jobs]\nlimit_nofile = 2\n", "t.conf"), HF_EINVAL);
	CHECK_INT(cfg_parse(&c, "[jobs]\nlimit_as = lots\n", "t.conf"), HF_EINVAL);
	/* init as root says allow_root; as anyone else, the plain default. */
	CHECK(strstr(cfg_init_text(true), "[jobs]\n# holdfast init ran as root") != NULL);
	CHECK_INT(cfg_parse(&c, cfg_init_text(true), "init"), HF_OK);
	CHECK_STR(cfg_init_text(false), cfg_default_text());
}

/* Every setting of the default file ("# key = default", under its section)
** is one the parser knows: uncommented alone it is never an unknown key, and
** a typo of it (its last letter dropped, two letters swapped) is answered
** with its name. */
TEST(cfg_suggests_near_misses)
{
	const char *p = cfg_default_text();
	char sect[32] = "", key[64], text[256];
	struct cfg c;
	int nkeys = 0;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = 0;

		if (sscanf(p, "[%31[a-z]]", sect) == 1) {
			/* section header */
		} else if (strcmp(sect, "groups") && sscanf(p, "# %63[a-z_] =%zn", key, &n) == 1 &&
			   n) {
			size_t len = strlen(key);

			snprintf(text, sizeof(text), "[%s]\n%s = x\n", sect, key);
			test_log_clear();
			cfg_init(&c);
			cfg_parse(&c, text, "t.conf");
			if (strstr(test_log(), "unknown key"))
				test_fail(__FILE__, __LINE__, "[%s] %s: %s", sect, key, test_log());
			char typo[64], want[256];
			memcpy(typo, key, len - 1);
			typo[len - 1] = '\0';
			snprintf(text, sizeof(text), "[%s]\n%s = x\n", sect, typo);
			snprintf(want, sizeof(want), "unknown key '%s' in [%s] (did you mean '%s'?)",
				 typo, sect, key);
			test_log_clear();
			CHECK_INT(cfg_parse(&c, text, "t.conf"), HF_EINVAL);
			if (!test_log_has(want))
				test_fail(__FILE__, __LINE__, "want \"%s\", got: %s", want, test_log());
			if (len >= 4) {
				size_t i = 1;
				while (key[i] == key[i + 1]) /* "addressing": swap d and r */
					i++;
				snprintf(typo, sizeof(typo), "%s", key);
				typo[i] = key[i + 1];
				typo[i + 1] = key[i];
				snprintf(text, sizeof(text), "[%s]\n%s = x\n", sect, typo);
				snprintf(want, sizeof(want), "(did you mean '%s'?)", key);
				test_log_clear();
				CHECK_INT(cfg_parse(&c, text, "t.conf"), HF_EINVAL);
				if (!test_log_has(want))
					test_fail(__FILE__, __LINE__, "%s: got: %s", typo, test_log());
			}
			nkeys++;
		}
		p = nl ? nl + 1 : p + strlen(p);
	}
	CHECK(nkeys >= 25); /* the scan did find the settings */

	/* Far off: no guess, only the name. */
	test_log_clear();
	CHECK_INT(cfg_parse(&c, "[jobs]\ncolour = blue\n", "t.conf"), HF_EINVAL);
	CHECK(test_log_has("t.conf:2: unknown key 'colour' in [jobs]"));
	CHECK(!test_log_has("did you mean"));
	/* Another section's key, spelled right: say whose it is. */
	CHECK_INT(cfg_parse(&c, "[jobs]\nwal_max = 1MiB\n", "t.conf"), HF_EINVAL);
	CHECK(test_log_has("unknown key 'wal_max' in [jobs] (it is a [log] key)"));
	/* Sections. */
	test_log_clear();
	CHECK_INT(cfg_parse(&c, "[job]\nconcurrency = 2\n", "t.conf"), HF_EINVAL);
	CHECK(test_log_has("t.conf:1: unknown section [job] (did you mean [jobs]?)"));
	test_log_clear();
	CHECK_INT(cfg_parse(&c, "[nope]\n", "t.conf"), HF_EINVAL);
	CHECK(test_log_has("unknown section [nope] (known: jobs, log, replica, history, groups)"));
}

/* A key set twice, or a section's keys under two headers: an error naming
** both lines, whichever value would have won. */
TEST(cfg_refuses_repeats)
{
	struct cfg c;

	cfg_init(&c);
	test_log_clear();
	CHECK_INT(cfg_parse(&c, "[jobs]\nconcurrency = 2\nkill_grace = 1s\nconcurrency = 3\n",
			    "t.conf"), HF_EINVAL);
	CHECK(test_log_has("t.conf:4: concurrency set again in [jobs] (first on line 2); keep one"));
	/* Even with the same value, and with other spacing. */
	test_log_clear();
	CHECK_INT(cfg_parse(&c, "[log]\nwal_max = 1MiB\n  wal_max=1MiB # again\n", "t.conf"),
		  HF_EINVAL);
	CHECK(test_log_has("t.conf:3: wal_max set again in [log] (first on line 2)"));
	test_log_clear();
	CHECK_INT(cfg_parse(&c, "[groups]\nmodem = 1\ncamera = 2\nmodem = 3\n", "t.conf"),
		  HF_EINVAL);
	CHECK(test_log_has("t.conf:4: modem set again in [groups] (first on line 2)"));
	/* One key in two sections is two keys. */
	CHECK_INT(cfg_parse(&c, "[groups]\nmodem = 1\n[replica]\nretries = 2\n", "t.conf"), HF_OK);
	/* A section split under two headers. */
	test_log_clear();
	cfg_init(&c);
	CHECK_INT(cfg_parse(&c, "[replica]\nretries = 2\n[jobs]\nconcurrency = 2\n\n"
			    "[replica]\ndevice = d\n", "t.conf"), HF_EINVAL);
	CHECK(test_log_has("t.conf:6: section [replica] again (first on line 1); put all its "
			   "keys under one [replica]"));
	/* A header with nothing set under it (the default file's, every key
	** commented out) is a template: a block appended after it is fine... */
	cfg_init(&c);
	char text[8192];
	snprintf(text, sizeof(text), "%s[replica]\ndevice = d\n[jobs]\nconcurrency = 2\n",
		 cfg_default_text());
	CHECK_INT(cfg_parse(&c, text, "t.conf"), HF_OK);
	CHECK_STR(c.device, "d");
	/* ...but once it has a setting, another header is a split section. */
	test_log_clear();
	snprintf(text, sizeof(text), "[jobs]\n# concurrency = 4\nkill_grace = 1s\n[log]\n"
		 "[jobs]\n\nconcurrency = 2\n");
	CHECK_INT(cfg_parse(&c, text, "t.conf"), HF_EINVAL);
	CHECK(test_log_has("t.conf:5: section [jobs] again (first on line 1)"));
}

/* A NUL byte in the file: its line and column. */
TEST(cfg_refuses_nul)
{
	struct cfg c;
	FILE *f = fopen("t.conf", "w");

	CHECK(f != NULL);
	fwrite("[jobs]\nconcur\0rency = 2\n", 1, 24, f);
	fclose(f);
	test_log_clear();
	CHECK_INT(cfg_load(&c, "t.conf"), HF_EINVAL);
	CHECK(test_log_has("t.conf:2:7: a NUL byte"));
}

TEST(metered_follows_the_config)
{
	struct cfg c;
	char why[128];

	cfg_init(&c);
	c.metered = CFG_METERED_YES;
	CHECK(ship_metered(&c, why, sizeof(why)));
	CHECK_STR(why, "metered = yes");
	c.metered = CFG_METERED_NO;
	CHECK(!ship_metered(&c, why, sizeof(why)));
	/* auto: whatever this machine's default route is, the reason names it. */
	c.metered = CFG_METERED_AUTO;
	snprintf(c.metered_links, sizeof(c.metered_links), "*");
	bool m = ship_metered(&c, why, sizeof(why));
	CHECK(m ? strstr(why, ", in metered_links") != NULL : strcmp(why, "no default route") == 0);
}

TEST(units_calendar)
{
	char buf[32];

	CHECK_INT((int)units_days_from_civil(1970, 1, 1), 0);
	CHECK_INT((int)units_days_from_civil(2000, 3, 1), 11017);
	CHECK_INT((int)units_days_from_civil(2028, 2, 29) + 1, (int)units_days_from_civil(2028, 3, 1));
	units_format_utc(0, false, buf, sizeof(buf));
	CHECK_STR(buf, "1970-01-01T00:00:00Z");
	units_format_utc(1893456000000LL, false, buf, sizeof(buf));
	CHECK_STR(buf, "2030-01-01T00:00:00Z");
	units_format_utc(1440938160000LL, true, buf, sizeof(buf)); /* the SigV4 suite's date */
	CHECK_STR(buf, "20150830T123600Z");
	/* Round trip, every day of four years with a leap day. */
	for (int64_t day = units_days_from_civil(2027, 1, 1); day < units_days_from_civil(2031, 1, 1);
	     day++) {
		int y, m, d;
		units_format_utc(day * 86400000LL + 1000, false, buf, sizeof(buf));
		CHECK(sscanf(buf, "%4d-%2d-%2d", &y, &m, &d) == 3);
		CHECK_INT((int)units_days_from_civil(y, (unsigned)m, (unsigned)d), (int)day);
	}
}
