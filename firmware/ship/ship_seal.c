/*
** ship_seal.c: committed WAL frames sealed into segments, and snapshots that
** start generations (ship_int.h).
**
** Continuity. Our position in the WAL is its header's salts, the frames
** sealed and the checksum after them. A different header (new salts) means
** the WAL restarted, which SQLite does only after a complete checkpoint. If
** we made that checkpoint, with everything up to the WAL's end sealed and the
** write lock held so nothing was added, the new WAL continues our history;
** we recorded the database file's size and mtime right after it, and a
** change to them since says somebody else checkpointed too. Any other break
** (a foreign checkpoint, a WAL truncated or rewritten under us, a missing
** state) starts a new generation with a fresh snapshot: history gets an
** explicit gap, never a silent one.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt/cfg.h"
#include "fmt/seg.h"
#include "port.h"
#include "ship/replica.h"
#include "ship/ship_int.h"

/* ---- sealing -------------------------------------------------------------------- */

/* (page, frame) pairs of the frames read, as one sortable key each. */
struct pages {
	uint64_t *keys;
	size_t n, cap;
};

static int collect(void *arg, uint32_t pgno, uint32_t frame, const uint8_t *page)
{
	struct pages *p = arg;

	(void)page;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;
		uint64_t *k = realloc(p->keys, cap * sizeof(*k));
		if (!k)
			return HF_ENOMEM;
		p->keys = k;
		p->cap = cap;
	}
	p->keys[p->n++] = (uint64_t)pgno << 32 | frame;
	return 0;
}

static void fill_hdr(struct ship *s, struct seg_hdr *h, enum seg_kind kind,
		     const struct jlog_now *now)
{
	memset(h, 0, sizeof(*h));
	h->kind = kind;
	snprintf(h->device, sizeof(h->device), "%s", s->device);
	h->generation = s->st.generation;
	h->boot = (uint64_t)now->boot;
	h->utc_ms = now->utc_ms;
	h->mono_ms = now->mono_ms;
}

static int write_spool_file(struct ship *s, uint64_t gen, uint64_t seq, const void *file,
			    size_t len)
{
	char path[4300];
	int rc;

	if ((rc = ship_ensure_spool(s)) != HF_OK)
		return rc;
	snprintf(path, sizeof(path), "%s/%016" PRIx64 "-%016" PRIx64 ".seg", s->spool, gen, seq);
	return port_fs_replace(path, file, len, 0600);
}

static int write_spool(struct ship *s, struct seg_hdr *h, const uint8_t *raw, size_t raw_len)
{
	uint8_t *file;
	size_t len;
	int rc;

	if ((rc = seg_encode(h, raw, raw_len, &file, &len)) != HF_OK)
		return rc;
	rc = write_spool_file(s, h->generation, h->seq, file, len);
	free(file);
	return rc;
}

struct snap {
	struct seg_stream *ss;
	uint32_t page_size;
};

static int snap_page(void *arg, uint32_t pgno, const void *page)
{
	struct snap *sn = arg;

	return seg_stream_put(sn->ss, pgno, page, sn->page_size);
}

/* Whether S's replica is reached over a metered link (a directory replica,
** or S3 on loopback, never is). */
bool ship_over_metered(struct ship *s, char *why, size_t len)
{
	return replica_needs_network(s->rep) && ship_metered(s->cfg, why, len);
}

/* The current generation ends: WHY is recorded as a gap, and said. */
static void end_generation(struct ship *s, const char *why)
{
	s->st.gaps++;
	snprintf(s->st.last_gap, sizeof(s->st.last_gap),
		 "after generation %016" PRIx64 " seq %" PRIu64 ": %s", s->st.generation, s->st.seq,
		 why);
	port_notice("replica: %s; starting a new generation with a snapshot", why);
	s->st.have_gen = false;
}

/* The next generation's counter: above every one the spool or the replica
** has, and every one taken before (best effort: if the listing fails, the
** manifest's gap record still names the generation it follows). */
static uint64_t next_counter(struct ship *s)
{
	uint64_t seen = ship_spool_max_counter(s, 0, false), newest;

	if (s->no_net) {
		if (s->floor_known && s->floor > seen)
			seen = s->floor; /* listed by the uploader (ship_probe) */
	} else if (ship_replica_newest(s, UINT64_MAX, &newest) == HF_OK && newest >> 32 > seen) {
		seen = newest >> 32;
	}
	return (seen > s->st.gen_counter ? seen : s->st.gen_counter) + 1;
}

