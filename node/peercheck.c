/* peercheck.c -- verification of a tunnel peer: certificate, stapled status, name, dates, virtual IPs; verified pairs cached by hash. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/ocsp.h>

#include "crypto.h"
#include "log.h"
#include "ocsp.h"
#include "peercheck.h"

enum pc_chain {
	PC_CHAIN_UNKNOWN = 0,
	PC_CHAIN_KNOWN,
	PC_CHAIN_GNUTLS,
};

struct pc_cert {
	bool			 live;
	uint64_t		 used;
	uint8_t			 hash[PROTO_HASH_LEN];
	uint8_t			*der;
	size_t			 len;
	gnutls_x509_crt_t	 crt;
	struct cert_info	 info;
	/*
	 * cert_anchor_check()'s answer for these bytes (it does not depend
	 * on the clock): PC_CHAIN_GNUTLS when the certificate is outside
	 * the anchor's profile and cert_verify() decides each time.
	 */
	enum pc_chain		 chain;
	int			 chain_rv;
	/* Its key, made at the first peercheck_verify_borrow (or NULL). */
	gnutls_pubkey_t		 pub;
	/* The last expected FQDN cert_has_dns() found ("" none yet). */
	char			 fqdn_ok[CERT_FQDN_MAX + 1];
};

/*
 * Statuses peercheck_status_check() read, signature verified: what each
 * says, by the hash of its bytes, so a Route Direction carrying a status
 * seen before costs a SHA-256 and no parse.
 */
enum { PC_STATUSES = 16, PC_NAME_HASH_MAX = 64 };

struct pc_status {
	uint8_t		 hash[PROTO_HASH_LEN];
	uint8_t		 serial[PROTO_SERIAL_MAX];
	size_t		 serial_len;
	/* CertID's issuerNameHash, for gnutls_ocsp_resp_check_crt's test */
	gnutls_digest_algorithm_t digest;
	uint8_t		 name_hash[PC_NAME_HASH_MAX];
	size_t		 name_hash_len;
	unsigned int	 cstatus;	/* gnutls_ocsp_cert_status_t */
	time_t		 this_update;
	time_t		 next_update;
};

/* A (certificate, status) pair that passed every signature check. */
struct pc_pair {
	bool		 live;
	uint64_t	 used;
	uint8_t		 cert_hash[PROTO_HASH_LEN];
	uint8_t		 status_hash[PROTO_HASH_LEN];
	time_t		 this_update;
	time_t		 next_update;
};

struct pc_serial {
	bool		 live;
	uint64_t	 used;
	uint8_t		 serial[PROTO_SERIAL_MAX];
	size_t		 len;
	time_t		 newest;
	time_t		 newest_next;	/* nextUpdate of that newest status */
	bool		 revoked;
};

struct peercheck {
	const struct cert_trust	*trust;
	gnutls_x509_crt_t	 as_ca;
	struct cert_anchor	*anchor;	/* as_ca verified once */
	uint64_t		 clock;		/* use counter for LRU */
	struct pc_cert		*certs;
	size_t			 ncerts;
	struct pc_pair		*pairs;
	size_t			 npairs;
	struct pc_serial	*serials;
	size_t			 nserials;
	struct pc_status	 statuses[PC_STATUSES];	/* ring */
	size_t			 nstatuses, status_next;
	bool			 no_cache;
	struct peercheck_stats	 stats;
};

static const char *const pc_errstr[] = {
	"certificate does not parse",
	"certificate unknown (only its hash was sent)",
	"certificate is not the one the DC directed",
	"certificate does not chain to the root through the AS",
	"certificate role is not ntm-node",
	"certificate expired",
	"certificate not yet valid",
	"certificate FQDN is not the peer's name",
	"certificate virtual IPs differ from the directed ones",
	"certificate serial is not the directed one",
	"status does not verify for this certificate",
	"status outside its validity",
	"status says revoked",
	"status older than one already seen",
};

const char *
peercheck_strerror(int err)
{
	if (err >= PEERCHECK_E_FIRST && err <= PEERCHECK_E_LAST)
		return pc_errstr[err - PEERCHECK_E_FIRST];
	if (err == 0)
		return "ok";
	return strerror(-err);
}

enum proto_status
peercheck_status(int err)
{
	switch (err) {
	case 0:
		return PROTO_STATUS_OK;
	case PEERCHECK_E_EXPIRED:
	case PEERCHECK_E_NOT_YET_VALID:
	case PEERCHECK_E_STATUS_EXPIRED:
		return PROTO_STATUS_EXPIRED;
	case PEERCHECK_E_REVOKED:
		return PROTO_STATUS_REVOKED;
	case PEERCHECK_E_STALE:
		return PROTO_STATUS_STALE_STATUS;
	case PEERCHECK_E_STATUS:
		return PROTO_STATUS_AUTH_FAILED;
	case PEERCHECK_E_CERT_PARSE:
	case PEERCHECK_E_CERT_UNKNOWN:
	case PEERCHECK_E_CERT_HASH:
	case PEERCHECK_E_CHAIN:
	case PEERCHECK_E_ROLE:
	case PEERCHECK_E_FQDN:
	case PEERCHECK_E_VIP:
	case PEERCHECK_E_SERIAL:
		return PROTO_STATUS_CERT_INVALID;
	default:
		return PROTO_STATUS_INTERNAL;
	}
}

