/* test_rsakem.c -- unit tests for RSA-KEM: keys, round trip, refusals. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <nettle/bignum.h>

#include "rand.h"
#include "rsakem.h"

/* Two RSA-2048 keys made once for the whole file (keygen is the slow part). */
static struct {
	gnutls_privkey_t	 gpriv[2];
	gnutls_pubkey_t		 gpub[2];
	struct rsakem_key	*priv[2];	/* from the private keys */
	struct rsakem_key	*pub[2];	/* from the public keys */
} k;

static int
setup(void **state)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (gnutls_privkey_init(&k.gpriv[i]) < 0 ||
		    gnutls_privkey_generate(k.gpriv[i], GNUTLS_PK_RSA, 2048,
		    0) < 0 ||
		    gnutls_pubkey_init(&k.gpub[i]) < 0 ||
		    gnutls_pubkey_import_privkey(k.gpub[i], k.gpriv[i], 0,
		    0) < 0)
			return -1;
		if (rsakem_key_from_privkey(&k.priv[i], k.gpriv[i]) < 0 ||
		    rsakem_key_from_pubkey(&k.pub[i], k.gpub[i]) < 0)
			return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	int i;

	for (i = 0; i < 2; i++) {
		rsakem_key_free(k.priv[i]);
		rsakem_key_free(k.pub[i]);
		gnutls_pubkey_deinit(k.gpub[i]);
		gnutls_privkey_deinit(k.gpriv[i]);
	}
	return 0;
}

static void
test_keys_from_gnutls(void **state)
{
	assert_int_equal(rsakem_key_size(k.priv[0]), 256);
	assert_int_equal(rsakem_key_size(k.pub[0]), 256);
	assert_true(k.priv[0]->has_priv);
	assert_false(k.pub[0]->has_priv);
	/* Both routes give the same public numbers. */
	assert_int_equal(mpz_cmp(k.priv[0]->pub.n, k.pub[0]->pub.n), 0);
	assert_int_equal(mpz_cmp(k.priv[0]->pub.e, k.pub[0]->pub.e), 0);
	assert_int_not_equal(mpz_cmp(k.pub[0]->pub.n, k.pub[1]->pub.n), 0);
	/* nettle's CRT coefficient: c * q = 1 (mod p). */
	{
		mpz_t t;

		mpz_init(t);
		mpz_mul(t, k.priv[0]->priv.c, k.priv[0]->priv.q);
		mpz_mod(t, t, k.priv[0]->priv.p);
		assert_int_equal(mpz_cmp_ui(t, 1), 0);
		mpz_clear(t);
	}
}

static void
test_round_trip(void **state)
{
	uint8_t c[256], s1[256], s2[256];
	struct ntm_rng *g;
	mpz_t r, x;
	int i;

	assert_non_null(g = rng_seeded_new("rsakem", 6));
	mpz_init(r);
	mpz_init(x);
	for (i = 0; i < 4; i++) {
		/* The sender has only the public key (a peer's certificate). */
		assert_int_equal(rsakem_encapsulate(&k.pub[0]->pub, g, c,
		    sizeof(c), s1, sizeof(s1)), 0);
		assert_int_equal(rsakem_decapsulate(&k.priv[0]->pub,
		    &k.priv[0]->priv, g, c, sizeof(c), s2, sizeof(s2)), 0);
		assert_memory_equal(s1, s2, sizeof(s1));
		/* Independently: 0 < r < n and c = r^e mod n. */
		nettle_mpz_set_str_256_u(r, sizeof(s1), s1);
		assert_true(mpz_sgn(r) > 0);
		assert_true(mpz_cmp(r, k.pub[0]->pub.n) < 0);
		mpz_powm(x, r, k.pub[0]->pub.e, k.pub[0]->pub.n);
		nettle_mpz_set_str_256_u(r, sizeof(c), c);
		assert_int_equal(mpz_cmp(x, r), 0);
	}
	mpz_clear(x);
	mpz_clear(r);
	rng_free(g);
}

