/* fuzz_ctlmsg.c -- libFuzzer target: control line protocol and nss.conf. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctlmsg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * Every accepted line must format back to exactly its own bytes (the
 * parser accepts canonical spellings only), a TUNNEL line's option keys
 * must be unique (each key finds its own value), and every accepted
 * config must hold only valid zone names.  Any violation aborts.
 */
static void
fuzz_line(const char *line, size_t len)
{
	struct ctlmsg m;
	char out[CTLMSG_LINE_MAX + 1];
	size_t outlen, i;

	if (ctlmsg_parse(&m, line, len) < 0)
		return;
	if (ctlmsg_format(&m, out, sizeof(out), &outlen) < 0 ||
	    outlen != len + 1 || memcmp(out, line, len) != 0 ||
	    out[len] != '\n')
		abort();
	if (m.nopt > 0 && m.type != CTLMSG_TUNNEL)
		abort();
	for (i = 0; i < m.nopt; i++)
		if (ctlmsg_opt_get(&m, m.opt[i].key) != m.opt[i].value)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct ctlmsg_conf conf;
	size_t left = size, linelen, errline, i;
	int rc;

	while ((rc = ctlmsg_line(p, left, &linelen)) == 0) {
		fuzz_line(p, linelen);
		p += linelen + 1;
		left -= linelen + 1;
	}
	if (rc == -EAGAIN && left > 0)
		fuzz_line(p, left);

	ctlmsg_conf_default(&conf);
	if (ctlmsg_conf_parse(&conf, (const char *)data, size, &errline) == 0) {
		for (i = 0; i < conf.nzones; i++)
			if (!ctlmsg_name_valid(conf.zones[i],
			    strlen(conf.zones[i])))
				abort();
		if (conf.socket[0] != '/' || conf.setup_ms == 0 ||
		    conf.setup_ms > CTLMSG_WAIT_MAX_MS)
			abort();
	}
	return 0;
}
