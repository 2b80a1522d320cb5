/* ntmctl_ca.c -- `ntmctl ca`: offline CA: root, AS CA, leaves, CRL, OCSP. */
#include "config.h"

#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cert.h"
#include "crl.h"
#include "ntmctl.h"
#include "ocsp.h"
#include "rand.h"

/*
 * Files of a CA directory.  root.key and as.key are the only secrets;
 * revoked.txt holds one "SERIALHEX REVOKED_AT REASON" line per revocation
 * and crlnumber the last CRL number issued.
 */
#define CA_ROOT_KEY	"root.key"
#define CA_ROOT_CRT	"root.pem"
#define CA_AS_KEY	"as.key"
#define CA_AS_CRT	"as.pem"
#define CA_CHAIN	"chain.pem"
#define CA_REVOKED	"revoked.txt"
#define CA_CRLNUMBER	"crlnumber"

enum {
	CA_PATH_MAX = 4096,
	CA_LIST_MAX = CERT_ZONES_MAX,
	CA_REVOKED_MAX = 100000,
};

struct ca_opts {
	const char		*dir;
	const char		*out;
	const char		*fqdn;
	const char		*domain;
	const char		*csr;
	const char		*cert;
	const char		*serial;
	const char		*vrange4;
	const char		*vrange6;
	const char		*vip4;
	const char		*vip6;
	enum cert_role		 role;
	enum cert_keytype	 keytype;
	enum ocsp_reason	 reason;
	const char		*zones[CA_LIST_MAX];
	size_t			 nzones;
	const char		*reverse[CA_LIST_MAX];
	size_t			 nreverse;
	const char		*ips[CA_LIST_MAX];
	size_t			 nips;
	const char		*permit[CA_LIST_MAX];
	size_t			 npermit;
	uint32_t		 lifetime;
	time_t			 now;
	int			 json;
};

/* The CA's issuing half, loaded from DIR. */
struct ca_as {
	gnutls_x509_crt_t	 root;
	gnutls_x509_crt_t	 as;
	gnutls_privkey_t	 key;
};

static void
ca_path(char *buf, const char *dir, const char *file)
{
	snprintf(buf, CA_PATH_MAX, "%s/%s", dir, file);
}

static void
ca_time(time_t t, char buf[32])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, 32, "%lld", (long long)t);
}

static void
ca_hex(const uint8_t *p, size_t len, char *out)
{
	size_t i;

	for (i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
	out[2 * len] = '\0';
}

/* Hex serial -> raw bytes; leading zeros kept as written. */
static int
ca_unhex(const char *s, uint8_t *out, size_t max, size_t *len)
{
	size_t n = strlen(s), i;
	unsigned int v;

	if (n == 0 || n % 2 != 0 || n / 2 > max)
		return -EINVAL;
	for (i = 0; i < n / 2; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1 ||
		    strchr("0123456789abcdefABCDEF", s[2 * i]) == NULL ||
		    strchr("0123456789abcdefABCDEF", s[2 * i + 1]) == NULL)
			return -EINVAL;
		out[i] = (uint8_t)v;
	}
	*len = n / 2;
	return 0;
}

static int
ca_crt_serial_hex(gnutls_x509_crt_t crt, char out[2 * OCSP_SERIAL_MAX + 1])
{
	uint8_t serial[OCSP_SERIAL_MAX];
	size_t len = sizeof(serial);

	if (gnutls_x509_crt_get_serial(crt, serial, &len) < 0)
		return -EINVAL;
	ca_hex(serial, len, out);
	return 0;
}

static int
ca_load_crt(const char *path, gnutls_x509_crt_t *crt)
{
	int rv;

	if ((rv = cert_crt_read(path, crt)) < 0)
		return ntmctl_err("%s: %s", path, cert_strerror(rv));
	return NTMCTL_OK;
}

static int
ca_load_key(const char *path, gnutls_privkey_t *key)
{
	int rv;

	if ((rv = cert_key_read(path, key)) < 0)
		return ntmctl_err("%s: %s", path, cert_strerror(rv));
	return NTMCTL_OK;
}

static void
ca_as_free(struct ca_as *ca)
{
	gnutls_privkey_deinit(ca->key);
	gnutls_x509_crt_deinit(ca->as);
	gnutls_x509_crt_deinit(ca->root);
	memset(ca, 0, sizeof(*ca));
}

/* Loads root.pem, as.pem and (if with_key) as.key from DIR. */
static int
ca_as_load(const char *dir, struct ca_as *ca, int with_key)
{
	char path[CA_PATH_MAX];
	int rv;

	memset(ca, 0, sizeof(*ca));
	ca_path(path, dir, CA_ROOT_CRT);
	if ((rv = ca_load_crt(path, &ca->root)) != NTMCTL_OK)
		goto fail;
	ca_path(path, dir, CA_AS_CRT);
	if ((rv = ca_load_crt(path, &ca->as)) != NTMCTL_OK)
		goto fail;
	ca_path(path, dir, CA_AS_KEY);
	if (with_key && (rv = ca_load_key(path, &ca->key)) != NTMCTL_OK)
		goto fail;
	return NTMCTL_OK;
fail:
	ca_as_free(ca);
	return rv;
}

/* ---- options ---- */

enum ca_opt {
	CA_OPT_INVALID = 0,
	CA_OPT_DIR = 256,
	CA_OPT_DOMAIN,
	CA_OPT_VRANGE4,
	CA_OPT_VRANGE6,
	CA_OPT_PERMIT_IP,
	CA_OPT_ROLE,
	CA_OPT_NAME,
	CA_OPT_ZONE,
	CA_OPT_REVERSE,
	CA_OPT_IP,
	CA_OPT_VIP4,
	CA_OPT_VIP6,
	CA_OPT_KEY,
	CA_OPT_CSR,
	CA_OPT_DAYS,
	CA_OPT_LIFETIME,
	CA_OPT_OUT,
	CA_OPT_JSON,
	CA_OPT_NOW,
	CA_OPT_CERT,
	CA_OPT_SERIAL,
	CA_OPT_REASON,
};

