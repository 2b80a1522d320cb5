/* test_tkey.c -- unit tests: ticket keys the AS makes, rotates and sends to each DC as NOTICE_TICKET_KEY; tickets open under the current and the previous key. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "as.h"
#include "db.h"
#include "msg.h"
#include "notice.h"
#include "outbox.h"
#include "rand.h"
#include "ticket.h"
#include "tkey.h"

#define NOW	((time_t)1795000000)
#define DAY	86400

/* as/notice.c's links need ntm-as's job queue; nothing here runs one. */
void
as_job_submit(struct as_env *env, as_work_fn work, as_done_fn done,
    void *arg)
{
	(void)env;
	(void)work;
	(void)done;
	(void)arg;
	fail_msg("as_job_submit called");
}

struct fix {
	char		 path[64];
	struct db	*db;
	struct ntm_rng	*rng;
	struct tkey_dc	 tk;
};

static int
setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	int fd;

	assert_non_null(f);
	snprintf(f->path, sizeof(f->path), "/tmp/test_tkey.XXXXXX");
	assert_true((fd = mkstemp(f->path)) >= 0);
	close(fd);
	assert_int_equal(db_open(f->path, &schema_as, &f->db), 0);
	assert_int_equal(outbox_dc_add(f->db, "dc1"), 0);
	f->rng = rng_seeded_new("test_tkey", 9);
	assert_int_equal(tkey_load(&f->tk, f->db, "dc1", NOW), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;
	char p[80];

	tkey_clear(&f->tk);
	db_close(f->db);
	rng_free(f->rng);
	unlink(f->path);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	free(f);
	return 0;
}

/* The newest outbox notice for dc1, encoded as the link would send it. */
struct last {
	struct db	*db;
	uint64_t	seq;
	uint8_t		frame[1024];
	size_t		len;
	int		rv;
};

static int
last_cb(const struct outbox_notice *n, void *arg)
{
	struct last *l = arg;

	l->seq = n->seq;
	assert_int_equal(n->kind, OUTBOX_KIND_TICKET_KEY);
	return 0;
}

static int
last_any(const struct outbox_notice *n, void *arg)
{
	(void)n;
	(void)arg;
	return 0;
}

static int
encode_cb(const struct outbox_notice *n, void *arg)
{
	struct last *l = arg;

	l->rv = notice_encode(l->db, n, l->frame, sizeof(l->frame), &l->len);
	return 1;
}

/* The ticket-key notice after `after`, decoded: id, key, expiry. */
static void
sent_key(struct fix *f, uint64_t after, uint32_t *id,
    uint8_t key[PROTO_KEY_LEN], uint64_t *expiry, uint64_t *seq)
{
	const struct msg_attr *a;
	struct last l;
	struct msg m;

	memset(&l, 0, sizeof(l));
	l.db = f->db;
	assert_int_equal(outbox_pending(f->db, "dc1", after, 1, last_cb, &l),
	    1);
	*seq = l.seq;
	assert_int_equal(outbox_pending(f->db, "dc1", after, 1, encode_cb, &l),
	    1);
	assert_int_equal(l.rv, 0);
	assert_int_equal(msg_decode(l.frame, l.len, &m), 0);
	assert_int_equal(m.hdr.type, PROTO_MSG_NOTICE_TICKET_KEY);
	assert_int_equal(msg_attr_u64(&m, PROTO_ATTR_NOTICE_SEQ, seq), 0);
	assert_int_equal(*seq, l.seq);
	assert_int_equal(msg_attr_u32(&m, PROTO_ATTR_TICKET_KEY_ID, id), 0);
	assert_int_equal(msg_attr_u64(&m, PROTO_ATTR_EXPIRY, expiry), 0);
	assert_non_null(a = msg_attr_find(&m, PROTO_ATTR_TICKET_KEY));
	assert_int_equal(a->len, PROTO_KEY_LEN);
	memcpy(key, a->val, PROTO_KEY_LEN);
}

