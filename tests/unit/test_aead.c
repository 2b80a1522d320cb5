/* test_aead.c -- unit tests for AEAD seal/open: vectors and tampering. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "aead.h"

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

static bool
all_zero(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/* Seals pt, compares with ct||tag, opens it back, in separate buffers. */
static void
check_vector(enum aead_alg alg, const uint8_t *key, const uint8_t *nonce,
    const uint8_t *aad, size_t aadlen, const uint8_t *pt, size_t ptlen,
    const uint8_t *ct_tag)
{
	uint8_t out[256], back[256];
	struct aead *a;

	assert_true(ptlen + AEAD_TAG_SIZE <= sizeof(out));
	assert_int_equal(aead_new(&a, alg, key, AEAD_KEY_SIZE), 0);
	assert_int_equal(aead_alg(a), alg);
	assert_int_equal(aead_seal(a, nonce, aad, aadlen, pt, ptlen, out,
	    sizeof(out)), 0);
	assert_memory_equal(out, ct_tag, ptlen + AEAD_TAG_SIZE);
	assert_int_equal(aead_open(a, nonce, aad, aadlen, out,
	    ptlen + AEAD_TAG_SIZE, back, sizeof(back)), 0);
	if (ptlen > 0)
		assert_memory_equal(back, pt, ptlen);
	aead_free(a);
}

/* The GCM specification's 256-bit test cases 13 to 16. */
static void
test_gcm_spec_vectors(void **state)
{
	uint8_t key[32], nonce[12], pt[64], aad[20], ct[64 + 16];

	memset(key, 0, sizeof(key));
	memset(nonce, 0, sizeof(nonce));
	memset(pt, 0, sizeof(pt));
	hex(ct, 16, "530f8afbc74536b9a963b4f1c4cb738b");
	check_vector(AEAD_ALG_AES256GCM, key, nonce, NULL, 0, NULL, 0, ct);

	hex(ct, 32, "cea7403d4d606b6e074ec5d3baf39d18"
	    "d0d1c8a799996bf0265b98b5d48ab919");
	check_vector(AEAD_ALG_AES256GCM, key, nonce, NULL, 0, pt, 16, ct);

	hex(key, 32, "feffe9928665731c6d6a8f9467308308"
	    "feffe9928665731c6d6a8f9467308308");
	hex(nonce, 12, "cafebabefacedbaddecaf888");
	hex(pt, 64, "d9313225f88406e5a55909c5aff5269a"
	    "86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e24"
	    "49a6b525b16aedf5aa0de657ba637b391aafd255");
	hex(ct, 80, "522dc1f099567d07f47f37a32a84427d"
	    "643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b10"
	    "56828838c5f61e6393ba7a0abcc9f662898015ad"
	    "b094dac5d93471bdec1a502270e3cc6c");
	check_vector(AEAD_ALG_AES256GCM, key, nonce, NULL, 0, pt, 64, ct);

	hex(aad, 20, "feedfacedeadbeeffeedfacedeadbeefabaddad2");
	hex(ct + 60, 16, "76fc6ece0f4e1768cddf8853bb2d551b");
	check_vector(AEAD_ALG_AES256GCM, key, nonce, aad, 20, pt, 60, ct);
}

static const char sunscreen[] = "Ladies and Gentlemen of the class of '99: "
    "If I could offer you only one tip for the future, sunscreen would be it.";

/* RFC 8439 §2.8.2. */
static void
rfc8439_inputs(uint8_t key[32], uint8_t nonce[12], uint8_t aad[12],
    uint8_t ct[114 + 16])
{
	size_t i;

	for (i = 0; i < 32; i++)
		key[i] = (uint8_t)(0x80 + i);
	hex(nonce, 12, "070000004041424344454647");
	hex(aad, 12, "50515253c0c1c2c3c4c5c6c7");
	hex(ct, 130, "d31a8d34648e60db7b86afbc53ef7ec2"
	    "a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69"
	    "da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c"
	    "9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def0"
	    "8e4b7a9de576d26586cec64b6116"
	    "1ae10b594f09e26a7e902ecbd0600691");
}

static void
test_chacha_rfc8439(void **state)
{
	uint8_t key[32], nonce[12], aad[12], ct[130];

	assert_int_equal(strlen(sunscreen), 114);
	rfc8439_inputs(key, nonce, aad, ct);
	check_vector(AEAD_ALG_CHACHA20POLY1305, key, nonce, aad, sizeof(aad),
	    (const uint8_t *)sunscreen, 114, ct);
}

