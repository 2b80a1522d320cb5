/* conftest.c -- golden test driver: loads a file with the test table, prints errors or values. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testtable.h"

/*
 * Usage: conftest FILE.  Prints what a daemon's -n prints: every error, or
 * "configuration OK" and the values as config_dump() writes them.  Exit 1
 * on errors.
 */
int
main(int argc, char *argv[])
{
	struct testconf conf;
	char *errors = NULL;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: %s file\n", argv[0]);
		return 2;
	}
	rc = config_load(testconf_table, &conf, argv[1], &errors);
	if (rc < 0) {
		fputs(errors != NULL ? errors : "out of memory\n", stdout);
		free(errors);
		config_free(testconf_table, &conf);
		return 1;
	}
	printf("configuration OK\n");
	config_dump(testconf_table, &conf, stdout);
	config_free(testconf_table, &conf);
	return 0;
}
