/*
** names.h: sorted lists of file names.
*/
#ifndef HF_NAMES_H
#define HF_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* The names in DIR, sorted: only those WANT_LEN long (0: any) and ending in
** SUFFIX (NULL: any), never dot files. HF_ENOENT if DIR is missing; on any
** error the list is empty. Free v. */
struct names {
	char (*v)[80];
	size_t n, cap;
	size_t want_len;
	const char *suffix;
};
int names_list(const char *dir, size_t want_len, const char *suffix, struct names *l);
/* Makes L an empty list with those filters (for a listing of one's own). */
void names_init(struct names *l, size_t want_len, const char *suffix);
/* Adds NAME to L if it passes L's filters; sorts L. */
int names_add(struct names *l, const char *name);
void names_sort(struct names *l);

/* Whether S is 1 to MAX bytes of letters, digits, '_', '-' and '.' only. */
bool names_charset(const char *s, size_t max);

/* Whether S can name a job, group or pipeline: 1 to NAMES_MAX letters,
** digits, '_', '-' or '.', not starting with a digit (so "12" is an id). */
#define NAMES_MAX 128
bool names_valid(const char *s);

#endif /* HF_NAMES_H */