static const struct option ca_longopts[] = {
	{ "dir", required_argument, NULL, CA_OPT_DIR },
	{ "domain", required_argument, NULL, CA_OPT_DOMAIN },
	{ "vrange4", required_argument, NULL, CA_OPT_VRANGE4 },
	{ "vrange6", required_argument, NULL, CA_OPT_VRANGE6 },
	{ "permit-ip", required_argument, NULL, CA_OPT_PERMIT_IP },
	{ "role", required_argument, NULL, CA_OPT_ROLE },
	{ "name", required_argument, NULL, CA_OPT_NAME },
	{ "fqdn", required_argument, NULL, CA_OPT_NAME },
	{ "zone", required_argument, NULL, CA_OPT_ZONE },
	{ "reverse", required_argument, NULL, CA_OPT_REVERSE },
	{ "ip", required_argument, NULL, CA_OPT_IP },
	{ "vip4", required_argument, NULL, CA_OPT_VIP4 },
	{ "vip6", required_argument, NULL, CA_OPT_VIP6 },
	{ "key", required_argument, NULL, CA_OPT_KEY },
	{ "csr", required_argument, NULL, CA_OPT_CSR },
	{ "days", required_argument, NULL, CA_OPT_DAYS },
	{ "lifetime", required_argument, NULL, CA_OPT_LIFETIME },
	{ "out", required_argument, NULL, CA_OPT_OUT },
	{ "json", no_argument, NULL, CA_OPT_JSON },
	{ "now", required_argument, NULL, CA_OPT_NOW },
	{ "cert", required_argument, NULL, CA_OPT_CERT },
	{ "serial", required_argument, NULL, CA_OPT_SERIAL },
	{ "reason", required_argument, NULL, CA_OPT_REASON },
	{ NULL, 0, NULL, 0 },
};

static int
ca_num(const char *opt, const char *s, unsigned long long max,
    unsigned long long *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || *v > max ||
	    *s == '-')
		return ntmctl_usage("--%s: '%s' is not a number up to %llu",
		    opt, s, max);
	return NTMCTL_OK;
}

static int
ca_push(const char *opt, const char **list, size_t *n, const char *v)
{
	if (*n >= CA_LIST_MAX)
		return ntmctl_usage("--%s: at most %d allowed", opt,
		    CA_LIST_MAX);
	list[(*n)++] = v;
	return NTMCTL_OK;
}

/*
 * Parses the options of one verb; `allowed` lists the options it takes.
 * Positional arguments stay in argv[optind..].
 */
static int
ca_parse(int argc, char *argv[], const int *allowed, struct ca_opts *o,
    int *first_arg)
{
	unsigned long long v;
	int c, rv, i, ok;

	memset(o, 0, sizeof(o[0]));
	o->keytype = CERT_KEY_P256;
	o->reason = OCSP_REASON_UNSPECIFIED;
	o->now = time(NULL);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", ca_longopts, NULL)) != -1) {
		if (c == '?' || c == ':')
			return ntmctl_usage("%s: unknown option or missing "
			    "value: %s", argv[0], argv[optind - 1]);
		for (ok = 0, i = 0; allowed[i] != 0; i++)
			ok |= allowed[i] == c;
		if (!ok)
			return ntmctl_usage("%s: option %s does not apply",
			    argv[0], argv[optind - 1]);
		rv = NTMCTL_OK;
		switch (c) {
		case CA_OPT_DIR: o->dir = optarg; break;
		case CA_OPT_DOMAIN: o->domain = optarg; break;
		case CA_OPT_VRANGE4: o->vrange4 = optarg; break;
		case CA_OPT_VRANGE6: o->vrange6 = optarg; break;
		case CA_OPT_PERMIT_IP:
			rv = ca_push("permit-ip", o->permit, &o->npermit,
			    optarg);
			break;
		case CA_OPT_ROLE:
			if ((o->role = cert_role_parse(optarg)) ==
			    CERT_ROLE_INVALID)
				rv = ntmctl_usage("--role: '%s' is not one of "
				    "node, dc, rs, as", optarg);
			break;
		case CA_OPT_NAME: o->fqdn = optarg; break;
		case CA_OPT_ZONE:
			rv = ca_push("zone", o->zones, &o->nzones, optarg);
			break;
		case CA_OPT_REVERSE:
			rv = ca_push("reverse", o->reverse, &o->nreverse,
			    optarg);
			break;
		case CA_OPT_IP:
			rv = ca_push("ip", o->ips, &o->nips, optarg);
			break;
		case CA_OPT_VIP4: o->vip4 = optarg; break;
		case CA_OPT_VIP6: o->vip6 = optarg; break;
		case CA_OPT_KEY:
			if (strcmp(optarg, "p256") == 0 ||
			    strcmp(optarg, "ecdsa") == 0)
				o->keytype = CERT_KEY_P256;
			else if (strcmp(optarg, "rsa2048") == 0 ||
			    strcmp(optarg, "rsa") == 0)
				o->keytype = CERT_KEY_RSA2048;
			else
				rv = ntmctl_usage("--key: '%s' is not p256 or "
				    "rsa2048", optarg);
			break;
		case CA_OPT_CSR: o->csr = optarg; break;
		case CA_OPT_DAYS:
			if ((rv = ca_num("days", optarg, 36500, &v)) ==
			    NTMCTL_OK && v == 0)
				rv = ntmctl_usage("--days: must be > 0");
			o->lifetime = (uint32_t)(v * 86400);
			break;
		case CA_OPT_LIFETIME:
			if ((rv = ca_num("lifetime", optarg, UINT32_MAX, &v)) ==
			    NTMCTL_OK && v == 0)
				rv = ntmctl_usage("--lifetime: must be > 0");
			o->lifetime = (uint32_t)v;
			break;
		case CA_OPT_OUT: o->out = optarg; break;
		case CA_OPT_JSON: o->json = 1; break;
		case CA_OPT_NOW:
			if ((rv = ca_num("now", optarg, INT64_MAX, &v)) ==
			    NTMCTL_OK)
				o->now = (time_t)v;
			break;
		case CA_OPT_CERT: o->cert = optarg; break;
		case CA_OPT_SERIAL: o->serial = optarg; break;
		case CA_OPT_REASON:
			if (ocsp_reason_parse(optarg, &o->reason) < 0)
				rv = ntmctl_usage("--reason: '%s' is not an "
				    "RFC 5280 reason (e.g. keyCompromise)",
				    optarg);
			break;
		default:
			rv = ntmctl_usage("%s: unexpected option", argv[0]);
			break;
		}
		if (rv != NTMCTL_OK)
			return rv;
	}
	*first_arg = optind;
	return NTMCTL_OK;
}

