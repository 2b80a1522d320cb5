/* test_x25519.c -- unit tests for X25519: RFC 7748 vectors, low order. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "rand.h"
#include "x25519.h"

static void
hex(uint8_t *out, size_t len, const char *s)
{
	size_t i;
	unsigned int v;

	assert_int_equal(strlen(s), 2 * len);
	for (i = 0; i < len; i++) {
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void
check_mul(const char *k, const char *u, const char *want)
{
	uint8_t kb[32], ub[32], wb[32], out[32];

	hex(kb, 32, k);
	hex(ub, 32, u);
	hex(wb, 32, want);
	assert_int_equal(x25519_shared(out, kb, ub), 0);
	assert_memory_equal(out, wb, 32);
}

/* RFC 7748 §5.2; the second u has its top bit set, which must be ignored. */
static void
test_rfc7748_vectors(void **state)
{
	check_mul("a546e36bf0527c9d3b16154b82465edd"
	    "62144c0ac1fc5a18506a2244ba449ac4",
	    "e6db6867583030db3594c1a424b15f7c"
	    "726624ec26b3353b10a903a6d0ab1c4c",
	    "c3da55379de9c6908e94ea4df28d084f"
	    "32eccf03491c71f754b4075577a28552");
	check_mul("4b66e9d4d1b4673c5ad22691957d6af5"
	    "c11b6421e0ea01d42ca4169e7918ba0d",
	    "e5210f12786811d3f4b7959d0538ae2c"
	    "31dbe7106fc03c3efc4cd549c715a493",
	    "95cbde9476e8907d7aade45cb4b873f8"
	    "8b595a68799fa152e6f8f7647aac7957");
}

/* RFC 7748 §5.2 iterated: k, u = X25519(k, u), k; after 1 and 1000 rounds. */
static void
test_rfc7748_iterated(void **state)
{
	uint8_t k[32], u[32], r[32], w1[32], w1000[32];
	int i;

	memset(k, 0, sizeof(k));
	k[0] = 9;
	memcpy(u, k, sizeof(u));
	hex(w1, 32, "422c8e7a6227d7bca1350b3e2bb7279f"
	    "7897b87bb6854b783c60e80311ae3079");
	hex(w1000, 32, "684cf59ba83309552800ef566f2f4d3c"
	    "1c3887c49360e3875f2eb94d99532c51");
	for (i = 1; i <= 1000; i++) {
		assert_int_equal(x25519_shared(r, k, u), 0);
		memcpy(u, k, 32);
		memcpy(k, r, 32);
		if (i == 1)
			assert_memory_equal(k, w1, 32);
	}
	assert_memory_equal(k, w1000, 32);
}

/* RFC 7748 §6.1: Alice and Bob. */
static void
test_rfc7748_diffie_hellman(void **state)
{
	uint8_t a[32], apub[32], b[32], bpub[32], k[32], s1[32], s2[32];
	uint8_t out[32];

	hex(a, 32, "77076d0a7318a57d3c16c17251b26645"
	    "df4c2f87ebc0992ab177fba51db92c2a");
	hex(apub, 32, "8520f0098930a754748b7ddcb43ef75a"
	    "0dbf3a0d26381af4eba4a98eaa9b4e6a");
	hex(b, 32, "5dab087e624a8a4b79e17f8b83800ee6"
	    "6f3bb1292618b6fd1c2f8b27ff88e0eb");
	hex(bpub, 32, "de9edb7d7b7dc1b4d35b61c2ece43537"
	    "3f8343c85b78674dadfc7e146f882b4f");
	hex(k, 32, "4a5d9d5ba4ce2de1728e3bf480350f25"
	    "e07e21c947d19e3376f09b3c1e161742");
	x25519_public(out, a);
	assert_memory_equal(out, apub, 32);
	x25519_public(out, b);
	assert_memory_equal(out, bpub, 32);
	assert_int_equal(x25519_shared(s1, a, bpub), 0);
	assert_int_equal(x25519_shared(s2, b, apub), 0);
	assert_memory_equal(s1, k, 32);
	assert_memory_equal(s2, k, 32);
}

/*
 * Points of small order give the all-zero output for every scalar: 0, 1,
 * a point of order 8, and p = 2^255 - 19 (which reduces to 0).
 */
static void
test_low_order_refused(void **state)
{
	static const char *bad[] = {
	    "00000000000000000000000000000000"
	    "00000000000000000000000000000000",
	    "01000000000000000000000000000000"
	    "00000000000000000000000000000000",
	    "e0eb7a7c3b41b8ae1656e3faf19fc46a"
	    "da098deb9c32b1fd866205165f49b800",
	    "edffffffffffffffffffffffffffffff"
	    "ffffffffffffffffffffffffffffff7f",
	};
	uint8_t priv[32], u[32], out[32], zero[32];
	size_t i;

	memset(zero, 0, sizeof(zero));
	hex(priv, 32, "77076d0a7318a57d3c16c17251b26645"
	    "df4c2f87ebc0992ab177fba51db92c2a");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		hex(u, 32, bad[i]);
		memset(out, 0xaa, sizeof(out));
		assert_int_equal(x25519_shared(out, priv, u), -EINVAL);
		assert_memory_equal(out, zero, 32);
	}
}

static void
test_keypair_from_rng(void **state)
{
	struct x25519_keypair a, b, a2, zero;
	struct ntm_rng *g1, *g2;
	uint8_t pub[32], s1[32], s2[32];

	memset(&zero, 0, sizeof(zero));
	assert_non_null(g1 = rng_seeded_new("x25519", 6));
	assert_non_null(g2 = rng_seeded_new("x25519", 6));
	assert_int_equal(x25519_keypair_generate(&a, g1), 0);
	assert_int_equal(x25519_keypair_generate(&b, g1), 0);
	assert_int_equal(x25519_keypair_generate(&a2, g2), 0);
	/* Replayable from the seed; successive keys differ. */
	assert_memory_equal(&a, &a2, sizeof(a));
	assert_memory_not_equal(a.priv, b.priv, 32);
	/* Stored clamped (RFC 7748 §5). */
	assert_int_equal(a.priv[0] & 7, 0);
	assert_int_equal(a.priv[31] & 0xc0, 0x40);
	assert_int_equal(b.priv[0] & 7, 0);
	assert_int_equal(b.priv[31] & 0xc0, 0x40);
	x25519_public(pub, a.priv);
	assert_memory_equal(pub, a.pub, 32);
	assert_int_equal(x25519_shared(s1, a.priv, b.pub), 0);
	assert_int_equal(x25519_shared(s2, b.priv, a.pub), 0);
	assert_memory_equal(s1, s2, 32);
	x25519_keypair_wipe(&a);
	assert_memory_equal(&a, &zero, sizeof(a));
	/* A generator that fails leaves no key. */
	assert_int_equal(x25519_keypair_generate(&b, NULL), -EINVAL);
	assert_memory_equal(&b, &zero, sizeof(b));
	rng_free(g1);
	rng_free(g2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7748_vectors),
		cmocka_unit_test(test_rfc7748_iterated),
		cmocka_unit_test(test_rfc7748_diffie_hellman),
		cmocka_unit_test(test_low_order_refused),
		cmocka_unit_test(test_keypair_from_rng),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
