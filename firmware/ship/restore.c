/*
** restore.c: applying replica files to a database being rebuilt
** (restore.h).
**
** Memory, measured (tests/hostile/run prints it): restore's peak RSS over
** the whole hostile corpus (bombs, huge counts, page 0, truncations) stays
** under 64 MiB, because nothing is sized from a header: a record buffer of
** 4 + page_size bytes, zstd's decoder with its window capped at 8 MiB
** (SEG_WINDOW_LOG_MAX), its input buffer, and one 64 KiB envelope chunk:
** the file being applied is streamed (seg_read_body), its SHA-256 summed
** as it goes and checked at its end, whatever its size. The rebuilt database is never in memory: pages are written where they
** belong with pwrite, and the file is cut to db_pages after each file.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port.h"
#include "ship/restore.h"

void restore_escape(const char *s, size_t n, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (!cap)
		return;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= cap)
				break;
			out[o++] = (char)c;
			continue;
		}
		if (o + 4 >= cap)
			break;
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 15];
	}
	out[o] = '\0';
}

/* Removes PATH's -wal and -shm: integrity_check opens the staging file in
** SQLite, which makes them (the snapshot's header says WAL mode) and leaves
** them when that open fails. Left there, a stale WAL would be replayed by
** SQLite onto the next database rebuilt under the same name. */
static void remove_sidecars(const char *path)
{
	char side[4400];

	snprintf(side, sizeof(side), "%s-wal", path);
	port_fs_unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	port_fs_unlink(side);
}

int restore_begin(struct restore_out *o, const char *path)
{
	const char *slash = strrchr(path, '/');
	int rc;

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	if (!slash)
		snprintf(o->dir, sizeof(o->dir), ".");
	else if (slash == path)
		snprintf(o->dir, sizeof(o->dir), "/");
	else
		snprintf(o->dir, sizeof(o->dir), "%.*s", (int)(slash - path), path);
	remove_sidecars(path);
	if ((rc = port_fs_create(path, 0600, &o->fd)) != HF_OK)
		return rc;
	/* Measured once, with the staging file empty: the database must fit
	** in it as a whole. Measured again per file, a header could grow a
	** sparse file by the free space each time, past anything the disk
	** holds (and past what integrity_check can walk). */
	if ((rc = port_fs_free_space(o->dir, &o->room)) != HF_OK) {
		port_close(o->fd);
		o->fd = -1;
		port_fs_unlink(path);
	}
	return rc;
}

static int put_page(void *arg, uint32_t pgno, const uint8_t *page, char *why, size_t why_len)
{
	static const char sqlite_magic[16] = "SQLite format 3";
	struct restore_out *o = arg;
	int rc;

	/* Page 1 is the database header: a file that is not SQLite's, or
	** whose page size is not the one the pages are cut to, is refused
	** here rather than found by integrity_check after it is written. */
	if (pgno == 1) {
		uint32_t ps = (uint32_t)page[16] << 8 | page[17];
		if (ps == 1)
			ps = 65536;
		if (memcmp(page, sqlite_magic, 16) != 0) {
			snprintf(why, why_len, "page 1 does not begin \"SQLite format 3\": not an SQLite "
				 "database");
			return HF_ECORRUPT;
		}
		if (ps != o->page_size) {
			snprintf(why, why_len, "page 1 says page size %u, header field page_size = %u",
				 ps, o->page_size);
			return HF_ECORRUPT;
		}
	}
	if ((rc = port_fs_pwrite(o->fd, page, o->page_size, (uint64_t)(pgno - 1) * o->page_size)) !=
	    HF_OK)
		snprintf(why, why_len, "writing page %u of the database being rebuilt in %s failed",
			 pgno, o->dir);
	return rc;
}

int restore_apply(struct restore_out *o, struct seg_reader *sr, char *why, size_t why_len)
{
	const struct seg_hdr *h = &sr->h;
	uint64_t size = (uint64_t)h->db_pages * h->page_size;
	int rc;

	if (!o->have && h->kind != SEG_SNAPSHOT) {
		snprintf(why, why_len, "header field kind = %u: a segment, but no snapshot came first",
			 (unsigned)h->kind);
		return HF_ECORRUPT;
	}
	if (o->have && h->kind != SEG_FRAMES) {
		snprintf(why, why_len, "header field kind = %u: a second snapshot", (unsigned)h->kind);
		return HF_ECORRUPT;
	}
	if (o->have && h->page_size != o->page_size) {
		snprintf(why, why_len, "header field page_size = %u, the snapshot's is %u",
			 h->page_size, o->page_size);
		return HF_ECORRUPT;
	}
	/* The disk it takes, before a byte of it is written. */
	if (size > o->room) {
		snprintf(why, why_len, "header field db_pages = %u means a database of %llu bytes; "
			 "%s had %llu bytes free", h->db_pages, (unsigned long long)size, o->dir,
			 (unsigned long long)o->room);
		return HF_ENOSPC;
	}
	o->page_size = h->page_size;
	/* The pages go to the staging file before the file's SHA-256 is
	** checked (at its end, seg_read_body): a file that fails it leaves
	** only pages in a file restore_abort removes. */
	if ((rc = seg_read_body(sr, put_page, o, why, why_len)) != HF_OK)
		return rc;
	if ((rc = port_fs_truncate(o->fd, size)) != HF_OK) {
		snprintf(why, why_len, "cutting the database being rebuilt in %s failed", o->dir);
		return rc;
	}
	o->db_pages = h->db_pages;
	o->have = true;
	return HF_OK;
}

int restore_finish(struct restore_out *o)
{
	int rc = port_fs_sync(o->fd);

	port_close(o->fd);
	o->fd = -1;
	return rc;
}

void restore_abort(struct restore_out *o, const char *path)
{
	if (o->fd >= 0)
		port_close(o->fd);
	o->fd = -1;
	port_fs_unlink(path);
	remove_sidecars(path);
}
