/*
** diskfull.c: the daemon on a full disk (see diskfull.h).
**
** Why these steps, in this order, to make room. On a full disk even a DELETE
** needs room: in WAL mode every changed page is appended to the WAL before
** the database file changes. So first what frees room without writing the
** log: the spool's unshipped files (their history gets an explicit gap in
** the replica, as when the spool cap drops them), then a checkpoint, which
** truncates the WAL when no reader holds it. Only then the prune, whose
** frames go into the room the WAL gave back, and a vacuum step, which hands
** the pages the prune freed back to the file system once a checkpoint has
** copied it into the database file (in WAL mode the file shrinks there).
*/
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "diskfull.h"
#include "port.h"
#include "units.h"

static void keep_line(int level, const char *line, void *arg)
{
	struct diskfull *d = arg;

	d->kept_level[d->nkept % DISKFULL_KEPT] = level;
	snprintf(d->kept[d->nkept++ % DISKFULL_KEPT], sizeof(d->kept[0]), "%s", line);
}

void diskfull_quiet(struct diskfull *d)
{
	d->quiet = true;
	d->nkept = 0;
	port_log_set_sink(keep_line, d);
}

void diskfull_loud(struct diskfull *d, bool replay)
{
	if (!d->quiet)
		return;
	d->quiet = false;
	port_log_set_sink(NULL, NULL);
	for (unsigned i = d->nkept > DISKFULL_KEPT ? d->nkept - DISKFULL_KEPT : 0;
	     replay && i < d->nkept; i++)
		port_logl(d->kept_level[i % DISKFULL_KEPT], "%s", d->kept[i % DISKFULL_KEPT]);
}

/* Says a line of ours at LEVEL, quiet or not. */
static void say(struct diskfull *d, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(struct diskfull *d, int level, const char *fmt, ...)
{
	char line[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (d->quiet)
		port_log_set_sink(NULL, NULL);
	port_logl(level, "%s", line);
	if (d->quiet)
		port_log_set_sink(keep_line, d);
}

void diskfull_enter(struct diskfull *d, const struct jlog_now *now, const char *dir,
		    const char *what)
{
	d->on = true;
	d->since_mono_ms = d->next_try_ms = now->mono_ms;
	d->since_utc_ms = now->utc_ms;
	d->tries = 0;
	d->episodes++;
	d->pruned = 0;
	d->dropped = false;
	say(d, PORT_LOG_WARNING,
	    "the disk holding %s is full (%s): nothing new starts until there is room; "
	    "running jobs go on, their ends wait in memory. Making room: unshipped replica "
	    "files are dropped (a gap), old history is pruned beyond [history]'s limits down "
	    "to the %d newest finished jobs; trying again every %d s", dir, what,
	    DISKFULL_FLOOR_JOBS, DISKFULL_RETRY_MS / 1000);
}

void diskfull_leave(struct diskfull *d, uint64_t now_mono_ms, unsigned ends)
{
	char dur[32];

	units_format_duration(now_mono_ms - d->since_mono_ms, dur, sizeof(dur));
	say(d, PORT_LOG_NOTICE,
	    "the disk has room again after %s: %u job end(s) that waited in memory are "
	    "recorded%s; jobs start again", dur, ends,
	    d->pruned ? ", old history was pruned to make room" : "");
	d->on = false;
}

void diskfull_relieve(struct diskfull *d, struct jlog *j, struct ship *s, const struct cfg *c,
		      const struct jlog_now *now)
{
	unsigned files = 0;
	uint64_t bytes = 0;
	bool done;

	(void)c;
	(void)now;
	d->tries++;
	if (s && !d->dropped && jlog_begin(j) == HF_OK) {
		/* Under the write lock, as every change to the shipping state. */
		uint64_t gaps = ship_load(s) == HF_OK ? s->st.gaps : UINT64_MAX;

		if (ship_drop(s, "the disk holding the data directory is full", &files,
			      &bytes) == HF_OK) {
			d->dropped = true;
			if (s->st.gaps != gaps)
				say(d, PORT_LOG_WARNING,
				    "replica: %s; %s, a new snapshot follows once there is room",
				    s->st.last_gap, files ? "dropped from the spool" : "so it ends");
		}
		jlog_rollback(j);
	}
	jlog_checkpoint_now(j, &done);
}

void diskfull_format(const struct diskfull *d, uint64_t now_mono_ms, int64_t ends_waiting,
		     char *out, size_t len)
{
	if (!d->on) {
		snprintf(out, len, "disk ok");
		return;
	}
	snprintf(out, len, "disk full since_utc_ms=%" PRId64 " for_ms=%" PRIu64 " ends=%" PRId64
		 " pruned=%" PRId64, d->since_utc_ms, now_mono_ms - d->since_mono_ms,
		 ends_waiting, d->pruned);
}

int diskfull_parse(const char *text, struct diskfull_state *st)
{
	memset(st, 0, sizeof(*st));
	if (!strcmp(text, "disk ok"))
		return HF_OK;
	if (sscanf(text, "disk full since_utc_ms=%" SCNd64 " for_ms=%" SCNu64 " ends=%" SCNd64
		   " pruned=%" SCNd64, &st->since_utc_ms, &st->for_ms, &st->ends_waiting,
		   &st->pruned) != 4)
		return HF_EPROTO;
	st->full = true;
	return HF_OK;
}
