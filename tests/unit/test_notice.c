/* test_notice.c -- unit tests: AS notices applied to the DC database once and in order, acknowledged by seq; the status store. */
#include "config.h"

#include <arpa/inet.h>
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

#include <gnutls/ocsp.h>
#include <sqlite3.h>

#include "cert.h"
#include "crypto.h"
#include "db.h"
#include "msg.h"
#include "notice.h"
#include "ocsp.h"
#include "ocsphttp.h"
#include "rand.h"
#include "signal.h"
#include "vip.h"

#include "../testca.h"

#define NOW	((time_t)1795000000)
#define AS	"as.ntm.test"

struct fix {
	struct ntm_rng		*rng;
	struct cert_ca		 ca;
	gnutls_privkey_t	 other_key, node_key;
	gnutls_x509_crt_t	 alice;
	struct ocsp_signer	*signer;
	uint8_t			 serial[32];
	size_t			 serial_len;
	gnutls_datum_t		 cert_der;
	char			 path[64];
	struct notice		*n;
	/* What the hooks saw. */
	int			 node_sets;
	char			 set_fqdn[64], set_v4[64], set_v6[64];
	int			 revokes;
	char			 revoked_fqdn[64];
	int			 keys;
	uint32_t		 key_id;
	uint8_t			 reason;	/* of REVOKED notices; 0: 1 */
	uint64_t		 key_expiry;	/* of TICKET_KEY; 0: a day */
};

static int
hook_node_set(void *arg, const char *fqdn, const char *v4, const char *v6)
{
	struct fix *f = arg;

	f->node_sets++;
	snprintf(f->set_fqdn, sizeof(f->set_fqdn), "%s", fqdn);
	snprintf(f->set_v4, sizeof(f->set_v4), "%s", v4 ? v4 : "-");
	snprintf(f->set_v6, sizeof(f->set_v6), "%s", v6 ? v6 : "-");
	return 0;
}

static void
hook_revoked(void *arg, const char *fqdn)
{
	struct fix *f = arg;

	f->revokes++;
	snprintf(f->revoked_fqdn, sizeof(f->revoked_fqdn), "%s", fqdn);
}

static void
hook_ticket_key(void *arg, uint32_t id, const uint8_t key[PROTO_KEY_LEN])
{
	struct fix *f = arg;

	(void)key;
	f->keys++;
	f->key_id = id;
}

static void
fix_open(struct fix *f)
{
	struct notice_hooks h = {
		.node_set = hook_node_set,
		.node_remove = NULL,	/* dc-notice.sh covers displacement */
		.revoked = hook_revoked,
		.ticket_key = hook_ticket_key,
		.arg = f,
	};

	assert_int_equal(notice_new(&f->n, f->path, f->ca.as, &h), 0);
}

static int
setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	const struct testca_leaf alice = { .fqdn = "alice.dc1.ntm.test",
	    .vip4 = "198.18.1.10", .vip6 = "fd6e:746d:6f62:1::10" };
	struct db *db;
	int fd;

	assert_non_null(f);
	f->rng = rng_seeded_new("test_notice", 11);
	assert_int_equal(testca_make(&f->ca, NULL, f->rng, NOW - 86400), 0);
	assert_int_equal(cert_key_generate(CERT_KEY_P256, &f->other_key), 0);
	assert_int_equal(testca_issue(&f->ca, &alice, f->rng, NOW - 60,
	    &f->node_key, &f->alice), 0);
	f->serial_len = sizeof(f->serial);
	assert_int_equal(gnutls_x509_crt_get_serial(f->alice, f->serial,
	    &f->serial_len), 0);
	assert_int_equal(gnutls_x509_crt_export2(f->alice, GNUTLS_X509_FMT_DER,
	    &f->cert_der), 0);
	assert_int_equal(ocsp_signer_new(f->ca.as, &f->signer), 0);

	snprintf(f->path, sizeof(f->path), "/tmp/test_notice.XXXXXX");
	assert_true((fd = mkstemp(f->path)) >= 0);
	close(fd);
	assert_int_equal(db_open(f->path, &schema_dc, &db), 0);
	db_close(db);
	fix_open(f);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;
	char p[96];

	notice_free(f->n);
	unlink(f->path);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	ocsp_signer_free(f->signer);
	gnutls_free(f->cert_der.data);
	gnutls_x509_crt_deinit(f->alice);
	gnutls_privkey_deinit(f->node_key);
	gnutls_privkey_deinit(f->other_key);
	cert_ca_clear(&f->ca);
	rng_free(f->rng);
	free(f);
	return 0;
}

