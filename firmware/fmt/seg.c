/*
** seg.c: encoding and checking segment files (format in seg.h).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "base/stream.h"
#include "fmt/seg.h"
#include "port.h"
#include "zstd.h"
#include "zstd_errors.h"

/* Level 3: zstd's default; on these CPUs higher levels cost more time than
** the bytes they save on a page-structured log are worth. */
#define SEG_ZSTD_LEVEL 3

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)(v >> 32)); put32(p + 4, (uint32_t)v); }
static uint32_t get16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) << 32 | get32(p + 4); }

static const uint8_t magic[6] = { 'H', 'F', 'S', 'E', 'G', 0 };

uint32_t seg_record(const uint8_t *raw, uint32_t page_size, uint32_t i, const uint8_t **page)
{
	const uint8_t *r = raw + (size_t)i * (4 + page_size);

	*page = r + 4;
	return get32(r);
}

uint8_t *seg_record_slot(uint8_t *raw, uint32_t page_size, uint32_t i, uint32_t pgno)
{
	uint8_t *r = raw + (size_t)i * (4 + page_size);

	put32(r, pgno);
	return r + 4;
}

void seg_put_record(uint8_t *raw, uint32_t page_size, uint32_t i, uint32_t pgno,
		    const uint8_t *page)
{
	memcpy(seg_record_slot(raw, page_size, i, pgno), page, page_size);
}

/* Fills in the header and the trailer around a body already at
** BUF + SEG_HDR_SIZE. */
static void assemble(struct seg_hdr *h, uint8_t *buf, size_t body)
{
	uint8_t *p;

	h->version = SEG_VERSION;
	h->body_len = body;
	p = buf;
	memset(p, 0, SEG_HDR_SIZE);
	memcpy(p, magic, 6);
	put16(p + 6, SEG_VERSION);
	p[8] = (uint8_t)h->kind;
	put32(p + 12, h->page_size);
	memcpy(p + 16, h->device, strnlen(h->device, SEG_DEVICE_MAX));
	put64(p + 48, h->generation);
	put64(p + 56, h->seq);
	put32(p + 64, h->db_pages);
	put32(p + 68, h->npages);
	put32(p + 72, h->salt[0]);
	put32(p + 76, h->salt[1]);
	put32(p + 80, h->frame_first);
	put32(p + 84, h->frame_end);
	put64(p + 88, h->boot);
	put64(p + 96, (uint64_t)h->utc_ms);
	put64(p + 104, h->mono_ms);
	put64(p + 112, h->body_len);
	crypto_sha256(buf, SEG_HDR_SIZE + body, buf + SEG_HDR_SIZE + body);
}

int seg_encode(struct seg_hdr *h, const uint8_t *raw, size_t raw_len, uint8_t **out,
	       size_t *out_len)
{
	size_t bound = ZSTD_compressBound(raw_len), body;
	uint8_t *buf = malloc(SEG_HDR_SIZE + bound + SEG_TRAILER_SIZE);

	if (!buf)
		return HF_ENOMEM;
	body = ZSTD_compress(buf + SEG_HDR_SIZE, bound, raw, raw_len, SEG_ZSTD_LEVEL);
	if (ZSTD_isError(body)) {
		port_log("segment: zstd: %s", ZSTD_getErrorName(body));
		free(buf);
		return HF_EBUG;
	}
	assemble(h, buf, body);
	*out = buf;
	*out_len = SEG_HDR_SIZE + body + SEG_TRAILER_SIZE;
	return HF_OK;
}

void seg_stream_free(struct seg_stream *ss);

struct seg_stream {
	ZSTD_CCtx *cctx;
	uint8_t *buf;              /* header room, then the compressed body */
	size_t len, cap;
};

int seg_stream_begin(struct seg_stream **out)
{
	struct seg_stream *ss = calloc(1, sizeof(*ss));

	if (!ss || !(ss->cctx = ZSTD_createCCtx())) {
		free(ss);
		return HF_ENOMEM;
	}
	ZSTD_CCtx_setParameter(ss->cctx, ZSTD_c_compressionLevel, SEG_ZSTD_LEVEL);
	ss->cap = SEG_HDR_SIZE + 4 * ZSTD_CStreamOutSize();
	if (!(ss->buf = malloc(ss->cap))) {
		seg_stream_free(ss);
		return HF_ENOMEM;
	}
	ss->len = SEG_HDR_SIZE;
	*out = ss;
	return HF_OK;
}

