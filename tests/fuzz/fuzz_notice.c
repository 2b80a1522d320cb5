/* fuzz_notice.c -- libFuzzer target: the DC's decoder and handler of AS frames on 4611 (dc/notice: NOTICE_*, VIP_REQUEST) against a real DC database. */
#include "config.h"

#include <arpa/inet.h>

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "msg.h"
#include "notice.h"
#include "vip.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* In memory where there is a tmpfs: each input commits with fsync. */
#ifndef FUZZ_DIR
#define FUZZ_DIR	"/dev/shm"
#endif

enum {
	FUZZ_NOW = 2000000000,		/* after every corpus status */
	FUZZ_DB_MAX = 1 << 20,
};

/* A fresh database per input: the template's bytes copied over. */
static char	 fuzz_template[64], fuzz_work[64];
static uint8_t	*fuzz_db;
static size_t	 fuzz_db_len;

static void
fuzz_unlink(const char *path)
{
	char p[80];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static void
fuzz_cleanup(void)
{
	fuzz_unlink(fuzz_template);
	fuzz_unlink(fuzz_work);
}

static void
fuzz_init(void)
{
	const char *dir;
	struct db *db;
	FILE *f;
	int fd;

	log_init("fuzz_notice", 1, LOG_LEVEL_WARN);
	dir = access(FUZZ_DIR, W_OK) == 0 ? FUZZ_DIR : "/tmp";
	snprintf(fuzz_template, sizeof(fuzz_template),
	    "%s/fuzz_notice.XXXXXX", dir);
	snprintf(fuzz_work, sizeof(fuzz_work), "%s/fuzz_notice.XXXXXX", dir);
	if ((fd = mkstemp(fuzz_template)) < 0)
		abort();
	close(fd);
	if ((fd = mkstemp(fuzz_work)) < 0)
		abort();
	close(fd);
	atexit(fuzz_cleanup);
	if (db_open(fuzz_template, &schema_dc, &db) < 0)
		abort();
	db_close(db);		/* checkpoints: the file is whole */
	if ((fuzz_db = malloc(FUZZ_DB_MAX)) == NULL ||
	    (f = fopen(fuzz_template, "rb")) == NULL)
		abort();
	fuzz_db_len = fread(fuzz_db, 1, FUZZ_DB_MAX, f);
	fclose(f);
	if (fuzz_db_len == 0 || fuzz_db_len == FUZZ_DB_MAX)
		abort();
}

static void
fuzz_fresh_db(void)
{
	FILE *f;

	fuzz_unlink(fuzz_work);
	if ((f = fopen(fuzz_work, "wb")) == NULL ||
	    fwrite(fuzz_db, 1, fuzz_db_len, f) != fuzz_db_len)
		abort();
	fclose(f);
}

static int
fuzz_node_set(void *arg, const char *fqdn, const char *vip4, const char *vip6)
{
	(void)arg;
	if (fqdn == NULL || strlen(fqdn) > PROTO_FQDN_MAX ||
	    (vip4 == NULL && vip6 == NULL))
		abort();
	return 0;
}

static void
fuzz_answer_check(const uint8_t *ack, size_t acklen)
{
	struct msg *m;

	if (acklen == 0)
		return;
	if (acklen > NOTICE_ACK_MAX || (m = malloc(sizeof(*m))) == NULL)
		abort();
	/* What the DC sends must decode as what it is. */
	if (msg_decode(ack, acklen, m) < 0 ||
	    (m->hdr.type != PROTO_MSG_NOTICE_ACK &&
	    m->hdr.type != PROTO_MSG_VIP_RESPONSE)) {
		fprintf(stderr, "fuzz_notice: bad answer\n");
		abort();
	}
	free(m);
}

/*
 * The input is a sequence of frames from one AS, each preceded by a
 * 2-byte big-endian length; a shorter tail is one last frame.  Statuses
 * are not signature-checked (no AS CA), so the fuzzer reaches every
 * notice's database path.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	struct notice_hooks hooks = { .node_set = fuzz_node_set };
	struct vip_config vc;
	struct notice *n;
	uint8_t ack[NOTICE_ACK_MAX];
	size_t off = 0, acklen;

	if (!init) {
		fuzz_init();
		init = true;
	}
	fuzz_fresh_db();
	if (notice_new(&n, fuzz_work, NULL, &hooks) < 0)
		abort();
	memset(&vc, 0, sizeof(vc));
	vc.zone = "dc1.ntm.test";
	vc.have4 = vc.have6 = true;
	inet_pton(AF_INET, "198.18.1.0", &vc.prefix4);
	vc.prefix4_len = 28;		/* small: the fuzzer can fill it */
	inet_pton(AF_INET6, "fd6e:746d:6f62:1::", &vc.prefix6);
	vc.prefix6_len = 64;
	notice_set_vip(n, &vc);
	while (off < size) {
		size_t len = size - off;

		if (size - off >= 2) {
			size_t l = (size_t)data[off] << 8 | data[off + 1];

			if (l <= size - off - 2) {
				off += 2;
				len = l;
			}
		}
		(void)notice_input(n, "as.ntm.test", data + off, len, FUZZ_NOW,
		    ack, sizeof(ack), &acklen);
		fuzz_answer_check(ack, acklen);
		off += len;
	}
	notice_free(n);
	return 0;
}
