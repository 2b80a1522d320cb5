/* test_replay.c -- unit tests for the anti-replay window. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "replay.h"

/* Accept as a receiver does: check, (decrypt), update. */
static bool
accept(struct replay_window *w, uint64_t ctr)
{
	if (!replay_check(w, ctr))
		return false;
	assert_int_equal(replay_update(w, ctr), 0);
	return true;
}

static void
test_in_order(void **state)
{
	struct replay_window w;
	uint64_t c;

	replay_init(&w);
	for (c = 1; c <= 10000; c++)
		assert_true(accept(&w, c));
	assert_true(w.top == 10000);
	for (c = 10000 - REPLAY_WINDOW + 1; c <= 10000; c++)
		assert_false(replay_check(&w, c));
}

static void
test_duplicates(void **state)
{
	struct replay_window w;

	replay_init(&w);
	assert_true(accept(&w, 1));
	assert_false(replay_check(&w, 1));
	assert_int_equal(replay_update(&w, 1), -EALREADY);
	assert_true(accept(&w, 5));
	assert_true(accept(&w, 3));
	assert_false(replay_check(&w, 3));
	assert_false(replay_check(&w, 5));
	assert_int_equal(replay_update(&w, 3), -EALREADY);
	assert_true(replay_check(&w, 2));
	assert_true(replay_check(&w, 4));
}

static void
test_check_does_not_move(void **state)
{
	struct replay_window w;

	replay_init(&w);
	assert_true(accept(&w, 100));
	/* A forged packet far ahead only passes the check; nothing moves. */
	assert_true(replay_check(&w, 1000000));
	assert_true(w.top == 100);
	assert_true(replay_check(&w, 99));
	assert_true(accept(&w, 99));
}

static void
test_reorder_inside_window(void **state)
{
	struct replay_window w;
	uint64_t c;

	replay_init(&w);
	/* Evens first, then odds, going back up to the window's width. */
	for (c = 2; c <= 2 * REPLAY_WINDOW; c += 2)
		assert_true(accept(&w, c));
	for (c = 2 * REPLAY_WINDOW - 1; c > REPLAY_WINDOW; c -= 2)
		assert_true(accept(&w, c));
	for (c = REPLAY_WINDOW + 1; c <= 2 * REPLAY_WINDOW; c++)
		assert_false(replay_check(&w, c));
}

static void
test_far_behind(void **state)
{
	struct replay_window w;

	replay_init(&w);
	assert_true(accept(&w, 1000000));
	assert_false(replay_check(&w, 1));
	assert_int_equal(replay_update(&w, 1), -ERANGE);
	assert_false(replay_check(&w, 1000000 - 5 * REPLAY_WINDOW));
	assert_true(w.top == 1000000);
}

static void
test_window_edge(void **state)
{
	struct replay_window w;
	uint64_t top = 10 * REPLAY_WINDOW + 17;

	replay_init(&w);
	assert_true(accept(&w, top));
	/* top - ctr == WINDOW - 1 is the oldest acceptable, WINDOW is too old. */
	assert_true(replay_check(&w, top - REPLAY_WINDOW + 1));
	assert_false(replay_check(&w, top - REPLAY_WINDOW));
	assert_int_equal(replay_update(&w, top - REPLAY_WINDOW), -ERANGE);
	assert_true(accept(&w, top - REPLAY_WINDOW + 1));
	/* One step forward pushes that oldest counter out of the window. */
	assert_true(accept(&w, top + 1));
	assert_false(replay_check(&w, top - REPLAY_WINDOW + 1));
	assert_true(replay_check(&w, top - REPLAY_WINDOW + 2));
}

static void
test_far_ahead_clears(void **state)
{
	struct replay_window w;
	uint64_t c, base;

	replay_init(&w);
	for (c = 1; c <= 3000; c++)
		assert_true(accept(&w, c));
	/* Jump by less than the window: the gap is fresh, old bits still seen. */
	base = 3000 + REPLAY_WINDOW / 2;
	assert_true(accept(&w, base));
	for (c = 3001; c < base; c++)
		assert_true(replay_check(&w, c));
	for (c = base - REPLAY_WINDOW + 1; c <= 3000; c++)
		assert_false(replay_check(&w, c));
	/* Jump by more than the window: everything before is too old or fresh. */
	base += 3 * REPLAY_WINDOW + 5;
	assert_true(accept(&w, base));
	for (c = base - REPLAY_WINDOW + 1; c < base; c++)
		assert_true(replay_check(&w, c));
	assert_false(replay_check(&w, base - REPLAY_WINDOW));
	assert_false(replay_check(&w, base));
}

