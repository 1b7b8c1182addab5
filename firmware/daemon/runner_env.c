/*
** runner_env.c: the environment a job gets (runner.h, runner_job_env).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/runner.h"
#include "fmt/cfg.h"

/* Whether environment entry KV is one of the variables the daemon sets. */
static bool is_ours(const char *kv)
{
	return !strncmp(kv, "HOLDFAST_JOB_ID=", 16) || !strncmp(kv, "HOLDFAST_ATTEMPT=", 17) ||
	       !strncmp(kv, "HOLDFAST_JOB_DATA=", 18);
}

/* Whether entry KV sets the variable NAME of entry (or name) OTHER. */
static bool same_name(const char *kv, const char *other)
{
	size_t n = strcspn(kv, "=");

	return !strncmp(kv, other, n) && (other[n] == '=' || other[n] == '\0');
}

/* Whether KV is one of the variables that name the user (set anew when the
** job runs as another). */
static bool is_user_var(const char *kv)
{
	return same_name(kv, "HOME") || same_name(kv, "USER") || same_name(kv, "LOGNAME");
}

char **runner_job_env(char *const *base, const struct cfg *cfg, const char *user,
		      const char *home, char *const *job_env, int njob_env, const char *data,
		      long long id, long long attempt)
{
	size_t nbase = 0, bytes = 0, k = 0, nextra = 0;
	char **v, *p;
	char extra[5][320];

	if (user) {
		snprintf(extra[nextra++], sizeof(extra[0]), "HOME=%s", home ? home : "/");
		snprintf(extra[nextra++], sizeof(extra[0]), "USER=%s", user);
		snprintf(extra[nextra++], sizeof(extra[0]), "LOGNAME=%s", user);
	}
	snprintf(extra[nextra++], sizeof(extra[0]), "HOLDFAST_JOB_ID=%lld", id);
	snprintf(extra[nextra++], sizeof(extra[0]), "HOLDFAST_ATTEMPT=%lld", attempt);
	for (; base && base[nbase]; nbase++)
		bytes += strlen(base[nbase]) + 1;
	for (int i = 0; i < njob_env; i++)
		bytes += strlen(job_env[i]) + 1;
	for (size_t i = 0; i < nextra; i++)
		bytes += strlen(extra[i]) + 1;
	if (data)
		bytes += strlen(data) + 1;
	v = malloc((nbase + (size_t)njob_env + nextra + 2) * sizeof(char *) + bytes);
	if (!v)
		return NULL;
	p = (char *)(v + nbase + (size_t)njob_env + nextra + 2);

#define ADD(s) do { size_t l_ = strlen(s) + 1; memcpy(p, (s), l_); v[k++] = p; p += l_; } while (0)
	/* 1. The daemon's environment, less its secrets (never a job's, see
	** cfg_env_is_secret), less what a layer below sets. */
	for (size_t i = 0; i < nbase; i++) {
		bool drop = is_ours(base[i]) || (user && is_user_var(base[i])) ||
			    cfg_env_is_secret(cfg, base[i], strcspn(base[i], "="));
		for (int e = 0; e < njob_env && !drop; e++)
			drop = same_name(job_env[e], base[i]);
		if (!drop)
			ADD(base[i]);
	}
	/* 2. The user's HOME, USER and LOGNAME, when the job runs as another. */
	for (size_t i = 0; user && i < 3; i++) {
		bool drop = false;
		for (int e = 0; e < njob_env && !drop; e++)
			drop = same_name(job_env[e], extra[i]);
		if (!drop)
			ADD(extra[i]);
	}
	/* 3. The job's own env: the submitter's explicit choice, secrets or not.
	** 4. Ours win over the job's too: a second HOLDFAST_JOB_ID in the vector
	** would be read first by getenv() in some programs, last in others. */
	for (int i = 0; i < njob_env; i++)
		if (!is_ours(job_env[i]))
			ADD(job_env[i]);
	ADD(extra[nextra - 2]);
	ADD(extra[nextra - 1]);
	if (data)
		ADD(data);
#undef ADD
	v[k] = NULL;
	return v;
}
