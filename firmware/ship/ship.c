/*
** ship.c: WAL shipping (see ship.h).
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
**
** Spool files are named GGGGGGGGGGGGGGGG-SSSSSSSSSSSSSSSS.seg (generation
** and seq in hex, so that names sort in shipping order); the replica keeps
** DEVICE/GENERATION/snapshot.zst, DEVICE/GENERATION/seg/SEQ.zst and a
** manifest per generation (DESIGN.md).
*/
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt/cfg.h"
#include "fmt/manifest.h"
#include "fmt/seg.h"
#include "port.h"
#include "ship/replica.h"
#include "ship/ship.h"

#define SPOOL_FILE_MAX (1024u * 1024 * 1024)

/* ---- state ------------------------------------------------------------------ */

int ship_load(struct ship *s)
{
	char path[4200], *text, *line, *save = NULL;
	struct ship_state *st = &s->st;
	size_t len;
	int rc;

	memset(st, 0, sizeof(*st));
	snprintf(path, sizeof(path), "%s/state", s->spool);
	if ((rc = port_fs_read_file(path, 64 * 1024, &text, &len)) != HF_OK)
		return rc == HF_ENOENT ? HF_OK : rc;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned a, b, c, d, e, f, g, h;

		if (sscanf(line, "generation %" SCNx64 " %" SCNu64, &st->generation,
			   &st->gen_counter) == 2)
			st->have_gen = true;
		else if (sscanf(line, "seq %" SCNu64, &st->seq) == 1)
			;
		else if (sscanf(line, "pos %x %x %u %x %x %u %u %u", &a, &b, &c, &d, &e, &f, &g,
				&h) == 8) {
			st->pos = (struct wal_pos){ { a, b }, { d, e }, c, f, g, h != 0 };
			st->pos_valid = true;
		} else if (sscanf(line, "restart_ok %" SCNu64 " %" SCNd64, &st->db_size,
				  &st->db_mtime_ns) == 2)
			st->restart_ok = true;
		else if (sscanf(line, "gaps %" SCNu64, &st->gaps) == 1)
			;
		else if (!strcmp(line, "encrypted"))
			st->encrypted = true;
		else if (!strncmp(line, "last_gap ", 9))
			snprintf(st->last_gap, sizeof(st->last_gap), "%s", line + 9);
	}
	free(text);
	return HF_OK;
}

static int ensure_spool(struct ship *s);

static int save(struct ship *s)
{
	const struct ship_state *st = &s->st;
	char path[4200], text[1024];
	int n = 0, rc;

	if ((rc = ensure_spool(s)) != HF_OK)
		return rc;
	snprintf(path, sizeof(path), "%s/state", s->spool);
	n += snprintf(text + n, sizeof(text) - n, "# holdfast shipping state; do not edit\n");
	if (st->have_gen)
		n += snprintf(text + n, sizeof(text) - n, "generation %016" PRIx64 " %" PRIu64 "\n",
			      st->generation, st->gen_counter);
	n += snprintf(text + n, sizeof(text) - n, "seq %" PRIu64 "\n", st->seq);
	if (st->pos_valid)
		n += snprintf(text + n, sizeof(text) - n, "pos %x %x %u %x %x %u %u %u\n",
			      st->pos.salt[0], st->pos.salt[1], st->pos.frame, st->pos.cksum[0],
			      st->pos.cksum[1], st->pos.page_size, st->pos.ckpt_seq,
			      st->pos.big_endian);
	if (st->restart_ok)
		n += snprintf(text + n, sizeof(text) - n, "restart_ok %" PRIu64 " %" PRId64 "\n",
			      st->db_size, st->db_mtime_ns);
	n += snprintf(text + n, sizeof(text) - n, "gaps %" PRIu64 "\n", st->gaps);
	if (st->last_gap[0])
		n += snprintf(text + n, sizeof(text) - n, "last_gap %s\n", st->last_gap);
	if (st->encrypted)
		n += snprintf(text + n, sizeof(text) - n, "encrypted\n");
	return port_fs_replace(path, text, (size_t)n, 0600);
}

