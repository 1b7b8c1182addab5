/*
** jlog_json.c: JSON checks and lookups done by SQLite's own JSON functions
** (so parsing and quoting are SQLite's, one implementation for the whole
** program): validity, strict RFC 8259, types, text, keys, duplicate keys,
** NULs, string arrays.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/jlog_int.h"
#include "port.h"

int jlog_json_check(struct jlog *j, const char *text, int64_t *pos)
{
	static const char sql[] = "SELECT json_error_position(?1)";
	sqlite3_stmt *st = jlog_stmt(j, sql);
	int src;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	src = sqlite3_step(st);
	*pos = src == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return src == SQLITE_ROW ? HF_OK : jlog_sqlite_err(j->db, "json", src);
}

int jlog_json_type(struct jlog *j, const char *json, const char *path, char *type, size_t len)
{
	static const char sql[] = "SELECT json_type(?1, ?2)";
	sqlite3_stmt *st = jlog_stmt(j, sql);
	int src;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
	src = sqlite3_step(st);
	snprintf(type, len, "%s", src == SQLITE_ROW && jlog_col_text(st, 0) ? jlog_col_text(st, 0) : "");
	sqlite3_reset(st);
	return src == SQLITE_ROW ? HF_OK : jlog_sqlite_err(j->db, "json", src);
}

int jlog_json_text(struct jlog *j, const char *json, const char *path, char **out)
{
	static const char sql[] =
		"SELECT CASE json_type(?1, ?2) WHEN 'object' THEN json_extract(?1, ?2)"
		" WHEN 'array' THEN json_extract(?1, ?2) WHEN 'true' THEN 'true'"
		" WHEN 'false' THEN 'false' ELSE CAST(json_extract(?1, ?2) AS TEXT) END";
	sqlite3_stmt *st = jlog_stmt(j, sql);
	int src;

	if (!st)
		return HF_EBUG;
	*out = NULL;
	sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW && jlog_col_text(st, 0) && !(*out = strdup(jlog_col_text(st, 0)))) {
		sqlite3_reset(st);
		return HF_ENOMEM;
	}
	sqlite3_reset(st);
	return src == SQLITE_ROW ? HF_OK : jlog_sqlite_err(j->db, "json", src);
}

int jlog_json_keys(struct jlog *j, const char *json, const char *path,
		   int (*cb)(const char *key, void *arg), void *arg)
{
	static const char sql[] = "SELECT key FROM json_each(?1, ?2) ORDER BY id";
	sqlite3_stmt *st = jlog_stmt(j, sql);
	int src;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		/* Copy: CB may run other JSON statements. */
		char key[256];
		snprintf(key, sizeof(key), "%s", jlog_col_text(st, 0) ? jlog_col_text(st, 0) : "");
		if (cb(key, arg))
			break;
	}
	sqlite3_reset(st);
	return src == SQLITE_ROW || src == SQLITE_DONE ? HF_OK : jlog_sqlite_err(j->db, "json", src);
}

int jlog_json_strict(struct jlog *j, const char *text, bool *rfc8259)
{
	/* Since 3.45 json_valid(X) means json_valid(X, 1): RFC 8259 text only
	** (https://sqlite.org/json1.html#jvalid); 2 would admit JSON5. */
	static const char sql[] = "SELECT json_valid(?1, 1)";
	sqlite3_stmt *st = jlog_stmt(j, sql);
	int src;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	src = sqlite3_step(st);
	*rfc8259 = src == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
	sqlite3_reset(st);
	return src == SQLITE_ROW ? HF_OK : jlog_sqlite_err(j->db, "json", src);
}

/* Copies column I of ST (a json_tree path: escapes are kept as written, so
** it is printable) into BUF[LEN], or "" for none. */
static void col_path(sqlite3_stmt *st, int i, char *buf, size_t len)
{
	snprintf(buf, len, "%s", jlog_col_text(st, i) ? jlog_col_text(st, i) : "");
}

int jlog_json_dup_key(struct jlog *j, const char *text, char *path, size_t len)
{
	/* json_tree lists every member, duplicates included, each with its
	** container's id: two rows with one parent and one key are a
	** duplicate (array members' keys are their distinct indexes). All
	** rows of a group share their fullkey. */
	static const char sql[] =
		"SELECT fullkey FROM json_tree(?1) WHERE parent IS NOT NULL"
		" GROUP BY parent, key HAVING count(*) > 1 ORDER BY min(id) LIMIT 1";
	sqlite3_stmt *st = jlog_stmt(j, sql);
	int src;

	if (!st)
		return HF_EBUG;
	path[0] = '\0';
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	if ((src = sqlite3_step(st)) == SQLITE_ROW)
		col_path(st, 0, path, len);
	sqlite3_reset(st);
	return src == SQLITE_ROW || src == SQLITE_DONE ? HF_OK : jlog_sqlite_err(j->db, "json", src);
}

