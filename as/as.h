/* as.h -- ntm-as: configuration, environment and the prototypes of its files. */
#ifndef NTM_AS_AS_H
#define NTM_AS_AS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <uv.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "account.h"
#include "config_table.h"
#include "enroll.h"
#include "loop.h"
#include "proto.h"
#include "status.h"
#include "tkey.h"

#define AS_CONFIG_DEFAULT	SYSCONFDIR "/ntmobile/ntm-as.conf"
#define AS_CONTROL_DEFAULT	RUNSTATEDIR "/ntmobile/ntm-as.sock"

enum as_limits {
	AS_LIMITS_INVALID = 0,
	AS_DCS_MAX = 16,			/* [dc.NAME] sections */
	AS_DC_NAME_MAX = 63,
	AS_TICKET_KEY_LEN = PROTO_KEY_LEN,
	AS_STATUS_TICK_MS = 5000,		/* status refresh check */
	AS_PRUNE_TICK_MS = 60000,		/* outbox pruning */
	AS_NODE_IDLE_MS = 30000,		/* node channel idle close */
	AS_NODE_FRAME_MAX = 16384,		/* node requests are small */
	AS_NODE_CONNS_MAX = 1024,
};

/* [dc.NAME] vip_source: where a new node's virtual IPs come from. */
enum as_vip_source {
	AS_VIP_POOL = 0,		/* pool4/pool6 (default) */
	AS_VIP_DC,			/* VIP_REQUEST to the DC */
};

/* One [dc.NAME] section. */
struct as_dc_conf {
	char			*name;		/* from the section header */
	char			*zone;
	struct sockaddr_storage	 address;	/* its TLS port, 4611 */
	struct config_list	 signalling;	/* DC_ADDR for nodes */
	struct config_prefix	 prefix4, prefix6;
	struct config_prefix	 pool4, pool6;
	bool			 pool_set;	/* pool4 or pool6 configured */
	int			 vip_source;	/* enum as_vip_source */
	char			*ticket_key;	/* file shared with the DC, or
						 * NULL: NOTICE_TICKET_KEY */
};

struct as_config {
	struct sockaddr_storage	 listen;	/* node channel, 4612 */
	char			*db_path;
	char			*trust;		/* root CA PEM */
	char			*ca_cert;	/* AS CA certificate PEM */
	char			*ca_key;	/* opened by the signer only */
	char			*tls_cert;	/* ntm-as leaf + AS CA PEM */
	char			*tls_key;
	char			*crl;		/* may be NULL */
	char			*control;	/* UNIX socket path */
	uint64_t		 cert_lifetime_ms;
	uint64_t		 status_validity_ms;
	uint64_t		 ticket_lifetime_ms;
	int64_t			 argon2_checks;
	int64_t			 argon2_t, argon2_m_kib;
	int64_t			 account_burst, account_per_min;
	int64_t			 source_burst, source_per_min;
	int64_t			 notice_window;
	uint64_t		 vip_timeout_ms;	/* VIP_REQUEST deadline */
	uint64_t		 ticket_rotate_ms;	/* NOTICE_TICKET_KEY */
	size_t			 ndcs;
	struct as_dc_conf	 dc[AS_DCS_MAX];
};

struct db;
struct signer;
struct tls_creds;
struct tls_listener;
struct notice_link;
struct control;
struct as_job;

/*
 * The daemon's environment, owned by main() and passed to each part; no
 * part reaches it through a global.  Blocking work (SQLite writes, signing
 * through the signer process) goes through as_job_submit(): one job at a
 * time on a worker thread, in submission order, on `db`.  Password checks
 * run beside it, at most argon2_checks at once, reading through `vdb`,
 * which is the same connection (see main()).
 */
struct as_env {
	struct as_config	 cfg;
	uv_loop_t		*uv;
	struct loop		 loop;
	struct signer		*signer;
	gnutls_privkey_t	 cakey;		/* forwarded to the signer */
	gnutls_x509_crt_t	 ca;
	struct ocsp_signer	*ocsp;
	struct db		*db;		/* jobs only */
	struct db		*vdb;		/* == db: password checks */
	struct account_params	 params;
	struct status_ctx	 sc;		/* on db */
	struct enroll_ctx	 ectx;		/* on sc */
	struct enroll_ctx	 vctx;		/* on vsc (vdb) */
	struct status_ctx	 vsc;
	struct enroll_dc	 dcs[AS_DCS_MAX];
	struct tkey_dc		 tkeys[AS_DCS_MAX];	/* jobs only */
	struct tls_creds	*creds;
	struct tls_listener	*listener;
	struct enroll_limiter	 lim_account, lim_source;
	unsigned int		 checks;	/* argon2 checks running */
	struct notice_link	*links[AS_DCS_MAX];
	struct control		*control;
	uv_timer_t		 status_timer;
	uv_timer_t		 prune_timer;
	bool			 status_busy;
	/* the job queue */
	struct as_job		*job_head, *job_tail;
	bool			 job_running;
	uv_work_t		 job_work;
	bool			 stopping;
};

/* as.c */
typedef void	(*as_work_fn)(struct as_env *, void *arg);	/* worker */
typedef void	(*as_done_fn)(struct as_env *, void *arg);	/* loop */
/*
 * Queues `work` (run on a worker thread with the database to itself) and
 * then `done` (on the loop thread).  Never fails: allocation failure is
 * fatal.  Jobs submitted while stopping still run.
 */
void	as_job_submit(struct as_env *, as_work_fn work, as_done_fn done,
	    void *arg);
/* Notices committed: every DC link looks for new ones. */
void	as_notices_committed(struct as_env *);
/* Revokes by FQDN or serial on the job queue; done(arg, count or -errno). */
typedef void	(*as_revoke_cb)(void *arg, int result);
void	as_revoke(struct as_env *, const char *what, enum ocsp_reason,
	    as_revoke_cb, void *arg);

/* control.c */
/*
 * The admin socket for ntmctl: a UNIX stream socket created 0600, one
 * request line and its answer lines per exchange (see control.c).
 */
int	control_open(struct as_env *, const char *path, struct control **out);
void	control_close(struct control *);		/* accepts NULL */

/* config.c */
/*
 * Loads and checks the file: every error is printed as "file:line:
 * message" on stderr, all at once.  0 or -EINVAL.  config_as_free()
 * releases what a load filled, even after a failure.
 */
int	config_as_load(const char *path, struct as_config *);
void	config_as_free(struct as_config *);
/*
 * Reads a ticket key file: 32 raw bytes or 64 hex digits (a final newline
 * allowed), refused when group- or world-accessible.  The key id both
 * sides derive from it is the first four bytes of SHA-256(key), big-endian.
 */
int	config_as_ticket_key(const char *path, uint8_t key[AS_TICKET_KEY_LEN],
	    uint32_t *id);

#endif
