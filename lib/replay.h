/* replay.h -- sliding anti-replay windows over 64-bit packet counters (RFC 6479 bitmap ring), 2048 for data keys, 128 for signalling keys. */
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
 *   when c > top, or when top - c < W and c was not seen before, W being
 *   the window's width.  Anything W or more behind top is refused as too
 *   old.
 * - Two steps, so a forged packet cannot move the window: replay_check()
 *   before the AEAD open (no state change), replay_update() only after the
 *   tag verified.
 *
 * Two widths (PROTOCOL.md 5.4): a data key's window is REPLAY_WINDOW (2048
 * packets; a tunnel reorders and loses at line rate), a signalling key's is
 * REPLAY_SIG_WINDOW (128 messages; request and answer with a handful in
 * flight).  The DC keeps a signalling window per registered node, a
 * million of them, so the small one is 32 bytes where the large one is
 * 272.  replay_init(), replay_check() and replay_update() take either
 * (a _Generic dispatch on the pointer's type); the width is the type's.
 *
 * The bitmap is a ring of 64-bit words indexed by (counter / 64) modulo the
 * ring's words; one word more than the window needs, so the word that top
 * lives in never overwrites a counter still inside the window.  Moving the
 * window clears only the words it passes over (all of them on a jump of
 * more than the ring), so per packet the cost is O(1) amortised and nothing
 * is allocated.  The structs are plain data owned by their key.
 */
enum {
	REPLAY_WORD_BITS = 64,
	REPLAY_WINDOW = PROTO_REPLAY_WINDOW,	/* data keys: 2048 */
	REPLAY_RING_WORDS = REPLAY_WINDOW / REPLAY_WORD_BITS + 1,
	REPLAY_SIG_WINDOW = 128,		/* signalling keys */
	REPLAY_SIG_RING_WORDS = REPLAY_SIG_WINDOW / REPLAY_WORD_BITS + 1,
};

#define REPLAY_COUNTER_MAX	(UINT64_MAX - 1)

/* A data key's window (REPLAY_WINDOW). */
struct replay_window {
	uint64_t	top;		/* highest accepted counter, 0: none */
	uint64_t	ring[REPLAY_RING_WORDS];
};

/* A signalling key's window (REPLAY_SIG_WINDOW). */
struct replay_window_sig {
	uint64_t	top;		/* highest accepted counter, 0: none */
	uint64_t	ring[REPLAY_SIG_RING_WORDS];
};

/* Empties the window (same as zeroing the struct). */
void	replay_data_init(struct replay_window *);
void	replay_sig_init(struct replay_window_sig *);
/* Would ctr be accepted now?  Changes nothing; call before the AEAD open. */
bool	replay_data_check(const struct replay_window *, uint64_t ctr);
bool	replay_sig_check(const struct replay_window_sig *, uint64_t ctr);
/*
 * Records ctr as seen; call only after the packet authenticated.  Returns 0,
 * or -EALREADY for a counter already seen, -ERANGE for 0, UINT64_MAX or a
 * counter too far behind top (the window is unchanged in both cases).
 */
int	replay_data_update(struct replay_window *, uint64_t ctr);
int	replay_sig_update(struct replay_window_sig *, uint64_t ctr);

/* The same calls for either window. */
#define replay_init(w) _Generic((w),					\
	struct replay_window *: replay_data_init,			\
	struct replay_window_sig *: replay_sig_init)(w)
#define replay_check(w, ctr) _Generic((w),				\
	struct replay_window *: replay_data_check,			\
	const struct replay_window *: replay_data_check,		\
	struct replay_window_sig *: replay_sig_check,			\
	const struct replay_window_sig *: replay_sig_check)((w), (ctr))
#define replay_update(w, ctr) _Generic((w),				\
	struct replay_window *: replay_data_update,			\
	struct replay_window_sig *: replay_sig_update)((w), (ctr))

#endif
