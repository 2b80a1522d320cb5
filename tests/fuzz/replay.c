/* replay.c -- runs a libFuzzer target over its stored corpus (make check). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
replay_file(const char *path)
{
	FILE *f;
	uint8_t *data;
	long n;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return -1;
	}
	/* malloc(n) exactly, so ASan sees reads past the input. */
	if ((data = malloc(n > 0 ? (size_t)n : 1)) == NULL ||
	    fread(data, 1, (size_t)n, f) != (size_t)n) {
		free(data);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(data, (size_t)n);
	free(data);
	return 0;
}

/*
 * Usage: replay NAME DIR...  Prints TAP: one line per corpus directory,
 * failing if a file cannot be read or the directory is empty.  A crash
 * aborts the run, which the TAP driver reports as an error.
 */
int
main(int argc, char *argv[])
{
	int i, failed = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: %s name corpus-dir...\n", argv[0]);
		return 2;
	}
	printf("1..%d\n", argc - 2);
	for (i = 2; i < argc; i++) {
		DIR *d;
		struct dirent *de;
		int files = 0, bad = 0;
		char path[4096];

		if ((d = opendir(argv[i])) == NULL) {
			printf("not ok %d - %s: %s: %s\n", i - 1, argv[1], argv[i],
			    strerror(errno));
			failed++;
			continue;
		}
		while ((de = readdir(d)) != NULL) {
			struct stat st;

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name);
			if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
				continue;
			if (replay_file(path) < 0)
				bad++;
			files++;
		}
		closedir(d);
		if (files == 0 || bad > 0) {
			printf("not ok %d - %s: %d inputs, %d unreadable\n", i - 1,
			    argv[1], files, bad);
			failed++;
		} else
			printf("ok %d - %s replayed %d corpus inputs\n", i - 1,
			    argv[1], files);
		fflush(stdout);
	}
	return failed ? 1 : 0;
}