static void
test_deterministic_with_seed(void **state)
{
	uint8_t c1[256], c2[256], c3[256], s1[256], s2[256], s3[256];
	struct ntm_rng *g1, *g2;

	assert_non_null(g1 = rng_seeded_new("same", 4));
	assert_non_null(g2 = rng_seeded_new("same", 4));
	assert_int_equal(rsakem_encapsulate(&k.pub[0]->pub, g1, c1, 256, s1,
	    256), 0);
	assert_int_equal(rsakem_encapsulate(&k.pub[0]->pub, g2, c2, 256, s2,
	    256), 0);
	assert_memory_equal(c1, c2, 256);
	assert_memory_equal(s1, s2, 256);
	assert_int_equal(rsakem_encapsulate(&k.pub[0]->pub, g1, c3, 256, s3,
	    256), 0);
	assert_memory_not_equal(c1, c3, 256);
	assert_memory_not_equal(s1, s3, 256);
	rng_free(g1);
	rng_free(g2);
}

static void
test_wrong_key(void **state)
{
	uint8_t c[256], s1[256], s2[256];
	struct ntm_rng *g;
	int i, ret, decapsulated = 0;

	assert_non_null(g = rng_seeded_new("wrong", 5));
	/*
	 * Each c lies below the other key's modulus with odds of about one
	 * half; above it, the other key refuses it outright.  Below it, the
	 * other key yields a secret, which must differ.
	 */
	for (i = 0; i < 64 && decapsulated < 4; i++) {
		assert_int_equal(rsakem_encapsulate(&k.pub[0]->pub, g, c, 256,
		    s1, 256), 0);
		ret = rsakem_decapsulate(&k.priv[1]->pub, &k.priv[1]->priv, g,
		    c, 256, s2, 256);
		if (ret == 0) {
			assert_memory_not_equal(s1, s2, 256);
			decapsulated++;
		} else
			assert_int_equal(ret, -EBADMSG);
	}
	assert_int_equal(decapsulated, 4);
	/* Key 0's public half with key 1's private half fails its check. */
	assert_int_equal(rsakem_encapsulate(&k.pub[0]->pub, g, c, 256, s1,
	    256), 0);
	memset(s2, 0xaa, sizeof(s2));
	ret = rsakem_decapsulate(&k.priv[0]->pub, &k.priv[1]->priv, g, c, 256,
	    s2, 256);
	assert_int_equal(ret, -EIO);
	assert_memory_not_equal(s1, s2, 256);
	rng_free(g);
}

/*
 * r is drawn below n, not merely below 2^bits(n): with n = 2^2047 + 1,
 * about half of all 2048-bit draws lie at or above n and must be redrawn.
 * Encapsulation needs only the public numbers, so n need not factor.
 */
static void
test_secret_below_modulus(void **state)
{
	struct rsa_public_key pub;
	uint8_t c[256], s[256];
	struct ntm_rng *g;
	mpz_t r;
	int i;

	rsa_public_key_init(&pub);
	mpz_init(r);
	mpz_setbit(pub.n, 2047);
	mpz_add_ui(pub.n, pub.n, 1);
	mpz_set_ui(pub.e, 65537);
	assert_int_not_equal(rsa_public_key_prepare(&pub), 0);
	assert_int_equal(pub.size, 256);
	assert_non_null(g = rng_seeded_new("below", 5));
	for (i = 0; i < 64; i++) {
		assert_int_equal(rsakem_encapsulate(&pub, g, c, 256, s, 256),
		    0);
		nettle_mpz_set_str_256_u(r, sizeof(s), s);
		assert_true(mpz_sgn(r) > 0);
		assert_true(mpz_cmp(r, pub.n) < 0);
	}
	/* e = 1 would send r itself; e even is no RSA exponent. */
	mpz_set_ui(pub.e, 1);
	assert_int_equal(rsakem_encapsulate(&pub, g, c, 256, s, 256), -EINVAL);
	mpz_set_ui(pub.e, 65536);
	assert_int_equal(rsakem_encapsulate(&pub, g, c, 256, s, 256), -EINVAL);
	/* An even modulus is no RSA key (and would break mpz_powm_sec). */
	mpz_set_ui(pub.e, 65537);
	mpz_sub_ui(pub.n, pub.n, 1);
	assert_int_equal(rsakem_encapsulate(&pub, g, c, 256, s, 256), -EINVAL);
	/* Below RSAKEM_MIN_BITS. */
	mpz_set_ui(pub.n, 0);
	mpz_setbit(pub.n, 1023);
	mpz_add_ui(pub.n, pub.n, 1);
	assert_int_not_equal(rsa_public_key_prepare(&pub), 0);
	assert_int_equal(rsakem_encapsulate(&pub, g, c, 128, s, 128), -EINVAL);
	rng_free(g);
	mpz_clear(r);
	rsa_public_key_clear(&pub);
}

