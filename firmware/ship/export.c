/*
** export.c: finished jobs to the replica before they are pruned (export.h).
**
** The watermark. The log keeps it (jlog_export_*): every finished job with
** fin_seq <= upto is in the replica, or was pruned first and is named by a
** gap record. A part is a run of jobs in fin_seq order that share a day; it
** is built in one read of the log, its range and path are committed as "in
** flight", it is written create-only, and only then does the watermark move
** past it. A crash in between writes the same range to the same path again
** (the same bytes, or, if a job of it was retried or pruned meanwhile, a
** create-only conflict taken as done: the first copy is there). So a job is
** never in two parts, and pruning, which keeps its age and count limits
** below the watermark, never takes a job the replica lacks; only the disk
** budget may, and the log's delete trigger records that as a gap.
**
** When a part is due. A day's part waits for the day to end (a later job
** finished on another day, the trusted clock passed midnight UTC, or, for
** undated jobs, a reboot), so that one object holds one day. It goes early
** when it reaches EXPORT_PART_JOBS jobs or EXPORT_PART_RAW_MAX bytes of
** JSON, when pruning would otherwise wait for it (half of keep_jobs
** unexported, or the oldest unexported job half way to keep or
** keep_failed), and when export_urge says so (the disk budget presses).
**
** A part is one zstd frame (with its checksum) of JSON lines, one job per
** line, built by SQLite's JSON functions (jlog_export_lines): a reader
** needs nothing of ours, or with a key_file, the envelope opened first
** (tools/rcrypt_open.py).
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port.h"
#include "ship/export.h"
#include "zstd.h"

#define EXPORT_ZSTD_LEVEL 3

void export_init(struct export *e, struct ship *s, const struct cfg *cfg)
{
	memset(e, 0, sizeof(*e));
	e->ship = s;
	e->cfg = cfg;
}

int export_start(struct export *e, struct jlog *j)
{
	e->active = e->ship->rep != NULL;
	e->next_ms = 0;
	return jlog_export_activate(j, e->active);
}

void export_urge(struct export *e)
{
	e->urged = true;
}

void export_part_path(const char *device, const char *day, int64_t first, int64_t last,
		      char *out, size_t len)
{
	if (!strncmp(day, "boot-", 5))
		snprintf(out, len, "%s/history/undated/%s-%012" PRId64 "-%012" PRId64 ".jsonl.zst",
			 device, day, first, last);
	else
		snprintf(out, len, "%s/history/%s/%012" PRId64 "-%012" PRId64 ".jsonl.zst", device,
			 day, first, last);
}

/* ---- building a part ---------------------------------------------------------- */

struct part {
	ZSTD_CCtx *cctx;
	uint8_t *buf;            /* the compressed frame so far */
	size_t len, cap;
	uint64_t raw;            /* JSON bytes fed */
	int64_t jobs, last;      /* lines, and the last one's fin_seq */
	bool capped;             /* stop at EXPORT_PART_RAW_MAX */
	int rc;
};

static int feed(struct part *p, const void *src, size_t n, ZSTD_EndDirective end)
{
	ZSTD_inBuffer in = { src, n, 0 };
	size_t left;

	do {
		if (p->cap - p->len < ZSTD_CStreamOutSize()) {
			size_t cap = p->cap ? p->cap * 2 : 4 * ZSTD_CStreamOutSize();
			uint8_t *b = realloc(p->buf, cap);
			if (!b)
				return HF_ENOMEM;
			p->buf = b;
			p->cap = cap;
		}
		ZSTD_outBuffer out = { p->buf + p->len, p->cap - p->len, 0 };
		left = ZSTD_compressStream2(p->cctx, &out, &in, end);
		if (ZSTD_isError(left)) {
			port_log("history export: zstd: %s", ZSTD_getErrorName(left));
			return HF_EBUG;
		}
		p->len += out.pos;
	} while (in.pos < in.size || (end == ZSTD_e_end && left != 0));
	return HF_OK;
}

static int add_line(int64_t fin_seq, const char *line, size_t len, void *arg)
{
	struct part *p = arg;

	if ((p->rc = feed(p, line, len, ZSTD_e_continue)) != HF_OK ||
	    (p->rc = feed(p, "\n", 1, ZSTD_e_continue)) != HF_OK)
		return 1;
	p->raw += len + 1;
	p->jobs++;
	p->last = fin_seq;
	return p->capped && p->raw >= EXPORT_PART_RAW_MAX;
}

/* Compresses the lines of FIRST..LAST into P (CAPPED: stopping early past
** EXPORT_PART_RAW_MAX; P->last says where). */
static int build(struct export *e, struct jlog *j, int64_t first, int64_t last, bool capped,
		 struct part *p)
{
	int rc;

