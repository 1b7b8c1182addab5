/*
** db.c (linux): start-up hook and the job log's storage settings.
**
** Everything here is fixed in the binary that ships: SQLite's own unix VFS
** and synchronous=FULL, with no switch to weaken either. The simulated port
** (port/sim/db.c) replaces this file with the crash model's recorder, the
** fault injector and the test-only synchronous=NORMAL of the negative control.
*/
#include "port.h"

void port_init(void)
{
}

const char *port_db_vfs(void)
{
	return NULL;
}

const char *port_db_synchronous(void)
{
	return "FULL";
}
