/*
** fs_magic.h: file system types by statfs(2)'s f_type, for port/linux/fs.c
** (port_fs_volatile) and port/linux/storage.c (port_fs_info). The values
** are <linux/magic.h>'s, written out because musl ships no kernel headers.
** ext2, ext3 and ext4 share one magic number; FUSE is one type whatever it
** serves (sshfs, ntfs-3g, exfat-fuse): its fsync is the server's promise.
*/
#ifndef HF_FS_MAGIC_H
#define HF_FS_MAGIC_H

#include <stddef.h>

enum { FS_MAGIC_LOCAL, FS_MAGIC_MEMORY, FS_MAGIC_NETWORK };

static const struct fs_magic {
	unsigned long magic;
	const char *name;
	int cls;                  /* FS_MAGIC_* */
} fs_magics[] = {
	{ 0xef53, "ext2/3/4", FS_MAGIC_LOCAL },      { 0x4d44, "vfat", FS_MAGIC_LOCAL },
	{ 0x2011bab0, "exfat", FS_MAGIC_LOCAL },     { 0xf2f52010, "f2fs", FS_MAGIC_LOCAL },
	{ 0x9123683e, "btrfs", FS_MAGIC_LOCAL },     { 0x58465342, "xfs", FS_MAGIC_LOCAL },
	{ 0x72b6, "jffs2", FS_MAGIC_LOCAL },         { 0x24051905, "ubifs", FS_MAGIC_LOCAL },
	{ 0x794c7630, "overlayfs", FS_MAGIC_LOCAL }, { 0x73717368, "squashfs", FS_MAGIC_LOCAL },
	{ 0xe0f5e1e2, "erofs", FS_MAGIC_LOCAL },     { 0x5346544e, "ntfs", FS_MAGIC_LOCAL },
	{ 0x2fc12fc1, "zfs", FS_MAGIC_LOCAL },       { 0x3153464a, "jfs", FS_MAGIC_LOCAL },
	{ 0x3434, "nilfs2", FS_MAGIC_LOCAL },        { 0x9660, "iso9660", FS_MAGIC_LOCAL },
	{ 0x01021994, "tmpfs", FS_MAGIC_MEMORY },    { 0x858458f6, "ramfs", FS_MAGIC_MEMORY },
	{ 0x6969, "NFS", FS_MAGIC_NETWORK },         { 0xff534d42, "CIFS", FS_MAGIC_NETWORK },
	{ 0xfe534d42, "SMB2", FS_MAGIC_NETWORK },    { 0x517b, "SMB", FS_MAGIC_NETWORK },
	{ 0x01021997, "9p", FS_MAGIC_NETWORK },      { 0x65735546, "FUSE", FS_MAGIC_NETWORK },
	{ 0x00c36400, "Ceph", FS_MAGIC_NETWORK },    { 0x5346414f, "AFS", FS_MAGIC_NETWORK },
};

/* The entry for F_TYPE, or NULL for a type not in the table. */
static inline const struct fs_magic *fs_magic_find(unsigned long f_type)
{
	for (size_t i = 0; i < sizeof(fs_magics) / sizeof(fs_magics[0]); i++)
		if (fs_magics[i].magic == f_type)
			return &fs_magics[i];
	return NULL;
}

#endif /* HF_FS_MAGIC_H */
