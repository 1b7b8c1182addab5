/*
** jlog_int.h: what the job log's files share and nobody else sees.
**
** The job log is one module in several files (jlog.c opens, verifies and
** holds transactions; jlog_schema.c makes and migrates the schema; the
** others each keep one kind of row). Only they include this header, and only
** they include sqlite3.h (tools/checksrc keeps both). Every statement they
** share goes through the helpers below, so an SQLite error is logged once,
** with SQLite's own message, and mapped to an HF_ code the same way
** everywhere.
*/
#ifndef HF_JLOG_INT_H
#define HF_JLOG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log/jlog.h"
#include "sqlite3.h"

/* How long a CLI verb waits for the daemon's write transaction. */
#define JLOG_BUSY_TIMEOUT_MS 5000

/* A job that waits for a time after its submit (jobs_wake's condition,
** schema version 9; the scheduler's timer asks the same). */
#define JLOG_DELAYED "(ready_boot != submit_boot OR ready_mono_ms > submit_mono_ms)"
/* A parked job (of table jobs) waits for a topic whose message is there. */
#define JLOG_PARK_MESSAGE \
	"EXISTS (SELECT 1 FROM parks p JOIN messages m ON m.topic = p.topic WHERE p.job = jobs.id)"

/* jlog.c: connections and plain SQL. */
int jlog_sqlite_err(struct sqlite3 *db, const char *what, int src);
int jlog_query_text(struct sqlite3 *db, const char *sql, char *out, size_t outlen);
int jlog_db_exec(struct sqlite3 *db, const char *sql);
int jlog_open_db(const char *path, const char *vfs, int flags, struct sqlite3 **out);
int jlog_configure(struct sqlite3 *db);
int jlog_verify_db(struct sqlite3 *db);
void jlog_say_newer(long version);

/* jlog.c: cached statements and their bindings. */
sqlite3_stmt *jlog_stmt(struct jlog *j, const char *sql);
int jlog_step_done(struct jlog *j, sqlite3_stmt *st);
void jlog_bind_utc(sqlite3_stmt *st, int i, int64_t utc_ms);
const char *jlog_col_text(sqlite3_stmt *st, int i);
int64_t jlog_col_int_or(sqlite3_stmt *st, int i, int64_t dflt);

/*
** A value bound to a statement's parameter by jlog_exec and jlog_query: the
** Nth of ARGS goes to ?N+1. JV_TEXT of NULL and JV_UTC below 0 (an untrusted
** wall clock) bind SQL NULL, as JV_NULL does.
*/
enum jlog_val_type { JV_NULL, JV_INT, JV_TEXT, JV_UTC, JV_BLOB };

struct jlog_val {
	enum jlog_val_type type;
	int64_t i;                 /* JV_INT, JV_UTC */
	const void *p;             /* JV_TEXT, JV_BLOB */
	size_t len;                /* JV_BLOB */
};

#define JV_I(x)      { .type = JV_INT, .i = (int64_t)(x) }
#define JV_T(s)      { .type = JV_TEXT, .p = (s) }
#define JV_U(ms)     { .type = JV_UTC, .i = (ms) }
#define JV_B(d, n)   { .type = JV_BLOB, .p = (d), .len = (n) }
/* X if C, else NULL. */
#define JV_I_IF(c, x) { .type = (c) ? JV_INT : JV_NULL, .i = (int64_t)(x) }
#define JV_U_IF(c, ms) { .type = (c) ? JV_UTC : JV_NULL, .i = (ms) }
/* ARGS and their count, for jlog_exec and jlog_query: JV_ARGS(JV_I(id), ...). */
#define JV_ARGS(...) (const struct jlog_val[]){ __VA_ARGS__ }, \
	(int)(sizeof((const struct jlog_val[]){ __VA_ARGS__ }) / sizeof(struct jlog_val))

/* What a jlog_query row callback returns to stop after its row (HF_OK). */
#define JLOG_STOP 1

int jlog_exec(struct jlog *j, const char *sql, const struct jlog_val *args, int nargs);
int jlog_query(struct jlog *j, const char *sql, const struct jlog_val *args, int nargs,
	       const char *what, int (*row)(sqlite3_stmt *st, void *arg), void *arg);
int jlog_query_int(struct jlog *j, const char *sql, const struct jlog_val *args, int nargs,
		   const char *what, int64_t *v, bool *found);

/* jlog.c: transactions. */
void jlog_unpin(struct jlog *j);
void jlog_leave_turnstile(struct jlog *j);

/* jlog_schema.c */
int jlog_migrate(struct jlog *j, long target);
int jlog_to_incremental(struct jlog *j);

/* jlog_jobs.c: state changes that an attempt's end makes too. */
int jlog_kill_dependents(struct jlog *j, int64_t job, const char *reason,
			 const struct jlog_now *now);
int jlog_set_state(struct jlog *j, int64_t id, const char *state, const char *reason,
		   const struct jlog_now *now);

#endif