/* A status for alice dated t, signed with key (the AS's or another). */
static gnutls_datum_t
status_for(struct fix *f, gnutls_privkey_t key, bool revoked, time_t t)
{
	struct ocsp_status st;
	gnutls_datum_t der;

	memset(&st, 0, sizeof(st));
	st.status = revoked ? OCSP_CERT_REVOKED : OCSP_CERT_GOOD;
	st.reason = revoked ? OCSP_REASON_KEY_COMPROMISE :
	    OCSP_REASON_UNSPECIFIED;
	st.revocation_time = revoked ? t : 0;
	st.produced_at = t;
	st.this_update = t;
	st.next_update = t + 600;
	assert_int_equal(ocsp_sign(f->signer, key, f->serial, f->serial_len,
	    &st, &der), 0);
	return der;
}

/* Encodes one notice about alice; status NULL for TICKET_KEY. */
static size_t
notice_make(struct fix *f, uint8_t type, uint64_t seq,
    const gnutls_datum_t *status, uint8_t *out, size_t cap)
{
	static const uint8_t v4[4] = { 198, 18, 1, 10 };
	static const uint8_t v6[16] = { 0xfd, 0x6e, 0x74, 0x6d, 0x6f, 0x62,
	    0, 1, 0, 0, 0, 0, 0, 0, 0, 0x10 };
	static const uint8_t key[PROTO_KEY_LEN] = { 7 };
	const char *fqdn = "alice.dc1.ntm.test";
	struct msg m;
	size_t len;

	msg_init(&m, type);
	m.hdr.txid = (uint32_t)seq + 100;
	assert_int_equal(msg_add_u64(&m, PROTO_ATTR_NOTICE_SEQ, seq), 0);
	switch (type) {
	case PROTO_MSG_NOTICE_ISSUED:
		assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_FQDN, fqdn,
		    strlen(fqdn)), 0);
		assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_SERIAL,
		    f->serial, f->serial_len), 0);
		assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_CERT,
		    f->cert_der.data, f->cert_der.size), 0);
		assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_STATUS,
		    status->data, status->size), 0);
		assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_VIP4, v4, 4), 0);
		assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_VIP6, v6, 16), 0);
		break;
	case PROTO_MSG_NOTICE_REVOKED:
		assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_SERIAL,
		    f->serial, f->serial_len), 0);
		assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_FQDN, fqdn,
		    strlen(fqdn)), 0);
		assert_int_equal(msg_add_u64(&m, PROTO_ATTR_REVOCATION_TIME,
		    NOW), 0);
		assert_int_equal(msg_add_u8(&m, PROTO_ATTR_REASON,
		    f->reason != 0 ? f->reason : 1), 0);
		assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_STATUS,
		    status->data, status->size), 0);
		break;
	case PROTO_MSG_NOTICE_STATUS:
		assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_SERIAL,
		    f->serial, f->serial_len), 0);
		assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_STATUS,
		    status->data, status->size), 0);
		break;
	case PROTO_MSG_NOTICE_TICKET_KEY:
		assert_int_equal(msg_add_u32(&m, PROTO_ATTR_TICKET_KEY_ID,
		    0xabcd), 0);
		assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_TICKET_KEY, key,
		    sizeof(key)), 0);
		assert_int_equal(msg_add_u64(&m, PROTO_ATTR_EXPIRY,
		    f->key_expiry != 0 ? f->key_expiry : NOW + 86400), 0);
		break;
	default:
		break;
	}
	assert_int_equal(msg_encode(&m, out, cap, &len), 0);
	return len;
}

/* Sends one notice; returns notice_input's code and the acked seq (0: none). */
static int
feed(struct fix *f, uint8_t type, uint64_t seq, const gnutls_datum_t *st,
    uint64_t *acked)
{
	uint8_t buf[8192], ack[NOTICE_ACK_MAX];
	size_t len, acklen;
	struct msg m;
	int rc;

	len = notice_make(f, type, seq, st, buf, sizeof(buf));
	rc = notice_input(f->n, AS, buf, len, NOW, ack, sizeof(ack), &acklen);
	*acked = 0;
	if (acklen > 0) {
		assert_int_equal(msg_decode(ack, acklen, &m), 0);
		assert_int_equal(m.hdr.type, PROTO_MSG_NOTICE_ACK);
		assert_int_equal(m.hdr.txid, (uint32_t)seq + 100);
		assert_int_equal(msg_attr_u64(&m, PROTO_ATTR_NOTICE_SEQ,
		    acked), 0);
	}
	return rc;
}

