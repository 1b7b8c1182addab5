/*
** boot.c (linux): which boot this is.
**
** The kernel makes a random boot id at every boot; a power cut or a reboot
** changes it, a daemon restart does not. That difference is how the daemon
** tells an attempt cut by a power loss from one cut by its own crash. The
** simulated port (port/sim/boot.c) replaces this file so tests can reboot.
*/
#include "linux_int.h"
#include "port.h"

int port_boot_id(char *buf, size_t len)
{
	static const char path[] = "/proc/sys/kernel/random/boot_id";
	size_t n;
	int rc;

	if ((rc = linux_read_proc(path, buf, len, &n)) != HF_OK) {
		if (rc == HF_ENOENT)
			port_log("%s is missing: is /proc mounted?", path);
		return rc;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return n > 0 ? HF_OK : HF_ECORRUPT;
}
