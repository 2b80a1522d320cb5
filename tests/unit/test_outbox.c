/* test_outbox.c -- unit tests for the AS notice outbox: order, cursors, durability and the delivery window. */
#include "config.h"

#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "db.h"
#include "log.h"
#include "outbox.h"

static const time_t t0 = 1800000000;

static const char s1[] = "0123456789abcdef0123456789abcdef";
static const char s2[] = "fedcba9876543210fedcba9876543210";
static const char s3[] = "00000000000000000000000000000003";

struct fixture {
	char		 dir[PATH_MAX - 16];
	char		 path[PATH_MAX];
	struct db	*db;
};

static int
setup(void **state)
{
	struct fixture *f;
	const char *tmp = getenv("TMPDIR");

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/test_outbox.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(f->dir) == NULL)
		goto fail;
	snprintf(f->path, sizeof(f->path), "%s/as.db", f->dir);
	if (db_open(f->path, &schema_as, &f->db) < 0)
		goto fail;
	if (outbox_dc_add(f->db, "dc1") < 0 || outbox_dc_add(f->db, "dc2") < 0)
		goto fail;
	*state = f;
	return 0;
fail:
	db_close(f->db);
	free(f);
	return -1;
}

static void
unlink_suffix(const char *path, const char *suffix)
{
	char p[PATH_MAX + 16];

	snprintf(p, sizeof(p), "%s%s", path, suffix);
	unlink(p);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	db_close(f->db);
	unlink_suffix(f->path, "");
	unlink_suffix(f->path, "-wal");
	unlink_suffix(f->path, "-shm");
	rmdir(f->dir);
	free(f);
	return 0;
}

/* What outbox_pending yielded, copied out of the callback. */
struct seen {
	size_t		 n;
	uint64_t	 seq[64];
	char		 dc[64][OUTBOX_DC_MAX + 1];
	enum outbox_kind kind[64];
	char		 serial[64][OUTBOX_SERIAL_LEN + 1];
	char		 payload[64][32];
	int64_t		 created[64];
	size_t		 stop_after;	/* 0: never stop */
};

static int
collect(const struct outbox_notice *n, void *arg)
{
	struct seen *s = arg;

	if (s->stop_after != 0 && s->n == s->stop_after)
		return 7;
	assert_true(s->n < 64);
	assert_true(n->len < sizeof(s->payload[0]));
	s->seq[s->n] = n->seq;
	snprintf(s->dc[s->n], sizeof(s->dc[0]), "%s", n->dc);
	s->kind[s->n] = n->kind;
	snprintf(s->serial[s->n], sizeof(s->serial[0]), "%s", n->serial);
	memcpy(s->payload[s->n], n->payload, n->len);
	s->payload[s->n][n->len] = '\0';
	s->created[s->n] = n->created;
	s->n++;
	return 0;
}

static uint64_t
add(struct db *db, const char *dc, enum outbox_kind kind, const char *serial,
    const char *payload)
{
	uint64_t seq = 0;

	assert_int_equal(outbox_add(db, dc, kind, serial, payload,
	    strlen(payload), t0, &seq), 0);
	assert_true(seq > 0);
	return seq;
}

static size_t
pending(struct db *db, const char *dc, uint64_t after, struct seen *s)
{
	int n;

	memset(s, 0, sizeof(*s));
	n = outbox_pending(db, dc, after, 64, collect, s);
	assert_true(n >= 0);
	assert_int_equal((size_t)n, s->n);
	return s->n;
}

static uint64_t
cursor(struct db *db, const char *dc)
{
	uint64_t c = ~0ull;

	assert_int_equal(outbox_cursor(db, dc, &c), 0);
	return c;
}

