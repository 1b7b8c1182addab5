/*
** main.c: the holdfast binary's entry point.
**
** firmware/app/, the top layer: the command line (dispatcher, argument
** parser, an open data directory, the verbs, doctor); may use every layer,
** and the environment and signals directly.
*/
#include <stdio.h>

#include "app/cli.h"
#include "port.h"

int main(int argc, char **argv)
{
	port_init();
	return cli_main(argc, argv, stdout);
}