static int
ca_need(const char *verb, const char *opt, const void *v)
{
	if (v == NULL)
		return ntmctl_usage("%s: --%s is required", verb, opt);
	return NTMCTL_OK;
}

/* ---- init ---- */

static int
ca_write_key(const char *path, gnutls_privkey_t key)
{
	int rv;

	if ((rv = cert_key_write(path, key)) == -EEXIST)
		return ntmctl_err("%s: exists, refusing to overwrite a key",
		    path);
	if (rv < 0)
		return ntmctl_err("%s: %s", path, cert_strerror(rv));
	return NTMCTL_OK;
}

static int
ca_write_crt(const char *path, gnutls_x509_crt_t crt)
{
	int rv;

	if ((rv = cert_crt_write(path, crt)) < 0)
		return ntmctl_err("%s: %s", path, cert_strerror(rv));
	return NTMCTL_OK;
}

static int
ca_write_chain(const char *dir, gnutls_x509_crt_t as, gnutls_x509_crt_t root)
{
	gnutls_datum_t a = { NULL, 0 }, r = { NULL, 0 };
	char path[CA_PATH_MAX];
	FILE *f;
	int rv = NTMCTL_OK;

	ca_path(path, dir, CA_CHAIN);
	if (gnutls_x509_crt_export2(as, GNUTLS_X509_FMT_PEM, &a) < 0 ||
	    gnutls_x509_crt_export2(root, GNUTLS_X509_FMT_PEM, &r) < 0) {
		rv = ntmctl_err("%s: cannot encode certificates", path);
		goto out;
	}
	if ((f = fopen(path, "w")) == NULL) {
		rv = ntmctl_err("%s: %s", path, strerror(errno));
		goto out;
	}
	fwrite(a.data, 1, a.size, f);
	fwrite(r.data, 1, r.size, f);
	if (fclose(f) != 0)
		rv = ntmctl_err("%s: %s", path, strerror(errno));
out:
	gnutls_free(a.data);
	gnutls_free(r.data);
	return rv;
}

static int
ca_init(int argc, char *argv[])
{
	static const int allowed[] = { CA_OPT_DIR, CA_OPT_DOMAIN,
	    CA_OPT_VRANGE4, CA_OPT_VRANGE6, CA_OPT_PERMIT_IP, CA_OPT_JSON,
	    CA_OPT_NOW, 0 };
	struct cert_prefix extra[CA_LIST_MAX];
	struct cert_ca_request car;
	struct cert_ca ca;
	struct ca_opts o;
	char path[CA_PATH_MAX], serial[2 * OCSP_SERIAL_MAX + 1];
	size_t i;
	int rv, arg;

	if ((rv = ca_parse(argc, argv, allowed, &o, &arg)) != NTMCTL_OK)
		return rv;
	if (arg != argc)
		return ntmctl_usage("init: unexpected argument '%s'",
		    argv[arg]);
	if ((rv = ca_need("init", "dir", o.dir)) != NTMCTL_OK ||
	    (rv = ca_need("init", "domain", o.domain)) != NTMCTL_OK ||
	    (rv = ca_need("init", "vrange4", o.vrange4)) != NTMCTL_OK ||
	    (rv = ca_need("init", "vrange6", o.vrange6)) != NTMCTL_OK)
		return rv;
	memset(&car, 0, sizeof(car));
	if (!cert_name_valid(o.domain))
		return ntmctl_err("--domain: '%s' is not a DNS name (LDH "
		    "labels, no trailing dot)", o.domain);
	car.domain = o.domain;
	if (cert_prefix_parse(o.vrange4, &car.vrange4) < 0 ||
	    car.vrange4.family != AF_INET)
		return ntmctl_err("--vrange4: '%s' is not an IPv4 prefix "
		    "(A.B.C.D/LEN, host bits zero)", o.vrange4);
	if (cert_prefix_parse(o.vrange6, &car.vrange6) < 0 ||
	    car.vrange6.family != AF_INET6)
		return ntmctl_err("--vrange6: '%s' is not an IPv6 prefix "
		    "(X::/LEN, host bits zero)", o.vrange6);
	for (i = 0; i < o.npermit; i++)
		if (cert_prefix_parse(o.permit[i], &extra[i]) < 0)
			return ntmctl_err("--permit-ip: '%s' is not a prefix",
			    o.permit[i]);
	car.extra = extra;
	car.nextra = o.npermit;
	if (mkdir(o.dir, 0700) < 0 && errno != EEXIST)
		return ntmctl_err("%s: %s", o.dir, strerror(errno));
	ca_path(path, o.dir, CA_ROOT_KEY);
	if (access(path, F_OK) == 0)
		return ntmctl_err("%s: exists; the CA in %s is already "
		    "initialised", path, o.dir);

	if ((rv = cert_ca_make(&car, NULL, rng_system(), o.now, &ca)) < 0)
		return ntmctl_err("root and AS certificates: %s",
		    cert_strerror(rv));
	ca_path(path, o.dir, CA_ROOT_KEY);
	if ((rv = ca_write_key(path, ca.root_key)) != NTMCTL_OK)
		goto out;
	ca_path(path, o.dir, CA_AS_KEY);
	if ((rv = ca_write_key(path, ca.as_key)) != NTMCTL_OK)
		goto out;
	ca_path(path, o.dir, CA_ROOT_CRT);
	if ((rv = ca_write_crt(path, ca.root)) != NTMCTL_OK)
		goto out;
	ca_path(path, o.dir, CA_AS_CRT);
	if ((rv = ca_write_crt(path, ca.as)) != NTMCTL_OK)
		goto out;
	if ((rv = ca_write_chain(o.dir, ca.as, ca.root)) != NTMCTL_OK)
		goto out;
	ca_crt_serial_hex(ca.as, serial);
	if (o.json) {
		printf("{\"dir\":");
		ntmctl_json_str(stdout, o.dir);
		printf(",\"domain\":");
		ntmctl_json_str(stdout, o.domain);
		printf(",\"root\":\"%s/%s\",\"as\":\"%s/%s\","
		    "\"chain\":\"%s/%s\",\"as_serial\":\"%s\"}\n",
		    o.dir, CA_ROOT_CRT, o.dir, CA_AS_CRT, o.dir, CA_CHAIN,
		    serial);
	} else
		printf("created root CA and AS CA for %s in %s "
		    "(root.pem, as.pem, chain.pem; keys root.key, as.key)\n",
		    o.domain, o.dir);
	rv = NTMCTL_OK;
out:
	cert_ca_clear(&ca);
	return rv;
}

