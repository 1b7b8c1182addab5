/*
** ship_upload.c: the spool copied to the replica, file by file, each
** removed once the replica has it durably (ship_int.h); the owner check,
** metered links, the upload window and the daily budget.
*/
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/names.h"
#include "fmt/cfg.h"
#include "fmt/manifest.h"
#include "port.h"
#include "ship/replica.h"
#include "ship/ship_int.h"

/* ---- the replica ------------------------------------------------------------------ */

/* The replica's DEVICE/owner: written by the first install to ship under
** this device name; another install finds it and is refused, so two
** devices can never interleave their generations under one name (restore
** would pick the wrong device's). Checked once per process, on its first
** write. A cloned data directory has the same id: its conflicts show at
** the first seq both ship (copy_one). */
static int check_owner(struct ship *s)
{
	char rel[256], *text;
	size_t len;
	int rc;

	if (s->owner_ok)
		return HF_OK;
	snprintf(rel, sizeof(rel), "%s/owner", s->device);
	/* 32 bytes; read up to a bound (the replica is input from outside),
	** which still takes a longer file in, to be said to be another's. */
	if ((rc = replica_read_max(s->rep, rel, 4096, &text, &len)) == HF_ENOENT)
		rc = replica_write(s->rep, rel, s->install_id, 32);
	else if (rc == HF_OK) {
		if (len != 32 || memcmp(text, s->install_id, 32) != 0) {
			port_log("replica: the device name '%s' belongs to another install (%s/owner "
				 "there is %.32s, this data directory is %s): two devices must not "
				 "ship under one name; give this one its own [replica] device",
				 s->device, s->device, text, s->install_id);
			rc = HF_EEXIST;
		}
		free(text);
	}
	s->owner_ok = rc == HF_OK;
	return rc;
}

/* Writes one file of generation GEN (seq 0: the snapshot, and then the
** manifest) into the replica, durably: LEN bytes at BUF, or (BUF NULL) the
** spool file FROM. */
int ship_replica_put(struct ship *s, uint64_t gen, uint64_t seq, const void *buf, size_t len,
		       const char *from)
{
	char rel[256], text[512];
	uint64_t prev;
	int rc;

	if (!ship_reachable(s))
		return HF_ENOENT;
	if ((rc = check_owner(s)) != HF_OK)
		return rc;
	if (seq)
		snprintf(rel, sizeof(rel), "%s/%016" PRIx64 "/seg/%016" PRIx64 ".zst", s->device, gen,
			 seq);
	else
		snprintf(rel, sizeof(rel), "%s/%016" PRIx64 "/snapshot.zst", s->device, gen);
	rc = buf ? replica_write(s->rep, rel, buf, len) : replica_write_file(s->rep, rel, from);
	if (rc != HF_OK || seq)
		return rc;
	/* The gap record: the generation this one follows in the replica
	** (found now, when the snapshot is there: whatever never got here
	** is part of the gap), and why history broke. Only the current
	** generation's snapshot is ever in the spool, so the state says why. */
	if ((rc = ship_replica_newest(s, gen >> 32, &prev)) != HF_OK)
		return rc;
	manifest_format(s->device, gen, prev,
		      gen == s->st.generation && s->st.last_gap[0] ?
			      s->st.last_gap :
			      "unknown (the shipping state that said why is gone)",
		      text, sizeof(text));
	snprintf(rel, sizeof(rel), "%s/%016" PRIx64 "/manifest", s->device, gen);
	return replica_write(s->rep, rel, text, strlen(text));
}

int ship_put(struct ship *s, const char *rel, const void *buf, size_t len)
{
	int rc;

	if (!ship_reachable(s))
		return HF_ENOENT;
	if (!ship_allowance_takes(s, len))
		return HF_EBUSY;
	if ((rc = check_owner(s)) != HF_OK)
		return rc;
	rc = replica_write(s->rep, rel, buf, len);
	ship_count(s);
	return rc;
}

