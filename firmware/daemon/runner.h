/*
** runner.h: the daemon (`holdfast run`): one event loop, one write
** connection to the job log; slow work (the log's check after an unclean
** stop, uploads) beside it on threads that report through a pipe.
**
** firmware/daemon/: the runner and what it alone uses (metrics, the service
** manager, the full-disk state); on ship/ and below.
*/
#ifndef HF_RUNNER_H
#define HF_RUNNER_H

#include <stdbool.h>

struct runner_opts {
	const char *dir;            /* the data directory */
	const char *conf;           /* its config (dd_conf_path) */
	bool no_group_commit;       /* bench only: one commit per state change */
	bool exit_when_idle;        /* stop once nothing is queued, waiting or running */
	const char *pidfile;        /* written once started, removed at exit; or NULL */
};

/* The daemon's log: at most RUN_LOG_BURST lines of one text per
** RUN_LOG_INTERVAL_MS (port_log_ratelimit). */
#define RUN_LOG_BURST 10
#define RUN_LOG_INTERVAL_MS 60000

/* Runs until SIGTERM/SIGINT (or idle, with exit_when_idle); HF_OK on a
** clean stop. */
int runner_run(const struct runner_opts *o);

/*
** The environment a job gets (README "Jobs: environment and privileges"):
**   1. the daemon's own, less every variable cfg_env_is_secret names (the
**      AWS keys always, [jobs] secret_env too; CFG may be NULL);
**   2. when the job runs as another user (USER not NULL): HOME (HOME),
**      USER and LOGNAME of that user, over the daemon's;
**   3. the job's own K=V entries over both;
**   4. HOLDFAST_JOB_ID, HOLDFAST_ATTEMPT and DATA (the daemon's
**      "HOLDFAST_JOB_DATA=DIR", for `holdfast step`; NULL: none) over
**      everything (set only by us).
** A NULL-terminated heap vector (one free() for all), or NULL if out of
** memory.
*/
struct cfg;
char **runner_job_env(char *const *base, const struct cfg *cfg, const char *user,
		      const char *home, char *const *job_env, int njob_env, const char *data,
		      long long id, long long attempt);

#endif /* HF_RUNNER_H */