/* ---- issue ---- */

static int
ca_addr(const char *opt, const char *s, int want, struct cert_addr *a)
{
	memset(a, 0, sizeof(*a));
	if ((want == 0 || want == AF_INET) &&
	    inet_pton(AF_INET, s, a->addr) == 1)
		a->family = AF_INET;
	else if ((want == 0 || want == AF_INET6) &&
	    inet_pton(AF_INET6, s, a->addr) == 1)
		a->family = AF_INET6;
	else
		return ntmctl_err("--%s: '%s' is not an %s address", opt, s,
		    want == AF_INET ? "IPv4" : want == AF_INET6 ? "IPv6" :
		    "IP");
	return NTMCTL_OK;
}

/* Public key to certify: from a checked CSR, or a new key at PREFIX.key. */
static int
ca_issue_key(const struct ca_opts *o, const char *keypath,
    gnutls_pubkey_t *pub)
{
	gnutls_datum_t d = { NULL, 0 };
	gnutls_x509_crq_t crq = NULL;
	gnutls_privkey_t key = NULL;
	int rv;

	if (o->csr == NULL) {
		if (access(keypath, F_OK) == 0)
			return ntmctl_err("%s: exists, refusing to overwrite "
			    "a key", keypath);
		if ((rv = cert_key_generate(o->keytype, &key)) < 0 ||
		    (rv = cert_pubkey_of(key, pub)) < 0) {
			gnutls_privkey_deinit(key);
			return ntmctl_err("key generation: %s",
			    cert_strerror(rv));
		}
		rv = ca_write_key(keypath, key);
		gnutls_privkey_deinit(key);
		return rv;
	}
	if ((rv = gnutls_load_file(o->csr, &d)) < 0)
		return ntmctl_err("%s: cannot read", o->csr);
	if (gnutls_x509_crq_init(&crq) < 0) {
		rv = ntmctl_err("out of memory");
		goto out;
	}
	if (gnutls_x509_crq_import(crq, &d, GNUTLS_X509_FMT_PEM) < 0 &&
	    gnutls_x509_crq_import(crq, &d, GNUTLS_X509_FMT_DER) < 0) {
		rv = ntmctl_err("%s: not a PKCS#10 request", o->csr);
		goto out;
	}
	if ((rv = cert_csr_check(crq, o->fqdn, pub)) < 0) {
		rv = ntmctl_err("%s: %s", o->csr, cert_strerror(rv));
		goto out;
	}
	rv = NTMCTL_OK;
out:
	gnutls_x509_crq_deinit(crq);
	gnutls_free(d.data);
	return rv;
}