static void
test_bad_ciphertexts_refused(void **state)
{
	const struct rsa_public_key *pub = &k.priv[0]->pub;
	const struct rsa_private_key *priv = &k.priv[0]->priv;
	uint8_t c[256], s[256], zero[256];
	struct ntm_rng *g = rng_system();

	memset(zero, 0, sizeof(zero));
	/* c = n, c = n + 1, c = 2^2048 - 1: all >= n. */
	nettle_mpz_get_str_256(sizeof(c), c, pub->n);
	memset(s, 0xaa, sizeof(s));
	assert_int_equal(rsakem_decapsulate(pub, priv, g, c, 256, s, 256),
	    -EBADMSG);
	assert_memory_equal(s, zero, 256);
	c[255]++;
	assert_int_equal(rsakem_decapsulate(pub, priv, g, c, 256, s, 256),
	    -EBADMSG);
	memset(c, 0xff, sizeof(c));
	assert_int_equal(rsakem_decapsulate(pub, priv, g, c, 256, s, 256),
	    -EBADMSG);
	/* c = 0. */
	memset(c, 0, sizeof(c));
	assert_int_equal(rsakem_decapsulate(pub, priv, g, c, 256, s, 256),
	    -EBADMSG);
	/* n - 1 is a valid ciphertext. */
	nettle_mpz_get_str_256(sizeof(c), c, pub->n);
	c[255]--;
	assert_int_equal(rsakem_decapsulate(pub, priv, g, c, 256, s, 256), 0);
	/* Lengths other than the modulus length. */
	assert_int_equal(rsakem_decapsulate(pub, priv, g, c, 255, s, 256),
	    -EINVAL);
	assert_int_equal(rsakem_decapsulate(pub, priv, g, c, 256, s, 255),
	    -EINVAL);
	assert_int_equal(rsakem_encapsulate(pub, g, c, 257, s, 256), -EINVAL);
	assert_int_equal(rsakem_encapsulate(pub, g, c, 256, s, 32), -EINVAL);
}

static void
test_unsuitable_keys_refused(void **state)
{
	gnutls_privkey_t ec, small;
	gnutls_pubkey_t ecpub;
	struct rsakem_key *out = (struct rsakem_key *)1;

	assert_int_equal(gnutls_privkey_init(&ec), 0);
	assert_int_equal(gnutls_privkey_generate(ec, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0), 0);
	assert_int_equal(gnutls_pubkey_init(&ecpub), 0);
	assert_int_equal(gnutls_pubkey_import_privkey(ecpub, ec, 0, 0), 0);
	assert_int_equal(rsakem_key_from_privkey(&out, ec), -EINVAL);
	assert_null(out);
	assert_int_equal(rsakem_key_from_pubkey(&out, ecpub), -EINVAL);
	assert_null(out);
	gnutls_pubkey_deinit(ecpub);
	gnutls_privkey_deinit(ec);

	/* RSA below 2048 bits is not the rsa scheme's key. */
	assert_int_equal(gnutls_privkey_init(&small), 0);
	assert_int_equal(gnutls_privkey_generate(small, GNUTLS_PK_RSA, 1024,
	    0), 0);
	assert_int_equal(rsakem_key_from_privkey(&out, small), -EINVAL);
	assert_null(out);
	gnutls_privkey_deinit(small);
	rsakem_key_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_from_gnutls),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_deterministic_with_seed),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_secret_below_modulus),
		cmocka_unit_test(test_bad_ciphertexts_refused),
		cmocka_unit_test(test_unsuitable_keys_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
