/* fuzz_ocsphttp.c -- libFuzzer target: the DC's OCSP-over-HTTP request parser (dc/ocsphttp) and the answer to what it parses, from an empty status store. */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "notice.h"
#include "ocsphttp.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char		 fuzz_path[64];
static struct notice	*fuzz_store;

static void
fuzz_cleanup(void)
{
	char p[80];

	notice_free(fuzz_store);
	unlink(fuzz_path);
	snprintf(p, sizeof(p), "%s-wal", fuzz_path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", fuzz_path);
	unlink(p);
}

static void
fuzz_init(void)
{
	struct db *db;
	int fd;

	log_init("fuzz_ocsphttp", 1, LOG_LEVEL_WARN);
	snprintf(fuzz_path, sizeof(fuzz_path), "/tmp/fuzz_ocsphttp.XXXXXX");
	if ((fd = mkstemp(fuzz_path)) < 0)
		abort();
	close(fd);
	if (db_open(fuzz_path, &schema_dc, &db) < 0)
		abort();
	db_close(db);
	if (notice_new(&fuzz_store, fuzz_path, NULL, NULL) < 0)
		abort();
	atexit(fuzz_cleanup);
}

/*
 * One connection's bytes: parsed as the server does (again after each
 * request the parser took, though the server closes after one answer),
 * each parsed request answered.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	static const uint8_t key_hash[20] = { 0x11 };
	struct ocsphttp_request req;
	uint8_t out[OCSPHTTP_REQUEST_MAX], *resp;
	size_t off = 0, resplen;
	int rc;

	if (!init) {
		fuzz_init();
		init = true;
	}
	while (off < size) {
		rc = ocsphttp_parse(data + off, size - off, out, sizeof(out),
		    &req);
		if (rc <= 0)
			break;
		if ((size_t)rc > size - off || req.der_len > OCSPHTTP_REQUEST_MAX ||
		    (req.der_len > 0 && req.der == NULL)) {
			fprintf(stderr, "fuzz_ocsphttp: parser out of bounds\n");
			abort();
		}
		if (ocsphttp_answer(fuzz_store, (off & 1) ? key_hash : NULL,
		    req.der, req.der_len, &resp, &resplen) < 0)
			abort();
		free(resp);
		off += (size_t)rc;
	}
	return 0;
}
