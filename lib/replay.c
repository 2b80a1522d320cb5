/* replay.c -- sliding anti-replay windows: check before decryption, update after; one ring code for both widths. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "replay.h"

_Static_assert(REPLAY_WINDOW % REPLAY_WORD_BITS == 0,
    "the ring needs a whole number of words for the window");
_Static_assert(REPLAY_SIG_WINDOW % REPLAY_WORD_BITS == 0,
    "the ring needs a whole number of words for the window");
_Static_assert(sizeof(struct replay_window_sig) == 32,
    "a registered node carries 32 bytes of signalling window");

/* A window of either width: its top, its ring and the ring's words. */
struct replay_ring {
	uint64_t	*top;
	uint64_t	*ring;
	size_t		 words;		/* the window is (words - 1) * 64 */
};

static size_t
replay_word(const struct replay_ring *r, uint64_t ctr)
{
	return (size_t)((ctr / REPLAY_WORD_BITS) % r->words);
}

static uint64_t
replay_bit(uint64_t ctr)
{
	return (uint64_t)1 << (ctr % REPLAY_WORD_BITS);
}

/* 0 when ctr may be accepted, else the error replay_update() reports. */
static int
replay_classify(const struct replay_ring *r, uint64_t ctr)
{
	uint64_t window = (uint64_t)(r->words - 1) * REPLAY_WORD_BITS;

	if (ctr == 0 || ctr > REPLAY_COUNTER_MAX)
		return -ERANGE;
	if (ctr > *r->top)
		return 0;
	if (*r->top - ctr >= window)
		return -ERANGE;
	if (r->ring[replay_word(r, ctr)] & replay_bit(ctr))
		return -EALREADY;
	return 0;
}

static int
replay_record(const struct replay_ring *r, uint64_t ctr)
{
	uint64_t from, to, i;
	int rc;

	if ((rc = replay_classify(r, ctr)) < 0)
		return rc;
	if (ctr > *r->top) {
		/* Clear the words between top's word and ctr's word. */
		from = *r->top / REPLAY_WORD_BITS;
		to = ctr / REPLAY_WORD_BITS;
		if (to - from >= r->words)
			memset(r->ring, 0, r->words * sizeof(r->ring[0]));
		else
			for (i = from + 1; i <= to; i++)
				r->ring[replay_word(r, i * REPLAY_WORD_BITS)] =
				    0;
		*r->top = ctr;
	}
	r->ring[replay_word(r, ctr)] |= replay_bit(ctr);
	return 0;
}

/* The ring view of a window; check only reads through it. */
static struct replay_ring
replay_data_ring(const struct replay_window *w)
{
	struct replay_window *m = (struct replay_window *)w;

	return (struct replay_ring){ &m->top, m->ring, REPLAY_RING_WORDS };
}

static struct replay_ring
replay_sig_ring(const struct replay_window_sig *w)
{
	struct replay_window_sig *m = (struct replay_window_sig *)w;

	return (struct replay_ring){ &m->top, m->ring, REPLAY_SIG_RING_WORDS };
}

void
replay_data_init(struct replay_window *w)
{
	memset(w, 0, sizeof(*w));
}

void
replay_sig_init(struct replay_window_sig *w)
{
	memset(w, 0, sizeof(*w));
}

bool
replay_data_check(const struct replay_window *w, uint64_t ctr)
{
	struct replay_ring r = replay_data_ring(w);

	return replay_classify(&r, ctr) == 0;
}

bool
replay_sig_check(const struct replay_window_sig *w, uint64_t ctr)
{
	struct replay_ring r = replay_sig_ring(w);

	return replay_classify(&r, ctr) == 0;
}

int
replay_data_update(struct replay_window *w, uint64_t ctr)
{
	struct replay_ring r = replay_data_ring(w);

	return replay_record(&r, ctr);
}

int
replay_sig_update(struct replay_window_sig *w, uint64_t ctr)
{
	struct replay_ring r = replay_sig_ring(w);

	return replay_record(&r, ctr);
}
