/*
** jlog_snap.c: what shipping needs from the database file: the WAL's size,
** the page size, a page-by-page snapshot read on a connection of its own,
** and checkpoints made on a second connection while the first holds the
** write lock.
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

static int page_size_of(struct sqlite3 *db, uint32_t *page_size)
{
	char v[32];
	int rc = jlog_query_text(db, "PRAGMA page_size", v, sizeof(v));

	*page_size = rc == HF_OK ? (uint32_t)strtoul(v, NULL, 10) : 0;
	return rc;
}

/* Every page of DB as its transaction sees it, to FN in page order. */
static int snapshot_of(struct sqlite3 *db, int (*fn)(void *arg, uint32_t pgno, const void *page),
		       void *arg, uint32_t page_size, uint32_t *npages)
{
	sqlite3_stmt *st = NULL;
	int rc, src;

	*npages = 0;
	src = sqlite3_prepare_v2(db, "SELECT pgno, data FROM sqlite_dbpage ORDER BY pgno", -1, &st,
				 NULL);
	if (src != SQLITE_OK)
		return jlog_sqlite_err(db, "snapshot", src);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 1) != (int)page_size) {
			port_log("job log: snapshot: page of %d bytes, expected %u",
				 sqlite3_column_bytes(st, 1), page_size);
			sqlite3_finalize(st);
			return HF_EBUG;
		}
		if ((rc = fn(arg, (uint32_t)sqlite3_column_int64(st, 0),
			     sqlite3_column_blob(st, 1)))) {
			sqlite3_finalize(st);
			return rc;
		}
		(*npages)++;
	}
	sqlite3_finalize(st);
	return src == SQLITE_DONE ? HF_OK : jlog_sqlite_err(db, "snapshot", src);
}

/* A read transaction on a connection of its own (jlog.h). */
struct jlog_reader {
	struct sqlite3 *db;
};

int jlog_reader_begin(struct jlog *j, struct jlog_reader **out)
{
	struct jlog_reader *rd = calloc(1, sizeof(*rd));
	char v[32];
	int rc;

	*out = NULL;
	if (!rd)
		return HF_ENOMEM;
	if ((rc = jlog_open_db(jlog_path(j), NULL, SQLITE_OPEN_READONLY, &rd->db)) != HF_OK) {
		free(rd);
		return rc;
	}
	/* A read transaction starts at its first read: this one, while the
	** caller holds the write lock, so it sees the WAL's end as it is now. */
	if ((rc = jlog_query_text(rd->db, "BEGIN", v, sizeof(v))) != HF_OK ||
	    (rc = jlog_query_text(rd->db, "SELECT count(*) FROM sqlite_schema", v, sizeof(v))) !=
		    HF_OK) {
		jlog_reader_end(rd);
		return rc;
	}
	*out = rd;
	return HF_OK;
}

int jlog_reader_snapshot(struct jlog_reader *rd,
			 int (*fn)(void *arg, uint32_t pgno, const void *page), void *arg,
			 uint32_t *page_size, uint32_t *npages)
{
	int rc = page_size_of(rd->db, page_size);

	return rc == HF_OK ? snapshot_of(rd->db, fn, arg, *page_size, npages) : rc;
}

void jlog_reader_end(struct jlog_reader *rd)
{
	if (!rd)
		return;
	sqlite3_close(rd->db); /* a read transaction ends with its connection */
	free(rd);
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
