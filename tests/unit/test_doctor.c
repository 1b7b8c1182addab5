/*
** test_doctor.c: doctor's verdicts (firmware/app/doctor.c), given what the port
** would have measured: an SD card whose cache lies, tmpfs, NFS, vfat, a
** budget the disk cannot hold, a clock at 1970, modes of secrets.
*/
#include <stdlib.h>
#include <string.h>

#include "app/doctor.h"
#include "test.h"

static struct port_storage fs(const char *type, int cls, const char *dev, int removable,
			      int rotational, const char *bus)
{
	struct port_storage fi;

	memset(&fi, 0, sizeof(fi));
	snprintf(fi.type, sizeof(fi.type), "%s", type);
	fi.fs_class = cls;
	snprintf(fi.dev, sizeof(fi.dev), "%s", dev);
	fi.removable = removable;
	fi.rotational = rotational;
	snprintf(fi.bus, sizeof(fi.bus), "%s", bus);
	return fi;
}

TEST(doctor_storage_classes)
{
	struct dr_check c;
	struct port_storage fi;

	fi = fs("ext2/3/4", PORT_FS_LOCAL, "mmcblk0", 0, 0, "sd");
	dr_storage(&fi, &c);
	CHECK_INT(c.status, DR_OK);
	CHECK(strstr(c.what, "ext2/3/4 on mmcblk0"));
	fi = fs("tmpfs", PORT_FS_MEMORY, "", -1, -1, "");
	dr_storage(&fi, &c);
	CHECK_INT(c.status, DR_FAIL);
	CHECK(strstr(c.what, "power cut"));
	CHECK(strstr(c.todo, "disk"));
	fi = fs("NFS", PORT_FS_NETWORK, "", -1, -1, "");
	dr_storage(&fi, &c);
	CHECK_INT(c.status, DR_FAIL);
	CHECK(strstr(c.what, "NFS: network"));
	fi = fs("vfat", PORT_FS_LOCAL, "sda", 1, 0, "usb");
	dr_storage(&fi, &c);
	CHECK_INT(c.status, DR_WARN);
	CHECK(strstr(c.what, "no journal"));
	CHECK(strstr(c.json, "\"class\":\"local\""));
}

TEST(doctor_space_against_budget_and_floor)
{
	struct dr_check c;
	const uint64_t M = 1 << 20;

	dr_space(900 * M, 10 * M, 400 * M, 40 * M, false, &c);
	CHECK_INT(c.status, DR_OK);
	/* The disk gives 210 MiB; the budget asks 400. */
	dr_space(200 * M, 10 * M, 400 * M, 40 * M, false, &c);
	CHECK_INT(c.status, DR_WARN);
	CHECK(strstr(c.todo, "max_bytes to at most 189MiB"));
	CHECK(strstr(c.what, "10% of the file system"));
	dr_space(200 * M, 10 * M, 400 * M, 40 * M, true, &c);
	CHECK(!strstr(c.what, "10%"));
	/* Not even the floor. */
	dr_space(20 * M, 10 * M, 400 * M, 40 * M, false, &c);
	CHECK_INT(c.status, DR_FAIL);
	CHECK(strstr(c.what, "floor"));
	/* Exactly the budget is enough. */
	dr_space(390 * M, 10 * M, 400 * M, 40 * M, false, &c);
	CHECK_INT(c.status, DR_OK);
}

