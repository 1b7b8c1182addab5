/*
** crash_trace.h: the record format of the crash model's trace, shared by the
** recorder (port/sim/db.c, inside the sim holdfast) and the replayer
** (tests/crash/crashsim.c). Host byte order: a trace is replayed on the
** machine that recorded it, and never kept.
**
** A trace is a sequence of records appended with O_APPEND, one write(2) each,
** so records of concurrent processes interleave whole. A process records a
** change while it still holds SQLite's lock on the file (or owns the file
** outright), so the order of records of one file is the order of its changes.
*/
#ifndef HF_CRASH_TRACE_H
#define HF_CRASH_TRACE_H

#include <stdint.h>

#define CRASH_MAGIC 0x48464352u /* "HFCR" */

enum crash_op {
	CRASH_WRITE = 'W',    /* path, off, data */
	CRASH_TRUNCATE = 'T', /* path, off = new size */
	CRASH_SYNC = 'S',     /* path: fsync of a file; failed = the fsync failed */
	CRASH_DIRSYNC = 'D',  /* path: fsync of a directory */
	CRASH_CREATE = 'C',   /* path: a new empty file */
	CRASH_RENAME = 'R',   /* path -> data (the new path) */
	CRASH_UNLINK = 'U',   /* path */
	CRASH_MKDIR = 'M',    /* path */
	CRASH_RMDIR = 'X',    /* path */
	CRASH_ACK = 'A',      /* data: what a client was told (a job id) */
};

struct crash_rec {
	uint32_t magic;
	uint8_t op;        /* enum crash_op */
	uint8_t failed;    /* CRASH_SYNC only */
	uint16_t pad;
	uint32_t pid;
	uint32_t path_len; /* bytes of path after the header, relative to the root */
	uint32_t data_len; /* bytes of data after the path */
	uint32_t pad2;
	uint64_t off;
};

#endif /* HF_CRASH_TRACE_H */
