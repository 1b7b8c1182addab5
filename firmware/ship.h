/*
** ship.h: WAL shipping: sealing committed frames into segments in the
** spool, snapshots that start generations, checkpoints that never drop an
** unsealed frame, and copying the spool to a replica directory.
**
** State lives in the spool (DATA/spool/state), not in the database: writing
** it into the database would add frames for every seal. Every change to the
** state and every seal happens while the caller holds the job log's write
** lock, so the daemon and a `holdfast sync now` never seal the same frames.
** A spool file is removed only after its copy in the replica is durable:
** what is not in the replica is still in the spool.
*/
#ifndef HF_SHIP_H
#define HF_SHIP_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg.h"
#include "jlog.h"
#include "seg.h"
#include "wal.h"

/* x [log] wal_max: past this the WAL stops waiting for sealing that fails,
** and, with no daemon running, the writing commands checkpoint it. */
#define SHIP_WAL_CAP_FACTOR 4

struct ship_state {
	bool have_gen;          /* a generation has started (its snapshot is sealed) */
	uint64_t gen_counter;   /* generations started on this device */
	uint64_t generation;    /* the current one */
	uint64_t seq;           /* last sealed */
	struct wal_pos pos;     /* after the last sealed frame */
	bool pos_valid;         /* pos names a WAL header (false: none existed) */
	bool restart_ok;        /* we checkpointed everything at pos: a new WAL
				 * header continues the history */
	uint64_t db_size;       /* the database file after that checkpoint */
	int64_t db_mtime_ns;
	uint64_t gaps;          /* generations started because history broke */
	char last_gap[160];     /* why the last one did (the current generation's
				 * manifest says so in the replica) */
};

struct replica;

struct ship {
	struct replica *rep;    /* NULL when no replica is configured */
	bool hold;              /* the daemon's backoff: no network use for now */
	char install_id[33];    /* DATA/install-id: random, made once per data directory */
	bool owner_ok;          /* the replica's DEVICE/owner names this install */
	bool metered_held;      /* a snapshot waits for an unmetered link (said) */
	bool metered_defer_said; /* no generation starts while metered (said) */
	uint64_t allowance;     /* bytes ship_upload may send (the daemon's daily
				 * budget left; UINT64_MAX: no limit) */
	bool allowance_whole;   /* nothing sent yet today: a file over the whole
				 * budget may go (as the day's only one) */
	bool allowance_held;    /* the last ship_upload stopped at the allowance */
	char spool[4160];
	char wal[4160];
	const struct cfg *cfg;
	char device[SEG_DEVICE_MAX + 1];
	struct ship_state st;
};

/* Sets up S for data directory DATA (cfg's device name or the host name,
** cfg's replica). Free with ship_free. */
int ship_init(struct ship *s, const char *data, const struct cfg *cfg);
void ship_free(struct ship *s);

/*
** Seals what is new: a snapshot if no generation has started or the history
** broke (a checkpoint we did not make), else the committed frames since the
** last seal as segment seq+1. The caller holds the write lock (jlog_begin)
** of J and commits or rolls back after. *SEALED: what was sealed, "" if
** nothing.
*/
int ship_seal(struct ship *s, struct jlog *j, const struct jlog_now *now, char *sealed,
	      size_t len);

/* Seals, then checkpoints with the lock still held, and records whether the
** WAL may now restart as a continuation. Takes and releases the lock. */
int ship_checkpoint(struct ship *s, struct jlog *j, const struct jlog_now *now, char *sealed,
		    size_t len);

/* Whether the link to the replica is metered now ([replica] metered: yes,
** no, or auto: the default route goes by a link in metered_links); WHY
** says how that was decided. */
bool ship_metered(const struct cfg *cfg, char *why, size_t len);

/* The text of a generation's manifest in the replica: the device, the
** generation and the segment format, then, unless it is the first, the gap
** record: "follows GEN" (the previous generation in the replica) and
** "gap WHY". */
void ship_manifest(const char *device, uint64_t generation, uint64_t follows, const char *why,
		   char *out, size_t len);

/* From a manifest's TEXT: the generation it follows (0: none) and why
** (WHY, "" if none). HF_ECORRUPT unless it is the manifest of DEVICE's
** GENERATION. */
int ship_manifest_parse(const char *text, size_t len, const char *device, uint64_t generation,
			uint64_t *follows, char *why, size_t why_len);

/* Bytes of WAL not yet sealed (committed or not). */
uint64_t ship_unsealed_bytes(const struct ship *s);

/*
** Copies the spool to the replica, oldest first, each file durably, and
** removes each from the spool once its copy is durable. HF_ENOENT (quietly)
** when no replica is configured or it is not there (a USB stick not
** mounted). *COPIED: files copied.
*/
int ship_upload(struct ship *s, unsigned *copied);

/* Spool files and bytes not yet in the replica; the lowest seq among them
** (UINT64_MAX if none). */
int ship_spool_usage(struct ship *s, unsigned *files, uint64_t *bytes, uint64_t *lowest_seq);

/* The mtime (ns since the epoch) of the oldest file in the spool, the
** first to go; HF_ENOENT if it is empty. */
int ship_spool_oldest(struct ship *s, int64_t *mtime_ns);

/* The names in DIR, sorted: only those WANT_LEN long (0: any) and ending in
** SUFFIX (NULL: any), never dot files. HF_ENOENT if DIR is missing; on any
** error the list is empty. Free v. */
struct ship_names {
	char (*v)[80];
	size_t n, cap;
	size_t want_len;
	const char *suffix;
};
int ship_list(const char *dir, size_t want_len, const char *suffix, struct ship_names *l);
/* Adds NAME to L if it passes L's filters; sorts L. */
int ship_names_add(struct ship_names *l, const char *name);
void ship_names_sort(struct ship_names *l);

/* Loads the state (all zero if none yet). */
int ship_load(struct ship *s);

#endif /* HF_SHIP_H */
