/* dc.h -- ntm-dc: its configuration and environment, prototypes grouped by file. */
#ifndef NTM_DC_DC_H
#define NTM_DC_DC_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "rrl.h"
#include "xfr.h"
#include "zone.h"

enum dc_default {
	DC_LISTEN_MAX = 16,
	DC_DNS_PORT = 53,
	DC_RS_MAX = 4,			/* RELAY_SERVERS_MAX */
	DC_TICKET_KEY_LEN = 32,		/* PROTO_KEY_LEN */
};

/* [signal]: node signalling on UDP 4610 (dc/sigio, dc/signal). */
struct dc_signal_config {
	struct sockaddr_storage	 listen[DC_LISTEN_MAX];	/* default: [dns]
							 * listen, port 4610 */
	size_t			 nlisten;
	bool			 listen_default;	/* not configured */
	bool			 have_ticket_key;	/* ticket_key_file */
	uint32_t		 ticket_key_id;	/* SHA-256(key)[0..4) */
	uint8_t			 ticket_key[DC_TICKET_KEY_LEN];
	uint32_t		 lifetime_s;
	uint32_t		 keepalive_s;
	uint32_t		 punch_deadline_ms;
};

/* Everything ntm-dc.conf says.  Strings are owned (config_free). */
/* [tls]: the TLS 1.3 listener on 4611 (AS notices; DC federation later). */
struct dc_tls_config {
	struct sockaddr_storage	 listen[DC_LISTEN_MAX];	/* default: [dns]
							 * listen, port 4611 */
	size_t			 nlisten;
	bool			 listen_default;
	char			*trust;		/* root CA PEM */
	char			*cert;		/* own chain PEM: leaf, AS CA */
	char			*key;		/* private key, private file */
};

/* [ocsp]: the HTTP OCSP responder (none without listen). */
struct dc_ocsp_config {
	struct sockaddr_storage	 listen[DC_LISTEN_MAX];
	size_t			 nlisten;
};

/*
 * [federation]: CNs of other zones through their DCs (dc/federation),
 * found by NS lookups through this resolver.  None: such directions are
 * answered UNAVAILABLE.
 */
struct dc_federation_config {
	bool			 have_resolver;
	struct sockaddr_storage	 resolver;	/* default port 53 */
};

/*
 * [relay]: the RS that punch and relay routes are allocated at, over TLS
 * on 4614 (dc/relay).  None: those routes are answered UNAVAILABLE.
 */
struct dc_relay_config {
	struct sockaddr_storage	 server[DC_RS_MAX];	/* default port 4614 */
	size_t			 nserver;
};

struct dc_config {
	char			*path;
	char			*zone;		/* [dns] zone */
	char			*zone_file;	/* [dns] zone_file */
	char			*db_path;	/* NULL: no nodes */
	struct zone_config	 zcfg;		/* its strings borrowed */
	struct sockaddr_storage	 listen[DC_LISTEN_MAX];
	size_t			 nlisten;
	uint64_t		 tcp_idle_ms;
	uint32_t		 tcp_clients;
	struct rrl_config	 rrl;
	struct xfr_config	 xfr;
	struct dc_signal_config	 sig;
	struct dc_tls_config	 tls;		/* tls.cert NULL: none */
	struct dc_ocsp_config	 ocsp;
	struct dc_federation_config fed;
	struct dc_relay_config	 relay;
	struct policy		 policy;	/* [policy] */
	char			*socket;	/* [control] socket, NULL: default */
};

/* config.c */
/*
 * config_dc_load: reads ntm-dc.conf (lib/config_table.h's loader, then the
 * DC's own checks: prefixes on label boundaries, addresses, the TSIG key
 * in a private file).  Every problem is printed to stderr, as
 * "file:line: [section] key: reason" where the line is known and
 * "file: [section] key: reason" otherwise.  Returns the number of problems
 * (0: usable) or a negative errno when the file cannot be read.
 * config_dc_free releases the strings and wipes the TSIG secret and the
 * ticket key.
 */
int	config_dc_load(const char *path, struct dc_config *cfg);
void	config_dc_free(struct dc_config *cfg);

/* control.c */
/*
 * The operator's socket for `ntmctl dc stats` (lib/statsock): the
 * signalling, relay-link, DNS and notice counters as STAT lines.
 * control_dc_fill is the statsock fill callback; its arg is a struct
 * dc_counters.  Counter names are ctlmsg words: anything else in a name
 * becomes '_'.
 */
struct dc_counters {
	const struct signal		*sig;		/* each may be NULL */
	const struct sigio		*sigio;
	const struct relay		*relay;
	const struct dns_server		*srv;
	const struct notice		*notice;
};

#define DC_SOCKET_DEFAULT	RUNSTATEDIR "/ntmobile/ntm-dc.sock"

struct statsock_out;
void	control_dc_fill(struct statsock_out *, void *arg);
/*
 * The signalling, UDP and RS-link counters under their own names (the
 * log's; control_dc_fill makes them ctlmsg words and adds DNS and notices).
 */
void	control_dc_counters(const struct dc_counters *,
	    void (*fn)(const char *, uint64_t, void *), void *arg);

#endif