/* Counts and logs a refusal; returns err. */
static int
pc_refuse(struct peercheck *pc, const char *fqdn, int err)
{
	if (err >= PEERCHECK_E_FIRST && err <= PEERCHECK_E_LAST) {
		pc->stats.refused[err - PEERCHECK_E_FIRST]++;
		log_warnx("peer %s refused: %s", fqdn != NULL ? fqdn : "?",
		    peercheck_strerror(err));
	}
	return err;
}

/* Integer contents without leading zero bytes (at least one byte). */
static void
serial_norm(const uint8_t **p, size_t *len)
{
	while (*len > 1 && (*p)[0] == 0) {
		(*p)++;
		(*len)--;
	}
}

static bool
serial_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	serial_norm(&a, &alen);
	serial_norm(&b, &blen);
	return alen == blen && memcmp(a, b, alen) == 0;
}

static void
pc_cert_clear(struct pc_cert *c)
{
	if (!c->live)
		return;
	gnutls_x509_crt_deinit(c->crt);
	if (c->pub != NULL)
		gnutls_pubkey_deinit(c->pub);
	free(c->der);
	memset(c, 0, sizeof(*c));
}

static int
pc_new(struct peercheck **out, const struct peercheck_conf *conf,
    bool no_cache)
{
	struct peercheck *pc;

	*out = NULL;
	if (conf == NULL || conf->trust == NULL || conf->as_ca == NULL)
		return -EINVAL;
	if ((pc = calloc(1, sizeof(*pc))) == NULL)
		return -ENOMEM;
	pc->trust = conf->trust;
	pc->as_ca = conf->as_ca;
	pc->no_cache = no_cache;
	pc->ncerts = conf->certs_max ? conf->certs_max :
	    PEERCHECK_CERTS_DEFAULT;
	pc->npairs = conf->pairs_max ? conf->pairs_max :
	    PEERCHECK_PAIRS_DEFAULT;
	pc->nserials = conf->serials_max ? conf->serials_max :
	    PEERCHECK_SERIALS_DEFAULT;
	if (!pc->no_cache) {
		/* Unusable (AS CA not verifying): cert_verify every time. */
		if (cert_anchor_new(pc->trust, pc->as_ca, CERT_ROLE_NODE,
		    &pc->anchor) < 0) {
			free(pc);
			return -ENOMEM;
		}
	}
	pc->certs = calloc(pc->ncerts, sizeof(*pc->certs));
	pc->pairs = calloc(pc->npairs, sizeof(*pc->pairs));
	pc->serials = calloc(pc->nserials, sizeof(*pc->serials));
	if (pc->certs == NULL || pc->pairs == NULL || pc->serials == NULL) {
		peercheck_free(pc);
		return -ENOMEM;
	}
	*out = pc;
	return 0;
}

int
peercheck_new(struct peercheck **out, const struct peercheck_conf *conf)
{
	return pc_new(out, conf, false);
}

int
peercheck_new_uncached(struct peercheck **out,
    const struct peercheck_conf *conf)
{
	return pc_new(out, conf, true);
}

void
peercheck_free(struct peercheck *pc)
{
	size_t i;

	if (pc == NULL)
		return;
	if (pc->certs != NULL)
		for (i = 0; i < pc->ncerts; i++)
			pc_cert_clear(&pc->certs[i]);
	free(pc->certs);
	free(pc->pairs);
	free(pc->serials);
	cert_anchor_free(pc->anchor);
	free(pc);
}

const struct peercheck_stats *
peercheck_stats(const struct peercheck *pc)
{
	return &pc->stats;
}

/* ---- tables ---- */

static struct pc_cert *
cert_lookup(struct peercheck *pc, const uint8_t hash[PROTO_HASH_LEN])
{
	size_t i;

	for (i = 0; i < pc->ncerts; i++)
		if (pc->certs[i].live && memcmp(pc->certs[i].hash, hash,
		    PROTO_HASH_LEN) == 0) {
			pc->certs[i].used = ++pc->clock;
			return &pc->certs[i];
		}
	return NULL;
}

