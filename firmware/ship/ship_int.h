/*
** ship_int.h: what the shipper's files share beyond ship.h: ship.c (the
** state), ship_seal.c (frames and snapshots into the spool), ship_spool.c
** (the spool's files, cap and gaps) and ship_upload.c (the spool to the
** replica). Only they include it (tools/checksrc).
*/
#ifndef HF_SHIP_INT_H
#define HF_SHIP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ship/ship.h"

/* Spool segment files: GGGGGGGGGGGGGGGG-SSSSSSSSSSSSSSSS.seg */
#define SPOOL_NAME_LEN 37

/* ship.c: writes S's state to DATA/spool/state (atomically), and makes
** the spool directory if it is missing (refusing a link there). */
int ship_save(struct ship *s);
int ship_ensure_spool(struct ship *s);

/* ship.c: the replica is there, and we may use it (not in the daemon's
** backoff: sealing then goes to the spool alone, and no generation starts). */
bool ship_reachable(const struct ship *s);

/* ship_seal.c: whether S's replica is reached over a metered link (a
** directory replica, or S3 on loopback, never is); why, into WHY[LEN]. */
bool ship_over_metered(struct ship *s, char *why, size_t len);

/* ship_spool.c: the highest generation counter in the spool; with DROP,
** every file of a generation other than KEEP removed (UINT64_MAX: all). */
uint64_t ship_spool_max_counter(struct ship *s, uint64_t keep, bool drop);

/* ship_spool.c: whether LEN more bytes leave the spool at most half full. */
bool ship_spool_has(struct ship *s, uint64_t len);

/* ship_spool.c: the spool cap, before a segment of about RAW bytes: past
** spool_max the generation's unshipped files are dropped, with a gap (said
** in SEALED[LEN]). */
int ship_spool_room(struct ship *s, uint64_t raw, char *sealed, size_t len);

/* ship_upload.c: one file of generation GEN (seq 0: the snapshot) into the
** replica, durably: LEN bytes at BUF, or (BUF NULL) the spool file FROM. */
int ship_replica_put(struct ship *s, uint64_t gen, uint64_t seq, const void *buf, size_t len,
		     const char *from);

/* ship_upload.c: *NEWEST, the replica's generation with the highest counter
** below BELOW. */
int ship_replica_newest(struct ship *s, uint64_t below, uint64_t *newest);

/* ship_upload.c: whether SIZE bytes fit in what is left of the daily
** budget (taking them if so). */
bool ship_allowance_takes(struct ship *s, uint64_t size);

/* ship_seal.c: a snapshot under way (S->snap) is not taken in: ship_drop
** may have removed it from the spool. */
void ship_snap_dropped(struct ship *s);
#endif /* HF_SHIP_INT_H */
