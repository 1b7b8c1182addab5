/*
** seg.h: sealed segments and snapshots, the files holdfast ships.
**
** firmware/fmt/: pure formats (this one, the config, cron, schedules, the
** WAL's frames, HTTP, S3's XML, SigV4, the replica envelope, manifests):
** bytes in, bytes or structs out, on base/ alone.
**
** Format version 1 (all integers big-endian):
**
**   offset size  field
**        0    6  magic "HFSEG\0"
**        6    2  format version (1); a reader takes every version up to its own
**        8    1  kind: 1 snapshot (every page of the database), 2 segment (the
**                latest version of each page written since the previous one)
**        9    3  reserved, zero
**       12    4  page size
**       16   32  device name, NUL-padded
**       48    8  generation
**       56    8  seq: 0 for the snapshot, then 1, 2, ... without gaps
**       64    4  database size in pages after the last commit included
**       68    4  number of page records in the body
**       72    8  WAL salts the frames came from
**       80    4  first WAL frame included
**       84    4  WAL frame after the last one included
**       88    8  boot counter when sealed
**       96    8  wall time when sealed, ms since the epoch; -1 if untrusted
**      104    8  monotonic time when sealed, ms
**      112    8  body length in bytes
**      120    8  reserved, zero
**      128    -  body: one zstd frame of records, ascending by page number,
**                each a 4-byte page number and the page
**        -   32  SHA-256 of everything before it
**
** A snapshot followed by segments 1..N, applied in order (write each page,
** then cut the file to the recorded size), gives the database as of
** segment N's last commit.
*/
#ifndef HF_SEG_H
#define HF_SEG_H

#include <stddef.h>
#include <stdint.h>

#define SEG_VERSION 1
#define SEG_HDR_SIZE 128
#define SEG_TRAILER_SIZE 32
#define SEG_DEVICE_MAX 32

enum seg_kind { SEG_SNAPSHOT = 1, SEG_FRAMES = 2 };

struct seg_hdr {
	unsigned version;
	enum seg_kind kind;
	uint32_t page_size;
	char device[SEG_DEVICE_MAX + 1];
	uint64_t generation;
	uint64_t seq;
	uint32_t db_pages;
	uint32_t npages;
	uint32_t salt[2];
	uint32_t frame_first, frame_end;
	uint64_t boot;
	int64_t utc_ms;
	uint64_t mono_ms;
	uint64_t body_len;
};

/*
** Builds a whole segment file into a heap buffer *OUT (*OUT_LEN bytes) from
** H (body_len is filled in) and RAW, the uncompressed records
** (H->npages * (4 + page_size) bytes).
*/
int seg_encode(struct seg_hdr *h, const uint8_t *raw, size_t raw_len, uint8_t **out,
	       size_t *out_len);

/* SQLite's largest page count (4294967294), the bound of db_pages. */
#define SEG_DB_PAGES_MAX 0xfffffffeu

/* seg_decode's bound on the records it holds in memory. */
#define SEG_DECODE_MAX (64u * 1024 * 1024)

/*
** Checks segment file BUF (LEN bytes, the whole file) before anything is
** decompressed: magic, version, body_len against LEN, the SHA-256 trailer,
** then every field against what the format allows (kind; page_size a power
** of two from 512 to 65536; db_pages from 1 to SEG_DB_PAGES_MAX; npages at
** most db_pages, and equal to it in a snapshot) and against what the body's
** length can hold. On failure WHY names the field (HF_ECORRUPT, or
** HF_ENOTSUP for a newer format).
*/
int seg_check(const uint8_t *buf, size_t len, struct seg_hdr *h, char *why, size_t why_len);

/*
** A segment file read as a stream (restore: files of any size in bounded
** memory). seg_open reads the header from IN (IN->size: the file's
** length) and checks it as seg_check does, all but the SHA-256, which
** needs the whole file: it is summed as the body goes by and checked
** against the trailer at the end, by seg_read_body. That decompresses the
** body one record at a time, each handed to FN (which returns HF_OK to go
** on, or an error, with WHY filled in): never more than one page, the zstd
** window (at most 8 MiB) and one input buffer in memory, whatever the
** header says. Page numbers must ascend within 1..db_pages; the body must
** hold exactly npages records in one zstd frame and nothing after it. FN
** has seen pages before the sum is known: its output must be disposable
** until seg_read_body returns HF_OK. WHY is always set on failure, saying
** "SHA-256 does not match" for a damaged file. seg_close is due after
** seg_open, whatever it returned.
*/
struct stream;
struct crypto_sha256;
struct seg_reader {
	struct seg_hdr h;          /* set by seg_open */
	struct stream *in;
	struct crypto_sha256 *sha; /* header and body so far */
	uint64_t body_left;        /* body bytes not read yet */
};
typedef int (*seg_page_fn)(void *arg, uint32_t pgno, const uint8_t *page, char *why,
			   size_t why_len);
int seg_open(struct seg_reader *sr, struct stream *in, char *why, size_t why_len);
int seg_read_body(struct seg_reader *sr, seg_page_fn fn, void *arg, char *why, size_t why_len);
void seg_close(struct seg_reader *sr);

/* Both over a whole file in memory (BUF, LEN bytes); H is its header. */
int seg_decode_pages(const uint8_t *buf, size_t len, struct seg_hdr *h, seg_page_fn fn,
		     void *arg, char *why, size_t why_len);

/*
** The same, gathered: on success *RAW holds the records (heap, caller
** frees), at most SEG_DECODE_MAX bytes of them (HF_ETOOBIG past it). For
** tests and small files; restore streams (seg_read_body).
*/
int seg_decode(const uint8_t *buf, size_t len, struct seg_hdr *h, uint8_t **raw,
	       char *why, size_t why_len);

/*
** The same, fed page by page: the body is compressed as the records come,
** so a snapshot never holds the uncompressed database in memory.
*/
struct seg_stream;
int seg_stream_begin(struct seg_stream **ss);
int seg_stream_put(struct seg_stream *ss, uint32_t pgno, const uint8_t *page, uint32_t page_size);
int seg_stream_finish(struct seg_stream *ss, struct seg_hdr *h, uint8_t **out, size_t *out_len);
void seg_stream_free(struct seg_stream *ss);

/* Only the header (no checksum check; BUF may hold just its SEG_HDR_SIZE
** bytes): for listings. */
int seg_peek(const uint8_t *buf, size_t len, struct seg_hdr *h);

/* Record I of RAW: its page number and page. */
uint32_t seg_record(const uint8_t *raw, uint32_t page_size, uint32_t i, const uint8_t **page);

/* Writes record I of RAW: seg_record_slot writes its page number and returns
** where its page goes; seg_put_record copies PAGE there too. */
uint8_t *seg_record_slot(uint8_t *raw, uint32_t page_size, uint32_t i, uint32_t pgno);
void seg_put_record(uint8_t *raw, uint32_t page_size, uint32_t i, uint32_t pgno,
		    const uint8_t *page);

#endif /* HF_SEG_H */
