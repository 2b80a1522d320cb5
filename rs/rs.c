/* rs.c -- ntm-rs main: options, configuration, the DC-facing TLS listener, UDP relaying, control socket, signals. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "log.h"
#include "loop.h"
#include "msg.h"
#include "rand.h"
#include "relay.h"
#include "rs.h"
#include "rsio.h"
#include "tls.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define RS_CONFIG_DEFAULT SYSCONFDIR "/ntmobile/ntm-rs.conf"

/* The daemon's environment: owned here, handed to parts by pointer. */
struct rs {
	uv_loop_t		 uv;
	struct loop		 loop;
	struct rs_config	 cfg;
	struct tls_creds	*creds;
	struct tls_expect	 expect;	/* DCs only */
	struct tls_listener	*lis[RS_LISTEN_MAX];
	size_t			 nlis;
	struct relay		*relay;
	struct rsio		*io;
	struct rs_control	*ctl;
};

static void
rs_usage(void)
{
	fprintf(stderr, "usage: ntm-rs [-dnv] [-f file]\n");
	exit(2);
}

/*
 * A DC's message on 4614: relay_direction() answers it; a header error
 * (the framing is lost) closes the channel.
 */
static void
rs_tls_frame(struct tls_conn *c, const uint8_t *p, size_t len, void *arg)
{
	struct rs *rs = arg;
	const struct tls_peer *peer = tls_conn_peer(c);
	uint8_t out[RELAY_ANSWER_MAX];
	size_t outlen;
	int rc;

	if ((rc = relay_direction(rs->relay, p, len, peer->fqdn,
	    uv_now(&rs->uv), time(NULL), out, sizeof(out), &outlen)) < 0) {
		log_warnx("dc %s (%s): bad message: %s, closing", peer->fqdn,
		    peer->addr, msg_strerror(rc));
		tls_close(c);
		return;
	}
	if ((rc = tls_send(c, out, outlen)) < 0)
		log_warnx("dc %s (%s): answer not sent: %s", peer->fqdn,
		    peer->addr, strerror(-rc));
}

static void
rs_tls_connected(struct tls_conn *c, const struct tls_peer *peer, void *arg)
{
	(void)c;
	(void)arg;
	log_info("dc %s connected from %s", peer->fqdn, peer->addr);
}

static void
rs_tls_closed(struct tls_conn *c, int reason, void *arg)
{
	(void)arg;
	if (reason != 0)
		log_info("tls: %s: connection closed: %s",
		    tls_conn_peer(c)->addr, tls_strerror(reason));
}

/* The listener for DCs: mutual TLS, the client must be an ntm-dc. */
static void
rs_tls_start(struct rs *rs)
{
	const struct rs_config *c = &rs->cfg;
	struct tls_config tc;
	char text[LOOP_ADDRSTRLEN];
	size_t i;
	int rc;

	rs->expect.trust = tls_creds_trust(rs->creds);
	rs->expect.intermediate = tls_creds_issuer(rs->creds);
	rs->expect.role = CERT_ROLE_DC;
	memset(&tc, 0, sizeof(tc));
	tc.creds = rs->creds;
	tc.verify = tls_verify_cert;
	tc.verify_ctx = &rs->expect;
	tc.client_auth = TLS_CLIENT_AUTH_REQUIRE;
	tc.framing = TLS_FRAMING_MSG;
	tc.name = "relay-direction";
	tc.on_connected = rs_tls_connected;
	tc.on_frame = rs_tls_frame;
	tc.on_closed = rs_tls_closed;
	tc.arg = rs;
	for (i = 0; i < c->ntls_listen; i++) {
		(void)loop_addr_format((const struct sockaddr *)
		    &c->tls_listen[i], text, sizeof(text));
		if ((rc = tls_listen(&rs->uv, &tc, (const struct sockaddr *)
		    &c->tls_listen[i], &rs->lis[rs->nlis])) < 0)
			fatalx("[tls] listen %s: %s", text, tls_strerror(rc));
		rs->nlis++;
		log_info("relay directions (TLS) on %s", text);
	}
}

/* The control socket's directory: made 0755 when missing. */
static void
rs_control_start(struct rs *rs, const struct passwd *pw)
{
	char dir[CTLMSG_PATH_MAX], *slash;
	int rc;

	snprintf(dir, sizeof(dir), "%s", rs->cfg.socket);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			fatal("%s", dir);
	}
	if ((rc = control_rs_open(&rs->ctl, &rs->uv, rs->cfg.socket,
	    rs->relay, rs->io)) < 0)
		fatalx("control socket %s: %s", rs->cfg.socket,
		    uv_strerror(rc));
	if (pw != NULL && chown(rs->cfg.socket, pw->pw_uid, pw->pw_gid) < 0)
		fatal("chown %s", rs->cfg.socket);
}