/* Parses and keeps a certificate (or finds it); *out borrowed. */
static int
cert_store(struct peercheck *pc, const uint8_t *der, size_t len,
    struct pc_cert **out)
{
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)der,
	    (unsigned int)len };
	uint8_t hash[PROTO_HASH_LEN];
	struct pc_cert *c, *victim = NULL;
	size_t i;

	if (der == NULL || len == 0 || len > PROTO_CERT_MAX)
		return PEERCHECK_E_CERT_PARSE;
	crypto_sha256(hash, der, len);
	if ((c = cert_lookup(pc, hash)) != NULL) {
		*out = c;
		return 0;
	}
	for (i = 0; i < pc->ncerts; i++) {
		c = &pc->certs[i];
		if (!c->live) {
			victim = c;
			break;
		}
		if (victim == NULL || c->used < victim->used)
			victim = c;
	}
	if (victim == NULL)
		return -ENOMEM;
	pc_cert_clear(victim);
	c = victim;
	if (gnutls_x509_crt_init(&c->crt) < 0)
		return -ENOMEM;
	if (gnutls_x509_crt_import(c->crt, &d, GNUTLS_X509_FMT_DER) < 0 ||
	    cert_info(c->crt, &c->info) < 0) {
		gnutls_x509_crt_deinit(c->crt);
		c->crt = NULL;
		return PEERCHECK_E_CERT_PARSE;
	}
	if ((c->der = malloc(len)) == NULL) {
		gnutls_x509_crt_deinit(c->crt);
		c->crt = NULL;
		return -ENOMEM;
	}
	memcpy(c->der, der, len);
	c->len = len;
	memcpy(c->hash, hash, PROTO_HASH_LEN);
	c->live = true;
	c->used = ++pc->clock;
	*out = c;
	return 0;
}

static struct pc_serial *
serial_lookup(struct peercheck *pc, const uint8_t *serial, size_t len,
    bool create)
{
	struct pc_serial *s, *victim = NULL;
	size_t i;

	serial_norm(&serial, &len);
	if (len == 0 || len > PROTO_SERIAL_MAX)
		return NULL;
	for (i = 0; i < pc->nserials; i++) {
		s = &pc->serials[i];
		if (s->live && s->len == len &&
		    memcmp(s->serial, serial, len) == 0) {
			s->used = ++pc->clock;
			return s;
		}
	}
	if (!create)
		return NULL;
	/*
	 * Revoked serials are evicted last: forgetting a revocation would
	 * let an older good status through again.
	 */
	for (i = 0; i < pc->nserials; i++) {
		s = &pc->serials[i];
		if (!s->live) {
			victim = s;
			break;
		}
		if (victim == NULL || (victim->revoked && !s->revoked) ||
		    (victim->revoked == s->revoked && s->used < victim->used))
			victim = s;
	}
	if (victim == NULL)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	memcpy(victim->serial, serial, len);
	victim->len = len;
	victim->live = true;
	victim->used = ++pc->clock;
	return victim;
}

time_t
peercheck_newest(const struct peercheck *pc, const uint8_t *serial,
    size_t len, bool *revoked)
{
	size_t i;

	serial_norm(&serial, &len);
	if (revoked != NULL)
		*revoked = false;
	for (i = 0; i < pc->nserials; i++) {
		const struct pc_serial *s = &pc->serials[i];

		if (s->live && s->len == len &&
		    memcmp(s->serial, serial, len) == 0) {
			if (revoked != NULL)
				*revoked = s->revoked;
			return s->newest;
		}
	}
	return 0;
}

/* Records what a verified status said about a serial. */
static void
serial_note(struct peercheck *pc, const uint8_t *serial, size_t len,
    time_t this_update, time_t next_update, bool revoked)
{
	struct pc_serial *s;

	if ((s = serial_lookup(pc, serial, len, true)) == NULL)
		return;
	if (this_update > s->newest) {
		s->newest = this_update;
		s->newest_next = next_update;
	}
	if (revoked)
		s->revoked = true;
}

static struct pc_pair *
pair_lookup(struct peercheck *pc, const uint8_t *ch, const uint8_t *sh)
{
	size_t i;

	for (i = 0; i < pc->npairs; i++)
		if (pc->pairs[i].live &&
		    memcmp(pc->pairs[i].cert_hash, ch, PROTO_HASH_LEN) == 0 &&
		    memcmp(pc->pairs[i].status_hash, sh, PROTO_HASH_LEN) == 0) {
			pc->pairs[i].used = ++pc->clock;
			return &pc->pairs[i];
		}
	return NULL;
}

