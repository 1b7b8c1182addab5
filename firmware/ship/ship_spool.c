/*
** ship_spool.c: the spool, where sealed files wait for the replica
** (ship_int.h): what it holds, its cap, and the gaps dropping it records.
**
** Spool files are named GGGGGGGGGGGGGGGG-SSSSSSSSSSSSSSSS.seg (generation
** and seq in hex, so that names sort in shipping order); the replica keeps
** DEVICE/GENERATION/snapshot.zst, DEVICE/GENERATION/seg/SEQ.zst and a
** manifest per generation (DESIGN.md).
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/names.h"
#include "fmt/cfg.h"
#include "port.h"
#include "ship/ship_int.h"

/* After a new generation's snapshot is in the spool: older generations'
** files there are superseded by it (it holds all they had), so they are
** dropped rather than shipped; and the counter of any of them, e.g. of a
** generation whose state a power cut lost, is not reused. */
uint64_t ship_spool_max_counter(struct ship *s, uint64_t keep, bool drop)
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
bool ship_spool_has(struct ship *s, uint64_t len)
{
	unsigned files;
	uint64_t bytes, lowest;

	return ship_spool_usage(s, &files, &bytes, &lowest) == HF_OK &&
	       bytes + len <= s->cfg->spool_max / 2;
}

/*
** The spool cap. A new segment of about RAW bytes that would take the spool
** past spool_max drops the generation's unshipped files instead: the history
** they held gets an explicit gap, and the next generation (a fresh snapshot,
** once the replica is reachable) starts from the database, which lost
** nothing. The WAL goes on being checkpointed meanwhile.
*/
int ship_spool_room(struct ship *s, uint64_t raw, char *sealed, size_t len)
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
	ship_spool_max_counter(s, UINT64_MAX, true);
	s->st.gaps++;
	s->st.have_gen = false;
	s->st.restart_ok = false;
	snprintf(sealed, len, "nothing: the spool is full, unshipped history dropped");
	return ship_save(s);
}

int ship_drop(struct ship *s, const char *why, unsigned *files, uint64_t *bytes)
{
	uint64_t lowest;
	int rc;

	*files = 0;
	*bytes = 0;
	ship_snap_dropped(s); /* a snapshot under way may be among the files */
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
	ship_spool_max_counter(s, UINT64_MAX, true);
	s->st.gaps++;
	s->st.have_gen = false;
	s->st.restart_ok = false;
	return ship_save(s);
}

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
