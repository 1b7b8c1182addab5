/*
** test_ship.c: the WAL reader against real SQLite WALs, and the segment
** format's checks.
*/
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fmt/cfg.h"
#include "fmt/seg.h"
#include "fmt/wal.h"
#include "port.h"
#include "ship/restore.h"
#include "ship/ship.h"
#include "sqlite3.h"
#include "test.h"

static sqlite3 *wal_db(void)
{
	sqlite3 *db = NULL;

	CHECK_INT(sqlite3_open("w.db", &db), SQLITE_OK);
	/* Keep the WAL at close, as holdfast does. */
	CHECK_INT(sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;"
				   "PRAGMA cache_size=2; CREATE TABLE t(v BLOB)",
			       NULL, NULL, NULL),
		  SQLITE_OK);
	return db;
}

static int count_frames(void *arg, uint32_t pgno, uint32_t frame, const uint8_t *page)
{
	(void)pgno;
	(void)frame;
	(void)page;
	(*(int *)arg)++;
	return 0;
}

TEST(wal_reader_stops_at_the_last_commit)
{
	sqlite3 *db = wal_db();
	struct wal_pos start, end;
	uint32_t pages;
	int n = 0, log = 0, ckpt = 0;

	for (int i = 0; i < 5; i++)
		CHECK_INT(sqlite3_exec(db, "INSERT INTO t VALUES (randomblob(3000))", NULL, NULL,
				       NULL), SQLITE_OK);
	CHECK_INT(wal_header("w.db-wal", &start), HF_OK);
	CHECK_INT(wal_read("w.db-wal", &start, count_frames, &n, &end, &pages), HF_OK);
	CHECK_INT(n, (int)end.frame);
	CHECK(pages >= 2);

	/* A big transaction spills frames before its commit (cache_size=2):
	** the reader must not report them. */
	CHECK_INT(sqlite3_exec(db, "BEGIN; INSERT INTO t VALUES (randomblob(200000));", NULL, NULL,
			       NULL), SQLITE_OK);
	struct wal_pos end2;
	uint32_t pages2;
	int n2 = 0;
	CHECK_INT(wal_read("w.db-wal", &start, count_frames, &n2, &end2, &pages2), HF_OK);
	CHECK_INT((int)end2.frame, (int)end.frame);
	CHECK_INT(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	CHECK_INT(wal_read("w.db-wal", &end, NULL, NULL, &end2, &pages2), HF_OK);
	CHECK(end2.frame > end.frame + 40); /* resumed from END, not from the start */
	/* SQLite's own count of valid frames: a PASSIVE checkpoint reports it. */
	CHECK_INT(sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &ckpt),
		  SQLITE_OK);
	CHECK_INT((int)end2.frame, log);
	sqlite3_close(db);
}

TEST(wal_reader_ignores_a_torn_tail)
{
	sqlite3 *db = wal_db();
	struct wal_pos start, end, end2;
	uint32_t pages;
	int fd;

	CHECK_INT(sqlite3_exec(db, "INSERT INTO t VALUES (randomblob(100))", NULL, NULL, NULL),
		  SQLITE_OK);
	CHECK_INT(wal_header("w.db-wal", &start), HF_OK);
	CHECK_INT(wal_read("w.db-wal", &start, NULL, NULL, &end, &pages), HF_OK);
	CHECK_INT(sqlite3_exec(db, "INSERT INTO t VALUES (randomblob(100))", NULL, NULL, NULL),
		  SQLITE_OK);
	sqlite3_close(db);
	/* Cut the last frame in half, as a power cut can. */
	fd = open("w.db-wal", O_WRONLY);
	CHECK(fd >= 0);
	CHECK_INT(ftruncate(fd, (off_t)wal_frame_offset(start.page_size, end.frame) + 1000), 0);
	close(fd);
	CHECK_INT(wal_read("w.db-wal", &start, NULL, NULL, &end2, &pages), HF_OK);
	CHECK_INT((int)end2.frame, (int)end.frame);
	/* A damaged header is no WAL at all, as for SQLite. (A byte of the
	** random salt flipped: writing a fixed byte would leave it unchanged
	** once in 256 runs.) */
	uint8_t b;
	fd = open("w.db-wal", O_RDWR);
	CHECK_INT((int)pread(fd, &b, 1, 20), 1);
	b ^= 0xff;
	CHECK_INT((int)pwrite(fd, &b, 1, 20), 1);
	close(fd);
	CHECK_INT(wal_header("w.db-wal", &start), HF_ECORRUPT);
	CHECK_INT(wal_header("missing-wal", &start), HF_ENOENT);
}