static void
pair_store(struct peercheck *pc, const uint8_t *ch, const uint8_t *sh,
    time_t this_update, time_t next_update)
{
	struct pc_pair *p, *victim = NULL;
	size_t i;

	for (i = 0; i < pc->npairs; i++) {
		p = &pc->pairs[i];
		if (!p->live) {
			victim = p;
			break;
		}
		if (victim == NULL || p->used < victim->used)
			victim = p;
	}
	if (victim == NULL)
		return;
	victim->live = true;
	victim->used = ++pc->clock;
	memcpy(victim->cert_hash, ch, PROTO_HASH_LEN);
	memcpy(victim->status_hash, sh, PROTO_HASH_LEN);
	victim->this_update = this_update;
	victim->next_update = next_update;
}

/* Whether a verified (certificate, status) pair has these status bytes. */
static bool
status_in_pair(struct peercheck *pc, const uint8_t *sh)
{
	size_t i;

	for (i = 0; i < pc->npairs; i++)
		if (pc->pairs[i].live && memcmp(pc->pairs[i].status_hash, sh,
		    PROTO_HASH_LEN) == 0)
			return true;
	return false;
}

static const struct pc_status *
status_lookup(const struct peercheck *pc, const uint8_t *sh)
{
	size_t i;

	for (i = 0; i < pc->nstatuses; i++)
		if (memcmp(pc->statuses[i].hash, sh, PROTO_HASH_LEN) == 0)
			return &pc->statuses[i];
	return NULL;
}

/*
 * Reads a status and checks its AS signature (skipped when a verified
 * pair holds the same bytes); keeps what it says in the ring.
 */
