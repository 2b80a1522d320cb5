/* test_ticket.c -- unit tests for sealing and opening DC tickets. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "msg.h"
#include "rand.h"
#include "ticket.h"

static const uint8_t key1[PROTO_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static const uint8_t key2[PROTO_KEY_LEN] = { 9, 9, 9, 9 };

static void
body_fill(struct ticket_body *b)
{
	memset(b, 0, sizeof(*b));
	memset(b->id, 0xa5, sizeof(b->id));
	memset(b->key, 0x3c, sizeof(b->key));
	strcpy(b->fqdn, "alice.dc1.ntm.test");
	b->fqdn_len = strlen(b->fqdn);
	b->has_vip4 = true;
	memcpy(b->vip4, "\xc6\x12\x01\x02", 4);
	b->has_vip6 = true;
	memcpy(b->vip6, "\xfd\x6e\x74\x6d\x6f\x62\x00\x01\0\0\0\0\0\0\0\x02",
	    16);
	b->expiry = 1000000 + 86400;
	b->serial_len = 16;
	memset(b->serial, 0x11, 16);
}

static void
test_seal_open_round_trip(void **state)
{
	struct ticket_keyring kr;
	struct ticket_body in, out;
	struct ntm_rng *rng = rng_seeded_new("t", 1);
	uint8_t t[PROTO_TICKET_MAX], t2[PROTO_TICKET_MAX];
	size_t len, len2;
	uint32_t id;

	ticket_keyring_init(&kr);
	assert_int_equal(ticket_keyring_add(&kr, 7, key1), 0);
	body_fill(&in);
	assert_int_equal(ticket_seal(&kr, 7, &in, rng, t, sizeof(t), &len), 0);
	assert_true(len >= PROTO_TICKET_MIN && len <= PROTO_TICKET_MAX);
	/* version 1, key id 7 in clear, then the nonce */
	assert_int_equal(t[0], 1);
	assert_int_equal(ticket_key_id(t, len, &id), 0);
	assert_int_equal(id, 7);
	assert_int_equal(ticket_open(&kr, t, len, 1000000, &out), 0);
	assert_memory_equal(out.id, in.id, sizeof(in.id));
	assert_memory_equal(out.key, in.key, sizeof(in.key));
	assert_string_equal(out.fqdn, "alice.dc1.ntm.test");
	assert_true(out.has_vip4 && out.has_vip6);
	assert_memory_equal(out.vip4, in.vip4, 4);
	assert_memory_equal(out.vip6, in.vip6, 16);
	assert_true(out.expiry == in.expiry);
	assert_int_equal(out.serial_len, 16);
	assert_memory_equal(out.serial, in.serial, 16);
	/* The body never shows in clear. */
	assert_null(memmem(t, len, "alice", 5));
	/* A second seal of the same body uses a fresh nonce. */
	assert_int_equal(ticket_seal(&kr, 7, &in, rng, t2, sizeof(t2), &len2),
	    0);
	assert_int_equal(len, len2);
	assert_memory_not_equal(t + 5, t2 + 5, PROTO_NONCE_LEN);
	ticket_keyring_clear(&kr);
	rng_free(rng);
}

static void
test_expiry(void **state)
{
	struct ticket_keyring kr;
	struct ticket_body in, out;
	struct ntm_rng *rng = rng_seeded_new("e", 1);
	uint8_t t[PROTO_TICKET_MAX];
	size_t len;

	ticket_keyring_init(&kr);
	assert_int_equal(ticket_keyring_add(&kr, 1, key1), 0);
	body_fill(&in);
	assert_int_equal(ticket_seal(&kr, 1, &in, rng, t, sizeof(t), &len), 0);
	assert_int_equal(ticket_open(&kr, t, len, (time_t)in.expiry - 1, &out),
	    0);
	assert_int_equal(ticket_open(&kr, t, len, (time_t)in.expiry, &out),
	    -EKEYEXPIRED);
	/* The expired ticket still says whose it was. */
	assert_string_equal(out.fqdn, "alice.dc1.ntm.test");
	assert_int_equal(ticket_open(&kr, t, len, (time_t)in.expiry + 3600,
	    &out), -EKEYEXPIRED);
	ticket_keyring_clear(&kr);
	rng_free(rng);
}