static int64_t
sql_int(struct fix *f, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* NOTICE_ISSUED: status and nodes rows, DNS hook, ack; not applied twice. */
static void
test_issued_once(void **state)
{
	struct fix *f = *state;
	gnutls_datum_t st = status_for(f, f->ca.as_key, false, NOW - 10);
	struct signal_cert sc;
	uint8_t h[CRYPTO_SHA256_SIZE];
	uint64_t acked;

	assert_int_equal(feed(f, PROTO_MSG_NOTICE_ISSUED, 1, &st, &acked), 0);
	assert_int_equal(acked, 1);
	assert_int_equal(f->node_sets, 1);
	assert_string_equal(f->set_fqdn, "alice.dc1.ntm.test");
	assert_string_equal(f->set_v4, "198.18.1.10");
	assert_string_equal(f->set_v6, "fd6e:746d:6f62:1::10");
	assert_int_equal(sql_int(f, "SELECT count(*) FROM cert_status WHERE "
	    "fqdn = 'alice.dc1.ntm.test' AND revoked = 0"), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM nodes WHERE "
	    "vip4 = '198.18.1.10' AND vip6 = 'fd6e:746d:6f62:1::10'"), 1);
	assert_int_equal(sql_int(f, "SELECT last_seq FROM notice_cursor "
	    "WHERE as_name = '" AS "'"), 1);
	assert_int_equal(notice_cursor(f->n, AS), 1);
	/* dc/signal's view: hash of the certificate, the status stapled. */
	assert_int_equal(notice_cert(f->n, "alice.dc1.ntm.test", &sc), 0);
	crypto_sha256(h, f->cert_der.data, f->cert_der.size);
	assert_memory_equal(sc.hash, h, sizeof(h));
	assert_int_equal(sc.status_len, st.size);
	assert_memory_equal(sc.status, st.data, st.size);
	assert_false(notice_revoked(f->n, f->serial, f->serial_len));

	/* The AS resends it (reconnect): acked again, not applied again. */
	assert_int_equal(feed(f, PROTO_MSG_NOTICE_ISSUED, 1, &st, &acked), 1);
	assert_int_equal(acked, 1);
	assert_int_equal(f->node_sets, 1);
	assert_int_equal(notice_stats(f->n)->duplicates, 1);
	gnutls_free(st.data);
}

/* Revoked is final: a later good status does not bring the certificate back. */
static void
test_revoked_final(void **state)
{
	struct fix *f = *state;
	gnutls_datum_t good = status_for(f, f->ca.as_key, false, NOW - 10);
	gnutls_datum_t rev = status_for(f, f->ca.as_key, true, NOW - 5);
	gnutls_datum_t later = status_for(f, f->ca.as_key, false, NOW);
	struct signal_cert sc;
	uint64_t acked;

	assert_int_equal(feed(f, PROTO_MSG_NOTICE_ISSUED, 1, &good, &acked), 0);
	/* A REVOKED must carry a revoked status. */
	assert_int_equal(feed(f, PROTO_MSG_NOTICE_REVOKED, 2, &good, &acked),
	    -EBADMSG);
	assert_int_equal(acked, 0);
	assert_int_equal(feed(f, PROTO_MSG_NOTICE_REVOKED, 2, &rev, &acked), 0);
	assert_int_equal(acked, 2);
	assert_int_equal(f->revokes, 1);
	assert_string_equal(f->revoked_fqdn, "alice.dc1.ntm.test");
	assert_true(notice_revoked(f->n, f->serial, f->serial_len));
	assert_int_equal(notice_cert(f->n, "alice.dc1.ntm.test", &sc),
	    -ENOENT);

	assert_int_equal(feed(f, PROTO_MSG_NOTICE_STATUS, 3, &later, &acked),
	    0);
	assert_int_equal(acked, 3);
	assert_true(notice_revoked(f->n, f->serial, f->serial_len));
	assert_int_equal(sql_int(f, "SELECT revoked FROM cert_status"), 1);
	assert_int_equal(sql_int(f, "SELECT this_update FROM cert_status"),
	    NOW - 5);

	/* After a restart the revocation is still known. */
	notice_free(f->n);
	f->n = NULL;
	fix_open(f);
	assert_true(notice_revoked(f->n, f->serial, f->serial_len));
	assert_int_equal(notice_cursor(f->n, AS), 3);
	assert_int_equal(feed(f, PROTO_MSG_NOTICE_STATUS, 3, &later, &acked),
	    1);
	assert_int_equal(acked, 3);
	gnutls_free(good.data);
	gnutls_free(rev.data);
	gnutls_free(later.data);
}

