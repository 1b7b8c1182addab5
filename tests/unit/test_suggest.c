/*
** test_suggest.c: "did you mean": the distance against hand-worked cases,
** the thresholds, and the rule that a tie offers nothing.
*/
#include "base/suggest.h"
#include "test.h"

TEST(suggest_distance)
{
	CHECK_INT(sug_distance("concurrency", "concurrency"), 0);
	CHECK_INT(sug_distance("Concurrency", "concurrency"), 0);     /* case folded */
	CHECK_INT(sug_distance("concurency", "concurrency"), 1);      /* deletion */
	CHECK_INT(sug_distance("concurrrency", "concurrency"), 1);    /* insertion */
	CHECK_INT(sug_distance("concurrenzy", "concurrency"), 1);     /* substitution */
	CHECK_INT(sug_distance("sumbit", "submit"), 1);               /* one swap, not two edits */
	CHECK_INT(sug_distance("ab", "ba"), 1);
	CHECK_INT(sug_distance("kill_graec", "kill_grace"), 1);
	CHECK_INT(sug_distance("sbumti", "submit"), 2);               /* two swaps */
	CHECK_INT(sug_distance("", "ab"), 2);
	CHECK_INT(sug_distance("ab", ""), 2);
	/* Past the threshold, all the same: "far". */
	CHECK_INT(sug_distance("retry", "retries"), SUG_MAX_DISTANCE + 1);  /* 3 edits */
	CHECK_INT(sug_distance("colour", "cwd"), SUG_MAX_DISTANCE + 1);
	CHECK_INT(sug_distance("a", "abcd"), SUG_MAX_DISTANCE + 1);
	/* Optimal string alignment, not full Damerau-Levenshtein: "ca" to "abc"
	** is 3 here (2 with unrestricted edits), a known property of OSA. */
	CHECK_INT(sug_distance("ca", "abc"), SUG_MAX_DISTANCE + 1);
	char longw[SUG_MAX_LEN + 2];
	memset(longw, 'a', sizeof(longw) - 1);
	longw[sizeof(longw) - 1] = '\0';
	CHECK_INT(sug_distance(longw, longw), SUG_MAX_DISTANCE + 1);  /* too long to compare */
	longw[SUG_MAX_LEN] = '\0';
	CHECK_INT(sug_distance(longw, longw), 0);                     /* the longest compared */
}

TEST(suggest_offers_one_close_name)
{
	static const char *const keys[] = { "concurrency", "kill_grace", "shutdown_grace",
					    "output_cap", "quarantine_after", NULL };
	static const char *const verbs[] = { "init", "submit", "ls", "show", "logs", "cancel",
					     "retry", "status", "run", "pipeline", NULL };

	CHECK_STR(sug_among("concurency", keys), "concurrency");
	CHECK_STR(sug_among("CONCURRENCY", keys), "concurrency");
	CHECK_STR(sug_among("outptu_cap", keys), "output_cap");
	CHECK_STR(sug_among("sumbit", verbs), "submit");
	CHECK_STR(sug_among("shwo", verbs), "show");
	CHECK_STR(sug_among("stauts", verbs), "status");
	CHECK_STR(sug_among("rn", verbs), "run");      /* 1 edit in 3 letters */
	/* Far off: nothing. */
	CHECK(sug_among("colour", keys) == NULL);
	CHECK(sug_among("frobnicate", verbs) == NULL);
	CHECK(sug_among("", verbs) == NULL);
	/* More than a third of the name: "ls" to "rm" is 2 edits in 2 letters. */
	CHECK(sug_among("rm", verbs) == NULL);
	CHECK(sug_among("lgs", verbs) == NULL);       /* "ls" and "logs": 1 each, a tie */
	/* A tie offers nothing; a closer one wins over it. */
	static const char *const tie[] = { "abcx", "abcy", NULL };
	CHECK(sug_among("abcz", tie) == NULL);
	static const char *const closer[] = { "abxy", "abcy", "xbzz", NULL };
	CHECK_STR(sug_among("abcz", closer), "abcy");
	/* The same name twice is no tie. */
	static const char *const twice[] = { "submit", "submit", NULL };
	CHECK_STR(sug_among("sumbit", twice), "submit");
}

TEST(suggest_incremental)
{
	struct sug s;

	sug_init(&s, "retires");
	CHECK(sug_best(&s) == NULL);                  /* no candidate yet */
	sug_add(&s, "name");
	CHECK(sug_best(&s) == NULL);
	sug_add(&s, "retries");
	CHECK_STR(sug_best(&s), "retries");
	sug_add(&s, "timeout");
	CHECK_STR(sug_best(&s), "retries");
	CHECK_INT(s.best_d, 1);
}
