/*
** cron.h: 5-field cron expressions ("minute hour day-of-month month
** day-of-week"), evaluated in UTC. Pure: no clock is read here.
**
** Each field: "*", a number, a range "a-b", a step "*\/n" or "a-b/n", or a
** comma list of those. Day of week 0-7 (0 and 7 are Sunday). As in Vixie
** cron, when both day fields are restricted a day matching either counts.
*/
#ifndef HF_CRON_H
#define HF_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cron {
	uint64_t minute;   /* bit m: minute m (0-59) */
	uint32_t hour;     /* bit h (0-23) */
	uint32_t dom;      /* bit d (1-31) */
	uint16_t month;    /* bit m (1-12) */
	uint8_t dow;       /* bit d (0-6, Sunday 0) */
	bool dom_any, dow_any;
};

/* Parses EXPR; on error HF_EINVAL with a message in ERR[ERRLEN]. */
int cron_parse(const char *expr, struct cron *c, char *err, size_t errlen);

/* The first matching minute strictly after T_S (seconds since the epoch,
** UTC), in seconds; -1 if none within five years (e.g. "0 0 31 2 *"). */
int64_t cron_next(const struct cron *c, int64_t t_s);

#endif /* HF_CRON_H */