static int
ca_issue(int argc, char *argv[])
{
	static const int allowed[] = { CA_OPT_DIR, CA_OPT_ROLE, CA_OPT_NAME,
	    CA_OPT_ZONE, CA_OPT_REVERSE, CA_OPT_IP, CA_OPT_VIP4, CA_OPT_VIP6,
	    CA_OPT_KEY, CA_OPT_CSR, CA_OPT_DAYS, CA_OPT_LIFETIME, CA_OPT_OUT,
	    CA_OPT_JSON, CA_OPT_NOW, 0 };
	char revzones[CA_LIST_MAX][CERT_REVZONE_MAX];
	const char *zones[2 * CA_LIST_MAX];
	struct cert_addr addrs[CA_LIST_MAX], a;
	char keypath[CA_PATH_MAX], crtpath[CA_PATH_MAX], t[32];
	char serial[2 * OCSP_SERIAL_MAX + 1];
	struct cert_request req;
	struct cert_issuer iss;
	struct cert_prefix p;
	struct ca_opts o;
	struct ca_as ca;
	gnutls_pubkey_t pub = NULL;
	gnutls_x509_crt_t crt = NULL;
	size_t i, nrev = 0;
	int rv, arg, n;

	if ((rv = ca_parse(argc, argv, allowed, &o, &arg)) != NTMCTL_OK)
		return rv;
	if (arg != argc)
		return ntmctl_usage("issue: unexpected argument '%s'",
		    argv[arg]);
	if ((rv = ca_need("issue", "dir", o.dir)) != NTMCTL_OK ||
	    (rv = ca_need("issue", "name", o.fqdn)) != NTMCTL_OK ||
	    (rv = ca_need("issue", "out", o.out)) != NTMCTL_OK)
		return rv;
	if (o.role == CERT_ROLE_INVALID)
		return ntmctl_usage("issue: --role is required (node, dc, "
		    "rs, as)");
	memset(&req, 0, sizeof(req));
	req.role = o.role;
	req.fqdn = o.fqdn;
	req.lifetime = o.lifetime;
	if (o.role == CERT_ROLE_NODE) {
		if (o.vip4 == NULL && o.vip6 == NULL)
			return ntmctl_err("issue: a node needs --vip4 and/or "
			    "--vip6");
		if (o.nzones || o.nreverse || o.nips)
			return ntmctl_err("issue: --zone, --reverse and --ip "
			    "are for servers; a node has --vip4/--vip6");
	} else {
		if (o.vip4 != NULL || o.vip6 != NULL)
			return ntmctl_err("issue: --vip4/--vip6 are for "
			    "nodes; servers use --ip");
		if (o.role != CERT_ROLE_DC && (o.nzones || o.nreverse))
			return ntmctl_err("issue: only a DC lists zones");
		if (o.csr != NULL)
			return ntmctl_err("issue: --csr is for node "
			    "certificates");
	}
	if (o.vip4 != NULL) {
		if ((rv = ca_addr("vip4", o.vip4, AF_INET, &a)) != NTMCTL_OK)
			return rv;
		req.has_vip4 = true;
		memcpy(&req.vip4, a.addr, 4);
	}
	if (o.vip6 != NULL) {
		if ((rv = ca_addr("vip6", o.vip6, AF_INET6, &a)) != NTMCTL_OK)
			return rv;
		req.has_vip6 = true;
		memcpy(&req.vip6, a.addr, 16);
	}
	for (i = 0; i < o.nips; i++)
		if ((rv = ca_addr("ip", o.ips[i], 0, &addrs[i])) != NTMCTL_OK)
			return rv;
	req.addrs = addrs;
	req.naddrs = o.nips;
	for (i = 0; i < o.nzones; i++) {
		if (!cert_name_valid(o.zones[i]))
			return ntmctl_err("--zone: '%s' is not a DNS name",
			    o.zones[i]);
		zones[req.nzones++] = o.zones[i];
	}
	for (i = 0; i < o.nreverse; i++) {
		if (cert_prefix_parse(o.reverse[i], &p) < 0)
			return ntmctl_err("--reverse: '%s' is not a prefix "
			    "(host bits zero)", o.reverse[i]);
		n = cert_reverse_zones(&p, &revzones[nrev],
		    CA_LIST_MAX - nrev);
		if (n < 0 || req.nzones + (size_t)n > CERT_ZONES_MAX)
			return ntmctl_err("--reverse: '%s' needs too many "
			    "zones", o.reverse[i]);
		while (n-- > 0)
			zones[req.nzones++] = revzones[nrev++];
	}
	req.zones = zones;
	if (req.nzones > CERT_ZONES_MAX)
		return ntmctl_err("issue: at most %d zones", CERT_ZONES_MAX);
	if (strlen(o.out) + 5 >= CA_PATH_MAX)
		return ntmctl_err("--out: path too long");
	snprintf(keypath, sizeof(keypath), "%s.key", o.out);
	snprintf(crtpath, sizeof(crtpath), "%s.pem", o.out);

	if ((rv = ca_as_load(o.dir, &ca, 1)) != NTMCTL_OK)
		return rv;
	if ((rv = ca_issue_key(&o, keypath, &pub)) != NTMCTL_OK)
		goto out;
	req.pubkey = pub;
	iss.crt = ca.as;
	iss.key = ca.key;
	if ((rv = cert_issue(&req, &iss, rng_system(), o.now, &crt)) < 0) {
		rv = ntmctl_err("issue %s: %s%s", o.fqdn, cert_strerror(rv),
		    rv == CERT_E_CONSTRAINTS ? " (outside the domain or "
		    "virtual ranges of the AS CA)" : "");
		if (o.csr == NULL)
			unlink(keypath);
		goto out;
	}
	if ((rv = ca_write_crt(crtpath, crt)) != NTMCTL_OK)
		goto out;
	ca_crt_serial_hex(crt, serial);
	ca_time(gnutls_x509_crt_get_expiration_time(crt), t);
	if (o.json) {
		printf("{\"role\":\"%s\",\"fqdn\":", cert_role_name(o.role));
		ntmctl_json_str(stdout, o.fqdn);
		printf(",\"serial\":\"%s\",\"not_after\":\"%s\",\"cert\":",
		    serial, t);
		ntmctl_json_str(stdout, crtpath);
		printf(",\"key\":");
		if (o.csr == NULL)
			ntmctl_json_str(stdout, keypath);
		else
			printf("null");
		printf("}\n");
	} else
		printf("issued %s certificate for %s, serial %s, valid until "
		    "%s: %s%s%s\n", cert_role_name(o.role), o.fqdn, serial, t,
		    crtpath, o.csr == NULL ? ", key " : "",
		    o.csr == NULL ? keypath : "");
	rv = NTMCTL_OK;
out:
	gnutls_x509_crt_deinit(crt);
	gnutls_pubkey_deinit(pub);
	ca_as_free(&ca);
	return rv;
}

/* ---- show ---- */

static const char *
ca_keytype_name(enum cert_keytype k)
{
	switch (k) {
	case CERT_KEY_P256:
		return "ecdsa-p256";
	case CERT_KEY_RSA2048:
		return "rsa-2048";
	default:
		return "other";
	}
}

