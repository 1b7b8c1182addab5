/*
** suggest.c: "did you mean" (see suggest.h).
**
** The distance is the textbook dynamic programme over three rows (the
** transposition looks two rows back), with the names' lengths capped so the
** rows live on the stack (64 x 64 cells at most: no need to stop early).
** Names whose lengths differ by more than the threshold cannot be close and
** are not compared at all.
*/
#include <string.h>

#include "base/suggest.h"

static unsigned char fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static unsigned min3(unsigned a, unsigned b, unsigned c)
{
	unsigned m = a < b ? a : b;
	return m < c ? m : c;
}

unsigned sug_distance(const char *a, const char *b)
{
	unsigned rows[3][SUG_MAX_LEN + 1], *pp, *p, *cur;
	size_t la = strlen(a), lb = strlen(b);

	if (la > SUG_MAX_LEN || lb > SUG_MAX_LEN ||
	    (la > lb ? la - lb : lb - la) > SUG_MAX_DISTANCE)
		return SUG_MAX_DISTANCE + 1;
	pp = rows[0];
	p = rows[1];
	cur = rows[2];
	for (size_t j = 0; j <= lb; j++)
		p[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned char ca = fold((unsigned char)a[i - 1]);

		cur[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned char cb = fold((unsigned char)b[j - 1]);
			unsigned d = min3(p[j] + 1, cur[j - 1] + 1, p[j - 1] + (ca != cb));

			if (i > 1 && j > 1 && ca == fold((unsigned char)b[j - 2]) &&
			    fold((unsigned char)a[i - 2]) == cb && pp[j - 2] + 1 < d)
				d = pp[j - 2] + 1;
			cur[j] = d;
		}
		unsigned *t = pp;
		pp = p;
		p = cur;
		cur = t;
	}
	return p[lb] > SUG_MAX_DISTANCE ? SUG_MAX_DISTANCE + 1 : p[lb];
}

void sug_init(struct sug *s, const char *word)
{
	memset(s, 0, sizeof(*s));
	s->word = word;
	s->best_d = SUG_MAX_DISTANCE + 1;
}

void sug_add(struct sug *s, const char *cand)
{
	size_t lw = strlen(s->word), lc = strlen(cand);
	unsigned d = sug_distance(s->word, cand);

	/* A third of the longer name: one slip in "ls" would be a different
	** word altogether, one in "concurrency" is a typo. */
	if (d > SUG_MAX_DISTANCE || (size_t)d * 3 > (lw > lc ? lw : lc))
		return;
	if (d < s->best_d) {
		s->best = cand;
		s->best_d = d;
		s->tie = false;
	} else if (d == s->best_d && strcmp(s->best, cand) != 0) {
		s->tie = true;
	}
}

const char *sug_best(const struct sug *s)
{
	return s->tie ? NULL : s->best;
}

const char *sug_among(const char *word, const char *const *cands)
{
	struct sug s;

	sug_init(&s, word);
	for (; *cands; cands++)
		sug_add(&s, *cands);
	return sug_best(&s);
}