static void
test_jump_same_ring_word(void **state)
{
	struct replay_window w;
	uint64_t step = (uint64_t)REPLAY_RING_WORDS * REPLAY_WORD_BITS;

	/*
	 * A jump of exactly one ring turn lands on the word that held 64 and
	 * 65: their stale bits must not make 64 + step + 1 look seen.
	 */
	replay_init(&w);
	assert_true(accept(&w, 64));
	assert_true(accept(&w, 65));
	assert_true(accept(&w, 64 + step));
	assert_true(replay_check(&w, 65 + step));
	assert_true(replay_check(&w, 63 + step));
	/* One turn less a word: the words in between are cleared too. */
	replay_init(&w);
	assert_true(accept(&w, 64));
	assert_true(accept(&w, 64 + 130));
	assert_true(accept(&w, 64 + step - REPLAY_WORD_BITS));
	assert_true(replay_check(&w, 64 + step - REPLAY_WORD_BITS + 1));
	assert_true(replay_check(&w, 64 + step - REPLAY_WORD_BITS + 130));
}

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * Wrap-around: counters cross the ring's word boundaries many times, with
 * reordering, duplicates and jumps, compared to a plain model.
 */
static void
test_ring_wraparound_model(void **state)
{
	enum { SPAN = 4000000 };
	struct replay_window w;
	bool *seen;
	uint64_t s = 0x9e3779b97f4a7c15ULL, next = 1, top = 0, c, r;
	int i, accepted = 0, refused = 0;
	bool want;

	seen = calloc(SPAN + 4 * REPLAY_WINDOW, sizeof(*seen));
	assert_non_null(seen);
	replay_init(&w);
	for (i = 0; i < 150000 && next < SPAN; i++) {
		r = xorshift(&s);
		switch (r % 8) {
		case 0:		/* late by up to 1.5 windows */
			c = next > 1 ? next - 1 - (r >> 8) % (next - 1) %
			    (3 * REPLAY_WINDOW / 2) : 1;
			break;
		case 1:		/* jump ahead, now and then past the window */
			if ((r >> 40) % 16 == 0)
				c = next + (r >> 8) % (3 * REPLAY_WINDOW);
			else
				c = next + (r >> 8) % 64;
			next = c + 1;
			break;
		case 2:		/* replay of a recent one */
			c = top > 0 ? top - (r >> 8) % 64 : 1;
			if (c == 0)
				c = 1;
			break;
		default:
			c = next++;
			break;
		}
		want = !seen[c] && (c > top || top - c < REPLAY_WINDOW);
		assert_int_equal(replay_check(&w, c), want);
		if (want) {
			assert_int_equal(replay_update(&w, c), 0);
			seen[c] = true;
			if (c > top)
				top = c;
			accepted++;
		} else {
			assert_int_not_equal(replay_update(&w, c), 0);
			refused++;
		}
		assert_true(w.top == top);
	}
	assert_true(next >= SPAN / 2);
	assert_true(accepted > 10000 && refused > 10000);
	free(seen);
}

static void
test_zero_and_max(void **state)
{
	struct replay_window w;

	replay_init(&w);
	assert_false(replay_check(&w, 0));
	assert_int_equal(replay_update(&w, 0), -ERANGE);
	assert_false(replay_check(&w, UINT64_MAX));
	assert_int_equal(replay_update(&w, UINT64_MAX), -ERANGE);
	assert_true(w.top == 0);
	assert_true(accept(&w, REPLAY_COUNTER_MAX));
	assert_false(replay_check(&w, REPLAY_COUNTER_MAX));
	assert_false(replay_check(&w, UINT64_MAX));
	assert_true(accept(&w, REPLAY_COUNTER_MAX - REPLAY_WINDOW + 1));
	assert_false(replay_check(&w, REPLAY_COUNTER_MAX - REPLAY_WINDOW));
	assert_false(replay_check(&w, 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_check_does_not_move),
		cmocka_unit_test(test_reorder_inside_window),
		cmocka_unit_test(test_far_behind),
		cmocka_unit_test(test_window_edge),
		cmocka_unit_test(test_far_ahead_clears),
		cmocka_unit_test(test_jump_same_ring_word),
		cmocka_unit_test(test_ring_wraparound_model),
		cmocka_unit_test(test_zero_and_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
