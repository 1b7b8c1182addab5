/*
** main.c: the holdfast binary's entry point.
*/
#include <stdio.h>

#include "app/cli.h"
#include "port.h"

int main(int argc, char **argv)
{
	port_init();
	return cli_main(argc, argv, stdout);
}