/* DATA/install-id: 128 random bits, made the first time this data
** directory ships, so that two devices shipping under one device name
** (the same default host name across a fleet) are told apart. */
static int install_id(struct ship *s, const char *data)
{
	char path[4200], *text;
	size_t len;
	int rc;

	snprintf(path, sizeof(path), "%s/install-id", data);
	if ((rc = port_fs_read_file(path, 64, &text, &len)) == HF_OK) {
		if (len >= 32) {
			memcpy(s->install_id, text, 32);
			s->install_id[32] = '\0';
		}
		free(text);
		if (len >= 32 && strspn(s->install_id, "0123456789abcdef") == 32)
			return HF_OK;
		port_log("%s: not an install id (32 hex digits); remove it to make a new one", path);
		return HF_ECORRUPT;
	}
	if (rc != HF_ENOENT)
		return rc;
	snprintf(s->install_id, sizeof(s->install_id), "%08x%08x%08x%08x", port_random_u32(),
		 port_random_u32(), port_random_u32(), port_random_u32());
	return port_fs_replace(path, s->install_id, 32, 0600);
}

int ship_init(struct ship *s, const char *data, const struct cfg *cfg)
{
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->allowance = UINT64_MAX;
	snprintf(s->spool, sizeof(s->spool), "%s/spool", data);
	snprintf(s->wal, sizeof(s->wal), "%s/holdfast.db-wal", data);
	if (cfg->replica[0]) {
		int rc;
		if (!(s->rep = malloc(sizeof(*s->rep))))
			return HF_ENOMEM;
		if ((rc = replica_open(cfg->replica, cfg, s->rep)) != HF_OK) {
			ship_free(s);
			return rc;
		}
	}
	ship_device_name(cfg, s->device, sizeof(s->device));
	return cfg->replica[0] ? install_id(s, data) : HF_OK;
}

