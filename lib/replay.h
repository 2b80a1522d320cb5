/* replay.h -- sliding anti-replay window over 64-bit packet counters (RFC 6479 bitmap ring). */
#ifndef NTM_REPLAY_H
#define NTM_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"

/*
 * Window contract (DESIGN.md sections 6 and 12):
 *
 * - Counters start at 1.  Counter 0 is never valid, so a zeroed window has
 *   seen nothing.  UINT64_MAX is refused as well: a sender must rekey before
 *   its counter reaches it (it rekeys after 2^32 packets anyway), so the
 *   largest valid counter is REPLAY_COUNTER_MAX.
 * - "top" is the highest counter accepted so far.  A counter c is acceptable
 *   when c > top, or when top - c < REPLAY_WINDOW and c was not seen before.
 *   Anything REPLAY_WINDOW or more behind top is refused as too old.
 * - Two steps, so a forged packet cannot move the window: replay_check()
 *   before the AEAD open (no state change), replay_update() only after the
 *   tag verified.
 *
 * The bitmap is a ring of 64-bit words indexed by (counter / 64) modulo
 * REPLAY_RING_WORDS; one word more than the window needs, so the word that
 * top lives in never overwrites a counter still inside the window.  Moving
 * the window clears only the words it passes over (all of them on a jump of
 * more than the ring), so per packet the cost is O(1) amortised and nothing
 * is allocated.  The struct is plain data owned by its tunnel direction.
 */
enum {
	REPLAY_WINDOW = PROTO_REPLAY_WINDOW,	/* 2048, a multiple of 64 */
	REPLAY_WORD_BITS = 64,
	REPLAY_RING_WORDS = REPLAY_WINDOW / REPLAY_WORD_BITS + 1,
};

#define REPLAY_COUNTER_MAX	(UINT64_MAX - 1)

struct replay_window {
	uint64_t	top;		/* highest accepted counter, 0: none */
	uint64_t	ring[REPLAY_RING_WORDS];
};

/* Empties the window (same as zeroing the struct). */
void	replay_init(struct replay_window *);
/* Would ctr be accepted now?  Changes nothing; call before the AEAD open. */
bool	replay_check(const struct replay_window *, uint64_t ctr);
/*
 * Records ctr as seen; call only after the packet authenticated.  Returns 0,
 * or -EALREADY for a counter already seen, -ERANGE for 0, UINT64_MAX or a
 * counter too far behind top (the window is unchanged in both cases).
 */
int	replay_update(struct replay_window *, uint64_t ctr);

#endif
