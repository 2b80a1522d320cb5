/* replay.c -- sliding anti-replay window: check before decryption, update after. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "replay.h"

_Static_assert(REPLAY_WINDOW % REPLAY_WORD_BITS == 0,
    "the ring needs a whole number of words for the window");

static size_t
replay_word(uint64_t ctr)
{
	return (size_t)((ctr / REPLAY_WORD_BITS) % REPLAY_RING_WORDS);
}

static uint64_t
replay_bit(uint64_t ctr)
{
	return (uint64_t)1 << (ctr % REPLAY_WORD_BITS);
}

void
replay_init(struct replay_window *w)
{
	memset(w, 0, sizeof(*w));
}

/* 0 when ctr may be accepted, else the error replay_update() reports. */
static int
replay_classify(const struct replay_window *w, uint64_t ctr)
{
	if (ctr == 0 || ctr > REPLAY_COUNTER_MAX)
		return -ERANGE;
	if (ctr > w->top)
		return 0;
	if (w->top - ctr >= REPLAY_WINDOW)
		return -ERANGE;
	if (w->ring[replay_word(ctr)] & replay_bit(ctr))
		return -EALREADY;
	return 0;
}

bool
replay_check(const struct replay_window *w, uint64_t ctr)
{
	return replay_classify(w, ctr) == 0;
}

int
replay_update(struct replay_window *w, uint64_t ctr)
{
	uint64_t from, to, i;
	int rc;

	if ((rc = replay_classify(w, ctr)) < 0)
		return rc;
	if (ctr > w->top) {
		/* Clear the words between top's word and ctr's word. */
		from = w->top / REPLAY_WORD_BITS;
		to = ctr / REPLAY_WORD_BITS;
		if (to - from >= REPLAY_RING_WORDS)
			memset(w->ring, 0, sizeof(w->ring));
		else
			for (i = from + 1; i <= to; i++)
				w->ring[replay_word(i * REPLAY_WORD_BITS)] = 0;
		w->top = ctr;
	}
	w->ring[replay_word(ctr)] |= replay_bit(ctr);
	return 0;
}
