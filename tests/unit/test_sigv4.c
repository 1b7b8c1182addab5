/*
** test_sigv4.c: SigV4 byte for byte against every case of the AWS test suite
** (botocore's copy) and the S3 documentation's examples, in
** tests/data/sigv4 (a copy of ../shared/testdata/sigv4, as it is). The
** directory comes from $HF_TESTDATA (tests/run-board sets it).
*/
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/crypto.h"
#include "base/err.h"
#include "fmt/sigv4.h"
#include "sqlite3.h"
#include "test.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = '\0';
		if (len)
			*len = (size_t)n;
	}
	return buf;
}

static const char *testdata(void)
{
	const char *d = getenv("HF_TESTDATA");

	if (!d || !*d)
		test_fail(__FILE__, __LINE__, "HF_TESTDATA is not set (tests/run-board sets it)");
	return d;
}

/* ---- the AWS test suite ---------------------------------------------------- */

static const struct sigv4_cred suite_cred = { "AKIDEXAMPLE",
					      "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
					      "us-east-1", "service" };

/* Signs one case (DIR/NAME.req) and compares with its .creq, .sts, .authz;
** returns the number of mismatches. */
static int suite_case(const char *dir, const char *name)
{
	char path[8192], *req, *line, *p, *want;
	struct sigv4_hdr hdrs[32];
	char *vals[32];
	size_t nh = 0, blen = 0;
	struct sigv4_req r = { 0 };
	struct sigv4_out o;
	uint8_t h[32];
	char payload[65], target[1024];
	const char *body = "";
	int bad = 0;

	snprintf(path, sizeof(path), "%s/%s.req", dir, name);
	CHECK((req = slurp(path, NULL)) != NULL);
	/* Request line, headers (a line starting with white space continues
	** the previous value), then the body after an empty line. */
	p = req;
	line = strsep(&p, "\n");
	char method[16];
	CHECK(sscanf(line, "%15s %1023[^\n]", method, target) == 2);
	char *sp = strrchr(target, ' ');
	CHECK(sp != NULL);
	*sp = '\0'; /* drop " HTTP/1.1" */
	while (p && (line = strsep(&p, "\n")) != NULL) {
		if (*line == '\0') {
			body = p ? p : "";
			break;
		}
		if ((*line == ' ' || *line == '\t') && nh) {
			size_t a = strlen(vals[nh - 1]), b = strlen(line);
			vals[nh - 1] = realloc(vals[nh - 1], a + b + 2);
			vals[nh - 1][a] = '\n';
			memcpy(vals[nh - 1] + a + 1, line, b + 1);
			hdrs[nh - 1].value = vals[nh - 1];
			continue;
		}
		char *colon = strchr(line, ':');
		CHECK(colon != NULL && nh < 31);
		*colon = '\0';
		hdrs[nh].name = line;
		vals[nh] = strdup(colon + 1);
		hdrs[nh].value = vals[nh];
		nh++;
	}
	/* botocore's harness adds this token to the one case named for it. */
	if (!strcmp(name, "get-vanilla-with-session-token")) {
		hdrs[nh].name = "X-Amz-Security-Token";
		vals[nh] = strdup("6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267");
		hdrs[nh].value = vals[nh];
		nh++;
	}
	blen = strlen(body);
	crypto_sha256(body, blen, h);
	crypto_hex(h, 32, payload);
	char *q = strchr(target, '?');
	if (q)
		*q++ = '\0';
	r.method = method;
	r.path = target;
	r.query = q;
	r.hdrs = hdrs;
	r.nhdrs = nh;
	r.payload = payload;
	r.amz_date = "20150830T123600Z";
	CHECK_INT(sigv4_sign(&suite_cred, &r, &o), HF_OK);
	static const char *const exts[] = { "creq", "sts", "authz" };
	const char *got[] = { o.creq, o.sts, o.authorization };
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s.%s", dir, name, exts[i]);
		CHECK((want = slurp(path, NULL)) != NULL);
		if (strcmp(want, got[i]) != 0) {
			fprintf(stderr, "%s.%s differs:\n--- want\n%s\n--- got\n%s\n", name, exts[i],
				want, got[i]);
			bad++;
		}
		free(want);
	}
	sigv4_out_free(&o);
	for (size_t i = 0; i < nh; i++)
		free(vals[i]);
	free(req);
	return bad;
}

