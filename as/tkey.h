/* tkey.h -- the ticket keys the AS shares with each DC: from a key file, or made, rotated and sent by the AS itself (NOTICE_TICKET_KEY). */
#ifndef NTM_AS_TKEY_H
#define NTM_AS_TKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "proto.h"
#include "ticket.h"

struct db;
struct ntm_rng;

/*
 * PROTOCOL.md 13.  Each DC's tickets are sealed under a key the DC holds.
 * Two ways to share it:
 *
 *  - a key file ([dc.NAME] ticket_key, lib/ticket's ticket_key_read()):
 *    one key for ever, id = SHA-256(key)[0..4), copied to the DC by the
 *    operator;
 *  - no key file: the AS makes the keys.  tkey_rotate() makes one (random
 *    id and key) when the DC has none or the newest is `rotate` seconds
 *    old, and in the same transaction stores it in ticket_keys and queues
 *    its NOTICE_TICKET_KEY in the outbox (kind ticket_key), so the DC gets
 *    it over the mutual-TLS notice channel, once, in order, after any
 *    restart.  A key expires (the DC drops it) `rotate` + `ticket_life`
 *    after it was made, so every ticket it sealed outlives its use; with
 *    rotate >= ticket_life a DC needs two keys at most, the current and
 *    the previous, which is what lib/ticket's keyrings hold.
 *
 * Sealing uses the newest key the DC has acknowledged (its notice seq at
 * or below the DC's stored cursor), so a node never gets a ticket its DC
 * cannot open yet; before the DC acknowledged any, the newest.
 *
 * Everything here runs on the AS's job thread (it reads and writes the
 * database); the struct is owned by the daemon, one per DC.
 */
enum tkey_limit {
	TKEY_LIMIT_INVALID = 0,
	TKEY_SERIAL_HEX = 32,		/* outbox serial: the id, 32 hex */
};

struct tkey_dc {
	const char		*dc;		/* outbox DC name; borrowed */
	bool			 from_file;
	struct ticket_keyring	 ring;		/* newest two */
	size_t			 n;
	struct {
		uint32_t	 id;
		uint64_t	 seq;		/* its notice (0: file) */
		int64_t		 created;
	}			 k[TICKET_KEYS_MAX];	/* newest first */
};

/* The key from a file: one key, always used. */
int	tkey_init_file(struct tkey_dc *, const char *dc, uint32_t id,
	    const uint8_t key[PROTO_KEY_LEN]);
/*
 * tkey_load: the DC's two newest unexpired keys from ticket_keys (none is
 * fine: tkey_rotate makes one).  0 or a negative errno.
 */
int	tkey_load(struct tkey_dc *, struct db *, const char *dc, time_t now);
/*
 * tkey_rotate: makes and announces a new key when due (see above).
 * Returns 1 when it made one (notices committed: kick the links), 0 when
 * none was due, or a negative errno.  A key-file DC never rotates.
 */
int	tkey_rotate(struct tkey_dc *, struct db *, struct ntm_rng *,
	    time_t now, uint64_t rotate_s, uint64_t ticket_life_s);
/* The id to seal the next ticket under (see above); 0 when there is none. */
uint32_t tkey_seal_id(const struct tkey_dc *, struct db *);
void	tkey_clear(struct tkey_dc *);		/* wipes; accepts NULL */

/*
 * tkey_notice_key: for NOTICE_TICKET_KEY, key `id` of `dc` and its expiry
 * from ticket_keys.  0, -ENOENT, or a negative errno.
 */
int	tkey_notice_key(struct db *, const char *dc, uint32_t id,
	    uint8_t key[PROTO_KEY_LEN], uint64_t *expires);

#endif
