/*
** test_pipeline.c: pipeline JSON: errors with paths, cycles named, params.
*/
#include "log/jlog.h"
#include "log/pipeline.h"
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

/* A valid pipeline with X spliced in as job a's last member. */
#define JOB(x) "{\"name\":\"n\",\"jobs\":[{\"name\":\"a\",\"argv\":[\"x\"]" x "}]}"

TEST(pipeline_is_strict_json)
{
	struct pl p;

	/* The control: the same document without the extension parses. */
	CHECK_INT(parse(JOB(",\"retries\":1"), &p), HF_OK);
	pl_free(&p);
	/* SQLite's parser takes each of these (JSON5); holdfast does not, and
	** says where. */
	BAD(JOB(",\"retries\":1,"), "p.json:1:57: a trailing comma: holdfast reads strict JSON");
	BAD("{\"name\":\"n\",\"jobs\":[{\"name\":\"a\",\"argv\":[\"x\",]}]}",
	    "p.json:1:44: a trailing comma");
	BAD("{\"name\":\"n\",\n  \"jobs\":[{\"name\":\"a\",\"argv\":[\"x\"]},]}",
	    "p.json:2:36: a trailing comma");
	BAD("{\"name\":\"n\", // the name\n\"jobs\":[{\"name\":\"a\",\"argv\":[\"x\"]}]}",
	    "p.json:1:14: a comment");
	BAD("{\"name\":\"n\",/* x */\"jobs\":[{\"name\":\"a\",\"argv\":[\"x\"]}]}",
	    "p.json:1:13: a comment");
	BAD("{\"name\":'n',\"jobs\":[{\"name\":\"a\",\"argv\":[\"x\"]}]}",
	    "p.json:1:9: a single-quoted string");
	BAD("{name:\"n\",\"jobs\":[{\"name\":\"a\",\"argv\":[\"x\"]}]}",
	    "p.json:1:2: a number or word JSON does not have");
	BAD(JOB(",\"retries\":0x1"), "p.json:1:56: a number or word");
	BAD(JOB(",\"retries\":+1"), "p.json:1:56: a number or word");
	BAD(JOB(",\"retries\":1."), "p.json:1:56: a number or word");
	BAD(JOB(",\"retries\":.5"), "p.json:1:56: a number or word");
	BAD(JOB(",\"priority\":Infinity"), "p.json:1:57: a number or word");
	BAD("{\"name\":\"n\",\"jobs\":[{\"name\":\"a\",\"argv\":[\"x\\\ny\"]}]}",
	    "p.json:1:43: an escape JSON does not have");
	BAD("{\"name\":\"n\",\"jobs\":[{\"name\":\"a\",\"argv\":[\"x\\'y\"]}]}",
	    "p.json:1:43: an escape JSON does not have");
	BAD("{\"name\":\"n\",\"jobs\":[{\"name\":\"a\",\"argv\":[\"x\ty\"]}]}",
	    "p.json:1:43: a raw control character in a string");
	BAD("{\"name\":\"n\",\"jobs\":[{\"name\":\"a\",\"argv\":[\"x\"]}]}\v",
	    "p.json:1:48: a character JSON does not allow here");
	/* Columns count characters, not bytes. */
	BAD("{\"name\":\"n\",\"description\":\"\xc3\xa9\xc3\xa9\",\"jobs\":[{\"name\":\"a\","
	    "\"argv\":[\"x\"],}]}", "p.json:1:64: a trailing comma");
	/* Syntax errors keep SQLite's character position, with line and column. */
	BAD("{\"name\":\"n\",\n\"jobs\":[}", "p.json:2:9: not valid JSON: syntax error at character 22");
}

TEST(pipeline_refuses_duplicate_keys)
{
	/* At every level: the document, a job, an object inside a job. */
	BAD("{\"name\":\"n\",\"name\":\"m\",\"jobs\":[{\"name\":\"a\",\"argv\":[\"x\"]}]}",
	    "p.json: $.name: the key is given twice in one object");
	BAD(JOB(",\"argv\":[\"y\"]"), "p.json: $.jobs[0].argv: the key is given twice");
	BAD(JOB(",\"env\":{\"K\":\"1\",\"L\":\"2\",\"K\":\"3\"}"),
	    "p.json: $.jobs[0].env.K: the key is given twice");
	BAD("{\"name\":\"n\",\"params\":{\"d\":\"1\",\"d\":\"2\"},\"jobs\":[{\"name\":\"a\","
	    "\"argv\":[\"x\"]}]}", "p.json: $.params.d: the key is given twice");
	/* Escapes that decode to one key are one key. */
	BAD(JOB(",\"env\":{\"K\":\"1\",\"\\u004b\":\"2\"}"),
	    "p.json: $.jobs[0].env.K: the key is given twice");
	/* The same key in two different objects is fine. */
	struct pl p;
	CHECK_INT(parse("{\"name\":\"n\",\"jobs\":[{\"name\":\"a\",\"argv\":[\"x\"]},"
			"{\"name\":\"b\",\"argv\":[\"x\"]}]}", &p), HF_OK);
	pl_free(&p);
}

TEST(pipeline_refuses_nul)
{
	BAD(JOB(",\"cwd\":\"/tmp\\u0000/x\""), "p.json: $.jobs[0].cwd: the string holds a NUL");
	BAD("{\"name\":\"n\",\"jobs\":[{\"name\":\"a\",\"argv\":[\"x\",\"y\\u0000z\"]}]}",
	    "p.json: $.jobs[0].argv[1]: the string holds a NUL character (\\u0000)");
	BAD("{\"name\":\"n\\u0000\",\"jobs\":[{\"name\":\"a\",\"argv\":[\"x\"]}]}",
	    "p.json: $.name: the string holds a NUL");
	BAD(JOB(",\"env\":{\"K\\u0000\":\"v\"}"),
	    "p.json: $.jobs[0].env.\"K\\u0000\": the key holds a NUL");
	BAD(JOB(",\"env\":{\"K\":\"v\\u0000\"}"), "p.json: $.jobs[0].env.K: the string holds a NUL");
	/* A raw NUL byte: the file reader's check, by line and column. */
	test_log_clear();
	CHECK_INT(pl_check_bytes("{\"name\":\n \"n\0\"}", 15, "p.json"), HF_EINVAL);
	CHECK(test_log_has("p.json:2:4: a NUL byte"));
	CHECK_INT(pl_check_bytes("{\"name\":\"n\"}", 12, "p.json"), HF_OK);
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
