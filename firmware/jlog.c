/*
** jlog.c: opening, configuring and verifying the job log database.
**
** Why each setting (see jlog.h for the contract):
**   - WAL: readers (the CLI) never block the writer (the daemon), and the WAL
**     is what we ship to the replica, frame by frame.
**   - synchronous=FULL: in WAL mode, NORMAL syncs only at checkpoints, so a
**     power cut can lose the last commits; an acknowledged job must survive.
**     The build also refuses SQLITE_NO_SYNC, and we check it at run time.
**   - wal_autocheckpoint=0 and SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE: a checkpoint
**     we did not plan could move unshipped frames into the database file and
**     restart the WAL, losing history for the replica.
** Settings are read back after being set: SQLite answers a PRAGMA it cannot
** honour with the old value, not with an error.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jlog.h"
#include "port.h"
#include "sqlite3.h"

/* How long a CLI verb waits for the daemon's write transaction. */
#define JLOG_BUSY_TIMEOUT_MS 5000

static int map_sqlite(int src)
{
	switch (src & 0xff) {
	case SQLITE_OK: return HF_OK;
	case SQLITE_NOMEM: return HF_ENOMEM;
	case SQLITE_IOERR: return HF_EIO;
	case SQLITE_FULL: return HF_ENOSPC;
	case SQLITE_READONLY: case SQLITE_PERM: case SQLITE_AUTH: return HF_EACCES;
	case SQLITE_CORRUPT: case SQLITE_NOTADB: return HF_ECORRUPT;
	case SQLITE_BUSY: case SQLITE_LOCKED: return HF_EBUSY;
	case SQLITE_CANTOPEN: return HF_EACCES;
	case SQLITE_TOOBIG: return HF_ETOOBIG;
	case SQLITE_MISUSE: return HF_EBUG;
	}
	return HF_ESYS;
}

/* Logs SQLite's own message for a failed step on DB and maps the code. */
static int sqlite_err(struct sqlite3 *db, const char *what, int src)
{
	port_log("job log: %s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(src));
	return map_sqlite(src);
}

/* Runs a statement that returns at most one row; copies its first column as
** text into OUT[OUTLEN] (empty if no row). */
static int query_text(struct sqlite3 *db, const char *sql, char *out, size_t outlen)
{
	sqlite3_stmt *st = NULL;
	int src, rc = HF_EBUG;

	src = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (src != SQLITE_OK)
		return sqlite_err(db, sql, src);
	out[0] = '\0';
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		snprintf(out, outlen, "%s", t ? (const char *)t : "");
		src = sqlite3_step(st);
	}
	rc = src == SQLITE_DONE ? HF_OK : sqlite_err(db, sql, src);
	sqlite3_finalize(st);
	return rc;
}

static int exec(struct sqlite3 *db, const char *sql)
{
	int src = sqlite3_exec(db, sql, NULL, NULL, NULL);

	return src == SQLITE_OK ? HF_OK : sqlite_err(db, sql, src);
}

/* Expects PRAGMA NAME to read back as WANT; logs and fails otherwise. */
static int expect_pragma(struct sqlite3 *db, const char *name, const char *want,
			 const char *why)
{
	char sql[64], got[64];
	int rc;

	snprintf(sql, sizeof(sql), "PRAGMA %s", name);
	if ((rc = query_text(db, sql, got, sizeof(got))) != HF_OK)
		return rc;
	if (strcmp(got, want) != 0) {
		port_log("job log: PRAGMA %s is '%s', need '%s' (%s)", name, got, want, why);
		return HF_ENOTSUP;
	}
	return HF_OK;
}

static int open_db(const char *path, const char *vfs, int flags, struct sqlite3 **out)
{
	struct sqlite3 *db = NULL;
	int src;

	/* Refuse at run time too: a library built with SQLITE_NO_SYNC would turn
	** every fsync into a no-op, and nothing else would notice. */
	if (sqlite3_compileoption_used("NO_SYNC")) {
		port_log("job log: SQLite was built with SQLITE_NO_SYNC; refusing to run");
		return HF_ENOTSUP;
	}
	src = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOFOLLOW, vfs);
	if (src != SQLITE_OK) {
		int rc = map_sqlite(src);
		port_log("job log: cannot open %s: %s", path,
			 db ? sqlite3_errmsg(db) : sqlite3_errstr(src));
		sqlite3_close(db);
		return rc;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, JLOG_BUSY_TIMEOUT_MS);
	*out = db;
	return HF_OK;
}

