/*
** test_s3xml.c: S3's error and listing documents, and hostile ones.
*/
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "fmt/s3xml.h"
#include "test.h"

TEST(s3xml_error_document)
{
	static const char doc[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SignatureDoesNotMatch</Code>"
		"<Message>The request signature we calculated does not match &amp; &lt;so&gt; &#65;"
		"</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>";
	struct s3_error e;

	CHECK_INT(s3xml_error(doc, strlen(doc), &e), HF_OK);
	CHECK_STR(e.code, "SignatureDoesNotMatch");
	CHECK_STR(e.message, "The request signature we calculated does not match & <so> A");
	CHECK_STR(e.request_id, "4442587FB7D0A2F9");
	CHECK_INT(s3xml_error("<Error><Code>SlowDown</Code></Error>", 36, &e), HF_OK);
	CHECK_STR(e.code, "SlowDown");
}

struct seen {
	int n;
	char last[1024];
	uint64_t bytes;
};

static int count(void *arg, const struct s3_object *o)
{
	struct seen *s = arg;

	s->n++;
	s->bytes += o->size;
	strcpy(s->last, o->key);
	return 0;
}

TEST(s3xml_list_pages)
{
	static const char page[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
		"<Name>b</Name><Prefix>dev1/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>"
		"<IsTruncated>true</IsTruncated>"
		"<Contents><Key>dev1/a/snapshot.zst</Key><LastModified>2026-11-29T00:00:00.000Z</LastModified>"
		"<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>1972</Size>"
		"<StorageClass>STANDARD</StorageClass></Contents>"
		"<Contents><Key>dev1/a/seg/0000000000000001.zst</Key><ETag>\"x\"</ETag><Size>276</Size></Contents>"
		"<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
		"</ListBucketResult>";
	struct seen s = { 0 };
	char token[256];
	bool more;

	CHECK_INT(s3xml_list(page, strlen(page), count, &s, &more, token, sizeof(token)), HF_OK);
	CHECK_INT(s.n, 2);
	CHECK_INT((int)s.bytes, 2248);
	CHECK_STR(s.last, "dev1/a/seg/0000000000000001.zst");
	CHECK(more);
	CHECK_STR(token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
	static const char last[] = "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>";
	memset(&s, 0, sizeof(s));
	CHECK_INT(s3xml_list(last, strlen(last), count, &s, &more, token, sizeof(token)), HF_OK);
	CHECK_INT(s.n, 0);
	CHECK(!more);
}

TEST(s3xml_refuses_hostile_documents)
{
	static const char *const bad_errors[] = {
		"", "garbage", "<Error>", "<Error><Code>x</Error>", "<Error><Message>m</Message></Error>",
		"<Error><Code>a&bogus;b</Code></Error>", "<Error><Code>a<b>c</b></Code></Error>",
		"<Error><Code>&#999999;</Code></Error>", "<Error><Code>&#12</Code></Error>",
	};
	static const char *const bad_lists[] = {
		"<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
		"<ListBucketResult><Contents><Key>k</Key></Contents></ListBucketResult>",
		"<ListBucketResult><Contents><Key>k</Key><Size>-5</Size></Contents></ListBucketResult>",
		"<ListBucketResult><Contents><Key>k",
	};
	struct s3_error e;
	struct seen s = { 0 };
	char token[64], longcode[400];
	bool more;

	for (size_t i = 0; i < sizeof(bad_errors) / sizeof(bad_errors[0]); i++)
		CHECK_INT(s3xml_error(bad_errors[i], strlen(bad_errors[i]), &e), HF_EPROTO);
	for (size_t i = 0; i < sizeof(bad_lists) / sizeof(bad_lists[0]); i++)
		CHECK_INT(s3xml_list(bad_lists[i], strlen(bad_lists[i]), count, &s, &more, token,
				     sizeof(token)), HF_EPROTO);
	/* Over a field's bound: refused, not cut. */
	snprintf(longcode, sizeof(longcode), "<Error><Code>%0300d</Code></Error>", 1);
	CHECK_INT(s3xml_error(longcode, strlen(longcode), &e), HF_EPROTO);
	/* Random bytes never break it. */
	uint32_t x = 7;
	char buf[300];
	for (int r = 0; r < 20000; r++) {
		size_t n = 1 + r % sizeof(buf);
		memcpy(buf, "<Error><Code>", 13);
		for (size_t k = r % 3 ? 13 : 0; k < n; k++) {
			x = x * 1103515245u + 12345u;
			buf[k] = "<>/&#;ErorCdx a"[(x >> 16) % 15];
		}
		int rc = s3xml_error(buf, n, &e);
		CHECK(rc == HF_OK || rc == HF_EPROTO);
		rc = s3xml_list(buf, n, count, &s, &more, token, sizeof(token));
		CHECK(rc == HF_OK || rc == HF_EPROTO);
	}
}

static int part_seen(void *arg, const struct s3_part *p)
{
	struct seen *s = arg;

	s->n++;
	s->bytes += p->size;
	snprintf(s->last, sizeof(s->last), "%u %s", p->number, p->etag);
	return 0;
}

TEST(s3xml_multipart_documents)
{
	static const char init[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<InitiateMultipartUploadResult "
		"xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>b</Bucket><Key>k</Key>"
		"<UploadId>2~iCw_lDY8VoNJn7SPV9KEyd0bgqC2wX_</UploadId></InitiateMultipartUploadResult>";
	static const char parts[] =
		"<ListPartsResult><Bucket>b</Bucket><Key>k</Key><UploadId>u</UploadId>"
		"<PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>2</NextPartNumberMarker>"
		"<MaxParts>2</MaxParts><IsTruncated>true</IsTruncated>"
		"<Part><PartNumber>1</PartNumber><LastModified>x</LastModified>"
		"<ETag>&quot;aa&quot;</ETag><Size>5242880</Size></Part>"
		"<Part><PartNumber>2</PartNumber><ETag>\"bb\"</ETag><Size>10</Size></Part>"
		"</ListPartsResult>";
	static const char *const bad[] = {
		"<ListPartsResult><IsTruncated>true</IsTruncated></ListPartsResult>",
		"<ListPartsResult><Part><PartNumber>0</PartNumber><ETag>e</ETag><Size>1</Size></Part>"
		"</ListPartsResult>",
		"<ListPartsResult><Part><PartNumber>10001</PartNumber><ETag>e</ETag><Size>1</Size>"
		"</Part></ListPartsResult>",
		"<ListPartsResult><Part><PartNumber>1</PartNumber><Size>1</Size></Part></ListPartsResult>",
		"<Error><Code>NoSuchUpload</Code></Error>",
	};
	struct seen s = { 0 };
	char id[64];
	bool more;
	unsigned marker;

	CHECK_INT(s3xml_upload_id(init, strlen(init), id, sizeof(id)), HF_OK);
	CHECK_STR(id, "2~iCw_lDY8VoNJn7SPV9KEyd0bgqC2wX_");
	static const char empty[] = "<InitiateMultipartUploadResult><UploadId></UploadId>"
				    "</InitiateMultipartUploadResult>";
	CHECK_INT(s3xml_upload_id(empty, strlen(empty), id, sizeof(id)), HF_EPROTO);
	CHECK_INT(s3xml_parts(parts, strlen(parts), part_seen, &s, &more, &marker), HF_OK);
	CHECK_INT(s.n, 2);
	CHECK_INT((int)s.bytes, 5242890);
	CHECK_STR(s.last, "2 \"bb\"");
	CHECK(more);
	CHECK_INT((int)marker, 2);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_INT(s3xml_parts(bad[i], strlen(bad[i]), part_seen, &s, &more, &marker), HF_EPROTO);
}

TEST(s3xml_delete_results)
{
	static const char ok[] = "<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
				 "</DeleteResult>";
	static const char some[] =
		"<DeleteResult><Error><Key>a&amp;b</Key><Code>AccessDenied</Code><Message>m</Message>"
		"</Error><Error><Key>c</Key><Code>InternalError</Code></Error></DeleteResult>";
	char key[64], code[64];
	unsigned failed;

	CHECK_INT(s3xml_delete_result(ok, strlen(ok), &failed, key, sizeof(key), code, sizeof(code)),
		  HF_OK);
	CHECK_INT((int)failed, 0);
	CHECK_INT(s3xml_delete_result(some, strlen(some), &failed, key, sizeof(key), code,
				      sizeof(code)), HF_OK);
	CHECK_INT((int)failed, 2);
	CHECK_STR(key, "a&b");
	CHECK_STR(code, "AccessDenied");
	CHECK_INT(s3xml_delete_result("<Error><Code>x</Code></Error>", 29, &failed, key, sizeof(key),
				      code, sizeof(code)), HF_EPROTO);
}
