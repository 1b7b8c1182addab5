/*
** loglimit.h: the log's rate limit, pure (time is an argument) so that the
** unit tests drive it with a clock of their own. port/linux/log.c keeps one
** for the process.
**
** A message is its text: at most BURST lines of one text are logged per
** window of INTERVAL_MS, which starts at its first line; the rest of the
** window's lines are dropped and counted, and once the window has ended one
** line says how many were ("suppressed K repeats of: TEXT"), before the
** text's next line or at a flush. The same idea as the kernel's printk
** ratelimit and journald's RateLimitBurst, but per message, so that one
** noisy failure cannot hide the others. LOGLIMIT_SLOTS texts are followed
** at once; a new one takes the slot whose window started longest ago, and
** that slot's count of drops is said first.
*/
#ifndef HF_LOGLIMIT_H
#define HF_LOGLIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOGLIMIT_SLOTS 16
#define LOGLIMIT_TEXT 96        /* of a text, kept for the summary line */

struct loglimit_slot {
	uint32_t hash;           /* of the whole text (FNV-1a); 0: free */
	uint64_t start_ms;       /* its window's start */
	unsigned count;          /* lines in the window, logged or not */
	unsigned dropped;        /* of which dropped */
	int level;               /* the last line's, for the summary */
	char text[LOGLIMIT_TEXT];
};

struct loglimit {
	unsigned burst;          /* 0: no limit */
	uint64_t interval_ms;
	struct loglimit_slot slot[LOGLIMIT_SLOTS];
};

/* BURST lines of a text per INTERVAL_MS; BURST 0: every line (cannot fail). */
void loglimit_init(struct loglimit *l, unsigned burst, uint64_t interval_ms);

/*
** Whether LINE (at LEVEL) may be logged at NOW_MS. If NOTE[CAP] is not
** empty on return, it is a summary to log first, at *NOTE_LEVEL: the drops
** of LINE's own ended window, or of the slot LINE takes over.
*/
bool loglimit_allow(struct loglimit *l, const char *line, int level, uint64_t now_ms, char *note,
		    size_t cap, int *note_level);

/* The summary of one slot whose window has ended with drops (the slot is
** then free): true with NOTE and *NOTE_LEVEL, false when there is none. */
bool loglimit_flush(struct loglimit *l, uint64_t now_ms, char *note, size_t cap, int *note_level);

#endif /* HF_LOGLIMIT_H */