static int
status_read(struct peercheck *pc, const uint8_t *status, size_t status_len,
    const uint8_t *sh, struct pc_status *out)
{
	gnutls_datum_t sd = { (unsigned char *)(uintptr_t)status,
	    (unsigned int)status_len };
	gnutls_datum_t sn = { NULL, 0 }, nh = { NULL, 0 }, oid = { NULL, 0 };
	gnutls_ocsp_resp_t resp = NULL;
	unsigned int verify = 0, cstatus = 0, reason = 0;
	gnutls_digest_algorithm_t digest = GNUTLS_DIG_UNKNOWN;
	time_t rtime;
	int rv = PEERCHECK_E_STATUS;

	if (gnutls_ocsp_resp_init(&resp) < 0)
		return -ENOMEM;
	if (gnutls_ocsp_resp_import(resp, &sd) < 0 ||
	    gnutls_ocsp_resp_get_status(resp) != GNUTLS_OCSP_RESP_SUCCESSFUL)
		goto out;
	/* id-pkix-ocsp-basic, as ocsp_verify() asks. */
	if (gnutls_ocsp_resp_get_response(resp, &oid, NULL) < 0 ||
	    oid.data == NULL || oid.size < strlen(OCSP_OID_BASIC) ||
	    oid.size > strlen(OCSP_OID_BASIC) + 1 ||
	    strncmp((char *)oid.data, OCSP_OID_BASIC, oid.size) != 0)
		goto out;
	if ((pc->no_cache || !status_in_pair(pc, sh)) &&
	    (gnutls_ocsp_resp_verify_direct(resp, pc->as_ca, &verify, 0) < 0 ||
	    verify != 0))
		goto out;
	/* Exactly one SingleResponse (see lib/ocsp.c for the probe). */
	if (gnutls_ocsp_resp_get_single(resp, 1, NULL, NULL, NULL, NULL,
	    &cstatus, NULL, NULL, NULL, NULL) !=
	    GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		goto out;
	memset(out, 0, sizeof(*out));
	if (gnutls_ocsp_resp_get_single(resp, 0, &digest, &nh, NULL, &sn,
	    &out->cstatus, &out->this_update, &out->next_update, &rtime,
	    &reason) < 0 || sn.size > sizeof(out->serial) ||
	    nh.size > sizeof(out->name_hash))
		goto out;
	memcpy(out->hash, sh, PROTO_HASH_LEN);
	memcpy(out->serial, sn.data, sn.size);
	out->serial_len = sn.size;
	out->digest = digest;
	memcpy(out->name_hash, nh.data, nh.size);
	out->name_hash_len = nh.size;
	pc->statuses[pc->status_next] = *out;
	pc->status_next = (pc->status_next + 1) % PC_STATUSES;
	if (pc->nstatuses < PC_STATUSES)
		pc->nstatuses++;
	rv = 0;
out:
	gnutls_free(oid.data);
	gnutls_free(nh.data);
	gnutls_free(sn.data);
	gnutls_ocsp_resp_deinit(resp);
	return rv;
}

/*
 * The status (from the ring) and a certificate: the test
 * gnutls_ocsp_resp_check_crt() makes -- the same serial bytes, and the
 * CertID's issuerNameHash the hash of the certificate's issuer name.
 */
static bool
status_about(const struct pc_status *st, const struct pc_cert *c)
{
	gnutls_datum_t dn = { NULL, 0 };
	uint8_t h[PC_NAME_HASH_MAX];
	size_t hl;
	bool ok;

	if (st->serial_len == 0 || st->digest == GNUTLS_DIG_UNKNOWN)
		return false;
	hl = gnutls_hash_get_len(st->digest);
	if (hl == 0 || hl > sizeof(h) || hl != st->name_hash_len)
		return false;
	if (st->serial_len != c->info.serial_len || memcmp(st->serial,
	    c->info.serial, st->serial_len) != 0)
		return false;
	if (gnutls_x509_crt_get_raw_issuer_dn(c->crt, &dn) < 0)
		return false;
	ok = gnutls_hash_fast(st->digest, dn.data, dn.size, h) == 0 &&
	    memcmp(h, st->name_hash, hl) == 0;
	gnutls_free(dn.data);
	return ok;
}

/* The status by its bytes: from the ring, else read and verified. */
static int
status_get(struct peercheck *pc, const uint8_t *status, size_t status_len,
    const uint8_t *sh, struct pc_status *out)
{
	const struct pc_status *known;

	if (!pc->no_cache && (known = status_lookup(pc, sh)) != NULL) {
		*out = *known;
		return 0;
	}
	return status_read(pc, status, status_len, sh, out);
}

/* ---- checks ---- */

static int
dates_check(const struct cert_info *in, time_t now)
{
	if (in->not_before > now + PEERCHECK_SKEW)
		return PEERCHECK_E_NOT_YET_VALID;
	if (in->not_after < now - PEERCHECK_SKEW)
		return PEERCHECK_E_EXPIRED;
	return 0;
}

/* The certificate's addresses are exactly the directed ones. */
static int
vip_check(const struct cert_info *in, const struct peercheck_expect *ex)
{
	size_t want = (ex->vip4 != NULL) + (ex->vip6 != NULL);

	if (want == 0 || in->nip != want)
		return PEERCHECK_E_VIP;
	if (ex->vip4 != NULL && (!in->has_vip4 ||
	    memcmp(&in->vip4, ex->vip4, 4) != 0))
		return PEERCHECK_E_VIP;
	if (ex->vip6 != NULL && (!in->has_vip6 ||
	    memcmp(&in->vip6, ex->vip6, 16) != 0))
		return PEERCHECK_E_VIP;
	return 0;
}

/*
 * Checks that depend on the caller's expectation, cached or not.  The
 * name is looked for in the SAN again only when it is not the one found
 * last time in these certificate bytes.
 */
static int
expect_check(struct pc_cert *c, const struct peercheck_expect *ex)
{
	size_t n;

	if (ex->fqdn == NULL)
		return PEERCHECK_E_FQDN;
	if (c->fqdn_ok[0] == '\0' || strcmp(c->fqdn_ok, ex->fqdn) != 0) {
		if (!cert_has_dns(c->crt, ex->fqdn))
			return PEERCHECK_E_FQDN;
		if ((n = strlen(ex->fqdn)) < sizeof(c->fqdn_ok))
			memcpy(c->fqdn_ok, ex->fqdn, n + 1);
	}
	if (vip_check(&c->info, ex) < 0)
		return PEERCHECK_E_VIP;
	if (ex->serial != NULL && !serial_equal(ex->serial, ex->serial_len,
	    c->info.serial, c->info.serial_len))
		return PEERCHECK_E_SERIAL;
	return 0;
}

static int
chain_error(int rv)
{
	switch (rv) {
	case CERT_E_ROLE:
		return PEERCHECK_E_ROLE;
	case CERT_E_EXPIRED:
		return PEERCHECK_E_EXPIRED;
	case CERT_E_NOT_YET_VALID:
		return PEERCHECK_E_NOT_YET_VALID;
	case -ENOMEM:
		return -ENOMEM;
	default:
		return PEERCHECK_E_CHAIN;
	}
}

/*
 * cert_verify compares dates exactly; a failure on dates alone is tried
 * again at the edge of the tolerated skew.
 */
static int
chain_check_gnutls(struct peercheck *pc, struct pc_cert *c, time_t now)
{
	struct cert_expect ex = { CERT_ROLE_NODE, NULL, NULL, NULL };
	int rv;

	rv = cert_verify(pc->trust, c->crt, pc->as_ca, &ex, now);
	if (rv == CERT_E_EXPIRED)
		rv = cert_verify(pc->trust, c->crt, pc->as_ca, &ex,
		    now - PEERCHECK_SKEW);
	else if (rv == CERT_E_NOT_YET_VALID)
		rv = cert_verify(pc->trust, c->crt, pc->as_ca, &ex,
		    now + PEERCHECK_SKEW);
	return rv == 0 ? 0 : chain_error(rv);
}

static int
chain_dates(struct peercheck *pc, struct pc_cert *c, time_t now)
{
	return cert_anchor_dates(pc->anchor, c->info.not_before,
	    c->info.not_after, now);
}

/*
 * chain_check_gnutls's answer from the verified intermediate: the
 * clock-free part once per certificate bytes, then the dates (with the
 * same retry at the edge of the skew) and the exact role, every time.
 */
static int
chain_check(struct peercheck *pc, struct pc_cert *c, time_t now)
{
	int rv;

	if (pc->no_cache || !cert_anchor_usable(pc->anchor))
		return chain_check_gnutls(pc, c, now);
	if (c->chain == PC_CHAIN_UNKNOWN) {
		rv = cert_anchor_check(pc->anchor, c->crt, c->der, c->len);
		if (rv == -ENOMEM)
			return rv;
		if (rv == -ENOTSUP)
			c->chain = PC_CHAIN_GNUTLS;
		else {
			c->chain = PC_CHAIN_KNOWN;
			c->chain_rv = rv;
		}
	}
	if (c->chain == PC_CHAIN_GNUTLS)
		return chain_check_gnutls(pc, c, now);
	if ((rv = c->chain_rv) < 0)
		return chain_error(rv);
	rv = chain_dates(pc, c, now);
	if (rv == CERT_E_EXPIRED)
		rv = chain_dates(pc, c, now - PEERCHECK_SKEW);
	else if (rv == CERT_E_NOT_YET_VALID)
		rv = chain_dates(pc, c, now + PEERCHECK_SKEW);
	if (rv == 0 && c->info.role != CERT_ROLE_NODE)
		rv = CERT_E_ROLE;
	return rv == 0 ? 0 : chain_error(rv);
}

static int
ocsp_error(int rv)
{
	switch (rv) {
	case OCSP_E_REVOKED:
		return PEERCHECK_E_REVOKED;
	case OCSP_E_NOT_YET_VALID:
	case OCSP_E_EXPIRED:
		return PEERCHECK_E_STATUS_EXPIRED;
	case OCSP_E_STALE:
		return PEERCHECK_E_STALE;
	case -ENOMEM:
		return -ENOMEM;
	default:
		return PEERCHECK_E_STATUS;
	}
}

/*
 * A status from an AS whose clock runs ahead is taken within the skew, but
 * none is taken past its nextUpdate: a live tunnel closes there
 * (node/intunnel.c), so a staple within the skew would give a tunnel that
 * the next tick closes again, and a revocation could hide for a validity
 * and the skew instead of one validity (DESIGN.md 3).  Peers re-staple at
 * half-life, so a status at its end means the peer lost its AS.
 */
static int
status_dates(time_t this_update, time_t next_update, time_t now,
    time_t newest)
{
	if (this_update > now + PEERCHECK_SKEW || next_update <= now)
		return PEERCHECK_E_STATUS_EXPIRED;
	if (this_update < newest)
		return PEERCHECK_E_STALE;
	return 0;
}

/*
 * The oldest thisUpdate a stapled status for this serial may have.  A
 * staple older than a status already verified is only a problem if it
 * could hide what the newer one says: while the newest status seen is
 * good and still within its validity, it stands for the serial, and an
 * older (but itself valid) staple adds nothing and takes nothing away.
 * This is the common case of a peer stapling its own status from
 * enrollment while its DC already handed out the AS's refreshed one.
 */
static time_t
status_floor(const struct peercheck *pc, const uint8_t *serial, size_t len,
    time_t now)
{
	size_t i;

	serial_norm(&serial, &len);
	for (i = 0; i < pc->nserials; i++) {
		const struct pc_serial *s = &pc->serials[i];

		if (s->live && s->len == len &&
		    memcmp(s->serial, serial, len) == 0) {
			if (!s->revoked && s->newest_next > now &&
			    s->newest <= now + PEERCHECK_SKEW)
				return 0;
			return s->newest;
		}
	}
	return 0;
}

/*
 * ocsp_verify()'s checks of a staple in its order, with the signature
 * work done once per status bytes (status_get): often the Route Direction
 * brought the same response and peercheck_status_check() read it.
 */
static int
status_staple(struct peercheck *pc, struct pc_cert *c, const uint8_t *status,
    size_t status_len, const uint8_t *sh, time_t now, time_t newest,
    struct ocsp_result *res)
{
	struct pc_status st;
	int rv;

	memset(res, 0, sizeof(*res));
	if ((rv = status_get(pc, status, status_len, sh, &st)) < 0)
		return rv;
	if (!status_about(&st, c))
		return PEERCHECK_E_STATUS;
	res->this_update = st.this_update;
	res->next_update = st.next_update;
	if (st.cstatus == GNUTLS_OCSP_CERT_REVOKED) {
		serial_note(pc, c->info.serial, c->info.serial_len,
		    st.this_update, st.next_update, true);
		return PEERCHECK_E_REVOKED;
	}
	if (st.cstatus != GNUTLS_OCSP_CERT_GOOD ||
	    st.next_update == (time_t)-1)
		return PEERCHECK_E_STATUS;
	return status_dates(st.this_update, st.next_update, now, newest);
}

/* peercheck_verify's checks; *out is the certificate's entry. */
static int
pc_verify(struct peercheck *pc, const uint8_t *cert, size_t cert_len,
    const uint8_t *status, size_t status_len,
    const struct peercheck_expect *ex, time_t now, struct pc_cert **out)
{
	gnutls_datum_t sd = { (unsigned char *)(uintptr_t)status,
	    (unsigned int)status_len };
	uint8_t sh[PROTO_HASH_LEN];
	struct ocsp_result res;
	struct pc_cert *c;
	struct pc_pair *pair;
	bool revoked;
	time_t newest;
	int rv;

	if ((rv = cert_store(pc, cert, cert_len, &c)) < 0)
		return pc_refuse(pc, ex->fqdn, rv);
	if (ex->cert_hash != NULL && !crypto_ct_equal(ex->cert_hash, c->hash,
	    PROTO_HASH_LEN))
		return pc_refuse(pc, ex->fqdn, PEERCHECK_E_CERT_HASH);
	if (status == NULL || status_len == 0)
		return pc_refuse(pc, ex->fqdn, PEERCHECK_E_STATUS);
	crypto_sha256(sh, status, status_len);
	(void)peercheck_newest(pc, c->info.serial, c->info.serial_len,
	    &revoked);
	newest = status_floor(pc, c->info.serial, c->info.serial_len, now);
	if (!pc->no_cache &&
	    (pair = pair_lookup(pc, c->hash, sh)) != NULL) {
		/*
		 * Signatures known good; the clock and the names are not.
		 * chain_check is the dates of leaf, AS and root and the
		 * exact role here (its signature part is remembered too).
		 */
		if ((rv = chain_check(pc, c, now)) < 0 ||
		    (rv = dates_check(&c->info, now)) < 0 ||
		    (rv = expect_check(c, ex)) < 0)
			return pc_refuse(pc, ex->fqdn, rv);
		if (revoked)
			return pc_refuse(pc, ex->fqdn, PEERCHECK_E_REVOKED);
		if ((rv = status_dates(pair->this_update, pair->next_update,
		    now, newest)) < 0)
			return pc_refuse(pc, ex->fqdn, rv);
		pc->stats.cache_hits++;
		goto good;
	}
	if ((rv = chain_check(pc, c, now)) < 0 ||
	    (rv = dates_check(&c->info, now)) < 0 ||
	    (rv = expect_check(c, ex)) < 0)
		return pc_refuse(pc, ex->fqdn, rv);
	if (revoked)
		return pc_refuse(pc, ex->fqdn, PEERCHECK_E_REVOKED);
	if (pc->no_cache) {
		rv = ocsp_verify(&sd, pc->as_ca, c->crt, now, newest, &res);
		if (rv == OCSP_E_REVOKED)
			serial_note(pc, c->info.serial, c->info.serial_len,
			    res.this_update, res.next_update, true);
		if (rv < 0)
			return pc_refuse(pc, ex->fqdn, ocsp_error(rv));
	} else if ((rv = status_staple(pc, c, status, status_len, sh, now,
	    newest, &res)) < 0)
		return rv == -ENOMEM ? rv : pc_refuse(pc, ex->fqdn, rv);
	serial_note(pc, c->info.serial, c->info.serial_len, res.this_update,
	    res.next_update, false);
	pair_store(pc, c->hash, sh, res.this_update, res.next_update);
good:
	pc->stats.verified++;
	*out = c;
	return 0;
}

/* A new gnutls_pubkey_t of c's key in *pub. */
static int
pc_pubkey(struct peercheck *pc, struct pc_cert *c, const char *fqdn,
    gnutls_pubkey_t *pub)
{
	if (gnutls_pubkey_init(pub) < 0) {
		*pub = NULL;
		return -ENOMEM;
	}
	if (gnutls_pubkey_import_x509(*pub, c->crt, 0) < 0) {
		gnutls_pubkey_deinit(*pub);
		*pub = NULL;
		return pc_refuse(pc, fqdn, PEERCHECK_E_CERT_PARSE);
	}
	return 0;
}

int
peercheck_verify(struct peercheck *pc, const uint8_t *cert, size_t cert_len,
    const uint8_t *status, size_t status_len,
    const struct peercheck_expect *ex, time_t now, gnutls_pubkey_t *pub)
{
	struct pc_cert *c;
	int rv;

	if (pub != NULL)
		*pub = NULL;
	if ((rv = pc_verify(pc, cert, cert_len, status, status_len, ex, now,
	    &c)) < 0)
		return rv;
	return pub != NULL ? pc_pubkey(pc, c, ex->fqdn, pub) : 0;
}

int
peercheck_verify_borrow(struct peercheck *pc, const uint8_t *cert,
    size_t cert_len, const uint8_t *status, size_t status_len,
    const struct peercheck_expect *ex, time_t now, gnutls_pubkey_t *pub)
{
	struct pc_cert *c;
	int rv;

	*pub = NULL;
	if ((rv = pc_verify(pc, cert, cert_len, status, status_len, ex, now,
	    &c)) < 0)
		return rv;
	if (c->pub == NULL && (rv = pc_pubkey(pc, c, ex->fqdn, &c->pub)) < 0)
		return rv;
	*pub = c->pub;
	return 0;
}

int
peercheck_status_check(struct peercheck *pc, const char *fqdn,
    const uint8_t *serial, size_t serial_len, const uint8_t *status,
    size_t status_len, time_t now)
{
	struct pc_status st;
	uint8_t sh[PROTO_HASH_LEN];
	time_t newest;
	bool revoked;
	int rv;

	if (serial == NULL || serial_len == 0 || status == NULL ||
	    status_len == 0)
		return pc_refuse(pc, fqdn, PEERCHECK_E_STATUS);
	newest = peercheck_newest(pc, serial, serial_len, &revoked);
	if (revoked)
		return pc_refuse(pc, fqdn, PEERCHECK_E_REVOKED);
	/* Parsed and signature-checked once per status bytes. */
	crypto_sha256(sh, status, status_len);
	if ((rv = status_get(pc, status, status_len, sh, &st)) < 0)
		return rv == -ENOMEM ? rv : pc_refuse(pc, fqdn, rv);
	if (!serial_equal(st.serial, st.serial_len, serial, serial_len))
		return pc_refuse(pc, fqdn, PEERCHECK_E_STATUS);
	if (st.cstatus == GNUTLS_OCSP_CERT_REVOKED) {
		serial_note(pc, serial, serial_len, st.this_update,
		    st.next_update, true);
		return pc_refuse(pc, fqdn, PEERCHECK_E_REVOKED);
	}
	if (st.cstatus != GNUTLS_OCSP_CERT_GOOD ||
	    st.next_update == (time_t)-1)
		return pc_refuse(pc, fqdn, PEERCHECK_E_STATUS);
	if ((rv = status_dates(st.this_update, st.next_update, now,
	    newest)) < 0)
		return pc_refuse(pc, fqdn, rv);
	serial_note(pc, serial, serial_len, st.this_update, st.next_update,
	    false);
	return 0;
}

int
peercheck_status_times(struct peercheck *pc, const uint8_t *status,
    size_t status_len, time_t *this_update, time_t *next_update)
{
	const struct pc_status *known;
	uint8_t sh[PROTO_HASH_LEN];
	time_t tu = (time_t)-1, nu = (time_t)-1;
	size_t i;

	if (status == NULL || status_len == 0)
		return -ENOENT;
	crypto_sha256(sh, status, status_len);
	if ((known = status_lookup(pc, sh)) != NULL) {
		tu = known->this_update;
		nu = known->next_update;
	} else
		for (i = 0; i < pc->npairs; i++)
			if (pc->pairs[i].live && memcmp(pc->pairs[i].status_hash,
			    sh, PROTO_HASH_LEN) == 0) {
				tu = pc->pairs[i].this_update;
				nu = pc->pairs[i].next_update;
				break;
			}
	/* Only dates a status may carry (as enroll_status_times reads). */
	if (tu == (time_t)-1 || nu == (time_t)-1 || nu <= tu)
		return -ENOENT;
	*this_update = tu;
	*next_update = nu;
	return 0;
}

int
peercheck_cert_find(struct peercheck *pc, const uint8_t hash[PROTO_HASH_LEN],
    const uint8_t **der, size_t *len)
{
	struct pc_cert *c;

	if ((c = cert_lookup(pc, hash)) == NULL)
		return -ENOENT;
	*der = c->der;
	*len = c->len;
	return 0;
}

int
peercheck_cert_add(struct peercheck *pc, const uint8_t *der, size_t len)
{
	struct pc_cert *c;

	return cert_store(pc, der, len, &c);
}

int
peercheck_cert_pubkey(struct peercheck *pc,
    const uint8_t hash[PROTO_HASH_LEN], gnutls_pubkey_t *pub)
{
	struct pc_cert *c;

	*pub = NULL;
	if ((c = cert_lookup(pc, hash)) == NULL)
		return -ENOENT;
	if (gnutls_pubkey_init(pub) < 0)
		return -ENOMEM;
	if (gnutls_pubkey_import_x509(*pub, c->crt, 0) < 0) {
		gnutls_pubkey_deinit(*pub);
		*pub = NULL;
		return PEERCHECK_E_CERT_PARSE;
	}
	return 0;
}
