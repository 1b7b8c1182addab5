/*
** ship.h: WAL shipping: sealing committed frames into segments in the
** spool, snapshots that start generations, checkpoints that never drop an
** unsealed frame, and copying the spool to a replica directory.
**
** firmware/ship/: this, the replica (S3 or a directory), restore and the
** history export; on net/, log/ and below.
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
#include <stddef.h>
#include <stdint.h>

#include "base/names.h"
#include "fmt/cfg.h"
#include "fmt/seg.h"
#include "fmt/wal.h"
#include "log/jlog.h"

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
	bool encrypted;         /* the current generation started with a replica
				 * key_file: a generation is all sealed or all plain */
};

struct replica;

/* Bytes sent to the replica in one day (DATA/spool/budget). */
struct ship_budget {
	int64_t day;            /* which (ship_budget_day) */
	uint64_t used;          /* bytes sent in it, by any process */
	uint64_t carried;       /* a monotonic span's: the part of used carried */
	int64_t from;           /* from this UTC day when the clock lost trust */
};

struct ship {
	struct replica *rep;    /* NULL when no replica is configured */
	bool hold;              /* the daemon's backoff: no network use for now */
	bool no_net;            /* the daemon's loop: sealing never waits on the
				 * network; its uploader (runner_ship.c) sends the
				 * spool, and lists the replica (ship_probe) before
				 * the first generation, whose counter waits for it */
	bool snap_defer;        /* no_net: a generation due starts now, with a
				 * snapshot its uploader takes (snap) next */
	struct ship_snap *snap; /* a snapshot under way, not yet taken in */
	bool floor_known;       /* no_net: floor is the replica's newest counter */
	uint64_t floor;
	char install_id[33];    /* DATA/install-id: random, made once per data directory */
	bool owner_ok;          /* the replica's DEVICE/owner names this install */
	bool metered_held;      /* a snapshot waits for an unmetered link (said) */
	bool metered_defer_said; /* no generation starts while metered (said) */
	uint64_t allowance;     /* bytes ship_upload may send (the daily budget
				 * left, set by ship_limit; UINT64_MAX: no limit) */
	bool allowance_whole;   /* nothing sent yet today: a file over the whole
				 * budget may go (as the day's only one) */
	bool allowance_held;    /* the last ship_upload stopped at the allowance */
	struct ship_budget budget; /* today's count, by every process (ship_limit) */
	uint64_t sent_seen;     /* the replica client's bytes sent, last counted */
	char spool[4160];
	char wal[4160];
	const struct cfg *cfg;
	char device[SEG_DEVICE_MAX + 1];
	struct ship_state st;
};

/* Sets up S for data directory DATA (cfg's device name or the host name,
** cfg's replica). Free with ship_free. */
int ship_init(struct ship *s, const char *data, const struct cfg *cfg);

/* This device's name in the replica ([replica] device, else the host name
** made safe for a path) into OUT[CAP], CAP > SEG_DEVICE_MAX. */
void ship_device_name(const struct cfg *cfg, char *out, size_t cap);
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

/*
** A new generation's snapshot, in the daemon (no_net with snap_defer): ship_seal
** begins it under the write lock (S->snap: where it stands, and a read
** transaction at that point on a connection of its own) and seals nothing
** more until it is taken in. ship_snap_take, after the lock is released (the
** uploader, on its own struct ship UP), reads and compresses it and puts it in
** the spool or the replica. ship_snap_done, in the loop once that ended,
** starts the generation if it was placed (true), and ends the snapshot
** either way: sealing goes on from where it stands, or a new one is tried.
*/
struct ship_snap;
int ship_snap_take(struct ship *up, struct ship_snap *sn);
bool ship_snap_done(struct ship *s);

/* Seals, then checkpoints with the lock still held, and records whether the
** WAL may now restart as a continuation. Takes and releases the lock. */
int ship_checkpoint(struct ship *s, struct jlog *j, const struct jlog_now *now, char *sealed,
		    size_t len);

