/*
** ctx.c: an open data directory for the command line's verbs (see ctx.h):
** its paths, its job log, this boot, and the WAL's bound while no daemon
** runs.
*/
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "app/ctx.h"
#include "base/err.h"
#include "fmt/cfg.h"
#include "log/datadir.h"
#include "port.h"
#include "ship/ship.h"

int ctx_open(const struct args_global *g, struct ctx *c)
{
	char db[PATH_MAX + 32];
	enum port_fs_kind kind;
	bool def;
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = dd_resolve(g->data, c->dir, sizeof(c->dir), &def)) != HF_OK ||
	    (rc = dd_check_links(c->dir)) != HF_OK ||
	    (rc = dd_conf_path(g->config, c->dir, c->conf, sizeof(c->conf), &def)) != HF_OK)
		return rc;
	snprintf(db, sizeof(db), "%s/%s", c->dir, DD_DB_NAME);
	if ((rc = port_fs_kind(db, &kind)) != HF_OK)
		return rc;
	if (kind == PORT_FS_NONE) {
		port_log("no holdfast data directory at %s (create one with: holdfast init %s)",
			 c->dir, c->dir);
		return HF_ENOENT;
	}
	if ((rc = jlog_open(&c->j, db, NULL)) != HF_OK)
		return rc;
	if ((rc = port_boot_id(c->boot_id, sizeof(c->boot_id))) != HF_OK) {
		jlog_close(&c->j);
		return rc;
	}
	c->now.mono_ms = port_clock_mono_ms();
	c->now.utc_ms = port_clock_utc(&c->trusted);
	if (!c->trusted)
		c->now.utc_ms = -1;
	/* Read-only verbs only look the boot up; writers add it (ctx_boot). */
	return jlog_boot(&c->j, c->boot_id, c->now.utc_ms, false, &c->now.boot);
}

int ctx_boot(struct ctx *c)
{
	return c->now.boot ? HF_OK :
		jlog_boot(&c->j, c->boot_id, c->now.utc_ms, true, &c->now.boot);
}

int ctx_begin(struct ctx *c)
{
	ctx_bound_wal(c);
	return jlog_begin(&c->j);
}

void ctx_close(struct ctx *c)
{
	jlog_close(&c->j);
}

void ctx_say_full(const struct ctx *c, const char *verb, const char *what)
{
	port_log("%s: the disk holding %s is full: %s, nothing was stored. Free some space "
		 "there; a running daemon prunes old history and waits for room", verb, c->dir,
		 what);
}

int ctx_end(struct ctx *c, int rc, const char *verb, const char *what)
{
	if (rc == HF_OK)
		rc = jlog_commit(&c->j);
	else
		jlog_rollback(&c->j);
	if (rc == HF_ENOSPC)
		ctx_say_full(c, verb, what);
	return rc;
}

/*
** The WAL's bound while no daemon runs. Only the daemon checkpoints while it
** runs; with none, nothing would, and the WAL would grow with every submit
** (and every command would pay for it: SQLite rebuilds the WAL index from
** the whole WAL at the first open). So a writing command, before its own
** transaction, does what the daemon would once the WAL passes
** SHIP_WAL_CAP_FACTOR x wal_max: with a replica, seal everything into the
** spool and checkpoint with the write lock held throughout
** (ship_checkpoint), so no frame is checkpointed unsealed; without, a
** checkpoint. Before, not after: SQLite restarts the WAL at the first write
** after a complete checkpoint only while its WAL index remembers the
** checkpoint, and the index is rebuilt (forgetting it) when the last
** connection closes; the command's own commit is that first write, and it
** cuts the file back (journal_size_limit). Never the network (the spool
** keeps what is sealed until the daemon or sync now copies it), and never
** waiting on a reader (PASSIVE: a reader's old snapshot holds the WAL back
** until it ends, then the next command checkpoints). Two commands at once
** take turns on the write lock; the second finds everything sealed. Best
** effort: a failure here is the next command's to retry.
*/
static void bound_wal(struct ctx *c, bool force)
{
	char sealed[200];
	uint32_t frames;
	struct ship sh;
	struct cfg cfg;
	bool complete;
	int64_t wal;

	/* The common case costs one stat: under the bound at the smallest wal_max. */
	if (jlog_wal_bytes(&c->j, &wal) != HF_OK ||
	    (!force && (uint64_t)wal <= SHIP_WAL_CAP_FACTOR * (uint64_t)CFG_WAL_MAX_MIN))
		return;
	if (cfg_load(&cfg, c->conf) != HF_OK ||
	    (!force && (uint64_t)wal <= SHIP_WAL_CAP_FACTOR * cfg.wal_max))
		return;
	/* A daemon owns the checkpoints (the poke reminds it of this WAL). */
	if (port_wake_send(c->dir) != HF_ENOENT)
		return;
	if (!cfg.replica[0]) {
		if (jlog_begin(&c->j) == HF_OK) {
			jlog_checkpoint_held(&c->j, &complete, &frames);
			jlog_rollback(&c->j);
		}
		return;
	}
	if (ship_init(&sh, c->dir, &cfg) == HF_OK) {
		sh.hold = true; /* into the spool only: no network from a submit */
		ship_checkpoint(&sh, &c->j, &c->now, sealed, sizeof(sealed));
	}
	ship_free(&sh);
}

void ctx_bound_wal(struct ctx *c)
{
	bound_wal(c, false);
}

void ctx_checkpoint_now(struct ctx *c)
{
	bound_wal(c, true);
}