static void
test_add_pending_ack_order(void **state)
{
	struct fixture *f = *state;
	struct seen s;
	uint64_t a, b, c, d;

	a = add(f->db, "dc1", OUTBOX_KIND_ISSUED, s1, "cert-1");
	b = add(f->db, OUTBOX_ALL, OUTBOX_KIND_REVOKED, s2, "rev-2");
	c = add(f->db, "dc1", OUTBOX_KIND_STATUS, s1, "status-1");
	d = add(f->db, "dc1", OUTBOX_KIND_STATUS, s3, "status-3");
	assert_true(a < b && b < c && c < d);

	assert_int_equal(cursor(f->db, "dc1"), 0);
	assert_int_equal(pending(f->db, "dc1", 0, &s), 4);
	assert_int_equal(s.seq[0], a);
	assert_int_equal(s.seq[1], b);
	assert_int_equal(s.seq[2], c);
	assert_int_equal(s.seq[3], d);
	assert_string_equal(s.dc[0], "dc1");
	assert_string_equal(s.dc[1], OUTBOX_ALL);
	assert_int_equal(s.kind[0], OUTBOX_KIND_ISSUED);
	assert_int_equal(s.kind[1], OUTBOX_KIND_REVOKED);
	assert_int_equal(s.kind[2], OUTBOX_KIND_STATUS);
	assert_string_equal(s.serial[1], s2);
	assert_string_equal(s.payload[2], "status-1");
	assert_int_equal(s.created[3], t0);

	/* max bounds the batch; a callback can stop the walk. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(outbox_pending(f->db, "dc1", 0, 2, collect, &s), 2);
	assert_int_equal(s.seq[1], b);
	memset(&s, 0, sizeof(s));
	s.stop_after = 3;
	assert_int_equal(outbox_pending(f->db, "dc1", 0, 10, collect, &s), 7);
	assert_int_equal(s.n, 3);

	assert_int_equal(outbox_ack(f->db, "dc1", b), 0);
	assert_int_equal(cursor(f->db, "dc1"), b);
	assert_int_equal(pending(f->db, "dc1", cursor(f->db, "dc1"), &s), 2);
	assert_int_equal(s.seq[0], c);
	assert_int_equal(s.seq[1], d);
	assert_int_equal(outbox_ack(f->db, "dc1", d), 0);
	assert_int_equal(pending(f->db, "dc1", cursor(f->db, "dc1"), &s), 0);
}

/* Each DC has its own cursor; OUTBOX_ALL notices reach both. */
static void
test_two_dcs_independent(void **state)
{
	struct fixture *f = *state;
	struct seen s;
	uint64_t one, two, all, c;

	one = add(f->db, "dc1", OUTBOX_KIND_ISSUED, s1, "for-dc1");
	two = add(f->db, "dc2", OUTBOX_KIND_ISSUED, s2, "for-dc2");
	all = add(f->db, OUTBOX_ALL, OUTBOX_KIND_REVOKED, s1, "rev");

	assert_int_equal(pending(f->db, "dc1", 0, &s), 2);
	assert_int_equal(s.seq[0], one);
	assert_int_equal(s.seq[1], all);
	assert_int_equal(pending(f->db, "dc2", 0, &s), 2);
	assert_int_equal(s.seq[0], two);
	assert_int_equal(s.seq[1], all);

	assert_int_equal(outbox_ack(f->db, "dc1", all), 0);
	assert_int_equal(cursor(f->db, "dc1"), all);
	assert_int_equal(cursor(f->db, "dc2"), 0);
	assert_int_equal(pending(f->db, "dc1", cursor(f->db, "dc1"), &s), 0);
	assert_int_equal(pending(f->db, "dc2", cursor(f->db, "dc2"), &s), 2);
	assert_int_equal(outbox_ack(f->db, "dc2", two), 0);
	assert_int_equal(pending(f->db, "dc2", cursor(f->db, "dc2"), &s), 1);
	assert_string_equal(s.payload[0], "rev");

	/* An unknown DC neither reads nor acknowledges. */
	assert_int_equal(outbox_pending(f->db, "dc9", 0, 10, collect, &s),
	    -ENOENT);
	assert_int_equal(outbox_ack(f->db, "dc9", one), -ENOENT);
	assert_int_equal(outbox_cursor(f->db, "dc9", &c), -ENOENT);
}

static void
test_ack_never_backwards(void **state)
{
	struct fixture *f = *state;
	uint64_t a, b, c;

	a = add(f->db, "dc1", OUTBOX_KIND_ISSUED, s1, "a");
	b = add(f->db, "dc1", OUTBOX_KIND_ISSUED, s2, "b");
	c = add(f->db, "dc1", OUTBOX_KIND_ISSUED, s3, "c");

	assert_int_equal(outbox_ack(f->db, "dc1", b), 0);
	assert_int_equal(outbox_ack(f->db, "dc1", a), -EALREADY);
	assert_int_equal(outbox_ack(f->db, "dc1", b), -EALREADY);
	assert_int_equal(outbox_ack(f->db, "dc1", 0), -EALREADY);
	assert_int_equal(cursor(f->db, "dc1"), b);
	/* A seq never issued is refused and changes nothing. */
	assert_int_equal(outbox_ack(f->db, "dc1", c + 1), -ERANGE);
	assert_int_equal(outbox_ack(f->db, "dc1", UINT64_MAX), -EINVAL);
	assert_int_equal(cursor(f->db, "dc1"), b);
	assert_int_equal(outbox_ack(f->db, "dc1", c), 0);
	assert_int_equal(cursor(f->db, "dc1"), c);
}

static void
test_invalid_notices_refused(void **state)
{
	struct fixture *f = *state;
	uint8_t big[OUTBOX_PAYLOAD_MAX + 1];
	struct seen s;

	memset(big, 'x', sizeof(big));
	assert_int_equal(outbox_add(f->db, "dc3", OUTBOX_KIND_ISSUED, s1,
	    "p", 1, t0, NULL), -ENOENT);
	assert_int_equal(outbox_add(f->db, "DC1", OUTBOX_KIND_ISSUED, s1,
	    "p", 1, t0, NULL), -EINVAL);
	assert_int_equal(outbox_add(f->db, "dc1", OUTBOX_KIND_INVALID, s1,
	    "p", 1, t0, NULL), -EINVAL);
	assert_int_equal(outbox_add(f->db, "dc1", (enum outbox_kind)9, s1,
	    "p", 1, t0, NULL), -EINVAL);
	assert_int_equal(outbox_add(f->db, "dc1", OUTBOX_KIND_ISSUED,
	    "0123456789ABCDEF0123456789abcdef", "p", 1, t0, NULL), -EINVAL);
	assert_int_equal(outbox_add(f->db, "dc1", OUTBOX_KIND_ISSUED,
	    "0123", "p", 1, t0, NULL), -EINVAL);
	assert_int_equal(outbox_add(f->db, "dc1", OUTBOX_KIND_ISSUED, s1,
	    "p", 0, t0, NULL), -EINVAL);
	assert_int_equal(outbox_add(f->db, "dc1", OUTBOX_KIND_ISSUED, s1,
	    big, sizeof(big), t0, NULL), -EMSGSIZE);
	assert_int_equal(outbox_add(f->db, "dc1", OUTBOX_KIND_ISSUED, s1,
	    big, sizeof(big) - 1, t0, NULL), 0);
	assert_int_equal(pending(f->db, "dc2", 0, &s), 0);

	assert_true(outbox_dc_valid("dc1.ntm.test"));
	assert_false(outbox_dc_valid(OUTBOX_ALL));
	assert_false(outbox_dc_valid("-dc"));
	assert_false(outbox_dc_valid(""));
	assert_int_equal(outbox_dc_add(f->db, "dc1"), -EEXIST);
	assert_int_equal(outbox_dc_add(f->db, OUTBOX_ALL), -EINVAL);
	assert_string_equal(outbox_kind_name(OUTBOX_KIND_REVOKED), "revoked");
	assert_null(outbox_kind_name(OUTBOX_KIND_INVALID));
}

struct dclist {
	size_t		 n;
	char		 name[4][OUTBOX_DC_MAX + 1];
	uint64_t	 cursor[4];
};

static int
dclist_add(const char *dc, uint64_t cursor, void *arg)
{
	struct dclist *l = arg;

	assert_true(l->n < 4);
	snprintf(l->name[l->n], sizeof(l->name[0]), "%s", dc);
	l->cursor[l->n++] = cursor;
	return 0;
}

/* The registry lists DCs by name with their cursors. */
static void
test_dc_registry(void **state)
{
	struct fixture *f = *state;
	struct dclist l;
	uint64_t a;

	a = add(f->db, "dc2", OUTBOX_KIND_ISSUED, s1, "a");
	assert_int_equal(outbox_ack(f->db, "dc2", a), 0);
	assert_int_equal(outbox_dc_add(f->db, "dc0.ntm.test"), 0);
	memset(&l, 0, sizeof(l));
	assert_int_equal(outbox_dcs(f->db, dclist_add, &l), 3);
	assert_string_equal(l.name[0], "dc0.ntm.test");
	assert_string_equal(l.name[1], "dc1");
	assert_string_equal(l.name[2], "dc2");
	assert_int_equal(l.cursor[0], 0);
	assert_int_equal(l.cursor[2], a);

	assert_int_equal(outbox_dc_remove(f->db, "dc1"), 0);
	memset(&l, 0, sizeof(l));
	assert_int_equal(outbox_dcs(f->db, dclist_add, &l), 2);
	assert_string_equal(l.name[1], "dc2");
	assert_int_equal(outbox_add(f->db, "dc1", OUTBOX_KIND_ISSUED, s1,
	    "x", 1, t0, NULL), -ENOENT);
}

/* Acks of several DCs in one transaction commit or vanish together. */
static void
test_acks_batched(void **state)
{
	struct fixture *f = *state;
	uint64_t a, b;

	a = add(f->db, "dc1", OUTBOX_KIND_ISSUED, s1, "a");
	b = add(f->db, OUTBOX_ALL, OUTBOX_KIND_REVOKED, s2, "b");
	assert_int_equal(db_begin(f->db), 0);
	assert_int_equal(outbox_ack(f->db, "dc1", b), 0);
	assert_int_equal(outbox_ack(f->db, "dc2", b), 0);
	db_rollback(f->db);
	assert_int_equal(cursor(f->db, "dc1"), 0);
	assert_int_equal(cursor(f->db, "dc2"), 0);

	assert_int_equal(db_begin(f->db), 0);
	assert_int_equal(outbox_ack(f->db, "dc1", a), 0);
	assert_int_equal(outbox_ack(f->db, "dc1", b), 0);
	assert_int_equal(outbox_ack(f->db, "dc2", b), 0);
	assert_int_equal(db_commit(f->db), 0);
	assert_int_equal(cursor(f->db, "dc1"), b);
	assert_int_equal(cursor(f->db, "dc2"), b);
}

/*
 * The caller's transaction decides: a notice rolled back with its
 * certificate row never appears; committed, both do.
 */
static void
test_rollback_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	static const uint8_t der[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
	struct seen s;
	int64_t rows = -1;

	assert_int_equal(db_begin(f->db), 0);
	assert_int_equal(db_run(f->db, NULL, "INSERT INTO certificates "
	    "(serial, fqdn, account, dc, vip4, vip6, key_type, not_before, "
	    "not_after, der, issued_at) VALUES (?, 'alice.dc1.ntm.test', "
	    "'alice', 'dc1', '198.18.1.10', 'fd6e:746d:6f62:1::10', "
	    "'ecdsa-p256', ?, ?, ?, ?)", "tIIbI", s1, (int64_t)t0,
	    (int64_t)t0 + 86400, der, sizeof(der), (int64_t)t0), 0);
	add(f->db, "dc1", OUTBOX_KIND_ISSUED, s1, "cert");
	db_rollback(f->db);
	assert_int_equal(pending(f->db, "dc1", 0, &s), 0);
	assert_int_equal(db_query_int64(f->db, &rows,
	    "SELECT count(*) FROM certificates", NULL), DB_ROW);
	assert_int_equal(rows, 0);

	assert_int_equal(db_begin(f->db), 0);
	add(f->db, "dc1", OUTBOX_KIND_ISSUED, s1, "cert");
	assert_int_equal(db_commit(f->db), 0);
	assert_int_equal(pending(f->db, "dc1", 0, &s), 1);
	assert_string_equal(s.payload[0], "cert");
}

/*
 * kill -9 right after a commit: a fresh process opening the database finds
 * every committed notice, and nothing of the transaction left open.
 */
static void
test_committed_survive_kill(void **state)
{
	struct fixture *f = *state;
	struct seen s;
	struct db *db;
	int status;
	pid_t pid;

	db_close(f->db);
	f->db = NULL;
	fflush(NULL);
	assert_true((pid = fork()) >= 0);
	if (pid == 0) {
		if (db_open(f->path, &schema_as, &db) < 0 ||
		    db_begin(db) < 0 ||
		    outbox_add(db, "dc1", OUTBOX_KIND_ISSUED, s1, "one", 3,
		    t0, NULL) < 0 ||
		    outbox_add(db, OUTBOX_ALL, OUTBOX_KIND_REVOKED, s2, "two",
		    3, t0, NULL) < 0 ||
		    db_commit(db) < 0 ||
		    db_begin(db) < 0 ||
		    outbox_add(db, "dc1", OUTBOX_KIND_STATUS, s3, "open", 4,
		    t0, NULL) < 0)
			_exit(1);
		raise(SIGKILL);
		_exit(2);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);

	assert_int_equal(db_open(f->path, &schema_as, &f->db), 0);
	assert_int_equal(pending(f->db, "dc1", 0, &s), 2);
	assert_string_equal(s.payload[0], "one");
	assert_string_equal(s.payload[1], "two");
	assert_int_equal(pending(f->db, "dc2", 0, &s), 1);
	assert_string_equal(s.payload[0], "two");
}

static void
test_prune_keeps_unacked(void **state)
{
	struct fixture *f = *state;
	struct seen s;
	size_t removed = 99;
	uint64_t all, one, two, later;
	int64_t rows = -1;

	all = add(f->db, OUTBOX_ALL, OUTBOX_KIND_REVOKED, s1, "rev");
	one = add(f->db, "dc1", OUTBOX_KIND_ISSUED, s2, "one");
	two = add(f->db, "dc2", OUTBOX_KIND_ISSUED, s3, "two");

	assert_int_equal(outbox_prune(f->db, &removed), 0);
	assert_int_equal(removed, 0);
	/* dc1 has everything; the shared notice waits for dc2. */
	assert_int_equal(outbox_ack(f->db, "dc1", one), 0);
	assert_int_equal(outbox_prune(f->db, &removed), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(pending(f->db, "dc2", 0, &s), 2);
	assert_int_equal(s.seq[0], all);
	assert_int_equal(s.seq[1], two);
	assert_int_equal(outbox_ack(f->db, "dc2", two), 0);
	assert_int_equal(outbox_prune(f->db, &removed), 0);
	assert_int_equal(removed, 2);
	assert_int_equal(db_query_int64(f->db, &rows,
	    "SELECT count(*) FROM notice_outbox", NULL), DB_ROW);
	assert_int_equal(rows, 0);

	/* Seqs keep growing after the table emptied; acks stay checked. */
	later = add(f->db, "dc1", OUTBOX_KIND_STATUS, s2, "later");
	assert_true(later > two);
	assert_int_equal(outbox_ack(f->db, "dc1", later + 1), -ERANGE);

	/* A removed DC stops holding back the shared notices. */
	all = add(f->db, OUTBOX_ALL, OUTBOX_KIND_REVOKED, s3, "rev2");
	assert_int_equal(outbox_ack(f->db, "dc1", all), 0);
	assert_int_equal(outbox_prune(f->db, &removed), 0);
	assert_int_equal(removed, 1);		/* "later" */
	assert_int_equal(outbox_dc_remove(f->db, "dc2"), 0);
	assert_int_equal(outbox_dc_remove(f->db, "dc2"), -ENOENT);
	assert_int_equal(outbox_prune(f->db, &removed), 0);
	assert_int_equal(removed, 1);		/* "rev2" */
}

/* ---- delivery window, driven against the database ---------------------- */

/* A DC as the protocol wants it: it applies each seq once, in order. */
struct fake_dc {
	uint64_t	 last;
	size_t		 applied;
	size_t		 duplicates;
	uint64_t	 order[64];
};

static void
fake_dc_receive(struct fake_dc *d, uint64_t seq)
{
	if (seq <= d->last) {
		d->duplicates++;
		return;
	}
	assert_true(d->applied < 64);
	d->order[d->applied++] = seq;
	d->last = seq;
}

struct sender {
	struct outbox_conn	*conn;
	struct fake_dc		*dc;
	uint64_t		 now;
};

static int
send_one(const struct outbox_notice *n, void *arg)
{
	struct sender *s = arg;

	fake_dc_receive(s->dc, n->seq);
	assert_int_equal(outbox_conn_sent(s->conn, n->seq, s->now), 0);
	return 0;
}

/* Does what the step says when it is SEND; returns the step's action. */
static enum outbox_action
pump(struct db *db, const char *dcname, struct outbox_conn *c,
    struct fake_dc *dc, uint64_t now)
{
	struct outbox_step st;
	struct sender s = { c, dc, now };
	int n;

	outbox_conn_next(c, now, &st);
	if (st.action != OUTBOX_ACT_SEND)
		return st.action;
	n = outbox_pending(db, dcname, st.after_seq, st.max, send_one, &s);
	assert_true(n >= 0);
	if ((size_t)n < st.max)
		outbox_conn_drained(c, st.gen);
	return OUTBOX_ACT_SEND;
}

static void
test_conn_window(void **state)
{
	struct fixture *f = *state;
	struct outbox_conn c;
	struct outbox_step st;
	struct fake_dc dc = { 0 };
	uint64_t seq[5];
	size_t i;

	for (i = 0; i < 5; i++)
		seq[i] = add(f->db, "dc1", OUTBOX_KIND_STATUS, s1, "st");
	add(f->db, "dc2", OUTBOX_KIND_STATUS, s2, "not for dc1");

	outbox_conn_init(&c, cursor(f->db, "dc1"), 2, 1000);
	outbox_conn_next(&c, 0, &st);
	assert_int_equal(st.action, OUTBOX_ACT_IDLE);
	outbox_conn_connected(&c, cursor(f->db, "dc1"));
	outbox_conn_next(&c, 0, &st);
	assert_int_equal(st.action, OUTBOX_ACT_SEND);
	assert_int_equal(st.after_seq, 0);
	assert_int_equal(st.max, 2);

	assert_int_equal(pump(f->db, "dc1", &c, &dc, 10), OUTBOX_ACT_SEND);
	assert_int_equal(dc.applied, 2);
	/* Window full: wait for an ack until the oldest is overdue. */
	outbox_conn_next(&c, 20, &st);
	assert_int_equal(st.action, OUTBOX_ACT_WAIT);
	assert_int_equal(st.deadline, 1010);
	assert_int_equal(outbox_conn_sent(&c, seq[2], 20), -ENOBUFS);

	assert_int_equal(outbox_conn_acked(&c, seq[0]), 0);
	outbox_conn_next(&c, 30, &st);
	assert_int_equal(st.action, OUTBOX_ACT_SEND);
	assert_int_equal(st.after_seq, seq[1]);
	assert_int_equal(st.max, 1);
	assert_int_equal(pump(f->db, "dc1", &c, &dc, 30), OUTBOX_ACT_SEND);
	assert_int_equal(dc.applied, 3);

	/* One ack may cover several notices. */
	assert_int_equal(outbox_conn_acked(&c, seq[2]), 0);
	while (pump(f->db, "dc1", &c, &dc, 40) == OUTBOX_ACT_SEND)
		;
	assert_int_equal(dc.applied, 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(dc.order[i], seq[i]);
	outbox_conn_next(&c, 40, &st);
	assert_int_equal(st.action, OUTBOX_ACT_WAIT);
	assert_int_equal(outbox_conn_acked(&c, seq[4]), 0);
	/* The last batch filled the window: one more look finds nothing. */
	assert_int_equal(pump(f->db, "dc1", &c, &dc, 50), OUTBOX_ACT_SEND);
	outbox_conn_next(&c, 50, &st);
	assert_int_equal(st.action, OUTBOX_ACT_IDLE);
	assert_int_equal(dc.duplicates, 0);

	/* Acks that do not move forward, or point past what was sent. */
	assert_int_equal(outbox_conn_acked(&c, seq[3]), -EALREADY);
	assert_int_equal(outbox_conn_acked(&c, seq[4] + 100), -ERANGE);
	assert_int_equal(outbox_conn_sent(&c, seq[4], 60), -EINVAL);
}

/* A DC that acknowledged nothing gets everything again, in order. */
static void
test_conn_reconnect_resends(void **state)
{
	struct fixture *f = *state;
	struct outbox_conn c;
	struct fake_dc dc = { 0 };
	uint64_t seq[4], stored;
	size_t i;

	for (i = 0; i < 4; i++)
		seq[i] = add(f->db, i % 2 ? OUTBOX_ALL : "dc1",
		    OUTBOX_KIND_ISSUED, s1, "n");
	outbox_conn_init(&c, cursor(f->db, "dc1"), 8, 1000);
	outbox_conn_connected(&c, cursor(f->db, "dc1"));
	while (pump(f->db, "dc1", &c, &dc, 0) == OUTBOX_ACT_SEND)
		;
	assert_int_equal(dc.applied, 4);

	/* The channel drops before any ack: the DC lost them all. */
	outbox_conn_disconnected(&c);
	assert_int_equal(outbox_conn_acked(&c, seq[3]), -ENOTCONN);
	memset(&dc, 0, sizeof(dc));
	outbox_conn_connected(&c, cursor(f->db, "dc1"));
	while (pump(f->db, "dc1", &c, &dc, 100) == OUTBOX_ACT_SEND)
		;
	assert_int_equal(dc.applied, 4);
	for (i = 0; i < 4; i++)
		assert_int_equal(dc.order[i], seq[i]);

	/* Two acked, then another drop: only the rest comes again. */
	assert_int_equal(outbox_conn_acked(&c, seq[1]), 0);
	assert_true(outbox_conn_persist(&c, &stored));
	assert_int_equal(stored, seq[1]);
	assert_int_equal(outbox_ack(f->db, "dc1", stored), 0);
	outbox_conn_persisted(&c, stored);
	assert_false(outbox_conn_persist(&c, &stored));
	outbox_conn_disconnected(&c);
	outbox_conn_connected(&c, cursor(f->db, "dc1"));
	while (pump(f->db, "dc1", &c, &dc, 200) == OUTBOX_ACT_SEND)
		;
	/* The DC kept its state: it sees the resent two as duplicates. */
	assert_int_equal(dc.applied, 4);
	assert_int_equal(dc.duplicates, 2);
}

/*
 * A crash between an ack and writing it: the restarted AS starts from the
 * stored cursor and sends again what the DC already applied; the DC drops
 * those by seq, so it applies each notice once.
 */
static void
test_conn_unpersisted_ack_after_restart(void **state)
{
	struct fixture *f = *state;
	struct outbox_conn c;
	struct fake_dc dc = { 0 };
	uint64_t seq[3], pend;
	size_t i;

	for (i = 0; i < 3; i++)
		seq[i] = add(f->db, "dc1", OUTBOX_KIND_ISSUED, s1, "n");
	outbox_conn_init(&c, cursor(f->db, "dc1"), 0, 0);
	outbox_conn_connected(&c, cursor(f->db, "dc1"));
	while (pump(f->db, "dc1", &c, &dc, 0) == OUTBOX_ACT_SEND)
		;
	assert_int_equal(outbox_conn_acked(&c, seq[2]), 0);
	assert_true(outbox_conn_persist(&c, &pend));
	/* ... and the AS dies before outbox_ack(). */
	outbox_conn_init(&c, cursor(f->db, "dc1"), 0, 0);
	outbox_conn_connected(&c, cursor(f->db, "dc1"));
	while (pump(f->db, "dc1", &c, &dc, 0) == OUTBOX_ACT_SEND)
		;
	assert_int_equal(dc.applied, 3);
	assert_int_equal(dc.duplicates, 3);

	/* A DC that reports its last seq on connect is not sent it again. */
	assert_int_equal(outbox_ack(f->db, "dc1", dc.last), 0);
	outbox_conn_init(&c, 0, 0, 0);
	outbox_conn_connected(&c, cursor(f->db, "dc1"));
	assert_int_equal(pump(f->db, "dc1", &c, &dc, 0), OUTBOX_ACT_SEND);
	assert_int_equal(dc.duplicates, 3);
}

static void
test_conn_ack_timeout_resets(void **state)
{
	struct fixture *f = *state;
	struct outbox_conn c;
	struct outbox_step st;
	struct fake_dc dc = { 0 };

	add(f->db, "dc1", OUTBOX_KIND_ISSUED, s1, "n");
	outbox_conn_init(&c, 0, 4, 500);
	outbox_conn_connected(&c, 0);
	assert_int_equal(pump(f->db, "dc1", &c, &dc, 1000), OUTBOX_ACT_SEND);
	outbox_conn_next(&c, 1000, &st);
	assert_int_equal(st.action, OUTBOX_ACT_WAIT);
	assert_int_equal(st.deadline, 1500);
	outbox_conn_next(&c, 1499, &st);
	assert_int_equal(st.action, OUTBOX_ACT_WAIT);
	outbox_conn_next(&c, 1500, &st);
	assert_int_equal(st.action, OUTBOX_ACT_RESET);
	outbox_conn_disconnected(&c);
	outbox_conn_next(&c, 1500, &st);
	assert_int_equal(st.action, OUTBOX_ACT_IDLE);
}

/*
 * Once drained, the window waits for a kick; a kick that lands while a
 * fetch is under way is not lost to that fetch's drained().
 */
static void
test_conn_kick(void **state)
{
	struct fixture *f = *state;
	struct outbox_conn c;
	struct outbox_step st, st2;
	struct fake_dc dc = { 0 };
	uint64_t late;

	outbox_conn_init(&c, 0, 4, 1000);
	outbox_conn_connected(&c, 0);
	assert_int_equal(pump(f->db, "dc1", &c, &dc, 0), OUTBOX_ACT_SEND);
	outbox_conn_next(&c, 0, &st);
	assert_int_equal(st.action, OUTBOX_ACT_IDLE);

	add(f->db, "dc1", OUTBOX_KIND_ISSUED, s1, "first");
	outbox_conn_kick(&c);
	outbox_conn_next(&c, 0, &st);
	assert_int_equal(st.action, OUTBOX_ACT_SEND);
	/* The fetch for st runs; meanwhile another notice commits. */
	late = add(f->db, OUTBOX_ALL, OUTBOX_KIND_REVOKED, s2, "late");
	outbox_conn_kick(&c);
	outbox_conn_drained(&c, st.gen);
	outbox_conn_next(&c, 0, &st2);
	assert_int_equal(st2.action, OUTBOX_ACT_SEND);
	while (pump(f->db, "dc1", &c, &dc, 0) == OUTBOX_ACT_SEND)
		;
	assert_int_equal(dc.applied, 2);
	assert_int_equal(dc.last, late);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_pending_ack_order,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_dcs_independent,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_never_backwards,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_notices_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_dc_registry,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_acks_batched,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_leaves_nothing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_committed_survive_kill,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_keeps_unacked,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_conn_window,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_conn_reconnect_resends,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_conn_unpersisted_ack_after_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conn_ack_timeout_resets,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_conn_kick,
		    setup, teardown),
	};

	log_init("test_outbox", 1, LOG_LEVEL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