/*
** A snapshot FILE of FLEN bytes: straight to the replica (a generation
** starts only when it is there); to the spool if it went away meanwhile. A
** snapshot that goes up in parts goes by the spool when it takes at most
** half of it: its upload's state is kept there beside it, so a kill, a power
** cut or a lost link mid-upload resumes with the missing parts (ship_upload,
** next) rather than starting another generation. So does one that must wait
** for an unmetered link, or for more of the daily budget than is left
** (ship_upload holds it).
*/
static int put_snapshot(struct ship *s, uint64_t gen, const uint8_t *file, size_t flen)
{
	char why_metered[128];

	if ((replica_resumable(s->rep, flen) && ship_spool_has(s, flen)) ||
	    (flen > s->cfg->metered_snapshot_max &&
	     ship_over_metered(s, why_metered, sizeof(why_metered))) ||
	    !ship_allowance_takes(s, flen))
		return write_spool_file(s, gen, 0, file, flen);
	if (ship_replica_put(s, gen, 0, file, flen, NULL) != HF_OK)
		return write_spool_file(s, gen, 0, file, flen);
	return HF_OK;
}

/*
** A snapshot under way (ship.h). It is begun under the write lock, which
** fixes where it stands (the WAL's last commit, END) and starts a read
** transaction at exactly that point on a connection of its own; it is read,
** compressed and placed (ship_snap_take) after the lock is released, by the
** daemon's uploader; the generation starts when it is taken in
** (ship_snap_done), and sealing goes on from END. Meanwhile nothing is
** sealed, and no checkpoint runs past END (the read transaction holds the
** WAL), so the frames after it are still there to seal.
*/
struct ship_snap {
	struct jlog_reader *rd;
	struct seg_hdr h;       /* all but the page size and counts */
	bool have_wal;          /* it stands at END of the WAL (else: no WAL) */
	struct wal_pos end;
	uint64_t db_size;       /* the database file it continues from (ship_snap_done) */
	int64_t db_mtime_ns;
	bool encrypted;
	bool placed;            /* in the spool or the replica (ship_snap_take) */
	bool dropped;           /* ship_drop emptied the spool meanwhile */
};

/* Begins a snapshot as of the end of the WAL (HDR, at most LIMIT frames;
** or no WAL): S->snap. Its counter is taken now, durably, so that one that
** reached the replica before a crash is never a second generation's. */
static int snap_begin(struct ship *s, struct jlog *j, const struct jlog_now *now,
		      const struct wal_pos *hdr, uint32_t limit)
{
	struct ship_snap *sn = calloc(1, sizeof(*sn));
	uint32_t dbp = 0;
	int rc;

	if (!sn)
		return HF_ENOMEM;
	if (hdr && (rc = wal_read_to(s->wal, hdr, limit, NULL, NULL, &sn->end, &dbp)) != HF_OK)
		goto fail;
	if ((rc = port_fs_stamp(jlog_path(j), &sn->db_size, &sn->db_mtime_ns)) != HF_OK)
		goto fail;
	s->st.gen_counter = next_counter(s);
	fill_hdr(s, &sn->h, SEG_SNAPSHOT, now);
	sn->h.generation = s->st.gen_counter << 32 | port_random_u32();
	if (hdr) {
		sn->have_wal = true;
		sn->h.salt[0] = hdr->salt[0];
		sn->h.salt[1] = hdr->salt[1];
		sn->h.frame_end = sn->end.frame;
	}
	sn->encrypted = s->rep && s->rep->key;
	if ((rc = ship_save(s)) != HF_OK || (rc = jlog_reader_begin(j, &sn->rd)) != HF_OK)
		goto fail;
	s->snap = sn;
	return HF_OK;
fail:
	free(sn);
	return rc;
}

int ship_snap_take(struct ship *s, struct ship_snap *sn)
{
	struct snap st = { 0 };
	struct seg_hdr h = sn->h;
	uint8_t *file = NULL;
	size_t flen;
	uint32_t npages;
	int rc;

	/* Compressed as the pages stream out of the read transaction: never
	** the whole database in memory, nor a copy of it on local flash. */
	if ((rc = seg_stream_begin(&st.ss)) != HF_OK)
		return rc;
	if ((rc = jlog_reader_snapshot(sn->rd, snap_page, &st, &st.page_size, &npages)) == HF_OK) {
		h.page_size = st.page_size;
		h.db_pages = npages;
		h.npages = npages;
		rc = seg_stream_finish(st.ss, &h, &file, &flen);
	}
	if (rc == HF_OK) {
		/* Its manifest says why the generation before it ended: the
		** state says, as its sealer saved it; this is the generation. */
		s->st.generation = h.generation;
		rc = put_snapshot(s, h.generation, file, flen);
		ship_count(s);
	}
	sn->placed = rc == HF_OK;
	free(file);
	seg_stream_free(st.ss);
	return rc;
}