static int stream_feed(struct seg_stream *ss, const void *src, size_t n, ZSTD_EndDirective end)
{
	ZSTD_inBuffer in = { src, n, 0 };
	size_t left;

	do {
		if (ss->cap - ss->len < ZSTD_CStreamOutSize() + SEG_TRAILER_SIZE) {
			size_t cap = ss->cap * 2;
			uint8_t *b = realloc(ss->buf, cap);
			if (!b)
				return HF_ENOMEM;
			ss->buf = b;
			ss->cap = cap;
		}
		ZSTD_outBuffer out = { ss->buf + ss->len, ss->cap - ss->len - SEG_TRAILER_SIZE, 0 };
		left = ZSTD_compressStream2(ss->cctx, &out, &in, end);
		if (ZSTD_isError(left)) {
			port_log("segment: zstd: %s", ZSTD_getErrorName(left));
			return HF_EBUG;
		}
		ss->len += out.pos;
	} while (in.pos < in.size || (end == ZSTD_e_end && left != 0));
	return HF_OK;
}

int seg_stream_put(struct seg_stream *ss, uint32_t pgno, const uint8_t *page, uint32_t page_size)
{
	uint8_t p[4];
	int rc;

	put32(p, pgno);
	if ((rc = stream_feed(ss, p, 4, ZSTD_e_continue)) != HF_OK)
		return rc;
	return stream_feed(ss, page, page_size, ZSTD_e_continue);
}

int seg_stream_finish(struct seg_stream *ss, struct seg_hdr *h, uint8_t **out, size_t *out_len)
{
	int rc = stream_feed(ss, NULL, 0, ZSTD_e_end);

	if (rc != HF_OK)
		return rc;
	assemble(h, ss->buf, ss->len - SEG_HDR_SIZE);
	*out = ss->buf;
	*out_len = ss->len + SEG_TRAILER_SIZE;
	ss->buf = NULL;
	return HF_OK;
}

void seg_stream_free(struct seg_stream *ss)
{
	if (ss) {
		ZSTD_freeCCtx(ss->cctx);
		free(ss->buf);
		free(ss);
	}
}

int seg_peek(const uint8_t *buf, size_t len, struct seg_hdr *h)
{
	if (len < SEG_HDR_SIZE || memcmp(buf, magic, 6) != 0)
		return HF_ECORRUPT;
	memset(h, 0, sizeof(*h));
	h->version = get16(buf + 6);
	h->kind = (enum seg_kind)buf[8];
	h->page_size = get32(buf + 12);
	memcpy(h->device, buf + 16, SEG_DEVICE_MAX);
	h->generation = get64(buf + 48);
	h->seq = get64(buf + 56);
	h->db_pages = get32(buf + 64);
	h->npages = get32(buf + 68);
	h->salt[0] = get32(buf + 72);
	h->salt[1] = get32(buf + 76);
	h->frame_first = get32(buf + 80);
	h->frame_end = get32(buf + 84);
	h->boot = get64(buf + 88);
	h->utc_ms = (int64_t)get64(buf + 96);
	h->mono_ms = get64(buf + 104);
	h->body_len = get64(buf + 112);
	return HF_OK;
}

/* The decoder's window: zstd level 3 (what seg_encode and seg_stream use)
** compresses with a 2 MiB window at most (windowLog 21); 8 MiB leaves room
** and caps what a hostile frame header can make us allocate (zstd's own
** default cap is 128 MiB). */
#define SEG_WINDOW_LOG_MAX 23

/* Bytes of records a zstd body of BODY bytes can yield at most: every block
** costs at least 4 bytes (a 3-byte header and one byte of content, an RLE
** block) and yields at most 128 KiB (ZSTD_BLOCKSIZE_MAX). */
static uint64_t body_yield_max(uint64_t body)
{
	return (body / 4 + 1) * (128u * 1024);
}

/* The header HDR of a file of LEN bytes, before anything else is read:
** its length, magic, version and body_len. */
static int check_len(uint64_t len, char *why, size_t why_len)
{
	if (len < SEG_HDR_SIZE + SEG_TRAILER_SIZE) {
		snprintf(why, why_len, "%llu bytes, shorter than a header and a trailer (%d)",
			 (unsigned long long)len, SEG_HDR_SIZE + SEG_TRAILER_SIZE);
		return HF_ECORRUPT;
	}
	return HF_OK;
}

