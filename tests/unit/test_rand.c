/* test_rand.c -- unit tests for the generators and rng_uniform. */
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

/* The stream is pinned: simulations and fuzz replays depend on it. */
static void
test_seeded_known_answer(void **state)
{
	uint8_t want[80], got[80];
	struct ntm_rng *g;

	hex(want, sizeof(want), "a9288e8c31955e96634293d8091f6b91"
	    "dc3650f41745bcf8194d791e167086610388ccd6d508fb05945f88bd"
	    "f8ab77e98d5acbc69f9d0eaba91ba968a7c43b0cfe1123474f4453ce"
	    "b8dfe7f66d45e784");
	assert_non_null(g = rng_seeded_new("ntmobile", 8));
	assert_int_equal(rng_bytes(g, got, sizeof(got)), 0);
	assert_memory_equal(got, want, sizeof(want));
	rng_free(g);
}

static void
test_seeded_same_seed_same_stream(void **state)
{
	uint8_t a[300], b[300];
	struct ntm_rng *g1, *g2;
	size_t off, n;

	assert_non_null(g1 = rng_seeded_new("seed", 4));
	assert_non_null(g2 = rng_seeded_new("seed", 4));
	assert_int_equal(rng_bytes(g1, a, sizeof(a)), 0);
	/* Reads of odd sizes across block boundaries give the same bytes. */
	for (off = 0, n = 1; off < sizeof(b); off += n, n = n * 2 + 1) {
		if (n > sizeof(b) - off)
			n = sizeof(b) - off;
		assert_int_equal(rng_bytes(g2, b + off, n), 0);
	}
	assert_memory_equal(a, b, sizeof(a));
	rng_free(g1);
	rng_free(g2);
}

static void
test_seeded_different_seeds_differ(void **state)
{
	uint8_t a[32], b[32], c[32];
	struct ntm_rng *g1, *g2, *g3;

	assert_non_null(g1 = rng_seeded_new("seed", 4));
	assert_non_null(g2 = rng_seeded_new("seee", 4));
	assert_non_null(g3 = rng_seeded_new(NULL, 0));
	assert_int_equal(rng_bytes(g1, a, sizeof(a)), 0);
	assert_int_equal(rng_bytes(g2, b, sizeof(b)), 0);
	assert_int_equal(rng_bytes(g3, c, sizeof(c)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, c, sizeof(a));
	assert_memory_not_equal(b, c, sizeof(a));
	/* Successive reads continue the stream, they do not repeat it. */
	assert_int_equal(rng_bytes(g1, b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	rng_free(g1);
	rng_free(g2);
	rng_free(g3);
}

static void
test_bad_arguments(void **state)
{
	uint8_t b[4];

	assert_null(rng_seeded_new(NULL, 3));
	assert_int_equal(rng_bytes(NULL, b, sizeof(b)), -EINVAL);
	assert_int_equal(rng_bytes(rng_system(), NULL, 4), -EINVAL);
	assert_int_equal(rng_bytes(rng_system(), NULL, 0), 0);
	/* Both are no-ops; the system instance stays usable. */
	rng_free(NULL);
	rng_free(rng_system());
	assert_int_equal(rng_bytes(rng_system(), b, sizeof(b)), 0);
}

static void
test_system_generator(void **state)
{
	uint8_t a[32], b[32];

	assert_ptr_equal(rng_system(), rng_system());
	assert_int_equal(rng_bytes(rng_system(), a, sizeof(a)), 0);
	assert_int_equal(rng_bytes(rng_system(), b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
}

static void
test_uniform_bounds(void **state)
{
	static const uint32_t bounds[] = { 1, 2, 3, 7, 1000, 0x80000001u,
	    0xffffffffu };
	struct ntm_rng *g;
	uint32_t v, max;
	size_t i, j;

	assert_non_null(g = rng_seeded_new("uniform", 7));
	for (i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
		max = 0;
		for (j = 0; j < 2000; j++) {
			v = rng_uniform(g, bounds[i]);
			assert_true(v < bounds[i]);
			if (v > max)
				max = v;
		}
		/* The top of the range is reached, not just its bottom. */
		if (bounds[i] <= 1000)
			assert_int_equal(max, bounds[i] - 1);
		else
			assert_true(max > bounds[i] / 2);
	}
	assert_int_equal(rng_uniform(g, 0), 0);
	rng_free(g);
}

/*
 * With bound = 3 * 2^30, x % bound maps [0, 2^30) twice, so plain modulo
 * would put half the draws below 2^30 instead of a third.
 */
static void
test_uniform_no_modulo_bias(void **state)
{
	const uint32_t bound = 0xc0000000u;
	struct ntm_rng *g;
	unsigned int low = 0, i, n = 30000;
	unsigned int counts[3] = { 0, 0, 0 };

	assert_non_null(g = rng_seeded_new("bias", 4));
	for (i = 0; i < n; i++)
		if (rng_uniform(g, bound) < 0x40000000u)
			low++;
	assert_true(low > n * 30 / 100 && low < n * 37 / 100);
	for (i = 0; i < n; i++)
		counts[rng_uniform(g, 3)]++;
	for (i = 0; i < 3; i++)
		assert_true(counts[i] > n * 31 / 100 &&
		    counts[i] < n * 36 / 100);
	rng_free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seeded_known_answer),
		cmocka_unit_test(test_seeded_same_seed_same_stream),
		cmocka_unit_test(test_seeded_different_seeds_differ),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_system_generator),
		cmocka_unit_test(test_uniform_bounds),
		cmocka_unit_test(test_uniform_no_modulo_bias),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