/* Every directory below DIR holding NAME/NAME.req is a case. */
static void walk(const char *dir, int *cases, int *bad)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	CHECK(d != NULL);
	while ((de = readdir(d)) != NULL) {
		char sub[4096], req[8192];
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		if (stat(sub, &st) != 0 || !S_ISDIR(st.st_mode))
			continue;
		snprintf(req, sizeof(req), "%s/%s.req", sub, de->d_name);
		if (stat(req, &st) == 0) {
			(*cases)++;
			*bad += suite_case(sub, de->d_name);
		} else {
			walk(sub, cases, bad);
		}
	}
	closedir(d);
}

TEST(sigv4_aws_test_suite_byte_exact)
{
	char dir[4096];
	int cases = 0, bad = 0;

	snprintf(dir, sizeof(dir), "%s/sigv4/botocore-aws4_testsuite", testdata());
	walk(dir, &cases, &bad);
	CHECK_INT(cases, 34); /* every case of the suite was found and run */
	CHECK_INT(bad, 0);
}

/* ---- the S3 documentation's examples ------------------------------------------ */

static char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? strdup((const char *)t) : NULL;
}

static void pct_decode(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		unsigned v;
		if (*r == '%' && sscanf(r + 1, "%2x", &v) == 1) {
			*w++ = (char)v;
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

TEST(sigv4_s3_documentation_examples)
{
	char path[4096], *json, *want;
	sqlite3 *db;
	sqlite3_stmt *ex, *hs;
	int n = 0, bad = 0, chunks = 0;

	snprintf(path, sizeof(path), "%s/sigv4/s3-docs-examples/s3-docs-examples.json", testdata());
	CHECK((json = slurp(path, NULL)) != NULL);
	CHECK_INT(sqlite3_open(":memory:", &db), SQLITE_OK);
	/* Read with SQLite's JSON functions, as holdfast reads its pipelines. */
	CHECK_INT(sqlite3_prepare_v2(db,
		"SELECT e.key, json_extract(e.value, '$.method'), json_extract(e.value, '$.canonical_uri'),"
		" json_extract(e.value, '$.canonical_query'), json_extract(e.value, '$.payload_hash'),"
		" coalesce(json_extract(e.value, '$.expected_signature'),"
		"          json_extract(e.value, '$.expected_seed_signature')),"
		" json_extract(?1, '$.common.access_key_id'), json_extract(?1, '$.common.secret_access_key'),"
		" json_extract(?1, '$.common.region'), json_extract(?1, '$.common.service'),"
		" json_extract(?1, '$.common.timestamp'), e.value"
		" FROM json_each(?1, '$.examples') e", -1, &ex, NULL), SQLITE_OK);
	sqlite3_bind_text(ex, 1, json, -1, SQLITE_STATIC);
	while (sqlite3_step(ex) == SQLITE_ROW) {
		char *name = col(ex, 0), *method = col(ex, 1), *uri = col(ex, 2), *query = col(ex, 3),
		     *payload = col(ex, 4), *sig = col(ex, 5), *ak = col(ex, 6), *sk = col(ex, 7),
		     *region = col(ex, 8), *service = col(ex, 9), *date = col(ex, 10);
		struct sigv4_cred c = { ak, sk, region, service };
		struct sigv4_hdr hdrs[16];
		char *names[16], *vals[16];
		size_t nh = 0;
		struct sigv4_req r = { 0 };
		struct sigv4_out o;

		CHECK_INT(sqlite3_prepare_v2(db, "SELECT key, value FROM json_each(?1, '$.headers')", -1,
					     &hs, NULL), SQLITE_OK);
		sqlite3_bind_text(hs, 1, (const char *)sqlite3_column_text(ex, 11), -1, SQLITE_TRANSIENT);
		while (sqlite3_step(hs) == SQLITE_ROW && nh < 16) {
			names[nh] = col(hs, 0);
			vals[nh] = col(hs, 1);
			hdrs[nh].name = names[nh];
			hdrs[nh].value = vals[nh];
			nh++;
		}
		sqlite3_finalize(hs);
		/* The examples give the canonical (encoded) URI; holdfast signs raw
		** object keys and encodes each segment once. */
		pct_decode(uri);
		r.method = method;
		r.path = uri;
		r.query = query;
		r.hdrs = hdrs;
		r.nhdrs = nh;
		r.payload = payload;
		r.amz_date = date;
		r.s3 = true;
		CHECK_INT(sigv4_sign(&c, &r, &o), HF_OK);
		static const char *const exts[] = { "creq", "sts", "sig" };
		const char *got[] = { o.creq, o.sts, o.signature };
		for (int i = 0; i < 3; i++) {
			snprintf(path, sizeof(path), "%s/sigv4/s3-docs-examples/%s/%s.%s", testdata(),
				 name, name, exts[i]);
			CHECK((want = slurp(path, NULL)) != NULL);
			if (strcmp(want, got[i]) != 0) {
				fprintf(stderr, "%s.%s differs:\n--- want\n%s\n--- got\n%s\n", name,
					exts[i], want, got[i]);
				bad++;
			}
			free(want);
		}
		CHECK_STR(o.signature, sig);
		if (!strcmp(name, "put-object-aws-chunked")) {
			/* The chunk chain: 64 KiB of 'a', 1 KiB of 'a', the empty end. */
			static const size_t lens[] = { 65536, 1024, 0 };
			char *a = malloc(65536), prev[65], cs[65];
			sqlite3_stmt *ws;
			memset(a, 'a', 65536);
			snprintf(prev, sizeof(prev), "%s", o.signature);
			CHECK_INT(sqlite3_prepare_v2(db, "SELECT value FROM json_each(?1, "
						     "'$.expected_chunk_signatures')", -1, &ws, NULL),
				  SQLITE_OK);
			sqlite3_bind_text(ws, 1, (const char *)sqlite3_column_text(ex, 11), -1,
					  SQLITE_TRANSIENT);
			for (int k = 0; k < 3; k++) {
				CHECK_INT(sqlite3_step(ws), SQLITE_ROW);
				CHECK_INT(sigv4_chunk_signature(&c, date, prev, a, lens[k], cs), HF_OK);
				CHECK_STR(cs, (const char *)sqlite3_column_text(ws, 0));
				memcpy(prev, cs, sizeof(prev));
				chunks++;
			}
			sqlite3_finalize(ws);
			free(a);
		}
		sigv4_out_free(&o);
		for (size_t i = 0; i < nh; i++) {
			free(names[i]);
			free(vals[i]);
		}
		free(name); free(method); free(uri); free(query); free(payload); free(sig);
		free(ak); free(sk); free(region); free(service); free(date);
		n++;
	}
	sqlite3_finalize(ex);
	sqlite3_close(db);
	free(json);
	CHECK_INT(n, 6);      /* every example was found and run */
	CHECK_INT(chunks, 3); /* and every chunk of the streaming one */
	CHECK_INT(bad, 0);
}

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

TEST(sigv4_s3_keys_are_encoded_once_and_not_normalised)
{
	static const struct sigv4_cred c = { "AK", "SK", "us-east-1", "s3" };
	struct sigv4_hdr h[] = { { "Host", "b.s3.amazonaws.com" } };
	struct sigv4_req r = { "GET", "/my-object//example//photo.user", NULL, h, 1,
			       "UNSIGNED-PAYLOAD", "20130524T000000Z", true };
	struct sigv4_out o;

	CHECK_INT(sigv4_sign(&c, &r, &o), HF_OK);
	CHECK(starts(o.creq, "GET\n/my-object//example//photo.user\n"));
	sigv4_out_free(&o);
	r.path = "/a b/%/\xe1\x88\xb4";
	CHECK_INT(sigv4_sign(&c, &r, &o), HF_OK);
	CHECK(starts(o.creq, "GET\n/a%20b/%25/%E1%88%B4\n"));
	sigv4_out_free(&o);
	r.amz_date = "2013-05-24";
	CHECK_INT(sigv4_sign(&c, &r, &o), HF_EINVAL);
}
