/*
** tools/fuzz/pipeline.c: libFuzzer target for the pipeline loader
** (firmware/log/pipeline.c, on SQLite's JSON functions through jlog, and the
** cron and duration parsers it calls). The input is the pipeline file's
** text, NUL-terminated; a pipeline that loads then has the defaults of its
** parameters applied ({{name}} expansion) and is freed. Besides the sanitizers'
** findings, a loaded pipeline must be a DAG in the order it reports: every
** job after the jobs it waits for; anything else aborts.
** The job log is a real one, created once in a temporary directory that
** is removed at exit.
** Seeds: tools/fuzz/corpus/pipeline/. Run: make fuzz-pipeline [FUZZ_SECONDS=300].
*/
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "log/jlog.h"
#include "log/pipeline.h"
#include "port.h"

static void quiet(int level, const char *line, void *arg)
{
	(void)level;
	(void)line;
	(void)arg;
}

static struct jlog log_j;
static char dir[] = "/tmp/hf-fuzz-pipeline.XXXXXX";

/* At exit: the job log and its directory go (the files jlog made there). */
static void remove_log(void)
{
	char path[sizeof(dir) + 256];
	struct dirent *e;
	DIR *d;

	jlog_close(&log_j);
	if (!(d = opendir(dir)))
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
	closedir(d);
	rmdir(dir);
}

static struct jlog *open_log(void)
{
	char path[sizeof(dir) + 16];

	if (log_j.db)
		return &log_j;
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		abort();
	}
	snprintf(path, sizeof(path), "%s/fuzz.db", dir);
	if (jlog_create(path, NULL) != HF_OK || jlog_open(&log_j, path, NULL) != HF_OK) {
		fprintf(stderr, "fuzz-pipeline: cannot create a job log in %s\n", dir);
		abort();
	}
	atexit(remove_log);
	return &log_j;
}

/* Every job comes after the jobs it waits for in p->order. */
static void check_order(const struct pl *p)
{
	int *pos;

	if (p->njobs < 0 || p->njobs > PL_MAX_JOBS || !(pos = calloc((size_t)p->njobs + 1, sizeof(*pos))))
		abort();
	for (int i = 0; i < p->njobs; i++) {
		if (p->order[i] < 0 || p->order[i] >= p->njobs)
			abort();
		pos[p->order[i]] = i;
	}
	for (int i = 0; i < p->njobs; i++)
		for (int k = 0; k < p->jobs[i].nafter; k++)
			if (pos[p->jobs[i].after[k]] >= pos[i])
				abort();
	free(pos);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jlog *j;
	struct pl p;
	char *text;

	if (size > PL_MAX_BYTES || !(text = malloc(size + 1)))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	port_log_set_sink(quiet, NULL);
	j = open_log();
	if (pl_parse(j, text, "fuzz.json", &p) == HF_OK) {
		check_order(&p);
		pl_apply_params(&p, NULL, 0);
	}
	pl_free(&p);
	free(text);
	return 0;
}
