/*
** loglimit.c: the log's rate limit (see loglimit.h).
*/
#include <stdio.h>
#include <string.h>

#include "loglimit.h"

void loglimit_init(struct loglimit *l, unsigned burst, uint64_t interval_ms)
{
	memset(l, 0, sizeof(*l));
	l->burst = burst;
	l->interval_ms = interval_ms;
}

static uint32_t hash_text(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h ? h : 1; /* 0 marks a free slot */
}

/* Says SL's drops in NOTE and frees SL. */
static void summarise(struct loglimit_slot *sl, char *note, size_t cap, int *note_level)
{
	size_t n = strlen(sl->text);

	snprintf(note, cap, "suppressed %u repeat(s) of: %s%s", sl->dropped, sl->text,
		 n == LOGLIMIT_TEXT - 1 ? "..." : "");
	*note_level = sl->level;
	memset(sl, 0, sizeof(*sl));
}

static bool ended(const struct loglimit *l, const struct loglimit_slot *sl, uint64_t now_ms)
{
	return now_ms - sl->start_ms >= l->interval_ms;
}

bool loglimit_allow(struct loglimit *l, const char *line, int level, uint64_t now_ms, char *note,
		    size_t cap, int *note_level)
{
	uint32_t h = hash_text(line);
	struct loglimit_slot *sl = NULL, *oldest = &l->slot[0];

	note[0] = '\0';
	if (!l->burst)
		return true;
	for (unsigned i = 0; i < LOGLIMIT_SLOTS; i++) {
		struct loglimit_slot *s = &l->slot[i];

		if (s->hash == h && !strncmp(s->text, line, LOGLIMIT_TEXT - 1)) {
			sl = s;
			break;
		}
		if (!s->hash ? oldest->hash : oldest->hash && s->start_ms < oldest->start_ms)
			oldest = s;
	}
	if (sl && ended(l, sl, now_ms)) {
		if (sl->dropped)
			summarise(sl, note, cap, note_level);
		else
			memset(sl, 0, sizeof(*sl));
	}
	if (!sl || !sl->hash) {
		if (!sl) {
			sl = oldest;
			if (sl->hash && sl->dropped)
				summarise(sl, note, cap, note_level);
		}
		memset(sl, 0, sizeof(*sl));
		sl->hash = h;
		sl->start_ms = now_ms;
		snprintf(sl->text, sizeof(sl->text), "%s", line);
	}
	sl->level = level;
	if (++sl->count <= l->burst)
		return true;
	sl->dropped++;
	return false;
}

bool loglimit_flush(struct loglimit *l, uint64_t now_ms, char *note, size_t cap, int *note_level)
{
	for (unsigned i = 0; i < LOGLIMIT_SLOTS; i++) {
		struct loglimit_slot *s = &l->slot[i];

		if (s->hash && s->dropped && ended(l, s, now_ms)) {
			summarise(s, note, cap, note_level);
			return true;
		}
	}
	return false;
}