/* *NEWEST: the replica's generation with the highest counter below BELOW
** (0: none). */
int ship_replica_newest(struct ship *s, uint64_t below, uint64_t *newest)
{
	struct names ns = { 0 };
	int rc;

	*newest = 0;
	if (!ship_reachable(s))
		return HF_ENOENT;
	if ((rc = replica_list(s->rep, s->device, 16, NULL, &ns)) == HF_ENOENT)
		rc = HF_OK;
	for (size_t i = 0; rc == HF_OK && i < ns.n; i++) {
		uint64_t g = strtoull(ns.v[i], NULL, 16);
		if (g >> 32 < below && g >> 32 > *newest >> 32)
			*newest = g;
	}
	free(ns.v);
	return rc;
}

static int copy_one(struct ship *s, const char *name)
{
	char from[4300];
	uint64_t gen = strtoull(name, NULL, 16), seq = strtoull(name + 17, NULL, 16);
	int rc;

	snprintf(from, sizeof(from), "%s/%s", s->spool, name);
	rc = ship_replica_put(s, gen, seq, NULL, 0, from);
	/* Create-only writes: the same name with other bytes is another writer
	** with this very history (its device name, generation and seqs): a
	** cloned SD card, or a copy of the data directory restored elsewhere.
	** Nothing was overwritten; say what it means, and keep it in the spool. */
	if (rc == HF_EEXIST)
		port_log("replica: %s/%016" PRIx64 " seq %" PRIu64 " is in the replica with other "
			 "contents: another device ships as '%s' with this device's history (a "
			 "cloned SD card, or a restored copy of this data directory?). Nothing was "
			 "overwritten and this device will not ship over it; give one of them its "
			 "own [replica] device name and a fresh data directory (holdfast init)",
			 s->device, gen, seq, s->device);
	/* Only now, with the copy durable, may the spool forget it. */
	if (rc == HF_OK && (rc = port_fs_unlink(from)) == HF_OK)
		rc = port_fs_fsync_dir(s->spool);
	return rc;
}

bool ship_metered(const struct cfg *cfg, char *why, size_t len)
{
	char link[64], pats[sizeof(cfg->metered_links)], *pat, *save = NULL;

	if (cfg->metered != CFG_METERED_AUTO) {
		snprintf(why, len, "metered = %s", cfg->metered == CFG_METERED_YES ? "yes" : "no");
		return cfg->metered == CFG_METERED_YES;
	}
	if (port_net_default_link(link, sizeof(link)) != HF_OK) {
		snprintf(why, len, "no default route");
		return false;
	}
	snprintf(pats, sizeof(pats), "%s", cfg->metered_links);
	for (pat = strtok_r(pats, " ", &save); pat; pat = strtok_r(NULL, " ", &save))
		if (fnmatch(pat, link, 0) == 0) {
			snprintf(why, len, "the default route goes by %s, in metered_links", link);
			return true;
		}
	snprintf(why, len, "the default route goes by %s", link);
	return false;
}

/* Metered mode: on a metered link only the job log goes out. A snapshot
** over metered_snapshot_max waits in the spool, and the segments after it
** (they need it) with it, until the link is not metered. Said once each
** way. */
static bool metered_hold(struct ship *s, const char *name, uint64_t size)
{
	char why[128];
	bool hold;

	if (strtoull(name + 17, NULL, 16) != 0 || size <= s->cfg->metered_snapshot_max)
		return false;
	hold = ship_over_metered(s, why, sizeof(why));
	if (hold && !s->metered_held)
		port_notice("replica: the link is metered (%s): the %" PRIu64 "-byte snapshot of "
			 "generation %.16s (over metered_snapshot_max) and the segments after it "
			 "wait for an unmetered link",
			 why, size, name);
	else if (!hold && s->metered_held)
		port_notice("replica: the link is not metered now (%s): sending the snapshot", why);
	return hold;
}

/* ---- limits: the upload window and the daily budget ----------------------------- */

/*
** The daemon, `sync now` and --wait-remote all decide here what may go out
** and count here what went, so no path sends past a limit the others keep.
** The count lives in DATA/spool/budget (struct ship_budget): read fresh before
** every decision, added to under DATA/spool/.budget.lock and written back
** with port_fs_replace, so concurrent processes add up instead of
** overwriting each other.
*/

int64_t ship_budget_day(int64_t utc_ms, bool trusted, uint64_t mono_ms)
{
	return trusted ? utc_ms / 86400000 : -1 - (int64_t)(mono_ms / 86400000);
}

