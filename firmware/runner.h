/*
** runner.h: the daemon (`holdfast run`): one thread, one event loop, one
** write connection to the job log.
*/
#ifndef HF_RUNNER_H
#define HF_RUNNER_H

#include <stdbool.h>

struct runner_opts {
	const char *dir;            /* the data directory */
	bool no_group_commit;       /* bench only: one commit per state change */
	bool exit_when_idle;        /* stop once nothing is queued, waiting or running */
};

/* Runs until SIGTERM/SIGINT (or idle, with exit_when_idle); HF_OK on a
** clean stop. */
int runner_run(const struct runner_opts *o);

/* The environment a job gets: ours, then the job's own K=V entries over
** it, then HOLDFAST_JOB_ID and HOLDFAST_ATTEMPT over both (set only by us).
** A NULL-terminated heap vector (one free() for all), or NULL if out of
** memory. */
char **runner_job_env(char *const *base, char *const *job_env, int njob_env, long long id,
		      long long attempt);

#endif /* HF_RUNNER_H */