TEST(segment_round_trip_and_damage)
{
	uint8_t page[1024], *raw = malloc(3 * (4 + sizeof(page))), *file, *back;
	struct seg_hdr h = { 0 }, got;
	char why[200];
	size_t len;

	for (uint32_t i = 0; i < 3; i++) {
		memset(page, (int)('a' + i), sizeof(page));
		seg_put_record(raw, sizeof(page), i, i * 2 + 1, page);
	}
	h.kind = SEG_FRAMES;
	h.page_size = sizeof(page);
	snprintf(h.device, sizeof(h.device), "dev");
	h.generation = 0x100000002ull;
	h.seq = 7;
	h.db_pages = 5;
	h.npages = 3;
	h.utc_ms = -1;
	CHECK_INT(seg_encode(&h, raw, 3 * (4 + sizeof(page)), &file, &len), HF_OK);
	CHECK_INT(seg_decode(file, len, &got, &back, why, sizeof(why)), HF_OK);
	CHECK_INT((int)got.seq, 7);
	CHECK_INT((int)got.utc_ms, -1);
	CHECK_STR(got.device, "dev");
	CHECK(memcmp(back, raw, 3 * (4 + sizeof(page))) == 0);
	const uint8_t *p;
	CHECK_INT((int)seg_record(back, sizeof(page), 2, &p), 5);
	CHECK_INT(p[0], 'c');
	free(back);
	/* Any flipped byte is caught: header, body or trailer. */
	for (size_t off = 0; off < len; off += len / 17 + 1) {
		file[off] ^= 0x40;
		CHECK(seg_decode(file, len, &got, &back, why, sizeof(why)) != HF_OK);
		file[off] ^= 0x40;
	}
	CHECK(seg_decode(file, len - 1, &got, &back, why, sizeof(why)) != HF_OK);
	/* A newer format is refused as such, not as damage. */
	file[7] = SEG_VERSION + 1;
	CHECK_INT(seg_decode(file, len, &got, &back, why, sizeof(why)), HF_ENOTSUP);
	CHECK(strstr(why, "format") != NULL);
	free(file);
	free(raw);
}

/* A record's page number, for seg_decode_pages. */
static int first_pgno(void *arg, uint32_t pgno, const uint8_t *page, char *why, size_t why_len)
{
	(void)page;
	(void)why;
	(void)why_len;
	if (!*(uint32_t *)arg)
		*(uint32_t *)arg = pgno;
	return HF_OK;
}