bool ship_snap_done(struct ship *s)
{
	struct ship_snap *sn = s->snap;
	bool take;

	if (!sn)
		return false;
	s->snap = NULL;
	take = sn->placed && !sn->dropped && !s->st.have_gen;
	if (take) {
		s->st.generation = sn->h.generation;
		s->st.gen_counter = sn->h.generation >> 32;
		s->st.have_gen = true;
		s->st.encrypted = sn->encrypted;
		s->st.seq = 0;
		s->st.pos = sn->end;
		s->st.pos_valid = sn->have_wal;
		/* A new WAL over the database file as it was when the snapshot
		** began continues it too. With no WAL, that is the only way on.
		** With one checkpointed to its end then, the read transaction did
		** not hold it (it read the file alone), so it may restart before
		** the next seal. With frames not yet in the file, it cannot
		** restart before they are copied there, which changes the file. */
		s->st.restart_ok = true;
		s->st.db_size = sn->db_size;
		s->st.db_mtime_ns = sn->db_mtime_ns;
		if (ship_save(s) == HF_OK)
			ship_spool_max_counter(s, s->st.generation, true);
	}
	jlog_reader_end(sn->rd);
	free(sn);
	return take;
}

void ship_snap_dropped(struct ship *s)
{
	if (s->snap)
		s->snap->dropped = true;
}

/*
** A new generation: a snapshot of the database as of the end of the WAL
** (HDR, at most LIMIT frames; or no WAL). WHY is recorded as a gap unless
** no generation is current. In the daemon's loop (no_net) the snapshot is
** only begun, if snap_defer says its uploader takes it next; else the
** generation waits for the next shipping round that may.
*/
static int new_generation(struct ship *s, struct jlog *j, const struct jlog_now *now,
			  const struct wal_pos *hdr, uint32_t limit, const char *why)
{
	int rc;

	if (s->st.have_gen) {
		end_generation(s, why);
		if ((rc = ship_save(s)) != HF_OK)
			return rc;
	}
	if (s->no_net && !s->snap_defer)
		return HF_OK;
	if ((rc = snap_begin(s, j, now, hdr, limit)) != HF_OK || s->no_net)
		return rc;
	rc = ship_snap_take(s, s->snap);
	ship_snap_done(s);
	return rc;
}

static int db_unchanged(struct ship *s, struct jlog *j)
{
	uint64_t size;
	int64_t mtime;

	return port_fs_stamp(jlog_path(j), &size, &mtime) == HF_OK && size == s->st.db_size &&
	       mtime == s->st.db_mtime_ns;
}