/* Prints every SAN of one type, human (space separated) or JSON array. */
static void
ca_show_sans(gnutls_x509_crt_t crt, int want, int json)
{
	char buf[CERT_FQDN_MAX + 2], addr[INET6_ADDRSTRLEN];
	const char *name;
	unsigned int i;
	size_t sz;
	int type, n = 0;

	for (i = 0;; i++) {
		sz = sizeof(buf) - 1;
		type = gnutls_x509_crt_get_subject_alt_name(crt, i, buf, &sz,
		    NULL);
		if (type == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue;
		if (type < 0)
			break;
		if (type != want)
			continue;
		if (type == GNUTLS_SAN_IPADDRESS) {
			if ((sz != 4 && sz != 16) || inet_ntop(sz == 4 ?
			    AF_INET : AF_INET6, buf, addr, sizeof(addr)) == NULL)
				continue;
			name = addr;
		} else {
			buf[sz] = '\0';
			name = buf;
		}
		if (json) {
			printf("%s", n ? "," : "");
			ntmctl_json_str(stdout, name);
		} else
			printf("%s%s", n ? " " : "", name);
		n++;
	}
}

static int
ca_show(int argc, char *argv[])
{
	static const int allowed[] = { CA_OPT_JSON, 0 };
	gnutls_datum_t issuer = { NULL, 0 };
	struct cert_info info;
	struct ca_opts o;
	gnutls_x509_crt_t crt;
	char serial[2 * (CERT_SERIAL_LEN + 1) + 1], nb[32], na[32];
	int rv, arg;

	if ((rv = ca_parse(argc, argv, allowed, &o, &arg)) != NTMCTL_OK)
		return rv;
	if (arg != argc - 1)
		return ntmctl_usage("show: expected one certificate file");
	if ((rv = ca_load_crt(argv[arg], &crt)) != NTMCTL_OK)
		return rv;
	if ((rv = cert_info(crt, &info)) < 0) {
		gnutls_x509_crt_deinit(crt);
		return ntmctl_err("%s: %s", argv[arg], cert_strerror(rv));
	}
	gnutls_x509_crt_get_issuer_dn3(crt, &issuer, 0);
	ca_hex(info.serial, info.serial_len, serial);
	ca_time(info.not_before, nb);
	ca_time(info.not_after, na);
	if (o.json) {
		printf("{\"subject\":");
		ntmctl_json_str(stdout, info.subject);
		printf(",\"issuer\":");
		ntmctl_json_str(stdout, issuer.data ? (char *)issuer.data : "");
		printf(",\"role\":");
		if (info.role == CERT_ROLE_INVALID)
			printf("null");
		else
			printf("\"%s\"", cert_role_name(info.role));
		printf(",\"ca\":%s,\"key\":\"%s\",\"serial\":\"%s\","
		    "\"not_before\":\"%s\",\"not_after\":\"%s\",\"dns\":[",
		    info.is_ca ? "true" : "false",
		    ca_keytype_name(info.keytype), serial, nb, na);
		ca_show_sans(crt, GNUTLS_SAN_DNSNAME, 1);
		printf("],\"ip\":[");
		ca_show_sans(crt, GNUTLS_SAN_IPADDRESS, 1);
		printf("]}\n");
	} else {
		printf("subject:    %s\n", info.subject);
		printf("issuer:     %s\n", issuer.data ? (char *)issuer.data :
		    "");
		printf("role:       %s\n", info.is_ca ? "CA" :
		    cert_role_name(info.role));
		printf("key:        %s\n", ca_keytype_name(info.keytype));
		printf("serial:     %s\n", serial);
		printf("not before: %s\n", nb);
		printf("not after:  %s\n", na);
		printf("dns:        ");
		ca_show_sans(crt, GNUTLS_SAN_DNSNAME, 0);
		printf("\nip:         ");
		ca_show_sans(crt, GNUTLS_SAN_IPADDRESS, 0);
		printf("\n");
	}
	gnutls_free(issuer.data);
	gnutls_x509_crt_deinit(crt);
	return NTMCTL_OK;
}

/* ---- verify ---- */

static int
ca_verify(int argc, char *argv[])
{
	static const int allowed[] = { CA_OPT_DIR, CA_OPT_ROLE, CA_OPT_NAME,
	    CA_OPT_VIP4, CA_OPT_VIP6, CA_OPT_NOW, 0 };
	struct cert_trust *trust = NULL;
	struct cert_expect ex;
	struct cert_addr a4, a6;
	struct ca_opts o;
	struct ca_as ca;
	gnutls_x509_crt_t crt = NULL;
	int rv, arg;

	if ((rv = ca_parse(argc, argv, allowed, &o, &arg)) != NTMCTL_OK)
		return rv;
	if (arg != argc - 1)
		return ntmctl_usage("verify: expected one certificate file");
	if ((rv = ca_need("verify", "dir", o.dir)) != NTMCTL_OK)
		return rv;
	memset(&ex, 0, sizeof(ex));
	ex.role = o.role;
	ex.fqdn = o.fqdn;
	if (o.vip4 != NULL) {
		if ((rv = ca_addr("vip4", o.vip4, AF_INET, &a4)) != NTMCTL_OK)
			return rv;
		ex.vip4 = (const struct in_addr *)(const void *)a4.addr;
	}
	if (o.vip6 != NULL) {
		if ((rv = ca_addr("vip6", o.vip6, AF_INET6, &a6)) != NTMCTL_OK)
			return rv;
		ex.vip6 = (const struct in6_addr *)(const void *)a6.addr;
	}
	if ((rv = ca_as_load(o.dir, &ca, 0)) != NTMCTL_OK)
		return rv;
	if ((rv = ca_load_crt(argv[arg], &crt)) != NTMCTL_OK)
		goto out;
	if ((rv = cert_trust_new(&ca.root, 1, &trust)) < 0) {
		rv = ntmctl_err("%s", cert_strerror(rv));
		goto out;
	}
	if ((rv = cert_verify(trust, crt, ca.as, &ex, o.now)) < 0) {
		rv = ntmctl_err("%s: %s", argv[arg], cert_strerror(rv));
		goto out;
	}
	printf("%s: ok\n", argv[arg]);
	rv = NTMCTL_OK;
out:
	cert_trust_free(trust);
	gnutls_x509_crt_deinit(crt);
	ca_as_free(&ca);
	return rv;
}

/* ---- revocation list: revoke, crl, ocsp ---- */

struct ca_revoked {
	struct crl_entry	*ents;
	enum ocsp_reason	*reasons;
	size_t			 n;
};

static void
ca_revoked_free(struct ca_revoked *r)
{
	free(r->ents);
	free(r->reasons);
	memset(r, 0, sizeof(*r));
}

/* Reads DIR/revoked.txt (missing = empty). */
static int
ca_revoked_load(const char *dir, struct ca_revoked *r)
{
	char path[CA_PATH_MAX], line[256], hex[2 * CRL_SERIAL_MAX + 2];
	char reason[64];
	long long at;
	size_t lineno = 0, cap = 0;
	FILE *f;
	void *p;

	memset(r, 0, sizeof(*r));
	ca_path(path, dir, CA_REVOKED);
	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT)
			return NTMCTL_OK;
		return ntmctl_err("%s: %s", path, strerror(errno));
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (r->n == cap) {
			cap = cap ? 2 * cap : 16;
			if (cap > CA_REVOKED_MAX)
				goto bad;
			if ((p = reallocarray(r->ents, cap,
			    sizeof(*r->ents))) == NULL)
				goto nomem;
			r->ents = p;
			if ((p = reallocarray(r->reasons, cap,
			    sizeof(*r->reasons))) == NULL)
				goto nomem;
			r->reasons = p;
		}
		if (sscanf(line, "%41s %lld %63s", hex, &at, reason) != 3 ||
		    ca_unhex(hex, r->ents[r->n].serial, CRL_SERIAL_MAX,
		    &r->ents[r->n].serial_len) < 0 || at < 0 ||
		    ocsp_reason_parse(reason, &r->reasons[r->n]) < 0)
			goto bad;
		r->ents[r->n].revoked_at = (time_t)at;
		r->n++;
	}
	fclose(f);
	return NTMCTL_OK;
