/*
** ctx.h: an open data directory, for the verbs that use the job log.
*/
#ifndef HF_CTX_H
#define HF_CTX_H

#include <limits.h>
#include <stdbool.h>

#include "app/args.h"
#include "log/jlog.h"

struct ctx {
	char dir[PATH_MAX];
	char conf[PATH_MAX + 32];  /* its config (dd_conf_path) */
	struct jlog j;
	struct jlog_now now;       /* now.boot is 0 until ctx_boot */
	bool trusted;
	char boot_id[64];
};

/* Opens the data directory of G (messages say what is missing). */
int ctx_open(const struct args_global *g, struct ctx *c);
/* Begins a writing command's transaction (jlog_begin), keeping the WAL
** bounded first when no daemon runs (ctx_bound_wal). */
int ctx_begin(struct ctx *c);
/* Says that VERB failed because the disk holding the data directory is full
** (HF_ENOSPC), and that WHAT ("the job was not queued"), like everything of
** the rolled-back transaction, was not stored. */
void ctx_say_full(const struct ctx *c, const char *verb, const char *what);
/* Ends C's transaction: commits it if RC is HF_OK, else rolls it back; on a
** full disk says so (ctx_say_full). Returns RC or the commit's code. */
int ctx_end(struct ctx *c, int rc, const char *verb, const char *what);
/* Makes sure this boot has its row, inside the caller's transaction. */
int ctx_boot(struct ctx *c);
void ctx_close(struct ctx *c);

/* Before a writing command's transaction, with no daemon running: keeps
** the WAL under SHIP_WAL_CAP_FACTOR x wal_max as the daemon would (sealed
** first). */
void ctx_bound_wal(struct ctx *c);
/* The same checkpoint now, whatever the WAL's size (`prune`, after a
** vacuum, so the freed pages go back to the file system). */
void ctx_checkpoint_now(struct ctx *c);

#endif /* HF_CTX_H */
