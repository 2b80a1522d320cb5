/* dc.c -- ntm-dc main: options, configuration, signals, zone reloads and the event loop. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "dc.h"
#include "dnsnet.h"
#include "log.h"
#include "rand.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DC_CONFIG_DEFAULT SYSCONFDIR "/ntmobile/ntm-dc.conf"

/* The daemon's environment: owned here, handed to parts by pointer. */
struct dc {
	uv_loop_t		*loop;
	struct dc_config	 cfg;
	struct dns_server	 srv;
	struct dnsnet		*net;
	struct rrl		*rrl;
	uv_signal_t		 sighup, sigterm, sigint;
	/* One reload at a time, built off the loop thread. */
	uv_work_t		 reload;
	bool			 reloading;
	bool			 reload_again;
	struct zone		*reload_zone;
	uint32_t		 reload_old_serial;
	uint64_t		 reload_old_digest;
	int			 reload_rc;
	bool			 reload_changed;
};

static void
dc_usage(void)
{
	fprintf(stderr, "usage: ntm-dc [-dnv] [-f file]\n");
	exit(2);
}

/*
 * Builds a zone from the file and (unless only checking the configuration,
 * which must not create the database) the database's nodes.
 */
static int
dc_zone_build(const struct dc_config *cfg, bool with_db, bool to_stderr,
    struct zone **zp)
{
	char err[4096];
	int rc;

	if ((rc = zone_new(&cfg->zcfg, zp, err, sizeof(err))) < 0) {
		if (to_stderr)
			fprintf(stderr, "%s\n", err);
		else
			log_warnx("zone %s: %s", cfg->zone, err);
		return rc;
	}
	if (with_db && cfg->db_path != NULL &&
	    (rc = zone_db_load(*zp, cfg->db_path)) < 0) {
		zone_free(*zp);
		*zp = NULL;
		return rc;
	}
	return 0;
}

static void
dc_reload_work(uv_work_t *w)
{
	struct dc *dc = w->data;
	struct zone *z;
	uint32_t s;

	dc->reload_changed = false;
	if ((dc->reload_rc = dc_zone_build(&dc->cfg, true, false, &z)) < 0)
		return;
	/*
	 * Same records: keep the serial.  Changed: at least one past the old
	 * one (the file's serial wins when it is ahead).
	 */
	s = zone_serial(z);
	if (zone_digest(z) == dc->reload_old_digest)
		zone_set_serial(z, dc->reload_old_serial);
	else {
		if ((int32_t)(s - dc->reload_old_serial) <= 0)
			zone_set_serial(z, dc->reload_old_serial + 1);
		dc->reload_changed = true;
	}
	if (dc->cfg.db_path != NULL)
		(void)zone_db_save_serial(z, dc->cfg.db_path);
	dc->reload_zone = z;
}

static void dc_reload_start(struct dc *);

static void
dc_reload_done(uv_work_t *w, int status)
{
	struct dc *dc = w->data;
	struct zone *old = dc->srv.zone;

	dc->reloading = false;
	if (status < 0 || dc->reload_rc < 0 || dc->reload_zone == NULL)
		log_warnx("reload failed; still serving serial %u",
		    zone_serial(old));
	else {
		dc->srv.zone = dc->reload_zone;
		dc->reload_zone = NULL;
		zone_free(old);
		log_info("reloaded %s: serial %u, %zu nodes%s", dc->cfg.zone,
		    zone_serial(dc->srv.zone), zone_node_count(dc->srv.zone),
		    dc->reload_changed ? "" : " (unchanged)");
		if (dc->reload_changed)
			dnsnet_notify(dc->net);
	}
	if (dc->reload_again) {
		dc->reload_again = false;
		dc_reload_start(dc);
	}
}

static void
dc_reload_start(struct dc *dc)
{
	if (dc->reloading) {
		dc->reload_again = true;
		return;
	}
	dc->reloading = true;
	dc->reload_zone = NULL;
	dc->reload_old_serial = zone_serial(dc->srv.zone);
	dc->reload_old_digest = zone_digest(dc->srv.zone);
	dc->reload.data = dc;
	if (uv_queue_work(dc->loop, &dc->reload, dc_reload_work,
	    dc_reload_done) < 0) {
		dc->reloading = false;
		log_warnx("reload: cannot queue work");
	}
}

