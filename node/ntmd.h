/* ntmd.h -- the node daemon: its configuration, environment, and the resolver interface the tunnel code plugs into. */
#ifndef NTM_NODE_NTMD_H
#define NTM_NODE_NTMD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "config_table.h"
#include "ctlmsg.h"

/*
 * The resolver: how the control socket hands RESOLVE and REVERSE to tunnel
 * establishment (node/tunnel, another part).  Until one is wired,
 * control answers "UNAVAIL not-built" (doc/ntmd.8), never a fake OK.
 *
 * resolve() starts setting up a tunnel to name (protocol form, already
 * known to lie in an NTMobile zone) for family.  It returns 0 and later
 * calls reply(req, answer) exactly once, on the loop thread, possibly
 * before it returns, with a final answer: OK (name, 1..8 addresses of the
 * family), NOTFOUND <reason> or UNAVAIL <reason>.  It returns a negative
 * errno when it cannot start (reply is then never called).  req is opaque
 * and stays valid until reply is called, even if the client went away.
 * reverse() does the same for a virtual IP.  Both may be NULL.
 */
struct ctlmsg;
typedef void	(*ntmd_reply_fn)(void *req, const struct ctlmsg *answer);

struct ntmd_resolver {
	int	(*resolve)(void *arg, const char *name,
		    enum ctlmsg_family family, ntmd_reply_fn reply, void *req);
	int	(*reverse)(void *arg, const struct ctlmsg_addr *addr,
		    ntmd_reply_fn reply, void *req);
	void	*arg;
};

/* node/config.c: ntmd.conf (doc/ntmd.conf.5). */
enum ntmd_config_limit {
	NTMD_CONFIG_LIMIT_INVALID = 0,
	NTMD_ZONES_MAX = 16,
	NTMD_DC_ADDRS_MAX = 4,
	NTMD_LOCAL_ADDRS_MAX = 8,
	/* [tunnel] rekey_interval: from 1 s (tests) to the protocol's 1 h. */
	NTMD_REKEY_MIN_MS = 1000,
};

struct ntmd_config {
	/* [node] */
	char			*state_dir;	/* key, certificate, ticket */
	char			*ca_file;	/* root certificate(s), PEM */
	char			*user;		/* run as after setup */
	char			*account;	/* first enrollment */
	char			*password_file;
	int			 key_type;	/* enum cert_keytype, made at enrollment */
	/* [as] */
	struct sockaddr_storage	 as_addr;
	bool			 has_as;
	/* [dc] */
	struct sockaddr_storage	 dc_addr[NTMD_DC_ADDRS_MAX];
	size_t			 ndc_addr;
	uint32_t		 lifetime_s;	/* asked for; 0: DC's choice */
	uint32_t		 keepalive_s;
	/* [tunnel] */
	uint16_t		 port;		/* the one UDP socket, 4620 */
	char			*tun_name;
	int			 mtu;
	struct config_prefix	 range4, range6;
	struct sockaddr_storage	 local_addr[NTMD_LOCAL_ADDRS_MAX];
	size_t			 nlocal_addr;	/* 0: from the interfaces */
	char			*kex_allowed;	/* "rsa, ecdhe"; NULL: ecdhe */
	uint64_t		 rekey_ms;	/* in-tunnel rekey, default 1 h */
	bool			 offload;	/* TUN offloads, default yes */
	/* Until enrollment provides them (lab, tests). */
	bool			 has_vip4, has_vip6;
	struct config_prefix	 vip4, vip6;
	char			*fqdn;
	/* [control] */
	char			*socket_path;
	uint32_t		 setup_ms;
	char			*zones[NTMD_ZONES_MAX];
	size_t			 nzones;
	/* [log] */
	int			 log_level;	/* enum log_level */
};

/*
 * ntmd_config_load: reads path into *c.  Returns 0, or a negative errno
 * with *errors set to "file:line: message" lines (caller frees), all
 * errors of the file at once.  ntmd_config_free() accepts a zeroed struct.
 */
int	ntmd_config_load(struct ntmd_config *c, const char *path,
	    char **errors);
void	ntmd_config_free(struct ntmd_config *c);
/* Writes the configuration as ntmd.conf text (ntmd -n -v). */
int	ntmd_config_dump(const struct ntmd_config *c, FILE *f);

#endif
