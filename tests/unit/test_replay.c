/* test_replay.c -- unit tests for the anti-replay windows, each test run on the data (2048) and the signalling (128) width. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "replay.h"

/*
 * Either window behind one face, so every test below runs on both widths:
 * the test's state says which (cmocka_unit_test_prestate).
 */
struct win {
	bool			 sig;
	uint64_t		 width;		/* REPLAY_WINDOW or _SIG_ */
	uint64_t		 ring_words;
	struct replay_window	 d;
	struct replay_window_sig s;
};

static bool s_data = false, s_sig = true;

static void
win_init(struct win *w, void **state)
{
	w->sig = *(bool *)*state;
	w->width = w->sig ? REPLAY_SIG_WINDOW : REPLAY_WINDOW;
	w->ring_words = w->sig ? REPLAY_SIG_RING_WORDS : REPLAY_RING_WORDS;
	/* Garbage first: init must empty the window by itself. */
	memset(&w->d, 0xa5, sizeof(w->d));
	memset(&w->s, 0xa5, sizeof(w->s));
	replay_init(&w->d);
	replay_init(&w->s);
}

static bool
win_check(const struct win *w, uint64_t ctr)
{
	return w->sig ? replay_check(&w->s, ctr) : replay_check(&w->d, ctr);
}

static int
win_update(struct win *w, uint64_t ctr)
{
	return w->sig ? replay_update(&w->s, ctr) : replay_update(&w->d, ctr);
}

static uint64_t
win_top(const struct win *w)
{
	return w->sig ? w->s.top : w->d.top;
}

/* Accept as a receiver does: check, (decrypt), update. */
static bool
accept(struct win *w, uint64_t ctr)
{
	if (!win_check(w, ctr))
		return false;
	assert_int_equal(win_update(w, ctr), 0);
	return true;
}

static void
test_in_order(void **state)
{
	struct win w;
	uint64_t c;

	win_init(&w, state);
	for (c = 1; c <= 10000; c++)
		assert_true(accept(&w, c));
	assert_true(win_top(&w) == 10000);
	for (c = 10000 - w.width + 1; c <= 10000; c++)
		assert_false(win_check(&w, c));
}

static void
test_duplicates(void **state)
{
	struct win w;

	win_init(&w, state);
	assert_true(accept(&w, 1));
	assert_false(win_check(&w, 1));
	assert_int_equal(win_update(&w, 1), -EALREADY);
	assert_true(accept(&w, 5));
	assert_true(accept(&w, 3));
	assert_false(win_check(&w, 3));
	assert_false(win_check(&w, 5));
	assert_int_equal(win_update(&w, 3), -EALREADY);
	assert_true(win_check(&w, 2));
	assert_true(win_check(&w, 4));
}

static void
test_check_does_not_move(void **state)
{
	struct win w;

	win_init(&w, state);
	assert_true(accept(&w, 100));
	/* A forged packet far ahead only passes the check; nothing moves. */
	assert_true(win_check(&w, 1000000));
	assert_true(win_top(&w) == 100);
	assert_true(win_check(&w, 99));
	assert_true(accept(&w, 99));
}

static void
test_reorder_inside_window(void **state)
{
	struct win w;
	uint64_t c;

	win_init(&w, state);
	/* Evens first, then odds, going back up to the window's width. */
	for (c = 2; c <= 2 * w.width; c += 2)
		assert_true(accept(&w, c));
	for (c = 2 * w.width - 1; c > w.width; c -= 2)
		assert_true(accept(&w, c));
	for (c = w.width + 1; c <= 2 * w.width; c++)
		assert_false(win_check(&w, c));
}

static void
test_far_behind(void **state)
{
	struct win w;

	win_init(&w, state);
	assert_true(accept(&w, 1000000));
	assert_false(win_check(&w, 1));
	assert_int_equal(win_update(&w, 1), -ERANGE);
	assert_false(win_check(&w, 1000000 - 5 * w.width));
	assert_true(win_top(&w) == 1000000);
}

static void
test_window_edge(void **state)
{
	struct win w;
	uint64_t top;

	win_init(&w, state);
	top = 10 * w.width + 17;
	assert_true(accept(&w, top));
	/* top - ctr == WINDOW - 1 is the oldest acceptable, WINDOW is too old. */
	assert_true(win_check(&w, top - w.width + 1));
	assert_false(win_check(&w, top - w.width));
	assert_int_equal(win_update(&w, top - w.width), -ERANGE);
	assert_true(accept(&w, top - w.width + 1));
	/* One step forward pushes that oldest counter out of the window. */
	assert_true(accept(&w, top + 1));
	assert_false(win_check(&w, top - w.width + 1));
	assert_true(win_check(&w, top - w.width + 2));
}

static void
test_far_ahead_clears(void **state)
{
	struct win w;
	uint64_t c, base;

	win_init(&w, state);
	for (c = 1; c <= 3000; c++)
		assert_true(accept(&w, c));
	/* Jump by less than the window: the gap is fresh, old bits still seen. */
	base = 3000 + w.width / 2;
	assert_true(accept(&w, base));
	for (c = 3001; c < base; c++)
		assert_true(win_check(&w, c));
	for (c = base - w.width + 1; c <= 3000; c++)
		assert_false(win_check(&w, c));
	/* Jump by more than the window: everything before is too old or fresh. */
	base += 3 * w.width + 5;
	assert_true(accept(&w, base));
	for (c = base - w.width + 1; c < base; c++)
		assert_true(win_check(&w, c));
	assert_false(win_check(&w, base - w.width));
	assert_false(win_check(&w, base));
}