	memset(p, 0, sizeof(*p));
	p->capped = capped;
	if (!(p->cctx = ZSTD_createCCtx()))
		return HF_ENOMEM;
	ZSTD_CCtx_setParameter(p->cctx, ZSTD_c_compressionLevel, EXPORT_ZSTD_LEVEL);
	ZSTD_CCtx_setParameter(p->cctx, ZSTD_c_checksumFlag, 1);
	rc = jlog_export_lines(j, e->ship->device, first, last, add_line, p);
	if (rc == HF_OK)
		rc = p->rc;
	if (rc == HF_OK)
		rc = feed(p, NULL, 0, ZSTD_e_end);
	return rc;
}

static void part_free(struct part *p)
{
	ZSTD_freeCCtx(p->cctx);
	free(p->buf);
	memset(p, 0, sizeof(*p));
}

/* ---- the next write, sent, and taken in ------------------------------------------ */

/* A gap record's text and path (the first of the gaps not yet written:
** jlog_export_gaps stops at the first nonzero return). */
struct gap_arg {
	struct export *e;
	const struct jlog_now *now;
	struct export_put *p;
};

static int gap_put(const struct jlog_export_gap *g, void *arg)
{
	struct gap_arg *a = arg;
	struct export_put *p = a->p;
	char text[768], when[40] = "null";

	if (a->now->utc_ms >= 0)
		snprintf(when, sizeof(when), "%" PRId64, a->now->utc_ms);
	snprintf(p->rel, sizeof(p->rel), "%s/history/gaps/%012" PRId64 "-%012" PRId64 ".json",
		 a->e->ship->device, g->lo, g->hi);
	snprintf(text, sizeof(text),
		 "{\"device\":\"%s\",\"from_fin_seq\":%" PRId64 ",\"to_fin_seq\":%" PRId64
		 ",\"jobs\":%" PRId64 ",\"exported_upto\":%" PRId64 ",\"why\":\"finished jobs "
		 "pruned before they were exported: the disk budget (or a full disk) does not "
		 "wait for the replica\",\"written_utc_ms\":%s,\"written_boot\":%" PRId64
		 ",\"written_mono_ms\":%" PRIu64 "}\n",
		 a->e->ship->device, g->lo, g->hi, g->jobs, g->upto, when, a->now->boot,
		 a->now->mono_ms);
	p->len = strlen(text);
	if (!(p->buf = malloc(p->len)))
		return HF_ENOMEM;
	memcpy(p->buf, text, p->len);
	p->gap = *g;
	p->is_gap = true;
	return 1;
}

/* Takes the compressed frame of PART into P, to go to REL up to LAST. */
static void part_put(struct export_put *p, struct part *part, const char *rel)
{
	snprintf(p->rel, sizeof(p->rel), "%s", rel);
	p->buf = part->buf;
	p->len = part->len;
	p->last = part->last;
	p->jobs = part->jobs;
	part->buf = NULL;
}

/* The day a job finishing NOW would have. */
static void day_now(const struct jlog_now *now, char *out, size_t len)
{
	if (now->utc_ms >= 0) {
		int64_t days = now->utc_ms / 86400000;
		/* Civil from days (Howard Hinnant's algorithm): no gmtime_r in
		** firmware/, and this is exact for any day after 1970. */
		int64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
		int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
		int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
		int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
		int64_t y = yoe + era * 400 + (m <= 2);
		snprintf(out, len, "%04d-%02d-%02d", (int)(y % 10000), (int)m, (int)d);
	} else {
		snprintf(out, len, "boot-%" PRId64, now->boot);
	}
}

/* Whether the part P plans should go now. */
static bool due(struct export *e, const struct jlog_export_plan *p, const struct jlog_now *now)
{
	const struct cfg *c = e->cfg;
	uint64_t keep = p->first_failed ? c->history_keep_failed_ms : c->history_keep_ms, age = 0;
	char today[32];

	day_now(now, today, sizeof(today));
	if (p->closed || strcmp(p->day, today) != 0 || e->urged)
		return true;
	if (c->history_keep_jobs > 0 && p->jobs >= (c->history_keep_jobs + 1) / 2)
		return true;
	if (p->first_end_boot == now->boot && now->mono_ms > p->first_end_mono_ms)
		age = now->mono_ms - p->first_end_mono_ms;
	if (p->first_end_utc_ms >= 0 && now->utc_ms > p->first_end_utc_ms &&
	    (uint64_t)(now->utc_ms - p->first_end_utc_ms) > age)
		age = (uint64_t)(now->utc_ms - p->first_end_utc_ms);
	return keep && age >= keep / 2;
}

