/*
** test_pipeline.c: pipeline JSON: errors with paths, cycles named, params.
*/
#include "jlog.h"
#include "pipeline.h"
#include "port.h"
#include "test.h"

static struct jlog J;

static int parse(const char *text, struct pl *p)
{
	if (!J.db) {
		CHECK_INT(jlog_create("t.db", NULL), HF_OK);
		CHECK_INT(jlog_open(&J, "t.db", NULL), HF_OK);
	}
	test_log_clear();
	return pl_parse(&J, text, "p.json", p);
}

#define BAD(text, msg)                                                          \
	do {                                                                    \
		struct pl p_;                                                   \
		CHECK_INT(parse(text, &p_), HF_EINVAL);                         \
		if (!test_log_has(msg))                                         \
			test_fail(__FILE__, __LINE__, "want '%s', got '%s'", msg, test_log()); \
	} while (0)

TEST(pipeline_parses_and_orders)
{
	struct pl p;

	CHECK_INT(parse("{\"name\":\"n\",\"every\":\"5m\",\"params\":{\"d\":\"/x\"},\"jobs\":["
			"{\"name\":\"c\",\"argv\":[\"echo\",\"{{d}}/c\"],\"after\":[\"b\"]},"
			"{\"name\":\"a\",\"argv\":[\"echo\",\"a\"],\"retries\":2,"
			" \"backoff\":\"1s..10s\",\"timeout\":\"30s\",\"env\":{\"K\":\"{{d}}\"}},"
			"{\"name\":\"b\",\"argv\":[\"echo\"],\"after\":[\"a\"],\"group\":\"g\","
			" \"wait_remote\":true}]}",
			&p), HF_OK);
	CHECK_STR(p.name, "n");
	CHECK_INT(p.sched, PL_SCHED_EVERY);
	CHECK_INT(p.every_ms, 300000);
	CHECK_INT(p.njobs, 3);
	/* Topological: a, b, c. */
	CHECK(p.order[0] == 1 && p.order[1] == 2 && p.order[2] == 0);
	CHECK_INT(p.jobs[1].retries, 2);
	CHECK_INT(p.jobs[1].backoff_max_ms, 10000);
	CHECK_INT(p.jobs[1].timeout_ms, 30000);
	CHECK(!p.jobs[1].wait_remote && p.jobs[2].wait_remote);
	CHECK_INT(pl_apply_params(&p, (char *[]){ "d=/data" }, 1), HF_OK);
	CHECK_STR(p.jobs[0].argv[1], "/data/c");
	CHECK_STR(p.jobs[1].env[0], "K=/data");
	CHECK_INT(pl_apply_params(&p, (char *[]){ "nope=1" }, 1), HF_EINVAL);
	CHECK(test_log_has("no such parameter"));
	pl_free(&p);
}