static void
seal(struct fix *f, uint32_t id, uint8_t *out, size_t *len)
{
	struct ticket_body b;

	memset(&b, 0, sizeof(b));
	snprintf(b.fqdn, sizeof(b.fqdn), "alice.dc1.ntm.test");
	b.fqdn_len = strlen(b.fqdn);
	b.has_vip4 = true;
	b.vip4[0] = 198;
	b.expiry = NOW + 10 * DAY;
	assert_int_equal(ticket_seal(&f->tk.ring, id, &b, f->rng, out,
	    PROTO_TICKET_MAX, len), 0);
}

/*
 * No key: one is made and queued as NOTICE_TICKET_KEY in the same
 * transaction; none again until the rotation period has passed.
 */
static void
test_first_key(void **state)
{
	struct fix *f = *state;
	uint8_t key[PROTO_KEY_LEN], zero[PROTO_KEY_LEN] = { 0 };
	uint64_t expiry, seq;
	uint32_t id;

	assert_int_equal(tkey_seal_id(&f->tk, f->db), 0);
	assert_int_equal(tkey_rotate(&f->tk, f->db, f->rng, NOW, DAY, DAY),
	    1);
	assert_int_equal(f->tk.n, 1);
	sent_key(f, 0, &id, key, &expiry, &seq);
	assert_int_equal(id, f->tk.k[0].id);
	assert_int_equal(seq, f->tk.k[0].seq);
	assert_int_equal(expiry, NOW + 2 * DAY);
	assert_memory_not_equal(key, zero, sizeof(key));
	/* Not yet acknowledged, but the only one: sealed under it. */
	assert_int_equal(tkey_seal_id(&f->tk, f->db), id);

	assert_int_equal(tkey_rotate(&f->tk, f->db, f->rng, NOW + 3600, DAY,
	    DAY), 0);
	assert_int_equal(tkey_rotate(&f->tk, f->db, f->rng, NOW + DAY - 1,
	    DAY, DAY), 0);
	assert_int_equal(outbox_pending(f->db, "dc1", seq, 10, last_cb, NULL),
	    0);
}

/*
 * Rotation: the new key is used for sealing only once the DC has
 * acknowledged its notice; a DC holding current and previous opens
 * tickets of both; a third rotation drops the first.
 */
static void
test_rotation(void **state)
{
	struct fix *f = *state;
	struct ticket_keyring dcring;
	struct ticket_body b;
	uint8_t key[PROTO_KEY_LEN], t1[PROTO_TICKET_MAX], t2[PROTO_TICKET_MAX];
	uint64_t expiry, seq1, seq2, seq3;
	uint32_t id1, id2, id3;
	size_t l1, l2;

	ticket_keyring_init(&dcring);
	assert_int_equal(tkey_rotate(&f->tk, f->db, f->rng, NOW, DAY, DAY),
	    1);
	sent_key(f, 0, &id1, key, &expiry, &seq1);
	assert_int_equal(ticket_keyring_add(&dcring, id1, key), 0);
	assert_int_equal(outbox_ack(f->db, "dc1", seq1), 0);
	seal(f, tkey_seal_id(&f->tk, f->db), t1, &l1);

	assert_int_equal(tkey_rotate(&f->tk, f->db, f->rng, NOW + DAY, DAY,
	    DAY), 1);
	sent_key(f, seq1, &id2, key, &expiry, &seq2);
	assert_int_not_equal(id2, id1);
	assert_int_equal(expiry, NOW + 3 * DAY);
	/* The DC has not acknowledged id2 yet: still id1. */
	assert_int_equal(tkey_seal_id(&f->tk, f->db), id1);
	assert_int_equal(ticket_keyring_add(&dcring, id2, key), 0);
	assert_int_equal(outbox_ack(f->db, "dc1", seq2), 0);
	assert_int_equal(tkey_seal_id(&f->tk, f->db), id2);
	seal(f, id2, t2, &l2);

	/* The DC opens tickets under the current and the previous key. */
	assert_int_equal(ticket_open(&dcring, t1, l1, NOW + DAY, &b), 0);
	assert_string_equal(b.fqdn, "alice.dc1.ntm.test");
	assert_int_equal(ticket_open(&dcring, t2, l2, NOW + DAY, &b), 0);

	/* After a restart the AS has both keys back, newest first. */
	tkey_clear(&f->tk);
	assert_int_equal(tkey_load(&f->tk, f->db, "dc1", NOW + DAY + 60), 0);
	assert_int_equal(f->tk.n, 2);
	assert_int_equal(f->tk.k[0].id, id2);
	assert_int_equal(f->tk.k[1].id, id1);
	assert_int_equal(tkey_seal_id(&f->tk, f->db), id2);

	assert_int_equal(tkey_rotate(&f->tk, f->db, f->rng, NOW + 2 * DAY,
	    DAY, DAY), 1);
	sent_key(f, seq2, &id3, key, &expiry, &seq3);
	assert_int_equal(ticket_keyring_add(&dcring, id3, key), 0);
	assert_int_equal(ticket_open(&dcring, t1, l1, NOW + 2 * DAY, &b),
	    -ENOKEY);
	assert_int_equal(ticket_open(&dcring, t2, l2, NOW + 2 * DAY, &b), 0);
	ticket_keyring_clear(&dcring);
}

