/* statsock.h -- a daemon's statistics socket: STATUS answered with STAT lines (doc/CONTROL.md). */
#ifndef NTM_STATSOCK_H
#define NTM_STATSOCK_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

/*
 * ntm-dc and ntm-rs answer `ntmctl dc stats` / `ntmctl rs stats` here: one
 * request line per connection (lib/ctlmsg), STATUS -> one "STAT name value"
 * line per counter, then END; anything else -> ERROR bad-request.  Only root
 * and the daemon's own user may connect (SO_PEERCRED); the socket is made
 * under umask 077.  The daemon supplies the counters through a fill
 * callback that calls statsock_stat() once per counter.
 */
struct statsock;

/* Where the STAT lines of one answer are written. */
struct statsock_out {
	char	*buf;
	size_t	 cap;
	size_t	 len;
	int	 err;		/* -ENOSPC once a line did not fit */
};

typedef void	(*statsock_fill_fn)(struct statsock_out *, void *arg);

enum {
	STATSOCK_CONNS_MAX = 16,	/* connections at once */
	STATSOCK_IDLE_MS = 5000,	/* a silent client is closed */
	STATSOCK_ANSWER_MAX = 16384,	/* bytes of one answer */
};

/* Appends "STAT name value"; names are ctlmsg words. */
void	statsock_stat(struct statsock_out *, const char *name, uint64_t v);

/*
 * The whole answer to STATUS (fill's lines and END) into buf: returns its
 * length, or -ENOSPC.  Pure; what the socket sends, for tests.
 */
int	statsock_lines(statsock_fill_fn, void *arg, char *buf, size_t cap);

/* Binds and listens on path (an old socket file there is replaced). */
int	statsock_open(struct statsock **out, uv_loop_t *loop, const char *path,
	    statsock_fill_fn fill, void *arg);
/* Closes every connection and the socket and unlinks it; NULL is fine. */
void	statsock_close(struct statsock *);

#endif