/* Hostile headers and bodies (a replica is input from outside): each is
** refused before anything is sized from it, naming the field. */
TEST(segment_refuses_hostile_fields)
{
	uint8_t page[512], raw[2 * (4 + 512)], *file;
	struct seg_hdr h = { 0 }, got;
	char why[300];
	uint32_t first = 0;
	size_t len;

	memset(page, 'x', sizeof(page));
	h.kind = SEG_FRAMES;
	h.page_size = sizeof(page);
	h.db_pages = 1; /* two records cannot fit in one page */
	h.npages = 2;
	seg_put_record(raw, sizeof(page), 0, 1, page);
	seg_put_record(raw, sizeof(page), 1, 2, page);
	CHECK_INT(seg_encode(&h, raw, sizeof(raw), &file, &len), HF_OK);
	CHECK_INT(seg_check(file, len, &got, why, sizeof(why)), HF_ECORRUPT);
	CHECK(strstr(why, "npages = 2 exceeds db_pages = 1") != NULL);
	free(file);
	/* Page number 0 (it once wrote before the page buffer). */
	h.db_pages = 5;
	seg_put_record(raw, sizeof(page), 0, 0, page);
	CHECK_INT(seg_encode(&h, raw, sizeof(raw), &file, &len), HF_OK);
	CHECK_INT(seg_decode_pages(file, len, &got, first_pgno, &first, why, sizeof(why)),
		  HF_ECORRUPT);
	CHECK(strstr(why, "page number 0") != NULL);
	CHECK_INT((int)first, 0);
	free(file);
	/* Descending page numbers. */
	seg_put_record(raw, sizeof(page), 0, 3, page);
	CHECK_INT(seg_encode(&h, raw, sizeof(raw), &file, &len), HF_OK);
	CHECK_INT(seg_decode_pages(file, len, &got, first_pgno, &first, why, sizeof(why)),
		  HF_ECORRUPT);
	CHECK(strstr(why, "page number 2") != NULL);
	free(file);
	/* Fewer records than the header says; a page size not a power of two. */
	h.npages = 3;
	CHECK_INT(seg_encode(&h, raw, sizeof(raw), &file, &len), HF_OK);
	CHECK_INT(seg_decode_pages(file, len, &got, first_pgno, &first, why, sizeof(why)),
		  HF_ECORRUPT);
	free(file);
	h.npages = 2;
	h.page_size = 513;
	CHECK_INT(seg_encode(&h, raw, sizeof(raw), &file, &len), HF_OK);
	CHECK_INT(seg_check(file, len, &got, why, sizeof(why)), HF_ECORRUPT);
	CHECK(strstr(why, "page_size = 513") != NULL);
	free(file);
	/* A snapshot holds every page. */
	h.page_size = sizeof(page);
	h.kind = SEG_SNAPSHOT;
	CHECK_INT(seg_encode(&h, raw, sizeof(raw), &file, &len), HF_OK);
	CHECK_INT(seg_check(file, len, &got, why, sizeof(why)), HF_ECORRUPT);
	CHECK(strstr(why, "a snapshot holds every one") != NULL);
	free(file);
}

TEST(restore_escape_makes_names_printable)
{
	char out[64];

	restore_escape("dev\x1b[2J\nx\\", 10, out, sizeof(out));
	CHECK_STR(out, "dev\\x1b[2J\\x0ax\\x5c");
	restore_escape("\x1b\x1b\x1b", 3, out, 10); /* cut between escapes, never inside one */
	CHECK_STR(out, "\\x1b\\x1b");
}

static struct ship_budget rolled(int64_t day, uint64_t used, int64_t today)
{
	struct ship_budget b = { day, used, 0, 0 };

	ship_budget_roll(&b, today);
	return b;
}

TEST(budget_day_carries_over_a_change_of_clock)
{
	struct ship_budget b;

	CHECK_INT(ship_budget_day(20000LL * 86400000 + 5, true, 123), 20000);
	CHECK_INT(ship_budget_day(0, false, 3ULL * 86400000 + 1), -4);
	CHECK_INT(rolled(20000, 500, 20000).used, 500);
	CHECK_INT(rolled(20000, 500, 20001).used, 0);  /* a new UTC day */
	CHECK_INT(rolled(-1, 500, -2).used, 0);        /* 24 h more of monotonic time */
	CHECK_INT(rolled(-1, 500, 20001).used, 500);   /* the clock became trusted */
	/* Trust lost on day 20001 (a reboot): carried, and remembered as such. */
	b = rolled(20001, 500, -1);
	CHECK_INT(b.used, 500);
	CHECK_INT(b.carried, 500);
	CHECK_INT(b.from, 20001);
	b.used += 40; /* sent while untrusted */
	/* Back the same UTC day: all of it counts. */
	struct ship_budget same = b;
	ship_budget_roll(&same, 20001);
	CHECK_INT(same.used, 540);
	CHECK_INT(same.carried, 0);
	/* Back a day later: only what the untrusted span sent. */
	ship_budget_roll(&b, 20002);
	CHECK_INT(b.used, 40);
	CHECK_INT(b.day, 20002);
	/* So trust coming and going never carries a day's count on for ever. */
	b = rolled(20002, 70000, -1);
	ship_budget_roll(&b, 20003);
	CHECK_INT(b.used, 0);
}