/* The per-connection settings, set and then verified. */
static int configure(struct sqlite3 *db)
{
	int rc;

	if ((rc = exec(db, "PRAGMA synchronous=FULL")) ||
	    (rc = exec(db, "PRAGMA wal_autocheckpoint=0")) ||
	    (rc = exec(db, "PRAGMA foreign_keys=ON")))
		return rc;
	return HF_OK;
}

static int verify_db(struct sqlite3 *db)
{
	char id[32];
	int rc;

	/* Identity first: for someone else's database the other answers do not
	** matter, and "not a holdfast job log" is the useful message. */
	snprintf(id, sizeof(id), "%d", JLOG_APPLICATION_ID);
	if ((rc = expect_pragma(db, "application_id", id, "not a holdfast job log")) != HF_OK)
		return rc == HF_ENOTSUP ? HF_ECORRUPT : rc;
	if ((rc = expect_pragma(db, "journal_mode", "wal",
				"readers must not block the daemon, and the WAL is what is shipped")) ||
	    (rc = expect_pragma(db, "synchronous", "2",
				"FULL: a commit must reach the device before it is acknowledged")) ||
	    (rc = expect_pragma(db, "wal_autocheckpoint", "0",
				"only the daemon checkpoints, after shipping")))
		return rc;
	return HF_OK;
}

int jlog_verify(struct jlog *j)
{
	return verify_db(j->db);
}

int jlog_create(const char *path, const char *vfs)
{
	struct sqlite3 *db = NULL;
	enum port_fs_kind kind;
	char sql[64];
	int rc = HF_EBUG;

	/* SQLite has no O_EXCL: make sure we do not adopt someone's file. */
	if ((rc = port_fs_kind(path, &kind)) != HF_OK)
		return rc;
	if (kind != PORT_FS_NONE) {
		port_log("job log: %s already exists", path);
		return HF_EEXIST;
	}
	rc = open_db(path, vfs, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &db);
	if (rc)
		return rc;
	/* This one connection may checkpoint on close: a new database has no
	** history to ship, and closing it leaves a single self-contained file
	** that can be moved into place. */
	snprintf(sql, sizeof(sql), "PRAGMA application_id=%d", JLOG_APPLICATION_ID);
	if ((rc = exec(db, "PRAGMA journal_mode=WAL")) ||
	    (rc = configure(db)) ||
	    (rc = exec(db, sql)) ||
	    (rc = verify_db(db)))
		goto out_close;
	if (sqlite3_close(db) != SQLITE_OK) {
		rc = sqlite_err(db, "close", SQLITE_BUSY);
		goto out_close;
	}
	return HF_OK;

out_close:
	sqlite3_close(db);
	return rc;
}

int jlog_open(struct jlog *j, const char *path, const char *vfs)
{
	struct sqlite3 *db = NULL;
	enum port_fs_kind kind;
	int rc, on = 0;

	if ((rc = port_fs_kind(path, &kind)) != HF_OK)
		return rc;
	if (kind == PORT_FS_NONE) {
		port_log("job log %s does not exist (holdfast init creates one)", path);
		return HF_ENOENT;
	}
	rc = open_db(path, vfs, SQLITE_OPEN_READWRITE, &db);
	if (rc)
		return rc;
	if (sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, &on) != SQLITE_OK ||
	    !on) {
		port_log("job log: cannot disable the checkpoint on close");
		rc = HF_ENOTSUP;
		goto out_close;
	}
	if ((rc = configure(db)) || (rc = verify_db(db)))
		goto out_close;
	j->db = db;
	return HF_OK;

out_close:
	sqlite3_close(db);
	return rc;
}

void jlog_close(struct jlog *j)
{
	if (j->db) {
		sqlite3_close(j->db);
		j->db = NULL;
	}
}

const char *jlog_sqlite_version(void)
{
	return sqlite3_libversion();
}

const char *jlog_sqlite_sourceid(void)
{
	return sqlite3_sourceid();
}
