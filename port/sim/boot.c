/*
** boot.c (sim): a boot id the test chooses, so a test can "reboot" the
** machine between two daemon runs without rebooting anything: the boot id
** is $HOLDFAST_SIM_BOOT_ID. Built only into the test binaries under
** build/<board>-sim/, never into what ships.
*/
#include <stdio.h>
#include <stdlib.h>

#include "port.h"

int port_boot_id(char *buf, size_t len)
{
	const char *id = getenv("HOLDFAST_SIM_BOOT_ID");

	if (!id || !*id || (size_t)snprintf(buf, len, "%s", id) >= len) {
		port_log("sim port: set HOLDFAST_SIM_BOOT_ID to a boot id of fewer than %zu "
			 "characters", len);
		return HF_EINVAL;
	}
	return HF_OK;
}