static int check_frame(const uint8_t *hdr, uint64_t len, struct seg_hdr *h, char *why,
		       size_t why_len)
{
	if (check_len(len, why, why_len) != HF_OK)
		return HF_ECORRUPT;
	if (seg_peek(hdr, SEG_HDR_SIZE, h) != HF_OK) {
		snprintf(why, why_len, "not a holdfast segment (header field magic)");
		return HF_ECORRUPT;
	}
	if (h->version > SEG_VERSION || h->version == 0) {
		snprintf(why, why_len, "header field version = %u: segment format %u; this holdfast "
			 "reads formats 1 to %u", h->version, h->version, SEG_VERSION);
		return h->version ? HF_ENOTSUP : HF_ECORRUPT;
	}
	if (h->body_len != len - SEG_HDR_SIZE - SEG_TRAILER_SIZE) {
		snprintf(why, why_len, "header field body_len = %llu, but the file's length %llu "
			 "implies %llu", (unsigned long long)h->body_len, (unsigned long long)len,
			 (unsigned long long)(len - SEG_HDR_SIZE - SEG_TRAILER_SIZE));
		return HF_ECORRUPT;
	}
	return HF_OK;
}

/* Every other field, against what the format allows: what catches a
** writer that lies (a hostile replica), field by field. */
static int check_fields(const struct seg_hdr *h, char *why, size_t why_len)
{
	uint64_t raw;

	if (h->kind != SEG_SNAPSHOT && h->kind != SEG_FRAMES) {
		snprintf(why, why_len, "header field kind = %u is neither 1 (snapshot) nor 2 "
			 "(segment)", (unsigned)h->kind);
		return HF_ECORRUPT;
	}
	if (h->page_size < 512 || h->page_size > 65536 || (h->page_size & (h->page_size - 1))) {
		snprintf(why, why_len, "header field page_size = %u is not a power of two from 512 "
			 "to 65536", h->page_size);
		return HF_ECORRUPT;
	}
	if (h->db_pages == 0 || h->db_pages > SEG_DB_PAGES_MAX) {
		snprintf(why, why_len, "header field db_pages = %u is not from 1 to %u", h->db_pages,
			 SEG_DB_PAGES_MAX);
		return HF_ECORRUPT;
	}
	if (h->npages > h->db_pages) {
		snprintf(why, why_len, "header field npages = %u exceeds db_pages = %u (each record "
			 "is a different page of the database)", h->npages, h->db_pages);
		return HF_ECORRUPT;
	}
	if (h->kind == SEG_SNAPSHOT && h->npages != h->db_pages) {
		snprintf(why, why_len, "header field npages = %u, but a snapshot holds every one of "
			 "its db_pages = %u", h->npages, h->db_pages);
		return HF_ECORRUPT;
	}
	raw = (uint64_t)h->npages * (4 + h->page_size);
	if (raw > body_yield_max(h->body_len)) {
		snprintf(why, why_len, "header field npages = %u means %llu bytes of records, more "
			 "than a zstd body of %llu bytes can hold", h->npages,
			 (unsigned long long)raw, (unsigned long long)h->body_len);
		return HF_ECORRUPT;
	}
	return HF_OK;
}

int seg_check(const uint8_t *buf, size_t len, struct seg_hdr *h, char *why, size_t why_len)
{
	uint8_t sum[32];
	int rc;

	if ((rc = check_frame(buf, len, h, why, why_len)) != HF_OK)
		return rc;
	crypto_sha256(buf, SEG_HDR_SIZE + h->body_len, sum);
	if (memcmp(sum, buf + SEG_HDR_SIZE + h->body_len, 32) != 0) {
		snprintf(why, why_len, "SHA-256 does not match: the file is damaged");
		return HF_ECORRUPT;
	}
	return check_fields(h, why, why_len);
}

int seg_open(struct seg_reader *sr, struct stream *in, char *why, size_t why_len)
{
	uint8_t hdr[SEG_HDR_SIZE];
	int rc;

	memset(sr, 0, sizeof(*sr));
	sr->in = in;
	/* The length first: a file too short to hold a header says so. */
	if ((rc = check_len(in->size, why, why_len)) != HF_OK ||
	    (rc = stream_read(in, hdr, SEG_HDR_SIZE, why, why_len)) != HF_OK ||
	    (rc = check_frame(hdr, in->size, &sr->h, why, why_len)) != HF_OK ||
	    (rc = check_fields(&sr->h, why, why_len)) != HF_OK)
		return rc;
	if (!(sr->sha = crypto_sha256_begin())) {
		snprintf(why, why_len, "out of memory");
		return HF_ENOMEM;
	}
	crypto_sha256_update(sr->sha, hdr, SEG_HDR_SIZE);
	sr->body_left = sr->h.body_len;
	return HF_OK;
}