int jlog_json_nul(struct jlog *j, const char *text, char *path, size_t len, bool *in_key)
{
	/* As blobs, so instr() sees the bytes past a NUL. */
	static const char sql[] =
		"SELECT fullkey, instr(CAST(key AS BLOB), x'00') > 0 FROM json_tree(?1)"
		" WHERE instr(CAST(key AS BLOB), x'00') > 0"
		" OR (type = 'text' AND instr(CAST(atom AS BLOB), x'00') > 0)"
		" ORDER BY id LIMIT 1";
	sqlite3_stmt *st = jlog_stmt(j, sql);
	int src;

	if (!st)
		return HF_EBUG;
	path[0] = '\0';
	*in_key = false;
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	if ((src = sqlite3_step(st)) == SQLITE_ROW) {
		col_path(st, 0, path, len);
		*in_key = sqlite3_column_int(st, 1) != 0;
	}
	sqlite3_reset(st);
	return src == SQLITE_ROW || src == SQLITE_DONE ? HF_OK : jlog_sqlite_err(j->db, "json", src);
}

int jlog_json_array(struct jlog *j, char *const *v, int n, char **out)
{
	static const char sql[] = "SELECT json_insert(?1, '$[#]', ?2)";
	sqlite3_stmt *st = jlog_stmt(j, sql);
	char *acc;

	if (!st)
		return HF_EBUG;
	acc = strdup("[]");
	if (!acc)
		return HF_ENOMEM;
	for (int i = 0; i < n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, acc, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, v[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_ROW) {
			free(acc);
			sqlite3_reset(st);
			return jlog_sqlite_err(j->db, "json", SQLITE_ERROR);
		}
		free(acc);
		acc = strdup(jlog_col_text(st, 0));
		if (!acc) {
			sqlite3_reset(st);
			return HF_ENOMEM;
		}
	}
	sqlite3_reset(st);
	*out = acc;
	return HF_OK;
}

int jlog_json_strings(struct jlog *j, const char *json, char ***v, int *n)
{
	static const char sql[] =
		"SELECT count(*), sum(length(CAST(value AS BLOB)) + 1) FROM json_each(?1)";
	static const char sql_each[] = "SELECT value FROM json_each(?1) ORDER BY key";
	sqlite3_stmt *st = jlog_stmt(j, sql);
	int64_t count, bytes;
	char **vec, *p;
	int i = 0, src;

	if (!st)
		return HF_EBUG;
	sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
	if ((src = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		return jlog_sqlite_err(j->db, "json", src);
	}
	count = sqlite3_column_int64(st, 0);
	bytes = jlog_col_int_or(st, 1, 0);
	sqlite3_reset(st);
	vec = malloc((size_t)(count + 1) * sizeof(char *) + (size_t)bytes);
	if (!vec)
		return HF_ENOMEM;
	p = (char *)(vec + count + 1);
	if (!(st = jlog_stmt(j, sql_each))) {
		free(vec);
		return HF_EBUG;
	}
	sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
	while ((src = sqlite3_step(st)) == SQLITE_ROW && i < count) {
		int len = sqlite3_column_bytes(st, 0);
		memcpy(p, sqlite3_column_text(st, 0), (size_t)len + 1);
		vec[i++] = p;
		p += len + 1;
	}
	sqlite3_reset(st);
	vec[i] = NULL;
	*v = vec;
	*n = i;
	return HF_OK;
}

int jlog_json_quote(struct jlog *j, const char *text, char **out)
{
	static const char sql[] = "SELECT json_quote(?1)";
	sqlite3_stmt *st = jlog_stmt(j, sql);
	int src;

	if (!st)
		return HF_EBUG;
	*out = NULL;
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	if ((src = sqlite3_step(st)) == SQLITE_ROW && !(*out = strdup(jlog_col_text(st, 0))))
		src = SQLITE_NOMEM;
	sqlite3_reset(st);
	return src == SQLITE_ROW ? HF_OK : jlog_sqlite_err(j->db, "json", src);
}