/* The next write due into P (P->len 0: none): the gaps not yet in the
** replica first, then a part in flight (built again whole: a crash came
** between its commit and its copy), then a new part if one is due, its
** range committed as in flight before it leaves. */
static int next(struct export *e, struct jlog *j, const struct jlog_now *now,
		struct export_put *p)
{
	struct gap_arg ga = { e, now, p };
	struct jlog_export_state st;
	struct jlog_export_plan plan;
	struct part part;
	char rel[256];
	int rc;

	if ((rc = jlog_export_gaps(j, gap_put, &ga)) != HF_OK)
		return rc == 1 ? HF_OK : rc;
	if ((rc = jlog_export_get(j, &st)) != HF_OK)
		return rc;
	if (st.flight_first) {
		if ((rc = build(e, j, st.flight_first, st.flight_last, false, &part)) == HF_OK) {
			part_put(p, &part, st.flight_path);
			p->last = st.flight_last;
		}
		goto out;
	}
	if ((rc = jlog_export_plan(j, EXPORT_PART_JOBS, &plan)) != HF_OK)
		return rc;
	if (!plan.jobs) {
		e->urged = false;
		return HF_OK;
	}
	if (!due(e, &plan, now))
		return HF_OK;
	if ((rc = build(e, j, plan.first, plan.last, true, &part)) != HF_OK)
		goto out;
	if (!part.jobs) /* all of them were retried or pruned since the plan */
		goto out;
	export_part_path(e->ship->device, plan.day, plan.first, part.last, rel, sizeof(rel));
	if ((rc = jlog_export_flight(j, plan.first, part.last, rel)) == HF_OK)
		part_put(p, &part, rel);
out:
	part_free(&part);
	return rc;
}

/* Says a failure once per change (RC: the last step's outcome). Away, or
** over the day's budget: the log keeps everything, pruning waits (the disk
** budget aside); not a failure. */
static void said(struct export *e, int rc)
{
	if (rc == HF_ENOENT || rc == HF_EBUSY)
		rc = HF_OK;
	if (rc != HF_OK && rc != e->said)
		port_log("history export: failed (%s); the log keeps the jobs and pruning waits "
			 "for them, trying again in %d s", hf_strerror(rc), EXPORT_LOOK_MS / 1000);
	else if (rc == HF_OK && e->said != HF_OK)
		port_log("history export: works again");
	e->said = rc;
}

int export_next(struct export *e, struct jlog *j, const struct jlog_now *now,
		struct export_put **out)
{
	uint64_t t = port_clock_mono_ms();
	struct export_put *p;
	int rc;

	*out = NULL;
	if (!e->active || (t < e->next_ms && !e->urged))
		return HF_OK;
	e->next_ms = t + EXPORT_LOOK_MS;
	if (!(p = calloc(1, sizeof(*p))))
		return HF_ENOMEM;
	if ((rc = next(e, j, now, p)) != HF_OK || !p->len) {
		said(e, rc);
		export_put_free(p);
		return rc;
	}
	*out = p;
	return HF_OK;
}

void export_send(struct ship *up, struct export_put *p)
{
	/* A create-only conflict is an earlier copy of the same thing (a part
	** written again after a crash, with a job retried or pruned since; a
	** gap record with another time): it is there, which is what counts. */
	p->sent = true;
	p->rc = ship_put(up, p->rel, p->buf, p->len);
	if (p->rc == HF_EEXIST) {
		port_log("history export: %s was in the replica already (written before a "
			 "restart); kept as it is", p->rel);
		p->rc = HF_OK;
	}
}

int export_done(struct export *e, struct jlog *j, const struct jlog_now *now,
		struct export_put *p)
{
	int rc = p->rc;

	if (!p->sent) {
		rc = HF_OK; /* the upload before it failed (said there): next round */
		e->next_ms = 0;
	} else if (rc == HF_OK && p->is_gap) {
		port_log("history export: %" PRId64 " finished job(s) (fin_seq %" PRId64 "-%" PRId64
			 ") were pruned before they were exported; recorded in the replica as %s",
			 p->gap.jobs, p->gap.lo, p->gap.hi, p->rel);
		rc = jlog_export_gap_done(j, &p->gap);
		e->next_ms = 0; /* and on with the rest */
	} else if (rc == HF_OK) {
		rc = jlog_export_done(j, p->last, p->jobs, (int64_t)p->len, now);
		e->urged = false;
		e->next_ms = 0; /* more may be due: look again at the next round */
	}
	said(e, rc);
	export_put_free(p);
	return rc;
}

void export_put_free(struct export_put *p)
{
	if (p) {
		free(p->buf);
		free(p);
	}
}