/* [relay] user: nothing the RS does later needs root. */
static void
rs_drop(const struct passwd *pw)
{
	if (pw == NULL || pw->pw_uid == geteuid())
		return;
	if (geteuid() != 0) {
		log_warnx("[relay] user %s: not root, staying uid %u",
		    pw->pw_name, (unsigned)geteuid());
		return;
	}
	if (setgroups(0, NULL) < 0 || initgroups(pw->pw_name, pw->pw_gid) < 0 ||
	    setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		fatal("cannot become %s", pw->pw_name);
	if (setuid(0) == 0)
		fatalx("still root after dropping to %s", pw->pw_name);
	log_info("running as %s", pw->pw_name);
}

static void
rs_on_stop(struct loop *lp, void *arg)
{
	struct rs *rs = arg;
	size_t i;

	log_info("shutting down");
	rsio_close(rs->io);
	rs->io = NULL;
	for (i = 0; i < rs->nlis; i++)
		tls_listener_free(rs->lis[i]);
	rs->nlis = 0;
	control_rs_close(rs->ctl);
	rs->ctl = NULL;
	loop_stop(lp);
}

static void
rs_relay_start(struct rs *rs)
{
	struct relay_config rc;
	size_t i;
	int err;

	memset(&rc, 0, sizeof(rc));
	rc.paths_max = rs->cfg.paths;
	rc.idle_ms = rs->cfg.idle_ms;
	for (i = 0; i < rs->cfg.naddr; i++)
		rc.addr[rc.naddr++] = rs->cfg.addr[i];
	if ((err = relay_new(&rs->relay, &rc, rng_system())) < 0)
		fatalx("relay table: %s", strerror(-err));
	if ((err = rsio_start(&rs->io, &rs->uv, rs->relay, rs->cfg.listen,
	    rs->cfg.nlisten, rs->cfg.addr, rs->cfg.naddr)) < 0)
		fatalx("[relay] listen: %s", strerror(-err));
	log_info("relay: %zu paths at most, idle %llus", relay_capacity(
	    rs->relay), (unsigned long long)(rs->cfg.idle_ms / 1000));
}

int
main(int argc, char *argv[])
{
	struct rs rs;
	struct passwd *pw = NULL;
	const char *path = RS_CONFIG_DEFAULT;
	bool check = false, foreground = false, verbose = false;
	int ch, rc;

	memset(&rs, 0, sizeof(rs));
	/* -c is accepted as a synonym of -f. */
	while ((ch = getopt(argc, argv, "c:df:nv")) != -1) {
		switch (ch) {
		case 'd':
			foreground = true;
			break;
		case 'c':
		case 'f':
			path = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'v':
			verbose = true;
			break;
		default:
			rs_usage();
		}
	}
	if (optind != argc)
		rs_usage();
	log_init("ntm-rs", 1, LOG_LEVEL_INFO);
	if (config_rs_load(path, &rs.cfg) != 0) {
		config_rs_free(&rs.cfg);
		return 1;
	}
	if ((rc = tls_creds_new(&rs.creds)) < 0 ||
	    (rc = tls_creds_load(rs.creds, rs.cfg.trust, rs.cfg.cert,
	    rs.cfg.key)) < 0) {
		fprintf(stderr, "%s: [tls] %s, %s, %s: %s\n", path,
		    rs.cfg.trust, rs.cfg.cert, rs.cfg.key, tls_strerror(rc));
		tls_creds_free(rs.creds);
		config_rs_free(&rs.cfg);
		return 1;
	}
	if (tls_creds_issuer(rs.creds) == NULL) {
		fprintf(stderr, "%s: [tls] cert %s: the AS CA must follow the "
		    "RS certificate\n", path, rs.cfg.cert);
		tls_creds_free(rs.creds);
		config_rs_free(&rs.cfg);
		return 1;
	}
	if (rs.cfg.user != NULL && (pw = getpwnam(rs.cfg.user)) == NULL) {
		fprintf(stderr, "%s: [relay] user %s: no such user\n", path,
		    rs.cfg.user);
		tls_creds_free(rs.creds);
		config_rs_free(&rs.cfg);
		return 1;
	}
	if (check) {
		printf("configuration OK\n");
		tls_creds_free(rs.creds);
		config_rs_free(&rs.cfg);
		return 0;
	}
	if (!foreground && daemon(0, 0) < 0)
		fatal("daemon");
	log_init("ntm-rs", foreground, verbose ? LOG_LEVEL_DEBUG :
	    rs.cfg.level);
	if (uv_loop_init(&rs.uv) < 0)
		fatalx("uv_loop_init");
	if (loop_init(&rs.loop, &rs.uv, NULL, rs_on_stop, &rs) < 0)
		fatalx("loop_init");
	rs_relay_start(&rs);
	rs_tls_start(&rs);
	rs_control_start(&rs, pw);
	rs_drop(pw);
	log_info("ntm-rs ready");
	loop_run(&rs.loop);
	if (loop_shutdown(&rs.loop) < 0)
		log_warnx("shutdown: work still pending");
	relay_free(rs.relay);
	tls_creds_free(rs.creds);
	config_rs_free(&rs.cfg);
	return 0;
}
