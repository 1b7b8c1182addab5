/*
** names.c: sorted lists of file names (see names.h), for the spool, the
** replica's listings and restore; and what a job, group or pipeline may
** be called.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/names.h"
#include "port.h"

int names_add(struct names *l, const char *name)
{
	size_t n = strlen(name), sl = l->suffix ? strlen(l->suffix) : 0;

	if (n >= sizeof(*l->v) || (l->want_len && n != l->want_len) || name[0] == '.' ||
	    (sl && (n < sl || strcmp(name + n - sl, l->suffix) != 0)))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		char(*v)[80] = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return HF_ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	snprintf(l->v[l->n++], sizeof(*l->v), "%s", name);
	return 0;
}

static int list_add(void *arg, const char *name)
{
	return names_add(arg, name);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

void names_sort(struct names *l)
{
	/* An empty list has no array (v == NULL), which qsort must not see
	** even for zero elements (C11 7.22.5). */
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), cmp_names);
}

void names_init(struct names *l, size_t want_len, const char *suffix)
{
	memset(l, 0, sizeof(*l));
	l->want_len = want_len;
	l->suffix = suffix;
}

int names_list(const char *dir, size_t want_len, const char *suffix, struct names *l)
{
	int rc;

	names_init(l, want_len, suffix);
	rc = port_fs_list(dir, list_add, l);
	if (rc == HF_OK) {
		names_sort(l);
	} else {
		/* A listing cut short is no listing: nothing half-read is handed on. */
		free(l->v);
		names_init(l, want_len, suffix);
	}
	return rc;
}

bool names_charset(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
			return false;
	return true;
}

bool names_valid(const char *s)
{
	return names_charset(s, NAMES_MAX) && !(s[0] >= '0' && s[0] <= '9');
}
