/*
** cmd_ship.h: the verbs of WAL shipping and restore (sync, replica,
** restore, debug), and waiting for the replica after a commit.
*/
#ifndef HF_CMD_SHIP_H
#define HF_CMD_SHIP_H

#include <stdint.h>
#include <stdio.h>

#include "app/args.h"

int cmd_sync(const struct args_global *g, struct args *a, FILE *out);
int cmd_replica(const struct args_global *g, struct args *a, FILE *out);
int cmd_restore(const struct args_global *g, struct args *a, FILE *out);
/* After a commit: seals it and copies the spool until the replica holds
** the segment (or snapshot) with it, checked there, for up to TIMEOUT_MS. */
int cmd_wait_remote(const struct args_global *g, uint64_t timeout_ms);
int cmd_debug(const struct args_global *g, struct args *a, FILE *out);

#endif /* HF_CMD_SHIP_H */