/*
** A UTC day follows a UTC day, a monotonic span a monotonic span: a new
** count. A change of clock is not a new day, so the count carries over:
** starting again from zero when NTP first answers would let a device send
** twice its budget that day. Clock trust can come and go (an RTC-less board
** reboots untrusted every morning), so what a monotonic span carried from a
** UTC day is remembered, and dropped if the clock comes back on a later UTC
** day: only the bytes sent during the span itself then count. Those may
** include some of yesterday's (the span's start is unknown in UTC): at
** worst today sends less, never more.
*/
void ship_budget_roll(struct ship_budget *b, int64_t today)
{
	if (b->day == today)
		return;
	if ((b->day < 0) == (today < 0)) {
		b->used = b->carried = 0;
		b->from = 0;
	} else if (today < 0) {
		/* Trust lost: everything so far is carried, from that UTC day. */
		b->carried = b->used;
		b->from = b->day;
	} else {
		if (b->carried && b->from != today)
			b->used = b->used > b->carried ? b->used - b->carried : 0;
		b->carried = 0;
		b->from = 0;
	}
	b->day = today;
}

static void budget_path(const struct ship *s, char *path, size_t len, const char *name)
{
	snprintf(path, len, "%s/%s", s->spool, name);
}

/* Loads the count, "day D used N[ carried C from F]", and rolls it over
** to TODAY. True if that carried it over a change of clock. */
static bool budget_load(struct ship *s, int64_t today)
{
	struct ship_budget *b = &s->budget;
	char path[4300], *text;
	long long day, from;
	unsigned long long used, carried;
	size_t len;
	int n = 0;

	memset(b, 0, sizeof(*b));
	b->day = today;
	budget_path(s, path, sizeof(path), "budget");
	if (port_fs_read_file(path, 256, &text, &len) == HF_OK) {
		n = sscanf(text, "day %lld used %llu carried %llu from %lld", &day, &used, &carried,
			   &from);
		free(text);
	}
	if (n >= 2) {
		b->day = day;
		b->used = used;
		if (n == 4) {
			b->carried = carried;
			b->from = from;
		}
	}
	bool switched = b->day != today && (b->day < 0) != (today < 0);
	ship_budget_roll(b, today);
	return switched && b->used;
}

static int budget_save(struct ship *s)
{
	const struct ship_budget *b = &s->budget;
	char path[4300], text[160];

	if (b->carried)
		snprintf(text, sizeof(text), "day %lld used %llu carried %llu from %lld\n",
			 (long long)b->day, (unsigned long long)b->used,
			 (unsigned long long)b->carried, (long long)b->from);
	else
		snprintf(text, sizeof(text), "day %lld used %llu\n", (long long)b->day,
			 (unsigned long long)b->used);
	budget_path(s, path, sizeof(path), "budget");
	return port_fs_replace(path, text, strlen(text), 0600);
}

/* DATA/spool/.budget.lock, held only for a read and a write: another
** process has it for milliseconds. */
static int budget_lock(struct ship *s, int *lfd)
{
	char path[4300];
	int tries = 0, rc;

	if ((rc = ship_ensure_spool(s)) != HF_OK)
		return rc;
	budget_path(s, path, sizeof(path), ".budget.lock");
	while ((rc = port_fs_lock(path, lfd)) == HF_EBUSY && ++tries < 300)
		port_poll(NULL, 0, 10);
	return rc;
}

static int64_t budget_today(void)
{
	bool trusted;
	int64_t utc = port_clock_utc(&trusted);

	return ship_budget_day(utc, trusted, port_clock_mono_ms());
}

int ship_limit(struct ship *s)
{
	const struct cfg *c = s->cfg;
	bool trusted;
	int64_t utc = port_clock_utc(&trusted), today;
	int limit = SHIP_LIMIT_NONE, lfd;

	today = ship_budget_day(utc, trusted, port_clock_mono_ms());
	/* A carry over a change of clock is written down at once: read again
	** on a later day, the old span could not be told from one whose carry
	** is due then. */
	if (budget_load(s, today) && c->daily_budget && budget_lock(s, &lfd) == HF_OK) {
		if (budget_load(s, today))
			budget_save(s);
		port_close(lfd);
	}
	/* Only a trusted clock can say when the window is. */
	if (c->window_start != c->window_end && trusted) {
		int m = (int)(utc / 60000 % 1440), a = c->window_start, b = c->window_end;
		if (a < b ? (m < a || m >= b) : (m < a && m >= b))
			limit = SHIP_LIMIT_WINDOW;
	}
	if (limit == SHIP_LIMIT_NONE && c->daily_budget && s->budget.used >= c->daily_budget)
		limit = SHIP_LIMIT_BUDGET;
	if (!c->daily_budget)
		s->allowance = UINT64_MAX;
	else
		s->allowance = s->budget.used < c->daily_budget ? c->daily_budget - s->budget.used : 0;
	s->allowance_whole = s->budget.used == 0;
	return limit;
}

