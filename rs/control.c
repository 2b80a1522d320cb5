/* control.c -- ntm-rs's control socket: the relay's counters as STAT lines through lib/statsock (doc/CONTROL.md). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlmsg.h"
#include "log.h"
#include "relay.h"
#include "rs.h"
#include "rsio.h"
#include "statsock.h"

/* What the counters are read from; both borrowed. */
struct control_rs_src {
	const struct relay	*relay;
	const struct rsio	*io;
};

struct rs_control {
	struct statsock		*ss;
	struct control_rs_src	 src;		/* statsock's fill argument */
};

static void
control_rs_fill(struct statsock_out *o, void *arg)
{
	const struct control_rs_src *src = arg;
	const struct relay *r = src->relay;
	const struct relay_stats *st = relay_stats(r);
	char key[CTLMSG_WORD_MAX + 1];
	int d;

	statsock_stat(o, "paths", relay_paths(r));
	statsock_stat(o, "paths-bound", relay_paths_bound(r));
	statsock_stat(o, "paths-max", relay_capacity(r));
	statsock_stat(o, "directions", st->directions);
	statsock_stat(o, "directions-repeated", st->directions_repeated);
	statsock_stat(o, "refused-collision", st->refused_collision);
	statsock_stat(o, "refused-full", st->refused_full);
	statsock_stat(o, "refused-expired", st->refused_expired);
	statsock_stat(o, "refused-malformed", st->refused_malformed);
	statsock_stat(o, "hellos", st->hellos);
	statsock_stat(o, "binds", st->binds);
	statsock_stat(o, "binds-cookie", st->binds_cookie);
	statsock_stat(o, "rebinds", st->rebinds);
	statsock_stat(o, "refreshes", st->refreshes);
	statsock_stat(o, "cookies-sent", st->cookies_sent);
	statsock_stat(o, "forwarded", st->forwarded);
	statsock_stat(o, "forwarded-bytes", st->forwarded_bytes);
	statsock_stat(o, "expired-idle", st->expired_idle);
	statsock_stat(o, "expired-unbound", st->expired_unbound);
	for (d = RELAY_DROP_NONE + 1; d < RELAY_DROP_COUNT; d++) {
		snprintf(key, sizeof(key), "drop-%s", relay_drop_name(d));
		statsock_stat(o, key, st->drops[d]);
	}
	if (src->io != NULL) {
		const struct rsio_stats *is = rsio_stats(src->io);

		statsock_stat(o, "udp-received", is->received);
		statsock_stat(o, "udp-received-bytes", is->received_bytes);
		statsock_stat(o, "udp-truncated", is->truncated);
		statsock_stat(o, "udp-sent", is->sent);
		statsock_stat(o, "udp-sent-bytes", is->sent_bytes);
		statsock_stat(o, "udp-send-errors", is->send_errors);
	}
}

int
control_rs_stats_lines(const struct relay *r, const struct rsio *io,
    char *buf, size_t cap)
{
	struct control_rs_src src = { r, io };

	return statsock_lines(control_rs_fill, &src, buf, cap);
}

int
control_rs_open(struct rs_control **out, uv_loop_t *loop, const char *path,
    const struct relay *relay, const struct rsio *io)
{
	struct rs_control *ctl;
	int rc;

	*out = NULL;
	if ((ctl = calloc(1, sizeof(*ctl))) == NULL)
		return -ENOMEM;
	ctl->src.relay = relay;
	ctl->src.io = io;
	if ((rc = statsock_open(&ctl->ss, loop, path, control_rs_fill,
	    &ctl->src)) < 0) {
		free(ctl);
		return rc;
	}
	*out = ctl;
	return 0;
}

void
control_rs_close(struct rs_control *ctl)
{
	if (ctl == NULL)
		return;
	statsock_close(ctl->ss);
	free(ctl);
}
