/*
** storage.c (linux): what the storage under a data directory is, and how
** long an fsync on it takes, for `holdfast doctor`.
**
** The file system's type is statfs(2)'s f_type (fs_magic.h). The disk below
** it is found from the directory's st_dev: /sys/dev/block/MAJ:MIN links to
** the device's sysfs node; a partition's parent is its disk, whose
** "removable" and "queue/rotational" say what it is. SD cards usually say
** removable=0 (the slot is not a removable drive to the kernel), so the bus
** is told too: "usb" if the node sits below a USB device, "sd" or "mmc"
** (eMMC) from the MMC card's device/type. A file system on no block device
** (tmpfs, NFS, overlayfs, a btrfs subvolume: major 0) has none of that.
**
** The fsync probe writes 4 KiB at a new offset of a hidden file in the
** directory and times each fsync on the monotonic clock: an honest flush
** to flash or a disk takes milliseconds, one a volatile cache swallows
** takes microseconds.
*/
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "fs_magic.h"
#include "port.h"

/* The first line of sysfs file DIR/NAME into BUF; false if unreadable. */
static bool sys_read(const char *dir, const char *name, char *buf, size_t cap)
{
	char path[PATH_MAX + 64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return true;
}

static int sys_flag(const char *dir, const char *name)
{
	char v[16];

	return sys_read(dir, name, v, sizeof(v)) ? v[0] == '1' : -1;
}

/* The disk below device DEV: its name, flags and bus. */
static void block_device(dev_t dev, struct port_storage *fi)
{
	char link[64], node[PATH_MAX], type[16], probe[PATH_MAX + 16];
	struct stat st;
	char *slash;

	snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", major(dev), minor(dev));
	if (!realpath(link, node))
		return;
	/* A partition's node sits in its disk's. */
	snprintf(probe, sizeof(probe), "%s/partition", node);
	if (stat(probe, &st) == 0 && (slash = strrchr(node, '/')))
		*slash = '\0';
	if (!(slash = strrchr(node, '/')))
		return;
	snprintf(fi->dev, sizeof(fi->dev), "%s", slash + 1);
	fi->removable = sys_flag(node, "removable");
	fi->rotational = sys_flag(node, "queue/rotational");
	if (strstr(node, "/usb"))
		snprintf(fi->bus, sizeof(fi->bus), "usb");
	else if (sys_read(node, "device/type", type, sizeof(type)) && !strcmp(type, "SD"))
		snprintf(fi->bus, sizeof(fi->bus), "sd");
	else if (!strncmp(fi->dev, "mmcblk", 6))
		snprintf(fi->bus, sizeof(fi->bus), "mmc");
	else if (!strncmp(fi->dev, "nvme", 4))
		snprintf(fi->bus, sizeof(fi->bus), "nvme");
	else if (strstr(node, "/virtio"))
		snprintf(fi->bus, sizeof(fi->bus), "virtio");
	else if (!strncmp(fi->dev, "loop", 4))
		snprintf(fi->bus, sizeof(fi->bus), "loop");
	else if (!strncmp(fi->dev, "dm-", 3))
		snprintf(fi->bus, sizeof(fi->bus), "dm");
}

int port_fs_info(const char *dir, struct port_storage *fi)
{
	const struct fs_magic *m;
	struct statfs sf;
	struct stat st;

	memset(fi, 0, sizeof(*fi));
	fi->removable = fi->rotational = -1;
	if (statfs(dir, &sf) != 0)
		return port_syserr("statfs", dir, errno);
	if (stat(dir, &st) != 0)
		return port_syserr("stat", dir, errno);
	if ((m = fs_magic_find((unsigned long)sf.f_type))) {
		snprintf(fi->type, sizeof(fi->type), "%s", m->name);
		fi->fs_class = m->cls == FS_MAGIC_MEMORY    ? PORT_FS_MEMORY :
			       m->cls == FS_MAGIC_NETWORK ? PORT_FS_NETWORK :
							    PORT_FS_LOCAL;
	} else {
		snprintf(fi->type, sizeof(fi->type), "0x%lx", (unsigned long)sf.f_type);
		fi->fs_class = PORT_FS_LOCAL;
	}
	fi->total = (uint64_t)sf.f_blocks * (uint64_t)sf.f_frsize;
	fi->avail = (uint64_t)sf.f_bavail * (uint64_t)sf.f_frsize;
	if (major(st.st_dev) != 0)
		block_device(st.st_dev, fi);
	return HF_OK;
}

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int port_fs_fsync_probe(const char *dir, unsigned n, uint64_t *us)
{
	char path[PATH_MAX], block[4096];
	int fd, rc;

	if (n > PORT_FSYNC_PROBE_MAX)
		n = PORT_FSYNC_PROBE_MAX;
	if (snprintf(path, sizeof(path), "%s/.doctor-fsync.%u", dir, port_random_u32()) >=
	    (int)sizeof(path))
		return port_syserr("open", dir, ENAMETOOLONG);
	if ((rc = port_fs_create(path, 0600, &fd)) != HF_OK)
		return rc;
	for (unsigned i = 0; i < n; i++) {
		uint64_t t0;

		memset(block, 'a' + (int)(i % 26), sizeof(block));
		if ((rc = port_fs_pwrite(fd, block, sizeof(block), (uint64_t)i * sizeof(block))) !=
		    HF_OK)
			break;
		t0 = mono_us();
		if ((rc = port_fs_sync(fd)) != HF_OK)
			break;
		us[i] = mono_us() - t0;
	}
	port_close(fd);
	port_fs_unlink(path);
	return rc;
}