bad:
	fclose(f);
	ca_revoked_free(r);
	return ntmctl_err("%s:%zu: expected SERIALHEX EPOCH REASON", path,
	    lineno);
nomem:
	fclose(f);
	ca_revoked_free(r);
	return ntmctl_err("out of memory");
}

static ssize_t
ca_revoked_find(const struct ca_revoked *r, const uint8_t *serial,
    size_t len)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->ents[i].serial_len == len &&
		    memcmp(r->ents[i].serial, serial, len) == 0)
			return (ssize_t)i;
	return -1;
}

static int
ca_revoke(int argc, char *argv[])
{
	static const int allowed[] = { CA_OPT_DIR, CA_OPT_CERT, CA_OPT_SERIAL,
	    CA_OPT_REASON, CA_OPT_NOW, 0 };
	uint8_t serial[CRL_SERIAL_MAX];
	char path[CA_PATH_MAX], hex[2 * CRL_SERIAL_MAX + 1];
	struct ca_revoked r;
	struct ca_opts o;
	gnutls_x509_crt_t crt;
	size_t len = sizeof(serial);
	FILE *f;
	int rv, arg;

	if ((rv = ca_parse(argc, argv, allowed, &o, &arg)) != NTMCTL_OK)
		return rv;
	if (arg != argc)
		return ntmctl_usage("revoke: unexpected argument '%s'",
		    argv[arg]);
	if ((rv = ca_need("revoke", "dir", o.dir)) != NTMCTL_OK)
		return rv;
	if ((o.cert == NULL) == (o.serial == NULL))
		return ntmctl_usage("revoke: give --cert FILE or --serial HEX");
	if (o.cert != NULL) {
		if ((rv = ca_load_crt(o.cert, &crt)) != NTMCTL_OK)
			return rv;
		rv = gnutls_x509_crt_get_serial(crt, serial, &len);
		gnutls_x509_crt_deinit(crt);
		if (rv < 0)
			return ntmctl_err("%s: no serial", o.cert);
	} else if (ca_unhex(o.serial, serial, sizeof(serial), &len) < 0)
		return ntmctl_err("--serial: '%s' is not a hex serial",
		    o.serial);
	ca_hex(serial, len, hex);
	if ((rv = ca_revoked_load(o.dir, &r)) != NTMCTL_OK)
		return rv;
	rv = ca_revoked_find(&r, serial, len) >= 0;
	ca_revoked_free(&r);
	if (rv)
		return ntmctl_err("serial %s is already revoked", hex);
	ca_path(path, o.dir, CA_REVOKED);
	if ((f = fopen(path, "a")) == NULL)
		return ntmctl_err("%s: %s", path, strerror(errno));
	fprintf(f, "%s %lld %s\n", hex, (long long)o.now,
	    ocsp_reason_name(o.reason));
	if (fclose(f) != 0)
		return ntmctl_err("%s: %s", path, strerror(errno));
	printf("revoked serial %s (%s)\n", hex, ocsp_reason_name(o.reason));
	return NTMCTL_OK;
}

/* Reads, increments and stores DIR/crlnumber. */
static int
ca_crlnumber_next(const char *dir, uint64_t *number)
{
	char path[CA_PATH_MAX];
	unsigned long long v = 0;
	FILE *f;

	ca_path(path, dir, CA_CRLNUMBER);
	if ((f = fopen(path, "r")) != NULL) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
	}
	*number = v + 1;
	if ((f = fopen(path, "w")) == NULL)
		return ntmctl_err("%s: %s", path, strerror(errno));
	fprintf(f, "%llu\n", (unsigned long long)*number);
	if (fclose(f) != 0)
		return ntmctl_err("%s: %s", path, strerror(errno));
	return NTMCTL_OK;
}

static int
ca_crl(int argc, char *argv[])
{
	static const int allowed[] = { CA_OPT_DIR, CA_OPT_OUT, CA_OPT_DAYS,
	    CA_OPT_LIFETIME, CA_OPT_NOW, 0 };
	struct ca_revoked r;
	struct ca_opts o;
	struct ca_as ca;
	gnutls_x509_crl_t crl = NULL;
	uint64_t number;
	int rv, arg;

	if ((rv = ca_parse(argc, argv, allowed, &o, &arg)) != NTMCTL_OK)
		return rv;
	if (arg != argc)
		return ntmctl_usage("crl: unexpected argument '%s'",
		    argv[arg]);
	if ((rv = ca_need("crl", "dir", o.dir)) != NTMCTL_OK ||
	    (rv = ca_need("crl", "out", o.out)) != NTMCTL_OK)
		return rv;
	if ((rv = ca_as_load(o.dir, &ca, 1)) != NTMCTL_OK)
		return rv;
	if ((rv = ca_revoked_load(o.dir, &r)) != NTMCTL_OK)
		goto out;
	if ((rv = ca_crlnumber_next(o.dir, &number)) != NTMCTL_OK)
		goto out;
	if ((rv = crl_build(r.ents, r.n, ca.as, ca.key, number, o.now,
	    o.now + (o.lifetime ? o.lifetime : CRL_VALIDITY_DEFAULT),
	    &crl)) < 0) {
		rv = ntmctl_err("crl: %s", cert_strerror(rv));
		goto out;
	}
	if ((rv = crl_write(o.out, crl)) < 0) {
		rv = ntmctl_err("%s: %s", o.out, cert_strerror(rv));
		goto out;
	}
	printf("wrote CRL %" PRIu64 " with %zu revoked serial%s to %s\n",
	    number, r.n, r.n == 1 ? "" : "s", o.out);
	rv = NTMCTL_OK;
out:
	gnutls_x509_crl_deinit(crl);
	ca_revoked_free(&r);
	ca_as_free(&ca);
	return rv;
}

