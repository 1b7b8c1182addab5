/*
** restore.h: applying snapshots and segments from a replica to a database
** file being rebuilt (the core of `holdfast restore`, kept apart from the
** command so that a fuzzer can drive it from a buffer).
**
** A replica is input from outside the device (a USB stick, a bucket others
** can write): every file's header is checked by seg_open before a byte of
** its body is decompressed, the body is streamed one page at a time, and
** pages go straight to the output file with pwrite; the file's SHA-256 is
** checked at its end, and the output is removed if it fails. Memory is an
** input buffer, the zstd window (at most 8 MiB, seg.c), one page (and one
** envelope chunk, rcrypt.c); never the file, never db_pages x page_size. Disk is the database's own size, checked against the free
** space before the file grows.
*/
#ifndef HF_RESTORE_H
#define HF_RESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fmt/seg.h"

struct restore_out {
	int fd;
	char dir[1024];            /* the output's directory, for its free space */
	uint32_t page_size;        /* set by the snapshot */
	uint32_t db_pages;         /* the size the last file applied left */
	uint64_t room;             /* free space when the staging file was made */
	bool have;                 /* a snapshot was applied */
};

/* Creates (or empties) PATH, the staging file, mode 0600, and notes the
** free space there: the database restored must fit in it. */
int restore_begin(struct restore_out *o, const char *path);

/*
** Applies the file SR reads, whose header seg_open passed (and whose place
** in the history the caller checked): the snapshot first, then segments in order.
** Checks page 1 is SQLite's ("SQLite format 3" and the same page size),
** that the database fits in the free space, then writes each page and cuts
** the file to db_pages. On failure WHY names the field; the file is then
** only fit for restore_abort.
*/
int restore_apply(struct restore_out *o, struct seg_reader *sr, char *why, size_t why_len);

/* fsync and close: the staged file is complete. */
int restore_finish(struct restore_out *o);

/* Closes (if open) and removes PATH. */
void restore_abort(struct restore_out *o, const char *path);

/*
** S (N bytes) made safe for a terminal and a log line, into OUT: bytes
** outside printable ASCII and the backslash as \xNN, so that a name or a
** field from a replica can carry no escape sequence and forge no line.
** Always NUL-terminated; cut (never mid-escape) if CAP is too small.
*/
void restore_escape(const char *s, size_t n, char *out, size_t cap);

#endif /* HF_RESTORE_H */
