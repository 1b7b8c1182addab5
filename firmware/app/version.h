/*
** version.h: what this binary is made of, for --version and bug reports.
*/
#ifndef HF_VERSION_H
#define HF_VERSION_H

#include <stdio.h>

/* Writes the multi-line version report to F. */
void version_print(FILE *f);

#endif /* HF_VERSION_H */