/* An older status never replaces a newer one, in memory or on disk. */
static void
test_older_status_kept_out(void **state)
{
	struct fix *f = *state;
	gnutls_datum_t t1 = status_for(f, f->ca.as_key, false, NOW - 100);
	gnutls_datum_t t2 = status_for(f, f->ca.as_key, false, NOW - 50);
	struct signal_cert sc;
	uint64_t acked;

	assert_int_equal(feed(f, PROTO_MSG_NOTICE_ISSUED, 4, &t2, &acked), 0);
	assert_int_equal(feed(f, PROTO_MSG_NOTICE_STATUS, 5, &t1, &acked), 0);
	assert_int_equal(acked, 5);
	assert_int_equal(sql_int(f, "SELECT this_update FROM cert_status"),
	    NOW - 50);
	assert_int_equal(notice_cert(f->n, "alice.dc1.ntm.test", &sc), 0);
	assert_int_equal(sc.status_len, t2.size);
	assert_memory_equal(sc.status, t2.data, t2.size);
	gnutls_free(t1.data);
	gnutls_free(t2.data);
}

/* Seqs with gaps (other DCs' notices) are applied; older ones are not. */
static void
test_gaps_and_order(void **state)
{
	struct fix *f = *state;
	gnutls_datum_t st = status_for(f, f->ca.as_key, false, NOW - 10);
	uint64_t acked;

	assert_int_equal(feed(f, PROTO_MSG_NOTICE_ISSUED, 7, &st, &acked), 0);
	assert_int_equal(feed(f, PROTO_MSG_NOTICE_STATUS, 12, &st, &acked), 0);
	assert_int_equal(acked, 12);
	assert_int_equal(feed(f, PROTO_MSG_NOTICE_STATUS, 9, &st, &acked), 1);
	assert_int_equal(acked, 12);
	assert_int_equal(notice_stats(f->n)->applied, 2);
	gnutls_free(st.data);
}