/* Every single-bit change to tag, ciphertext, aad or nonce is refused. */
static void
check_tamper(enum aead_alg alg)
{
	uint8_t key[32], nonce[12], aad[12], ct[130], buf[130], out[130];
	uint8_t n2[12], aad2[12];
	struct aead *a;
	size_t i;

	rfc8439_inputs(key, nonce, aad, ct);
	assert_int_equal(aead_new(&a, alg, key, sizeof(key)), 0);
	assert_int_equal(aead_seal(a, nonce, aad, sizeof(aad), sunscreen, 114,
	    ct, sizeof(ct)), 0);
	for (i = 0; i < sizeof(ct); i++) {
		memcpy(buf, ct, sizeof(ct));
		buf[i] ^= (uint8_t)(1 << (i % 8));
		memset(out, 0xee, sizeof(out));
		assert_int_equal(aead_open(a, nonce, aad, sizeof(aad), buf,
		    sizeof(buf), out, sizeof(out)), -EBADMSG);
		/* No unauthenticated plaintext is left behind. */
		assert_true(all_zero(out, 114));
	}
	for (i = 0; i < sizeof(aad); i++) {
		memcpy(aad2, aad, sizeof(aad));
		aad2[i] ^= 0x01;
		assert_int_equal(aead_open(a, nonce, aad2, sizeof(aad2), ct,
		    sizeof(ct), out, sizeof(out)), -EBADMSG);
		assert_true(all_zero(out, 114));
	}
	/* AAD dropped or truncated, nonce changed. */
	assert_int_equal(aead_open(a, nonce, NULL, 0, ct, sizeof(ct), out,
	    sizeof(out)), -EBADMSG);
	assert_int_equal(aead_open(a, nonce, aad, sizeof(aad) - 1, ct,
	    sizeof(ct), out, sizeof(out)), -EBADMSG);
	memcpy(n2, nonce, sizeof(n2));
	n2[11] ^= 0x01;
	assert_int_equal(aead_open(a, n2, aad, sizeof(aad), ct, sizeof(ct),
	    out, sizeof(out)), -EBADMSG);
	/* Truncated ciphertext (tag taken from the wrong place). */
	assert_int_equal(aead_open(a, nonce, aad, sizeof(aad), ct,
	    sizeof(ct) - 1, out, sizeof(out)), -EBADMSG);
	/* In place, a refused packet is wiped where it lay. */
	memcpy(buf, ct, sizeof(ct));
	buf[129] ^= 0x40;
	assert_int_equal(aead_open(a, nonce, aad, sizeof(aad), buf,
	    sizeof(buf), buf, sizeof(buf)), -EBADMSG);
	assert_true(all_zero(buf, 114));
	/* The handle still works after failures. */
	assert_int_equal(aead_open(a, nonce, aad, sizeof(aad), ct, sizeof(ct),
	    out, sizeof(out)), 0);
	assert_memory_equal(out, sunscreen, 114);
	aead_free(a);
}

static void
test_tamper_gcm(void **state)
{
	check_tamper(AEAD_ALG_AES256GCM);
}

static void
test_tamper_chacha(void **state)
{
	check_tamper(AEAD_ALG_CHACHA20POLY1305);
}

static void
test_wrong_key_refused(void **state)
{
	uint8_t k1[32], k2[32], nonce[12] = { 0 }, ct[16 + 5], out[5];
	struct aead *a, *b;

	memset(k1, 1, sizeof(k1));
	memset(k2, 1, sizeof(k2));
	k2[31] = 2;
	assert_int_equal(aead_new(&a, AEAD_ALG_AES256GCM, k1, 32), 0);
	assert_int_equal(aead_new(&b, AEAD_ALG_AES256GCM, k2, 32), 0);
	assert_int_equal(aead_seal(a, nonce, "h", 1, "hello", 5, ct,
	    sizeof(ct)), 0);
	assert_int_equal(aead_open(b, nonce, "h", 1, ct, sizeof(ct), out,
	    sizeof(out)), -EBADMSG);
	aead_free(a);
	aead_free(b);
	/* Same key bytes under the other algorithm do not open it either. */
	assert_int_equal(aead_new(&b, AEAD_ALG_CHACHA20POLY1305, k1, 32), 0);
	assert_int_equal(aead_open(b, nonce, "h", 1, ct, sizeof(ct), out,
	    sizeof(out)), -EBADMSG);
	aead_free(b);
}

/*
 * The data-plane shape: one key handle, many packets with a counter nonce,
 * sealed in place behind a header that is the AAD, opened out of order.
 */