TEST(limit_reads_the_shared_budget_count)
{
	struct cfg c;
	struct ship s;
	char text[96], why[160];
	bool trusted;
	int64_t utc = port_clock_utc(&trusted);
	int64_t today = ship_budget_day(utc, trusted, port_clock_mono_ms());

	cfg_init(&c);
	c.daily_budget = 100000;
	CHECK_INT(ship_init(&s, ".", &c), HF_OK);
	CHECK_INT(ship_limit(&s), SHIP_LIMIT_NONE);
	CHECK_INT(s.allowance, 100000);
	CHECK(s.allowance_whole);
	/* Another process counted 60000 bytes today. */
	CHECK_INT(port_fs_mkdir("spool", 0700), HF_OK);
	snprintf(text, sizeof(text), "day %lld used 60000\n", (long long)today);
	test_write_file("spool/budget", text);
	CHECK_INT(ship_limit(&s), SHIP_LIMIT_NONE);
	CHECK_INT(s.allowance, 40000);
	CHECK(!s.allowance_whole);
	snprintf(text, sizeof(text), "day %lld used 100000\n", (long long)today);
	test_write_file("spool/budget", text);
	CHECK_INT(ship_limit(&s), SHIP_LIMIT_BUDGET);
	CHECK_INT(s.allowance, 0);
	ship_limit_why(&s, SHIP_LIMIT_BUDGET, why, sizeof(why));
	CHECK_STR(why, "the daily budget is spent (100000 of 100000 bytes sent today)");
	/* Yesterday's count (of the same clock) is not today's (a monotonic
	** clock in its first day has no yesterday). */
	if (today != -1) {
		snprintf(text, sizeof(text), "day %lld used 100000\n",
			 (long long)(today < 0 ? today + 1 : today - 1));
		test_write_file("spool/budget", text);
		CHECK_INT(ship_limit(&s), SHIP_LIMIT_NONE);
		CHECK_INT(s.allowance, 100000);
	}
	ship_free(&s);
}

/* Streamed (restore's reader: the checksum at the end), a damaged file is
** still said to be damaged, whatever error its body makes first, and a
** header that lies is still named, field by field. */
TEST(segment_streamed_says_damage)
{
	uint8_t page[512], raw[2 * (4 + 512)], *file;
	struct seg_hdr h = { 0 }, got;
	char why[300];
	uint32_t first = 0;
	size_t len;

	memset(page, 'x', sizeof(page));
	memcpy(page, "SQLite format 3", 16);
	h.kind = SEG_SNAPSHOT;
	h.page_size = sizeof(page);
	h.db_pages = h.npages = 2;
	seg_put_record(raw, sizeof(page), 0, 1, page);
	seg_put_record(raw, sizeof(page), 1, 2, page);
	CHECK_INT(seg_encode(&h, raw, sizeof(raw), &file, &len), HF_OK);
	CHECK_INT(seg_decode_pages(file, len, &got, first_pgno, &first, why, sizeof(why)), HF_OK);
	CHECK_INT((int)first, 1);
	/* Every byte of the body flipped in turn, and of the trailer. */
	for (size_t i = SEG_HDR_SIZE; i < len; i++) {
		file[i] ^= 0x20;
		CHECK_INT(seg_decode_pages(file, len, &got, first_pgno, &first, why, sizeof(why)),
			  HF_ECORRUPT);
		CHECK(strstr(why, "SHA-256 does not match") != NULL);
		file[i] ^= 0x20;
	}
	/* A header field flipped: the field is named before the body is read. */
	file[64 + 3] ^= 0x07; /* db_pages 2 -> 5, npages stays 2 */
	CHECK_INT(seg_decode_pages(file, len, &got, first_pgno, &first, why, sizeof(why)),
		  HF_ECORRUPT);
	CHECK(strstr(why, "npages = 2, but a snapshot") != NULL);
	free(file);
}
