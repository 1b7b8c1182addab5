/*
** suggest.h: "did you mean" for near misses of a known name: config keys and
** sections, pipeline JSON keys, command-line verbs and options.
**
** Closeness is the optimal string alignment distance (Damerau-Levenshtein
** without re-editing a transposed pair: one insertion, deletion,
** substitution or swap of two neighbours each costs 1), ASCII case folded.
** A candidate is offered only if it is at most SUG_MAX_DISTANCE away and the
** distance is at most a third of the longer name's length (so "ls" is not a
** typo of "rm"), and only if no other candidate is as close: a guess between
** two names helps nobody. The word and candidates are fed one at a time, so
** any table (strings, structs) can be the source:
**
**	struct sug s;
**	sug_init(&s, word);
**	for (...) sug_add(&s, name);
**	if (sug_best(&s)) ... "(did you mean '%s'?)"
*/
#ifndef HF_SUGGEST_H
#define HF_SUGGEST_H

#include <stdbool.h>
#include <stddef.h>

#define SUG_MAX_DISTANCE 2
/* Longer names are not compared (no typo of ours is that long), which also
** bounds the work to a small table on the stack. */
#define SUG_MAX_LEN 64

struct sug {
	const char *word;
	const char *best;    /* closest candidate so far */
	unsigned best_d;     /* its distance */
	bool tie;            /* another candidate is as close */
};

/* The OSA distance between A and B (case folded), or SUG_MAX_DISTANCE + 1
** if it is larger or either is longer than SUG_MAX_LEN. */
unsigned sug_distance(const char *a, const char *b);

void sug_init(struct sug *s, const char *word);
/* Considers CAND (kept by pointer: it must outlive S). */
void sug_add(struct sug *s, const char *cand);
/* The one candidate worth offering, or NULL. */
const char *sug_best(const struct sug *s);

/* sug_best among the NULL-terminated CANDS. */
const char *sug_among(const char *word, const char *const *cands);

#endif /* HF_SUGGEST_H */