static void
sql_exec(struct fix *f, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/*
 * A notice whose transaction fails is neither acknowledged nor skipped:
 * later notices wait for it, so its resend is applied and not taken for a
 * duplicate (before, the next notice moved the cursor past the failed
 * revocation and the DC never learned of it).
 */
static void
test_failed_notice_not_skipped(void **state)
{
	struct fix *f = *state;
	gnutls_datum_t good = status_for(f, f->ca.as_key, false, NOW - 10);
	gnutls_datum_t rev = status_for(f, f->ca.as_key, true, NOW - 5);
	uint64_t acked;

	assert_int_equal(feed(f, PROTO_MSG_NOTICE_ISSUED, 1, &good, &acked), 0);
	assert_int_equal(acked, 1);
	/* The database refuses the revocation's write (disk trouble). */
	sql_exec(f, "CREATE TRIGGER fail_status BEFORE UPDATE ON cert_status "
	    "BEGIN SELECT RAISE(ABORT, 'injected'); END");
	assert_int_equal(feed(f, PROTO_MSG_NOTICE_REVOKED, 2, &rev, &acked),
	    -EIO);
	assert_int_equal(acked, 0);
	assert_false(notice_revoked(f->n, f->serial, f->serial_len));
	sql_exec(f, "DROP TRIGGER fail_status");
	/* The next one, pipelined behind it, waits: not applied, no ack. */
	assert_int_equal(feed(f, PROTO_MSG_NOTICE_TICKET_KEY, 3, NULL, &acked),
	    -EAGAIN);
	assert_int_equal(acked, 0);
	assert_int_equal(f->keys, 0);
	assert_int_equal(notice_cursor(f->n, AS), 1);
	assert_int_equal(notice_stats(f->n)->held_back, 1);
	/* The AS resends from its cursor: both are applied, in order. */
	assert_int_equal(feed(f, PROTO_MSG_NOTICE_REVOKED, 2, &rev, &acked), 0);
	assert_int_equal(acked, 2);
	assert_true(notice_revoked(f->n, f->serial, f->serial_len));
	assert_int_equal(f->revokes, 1);
	assert_int_equal(feed(f, PROTO_MSG_NOTICE_TICKET_KEY, 3, NULL, &acked),
	    0);
	assert_int_equal(acked, 3);
	assert_int_equal(f->keys, 1);
	assert_int_equal(sql_int(f, "SELECT revoked FROM cert_status"), 1);
	assert_int_equal(sql_int(f, "SELECT last_seq FROM notice_cursor "
	    "WHERE as_name = '" AS "'"), 3);
	gnutls_free(good.data);
	gnutls_free(rev.data);
}

/* A status not signed by the AS CA, or not a notice at all: refused, no ack. */
static void
test_refused(void **state)
{
	struct fix *f = *state;
	gnutls_datum_t forged = status_for(f, f->other_key, false, NOW - 10);
	gnutls_datum_t future = status_for(f, f->ca.as_key, false, NOW + 3600);
	uint8_t buf[256], ack[NOTICE_ACK_MAX];
	size_t len, acklen;
	uint64_t acked;
	struct msg m;

	assert_int_equal(feed(f, PROTO_MSG_NOTICE_ISSUED, 1, &forged, &acked),
	    -EBADMSG);
	assert_int_equal(acked, 0);
	assert_int_equal(feed(f, PROTO_MSG_NOTICE_ISSUED, 1, &future, &acked),
	    -EBADMSG);
	assert_int_equal(notice_cursor(f->n, AS), 0);
	assert_int_equal(f->node_sets, 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM cert_status"), 0);

	msg_init(&m, PROTO_MSG_NOTICE_ACK);
	assert_int_equal(msg_add_u64(&m, PROTO_ATTR_NOTICE_SEQ, 1), 0);
	assert_int_equal(msg_encode(&m, buf, sizeof(buf), &len), 0);
	assert_int_equal(notice_input(f->n, AS, buf, len, NOW, ack,
	    sizeof(ack), &acklen), -EPROTO);
	assert_int_equal(acklen, 0);
	assert_int_not_equal(notice_input(f->n, AS, buf, 10, NOW, ack,
	    sizeof(ack), &acklen), 0);
	assert_int_equal(notice_stats(f->n)->refused, 4);
	gnutls_free(forged.data);
	gnutls_free(future.data);
}

/* NOTICE_TICKET_KEY: stored in ticket_keys and handed to the signalling. */
static void
test_ticket_key(void **state)
{
	struct fix *f = *state;
	uint64_t acked;

	assert_int_equal(feed(f, PROTO_MSG_NOTICE_TICKET_KEY, 1, NULL, &acked),
	    0);
	assert_int_equal(acked, 1);
	assert_int_equal(f->keys, 1);
	assert_int_equal(f->key_id, 0xabcd);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM ticket_keys WHERE "
	    "id = 43981 AND expires > created"), 1);

	/*
	 * One that expired before it arrived (found by fuzz_notice: the
	 * schema refused it and the AS would have resent it for ever) is
	 * acknowledged, neither stored nor used.
	 */
	f->key_expiry = NOW - 1;
	assert_int_equal(feed(f, PROTO_MSG_NOTICE_TICKET_KEY, 2, NULL, &acked),
	    0);
	assert_int_equal(acked, 2);
	assert_int_equal(f->keys, 1);
	f->key_expiry = UINT64_MAX;
	assert_int_equal(feed(f, PROTO_MSG_NOTICE_TICKET_KEY, 3, NULL, &acked),
	    0);
	assert_int_equal(acked, 3);
	assert_int_equal(f->keys, 2);
}

/* The certificate hash survives a restart of the DC (cert_status.cert_hash). */
static void
test_hash_after_restart(void **state)
{
	struct fix *f = *state;
	gnutls_datum_t st = status_for(f, f->ca.as_key, false, NOW - 10);
	gnutls_datum_t later = status_for(f, f->ca.as_key, false, NOW);
	uint8_t h[CRYPTO_SHA256_SIZE];
	struct signal_cert sc;
	uint64_t acked;

	assert_int_equal(feed(f, PROTO_MSG_NOTICE_ISSUED, 1, &st, &acked), 0);
	/* A refresh carries no hash: the stored one stays. */
	assert_int_equal(feed(f, PROTO_MSG_NOTICE_STATUS, 2, &later, &acked),
	    0);
	crypto_sha256(h, f->cert_der.data, f->cert_der.size);
	assert_int_equal(sql_int(f, "SELECT length(cert_hash) FROM "
	    "cert_status"), CRYPTO_SHA256_SIZE);
	notice_free(f->n);
	f->n = NULL;
	fix_open(f);
	assert_int_equal(notice_cert(f->n, "alice.dc1.ntm.test", &sc), 0);
	assert_memory_equal(sc.hash, h, sizeof(h));
	assert_memory_equal(sc.serial, f->serial, f->serial_len);
	assert_int_equal(sc.status_len, later.size);
	assert_memory_equal(sc.status, later.data, later.size);
	gnutls_free(st.data);
	gnutls_free(later.data);
}

