/*
** recover.h: what the daemon does at every start, before it runs anything:
** power-loss recovery.
*/
#ifndef HF_RECOVER_H
#define HF_RECOVER_H

#include <stdbool.h>
#include <stdint.h>

#include "log/jlog.h"

struct recover_stats {
	bool unclean;              /* the last daemon run did not stop cleanly */
	int64_t power_loss;        /* attempts ended: another boot */
	int64_t daemon_crash;      /* attempts ended: same boot */
	int64_t killed;            /* orphaned process groups killed */
	int64_t quarantined;       /* jobs parked after too many unclean stops */
};

/*
** Records this daemon run and settles what the last one left:
**   - whether it stopped cleanly (st->unclean): if not, the caller checks
**     the log (runner.c: beside its loop, so a big log does not hold back
**     the first job); a page found corrupt on the way is HF_ECORRUPT;
**   - attempts left open end as power-loss (another boot) or daemon-crash
**     (this boot: the orphaned process group is killed, leader or not,
**     unless the pid or group now belongs to a stranger); their end time is
**     left unknown unless we ended them now;
**   - a job whose attempts ended uncleanly QUARANTINE_AFTER times in a row is
**     quarantined until `holdfast retry`; the others are queued again without
**     spending a retry (the cut was not their fault).
** *RUN is the new daemon run's id, for recover_clean_stop.
*/
int recover_start(struct jlog *j, const struct jlog_now *now, int64_t quarantine_after,
		  int64_t *run, struct recover_stats *st);

/* Marks daemon run RUN as stopped cleanly. */
int recover_clean_stop(struct jlog *j, int64_t run, const struct jlog_now *now);

#endif /* HF_RECOVER_H */