static void
test_wrong_key(void **state)
{
	struct ticket_keyring as, dc;
	struct ticket_body in, out;
	struct ntm_rng *rng = rng_seeded_new("w", 1);
	uint8_t t[PROTO_TICKET_MAX];
	size_t len;

	ticket_keyring_init(&as);
	ticket_keyring_init(&dc);
	body_fill(&in);
	assert_int_equal(ticket_keyring_add(&as, 5, key1), 0);
	assert_int_equal(ticket_seal(&as, 5, &in, rng, t, sizeof(t), &len), 0);
	/* The DC does not hold key id 5 at all. */
	assert_int_equal(ticket_keyring_add(&dc, 6, key1), 0);
	assert_int_equal(ticket_open(&dc, t, len, 1000000, &out), -ENOKEY);
	/* Same id, other key bytes: the tag fails, nothing leaks out. */
	assert_int_equal(ticket_keyring_add(&dc, 5, key2), 0);
	assert_int_equal(ticket_open(&dc, t, len, 1000000, &out), -EBADMSG);
	assert_int_equal(out.fqdn_len, 0);
	/* A seal with an id the keyring lacks. */
	assert_int_equal(ticket_seal(&as, 8, &in, rng, t, sizeof(t), &len),
	    -ENOKEY);
	ticket_keyring_clear(&as);
	ticket_keyring_clear(&dc);
	rng_free(rng);
}

static void
test_tamper(void **state)
{
	struct ticket_keyring kr;
	struct ticket_body in, out;
	struct ntm_rng *rng = rng_seeded_new("x", 1);
	uint8_t t[PROTO_TICKET_MAX];
	size_t len, i;

	ticket_keyring_init(&kr);
	assert_int_equal(ticket_keyring_add(&kr, 2, key1), 0);
	body_fill(&in);
	assert_int_equal(ticket_seal(&kr, 2, &in, rng, t, sizeof(t), &len), 0);
	/* Every byte after the key id is covered (nonce, AAD, body, tag). */
	for (i = 5; i < len; i++) {
		t[i] ^= 0x01;
		assert_int_equal(ticket_open(&kr, t, len, 1000000, &out),
		    -EBADMSG);
		t[i] ^= 0x01;
	}
	t[0] = 2;
	assert_int_equal(ticket_open(&kr, t, len, 1000000, &out),
	    MSG_E_VERSION);
	t[0] = 1;
	assert_int_equal(ticket_open(&kr, t, PROTO_TICKET_MIN - 1, 1000000,
	    &out), MSG_E_TICKET);
	ticket_keyring_clear(&kr);
	rng_free(rng);
}

static void
test_keyring_rotation(void **state)
{
	struct ticket_keyring kr;
	struct ticket_body in, out;
	struct ntm_rng *rng = rng_seeded_new("r", 1);
	uint8_t t1[PROTO_TICKET_MAX], t2[PROTO_TICKET_MAX];
	size_t l1, l2;

	ticket_keyring_init(&kr);
	body_fill(&in);
	assert_int_equal(ticket_keyring_add(&kr, 1, key1), 0);
	assert_int_equal(ticket_seal(&kr, 1, &in, rng, t1, sizeof(t1), &l1), 0);
	assert_int_equal(ticket_keyring_add(&kr, 2, key2), 0);
	assert_int_equal(ticket_seal(&kr, 2, &in, rng, t2, sizeof(t2), &l2), 0);
	/* Current and previous both open. */
	assert_int_equal(ticket_open(&kr, t1, l1, 1000000, &out), 0);
	assert_int_equal(ticket_open(&kr, t2, l2, 1000000, &out), 0);
	/* A third key pushes out the oldest. */
	assert_int_equal(ticket_keyring_add(&kr, 3, key1), 0);
	assert_false(ticket_keyring_has(&kr, 1));
	assert_true(ticket_keyring_has(&kr, 2));
	assert_int_equal(ticket_open(&kr, t1, l1, 1000000, &out), -ENOKEY);
	assert_int_equal(ticket_open(&kr, t2, l2, 1000000, &out), 0);
	ticket_keyring_clear(&kr);
	rng_free(rng);
}

static void
test_body_rules(void **state)
{
	struct ticket_keyring kr;
	struct ticket_body in;
	struct ntm_rng *rng = rng_seeded_new("b", 1);
	uint8_t t[PROTO_TICKET_MAX];
	size_t len;

	ticket_keyring_init(&kr);
	assert_int_equal(ticket_keyring_add(&kr, 1, key1), 0);
	body_fill(&in);
	/* At least one virtual IP. */
	in.has_vip4 = in.has_vip6 = false;
	assert_int_equal(ticket_seal(&kr, 1, &in, rng, t, sizeof(t), &len),
	    MSG_E_ATTR_MISSING);
	body_fill(&in);
	strcpy(in.fqdn, "Alice.dc1");	/* upper case is not a wire FQDN */
	in.fqdn_len = strlen(in.fqdn);
	assert_int_equal(ticket_seal(&kr, 1, &in, rng, t, sizeof(t), &len),
	    MSG_E_ATTR_VALUE);
	body_fill(&in);
	assert_int_equal(ticket_seal(&kr, 1, &in, rng, t, 40, &len), -ENOSPC);
	ticket_keyring_clear(&kr);
	rng_free(rng);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seal_open_round_trip),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_keyring_rotation),
		cmocka_unit_test(test_body_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