void ship_device_name(const struct cfg *cfg, char *out, size_t cap)
{
	if (cfg->device[0]) {
		snprintf(out, cap, "%.32s", cfg->device);
	} else {
		char host[256];
		if (port_hostname(host, sizeof(host)) != HF_OK || !host[0])
			snprintf(host, sizeof(host), "device");
		/* Host names may hold what a path must not. */
		for (char *p = host; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
				*p = '_';
		snprintf(out, cap, "%.*s", SEG_DEVICE_MAX, host);
	}
}

/* The replica is there, and we may use it (not in the daemon's backoff:
** sealing then goes to the spool alone, and no generation starts). */
static bool reachable(const struct ship *s)
{
	return s->rep && !s->hold && replica_reachable(s->rep);
}

void ship_free(struct ship *s)
{
	if (s->rep) {
		replica_close(s->rep);
		free(s->rep);
		s->rep = NULL;
	}
}

static int ensure_spool(struct ship *s)
{
	enum port_fs_kind kind;
	int rc;

	if ((rc = port_fs_lkind(s->spool, &kind)) != HF_OK)
		return rc;
	if (kind == PORT_FS_DIR)
		return HF_OK;
	if (kind == PORT_FS_LINK) { /* made since start-up: see dd_check_links */
		port_log("%s is a symbolic link; holdfast refuses links in its data directory: "
			 "put the real spool there", s->spool);
		return HF_ENOTSUP;
	}
	rc = port_fs_mkdir(s->spool, 0700);
	return rc == HF_EEXIST ? HF_OK : rc;
}

/* Spool segment files: GGGGGGGGGGGGGGGG-SSSSSSSSSSSSSSSS.seg */
#define SPOOL_NAME_LEN 37

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

	if ((rc = ensure_spool(s)) != HF_OK)
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

static int replica_put(struct ship *s, uint64_t gen, uint64_t seq, const void *buf, size_t len,
		       const char *from);
static int replica_newest(struct ship *s, uint64_t below, uint64_t *newest);
static bool allowance_takes(struct ship *s, uint64_t size);

/* After a new generation's snapshot is in the spool: older generations'
** files there are superseded by it (it holds all they had), so they are
** dropped rather than shipped; and the counter of any of them, e.g. of a
** generation whose state a power cut lost, is not reused. */
static uint64_t spool_max_counter(struct ship *s, uint64_t keep, bool drop)
{
	struct names ns;
	uint64_t max = 0;
	unsigned dropped = 0;

	if (names_list(s->spool, SPOOL_NAME_LEN, ".seg", &ns) != HF_OK) {
		free(ns.v);
		return 0;
	}
	for (size_t i = 0; i < ns.n; i++) {
		uint64_t gen = strtoull(ns.v[i], NULL, 16);
		char path[4300];
		if (gen >> 32 > max)
			max = gen >> 32;
		if (drop && gen != keep) {
			snprintf(path, sizeof(path), "%s/%s", s->spool, ns.v[i]);
			if (port_fs_unlink(path) == HF_OK)
				dropped++;
		}
	}
	if (dropped) {
		port_fs_fsync_dir(s->spool);
		if (keep != UINT64_MAX)
			port_warn("replica: dropped %u unshipped file(s) of older generations from "
				 "the spool; the new snapshot holds everything they had", dropped);
	}
	free(ns.v);
	return max;
}

/* Whether LEN more bytes leave the spool at most half full. */
static bool spool_has(struct ship *s, uint64_t len)
{
	unsigned files;
	uint64_t bytes, lowest;

	return ship_spool_usage(s, &files, &bytes, &lowest) == HF_OK &&
	       bytes + len <= s->cfg->spool_max / 2;
}

/* Whether S's replica is reached over a metered link (a directory replica,
** or S3 on loopback, never is). */
static bool metered(struct ship *s, char *why, size_t len)
{
	return replica_needs_network(s->rep) && ship_metered(s->cfg, why, len);
}

/* A new generation: a snapshot of the database as of the end of the WAL
** (HDR, or no WAL). WHY is recorded as a gap unless this is the first. */
static int new_generation(struct ship *s, struct jlog *j, const struct jlog_now *now,
			  const struct wal_pos *hdr, uint32_t limit, const char *why)
{
	struct snap sn = { 0 };
	struct wal_pos end;
	struct seg_hdr h;
	uint32_t npages, dbp = 0;
	uint64_t size;
	int64_t mtime;
	uint8_t *file = NULL;
	size_t flen;
	int rc;

	/* The position the snapshot stands at: the WAL's last commit. */
	if (hdr && (rc = wal_read_to(s->wal, hdr, limit, NULL, NULL, &end, &dbp)) != HF_OK)
		return rc;
	if ((rc = port_fs_stamp(jlog_path(j), &size, &mtime)) != HF_OK)
		return rc;
	/* Compressed as the pages stream out of the read transaction: never
	** the whole database in memory, nor a copy of it on local flash. */
	if ((rc = jlog_page_size(j, &sn.page_size)) != HF_OK ||
	    (rc = seg_stream_begin(&sn.ss)) != HF_OK)
		return rc;
	if ((rc = jlog_snapshot(j, snap_page, &sn, &npages)) != HF_OK)
		goto out;
	if (s->st.have_gen) {
		s->st.gaps++;
		snprintf(s->st.last_gap, sizeof(s->st.last_gap),
			 "after generation %016" PRIx64 " seq %" PRIu64 ": %s", s->st.generation,
			 s->st.seq, why);
		port_notice("replica: %s; starting a new generation with a snapshot", why);
	}
	/* A counter the replica has is never used again (best effort: if
	** the listing fails, the manifest's gap record still names the
	** generation this one follows). */
	uint64_t seen = spool_max_counter(s, 0, false), newest;
	if (replica_newest(s, UINT64_MAX, &newest) == HF_OK && newest >> 32 > seen)
		seen = newest >> 32;
	s->st.gen_counter = (seen > s->st.gen_counter ? seen : s->st.gen_counter) + 1;
	s->st.generation = s->st.gen_counter << 32 | port_random_u32();
	s->st.have_gen = true;
	s->st.encrypted = s->rep && s->rep->key;
	s->st.seq = 0;
	fill_hdr(s, &h, SEG_SNAPSHOT, now);
	h.page_size = sn.page_size;
	h.db_pages = npages;
	h.npages = npages;
	if (hdr) {
		h.salt[0] = hdr->salt[0];
		h.salt[1] = hdr->salt[1];
		h.frame_end = end.frame;
		s->st.pos = end;
		s->st.pos_valid = true;
		s->st.restart_ok = false;
	} else {
		/* No WAL: whatever WAL comes next starts from this database file. */
		s->st.pos_valid = false;
		s->st.restart_ok = true;
		s->st.db_size = size;
		s->st.db_mtime_ns = mtime;
	}
	if ((rc = seg_stream_finish(sn.ss, &h, &file, &flen)) != HF_OK)
		goto out;
	/* Straight to the replica (a generation starts only when it is there);
	** to the spool if it went away meanwhile. A snapshot that goes up in
	** parts goes by the spool when it takes at most half of it: its
	** upload's state is kept there beside it, so a kill, a power cut or a
	** lost link mid-upload resumes with the missing parts (ship_upload,
	** next) rather than starting another generation. So does one that
	** must wait for an unmetered link, or for more of the daily budget
	** than is left (ship_upload holds it). */
	char why_metered[128];
	if ((replica_resumable(s->rep, flen) && spool_has(s, flen)) ||
	    (flen > s->cfg->metered_snapshot_max &&
	     metered(s, why_metered, sizeof(why_metered))) ||
	    !allowance_takes(s, flen)) {
		if ((rc = write_spool_file(s, h.generation, 0, file, flen)) != HF_OK)
			goto out;
	} else if (replica_put(s, h.generation, 0, file, flen, NULL) != HF_OK &&
		   (rc = write_spool_file(s, h.generation, 0, file, flen)) != HF_OK) {
		goto out;
	}
	if ((rc = save(s)) == HF_OK)
		spool_max_counter(s, s->st.generation, true);
	ship_count(s);
out:
	free(file);
	seg_stream_free(sn.ss);
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

/*
** The spool cap. A new segment of about RAW bytes that would take the spool
** past spool_max drops the generation's unshipped files instead: the history
** they held gets an explicit gap, and the next generation (a fresh snapshot,
** once the replica is reachable) starts from the database, which lost
** nothing. The WAL goes on being checkpointed meanwhile.
*/
static int spool_room(struct ship *s, uint64_t raw, char *sealed, size_t len)
{
	unsigned files;
	uint64_t bytes, lowest;
	int rc;

	if ((rc = ship_spool_usage(s, &files, &bytes, &lowest)) != HF_OK)
		return rc;
	/* raw is the uncompressed size: a bound on what the segment adds. */
	if (bytes + raw / 2 <= s->cfg->spool_max)
		return HF_OK;
	snprintf(s->st.last_gap, sizeof(s->st.last_gap),
		 "spool full (%u file(s), %" PRIu64 " bytes, cap %" PRIu64 "): generation %016" PRIx64
		 " seqs %" PRIu64 "-%" PRIu64 " never reached the replica",
		 files, bytes, s->cfg->spool_max, s->st.generation,
		 lowest == UINT64_MAX ? s->st.seq + 1 : lowest, s->st.seq);
	port_warn("replica: %s; dropped them, a new snapshot follows once the replica is reachable",
		 s->st.last_gap);
	spool_max_counter(s, UINT64_MAX, true);
	s->st.gaps++;
	s->st.have_gen = false;
	s->st.restart_ok = false;
	snprintf(sealed, len, "nothing: the spool is full, unshipped history dropped");
	return save(s);
}

int ship_drop(struct ship *s, const char *why, unsigned *files, uint64_t *bytes)
{
	uint64_t lowest;
	int rc;

	*files = 0;
	*bytes = 0;
	if ((rc = ship_load(s)) != HF_OK ||
	    (rc = ship_spool_usage(s, files, bytes, &lowest)) != HF_OK)
		return rc;
	if (!s->st.have_gen && !*files)
		return HF_OK;
	if (*files)
		snprintf(s->st.last_gap, sizeof(s->st.last_gap),
			 "%s: generation %016" PRIx64 " seqs %" PRIu64 "-%" PRIu64 " (%u file(s), %"
			 PRIu64 " bytes) never reached the replica", why, s->st.generation,
			 lowest == UINT64_MAX ? s->st.seq + 1 : lowest, s->st.seq, *files, *bytes);
	else
		snprintf(s->st.last_gap, sizeof(s->st.last_gap),
			 "%s: generation %016" PRIx64 " ends at seq %" PRIu64 ", what the WAL holds "
			 "after it cannot be sealed", why, s->st.generation, s->st.seq);
	/* Said by the caller. Files first: the state written next needs the room they leave. */
	spool_max_counter(s, UINT64_MAX, true);
	s->st.gaps++;
	s->st.have_gen = false;
	s->st.restart_ok = false;
	return save(s);
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
		     size > s->cfg->metered_snapshot_max && metered(s, why, sizeof(why));

	if (defer && !s->metered_defer_said)
		port_notice("replica: the link is metered (%s): no snapshot of the %" PRIu64
			 "-byte database until it is not", why, size);
	else if (!defer && s->metered_defer_said)
		port_notice("replica: the link is not metered now: a new generation starts");
	s->metered_defer_said = defer;
	return defer;
}

int ship_seal(struct ship *s, struct jlog *j, const struct jlog_now *now, char *sealed,
	      size_t len)
{
	struct pages p = { 0 };
	struct wal_pos hdr, from, end;
	struct seg_hdr h;
	uint64_t *keys;
	uint8_t *raw = NULL;
	uint32_t dbp, n = 0;
	int rc, hrc;

	sealed[0] = '\0';
	if ((rc = ship_load(s)) != HF_OK)
		return rc;
	hrc = wal_header(s->wal, &hdr);
	if (hrc == HF_ECORRUPT)
		hrc = HF_ENOENT; /* as SQLite: a WAL without a valid header is empty */
	if (hrc != HF_OK && hrc != HF_ENOENT)
		return hrc;
	if (!s->st.have_gen) {
		/* A generation starts when its snapshot can go out at once:
		** offline with no snapshot yet, produce nothing, lose nothing
		** (the snapshot taken later holds everything). */
		if (!reachable(s) || metered_defer(s, j))
			return HF_OK;
		rc = new_generation(s, j, now, hrc == HF_OK ? &hdr : NULL, UINT32_MAX,
				    s->st.last_gap);
		if (rc == HF_OK)
			snprintf(sealed, len, "snapshot of generation %016" PRIx64, s->st.generation);
		return rc;
	}
	if (s->rep && s->st.encrypted != (s->rep->key != NULL)) {
		/* The replica key_file was set or removed: restore reads a
		** generation one way, so the next one starts now. */
		rc = new_generation(s, j, now, hrc == HF_OK ? &hdr : NULL, UINT32_MAX,
				    s->rep->key ? "[replica] key_file was set: the history is "
						  "encrypted from this generation on" :
						  "[replica] key_file was removed: the history is "
						  "plaintext from this generation on");
		if (rc == HF_OK)
			snprintf(sealed, len, "snapshot of generation %016" PRIx64 " (key_file changed)",
				 s->st.generation);
		return rc;
	}
	if (hrc == HF_ENOENT) {
		/* No frames. Fine if we had none either, or we checkpointed all
		** of them and nobody else touched the database file since. */
		if ((s->st.pos_valid && s->st.pos.frame > 0 && !s->st.restart_ok) ||
		    (s->st.restart_ok && !db_unchanged(s, j)))
			goto broke;
		return HF_OK;
	}
	if (s->st.pos_valid && hdr.salt[0] == s->st.pos.salt[0] && hdr.salt[1] == s->st.pos.salt[1]) {
		from = s->st.pos;
	} else if (s->st.restart_ok && db_unchanged(s, j)) {
		from = hdr; /* the WAL restarted after our checkpoint: continue */
	} else {
		goto broke;
	}
	if (from.frame > 0) {
		bool broken;
		/* What we sealed last must not have been written over. */
		if ((rc = wal_chain_broken(s->wal, &from, &broken)) != HF_OK)
			goto out;
		if (broken)
			goto broke;
	}
	if ((rc = wal_read(s->wal, &from, collect, &p, &end, &dbp)) != HF_OK)
		goto out;
	if (end.frame == from.frame)
		goto out; /* nothing committed since */
	/* The latest version of each page: sort (page, frame), keep the last. */
	keys = p.keys;
	if (p.n > 1)
		qsort(keys, p.n, sizeof(*keys), cmp_pages);
	if (!(raw = malloc(p.n * (4 + (size_t)from.page_size)))) {
		rc = HF_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < p.n; i++) {
		uint32_t pgno = (uint32_t)(keys[i] >> 32);
		if ((i + 1 < p.n && (uint32_t)(keys[i + 1] >> 32) == pgno) || pgno > dbp)
			continue; /* a later version follows, or past the end */
		uint8_t *page = seg_record_slot(raw, from.page_size, n, pgno);
		if ((rc = wal_read_page(s->wal, from.page_size, (uint32_t)keys[i], page)))
			goto out;
		n++;
	}
	if ((rc = spool_room(s, (uint64_t)n * (4 + from.page_size), sealed, len)) != HF_OK)
		goto out;
	if (!s->st.have_gen)
		goto out; /* the spool was full: history dropped, a gap recorded */
	fill_hdr(s, &h, SEG_FRAMES, now);
	h.page_size = from.page_size;
	h.seq = s->st.seq + 1;
	h.db_pages = dbp;
	h.npages = n;
	h.salt[0] = from.salt[0];
	h.salt[1] = from.salt[1];
	h.frame_first = from.frame;
	h.frame_end = end.frame;
	if ((rc = write_spool(s, &h, raw, (size_t)n * (4 + from.page_size))) != HF_OK)
		goto out;
	s->st.seq = h.seq;
	s->st.pos = end;
	s->st.pos_valid = true;
	s->st.restart_ok = false;
	if ((rc = save(s)) == HF_OK)
		snprintf(sealed, len, "segment %" PRIu64 " (%u pages, WAL frames %u-%u)", h.seq, n,
			 h.frame_first, h.frame_end - 1);
out:
	free(p.keys);
	free(raw);
	return rc;

broke:
	rc = new_generation(s, j, now, hrc == HF_OK ? &hdr : NULL, UINT32_MAX,
			    "the WAL was checkpointed or rewritten by something else, so its "
			    "frames since the last seal are gone");
	if (rc == HF_OK)
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
		save(s);
	}
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
		rc = save(s);
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

/* ---- the replica ------------------------------------------------------------------ */

int ship_spool_oldest(struct ship *s, int64_t *mtime_ns)
{
	struct names ns = { 0 };
	char path[4300];
	uint64_t size;
	int rc = names_list(s->spool, SPOOL_NAME_LEN, ".seg", &ns);

	if (rc == HF_OK && !ns.n)
		rc = HF_ENOENT;
	if (rc == HF_OK) {
		snprintf(path, sizeof(path), "%s/%s", s->spool, ns.v[0]);
		rc = port_fs_stamp(path, &size, mtime_ns);
	}
	free(ns.v);
	return rc;
}

int ship_spool_usage(struct ship *s, unsigned *files, uint64_t *bytes, uint64_t *lowest_seq)
{
	struct names ns;
	int rc = names_list(s->spool, SPOOL_NAME_LEN, ".seg", &ns);

	*files = 0;
	*bytes = 0;
	*lowest_seq = UINT64_MAX;
	if (rc == HF_ENOENT)
		return HF_OK;
	for (size_t i = 0; rc == HF_OK && i < ns.n; i++) {
		char path[4300];
		uint64_t size, seq = strtoull(ns.v[i] + 17, NULL, 16);
		int64_t mtime;
		snprintf(path, sizeof(path), "%s/%s", s->spool, ns.v[i]);
		if (port_fs_stamp(path, &size, &mtime) == HF_OK) {
			(*files)++;
			*bytes += size;
			if (strtoull(ns.v[i], NULL, 16) == s->st.generation && seq < *lowest_seq)
				*lowest_seq = seq;
		}
	}
	free(ns.v);
	return rc;
}

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
static int replica_put(struct ship *s, uint64_t gen, uint64_t seq, const void *buf, size_t len,
		       const char *from)
{
	char rel[256], text[512];
	uint64_t prev;
	int rc;

	if (!reachable(s))
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
	if ((rc = replica_newest(s, gen >> 32, &prev)) != HF_OK)
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

	if (!reachable(s))
		return HF_ENOENT;
	if (!allowance_takes(s, len))
		return HF_EBUSY;
	if ((rc = check_owner(s)) != HF_OK)
		return rc;
	rc = replica_write(s->rep, rel, buf, len);
	ship_count(s);
	return rc;
}

/* *NEWEST: the replica's generation with the highest counter below BELOW
** (0: none). */
static int replica_newest(struct ship *s, uint64_t below, uint64_t *newest)
{
	struct names ns = { 0 };
	int rc;

	*newest = 0;
	if (!reachable(s))
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
	rc = replica_put(s, gen, seq, NULL, 0, from);
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
	hold = metered(s, why, sizeof(why));
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

	if ((rc = ensure_spool(s)) != HF_OK)
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
static bool allowance_takes(struct ship *s, uint64_t size)
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
	if (!reachable(s))
		return HF_ENOENT;
	if ((rc = ensure_spool(s)) != HF_OK)
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
			     (s->allowance_held = !allowance_takes(s, size))))
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