static void
test_jump_same_ring_word(void **state)
{
	struct win w;
	uint64_t step;

	/*
	 * A jump of exactly one ring turn lands on the word that held 64 and
	 * 65: their stale bits must not make 64 + step + 1 look seen.
	 */
	win_init(&w, state);
	step = w.ring_words * REPLAY_WORD_BITS;
	assert_true(accept(&w, 64));
	assert_true(accept(&w, 65));
	assert_true(accept(&w, 64 + step));
	assert_true(win_check(&w, 65 + step));
	assert_true(win_check(&w, 63 + step));
	/* One turn less a word: the words in between are cleared too. */
	win_init(&w, state);
	assert_true(accept(&w, 64));
	assert_true(accept(&w, 64 + w.width / 2 + 2));
	assert_true(accept(&w, 64 + step - REPLAY_WORD_BITS));
	assert_true(win_check(&w, 64 + step - REPLAY_WORD_BITS + 1));
	assert_true(win_check(&w, 64 + step - REPLAY_WORD_BITS + w.width / 2 + 2));
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
	struct win w;
	bool *seen;
	uint64_t s = 0x9e3779b97f4a7c15ULL, next = 1, top = 0, c, r;
	int i, accepted = 0, refused = 0;
	bool want;

	win_init(&w, state);
	seen = calloc(SPAN + 4 * w.width, sizeof(*seen));
	assert_non_null(seen);
	for (i = 0; i < 150000 && next < SPAN; i++) {
		r = xorshift(&s);
		switch (r % 8) {
		case 0:		/* late by up to 1.5 windows */
			c = next > 1 ? next - 1 - (r >> 8) % (next - 1) %
			    (3 * w.width / 2) : 1;
			break;
		case 1:		/* jump ahead, now and then past the window */
			if ((r >> 40) % 16 == 0)
				c = next + (r >> 8) % (3 * w.width);
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
		want = !seen[c] && (c > top || top - c < w.width);
		assert_int_equal(win_check(&w, c), want);
		if (want) {
			assert_int_equal(win_update(&w, c), 0);
			seen[c] = true;
			if (c > top)
				top = c;
			accepted++;
		} else {
			assert_int_not_equal(win_update(&w, c), 0);
			refused++;
		}
		assert_true(win_top(&w) == top);
	}
	/* The narrow window's jumps are shorter: fewer counters, as many turns. */
	assert_true(next >= (w.sig ? SPAN / 8 : SPAN / 2));
	assert_true(accepted > 10000 && refused > 10000);
	free(seen);
}

static void
test_zero_and_max(void **state)
{
	struct win w;

	win_init(&w, state);
	assert_false(win_check(&w, 0));
	assert_int_equal(win_update(&w, 0), -ERANGE);
	assert_false(win_check(&w, UINT64_MAX));
	assert_int_equal(win_update(&w, UINT64_MAX), -ERANGE);
	assert_true(win_top(&w) == 0);
	assert_true(accept(&w, REPLAY_COUNTER_MAX));
	assert_false(win_check(&w, REPLAY_COUNTER_MAX));
	assert_false(win_check(&w, UINT64_MAX));
	assert_true(accept(&w, REPLAY_COUNTER_MAX - w.width + 1));
	assert_false(win_check(&w, REPLAY_COUNTER_MAX - w.width));
	assert_false(win_check(&w, 1));
}

/* The width is the type's, and the small one is what a registry entry holds. */
static void
test_sizes(void **state)
{
	assert_int_equal(REPLAY_WINDOW, 2048);
	assert_int_equal(REPLAY_SIG_WINDOW, 128);
	assert_int_equal(sizeof(struct replay_window), 8 + 33 * 8);
	assert_int_equal(sizeof(struct replay_window_sig), 8 + 3 * 8);
}

/* The same counter history gives different answers at 128 and 2048 behind. */
static void
test_widths_differ(void **state)
{
	struct replay_window d;
	struct replay_window_sig s;

	replay_init(&d);
	replay_init(&s);
	assert_int_equal(replay_update(&d, 5000), 0);
	assert_int_equal(replay_update(&s, 5000), 0);
	assert_true(replay_check(&d, 5000 - 127));
	assert_true(replay_check(&s, 5000 - 127));
	assert_true(replay_check(&d, 5000 - 128));
	assert_false(replay_check(&s, 5000 - 128));
	assert_int_equal(replay_update(&s, 5000 - 128), -ERANGE);
	assert_int_equal(replay_update(&d, 5000 - 2047), 0);
	assert_int_equal(replay_update(&d, 5000 - 2048), -ERANGE);
}

#define BOTH(f)	cmocka_unit_test_prestate(f, &s_data), \
		cmocka_unit_test_prestate(f, &s_sig)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_in_order),
		BOTH(test_duplicates),
		BOTH(test_check_does_not_move),
		BOTH(test_reorder_inside_window),
		BOTH(test_far_behind),
		BOTH(test_window_edge),
		BOTH(test_far_ahead_clears),
		BOTH(test_jump_same_ring_word),
		BOTH(test_ring_wraparound_model),
		BOTH(test_zero_and_max),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_widths_differ),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