/*
 * A renewal: the old certificate revoked as superseded while the new one
 * is good does not end the node's registration; revoking the new one does.
 */
static void
test_superseded(void **state)
{
	struct fix *f = *state;
	gnutls_datum_t old_good, new_good, old_rev, new_rev;
	struct signal_cert sc;
	uint64_t acked;

	old_good = status_for(f, f->ca.as_key, false, NOW - 100);
	old_rev = status_for(f, f->ca.as_key, true, NOW - 10);
	f->serial[0] ^= 1;		/* the renewed certificate */
	new_good = status_for(f, f->ca.as_key, false, NOW - 50);
	new_rev = status_for(f, f->ca.as_key, true, NOW - 5);
	f->serial[0] ^= 1;
	assert_int_equal(feed(f, PROTO_MSG_NOTICE_ISSUED, 1, &old_good,
	    &acked), 0);
	f->serial[0] ^= 1;
	assert_int_equal(feed(f, PROTO_MSG_NOTICE_ISSUED, 2, &new_good,
	    &acked), 0);
	f->serial[0] ^= 1;
	f->reason = 4;
	assert_int_equal(feed(f, PROTO_MSG_NOTICE_REVOKED, 3, &old_rev,
	    &acked), 0);
	assert_int_equal(acked, 3);
	assert_int_equal(f->revokes, 0);
	assert_true(notice_revoked(f->n, f->serial, f->serial_len));
	assert_int_equal(notice_cert(f->n, "alice.dc1.ntm.test", &sc), 0);
	assert_int_equal(sc.serial[0], f->serial[0] ^ 1);
	f->serial[0] ^= 1;
	f->reason = 1;
	assert_int_equal(feed(f, PROTO_MSG_NOTICE_REVOKED, 4, &new_rev,
	    &acked), 0);
	assert_int_equal(f->revokes, 1);
	assert_int_equal(notice_cert(f->n, "alice.dc1.ntm.test", &sc),
	    -ENOENT);
	gnutls_free(old_good.data);
	gnutls_free(new_good.data);
	gnutls_free(old_rev.data);
	gnutls_free(new_rev.data);
}

/* VIP_REQUEST for fqdn: the answer's status and, when OK, the pair as text. */
static int
vip_ask(struct fix *f, const char *fqdn, uint32_t txid, char *t4, char *t6)
{
	uint8_t buf[512], ack[NOTICE_ACK_MAX];
	const struct msg_attr *a;
	size_t len, acklen;
	struct msg m;

	msg_init(&m, PROTO_MSG_VIP_REQUEST);
	m.hdr.txid = txid;
	assert_int_equal(msg_add_bytes(&m, PROTO_ATTR_FQDN, fqdn,
	    strlen(fqdn)), 0);
	assert_int_equal(msg_encode(&m, buf, sizeof(buf), &len), 0);
	assert_int_equal(notice_input(f->n, AS, buf, len, NOW, ack,
	    sizeof(ack), &acklen), 0);
	assert_true(acklen > 0);
	assert_int_equal(msg_decode(ack, acklen, &m), 0);
	assert_int_equal(m.hdr.type, PROTO_MSG_VIP_RESPONSE);
	assert_int_equal(m.hdr.txid, txid);
	assert_non_null(a = msg_attr_find(&m, PROTO_ATTR_FQDN));
	if (m.hdr.status == PROTO_STATUS_OK) {
		assert_non_null(a = msg_attr_find(&m, PROTO_ATTR_VIP4));
		inet_ntop(AF_INET, a->val, t4, VIP_TEXT_MAX);
		assert_non_null(a = msg_attr_find(&m, PROTO_ATTR_VIP6));
		inet_ntop(AF_INET6, a->val, t6, VIP_TEXT_MAX);
	}
	return m.hdr.status;
}

