/* control.h -- ntmd's control socket (doc/CONTROL.md): pure request handling and its libuv UNIX-socket server. */
#ifndef NTM_NODE_CONTROL_H
#define NTM_NODE_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "config_table.h"
#include "ctlmsg.h"

struct control_reply;
struct ntmd_resolver;

enum control_limit {
	CONTROL_LIMIT_INVALID = 0,
	CONTROL_ZONES_MAX = 16,
	/* Answer lines to one request: every tunnel of TUNNELS, or STATUS. */
	CONTROL_LINES_MAX = 320,
	/*
	 * Their bytes: every line may take CTLMSG_LINE_MAX (a TUNNEL line of
	 * tunnelio takes 300 to 420, and TUNNELS lists up to 256 of them).
	 */
	CONTROL_REPLY_MAX = CONTROL_LINES_MAX * (int)CTLMSG_LINE_MAX,
	CONTROL_IDLE_MS = 5000,		/* a client that sends no line */
	CONTROL_BACKLOG = 64,
	/* Beyond setup_ms, how long a resolver may take before NOTFOUND. */
	CONTROL_RESOLVE_SLACK_MS = 500,
	CONTROL_CONNS_MAX = 256,
};

/*
 * What the request handler knows of the daemon, filled by ntmd before
 * each call (all pointers borrowed for the call).  The handler never
 * reaches into the daemon: this view is the whole contract.
 */
struct control_view {
	const char		*fqdn;		/* own name, or "" */
	size_t			 nzones;	/* NTMobile zones ntmd knows */
	const char		*zones[CONTROL_ZONES_MAX];
	bool			 has_vip4, has_vip6;
	struct ctlmsg_addr	 vip4, vip6;	/* own virtual IPs */
	struct config_prefix	 range4, range6;	/* system-wide ranges */
	bool			 registered;	/* registered with the DC */
	bool			 stopping;
	bool			 can_resolve;	/* a tunnel resolver is wired */
	uint32_t		 setup_ms;	/* announced in WAIT */
	uint32_t		 daemon_uid;	/* may STATUS besides root */
	/* STAT lines for STATUS: adds them with control_reply_stat(). */
	void			(*stats)(void *arg, struct control_reply *);
	/* TUNNEL lines for TUNNELS: adds them with control_reply_add(). */
	void			(*tunnels)(void *arg, struct control_reply *);
	/*
	 * CLOSE: tears down the installed tunnel to name (TUNNEL_CLOSE to the
	 * peer, out of the data plane and the tunnel table) before it
	 * returns.  Returns 0 with *closed set to the OK answer (the peer's
	 * name and virtual IPs); -ENOENT when no tunnel to name is installed;
	 * -EINPROGRESS when none is but a lookup of name is setting one up
	 * (it is left to finish); another negative errno on failure.  NULL:
	 * ntmd has no tunnels (UNAVAIL not-built).
	 */
	int			(*close)(void *arg, const char *name,
				    struct ctlmsg *closed);
	void			*arg;
};

/*
 * The answer to one request: formatted lines, and whether a lookup must
 * be handed to the resolver (then the lines so far are the interim WAIT
 * and the final answer comes from the resolver).
 */
enum control_next {
	CONTROL_NEXT_INVALID = 0,
	CONTROL_NEXT_CLOSE,		/* lines hold the final answer */
	CONTROL_NEXT_RESOLVE,		/* ask the resolver for req */
};

struct control_reply {
	enum control_next	 next;
	struct ctlmsg		 req;		/* the parsed request */
	size_t			 nlines;
	size_t			 len;
	int			 err;		/* sticky: -ENOSPC, -EINVAL */
	char			 buf[CONTROL_REPLY_MAX];
};

/*
 * control_handle: one request line (without its LF) from a caller with
 * uid `uid` -> the answer lines.  Pure: no I/O, the view is all it reads.
 *   garbage                         ERROR bad-request
 *   an answer verb as a request     ERROR bad-request
 *   STATUS/TUNNELS/CLOSE by a uid
 *   other than 0 or daemon_uid      ERROR permission-denied
 *   stopping                        UNAVAIL shutting-down
 *   CLOSE: closed                   OK fqdn vip... (the closed tunnel's)
 *          no tunnel installed      NOTFOUND no-tunnel
 *          only a setup running     NOTFOUND setting-up
 *          no close hook            UNAVAIL not-built
 *   name outside every known zone,
 *   address outside the ranges      UNAVAIL not-in-zone
 *   own name or own virtual IP      OK fqdn vip... (no tunnel to oneself)
 *   no registration                 UNAVAIL not-registered
 *   no resolver wired               UNAVAIL not-built
 *   otherwise                       WAIT setup_ms, next = RESOLVE
 */
void	control_handle(const struct control_view *, const char *line,
	    size_t len, uint32_t uid, struct control_reply *);

/* Appends one formatted line; errors stick in r->err. */
void	control_reply_add(struct control_reply *, const struct ctlmsg *);
/* Appends "STAT key value" (value is cut at the first space). */
void	control_reply_stat(struct control_reply *, const char *key,
	    const char *value);

/*
 * The server.  control_server_start() removes a stale socket file at
 * path, binds, sets the mode (0666: who may connect is decided by the
 * directory and by CONTROL.md's per-verb rules), and listens on loop.
 * view_fn fills the view for each request.  The server (embedded by its
 * owner) lives until control_server_stop(), which closes the listener and
 * every connection and unlinks the path; the owner then runs the loop so
 * close callbacks finish.  Returns 0 or a negative errno.
 */
typedef void	(*control_view_fn)(void *arg, struct control_view *);

struct control_server {
	uv_loop_t		*loop;		/* borrowed */
	uv_pipe_t		 pipe;
	char			 path[CTLMSG_PATH_MAX];
	control_view_fn		 view_fn;
	const struct ntmd_resolver *resolver;	/* borrowed, may be NULL */
	void			*arg;
	bool			 listening;
	size_t			 nconns;
	struct control_conn	*conns;		/* list, for stop */
	uint64_t		 requests, refused;
};

int	control_server_start(struct control_server *, uv_loop_t *,
	    const char *path, control_view_fn, const struct ntmd_resolver *,
	    void *arg);
void	control_server_stop(struct control_server *);

#endif
