/*
** db.c (linux): start-up hook and the job log's storage settings.
**
** Everything here is fixed in the binary that ships: SQLite's own unix VFS
** under vfs.c's once-per-file WAL directory fsync, and synchronous=FULL, with
** no switch to weaken either. The simulated port (port/sim/db.c) replaces
** this file with the crash model's recorder, the fault injector and the
** test-only weakenings of the negative controls.
*/
#include "linux_int.h"
#include "port.h"

void port_init(void)
{
}

const char *port_db_vfs(void)
{
	return linux_vfs(NULL, false);
}

const char *port_db_synchronous(void)
{
	return "FULL";
}
