/*
** storage.c (sim): the storage a test says it is, so that `holdfast doctor`
** can be shown an SD card, a USB stick whose cache lies, or NFS, on a build
** machine that has none of them. Built only into the test binaries.
**
** The real port/linux/storage.c does the work (statfs, sysfs, real writes
** and fsyncs); then:
**   $HOLDFAST_SIM_STORAGE  "KEY=VALUE ..." with type, class (local, memory,
**                          network), dev, removable (0/1), rotational (0/1),
**                          bus: each one given replaces what was found;
**   $HOLDFAST_SIM_FSYNC_US every fsync of the probe is said to take that
**                          many microseconds.
*/
#include <stdlib.h>
#include <string.h>

#include "port.h"

/* The shipped implementation, under other names. */
#define port_fs_info linux_port_fs_info
#define port_fs_fsync_probe linux_port_fs_fsync_probe
int linux_port_fs_info(const char *dir, struct port_storage *fi);
int linux_port_fs_fsync_probe(const char *dir, unsigned n, uint64_t *us);
#include "../linux/storage.c"
#undef port_fs_info
#undef port_fs_fsync_probe

int port_fs_info(const char *dir, struct port_storage *fi)
{
	const char *env = getenv("HOLDFAST_SIM_STORAGE");
	char spec[256], *save = NULL;
	int rc;

	if ((rc = linux_port_fs_info(dir, fi)) != HF_OK || !env)
		return rc;
	snprintf(spec, sizeof(spec), "%s", env);
	for (char *w = strtok_r(spec, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		char *v = strchr(w, '=');

		if (!v)
			continue;
		*v++ = '\0';
		if (!strcmp(w, "type"))
			snprintf(fi->type, sizeof(fi->type), "%s", v);
		else if (!strcmp(w, "class"))
			fi->fs_class = !strcmp(v, "memory")  ? PORT_FS_MEMORY :
				       !strcmp(v, "network") ? PORT_FS_NETWORK :
							       PORT_FS_LOCAL;
		else if (!strcmp(w, "dev"))
			snprintf(fi->dev, sizeof(fi->dev), "%s", v);
		else if (!strcmp(w, "removable"))
			fi->removable = atoi(v);
		else if (!strcmp(w, "rotational"))
			fi->rotational = atoi(v);
		else if (!strcmp(w, "bus"))
			snprintf(fi->bus, sizeof(fi->bus), "%s", v);
	}
	return HF_OK;
}

int port_fs_fsync_probe(const char *dir, unsigned n, uint64_t *us)
{
	const char *env = getenv("HOLDFAST_SIM_FSYNC_US");
	int rc = linux_port_fs_fsync_probe(dir, n, us);

	if (rc == HF_OK && env && *env)
		for (unsigned i = 0; i < n && i < PORT_FSYNC_PROBE_MAX; i++)
			us[i] = strtoull(env, NULL, 10);
	return rc;
}
