/*
** seal.c (tools/bench): the CPU price of [replica] key_file. Per round, on
** the same data in the same process:
**   plain     what shipping costs without a key: seg_encode (zstd and the
**             SHA-256 trailer) of each 1 MiB of page records, and
**             seg_decode of the file on restore
**   envelope  what the key adds: rcrypt_seal of each segment file and
**             rcrypt_open of the result
** Rounds alternate the two so a load swing on this shared machine hits both.
** CPU time is the process's (CLOCK_PROCESS_CPUTIME_ID), not wall time, so
** other processes matter only through the cache and the clock speed.
** Usage: bench-seal MIB ROUNDS. Prints the medians, CPU seconds per GiB of
** page records: "encode decode seal open file_to_raw_ratio" (the device
** pays encode and seal; a restore decode and open).
** Not a test: it asserts nothing (but exits 1 if a round trip differs).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fmt/rcrypt.h"
#include "fmt/seg.h"
#include "port.h"

#define PAGE 4096
#define SEG_RAW (256 * (4 + PAGE)) /* about 1 MiB of records per segment */

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Job-log-like pages: rows of text and numbers (a job's argv, its output
** lines, states, times), with fresh numbers in each, so zstd finds about
** the redundancy a real log page has. */
static void fill(uint8_t *raw, size_t n, unsigned *seed)
{
	for (size_t i = 0; i + 4 + PAGE <= n; i += 4 + PAGE) {
		uint32_t pgno = (uint32_t)(i / (4 + PAGE)) + 2;
		char *p = (char *)raw + i + 4;
		size_t off = 0;
		raw[i] = (uint8_t)(pgno >> 24);
		raw[i + 1] = (uint8_t)(pgno >> 16);
		raw[i + 2] = (uint8_t)(pgno >> 8);
		raw[i + 3] = (uint8_t)pgno;
		while (off + 80 < PAGE) {
			*seed = *seed * 1103515245u + 12345u;
			off += (size_t)snprintf(p + off, PAGE - off,
						"%u|sh -c seq 1 %u|succeeded|%u|%08x\n", *seed >> 12,
						(*seed >> 20) & 4095, *seed & 0xfffff, *seed);
		}
		memset(p + off, 0, PAGE - off);
	}
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 64;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	size_t nseg = mib * 1024 * 1024 / SEG_RAW, file_bytes = 0;
	double *t[4];
	uint8_t *raw = malloc(SEG_RAW);
	struct rcrypt k;
	unsigned seed = 1;
	FILE *f;

	for (int i = 0; i < 4; i++)
		if (!(t[i] = calloc((size_t)(rounds > 0 ? rounds : 1), sizeof(double))))
			return 2;
	if (!raw || !nseg || rounds < 1)
		return 2;
	/* A throwaway key, written as holdfast reads one. */
	if (!(f = fopen("bench-seal.key", "w")))
		return 2;
	fprintf(f, "bench 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
	fclose(f);
	chmod("bench-seal.key", 0600);
	if (rcrypt_load(&k, "bench-seal.key") != HF_OK)
		return 2;
	remove("bench-seal.key");
	for (int r = 0; r < rounds; r++) {
		double sum[4] = { 0, 0, 0, 0 };
		file_bytes = 0;
		for (size_t s = 0; s < nseg; s++) {
			struct seg_hdr h = { 0 }, back;
			uint8_t *file, *rec, *sealed;
			size_t flen, slen, plen;
			char why[200], rel[80];
			double c[5];
			fill(raw, SEG_RAW, &seed);
			h.version = SEG_VERSION;
			h.kind = SEG_FRAMES;
			h.page_size = PAGE;
			snprintf(h.device, sizeof(h.device), "bench");
			h.generation = 1;
			h.seq = s + 1;
			h.npages = SEG_RAW / (4 + PAGE);
			h.db_pages = h.npages + 1;
			snprintf(rel, sizeof(rel), "bench/0000000000000001/seg/%016zx.zst", s + 1);
			c[0] = cpu_s();
			if (seg_encode(&h, raw, SEG_RAW, &file, &flen) != HF_OK)
				return 1;
			c[1] = cpu_s();
			if (seg_decode(file, flen, &back, &rec, why, sizeof(why)) != HF_OK)
				return 1;
			c[2] = cpu_s();
			if (rcrypt_seal(&k, rel, file, flen, &sealed, &slen) != HF_OK)
				return 1;
			c[3] = cpu_s();
			if (rcrypt_open(&k, rel, sealed, slen, &plen, why, sizeof(why)) != HF_OK)
				return 1;
			c[4] = cpu_s();
			if (plen != flen || memcmp(sealed, file, flen) || memcmp(rec, raw, SEG_RAW))
				return 1;
			for (int i = 0; i < 4; i++)
				sum[i] += c[i + 1] - c[i];
			file_bytes += flen;
			free(file);
			free(rec);
			free(sealed);
		}
		for (int i = 0; i < 4; i++)
			t[i][r] = sum[i];
	}
	double gib_raw = (double)nseg * SEG_RAW / (1024.0 * 1024 * 1024);
	for (int i = 0; i < 4; i++) {
		qsort(t[i], (size_t)rounds, sizeof(double), cmp);
		printf("%.3f ", t[i][rounds / 2] / gib_raw);
	}
	printf("%.4f\n", (double)file_bytes / ((double)nseg * SEG_RAW));
	rcrypt_free(&k);
	return 0;
}