/*
 * VIP_REQUEST: UNAVAILABLE until the DC knows its prefixes; then the
 * lowest pair nobody holds, the same for the same name, the
 * certified pair for a node issued earlier; UNKNOWN_NODE outside the zone.
 * No cursor moves.
 */
static void
test_vip_request(void **state)
{
	struct fix *f = *state;
	gnutls_datum_t st = status_for(f, f->ca.as_key, false, NOW - 10);
	struct vip_config vc;
	char t4[VIP_TEXT_MAX], t6[VIP_TEXT_MAX];
	uint64_t acked;

	assert_int_equal(vip_ask(f, "bob.dc1.ntm.test", 5, t4, t6),
	    PROTO_STATUS_UNAVAILABLE);
	memset(&vc, 0, sizeof(vc));
	vc.zone = "dc1.ntm.test";
	vc.have4 = vc.have6 = true;
	inet_pton(AF_INET, "198.18.1.0", &vc.prefix4);
	vc.prefix4_len = 24;
	inet_pton(AF_INET6, "fd6e:746d:6f62:1::", &vc.prefix6);
	vc.prefix6_len = 64;
	notice_set_vip(f->n, &vc);

	assert_int_equal(vip_ask(f, "bob.dc1.ntm.test", 6, t4, t6),
	    PROTO_STATUS_OK);
	assert_string_equal(t4, "198.18.1.1");
	assert_string_equal(t6, "fd6e:746d:6f62:1::1");
	assert_int_equal(vip_ask(f, "carol.dc1.ntm.test", 7, t4, t6),
	    PROTO_STATUS_OK);
	assert_string_equal(t4, "198.18.1.2");
	assert_int_equal(vip_ask(f, "bob.dc1.ntm.test", 8, t4, t6),
	    PROTO_STATUS_OK);
	assert_string_equal(t4, "198.18.1.1");
	assert_int_equal(vip_ask(f, "bob.dc2.ntm.test", 9, t4, t6),
	    PROTO_STATUS_UNKNOWN_NODE);
	assert_int_equal(notice_cursor(f->n, AS), 0);

	/* alice certified with .10 (from the AS's pool): hers from now on. */
	assert_int_equal(feed(f, PROTO_MSG_NOTICE_ISSUED, 1, &st, &acked), 0);
	assert_int_equal(vip_ask(f, "alice.dc1.ntm.test", 10, t4, t6),
	    PROTO_STATUS_OK);
	assert_string_equal(t4, "198.18.1.10");
	assert_string_equal(t6, "fd6e:746d:6f62:1::10");
	assert_int_equal(notice_stats(f->n)->vips, 4);
	assert_int_equal(notice_stats(f->n)->vips_refused, 2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM vip_assignments"),
	    3);
	gnutls_free(st.data);
}

/* The HTTP side of the OCSP responder: what a request looks like. */
static void
test_ocsphttp_parse(void **state)
{
	static const char post[] = "POST / HTTP/1.1\r\nHost: dc\r\n"
	    "content-length: 4\r\n\r\nABCD";
	static const char get[] = "GET /MAMCAQU%3D HTTP/1.0\r\n\r\n";
	struct ocsphttp_request r;
	uint8_t out[64], big[OCSPHTTP_REQUEST_MAX + 64];

	(void)state;
	assert_int_equal(ocsphttp_parse((const uint8_t *)post, sizeof(post) - 1,
	    out, sizeof(out), &r), (int)(sizeof(post) - 1));
	assert_int_equal(r.method, OCSPHTTP_POST);
	assert_int_equal(r.der_len, 4);
	assert_memory_equal(r.der, "ABCD", 4);
	/* Body or headers not all there yet: more bytes needed. */
	assert_int_equal(ocsphttp_parse((const uint8_t *)post, sizeof(post) - 3,
	    out, sizeof(out), &r), 0);
	assert_int_equal(ocsphttp_parse((const uint8_t *)post, 20, out,
	    sizeof(out), &r), 0);
	/* GET: base64 ("MAMCAQU=" is 30 03 02 01 05), percent-encoded. */
	assert_int_equal(ocsphttp_parse((const uint8_t *)get, sizeof(get) - 1,
	    out, sizeof(out), &r), (int)(sizeof(get) - 1));
	assert_int_equal(r.method, OCSPHTTP_GET);
	assert_int_equal(r.der_len, 5);
	assert_memory_equal(r.der, "\x30\x03\x02\x01\x05", 5);
	assert_int_equal(ocsphttp_parse((const uint8_t *)
	    "PUT / HTTP/1.1\r\n\r\n", 18, out, sizeof(out), &r), -ENOTSUP);
	assert_int_equal(ocsphttp_parse((const uint8_t *)
	    "POST / HTTP/1.1\r\n\r\n", 19, out, sizeof(out), &r), -EINVAL);
	assert_int_equal(ocsphttp_parse((const uint8_t *)
	    "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 39, out,
	    sizeof(out), &r), -EINVAL);
	assert_int_equal(ocsphttp_parse((const uint8_t *)
	    "POST / HTTP/1.1\r\nContent-Length: 99999\r\n\r\n", 42, out,
	    sizeof(out), &r), -EMSGSIZE);
	assert_int_equal(ocsphttp_parse((const uint8_t *)
	    "GET /%zz HTTP/1.1\r\n\r\n", 21, out, sizeof(out), &r), -EINVAL);
	assert_int_equal(ocsphttp_parse((const uint8_t *)
	    "GET / SPDY/3\r\n\r\n", 16, out, sizeof(out), &r), -EINVAL);
	/* No end of headers within the limit. */
	memset(big, 'a', sizeof(big));
	assert_int_equal(ocsphttp_parse(big, sizeof(big), out, sizeof(out),
	    &r), -EMSGSIZE);
}