TEST(doctor_fsync_lying_cache_on_removable_media)
{
	struct dr_check c;
	struct port_storage sd = fs("ext2/3/4", PORT_FS_LOCAL, "mmcblk0", 0, 0, "sd");
	struct port_storage usb = fs("ext2/3/4", PORT_FS_LOCAL, "sda", 1, 0, "usb");
	struct port_storage nvme = fs("ext2/3/4", PORT_FS_LOCAL, "nvme0n1", 0, 0, "nvme");
	struct port_storage emmc = fs("ext2/3/4", PORT_FS_LOCAL, "mmcblk1", 0, 0, "mmc");
	uint64_t fast[5] = { 30, 12, 20, 900, 15 }, honest[5] = { 4000, 2500, 3100, 2900, 60000 };

	/* An SD card says removable=0; its bus tells. */
	CHECK(dr_is_removable(&sd));
	CHECK(dr_is_removable(&usb));
	CHECK(!dr_is_removable(&nvme));
	CHECK(!dr_is_removable(&emmc));
	dr_fsync(fast, 5, &sd, &c);
	CHECK_INT(c.status, DR_WARN);
	CHECK(strstr(c.what, "median 20 us over 5 fsyncs"));
	CHECK(strstr(c.what, "mmcblk0: an SD card, removable media, removable=0, rotational=0"));
	CHECK(strstr(c.json, "\"median_us\":20,\"min_us\":12,\"max_us\":900"));
	dr_fsync(honest, 5, &usb, &c);
	CHECK_INT(c.status, DR_OK);
	CHECK(strstr(c.what, "median 3100 us"));
	/* Fast on a disk that may have power-loss protection: not said wrong. */
	uint64_t fast2[5] = { 30, 12, 20, 900, 15 };
	dr_fsync(fast2, 5, &nvme, &c);
	CHECK_INT(c.status, DR_OK);
	/* The threshold is strict: 50 us is not under it. */
	uint64_t edge[3] = { 50, 50, 50 };
	dr_fsync(edge, 3, &usb, &c);
	CHECK_INT(c.status, DR_OK);
	uint64_t slow[3] = { 200000, 300000, 150000 };
	dr_fsync(slow, 3, &nvme, &c);
	CHECK_INT(c.status, DR_WARN);
	CHECK(strstr(c.what, "slow"));
	struct port_storage none = fs("overlayfs", PORT_FS_LOCAL, "", -1, -1, "");
	uint64_t some[1] = { 700 };
	dr_fsync(some, 1, &none, &c);
	CHECK(strstr(c.what, "no block device below overlayfs"));
}

TEST(doctor_clock)
{
	struct dr_check c;
	struct port_clock_state st = { .utc_ms = 1800000000000LL, .synchronised = true,
				       .max_error_us = 16000, .build_utc_s = 1700000000,
				       .trusted = true };

	dr_clock(&st, false, &c);
	CHECK_INT(c.status, DR_OK);
	CHECK(strstr(c.what, "maximum error 16 ms"));
	st.synchronised = st.trusted = false;
	dr_clock(&st, true, &c);
	CHECK_INT(c.status, DR_WARN);
	CHECK(strstr(c.what, "STA_UNSYNC"));
	CHECK(strstr(c.todo, "NTP"));
	/* A board that booted at 1970: S3 would refuse its signatures. */
	st.utc_ms = 5000;
	dr_clock(&st, false, &c);
	CHECK_INT(c.status, DR_WARN);
	dr_clock(&st, true, &c);
	CHECK_INT(c.status, DR_FAIL);
	CHECK(strstr(c.what, "before this binary was built"));
	CHECK(strstr(c.json, "\"synchronised\":false"));
}

TEST(doctor_modes)
{
	struct dr_check c;

	dr_datadir(0700, true, true, &c);
	CHECK_INT(c.status, DR_OK);
	dr_datadir(0755, true, true, &c);
	CHECK_INT(c.status, DR_WARN);
	dr_datadir(0777, true, true, &c);
	CHECK_INT(c.status, DR_FAIL);
	CHECK(strstr(c.what, "mode 0777"));
	dr_datadir(0700, false, false, &c);
	CHECK_INT(c.status, DR_FAIL);
	dr_datadir(0700, false, true, &c);
	CHECK_INT(c.status, DR_WARN);
	dr_secret_file("[replica] credentials_file", "/etc/c", 0600, true, &c);
	CHECK_INT(c.status, DR_OK);
	dr_secret_file("[replica] credentials_file", "/etc/c", 0644, true, &c);
	CHECK_INT(c.status, DR_FAIL);
	CHECK_STR(c.todo, "chmod 600 /etc/c");
	dr_secret_file("[replica] credentials_file", "/etc/c", 0640, true, &c);
	CHECK_INT(c.status, DR_FAIL);
	dr_secret_file("[replica] key_file", "/etc/k", 0600, false, &c);
	CHECK_INT(c.status, DR_WARN);
}

TEST(doctor_json_string_escapes)
{
	FILE *f = fopen("j.txt", "w");

	CHECK(f != NULL);
	dr_json_string(f, "a\"b\\c\nd\001e\xc3\xa9");
	fclose(f);
	CHECK_STR(test_read_file("j.txt"), "\"a\\\"b\\\\c\\nd\\u0001e\xc3\xa9\"");
	CHECK_STR(dr_status_name(DR_WARN), "warn");
}