void ship_limit_why(const struct ship *s, int limit, char *out, size_t len)
{
	const struct cfg *c = s->cfg;

	if (limit == SHIP_LIMIT_WINDOW)
		snprintf(out, len, "outside the upload window (%02d:%02d-%02d:%02d UTC)",
			 c->window_start / 60, c->window_start % 60, c->window_end / 60,
			 c->window_end % 60);
	else if (limit == SHIP_LIMIT_BUDGET)
		snprintf(out, len, "the daily budget is spent (%" PRIu64 " of %" PRIu64
			 " bytes sent today)", s->budget.used, c->daily_budget);
	else
		snprintf(out, len, "no limit");
}

void ship_count(struct ship *s)
{
	struct replica_stats st;
	int lfd;

	if (!s->rep)
		return;
	replica_stats(s->rep, &st);
	if (st.sent <= s->sent_seen || !s->cfg->daily_budget) {
		s->sent_seen = st.sent;
		return;
	}
	/* Not locked: counted at the next call. */
	if (budget_lock(s, &lfd) != HF_OK)
		return;
	budget_load(s, budget_today());
	s->budget.used += st.sent - s->sent_seen;
	if (budget_save(s) == HF_OK)
		s->sent_seen = st.sent;
	port_close(lfd);
}

/* The daily budget, file by file: SIZE goes only if it fits in what is
** left of it, so the budget is never overshot, but for one file bigger than
** the whole budget, which goes alone as the day's first rather than jam the
** spool for ever. Charged against the allowance if it goes. */
bool ship_allowance_takes(struct ship *s, uint64_t size)
{
	if (s->allowance == UINT64_MAX)
		return true;
	if (size > s->allowance && !s->allowance_whole)
		return false;
	s->allowance = size > s->allowance ? 0 : s->allowance - size;
	s->allowance_whole = false;
	return true;
}

static void forget_upload(struct ship *s, const char *path)
{
	replica_forget_upload(s->rep, path);
}

static void unlink_copy(struct ship *s, const char *path)
{
	(void)s;
	port_fs_unlink(path);
}

/* Calls DROP on each spool file NAME.seg + SUFFIX (a 7-byte suffix, as
** ".upload" or ".sealed") whose NAME.seg is gone. */
static void sweep_orphans(struct ship *s, const char *suffix,
			  void (*drop)(struct ship *, const char *))
{
	struct names ns = { 0 };

	if (names_list(s->spool, SPOOL_NAME_LEN + 7, suffix, &ns) != HF_OK)
		return;
	for (size_t i = 0; i < ns.n; i++) {
		char path[4300], seg[4300];
		enum port_fs_kind kind;
		snprintf(path, sizeof(path), "%s/%s", s->spool, ns.v[i]);
		snprintf(seg, sizeof(seg), "%.*s", (int)strlen(path) - 7, path);
		if (port_fs_kind(seg, &kind) == HF_OK && kind == PORT_FS_NONE)
			drop(s, path);
	}
	free(ns.v);
}