/* An OCSP request for alice (SHA-1 CertID under the AS CA), DER. */
static gnutls_datum_t
ocsp_request_for(struct fix *f, gnutls_x509_crt_t issuer)
{
	gnutls_ocsp_req_t req;
	gnutls_datum_t der;

	assert_int_equal(gnutls_ocsp_req_init(&req), 0);
	assert_int_equal(gnutls_ocsp_req_add_cert(req, GNUTLS_DIG_SHA1, issuer,
	    f->alice), 0);
	assert_int_equal(gnutls_ocsp_req_export(req, &der), 0);
	gnutls_ocsp_req_deinit(req);
	return der;
}

/* The responder answers with the stored status byte for byte, or an error. */
static void
test_ocsphttp_answer(void **state)
{
	struct fix *f = *state;
	gnutls_datum_t st = status_for(f, f->ca.as_key, false, NOW - 10);
	gnutls_datum_t req = ocsp_request_for(f, f->ca.as);
	gnutls_datum_t wrong = ocsp_request_for(f, f->ca.root);
	struct ocsp_signer *sg;
	const uint8_t *kh;
	uint8_t *out;
	size_t len;
	uint64_t acked;

	assert_int_equal(ocsp_signer_new(f->ca.as, &sg), 0);
	kh = ocsp_signer_key_hash(sg);
	/* Nothing stored yet: unauthorized (RFC 5019 2.2.3). */
	assert_int_equal(ocsphttp_answer(f->n, kh, req.data, req.size, &out,
	    &len), 1);
	assert_int_equal(len, 5);
	assert_memory_equal(out, "\x30\x03\x0a\x01\x06", 5);
	free(out);
	assert_int_equal(feed(f, PROTO_MSG_NOTICE_ISSUED, 1, &st, &acked), 0);
	assert_int_equal(ocsphttp_answer(f->n, kh, req.data, req.size, &out,
	    &len), 0);
	assert_int_equal(len, st.size);
	assert_memory_equal(out, st.data, st.size);
	free(out);
	/* The same serial under another issuer's key: unauthorized. */
	assert_int_equal(ocsphttp_answer(f->n, kh, wrong.data, wrong.size,
	    &out, &len), 1);
	assert_int_equal(out[4], 6);
	free(out);
	/* Not an OCSPRequest: malformedRequest. */
	assert_int_equal(ocsphttp_answer(f->n, kh, st.data, 7, &out, &len), 1);
	assert_int_equal(out[4], 1);
	free(out);
	ocsp_signer_free(sg);
	gnutls_free(st.data);
	gnutls_free(req.data);
	gnutls_free(wrong.data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_issued_once, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_revoked_final, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_older_status_kept_out,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_gaps_and_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_failed_notice_not_skipped,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ticket_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hash_after_restart, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_vip_request, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_superseded, setup,
		    teardown),
		cmocka_unit_test(test_ocsphttp_parse),
		cmocka_unit_test_setup_teardown(test_ocsphttp_answer, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
