/* control.c -- ntm-dc's counters for `ntmctl dc stats`: signalling, relay links, DNS, AS notices. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>

#include "ctlmsg.h"
#include "dc.h"
#include "dns.h"
#include "notice.h"
#include "relay.h"
#include "signal.h"
#include "sigio.h"
#include "statsock.h"

/* A counter name as a ctlmsg word: "drop_decode: short header" -> drop_decode_short_header. */
static void
control_dc_stat(const char *name, uint64_t v, void *arg)
{
	struct statsock_out *o = arg;
	char w[CTLMSG_WORD_MAX + 1];
	size_t i, n = 0;
	bool sep = false;

	for (i = 0; name[i] != '\0' && n < sizeof(w) - 1; i++) {
		char ch = name[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-') {
			if (sep && n > 0)
				w[n++] = '_';
			sep = false;
			if (n < sizeof(w) - 1)
				w[n++] = ch;
		} else if (ch >= 'A' && ch <= 'Z') {
			if (sep && n > 0)
				w[n++] = '_';
			sep = false;
			if (n < sizeof(w) - 1)
				w[n++] = (char)(ch - 'A' + 'a');
		} else
			sep = true;
	}
	w[n] = '\0';
	statsock_stat(o, w, v);
}

static void
control_dc_dns(struct statsock_out *o, const struct dns_stats *st)
{
	static const char *const rcodes[] = {
		[DNS_RCODE_NOERROR] = "noerror",
		[DNS_RCODE_FORMERR] = "formerr",
		[DNS_RCODE_SERVFAIL] = "servfail",
		[DNS_RCODE_NXDOMAIN] = "nxdomain",
		[DNS_RCODE_NOTIMP] = "notimp",
		[DNS_RCODE_REFUSED] = "refused",
		[DNS_RCODE_NOTAUTH] = "notauth",
		[DNS_RCODE_BADVERS] = "badvers",
	};
	char name[32];
	int i;

	control_dc_stat("dns_queries", st->queries, o);
	control_dc_stat("dns_udp", st->udp, o);
	control_dc_stat("dns_tcp", st->tcp, o);
	for (i = 0; i < DNS_RCODE_COUNT; i++) {
		if (i < (int)(sizeof(rcodes) / sizeof(rcodes[0])) &&
		    rcodes[i] != NULL)
			snprintf(name, sizeof(name), "dns_%s", rcodes[i]);
		else if (st->rcode[i] != 0)
			snprintf(name, sizeof(name), "dns_rcode_%d", i);
		else
			continue;	/* unnamed and never sent */
		control_dc_stat(name, st->rcode[i], o);
	}
	control_dc_stat("dns_malformed_dropped", st->malformed_dropped, o);
	control_dc_stat("dns_truncated", st->truncated, o);
	control_dc_stat("dns_rrl_dropped", st->rrl_dropped, o);
	control_dc_stat("dns_rrl_slipped", st->rrl_slipped, o);
	control_dc_stat("dns_xfr", st->xfr, o);
	control_dc_stat("dns_xfr_refused", st->xfr_refused, o);
	control_dc_stat("dns_tsig_bad", st->tsig_bad, o);
	control_dc_stat("dns_notify_sent", st->notify_sent, o);
	control_dc_stat("dns_notify_acked", st->notify_acked, o);
}

static void
control_dc_notice(struct statsock_out *o, const struct notice_stats *st)
{
	control_dc_stat("notices_received", st->received, o);
	control_dc_stat("notices_applied", st->applied, o);
	control_dc_stat("notices_duplicates", st->duplicates, o);
	control_dc_stat("notices_refused", st->refused, o);
	control_dc_stat("notices_db_errors", st->db_errors, o);
	control_dc_stat("notices_held_back", st->held_back, o);
	control_dc_stat("vip_requests", st->vips, o);
	control_dc_stat("vip_requests_refused", st->vips_refused, o);
}

void
control_dc_counters(const struct dc_counters *c,
    void (*fn)(const char *, uint64_t, void *), void *arg)
{
	if (c->sig != NULL)
		signal_stats_foreach(c->sig, fn, arg);
	if (c->sigio != NULL) {
		fn("relay_unsent", sigio_stats(c->sigio)->relay_unsent, arg);
		fn("send_errors", sigio_stats(c->sigio)->send_errors, arg);
	}
	if (c->relay != NULL)
		relay_stats_foreach(c->relay, fn, arg);
}

void
control_dc_fill(struct statsock_out *o, void *arg)
{
	const struct dc_counters *c = arg;

	control_dc_counters(c, control_dc_stat, o);
	if (c->srv != NULL)
		control_dc_dns(o, &c->srv->stats);
	if (c->notice != NULL)
		control_dc_notice(o, notice_stats(c->notice));
}
