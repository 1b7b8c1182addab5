/*
** jlog.h: the durable job log, an SQLite database in WAL mode.
**
** jlog.c is the only file that includes sqlite3.h. Every connection it opens
** is verified before use: journal_mode=WAL, synchronous=FULL (so a commit is
** on the device before it returns), wal_autocheckpoint=0 and no checkpoint on
** close (only the daemon checkpoints, after the WAL is shipped), and the
** holdfast application id. A database that cannot give all of these is
** refused with a message naming what is missing; we never run on less.
*/
#ifndef HF_JLOG_H
#define HF_JLOG_H

#include <stdbool.h>

struct sqlite3;

/* 'Hfjl' in the database header's application_id field. */
#define JLOG_APPLICATION_ID 0x48666a6c

struct jlog {
	struct sqlite3 *db;
};

/*
** Creates a new, empty job log at PATH (which must not exist) in WAL mode
** with synchronous=FULL, each read back and verified, and closes it. VFS
** names an SQLite VFS (NULL: the default); tests use it to take capabilities
** away.
*/
int jlog_create(const char *path, const char *vfs);

/* Opens an existing job log read-write and verifies it (see jlog_verify). */
int jlog_open(struct jlog *j, const char *path, const char *vfs);

/* Checks an open connection: WAL, FULL, no autocheckpoint, our application
** id. Logs what is wrong and returns HF_ENOTSUP or HF_ECORRUPT. */
int jlog_verify(struct jlog *j);

/* Closes J (idempotent on a zeroed or closed struct). */
void jlog_close(struct jlog *j);

/* "3.46.1" and SQLite's source id, for --version. */
const char *jlog_sqlite_version(void);
const char *jlog_sqlite_sourceid(void);

#endif /* HF_JLOG_H */