/* A key file never rotates and is always the sealing key. */
static void
test_file_key(void **state)
{
	struct fix *f = *state;
	static const uint8_t key[PROTO_KEY_LEN] = { 1, 2, 3 };

	tkey_clear(&f->tk);
	assert_int_equal(tkey_init_file(&f->tk, "dc1", 0x1234, key), 0);
	assert_int_equal(tkey_rotate(&f->tk, f->db, f->rng, NOW + 99 * DAY,
	    DAY, DAY), 0);
	assert_int_equal(tkey_seal_id(&f->tk, f->db), 0x1234);
	assert_int_equal(outbox_pending(f->db, "dc1", 0, 10, last_cb, NULL),
	    0);
}

/*
 * as.sql migration 2 rebuilds notice_outbox (a new kind): a database made
 * at version 1 keeps its notices and its seq counter, even past rows
 * already pruned.
 */
static void
test_migration_keeps_seq(void **state)
{
	struct fix *f = *state;
	const struct db_schema v1 = { "as", schema_as.migrations, 1 };
	static const char s1[] = "0123456789abcdef0123456789abcdef";
	struct db *db;
	char path[64];
	uint64_t seq;
	size_t removed;
	int fd, i;

	(void)f;
	snprintf(path, sizeof(path), "/tmp/test_tkey_v1.XXXXXX");
	assert_true((fd = mkstemp(path)) >= 0);
	close(fd);
	assert_int_equal(db_open(path, &v1, &db), 0);
	assert_int_equal(db_version(db), 1);
	assert_int_equal(outbox_dc_add(db, "dc1"), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(outbox_add(db, "dc1", OUTBOX_KIND_ISSUED, s1,
		    "c", 1, NOW, &seq), 0);
	assert_int_equal(seq, 3);
	assert_int_equal(outbox_ack(db, "dc1", 2), 0);
	assert_int_equal(outbox_prune(db, &removed), 0);
	assert_int_equal(removed, 2);
	db_close(db);

	assert_int_equal(db_open(path, &schema_as, &db), 0);
	assert_int_equal(db_version(db), 2);
	assert_int_equal(outbox_pending(db, "dc1", 2, 10, last_any, NULL), 1);
	assert_int_equal(outbox_ack(db, "dc1", 3), 0);
	assert_int_equal(outbox_prune(db, &removed), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(outbox_add(db, "dc1", OUTBOX_KIND_TICKET_KEY,
	    "000000000000000000000000000000ff", "\0\0\0\xff", 4, NOW,
	    &seq), 0);
	assert_int_equal(seq, 4);
	db_close(db);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_migration_keeps_seq,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
