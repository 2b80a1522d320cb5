/* test_crypto.c -- unit tests for SHA-256, HMAC, HKDF, compare and wipe. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "crypto.h"

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
range(uint8_t *out, size_t len, uint8_t first)
{
	size_t i;

	for (i = 0; i < len; i++)
		out[i] = (uint8_t)(first + i);
}

static void
test_sha256(void **state)
{
	uint8_t want[32], got[32];

	hex(want, 32, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	crypto_sha256(got, "abc", 3);
	assert_memory_equal(got, want, 32);
	hex(want, 32, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	crypto_sha256(got, NULL, 0);
	assert_memory_equal(got, want, 32);
}

/* RFC 4231 test cases 1, 2 and 6 (a key longer than a block). */
static void
test_hmac_sha256(void **state)
{
	static const char tc6[] =
	    "Test Using Larger Than Block-Size Key - Hash Key First";
	uint8_t key[131], want[32], got[32];

	memset(key, 0x0b, 20);
	hex(want, 32, "b0344c61d8db38535ca8afceaf0bf12b"
	    "881dc200c9833da726e9376c2e32cff7");
	crypto_hmac_sha256(got, key, 20, "Hi There", 8);
	assert_memory_equal(got, want, 32);

	hex(want, 32, "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843");
	crypto_hmac_sha256(got, "Jefe", 4, "what do ya want for nothing?", 28);
	assert_memory_equal(got, want, 32);

	memset(key, 0xaa, sizeof(key));
	hex(want, 32, "60e431591ee0b67f0d8a26aacbf5b77f"
	    "8e0bc6213728c5140546040f0ee37f54");
	crypto_hmac_sha256(got, key, sizeof(key), tc6, strlen(tc6));
	assert_memory_equal(got, want, 32);
}

/* RFC 5869 A.1: basic test case with SHA-256. */
static void
test_hkdf_rfc5869_case1(void **state)
{
	uint8_t ikm[22], salt[13], info[10], prk[32], want_prk[32];
	uint8_t okm[42], want_okm[42];

	memset(ikm, 0x0b, sizeof(ikm));
	range(salt, sizeof(salt), 0x00);
	range(info, sizeof(info), 0xf0);
	hex(want_prk, 32, "077709362c2e32df0ddc3f0dc47bba63"
	    "90b6c73bb50f9c3122ec844ad7c2b3e5");
	hex(want_okm, 42, "3cb25f25faacd57a90434f64d0362f2a"
	    "2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
	crypto_hkdf_extract(prk, salt, sizeof(salt), ikm, sizeof(ikm));
	assert_memory_equal(prk, want_prk, 32);
	assert_int_equal(crypto_hkdf_expand(okm, sizeof(okm), prk, 32, info,
	    sizeof(info)), 0);
	assert_memory_equal(okm, want_okm, 42);
}

/* RFC 5869 A.2: longer inputs and outputs. */
static void
test_hkdf_rfc5869_case2(void **state)
{
	uint8_t ikm[80], salt[80], info[80], prk[32], want_prk[32];
	uint8_t okm[82], want_okm[82];

	range(ikm, sizeof(ikm), 0x00);
	range(salt, sizeof(salt), 0x60);
	range(info, sizeof(info), 0xb0);
	hex(want_prk, 32, "06a6b88c5853361a06104c9ceb35b45c"
	    "ef760014904671014a193f40c15fc244");
	hex(want_okm, 82, "b11e398dc80327a1c8e7f78c596a4934"
	    "4f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c6"
	    "5e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87"
	    "c14c01d5c1f3434f1d87");
	crypto_hkdf_extract(prk, salt, sizeof(salt), ikm, sizeof(ikm));
	assert_memory_equal(prk, want_prk, 32);
	assert_int_equal(crypto_hkdf_expand(okm, sizeof(okm), prk, 32, info,
	    sizeof(info)), 0);
	assert_memory_equal(okm, want_okm, 82);
}

/* RFC 5869 A.3: empty salt and info. */
static void
test_hkdf_rfc5869_case3(void **state)
{
	uint8_t ikm[22], prk[32], want_prk[32], okm[42], want_okm[42];

	memset(ikm, 0x0b, sizeof(ikm));
	hex(want_prk, 32, "19ef24a32c717b167f33a91d6f648bdf"
	    "96596776afdb6377ac434c1c293ccb04");
	hex(want_okm, 42, "8da4e775a563c18f715f802a063c5a31"
	    "b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
	crypto_hkdf_extract(prk, NULL, 0, ikm, sizeof(ikm));
	assert_memory_equal(prk, want_prk, 32);
	assert_int_equal(crypto_hkdf_expand(okm, sizeof(okm), prk, 32, NULL,
	    0), 0);
	assert_memory_equal(okm, want_okm, 42);
}

static void
test_hkdf_expand_limits(void **state)
{
	static uint8_t okm[CRYPTO_HKDF_MAX_OUTPUT + 1];
	uint8_t prk[32], first[32];

	memset(prk, 0x42, sizeof(prk));
	assert_int_equal(crypto_hkdf_expand(okm, CRYPTO_HKDF_MAX_OUTPUT, prk,
	    32, "x", 1), 0);
	memcpy(first, okm, sizeof(first));
	/* One byte more than 255 blocks is refused and writes nothing. */
	memset(okm, 0xee, sizeof(okm));
	assert_int_equal(crypto_hkdf_expand(okm, CRYPTO_HKDF_MAX_OUTPUT + 1,
	    prk, 32, "x", 1), -EINVAL);
	assert_int_equal(okm[0], 0xee);
	assert_int_equal(okm[CRYPTO_HKDF_MAX_OUTPUT], 0xee);
	/* A PRK shorter than a hash output is not a PRK. */
	assert_int_equal(crypto_hkdf_expand(okm, 32, prk, 16, "x", 1),
	    -EINVAL);
	/* A shorter output is a prefix of a longer one (same info). */
	assert_int_equal(crypto_hkdf_expand(okm, 10, prk, 32, "x", 1), 0);
	assert_memory_equal(okm, first, 10);
	/* Different info, different keys. */
	assert_int_equal(crypto_hkdf_expand(okm, 32, prk, 32, "y", 1), 0);
	assert_memory_not_equal(okm, first, 32);
}

static void
test_ct_equal(void **state)
{
	uint8_t a[64], b[64];

	range(a, sizeof(a), 1);
	memcpy(b, a, sizeof(b));
	assert_true(crypto_ct_equal(a, b, sizeof(a)));
	b[63] ^= 0x80;
	assert_false(crypto_ct_equal(a, b, sizeof(a)));
	assert_true(crypto_ct_equal(a, b, 63));
	b[0] ^= 1;
	assert_false(crypto_ct_equal(a, b, 63));
	assert_true(crypto_ct_equal(a, b, 0));
}

static void
test_wipe(void **state)
{
	uint8_t k[48], zero[48];

	memset(k, 0x5a, sizeof(k));
	memset(zero, 0, sizeof(zero));
	crypto_wipe(k, 40);
	assert_memory_equal(k, zero, 40);
	assert_int_equal(k[40], 0x5a);
	crypto_wipe(NULL, 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_hmac_sha256),
		cmocka_unit_test(test_hkdf_rfc5869_case1),
		cmocka_unit_test(test_hkdf_rfc5869_case2),
		cmocka_unit_test(test_hkdf_rfc5869_case3),
		cmocka_unit_test(test_hkdf_expand_limits),
		cmocka_unit_test(test_ct_equal),
		cmocka_unit_test(test_wipe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