TEST(pipeline_errors_name_the_path)
{
	BAD("{\"name\":\"n\",\"jobs\":[", "not valid JSON: syntax error at character");
	BAD("[1,2]", "p.json: $: must be an object");
	BAD("{\"jobs\":[]}", "$.name: is required");
	BAD("{\"name\":\"n\",\"jobs\":[],\"extra\":1}", "$.extra: unknown key");
	BAD("{\"name\":\"n\",\"jobs\":[]}", "$.jobs: must hold 1 to 256 jobs");
	BAD("{\"name\":\"n\",\"jobs\":[{\"name\":\"a\"}]}", "$.jobs[0].argv: must be an array");
	BAD("{\"name\":\"n\",\"jobs\":[{\"name\":\"a\",\"argv\":[\"x\",3]}]}",
	    "$.jobs[0].argv[1]: must be a string, not integer");
	BAD("{\"name\":\"n\",\"jobs\":[{\"name\":\"a\",\"argv\":[\"x\"],\"retrys\":1}]}",
	    "$.jobs[0].retrys: unknown key");
	BAD("{\"name\":\"n\",\"jobs\":[{\"name\":\"a\",\"argv\":[\"x\"],\"retries\":-1}]}",
	    "$.jobs[0].retries: must be from 0 to 1000");
	BAD("{\"name\":\"n\",\"jobs\":[{\"name\":\"a\",\"argv\":[\"x\"],\"timeout\":\"5\"}]}",
	    "$.jobs[0].timeout: '5' is not a duration");
	BAD("{\"name\":\"n\",\"jobs\":[{\"name\":\"a\",\"argv\":[\"x\"],\"after\":[\"z\"]}]}",
	    "$.jobs[0].after[0]: no job named 'z'");
	BAD("{\"name\":\"n\",\"jobs\":[{\"name\":\"a\",\"argv\":[\"x\"]},"
	    "{\"name\":\"a\",\"argv\":[\"y\"]}]}", "$.jobs[1].name: 'a' is used by an earlier job");
	BAD("{\"name\":\"n\",\"cron\":\"61 * * * *\",\"jobs\":[{\"name\":\"a\",\"argv\":[\"x\"]}]}",
	    "$.cron: '61 * * * *': minute field '61' is out of range");
	BAD("{\"name\":\"n\",\"every\":\"1m\",\"cron\":\"* * * * *\",\"jobs\":[{\"name\":\"a\","
	    "\"argv\":[\"x\"]}]}", "has both");
	BAD("{\"name\":\"n\",\"jobs\":[{\"name\":\"a\",\"argv\":[\"x\"],\"cwd\":\"rel\"}]}",
	    "$.jobs[0].cwd: must be an absolute path");
	BAD("{\"name\":\"n\",\"jobs\":[{\"name\":\"a\",\"argv\":[\"x\"],\"env\":{\"1X\":\"v\"}}]}",
	    "$.jobs[0].env.1X: is not an environment variable name");
	BAD("{\"name\":\"n\",\"jobs\":[{\"name\":\"a\",\"argv\":[\"x\"],\"wait_remote\":\"yes\"}]}",
	    "$.jobs[0].wait_remote: must be true or false");
}

TEST(pipeline_cycle_is_named)
{
	BAD("{\"name\":\"n\",\"jobs\":["
	    "{\"name\":\"a\",\"argv\":[\"x\"],\"after\":[\"c\"]},"
	    "{\"name\":\"b\",\"argv\":[\"x\"],\"after\":[\"a\"]},"
	    "{\"name\":\"c\",\"argv\":[\"x\"],\"after\":[\"b\"]},"
	    "{\"name\":\"d\",\"argv\":[\"x\"]}]}",
	    "dependency cycle: a -> c -> b -> a");
	BAD("{\"name\":\"n\",\"jobs\":[{\"name\":\"a\",\"argv\":[\"x\"],\"after\":[\"a\"]}]}",
	    "'a' cannot wait for itself");
}

TEST(pipeline_unknown_param_and_instantiate)
{
	struct pl p;
	struct jlog_now now = { 0, 5, -1 };
	int64_t run;

	CHECK_INT(parse("{\"name\":\"n\",\"jobs\":[{\"name\":\"a\",\"argv\":[\"{{x}}\"]}]}", &p),
		  HF_OK);
	CHECK_INT(pl_apply_params(&p, NULL, 0), HF_EINVAL);
	CHECK(test_log_has("$.jobs[0].argv[0]: unknown parameter {{x}}"));
	pl_free(&p);
	CHECK_INT(parse("{\"name\":\"n\",\"jobs\":[{\"name\":\"b\",\"argv\":[\"x\"],"
			"\"after\":[\"a\"]},{\"name\":\"a\",\"argv\":[\"y\"]}]}", &p), HF_OK);
	CHECK_INT(jlog_boot(&J, "b", -1, true, &now.boot), HF_OK);
	CHECK_INT(jlog_pipeline_put(&J, "n", "{}", NULL, NULL, 0, -1), HF_OK);
	CHECK_INT(jlog_begin(&J), HF_OK);
	CHECK_INT(pl_instantiate(&J, &p, "manual", &now, &run), HF_OK);
	CHECK_INT(jlog_commit(&J), HF_OK);
	CHECK_INT(run, 1);
	struct jlog_job job;
	int64_t id;
	CHECK_INT(jlog_job_resolve(&J, "b", &id), HF_OK);
	CHECK_INT(jlog_job_get(&J, id, &job), HF_OK);
	CHECK_INT(job.waiting, 1);
	CHECK_INT(job.run, 1);
	pl_free(&p);
}