void seg_close(struct seg_reader *sr)
{
	crypto_sha256_end(sr->sha, NULL);
	sr->sha = NULL;
}

/* Reads up to CAP bytes more of the body into BUF (*GOT), into the sum. */
static int body_more(struct seg_reader *sr, uint8_t *buf, size_t cap, size_t *got, char *why,
		     size_t why_len)
{
	size_t n = sr->body_left < cap ? (size_t)sr->body_left : cap;
	int rc;

	if ((rc = stream_read(sr->in, buf, n, why, why_len)) != HF_OK)
		return rc;
	crypto_sha256_update(sr->sha, buf, n);
	sr->body_left -= n;
	*got = n;
	return HF_OK;
}

/* The rest of the body into the sum, then the trailer against it: HF_OK
** if they match. */
static int body_sum(struct seg_reader *sr, uint8_t *buf, size_t cap, char *why, size_t why_len)
{
	uint8_t sum[32], trailer[32];
	size_t got;
	int rc;

	while (sr->body_left)
		if ((rc = body_more(sr, buf, cap, &got, why, why_len)) != HF_OK)
			return rc;
	if ((rc = stream_read(sr->in, trailer, sizeof(trailer), why, why_len)) != HF_OK)
		return rc;
	crypto_sha256_end(sr->sha, sum);
	sr->sha = NULL;
	if (memcmp(sum, trailer, 32) != 0) {
		snprintf(why, why_len, "SHA-256 does not match: the file is damaged");
		return HF_ECORRUPT;
	}
	return HF_OK;
}

/* What zstd's error CODE means for a body, after COUNT of NPAGES records
** (the vendored zstd is built without its error strings). */
static void zstd_why(size_t code, uint32_t count, uint32_t npages, char *why, size_t why_len)
{
	ZSTD_ErrorCode e = ZSTD_getErrorCode(code);

	snprintf(why, why_len, "body: %s (zstd error %d, after %u of npages = %u records)",
		 e == ZSTD_error_frameParameter_windowTooLarge ?
			 "the zstd frame asks for a window over 8 MiB" :
		 e == ZSTD_error_prefix_unknown ? "not a zstd frame" : "not a valid zstd frame",
		 (int)e, count, npages);
}

/* Whether record COUNT (page PGNO, after page LAST) may be in the body that
** header H describes; if not, why. */
static bool record_ok(const struct seg_hdr *h, uint32_t count, uint32_t pgno, uint32_t last,
		      char *why, size_t why_len)
{
	if (count == h->npages) {
		snprintf(why, why_len, "body decompresses to more than header field npages = %u "
			 "records", h->npages);
		return false;
	}
	if (pgno == 0 || pgno > h->db_pages || pgno <= last) {
		snprintf(why, why_len, "record %u: page number %u is not from %u to db_pages = %u "
			 "(records ascend)", count, pgno, last + 1, h->db_pages);
		return false;
	}
	return true;
}

