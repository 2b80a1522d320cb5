/* store.h -- the node's files in its state directory: key, certificate, chain, status, DC ticket and K_ND, kept across restarts. */
#ifndef NTM_NODE_STORE_H
#define NTM_NODE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/*
 * One file per item in the state directory (ntmd.conf [node] state_dir),
 * every one mode 0600, owned by ntmd's user, written whole through a
 * temporary file, fsync and rename, so a crash leaves the old or the new
 * version and never a mix.  Reading refuses a file that group or others
 * may read or write (a stolen K_ND or key would let anyone register as
 * the node).
 *
 *   key.pem      the node's private key (PKCS#8 PEM)
 *   cert.pem     the node certificate, then the AS intermediate
 *   status.der   the newest OCSP response for the certificate
 *   ticket       the sealed DC ticket (opaque, PROTOCOL.md 13)
 *   ticket.key   K_ND (32 bytes) then the ticket expiry (u64, Unix s, BE)
 */
#define STORE_KEY	"key.pem"
#define STORE_CERT	"cert.pem"
#define STORE_STATUS	"status.der"
#define STORE_TICKET	"ticket"
#define STORE_TICKET_KEY "ticket.key"

enum store_limit {
	STORE_LIMIT_INVALID = 0,
	STORE_FILE_MAX = 65536,		/* largest file read */
	STORE_TICKET_KEY_LEN = PROTO_KEY_LEN + 8,
};

struct store_ticket {
	uint8_t		 ticket[PROTO_TICKET_MAX];
	size_t		 len;
	uint8_t		 k_nd[PROTO_KEY_LEN];	/* wipe when done */
	uint64_t	 expiry;		/* Unix seconds */
};

/*
 * store_write: replaces dir/name with len bytes of data, mode 0600.
 * store_read: reads dir/name (at most cap bytes) into buf, *lenp its
 * length; -ENOENT when absent, -EPERM when group/world accessible or
 * owned by another user, -EFBIG when larger than cap.  0 or -errno.
 */
int	store_write(const char *dir, const char *name, const void *data,
	    size_t len);
int	store_read(const char *dir, const char *name, void *buf, size_t cap,
	    size_t *lenp);
/* Saves / loads the ticket pair; load says -ENOENT when either is absent. */
int	store_ticket_save(const char *dir, const struct store_ticket *);
int	store_ticket_load(const char *dir, struct store_ticket *);
/* Removes the ticket pair (e.g. after the DC refused it). */
void	store_ticket_remove(const char *dir);

#endif