static void
check_many_packets_in_place(enum aead_alg alg)
{
	enum { HDR = 13, NPKT = 8, PMAX = 1500 };
	static uint8_t pkt[NPKT][HDR + PMAX + AEAD_TAG_SIZE];
	uint8_t key[32], nonce[12];
	size_t len[NPKT], i, j;
	struct aead *tx, *rx;

	memset(key, 0x33, sizeof(key));
	assert_int_equal(aead_new(&tx, alg, key, sizeof(key)), 0);
	assert_int_equal(aead_new(&rx, alg, key, sizeof(key)), 0);
	for (i = 0; i < NPKT; i++) {
		len[i] = (i * 397) % PMAX;	/* 0 bytes, odd sizes, ... */
		memset(pkt[i], (int)i, HDR);
		for (j = 0; j < len[i]; j++)
			pkt[i][HDR + j] = (uint8_t)(i + j);
		memset(nonce, 0, sizeof(nonce));
		nonce[11] = (uint8_t)i;
		assert_int_equal(aead_seal(tx, nonce, pkt[i], HDR,
		    pkt[i] + HDR, len[i], pkt[i] + HDR, PMAX + AEAD_TAG_SIZE),
		    0);
	}
	for (i = NPKT; i-- > 0;) {
		memset(nonce, 0, sizeof(nonce));
		nonce[11] = (uint8_t)i;
		assert_int_equal(aead_open(rx, nonce, pkt[i], HDR, pkt[i] + HDR,
		    len[i] + AEAD_TAG_SIZE, pkt[i] + HDR, PMAX), 0);
		for (j = 0; j < len[i]; j++)
			assert_int_equal(pkt[i][HDR + j], (uint8_t)(i + j));
	}
	aead_free(tx);
	aead_free(rx);
}

static void
test_in_place_gcm(void **state)
{
	check_many_packets_in_place(AEAD_ALG_AES256GCM);
}

static void
test_in_place_chacha(void **state)
{
	check_many_packets_in_place(AEAD_ALG_CHACHA20POLY1305);
}

/* Output shifted forward or backward over the input gives the vector. */
static void
test_overlapping_buffers(void **state)
{
	uint8_t key[32], nonce[12], aad[12], ct[130], buf[130 + 40];
	struct aead *a;

	rfc8439_inputs(key, nonce, aad, ct);
	assert_int_equal(aead_new(&a, AEAD_ALG_CHACHA20POLY1305, key, 32), 0);
	memcpy(buf, sunscreen, 114);
	assert_int_equal(aead_seal(a, nonce, aad, 12, buf, 114, buf + 7,
	    sizeof(buf) - 7), 0);
	assert_memory_equal(buf + 7, ct, sizeof(ct));
	/* Open moving back by 7: the tag lies where the plaintext goes. */
	assert_int_equal(aead_open(a, nonce, aad, 12, buf + 7, sizeof(ct),
	    buf, sizeof(buf)), 0);
	assert_memory_equal(buf, sunscreen, 114);
	/* And forward by 40, past the tag's position. */
	memcpy(buf, ct, sizeof(ct));
	assert_int_equal(aead_open(a, nonce, aad, 12, buf, sizeof(ct),
	    buf + 40, sizeof(buf) - 40), 0);
	assert_memory_equal(buf + 40, sunscreen, 114);
	aead_free(a);
}

static void
test_bad_arguments(void **state)
{
	uint8_t key[32] = { 0 }, nonce[12] = { 0 }, buf[64];
	struct aead *a;

	assert_int_equal(aead_new(&a, AEAD_ALG_INVALID, key, 32), -EINVAL);
	assert_null(a);
	assert_int_equal(aead_new(&a, AEAD_ALG_AES256GCM, key, 16), -EINVAL);
	assert_int_equal(aead_new(&a, AEAD_ALG_AES256GCM, NULL, 32), -EINVAL);
	assert_int_equal(aead_new(&a, AEAD_ALG_AES256GCM, key, 32), 0);
	/* Output one byte short of text + tag. */
	assert_int_equal(aead_seal(a, nonce, NULL, 0, buf, 10, buf + 20,
	    10 + AEAD_TAG_SIZE - 1), -ENOSPC);
	assert_int_equal(aead_seal(a, nonce, NULL, 0, buf, 10, buf + 20,
	    10 + AEAD_TAG_SIZE), 0);
	assert_int_equal(aead_open(a, nonce, NULL, 0, buf + 20,
	    10 + AEAD_TAG_SIZE, buf, 9), -ENOSPC);
	assert_int_equal(aead_open(a, nonce, NULL, 0, buf, AEAD_TAG_SIZE - 1,
	    buf + 20, 40), -EINVAL);
	assert_int_equal(aead_seal(a, nonce, NULL, 5, buf, 10, buf + 20, 40),
	    -EINVAL);
	aead_free(a);
	aead_free(NULL);
	assert_string_equal(aead_alg_name(AEAD_ALG_AES256GCM), "aes-256-gcm");
	assert_string_equal(aead_alg_name(AEAD_ALG_CHACHA20POLY1305),
	    "chacha20-poly1305");
	assert_null(aead_alg_name(AEAD_ALG_INVALID));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gcm_spec_vectors),
		cmocka_unit_test(test_chacha_rfc8439),
		cmocka_unit_test(test_tamper_gcm),
		cmocka_unit_test(test_tamper_chacha),
		cmocka_unit_test(test_wrong_key_refused),
		cmocka_unit_test(test_in_place_gcm),
		cmocka_unit_test(test_in_place_chacha),
		cmocka_unit_test(test_overlapping_buffers),
		cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
