/*
** notify.c (sim): no service manager. The test binaries never notify one,
** even when a test runs under systemd with $NOTIFY_SOCKET set: the crash
** model's traces and the settable clock stay the only things they see. The
** variables are still removed from the environment, as on linux, so jobs
** see the same environment in both builds. tests/notify tests the linux
** file against a real socket.
*/
#include <stdlib.h>

#include "port.h"

bool port_notify_open(uint64_t *watchdog_ms)
{
	*watchdog_ms = 0;
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	return false;
}

int port_notify(const char *msg)
{
	(void)msg;
	return HF_OK;
}