static void
dc_signal(uv_signal_t *h, int signum)
{
	struct dc *dc = h->data;

	if (signum == SIGHUP) {
		log_info("SIGHUP: reloading the zone file and nodes");
		dc_reload_start(dc);
		return;
	}
	log_info("signal %d: shutting down", signum);
	dnsnet_close(dc->net);
	dc->net = NULL;
	uv_close((uv_handle_t *)&dc->sighup, NULL);
	uv_close((uv_handle_t *)&dc->sigterm, NULL);
	uv_close((uv_handle_t *)&dc->sigint, NULL);
}

int
main(int argc, char *argv[])
{
	struct dc dc;
	struct dnsnet_config ncfg;
	const char *path = DC_CONFIG_DEFAULT;
	bool check = false, foreground = false, verbose = false;
	int ch, rc;

	memset(&dc, 0, sizeof(dc));
	while ((ch = getopt(argc, argv, "df:nv")) != -1) {
		switch (ch) {
		case 'd':
			foreground = true;
			break;
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
			dc_usage();
		}
	}
	if (optind != argc)
		dc_usage();
	log_init("ntm-dc", 1, verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	if ((rc = config_dc_load(path, &dc.cfg)) != 0) {
		config_dc_free(&dc.cfg);
		return 1;
	}
	if (dc_zone_build(&dc.cfg, !check, true, &dc.srv.zone) < 0) {
		config_dc_free(&dc.cfg);
		return 1;
	}
	if (check) {
		printf("configuration OK\n");
		zone_free(dc.srv.zone);
		config_dc_free(&dc.cfg);
		return 0;
	}
	if (dc.cfg.db_path != NULL)
		(void)zone_db_save_serial(dc.srv.zone, dc.cfg.db_path);
	if (dc.cfg.xfr.nacl > 0 && !dc.cfg.xfr.have_key)
		log_warnx("%s: [xfr] allow without a TSIG key: transfers are "
		    "protected by source address only", path);
	if (!foreground) {
		if (daemon(0, 0) < 0)
			fatal("daemon");
		log_init("ntm-dc", 0, verbose ? LOG_LEVEL_DEBUG :
		    LOG_LEVEL_INFO);
	}
	signal(SIGPIPE, SIG_IGN);
	dc.loop = uv_default_loop();
	if (dc.cfg.rrl.enabled && (dc.rrl = rrl_new(&dc.cfg.rrl,
	    rng_system())) == NULL)
		fatalx("out of memory");
	dc.srv.rrl = dc.rrl;
	dc.srv.xfr = &dc.cfg.xfr;
	ncfg.listen = dc.cfg.listen;
	ncfg.nlisten = dc.cfg.nlisten;
	ncfg.tcp_idle_ms = dc.cfg.tcp_idle_ms;
	ncfg.tcp_clients = dc.cfg.tcp_clients;
	ncfg.rng = rng_system();
	if ((rc = dnsnet_new(dc.loop, &dc.srv, &ncfg, &dc.net)) < 0) {
		uv_run(dc.loop, UV_RUN_NOWAIT);
		fatalx("cannot listen for DNS");
	}
	uv_signal_init(dc.loop, &dc.sighup);
	uv_signal_init(dc.loop, &dc.sigterm);
	uv_signal_init(dc.loop, &dc.sigint);
	dc.sighup.data = dc.sigterm.data = dc.sigint.data = &dc;
	uv_signal_start(&dc.sighup, dc_signal, SIGHUP);
	uv_signal_start(&dc.sigterm, dc_signal, SIGTERM);
	uv_signal_start(&dc.sigint, dc_signal, SIGINT);
	log_info("serving %s serial %u (%zu nodes)", dc.cfg.zone,
	    zone_serial(dc.srv.zone), zone_node_count(dc.srv.zone));
	dnsnet_notify(dc.net);
	uv_run(dc.loop, UV_RUN_DEFAULT);

	dns_stats_log(&dc.srv.stats);
	if (dc.cfg.db_path != NULL)
		(void)zone_db_save_serial(dc.srv.zone, dc.cfg.db_path);
	zone_free(dc.reload_zone);
	zone_free(dc.srv.zone);
	rrl_free(dc.rrl);
	uv_loop_close(dc.loop);
	config_dc_free(&dc.cfg);
	return 0;
}
