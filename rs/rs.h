/* rs.h -- ntm-rs: its configuration, the control socket, prototypes grouped by file. */
#ifndef NTM_RS_RS_H
#define NTM_RS_RS_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "ctlmsg.h"
#include "log.h"
#include "msg.h"

struct relay;
struct rsio;
struct tls_listener;

enum rs_default {
	RS_LISTEN_MAX = 8,		/* UDP or TLS addresses each */
	RS_ADDRS_MAX = 2,		/* RELAY_ADDRS_MAX: one per family */
};

#define RS_SOCKET_DEFAULT	RUNSTATEDIR "/ntmobile/ntm-rs.sock"

/* Everything ntm-rs.conf says.  Strings are owned (config_rs_free). */
struct rs_config {
	char			*path;
	/* [relay] */
	struct sockaddr_storage	 listen[RS_LISTEN_MAX];	/* UDP 4613 */
	size_t			 nlisten;
	struct msg_addr		 addr[RS_ADDRS_MAX];	/* advertised */
	size_t			 naddr;
	uint64_t		 idle_ms;
	uint32_t		 paths;
	char			*user;		/* NULL: keep the user */
	/* [tls] */
	struct sockaddr_storage	 tls_listen[RS_LISTEN_MAX];	/* 4614 */
	size_t			 ntls_listen;
	char			*trust, *cert, *key;
	/* [control] */
	char			*socket;
	/* [log] */
	enum log_level		 level;
};

/* config.c */
/*
 * config_rs_load: reads ntm-rs.conf (lib/config_table.h's loader, then
 * the RS's own checks: addresses, at most one advertised address per
 * family, the key in a private file).  Every problem goes to stderr as
 * "file:line: [section] key: reason" (or "file: ..." when the line is not
 * known).  Returns the number of problems (0: usable).
 */
int	config_rs_load(const char *path, struct rs_config *cfg);
void	config_rs_free(struct rs_config *cfg);

/* control.c */
/*
 * The operator's socket: doc/CONTROL.md's line protocol (lib/ctlmsg), one
 * verb: STATUS -> "STAT key value" lines and END; anything else
 * ERROR bad-request.  Only root and the daemon's own user may ask (the
 * socket is 0660 in a 0755 directory).  control_rs_stats_lines writes the
 * STAT lines of a relay's counters (pure, for tests): returns the number
 * of bytes written to buf, or -ENOSPC.
 */
struct rs_control;

int	control_rs_open(struct rs_control **out, uv_loop_t *loop,
	    const char *path, const struct relay *relay,
	    const struct rsio *io);
void	control_rs_close(struct rs_control *);
int	control_rs_stats_lines(const struct relay *, const struct rsio *,
	    char *buf, size_t cap);

#endif