/* Whether the link to the replica is metered now ([replica] metered: yes,
** no, or auto: the default route goes by a link in metered_links); WHY
** says how that was decided. */
bool ship_metered(const struct cfg *cfg, char *why, size_t len);

/*
** The disk is full: drops every unshipped file from the spool and ends the
** generation with a recorded gap that says WHY, as the spool cap does; the
** next generation starts with a snapshot once there is room, and the
** database lost nothing. Nothing to do without a generation or files.
** *FILES and *BYTES: what was dropped. The caller holds the write lock.
*/
int ship_drop(struct ship *s, const char *why, unsigned *files, uint64_t *bytes);

/* Bytes of WAL not yet sealed (committed or not). */
uint64_t ship_unsealed_bytes(const struct ship *s);

/*
** Copies the spool to the replica, oldest first, each file durably, and
** removes each from the spool once its copy is durable. HF_ENOENT (quietly)
** when no replica is configured or it is not there (a USB stick not
** mounted). *COPIED: files copied.
*/
int ship_upload(struct ship *s, unsigned *copied);

/* The replica's newest generation counter (0: none), into *FLOOR: what a
** sealer that never touches the network (no_net) takes as the floor of its
** first generation's counter. HF_ENOENT if the replica is out of reach. */
int ship_probe(struct ship *s, uint64_t *floor);

/* Writes REL (below the device's directory's parent: "DEVICE/...") to the
** replica whole and durably, as the spool's files go: only while the replica
** is reachable and not held (HF_ENOENT), within the day's allowance
** (HF_EBUSY: it waits), under this install's DEVICE/owner; sealed with the
** key_file if there is one; counted against the daily budget. Create-only:
** HF_EEXIST if REL holds other bytes (replica_write). The history export's
** way out (export.c). */
int ship_put(struct ship *s, const char *rel, const void *buf, size_t len);

/* Spool files and bytes not yet in the replica; the lowest seq among them
** (UINT64_MAX if none). */
int ship_spool_usage(struct ship *s, unsigned *files, uint64_t *bytes, uint64_t *lowest_seq);

/* The mtime (ns since the epoch) of the oldest file in the spool, the
** first to go; HF_ENOENT if it is empty. */
int ship_spool_oldest(struct ship *s, int64_t *mtime_ns);

/*
** Limits, for the daemon and the command line alike. ship_limit says which
** limit keeps the replica's network unused now: outside [replica]
** upload_window (only while wall time is trusted: an untrusted clock cannot
** say when the window is), or the day's daily_budget spent, by any process
** (DATA/spool/budget). It also sets S's allowance: what ship_upload (and a
** snapshot sent straight to the replica) may still send today.
** ship_limit_why says it in words. ship_count adds what the replica's client
** sent since the last call to the day's count (ship_upload and ship_seal
** call it; so should anyone who used the replica otherwise).
*/
enum { SHIP_LIMIT_NONE, SHIP_LIMIT_WINDOW, SHIP_LIMIT_BUDGET };
int ship_limit(struct ship *s);
void ship_limit_why(const struct ship *s, int limit, char *out, size_t len);
void ship_count(struct ship *s);

/* The day the budget counts: the UTC day while wall time is trusted, else
** 24 h spans of the monotonic clock (negative numbers, to tell them apart). */
int64_t ship_budget_day(int64_t utc_ms, bool trusted, uint64_t mono_ms);
/* Moves B to TODAY: zero on a new day of the same clock; carried over a
** change of clock (see ship_upload.c). */
void ship_budget_roll(struct ship_budget *b, int64_t today);

/* Loads the state (all zero if none yet). */
int ship_load(struct ship *s);

/* After a commit (J, at NOW): seals it and copies the spool until the
** replica holds the segment (or snapshot) with it, checked there, for up to
** TIMEOUT_MS: HF_EIO after that, HF_EBUSY at once if a limit (the upload
** window, the daily budget) keeps it from going now. Needs S->rep. */
int ship_wait_remote(struct ship *s, struct jlog *j, const struct jlog_now *now,
		     uint64_t timeout_ms);

#endif /* HF_SHIP_H */
