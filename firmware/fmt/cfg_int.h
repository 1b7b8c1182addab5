/*
** cfg_int.h: the key table of holdfast.conf, shared by the parser (cfg.c)
** and the commented default file (cfg_keys.c, which holds the table).
**
** One entry per key says everything about it: its section, where it lives
** in struct cfg, how its value is read and bounded, its default, what a bad
** value is told it should be, and its lines in the default file. cfg_init
** sets each default by parsing it, so the file cannot show one default and
** the daemon use another.
*/
#ifndef HF_CFG_INT_H
#define HF_CFG_INT_H

#include <stddef.h>
#include <stdint.h>

#include "fmt/cfg.h"

/* How a value is read (cfg.c, set_key). */
enum cfg_type {
	CFG_T_UINT,     /* unsigned: a whole number in [lo, hi] */
	CFG_T_INT64,    /* int64_t: the same */
	CFG_T_DURATION, /* uint64_t ms: a duration (250ms, 5m) in [lo, hi] */
	CFG_T_SIZE,     /* uint64_t bytes: a size (64KiB, 10MB) in [lo, hi] */
	CFG_T_TEXT,     /* char[size]: checked by its rule (CFG_R_*) */
	CFG_T_CHOICE,   /* bool or int: the value's index among choices */
	CFG_T_OCTAL,    /* unsigned: an octal mode, at most hi */
	CFG_T_WINDOW,   /* window_start, window_end: HH:MM-HH:MM */
	CFG_T_LIMIT     /* limit[rule], limit_set[rule] (cfg_parse_limit) */
};

/* What a CFG_T_TEXT value must be. */
enum cfg_rule {
	CFG_R_ANY,       /* anything that fits */
	CFG_R_NONEMPTY,  /* anything that fits but "" */
	CFG_R_USER,      /* a user in the password database */
	CFG_R_ENV_NAMES, /* NAME or NAME* environment names, space-separated */
	CFG_R_URL,       /* file:///DIR or s3://BUCKET[/PREFIX] */
	CFG_R_ENDPOINT,  /* https://HOST[:PORT] (or http:// for tests) */
	CFG_R_KEY,       /* an S3 key: not empty, no blanks */
	CFG_R_PIN,       /* sha256// and 44 base64 characters */
	CFG_R_LINKS,     /* link names and glob patterns, space-separated */
	CFG_R_PATH,      /* an absolute path */
	CFG_R_NAME       /* names_valid: letters, digits, '.', '_', '-' */
};

/* Flags of a key. */
#define CFG_F_EXAMPLE 0x01 /* shown is an example; the default is unset */
#define CFG_F_HIDDEN  0x02 /* no line of its own in the default file */
#define CFG_F_ZERO    0x04 /* "0" (a duration) or 0 (a size) means off */
#define CFG_F_AUTO    0x08 /* "auto" means 0: derived later */

struct cfg_key {
	const char *sect;    /* its section, without brackets */
	const char *name;
	enum cfg_type type;
	int rule;            /* CFG_R_* for text; CFG_LIMIT_* for limits */
	unsigned flags;      /* CFG_F_* */
	size_t off, size;    /* its field in struct cfg */
	uint64_t lo, hi;     /* bounds of a number, duration or size */
	const char *choices; /* CFG_T_CHOICE: the values, "|"-separated */
	const char *shown;   /* the value in the default file: the default,
			      * or with CFG_F_EXAMPLE an example */
	const char *why;     /* what a bad value is told to be */
	const char *doc;     /* the comment after it; "\n" breaks a line, and
			      * a leading one leaves the key's line bare */
};

/* The keys, in the default file's order; the last has no name. */
extern const struct cfg_key cfg_keys[];

/* The sections, in the default file's order: the text under each header
** before its keys (intro) and after them (outro). [groups] has no keys:
** any group name is one. */
struct cfg_section {
	const char *name;
	const char *intro, *outro;
};
#define CFG_NSECTIONS 5
extern const struct cfg_section cfg_sections[CFG_NSECTIONS];

#endif /* HF_CFG_INT_H */