static int
ca_ocsp(int argc, char *argv[])
{
	static const int allowed[] = { CA_OPT_DIR, CA_OPT_CERT, CA_OPT_OUT,
	    CA_OPT_LIFETIME, CA_OPT_NOW, CA_OPT_JSON, 0 };
	uint8_t serial[OCSP_SERIAL_MAX];
	char hex[2 * OCSP_SERIAL_MAX + 1];
	size_t len = sizeof(serial);
	struct ocsp_signer *signer = NULL;
	struct ocsp_status st;
	struct ca_revoked r;
	struct ca_opts o;
	struct ca_as ca;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t der = { NULL, 0 };
	ssize_t idx;
	FILE *f;
	int rv, arg;

	if ((rv = ca_parse(argc, argv, allowed, &o, &arg)) != NTMCTL_OK)
		return rv;
	if (arg != argc)
		return ntmctl_usage("ocsp: unexpected argument '%s'",
		    argv[arg]);
	if ((rv = ca_need("ocsp", "dir", o.dir)) != NTMCTL_OK ||
	    (rv = ca_need("ocsp", "cert", o.cert)) != NTMCTL_OK ||
	    (rv = ca_need("ocsp", "out", o.out)) != NTMCTL_OK)
		return rv;
	if (o.lifetime > OCSP_VALIDITY_MAX)
		return ntmctl_err("--lifetime: at most %d seconds",
		    OCSP_VALIDITY_MAX);
	memset(&r, 0, sizeof(r));
	if ((rv = ca_as_load(o.dir, &ca, 1)) != NTMCTL_OK)
		return rv;
	if ((rv = ca_load_crt(o.cert, &crt)) != NTMCTL_OK ||
	    (rv = ca_revoked_load(o.dir, &r)) != NTMCTL_OK)
		goto out;
	if (gnutls_x509_crt_get_serial(crt, serial, &len) < 0) {
		rv = ntmctl_err("%s: no serial", o.cert);
		goto out;
	}
	ca_hex(serial, len, hex);
	memset(&st, 0, sizeof(st));
	st.status = OCSP_CERT_GOOD;
	if ((idx = ca_revoked_find(&r, serial, len)) >= 0) {
		st.status = OCSP_CERT_REVOKED;
		st.revocation_time = r.ents[idx].revoked_at;
		st.reason = r.reasons[idx];
	}
	st.produced_at = st.this_update = o.now;
	st.next_update = o.now + (o.lifetime ? o.lifetime :
	    OCSP_VALIDITY_DEFAULT);
	if ((rv = ocsp_signer_new(ca.as, &signer)) < 0 ||
	    (rv = ocsp_sign(signer, ca.key, serial, len, &st, &der)) < 0) {
		rv = ntmctl_err("ocsp: %s", ocsp_strerror(rv));
		goto out;
	}
	if ((f = fopen(o.out, "wb")) == NULL) {
		rv = ntmctl_err("%s: %s", o.out, strerror(errno));
		goto out;
	}
	fwrite(der.data, 1, der.size, f);
	if (fclose(f) != 0) {
		rv = ntmctl_err("%s: %s", o.out, strerror(errno));
		goto out;
	}
	if (o.json) {
		printf("{\"serial\":\"%s\",\"status\":\"%s\",\"out\":", hex,
		    st.status == OCSP_CERT_GOOD ? "good" : "revoked");
		ntmctl_json_str(stdout, o.out);
		printf("}\n");
	} else
		printf("wrote %s status of serial %s to %s\n",
		    st.status == OCSP_CERT_GOOD ? "good" : "revoked", hex,
		    o.out);
	rv = NTMCTL_OK;
out:
	gnutls_free(der.data);
	ocsp_signer_free(signer);
	gnutls_x509_crt_deinit(crt);
	ca_revoked_free(&r);
	ca_as_free(&ca);
	return rv;
}

/* ---- dispatch ---- */

static const struct {
	const char	*name;
	int		(*run)(int, char *[]);
	const char	*usage;
} ca_verbs[] = {
	{ "init", ca_init, "--dir DIR --domain DOMAIN --vrange4 CIDR "
	    "--vrange6 CIDR [--permit-ip CIDR]... [--json]" },
	{ "issue", ca_issue, "--dir DIR --role node|dc|rs|as --name FQDN "
	    "--out PREFIX [--zone Z]... [--reverse CIDR]... [--ip ADDR]... "
	    "[--vip4 A] [--vip6 A] [--key p256|rsa2048] [--csr FILE] "
	    "[--days N | --lifetime SEC] [--now EPOCH] [--json]" },
	{ "show", ca_show, "[--json] FILE" },
	{ "verify", ca_verify, "--dir DIR [--role R] [--name FQDN] "
	    "[--vip4 A] [--vip6 A] [--now EPOCH] FILE" },
	{ "revoke", ca_revoke, "--dir DIR --cert FILE | --serial HEX "
	    "[--reason REASON]" },
	{ "crl", ca_crl, "--dir DIR --out FILE [--days N | --lifetime SEC] "
	    "[--now EPOCH]" },
	{ "ocsp", ca_ocsp, "--dir DIR --cert FILE --out FILE "
	    "[--lifetime SEC] [--json]" },
};

int
ntmctl_ca(int argc, char *argv[])
{
	size_t i, n = sizeof(ca_verbs) / sizeof(ca_verbs[0]);

	if (argc < 2 || strcmp(argv[1], "help") == 0) {
		for (i = 0; i < n; i++)
			fprintf(argc < 2 ? stderr : stdout,
			    "usage: ntmctl ca %s %s\n", ca_verbs[i].name,
			    ca_verbs[i].usage);
		return argc < 2 ? NTMCTL_USAGE : NTMCTL_OK;
	}
	for (i = 0; i < n; i++)
		if (strcmp(argv[1], ca_verbs[i].name) == 0)
			return ca_verbs[i].run(argc - 1, argv + 1);
	return ntmctl_usage("ca: unknown subcommand '%s' (try ntmctl ca "
	    "help)", argv[1]);
}
