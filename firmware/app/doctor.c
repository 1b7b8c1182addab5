/*
** doctor.c: `holdfast doctor` (see doctor.h).
**
** The order: the config first (every later check reads it; a config that
** does not parse is said, and the rest go on with the defaults), then the
** data directory, its storage, room and fsyncs, the clock, the secrets'
** files and the replica. A check that fails never stops the others: an
** unreachable replica or an unreadable credentials file is one failed line.
** What the checked code logs while a check runs (a config error with its
** line, the S3 server's reason) is caught and becomes that check's text,
** so each problem is said once, where it belongs.
*/
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "app/doctor.h"
#include "base/units.h"
#include "fmt/cfg.h"
#include "log/datadir.h"
#include "ship/replica.h"
#include "ship/ship.h"

const char *dr_status_name(int status)
{
	static const char *const names[] = { "ok", "warn", "fail", "skip" };

	return status >= DR_OK && status <= DR_SKIP ? names[status] : "?";
}

static void set(struct dr_check *c, int status, const char *todo, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void set(struct dr_check *c, int status, const char *todo, const char *fmt, ...)
{
	va_list ap;

	c->status = status;
	snprintf(c->todo, sizeof(c->todo), "%s", todo ? todo : "");
	va_start(ap, fmt);
	vsnprintf(c->what, sizeof(c->what), fmt, ap);
	va_end(ap);
}

/* Appends S to the text in BUF[CAP], after SEP if BUF is not empty; cut
** at CAP (a message, not data). */
static void append(char *buf, size_t cap, const char *sep, const char *s)
{
	size_t n = strlen(buf);

	for (const char *p = n ? sep : ""; *p && n + 1 < cap; p++)
		buf[n++] = *p;
	for (; *s && n + 1 < cap; s++)
		buf[n++] = *s;
	buf[n] = '\0';
}

/* ---- the verdicts (pure) ---------------------------------------------------- */

void dr_storage(const struct port_storage *fi, struct dr_check *c)
{
	char dev[128] = "";
	static const char *const unjournaled[] = { "vfat", "exfat", "ntfs", NULL };

	if (fi->dev[0])
		snprintf(dev, sizeof(dev), " on %s", fi->dev);
	snprintf(c->json, sizeof(c->json), "\"type\":\"%s\",\"class\":\"%s\"", fi->type,
		 fi->fs_class == PORT_FS_MEMORY ? "memory" :
		 fi->fs_class == PORT_FS_NETWORK ? "network" : "local");
	if (fi->fs_class == PORT_FS_MEMORY) {
		set(c, DR_FAIL, "put the data directory on a disk (holdfast init DIR there); "
				"run --allow-volatile is for tests and demos only",
		    "%s: memory, a power cut or reboot empties it and every job with it", fi->type);
		return;
	}
	if (fi->fs_class == PORT_FS_NETWORK) {
		set(c, DR_FAIL, "put the data directory on a local disk; ship to the network "
				"with [replica] url instead",
		    "%s: network or FUSE storage, whose fsync and locks SQLite cannot rely on "
		    "(run refuses it)", fi->type);
		return;
	}
	for (int i = 0; unjournaled[i]; i++)
		if (!strcmp(fi->type, unjournaled[i])) {
			set(c, DR_WARN, "use ext4 or f2fs for the data directory's partition",
			    "%s%s: no journal, so a power cut in the middle of a write can damage "
			    "the file system itself (SQLite keeps its own promise only on top of one "
			    "that survives)", fi->type, dev);
			return;
		}
	set(c, DR_OK, NULL, "%s%s, local", fi->type, dev);
}

void dr_space(uint64_t avail, uint64_t used, uint64_t budget, uint64_t floor, bool budget_set,
	      struct dr_check *c)
{
	char a[32], u[32], b[32], f[32], room[32];
	uint64_t can = avail + used;

	units_format_size(avail, a, sizeof(a));
	units_format_size(used, u, sizeof(u));
	units_format_size(budget, b, sizeof(b));
	units_format_size(floor, f, sizeof(f));
	/* What to set instead: 90% of what the disk gives, in whole MiB. */
	units_format_size((can - can / 10) >> 20 << 20, room, sizeof(room));
	snprintf(c->json, sizeof(c->json),
		 "\"avail_bytes\":%llu,\"used_bytes\":%llu,\"budget_bytes\":%llu,"
		 "\"floor_bytes\":%llu", (unsigned long long)avail, (unsigned long long)used,
		 (unsigned long long)budget, (unsigned long long)floor);
	if (can < floor) {
		set(c, DR_FAIL, "free space on this file system, or move the data directory to a "
				"bigger one",
		    "%s free and %s used by the data directory: less than the %s the job log "
		    "needs at the least ([history] max_bytes' floor)", a, u, f);
		return;
	}
	if (can < budget) {
		char todo[200];

		snprintf(todo, sizeof(todo), "set [history] max_bytes to at most %s (or free space)",
			 room);
		set(c, DR_WARN, todo,
		    "%s free and %s used: the disk fills before the data directory reaches its "
		    "%s budget ([history] max_bytes%s), so the daemon meets a full disk instead "
		    "of pruning", a, u, b, budget_set ? "" : ", 10% of the file system");
		return;
	}
	set(c, DR_OK, NULL, "%s free; the data directory holds %s of its %s budget", a, u, b);
}

bool dr_is_removable(const struct port_storage *fi)
{
	return fi->removable == 1 || !strcmp(fi->bus, "usb") || !strcmp(fi->bus, "sd");
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* How the disk below FI was classified, for the message. */
static void describe_dev(const struct port_storage *fi, char *out, size_t cap)
{
	if (!fi->dev[0]) {
		snprintf(out, cap, "no block device below %s", fi->type);
		return;
	}
	snprintf(out, cap, "%s: %s%s, removable=%s, rotational=%s", fi->dev,
		 !strcmp(fi->bus, "sd") ? "an SD card" : !strcmp(fi->bus, "usb") ? "USB" :
		 !strcmp(fi->bus, "mmc") ? "eMMC" : fi->bus[0] ? fi->bus : "bus unknown",
		 dr_is_removable(fi) ? ", removable media" : "",
		 fi->removable < 0 ? "?" : fi->removable ? "1" : "0",
		 fi->rotational < 0 ? "?" : fi->rotational ? "1" : "0");
}

void dr_fsync(uint64_t *us, unsigned n, const struct port_storage *fi, struct dr_check *c)
{
	char dev[160];
	uint64_t med;

	qsort(us, n, sizeof(*us), cmp_u64);
	med = us[n / 2];
	describe_dev(fi, dev, sizeof(dev));
	snprintf(c->json, sizeof(c->json),
		 "\"median_us\":%llu,\"min_us\":%llu,\"max_us\":%llu,\"fsyncs\":%u,"
		 "\"removable_media\":%s", (unsigned long long)med, (unsigned long long)us[0],
		 (unsigned long long)us[n - 1], n, dr_is_removable(fi) ? "true" : "false");
	if (dr_is_removable(fi) && med < DR_FSYNC_LYING_US) {
		set(c, DR_WARN, "use media known to flush (an industrial SD card, an SSD with "
				"power-loss protection) or test one with power cuts before trusting it",
		    "median %llu us over %u fsyncs (%s): too fast for an honest flush to removable "
		    "media, which takes milliseconds; its cache likely acknowledges writes it has "
		    "not stored, and a power cut can lose acknowledged jobs",
		    (unsigned long long)med, n, dev);
		return;
	}
	if (med > DR_FSYNC_SLOW_US) {
		set(c, DR_WARN, "expect each submit and each job's end to take as long; faster "
				"storage shortens it",
		    "median %llu us over %u fsyncs (%s): slow storage", (unsigned long long)med, n,
		    dev);
		return;
	}
	set(c, DR_OK, NULL, "median %llu us over %u fsyncs (min %llu, max %llu; %s)",
	    (unsigned long long)med, n, (unsigned long long)us[0], (unsigned long long)us[n - 1],
	    dev);
}

void dr_clock(const struct port_clock_state *st, bool s3, struct dr_check *c)
{
	snprintf(c->json, sizeof(c->json), "\"synchronised\":%s,\"trusted\":%s,\"utc_ms\":%lld",
		 st->synchronised ? "true" : "false", st->trusted ? "true" : "false",
		 (long long)st->utc_ms);
	if (st->utc_ms / 1000 < st->build_utc_s) {
		set(c, s3 ? DR_FAIL : DR_WARN,
		    "run an NTP client (systemd-timesyncd, chrony, busybox ntpd), or an RTC",
		    "the wall clock (%lld s since 1970) is before this binary was built (%lld): "
		    "times are shown as untrusted, calendar schedules wait%s",
		    (long long)(st->utc_ms / 1000), (long long)st->build_utc_s,
		    s3 ? ", and S3 refuses requests signed with a wrong time" : "");
		return;
	}
	if (!st->synchronised) {
		set(c, DR_WARN, "run an NTP client (systemd-timesyncd, chrony, busybox ntpd)",
		    "not synchronised (the kernel says STA_UNSYNC): times are shown as untrusted "
		    "and calendar schedules wait until it is");
		return;
	}
	if (st->max_error_us >= 0)
		set(c, DR_OK, NULL, "synchronised (maximum error %lld ms)",
		    (long long)(st->max_error_us / 1000));
	else
		set(c, DR_OK, NULL, "synchronised");
}

void dr_datadir(mode_t mode, bool mine, bool writable, struct dr_check *c)
{
	snprintf(c->json, sizeof(c->json), "\"mode\":\"%04o\"", (unsigned)(mode & 07777));
	if (!writable) {
		set(c, DR_FAIL, "run holdfast as the directory's owner, or chown it",
		    "mode %04o: this user cannot write it", (unsigned)(mode & 07777));
		return;
	}
	if (mode & 022) {
		set(c, DR_FAIL, "chmod 700 it",
		    "mode %04o: others can write it, and so change or remove the job log",
		    (unsigned)(mode & 07777));
		return;
	}
	if (mode & 077) {
		set(c, DR_WARN, "chmod 700 it",
		    "mode %04o: others can read it (the job log keeps jobs' commands, "
		    "environments and output)", (unsigned)(mode & 07777));
		return;
	}
	if (!mine) {
		set(c, DR_WARN, "chown it to the user holdfast runs as",
		    "mode %04o, but owned by another user", (unsigned)(mode & 07777));
		return;
	}
	set(c, DR_OK, NULL, "mode %04o, ours", (unsigned)(mode & 07777));
}

void dr_secret_file(const char *what, const char *path, mode_t mode, bool mine,
		    struct dr_check *c)
{
	if (mode & 077) {
		char todo[64];

		snprintf(todo, sizeof(todo), "chmod 600 %s", path);
		set(c, DR_FAIL, todo, "%s %s: mode %04o, others can read it (holdfast refuses it)",
		    what, path, (unsigned)(mode & 07777));
		return;
	}
	if (!mine) {
		set(c, DR_WARN, "chown it to the user holdfast runs as",
		    "%s %s: mode %04o, but owned by another user", what, path,
		    (unsigned)(mode & 07777));
		return;
	}
	set(c, DR_OK, NULL, "%s %s: mode %04o, ours", what, path, (unsigned)(mode & 07777));
}

void dr_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", out);
		else if (ch < 0x20)
			fprintf(out, "\\u%04x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

/* ---- measuring ------------------------------------------------------------- */

/* What the checked code logs while a check runs. */
struct caught {
	char text[600];
};

static void catch_line(int level, const char *line, void *arg)
{
	struct caught *k = arg;

	(void)level;
	append(k->text, sizeof(k->text), "; ", line);
}

static void catch_start(struct caught *k)
{
	k->text[0] = '\0';
	port_log_set_sink(catch_line, k);
}

static void catch_stop(void)
{
	port_log_set_sink(NULL, NULL);
}

enum { CK_CONFIG, CK_DATADIR, CK_STORAGE, CK_SPACE, CK_FSYNC, CK_CLOCK, CK_SECRETS, CK_REPLICA,
       CK_N };

struct doctor {
	char dir[PATH_MAX];
	char conf[PATH_MAX + 32];
	struct cfg cfg;
	bool have_dir;
	struct port_storage fi;
	bool have_fi;
	struct dr_check ck[CK_N];
};

static void check_config(struct doctor *d, struct dr_check *c)
{
	enum port_fs_kind kind;
	struct caught k;
	int rc;

	catch_start(&k);
	rc = cfg_load(&d->cfg, d->conf);
	catch_stop();
	if (rc != HF_OK) {
		cfg_init(&d->cfg); /* the other checks go on with the defaults */
		set(c, DR_FAIL, "fix that line (holdfast init writes a commented default to "
				"compare with)",
		    "%s", k.text[0] ? k.text : hf_strerror(rc));
		return;
	}
	if (port_fs_kind(d->conf, &kind) == HF_OK && kind == PORT_FS_NONE)
		set(c, DR_OK, NULL, "no %s: the defaults", d->conf);
	else
		set(c, DR_OK, NULL, "%s parses", d->conf);
}

static void check_datadir(struct doctor *d, struct dr_check *c)
{
	enum port_fs_kind kind;
	char db[PATH_MAX + 32];
	mode_t mode;
	bool mine;

	if (port_fs_kind(d->dir, &kind) != HF_OK || kind != PORT_FS_DIR) {
		set(c, DR_FAIL, "holdfast init (or give --data DIR)", "%s: no such directory",
		    d->dir);
		return;
	}
	d->have_dir = true;
	snprintf(db, sizeof(db), "%s/%s", d->dir, DD_DB_NAME);
	if (port_fs_kind(db, &kind) != HF_OK || kind != PORT_FS_FILE) {
		set(c, DR_FAIL, "holdfast init (or give --data DIR)",
		    "%s: no job log (%s): not a data directory", d->dir, DD_DB_NAME);
		return;
	}
	if (port_fs_mode_owner(d->dir, &mode, &mine) != HF_OK) {
		set(c, DR_FAIL, NULL, "%s: cannot stat it", d->dir);
		return;
	}
	dr_datadir(mode, mine, port_fs_is_writable(d->dir), c);
}

static void check_storage(struct doctor *d, struct dr_check *c)
{
	struct caught k;
	int rc;

	catch_start(&k);
	rc = port_fs_info(d->dir, &d->fi);
	catch_stop();
	if (rc != HF_OK) {
		set(c, DR_FAIL, NULL, "%s", k.text);
		return;
	}
	d->have_fi = true;
	dr_storage(&d->fi, c);
}

static void check_space(struct doctor *d, struct dr_check *c)
{
	uint64_t used = 0;

	if (!d->have_fi) {
		set(c, DR_SKIP, NULL, "the file system is not known");
		return;
	}
	port_fs_usage(d->dir, &used);
	dr_space(d->fi.avail, used, cfg_max_bytes(&d->cfg, d->fi.total),
		 cfg_max_bytes_floor(&d->cfg), d->cfg.history_max_bytes != 0, c);
}

static void check_fsync(struct doctor *d, struct dr_check *c)
{
	uint64_t us[DR_FSYNC_PROBES];
	struct caught k;
	int rc;

	if (!d->have_fi || !port_fs_is_writable(d->dir)) {
		set(c, DR_SKIP, NULL, "the data directory cannot be written");
		return;
	}
	catch_start(&k);
	rc = port_fs_fsync_probe(d->dir, DR_FSYNC_PROBES, us);
	catch_stop();
	if (rc != HF_OK) {
		set(c, DR_FAIL, "look at the kernel's log (dmesg) for the device's errors",
		    "a write or fsync in the data directory failed: %s", k.text);
		return;
	}
	dr_fsync(us, DR_FSYNC_PROBES, &d->fi, c);
}

static void check_secrets(struct doctor *d, struct dr_check *c)
{
	const struct {
		const char *what, *path;
	} files[] = { { "[replica] credentials_file", d->cfg.s3_credentials_file },
		      { "[replica] key_file", d->cfg.replica_key_file } };
	char said[sizeof(c->what)] = "";
	int worst = DR_SKIP;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct dr_check one = { 0 };
		struct caught k;
		mode_t mode;
		bool mine;
		int rc;

		if (!files[i].path[0])
			continue;
		catch_start(&k);
		rc = port_fs_mode_owner(files[i].path, &mode, &mine);
		catch_stop();
		if (rc != HF_OK)
			set(&one, DR_FAIL, "create it (mode 0600) or fix the path", "%s %s: %s",
			    files[i].what, files[i].path, k.text[0] ? k.text : hf_strerror(rc));
		else
			dr_secret_file(files[i].what, files[i].path, mode, mine, &one);
		/* The worst file's verdict and advice; every file's finding. */
		if (worst == DR_SKIP || one.status > worst) {
			worst = one.status;
			snprintf(c->todo, sizeof(c->todo), "%s", one.todo);
		}
		append(said, sizeof(said), "; ", one.what);
	}
	if (worst == DR_SKIP) {
		set(c, DR_SKIP, NULL, "no credentials_file or key_file configured");
		return;
	}
	c->status = worst;
	snprintf(c->what, sizeof(c->what), "%s", said);
}

/* The replica URL refused the probe's write (TEXT: what it said): why, by
** what its counters ST saw, and what to do. */
static void probe_failed(struct dr_check *c, const char *url, bool s3,
			 const struct replica_stats *st, const char *text)
{
	const char *why = st->failed_access ? "credentials refused" :
			  st->failed_tls ? "TLS failed" :
			  st->failed_config ? "refused" :
			  s3 ? "unreachable" : "cannot write";
	const char *todo = st->failed_access ? "check the access and secret keys, and that they "
					       "may write under this prefix" :
			   st->failed_tls ? "check [replica] ca_file and pin" :
			   st->failed_config ? "check [replica] url, endpoint and region" :
			   s3 ? "check [replica] endpoint and the network (holdfast keeps shipping "
				"later: the spool keeps everything)" :
				"check the directory's permissions and free space";

	set(c, DR_FAIL, todo, "%s: %s: %s", url, why, text);
}

/* A replica answers, takes our credentials and our writes: one small
** object under the device's name, removed again. */
static void check_replica(struct doctor *d, struct dr_check *c)
{
	struct cfg rc_cfg = d->cfg;
	struct replica r;
	struct replica_stats st;
	char device[SEG_DEVICE_MAX + 1], rel[128], body[96];
	struct caught k;
	bool new_dir = false, s3;
	uint64_t t0;
	int rc;

	if (!d->cfg.replica[0]) {
		set(c, DR_SKIP, NULL, "no [replica] url configured");
		return;
	}
	/* An answer, not a backoff: one retry, and a short wait. */
	rc_cfg.s3_retries = 1;
	if (rc_cfg.s3_timeout_ms > 10000)
		rc_cfg.s3_timeout_ms = 10000;
	ship_device_name(&d->cfg, device, sizeof(device));
	snprintf(rel, sizeof(rel), "%s/.doctor-%08x", device, port_random_u32());
	snprintf(body, sizeof(body), "holdfast doctor's probe; safe to remove\n");
	catch_start(&k);
	rc = replica_open(d->cfg.replica, &rc_cfg, &r);
	catch_stop();
	if (rc != HF_OK) {
		replica_close(&r);
		set(c, DR_FAIL, "fix [replica] in holdfast.conf (or its credentials file)", "%s: %s",
		    d->cfg.replica, k.text[0] ? k.text : hf_strerror(rc));
		return;
	}
	if (!r.s3 && !replica_reachable(&r)) {
		replica_close(&r);
		set(c, DR_FAIL, "mount it, or create the directory writable by this user",
		    "%s: not there or not writable", d->cfg.replica);
		return;
	}
	if (!r.s3) {
		char path[2200];
		enum port_fs_kind kind = PORT_FS_DIR;

		snprintf(path, sizeof(path), "%s/%s", r.root, device);
		new_dir = port_fs_kind(path, &kind) == HF_OK && kind == PORT_FS_NONE;
	}
	t0 = port_clock_mono_ms();
	catch_start(&k);
	rc = replica_write(&r, rel, body, strlen(body));
	catch_stop();
	replica_stats(&r, &st);
	if (rc != HF_OK) {
		s3 = r.s3;
		replica_close(&r);
		probe_failed(c, d->cfg.replica, s3, &st, k.text[0] ? k.text : hf_strerror(rc));
		return;
	}
	catch_start(&k);
	rc = replica_remove(&r, rel);
	if (rc == HF_OK && new_dir) { /* the device's directory the probe made */
		char path[2200];

		snprintf(path, sizeof(path), "%s/%s", r.root, device);
		rc = port_fs_rmdir(path);
	}
	catch_stop();
	snprintf(c->json, sizeof(c->json), "\"probe\":\"%s\",\"ms\":%llu", rel,
		 (unsigned long long)(port_clock_mono_ms() - t0));
	s3 = r.s3;
	replica_close(&r); /* wipes R */
	if (rc != HF_OK) {
		set(c, DR_WARN, "remove it by hand, and let holdfast delete under its prefix",
		    "%s: wrote %s but could not remove it: %s", d->cfg.replica, rel,
		    k.text[0] ? k.text : hf_strerror(rc));
		return;
	}
	set(c, DR_OK, NULL, "%s: reachable%s, wrote and removed %s", d->cfg.replica,
	    s3 ? ", credentials accepted" : "", rel);
}

/* ---- the verb ------------------------------------------------------------------ */

static void print_text(FILE *out, const struct doctor *d)
{
	for (int i = 0; i < CK_N; i++) {
		const struct dr_check *c = &d->ck[i];

		fprintf(out, "%-4s %-8s %s%s%s\n", dr_status_name(c->status), c->name, c->what,
			c->todo[0] && c->status != DR_OK ? " -> " : "",
			c->status != DR_OK ? c->todo : "");
	}
}

static void print_json(FILE *out, const struct doctor *d, const unsigned *count)
{
	fputs("{\"data\":", out);
	dr_json_string(out, d->dir);
	fputs(",\"checks\":[", out);
	for (int i = 0; i < CK_N; i++) {
		const struct dr_check *c = &d->ck[i];

		fprintf(out, "%s{\"name\":\"%s\",\"status\":\"%s\",\"detail\":", i ? "," : "",
			c->name, dr_status_name(c->status));
		dr_json_string(out, c->what);
		fputs(",\"action\":", out);
		dr_json_string(out, c->status != DR_OK ? c->todo : "");
		fprintf(out, "%s%s}", c->json[0] ? "," : "", c->json);
	}
	fprintf(out, "],\"ok\":%u,\"warn\":%u,\"fail\":%u,\"skip\":%u}\n", count[DR_OK],
		count[DR_WARN], count[DR_FAIL], count[DR_SKIP]);
}

int cmd_doctor(const struct args_global *g, struct args *a, FILE *out)
{
	static const struct args_opt opts[] = { { "help", 'h', false },
					       { "json", 0, false },
					       { NULL, 0, false } };
	static const char *const names[CK_N] = { "config", "datadir", "storage", "space",
						 "fsync",  "clock",   "secrets", "replica" };
	struct doctor *d;
	struct port_clock_state cs;
	unsigned count[4] = { 0 };
	const char *val;
	bool def, json = false;
	int r, idx, rc;

	while ((r = args_next(a, opts, &idx, &val)) != ARGS_END) {
		if (r < 0)
			return r;
		if (r == ARGS_POSITIONAL) {
			port_log("doctor: unexpected argument '%s'", val);
			return HF_EINVAL;
		}
		if (idx == 0)
			return ARGS_HELP;
		json = true;
	}
	if (!(d = calloc(1, sizeof(*d))))
		return HF_ENOMEM;
	if ((rc = dd_resolve(g->data, d->dir, sizeof(d->dir), &def)) != HF_OK) {
		free(d);
		return rc;
	}
	if ((rc = dd_conf_path(g->config, d->dir, d->conf, sizeof(d->conf), &def)) != HF_OK) {
		free(d);
		return rc;
	}
	for (int i = 0; i < CK_N; i++)
		d->ck[i].name = names[i];
	check_config(d, &d->ck[CK_CONFIG]);
	check_datadir(d, &d->ck[CK_DATADIR]);
	if (d->have_dir) {
		check_storage(d, &d->ck[CK_STORAGE]);
		check_space(d, &d->ck[CK_SPACE]);
		check_fsync(d, &d->ck[CK_FSYNC]);
	} else {
		for (int i = CK_STORAGE; i <= CK_FSYNC; i++)
			set(&d->ck[i], DR_SKIP, NULL, "no data directory");
	}
	port_clock_state(&cs);
	dr_clock(&cs, !strncmp(d->cfg.replica, "s3://", 5), &d->ck[CK_CLOCK]);
	check_secrets(d, &d->ck[CK_SECRETS]);
	check_replica(d, &d->ck[CK_REPLICA]);
	cfg_wipe(&d->cfg);
	for (int i = 0; i < CK_N; i++)
		count[d->ck[i].status]++;
	if (json)
		print_json(out, d, count);
	else
		print_text(out, d);
	rc = count[DR_FAIL] ? HF_EIO : HF_OK;
	free(d);
	return rc;
}
