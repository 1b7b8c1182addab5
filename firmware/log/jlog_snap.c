/*
** jlog_snap.c: what shipping needs from the database file: the WAL's size,
** the page size, a page-by-page snapshot, and checkpoints made on a second
** connection while the first holds the write lock.
*/
#include <stdint.h>
#include <stdlib.h>

#include "log/jlog_int.h"
#include "port.h"

int jlog_wal_bytes(struct jlog *j, int64_t *bytes)
{
	const char *db = sqlite3_db_filename(j->db, "main");
	const char *wal = db ? sqlite3_filename_wal(db) : NULL;
	int64_t mtime_ns;
	uint64_t size;

	*bytes = 0;
	if (!wal)
		return HF_EBUG;
	if (port_fs_stamp(wal, &size, &mtime_ns) == HF_OK)
		*bytes = (int64_t)size;
	return HF_OK;
}

int jlog_page_size(struct jlog *j, uint32_t *page_size)
{
	char v[32];
	int rc = jlog_query_text(j->db, "PRAGMA page_size", v, sizeof(v));

	*page_size = rc == HF_OK ? (uint32_t)strtoul(v, NULL, 10) : 0;
	return rc;
}

int jlog_snapshot(struct jlog *j, int (*fn)(void *arg, uint32_t pgno, const void *page),
		  void *arg, uint32_t *npages)
{
	sqlite3_stmt *st = NULL;
	uint32_t page_size;
	int rc, src;

	if ((rc = jlog_page_size(j, &page_size)) != HF_OK)
		return rc;
	*npages = 0;
	src = sqlite3_prepare_v2(j->db, "SELECT pgno, data FROM sqlite_dbpage ORDER BY pgno", -1,
				 &st, NULL);
	if (src != SQLITE_OK)
		return jlog_sqlite_err(j->db, "snapshot", src);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 1) != (int)page_size) {
			port_log("job log: snapshot: page of %d bytes, expected %u",
				 sqlite3_column_bytes(st, 1), page_size);
			sqlite3_finalize(st);
			return HF_EBUG;
		}
		if ((rc = fn(arg, (uint32_t)sqlite3_column_int64(st, 0), sqlite3_column_blob(st, 1)))) {
			sqlite3_finalize(st);
			return rc;
		}
		(*npages)++;
	}
	sqlite3_finalize(st);
	return src == SQLITE_DONE ? HF_OK : jlog_sqlite_err(j->db, "snapshot", src);
}

int jlog_checkpoint_held(struct jlog *j, bool *complete, uint32_t *wal_frames)
{
	int log = 0, ckpt = 0, src, on = 0;

	*complete = false;
	*wal_frames = 0;
	if (!j->ckpt_db) {
		int rc = jlog_open_db(jlog_path(j), NULL, SQLITE_OPEN_READWRITE, &j->ckpt_db);
		if (rc != HF_OK)
			return rc;
		if (sqlite3_db_config(j->ckpt_db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, &on) !=
			    SQLITE_OK || !on || (rc = jlog_configure(j->ckpt_db)) != HF_OK) {
			sqlite3_close(j->ckpt_db);
			j->ckpt_db = NULL;
			return rc ? rc : HF_ENOTSUP;
		}
	}
	src = sqlite3_wal_checkpoint_v2(j->ckpt_db, "main", SQLITE_CHECKPOINT_PASSIVE, &log, &ckpt);
	if (src != SQLITE_OK && src != SQLITE_BUSY)
		return jlog_sqlite_err(j->ckpt_db, "checkpoint", src);
	*complete = src == SQLITE_OK && log >= 0 && ckpt == log;
	*wal_frames = log > 0 ? (uint32_t)log : 0;
	return HF_OK;
}