static int cmp_pages(const void *a, const void *b)
{
	const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Metered, with no generation (the first, or the spool cap dropped one
** whose snapshot waited for an unmetered link): none starts while the
** database is over metered_snapshot_max, so a long metered spell does not
** take snapshot after snapshot only to drop each. Said once. */
static bool metered_defer(struct ship *s, struct jlog *j)
{
	char why[128];
	uint64_t size;
	int64_t mtime;
	bool defer = port_fs_stamp(jlog_path(j), &size, &mtime) == HF_OK &&
		     size > s->cfg->metered_snapshot_max && ship_over_metered(s, why, sizeof(why));

	if (defer && !s->metered_defer_said)
		port_notice("replica: the link is metered (%s): no snapshot of the %" PRIu64
			 "-byte database until it is not", why, size);
	else if (!defer && s->metered_defer_said)
		port_notice("replica: the link is not metered now: a new generation starts");
	s->metered_defer_said = defer;
	return defer;
}

/* A generation that must start before anything is sealed: the first (when
** its snapshot can go out at once), or one for a replica key set or removed.
** HDR: the WAL's header, or NULL for no WAL. */
static int seal_generation(struct ship *s, struct jlog *j, const struct jlog_now *now,
			   const struct wal_pos *hdr, char *sealed, size_t len)
{
	int rc;

	if (!s->st.have_gen) {
		/* Offline with no snapshot yet: produce nothing, lose nothing
		** (the snapshot taken later holds everything). */
		if (!ship_reachable(s) || metered_defer(s, j))
			return HF_OK;
		/* Its counter must pass the replica's: the uploader lists it. */
		if (s->no_net && !s->st.gen_counter && !s->floor_known)
			return HF_OK;
		rc = new_generation(s, j, now, hdr, UINT32_MAX, NULL);
		if (rc == HF_OK && s->st.have_gen)
			snprintf(sealed, len, "snapshot of generation %016" PRIx64,
				 s->st.generation);
		return rc;
	}
	/* Restore reads a generation one way, encrypted or not. */
	rc = new_generation(s, j, now, hdr, UINT32_MAX,
			    s->rep->key ? "[replica] key_file was set: the history is "
					  "encrypted from this generation on" :
					  "[replica] key_file was removed: the history is "
					  "plaintext from this generation on");
	if (rc == HF_OK && s->st.have_gen)
		snprintf(sealed, len, "snapshot of generation %016" PRIx64 " (key_file changed)",
			 s->st.generation);
	return rc;
}

/* Where sealing goes on (*FROM) in the WAL whose header is HDR; *BROKEN if
** history cannot go on: the WAL was checkpointed or rewritten by someone
** else, or what we sealed last was written over. */
static int seal_from(struct ship *s, struct jlog *j, const struct wal_pos *hdr,
		     struct wal_pos *from, bool *broken)
{
	*broken = false;
	if (s->st.pos_valid && hdr->salt[0] == s->st.pos.salt[0] &&
	    hdr->salt[1] == s->st.pos.salt[1]) {
		*from = s->st.pos;
	} else if (s->st.restart_ok && db_unchanged(s, j)) {
		*from = *hdr; /* the WAL restarted after our checkpoint: continue */
	} else {
		*broken = true;
		return HF_OK;
	}
	return from->frame > 0 ? wal_chain_broken(s->wal, from, broken) : HF_OK;
}

/* The frames committed after FROM, sealed into the next segment of the
** generation: the latest version of each page, in the spool. */
static int seal_frames(struct ship *s, const struct jlog_now *now, const struct wal_pos *from,
		       char *sealed, size_t len)
{
	struct pages p = { 0 };
	struct wal_pos end;
	struct seg_hdr h;
	uint8_t *raw = NULL;
	uint32_t dbp, n = 0;
	int rc;

	if ((rc = wal_read(s->wal, from, collect, &p, &end, &dbp)) != HF_OK)
		goto out;
	if (end.frame == from->frame)
		goto out; /* nothing committed since */
	/* The latest version of each page: sort (page, frame), keep the last. */
	if (p.n > 1)
		qsort(p.keys, p.n, sizeof(*p.keys), cmp_pages);
	if (!(raw = malloc(p.n * (4 + (size_t)from->page_size)))) {
		rc = HF_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < p.n; i++) {
		uint32_t pgno = (uint32_t)(p.keys[i] >> 32);
		if ((i + 1 < p.n && (uint32_t)(p.keys[i + 1] >> 32) == pgno) || pgno > dbp)
			continue; /* a later version follows, or past the end */
		uint8_t *page = seg_record_slot(raw, from->page_size, n, pgno);
		if ((rc = wal_read_page(s->wal, from->page_size, (uint32_t)p.keys[i], page)))
			goto out;
		n++;
	}
	if ((rc = ship_spool_room(s, (uint64_t)n * (4 + from->page_size), sealed, len)) != HF_OK)
		goto out;
	if (!s->st.have_gen)
		goto out; /* the spool was full: history dropped, a gap recorded */
	fill_hdr(s, &h, SEG_FRAMES, now);
	h.page_size = from->page_size;
	h.seq = s->st.seq + 1;
	h.db_pages = dbp;
	h.npages = n;
	h.salt[0] = from->salt[0];
	h.salt[1] = from->salt[1];
	h.frame_first = from->frame;
	h.frame_end = end.frame;
	if ((rc = write_spool(s, &h, raw, (size_t)n * (4 + from->page_size))) != HF_OK)
		goto out;
	s->st.seq = h.seq;
	s->st.pos = end;
	s->st.pos_valid = true;
	s->st.restart_ok = false;
	if ((rc = ship_save(s)) == HF_OK)
		snprintf(sealed, len, "segment %" PRIu64 " (%u pages, WAL frames %u-%u)", h.seq, n,
			 h.frame_first, h.frame_end - 1);
out:
	free(p.keys);
	free(raw);
	return rc;
}

int ship_seal(struct ship *s, struct jlog *j, const struct jlog_now *now, char *sealed,
	      size_t len)
{
	struct wal_pos hdr, from;
	bool broken = false;
	int rc, hrc;

	sealed[0] = '\0';
	if (s->snap)
		return HF_OK; /* sealing goes on from its end once it is taken in */
	if ((rc = ship_load(s)) != HF_OK)
		return rc;
	hrc = wal_header(s->wal, &hdr);
	if (hrc == HF_ECORRUPT)
		hrc = HF_ENOENT; /* as SQLite: a WAL without a valid header is empty */
	if (hrc != HF_OK && hrc != HF_ENOENT)
		return hrc;
	if (!s->st.have_gen || (s->rep && s->st.encrypted != (s->rep->key != NULL)))
		return seal_generation(s, j, now, hrc == HF_OK ? &hdr : NULL, sealed, len);
	if (hrc == HF_ENOENT) {
		/* No frames. Fine if we had none either, or we checkpointed all
		** of them and nobody else touched the database file since. */
		broken = (s->st.pos_valid && s->st.pos.frame > 0 && !s->st.restart_ok) ||
			 (s->st.restart_ok && !db_unchanged(s, j));
	} else if ((rc = seal_from(s, j, &hdr, &from, &broken)) != HF_OK) {
		return rc;
	}
	if (!broken)
		return hrc == HF_OK ? seal_frames(s, now, &from, sealed, len) : HF_OK;
	rc = new_generation(s, j, now, hrc == HF_OK ? &hdr : NULL, UINT32_MAX,
			    "the WAL was checkpointed or rewritten by something else, so its "
			    "frames since the last seal are gone");
	if (rc == HF_OK && s->st.have_gen)
		snprintf(sealed, len, "snapshot of generation %016" PRIx64 " (history broke)",
			 s->st.generation);
	return rc;
}

int ship_checkpoint(struct ship *s, struct jlog *j, const struct jlog_now *now, char *sealed,
		    size_t len)
{
	struct wal_pos hdr;
	uint32_t frames;
	bool complete;
	int rc;

	if ((rc = jlog_begin(j)) != HF_OK)
		return rc;
	if ((rc = ship_seal(s, j, now, sealed, len)) != HF_OK) {
		/* Sealing fails (the spool's disk is full?): the WAL waits for it,
		** but not past its hard cap, which would fill the data disk. */
		if (ship_unsealed_bytes(s) <= SHIP_WAL_CAP_FACTOR * s->cfg->wal_max)
			goto out;
		snprintf(s->st.last_gap, sizeof(s->st.last_gap),
			 "cannot seal (%s) and the WAL passed %d x wal_max: generation %016" PRIx64
			 " ends at seq %" PRIu64, hf_strerror(rc), SHIP_WAL_CAP_FACTOR,
			 s->st.generation, s->st.seq);
		port_warn("replica: %s; checkpointing anyway, a new snapshot follows",
			  s->st.last_gap);
		s->st.gaps++;
		s->st.have_gen = false;
		ship_save(s);
	}
	if (s->snap)
		goto out; /* the WAL waits for the snapshot under way to be taken in */
	if ((rc = jlog_checkpoint_held(j, &complete, &frames)) != HF_OK)
		goto out;
	if (s->st.have_gen && s->st.pos_valid && frames != s->st.pos.frame &&
	    wal_header(s->wal, &hdr) == HF_OK && hdr.salt[0] == s->st.pos.salt[0] &&
	    hdr.salt[1] == s->st.pos.salt[1]) {
		/* SQLite and our seals disagree on where the WAL ends (frames we
		** sealed were never published, or were written over): the history
		** cannot continue. A new generation, from this checkpointed state. */
		if ((rc = new_generation(s, j, now, &hdr, frames, "the WAL's committed end "
				"differs from the sealed one (a writer died mid-commit)")) != HF_OK)
			goto out;
	}
	if (complete) {
		uint64_t size;
		int64_t mtime;
		if ((rc = port_fs_stamp(jlog_path(j), &size, &mtime)) != HF_OK)
			goto out;
		s->st.restart_ok = true;
		s->st.db_size = size;
		s->st.db_mtime_ns = mtime;
		rc = ship_save(s);
	}
out:
	jlog_rollback(j); /* nothing was written in this transaction */
	return rc;
}

uint64_t ship_unsealed_bytes(const struct ship *s)
{
	uint64_t size;
	int64_t mtime;
	uint64_t done;

	if (port_fs_stamp(s->wal, &size, &mtime) != HF_OK)
		return 0;
	done = s->st.pos_valid ? wal_frame_offset(s->st.pos.page_size, s->st.pos.frame) : 0;
	return size > done ? size - done : 0;
}