/* (seg.h.) One loop, over 80 lines: zstd's stream, a record at a time, and
** the body's ends are checked where the loop leaves them. */
int seg_read_body(struct seg_reader *sr, seg_page_fn fn, void *arg, char *why, size_t why_len)
{
	const struct seg_hdr *h = &sr->h;
	ZSTD_inBuffer in = { NULL, 0, 0 };
	ZSTD_DCtx *d = NULL;
	uint8_t *rec = NULL, *ibuf = NULL;
	size_t rec_len, fill = 0, left, icap = ZSTD_DStreamInSize(), got;
	uint32_t count = 0, last = 0;
	char swhy[300];
	int rc;

	rec_len = 4 + (size_t)h->page_size;
	if (!(rec = malloc(rec_len)) || !(ibuf = malloc(icap)) || !(d = ZSTD_createDCtx())) {
		snprintf(why, why_len, "out of memory");
		rc = HF_ENOMEM;
		goto out;
	}
	ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, SEG_WINDOW_LOG_MAX);
	/* One record at a time: the output never holds more than a page, so a
	** body that decompresses to more than its header says is stopped at
	** the first record too many, whatever the header claims. */
	for (;;) {
		if (in.pos == in.size && sr->body_left) {
			if ((rc = body_more(sr, ibuf, icap, &got, why, why_len)) != HF_OK)
				goto out;
			in = (ZSTD_inBuffer){ ibuf, got, 0 };
		}
		ZSTD_outBuffer out = { rec, rec_len, fill };
		left = ZSTD_decompressStream(d, &out, &in);
		if (ZSTD_isError(left)) {
			zstd_why(left, count, h->npages, why, why_len);
			goto bad;
		}
		fill = out.pos;
		if (fill == rec_len) {
			uint32_t pgno = get32(rec);
			if (!record_ok(h, count, pgno, last, why, why_len))
				goto bad;
			if ((rc = fn(arg, pgno, rec + 4, why, why_len)) != HF_OK)
				goto out;
			last = pgno;
			count++;
			fill = 0;
		}
		if (left == 0)
			break; /* the end of the frame */
		if (in.pos == in.size && !sr->body_left && fill < rec_len) {
			snprintf(why, why_len, "body: the zstd frame is cut short (after %u of npages "
				 "= %u records)", count, h->npages);
			goto bad;
		}
	}
	if (in.pos != in.size || sr->body_left) {
		snprintf(why, why_len, "body: %llu bytes after the zstd frame",
			 (unsigned long long)(in.size - in.pos + sr->body_left));
		goto bad;
	}
	if (fill || count != h->npages) {
		snprintf(why, why_len, "body holds %u whole records%s, header field npages = %u", count,
			 fill ? " and part of one" : "", h->npages);
		goto bad;
	}
	/* The checksum last: the pages went out before it was known, which
	** is safe only because every caller's output is disposable until the
	** whole file has passed (restore's staging file is removed on any
	** failure, restore_abort, and renamed only after integrity_check). */
	rc = body_sum(sr, ibuf, icap, why, why_len);
	if (rc == HF_OK)
		why[0] = '\0';
	goto out;
bad:
	/* A damaged file (a flipped bit on a USB stick) is said as such, not
	** as the zstd error it makes: the rest is read into the sum. A file
	** whose sum matches is as its writer made it: the writer lied, and
	** WHY names the field. */
	rc = HF_ECORRUPT;
	if (body_sum(sr, ibuf, icap, swhy, sizeof(swhy)) != HF_OK)
		snprintf(why, why_len, "%s", swhy);
out:
	ZSTD_freeDCtx(d);
	free(ibuf);
	free(rec);
	return rc;
}

int seg_decode_pages(const uint8_t *buf, size_t len, struct seg_hdr *h, seg_page_fn fn,
		     void *arg, char *why, size_t why_len)
{
	struct seg_reader sr;
	struct stream in;
	int rc;

	stream_mem(&in, buf, len);
	rc = seg_open(&sr, &in, why, why_len);
	*h = sr.h; /* before the body: FN may look at it */
	if (rc == HF_OK)
		rc = seg_read_body(&sr, fn, arg, why, why_len);
	seg_close(&sr);
	return rc;
}

struct collect {
	uint8_t *raw;
	uint32_t n, page_size;
};

static int collect_page(void *arg, uint32_t pgno, const uint8_t *page, char *why, size_t why_len)
{
	struct collect *c = arg;

	(void)why;
	(void)why_len;
	seg_put_record(c->raw, c->page_size, c->n++, pgno, page);
	return HF_OK;
}

int seg_decode(const uint8_t *buf, size_t len, struct seg_hdr *h, uint8_t **raw,
	       char *why, size_t why_len)
{
	struct collect c = { NULL, 0, 0 };
	uint64_t raw_len;
	int rc;

	*raw = NULL;
	/* The header's fields, to size RAW; the sum is checked once, by
	** seg_decode_pages as it reads the body. */
	if ((rc = check_frame(buf, len, h, why, why_len)) != HF_OK ||
	    (rc = check_fields(h, why, why_len)) != HF_OK)
		return rc;
	raw_len = (uint64_t)h->npages * (4 + h->page_size);
	if (raw_len > SEG_DECODE_MAX) {
		snprintf(why, why_len, "header field npages = %u means %llu bytes of records, over "
			 "seg_decode's %u (seg_decode_pages streams them)", h->npages,
			 (unsigned long long)raw_len, SEG_DECODE_MAX);
		return HF_ETOOBIG;
	}
	c.page_size = h->page_size;
	if (!(c.raw = malloc(raw_len ? (size_t)raw_len : 1))) {
		snprintf(why, why_len, "out of memory");
		return HF_ENOMEM;
	}
	if ((rc = seg_decode_pages(buf, len, h, collect_page, &c, why, why_len)) != HF_OK) {
		free(c.raw);
		return rc;
	}
	*raw = c.raw;
	return HF_OK;
}