int ship_upload(struct ship *s, unsigned *copied)
{
	struct names ns = { 0 };
	char lock[4300];
	int rc, lfd;

	*copied = 0;
	if (!ship_reachable(s))
		return HF_ENOENT;
	if ((rc = ship_ensure_spool(s)) != HF_OK)
		return rc;
	snprintf(lock, sizeof(lock), "%s/.upload.lock", s->spool);
	if ((rc = port_fs_lock(lock, &lfd)) != HF_OK)
		return rc == HF_EBUSY ? HF_OK : rc; /* another process is at it */
	rc = names_list(s->spool, SPOOL_NAME_LEN, ".seg", &ns);
	if (rc == HF_OK) {
		bool held = false;
		s->allowance_held = false;
		for (size_t i = 0; i < ns.n && rc == HF_OK; i++) {
			char path[4300];
			uint64_t size;
			int64_t mtime;

			/* One stat serves both limits (a file gone meanwhile is
			** left to copy_one to say so). */
			snprintf(path, sizeof(path), "%s/%s", s->spool, ns.v[i]);
			if (port_fs_stamp(path, &size, &mtime) == HF_OK &&
			    ((held = metered_hold(s, ns.v[i], size)) ||
			     (s->allowance_held = !ship_allowance_takes(s, size))))
				break;
			if ((rc = copy_one(s, ns.v[i])) == HF_OK)
				(*copied)++;
		}
		s->metered_held = held; /* not held: sent, or dropped meanwhile */
	}
	free(ns.v);
	if (rc == HF_OK) {
		/* Multipart uploads left by spool files that are gone (dropped by
		** the spool cap or a new generation): abort them, or their parts
		** would be stored (and billed) until the bucket's lifecycle rule,
		** if any. Sealed copies (replica.c, with a key_file) of such
		** files: nothing will upload them. */
		sweep_orphans(s, ".upload", forget_upload);
		sweep_orphans(s, ".sealed", unlink_copy);
	}
	port_close(lfd);
	ship_count(s);
	return rc;
}

int ship_probe(struct ship *s, uint64_t *floor)
{
	uint64_t newest;
	int rc;

	if ((rc = ship_replica_newest(s, UINT64_MAX, &newest)) == HF_OK)
		*floor = newest >> 32;
	return rc;
}

int ship_wait_remote(struct ship *s, struct jlog *j, const struct jlog_now *now,
		     uint64_t timeout_ms)
{
	uint64_t start = port_clock_mono_ms(), seq = 0, gen = 0, size;
	unsigned copied, pause = 100;
	char sealed[200], rel[300];
	bool have = false;
	int rc = HF_OK;

	for (;;) {
		/* The daemon's limits hold here too (ship_limit): outside the
		** upload window or over the daily budget nothing goes out, so
		** waiting would only run into the timeout. Said at once instead. */
		char why[160];
		int limit = ship_limit(s);
		if (limit != SHIP_LIMIT_NONE) {
			ship_limit_why(s, limit, why, sizeof(why));
			port_log("--wait-remote: %s: nothing is sent to the replica now "
				 "(holdfast sync now --force would send it anyway)", why);
			rc = HF_EBUSY;
			break;
		}
		/* Sealing takes everything committed, ours included (a snapshot if
		** no generation could start yet: the replica was away). */
		if (!have && (rc = jlog_begin(j)) == HF_OK) {
			rc = ship_seal(s, j, now, sealed, sizeof(sealed));
			jlog_rollback(j);
			if (rc == HF_OK && s->st.have_gen) {
				have = true;
				gen = s->st.generation;
				seq = s->st.seq;
			}
		}
		if (have && (rc = ship_upload(s, &copied)) == HF_OK) {
			/* Done only when the replica itself says it has the file. */
			if (seq)
				snprintf(rel, sizeof(rel), "%s/%016" PRIx64 "/seg/%016" PRIx64 ".zst",
					 s->device, gen, seq);
			else
				snprintf(rel, sizeof(rel), "%s/%016" PRIx64 "/snapshot.zst",
					 s->device, gen);
			if (replica_size(s->rep, rel, &size) == HF_OK)
				break;
			if (s->allowance_held) {
				port_log("--wait-remote: the daily budget has %" PRIu64 " bytes left, too "
					 "few for the next file (holdfast sync now --force would send it "
					 "anyway)", s->allowance);
				rc = HF_EBUSY;
				break;
			}
		}
		if (port_clock_mono_ms() - start >= timeout_ms) {
			port_log("--wait-remote: the replica %s does not hold it after %llu ms",
				 s->cfg->replica, (unsigned long long)timeout_ms);
			rc = HF_EIO;
			break;
		}
		port_poll(NULL, 0, (int)pause);
		pause = pause < 2000 ? pause * 2 : 2000;
	}
	return rc;
}
