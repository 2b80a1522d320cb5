/* cert.c -- X.509 keys, PEM files, issuance, CSR checks and chain checks. */
#include "config.h"

#include <sys/stat.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/x509-ext.h>
#include <nettle/ecc-curve.h>
#include <nettle/ecdsa.h>

#include "buf.h"
#include "cert.h"
#include "crypto.h"
#include "log.h"
#include "rand.h"

enum {
	CERT_FILE_MAX = 1 << 20,	/* PEM files we read */
	CERT_KEYID_MAX = 64,
};

static const char *const cert_role_names[] = {
	[CERT_ROLE_NODE] = "ntm-node",
	[CERT_ROLE_DC] = "ntm-dc",
	[CERT_ROLE_RS] = "ntm-rs",
	[CERT_ROLE_AS] = "ntm-as",
};

static const char *const cert_role_oids[] = {
	[CERT_ROLE_NODE] = NTM_OID_ROLE_NODE,
	[CERT_ROLE_DC] = NTM_OID_ROLE_DC,
	[CERT_ROLE_RS] = NTM_OID_ROLE_RS,
	[CERT_ROLE_AS] = NTM_OID_ROLE_AS,
};

static const char *const cert_errors[] = {
	[CERT_E_KEY_PERMS - CERT_E_FIRST] =
	    "key file is accessible by group or others (chmod 600)",
	[CERT_E_KEY_TYPE - CERT_E_FIRST] =
	    "key is neither ECDSA P-256 nor RSA-2048",
	[CERT_E_PARSE - CERT_E_FIRST] = "cannot parse PEM/DER data",
	[CERT_E_GNUTLS - CERT_E_FIRST] = "GnuTLS operation failed",
	[CERT_E_REQUEST - CERT_E_FIRST] = "invalid certificate request fields",
	[CERT_E_CHAIN - CERT_E_FIRST] =
	    "certificate does not chain to a trusted root",
	[CERT_E_SIGNATURE - CERT_E_FIRST] =
	    "certificate chain signature is invalid",
	[CERT_E_CONSTRAINTS - CERT_E_FIRST] =
	    "certificate violates basic or name constraints",
	[CERT_E_EXPIRED - CERT_E_FIRST] = "certificate has expired",
	[CERT_E_NOT_YET_VALID - CERT_E_FIRST] =
	    "certificate is not yet valid",
	[CERT_E_ROLE - CERT_E_FIRST] =
	    "certificate does not carry exactly the expected ntmobile role",
	[CERT_E_FQDN - CERT_E_FIRST] = "certificate is not for this FQDN",
	[CERT_E_VIP - CERT_E_FIRST] =
	    "certificate is not for this virtual IP address",
	[CERT_E_CSR_SIGNATURE - CERT_E_FIRST] =
	    "certificate request signature is invalid",
	[CERT_E_CSR_EXTENSION - CERT_E_FIRST] =
	    "certificate request asks for a forbidden extension",
	[CERT_E_CSR_NAME - CERT_E_FIRST] =
	    "certificate request names something it may not ask for",
};

const char *
cert_strerror(int err)
{
	if (err >= CERT_E_FIRST && err <= CERT_E_LAST)
		return cert_errors[err - CERT_E_FIRST];
	if (err < 0)
		return strerror(-err);
	return "success";
}

const char *
cert_role_name(enum cert_role role)
{
	if (role <= CERT_ROLE_INVALID || role > CERT_ROLE_AS)
		return "none";
	return cert_role_names[role];
}

const char *
cert_role_oid(enum cert_role role)
{
	if (role <= CERT_ROLE_INVALID || role > CERT_ROLE_AS)
		return NULL;
	return cert_role_oids[role];
}

enum cert_role
cert_role_parse(const char *s)
{
	enum cert_role r;

	if (strncmp(s, "ntm-", 4) == 0)
		s += 4;
	for (r = CERT_ROLE_NODE; r <= CERT_ROLE_AS; r++)
		if (strcmp(s, cert_role_names[r] + 4) == 0)
			return r;
	return CERT_ROLE_INVALID;
}

/* ---- names and prefixes ---- */

bool
cert_name_valid(const char *name)
{
	size_t len = strlen(name), lab = 0, i;

	if (len == 0 || len > CERT_FQDN_MAX)
		return false;
	for (i = 0; i <= len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '.' || c == '\0') {
			if (lab == 0 || lab > 63 || name[i - 1] == '-')
				return false;
			lab = 0;
			continue;
		}
		if (!isalnum(c) && c != '-')
			return false;
		if (lab == 0 && c == '-')
			return false;
		lab++;
	}
	return true;
}

/* Copies name lower-cased without one trailing dot; false if too long. */
static bool
cert_name_norm(const char *name, char *out, size_t outlen)
{
	size_t len = strlen(name), i;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len >= outlen)
		return false;
	for (i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)name[i]);
	out[len] = '\0';
	return true;
}

int
cert_prefix_parse(const char *cidr, struct cert_prefix *p)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash;
	char *end;
	unsigned long plen;
	size_t alen, i, max;

	memset(p, 0, sizeof(*p));
	if ((slash = strchr(cidr, '/')) == NULL ||
	    (alen = (size_t)(slash - cidr)) >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, cidr, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, p->addr) == 1) {
		p->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, p->addr) == 1) {
		p->family = AF_INET6;
		max = 128;
	} else
		return -EINVAL;
	errno = 0;
	plen = strtoul(slash + 1, &end, 10);
	if (slash[1] == '\0' || *end != '\0' || errno != 0 || plen > max)
		return -EINVAL;
	p->plen = (unsigned int)plen;
	/* Host bits must be zero: a typo is more likely than intent. */
	for (i = 0; i < max / 8; i++) {
		unsigned int keep = plen >= (i + 1) * 8 ? 8 :
		    plen > i * 8 ? (unsigned int)(plen - i * 8) : 0;
		uint8_t mask = (uint8_t)(0xff00u >> keep);

		if ((p->addr[i] & (uint8_t)~mask) != 0)
			return -EINVAL;
	}
	return 0;
}

int
cert_reverse_zones(const struct cert_prefix *p, char names[][CERT_REVZONE_MAX],
    size_t max)
{
	static const char hex[] = "0123456789abcdef";
	unsigned int unit = p->family == AF_INET ? 8 : 4;
	unsigned int r = (p->plen + unit - 1) / unit * unit;
	size_t count = (size_t)1 << (r - p->plen), i;

	if (count > max)
		return -E2BIG;
	for (i = 0; i < count; i++) {
		uint8_t a[16];
		unsigned int bit, k;
		size_t off = 0;

		memcpy(a, p->addr, sizeof(a));
		/* Spread i over the bits between plen and the boundary. */
		for (k = 0; k < r - p->plen; k++) {
			bit = r - 1 - k;
			if (i & ((size_t)1 << k))
				a[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
		}
		for (k = r / unit; k > 0; k--) {
			if (p->family == AF_INET)
				off += (size_t)snprintf(names[i] + off,
				    CERT_REVZONE_MAX - off, "%u.", a[k - 1]);
			else {
				unsigned int n = k - 1;
				uint8_t v = n % 2 ? a[n / 2] & 0x0f :
				    a[n / 2] >> 4;

				names[i][off++] = hex[v];
				names[i][off++] = '.';
			}
		}
		snprintf(names[i] + off, CERT_REVZONE_MAX - off, "%s",
		    p->family == AF_INET ? "in-addr.arpa" : "ip6.arpa");
	}
	return (int)count;
}

/* ---- files ---- */

static int
cert_fd_read(int fd, gnutls_datum_t *out)
{
	struct stat st;
	uint8_t *p;
	size_t len = 0;
	ssize_t n;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_size > CERT_FILE_MAX)
		return -EFBIG;
	if ((p = gnutls_malloc((size_t)st.st_size + 1)) == NULL)
		return -ENOMEM;
	while (len < (size_t)st.st_size) {
		n = read(fd, p + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			gnutls_memset(p, 0, len);
			gnutls_free(p);
			return n < 0 ? -errno : -EIO;
		}
		len += (size_t)n;
	}
	p[len] = '\0';
	out->data = p;
	out->size = (unsigned int)len;
	return 0;
}

static int
cert_fd_write(int fd, const gnutls_datum_t *d)
{
	size_t off = 0;
	ssize_t n;

	while (off < d->size) {
		n = write(fd, d->data + off, d->size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		off += (size_t)n;
	}
	return 0;
}

static int
cert_file_write(const char *path, const gnutls_datum_t *d, int flags,
    mode_t mode)
{
	int fd, rv;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
	    flags, mode)) < 0)
		return -errno;
	rv = fchmod(fd, mode) < 0 ? -errno : 0;
	if (rv == 0)
		rv = cert_fd_write(fd, d);
	if (rv == 0 && fsync(fd) < 0)
		rv = -errno;
	if (close(fd) < 0 && rv == 0)
		rv = -errno;
	if (rv < 0)
		unlink(path);
	return rv;
}

int
cert_key_generate(enum cert_keytype type, gnutls_privkey_t *out)
{
	gnutls_privkey_t key;
	int rv;

	*out = NULL;
	if (gnutls_privkey_init(&key) < 0)
		return -ENOMEM;
	switch (type) {
	case CERT_KEY_P256:
		rv = gnutls_privkey_generate2(key, GNUTLS_PK_ECDSA,
		    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0,
		    NULL, 0);
		break;
	case CERT_KEY_RSA2048:
		rv = gnutls_privkey_generate2(key, GNUTLS_PK_RSA, 2048, 0,
		    NULL, 0);
		break;
	default:
		gnutls_privkey_deinit(key);
		return CERT_E_KEY_TYPE;
	}
	if (rv < 0) {
		log_debug("key generation: %s", gnutls_strerror(rv));
		gnutls_privkey_deinit(key);
		return CERT_E_GNUTLS;
	}
	*out = key;
	return 0;
}

enum cert_keytype
cert_key_type(gnutls_pubkey_t pub)
{
	gnutls_ecc_curve_t curve;
	unsigned int bits = 0;

	switch (gnutls_pubkey_get_pk_algorithm(pub, &bits)) {
	case GNUTLS_PK_ECDSA:
		if (gnutls_pubkey_export_ecc_raw2(pub, &curve, NULL, NULL,
		    0) == 0 && curve == GNUTLS_ECC_CURVE_SECP256R1)
			return CERT_KEY_P256;
		return CERT_KEY_INVALID;
	case GNUTLS_PK_RSA:
		return bits == 2048 ? CERT_KEY_RSA2048 : CERT_KEY_INVALID;
	default:
		return CERT_KEY_INVALID;
	}
}

int
cert_key_write(const char *path, gnutls_privkey_t key)
{
	gnutls_x509_privkey_t xk = NULL;
	gnutls_datum_t pem = { NULL, 0 };
	int rv;

	if (gnutls_privkey_export_x509(key, &xk) < 0 ||
	    gnutls_x509_privkey_export2_pkcs8(xk, GNUTLS_X509_FMT_PEM, NULL,
	    GNUTLS_PKCS_PLAIN, &pem) < 0) {
		rv = CERT_E_GNUTLS;
		goto out;
	}
	rv = cert_file_write(path, &pem, O_EXCL, 0600);
out:
	if (pem.data != NULL) {
		gnutls_memset(pem.data, 0, pem.size);
		gnutls_free(pem.data);
	}
	gnutls_x509_privkey_deinit(xk);
	return rv;
}

int
cert_key_read(const char *path, gnutls_privkey_t *out)
{
	gnutls_datum_t d = { NULL, 0 };
	gnutls_privkey_t key = NULL;
	struct stat st;
	int fd, rv;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rv = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rv = -EINVAL;
		goto out;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		rv = CERT_E_KEY_PERMS;
		goto out;
	}
	if ((rv = cert_fd_read(fd, &d)) < 0)
		goto out;
	if (gnutls_privkey_init(&key) < 0) {
		rv = -ENOMEM;
		goto out;
	}
	if (gnutls_privkey_import_x509_raw(key, &d, GNUTLS_X509_FMT_PEM,
	    NULL, 0) < 0 && gnutls_privkey_import_x509_raw(key, &d,
	    GNUTLS_X509_FMT_DER, NULL, 0) < 0) {
		rv = CERT_E_PARSE;
		goto out;
	}
	*out = key;
	key = NULL;
out:
	gnutls_privkey_deinit(key);
	if (d.data != NULL) {
		gnutls_memset(d.data, 0, d.size);
		gnutls_free(d.data);
	}
	close(fd);
	return rv;
}

int
cert_crt_write(const char *path, gnutls_x509_crt_t crt)
{
	gnutls_datum_t pem = { NULL, 0 };
	int rv;

	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem) < 0)
		return CERT_E_GNUTLS;
	rv = cert_file_write(path, &pem, O_TRUNC, 0644);
	gnutls_free(pem.data);
	return rv;
}

int
cert_crt_read(const char *path, gnutls_x509_crt_t *out)
{
	gnutls_datum_t d = { NULL, 0 };
	gnutls_x509_crt_t crt = NULL;
	int fd, rv;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	rv = cert_fd_read(fd, &d);
	close(fd);
	if (rv < 0)
		return rv;
	if (gnutls_x509_crt_init(&crt) < 0) {
		rv = -ENOMEM;
		goto out;
	}
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) < 0 &&
	    gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(crt);
		rv = CERT_E_PARSE;
		goto out;
	}
	*out = crt;
out:
	gnutls_free(d.data);
	return rv;
}

int
cert_pubkey_of(gnutls_privkey_t key, gnutls_pubkey_t *out)
{
	gnutls_pubkey_t pub;

	*out = NULL;
	if (gnutls_pubkey_init(&pub) < 0)
		return -ENOMEM;
	if (gnutls_pubkey_import_privkey(pub, key, 0, 0) < 0) {
		gnutls_pubkey_deinit(pub);
		return CERT_E_GNUTLS;
	}
	*out = pub;
	return 0;
}

/*
 * Reads a DER header at the cursor: tag, then a definite length (short or
 * long form, at most 4 length bytes); *len is checked against what is left.
 */
static int
cert_der_header(struct rbuf *c, uint8_t *tag, size_t *len)
{
	uint8_t b, n;
	size_t l = 0;

	if (rbuf_get_u8(c, tag) < 0 || rbuf_get_u8(c, &b) < 0)
		return -EINVAL;
	if (b < 0x80)
		l = b;
	else {
		n = b & 0x7f;
		if (n == 0 || n > 4)
			return -EINVAL;
		while (n-- > 0) {
			if (rbuf_get_u8(c, &b) < 0)
				return -EINVAL;
			l = l << 8 | b;
		}
	}
	if (l > rbuf_left(c))
		return -EINVAL;
	*len = l;
	return 0;
}

int
cert_pubkey_hash(gnutls_pubkey_t pub, uint8_t out[CERT_KEYHASH_LEN])
{
	gnutls_datum_t spki = { NULL, 0 };
	struct rbuf c, seq;
	const uint8_t *bits;
	uint8_t tag;
	size_t len;
	int rv = CERT_E_PARSE;

	if (gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &spki) < 0)
		return CERT_E_GNUTLS;
	/* SEQUENCE { AlgorithmIdentifier, BIT STRING subjectPublicKey } */
	rbuf_init(&c, spki.data, spki.size);
	if (cert_der_header(&c, &tag, &len) < 0 || tag != 0x30 ||
	    rbuf_sub(&c, &seq, len) < 0 ||
	    cert_der_header(&seq, &tag, &len) < 0 || tag != 0x30 ||
	    rbuf_skip(&seq, len) < 0 ||
	    cert_der_header(&seq, &tag, &len) < 0 || tag != 0x03 ||
	    len < 1 || rbuf_skip(&seq, 1) < 0 ||	/* unused bits: 0 */
	    rbuf_get_ptr(&seq, &bits, len - 1) < 0)
		goto out;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA1, bits, len - 1, out) < 0) {
		rv = CERT_E_GNUTLS;
		goto out;
	}
	rv = 0;
out:
	gnutls_free(spki.data);
	return rv;
}

/* ---- issuance ---- */

static int	cert_dup(gnutls_x509_crt_t, gnutls_x509_crt_t *);

static int
cert_serial(struct ntm_rng *rng, uint8_t serial[CERT_SERIAL_LEN])
{
	int rv;

	/*
	 * Positive and exactly 16 bytes in DER: top bit clear, and a zero
	 * first byte (which DER would drop) is drawn again.
	 */
	do {
		if ((rv = rng_bytes(rng, serial, CERT_SERIAL_LEN)) < 0)
			return rv;
		serial[0] &= 0x7f;
	} while (serial[0] == 0);
	return 0;
}

/*
 * Fields every certificate of ours has: v3, serial, dates, subject CN,
 * public key, subject and authority key identifiers (SHA-1 of the key bits).
 */
static int
cert_body(gnutls_x509_crt_t crt, const char *cn, gnutls_pubkey_t pub,
    gnutls_x509_crt_t issuer, struct ntm_rng *rng, time_t now,
    uint32_t lifetime)
{
	uint8_t serial[CERT_SERIAL_LEN], id[CERT_KEYID_MAX];
	size_t idlen = CERT_KEYHASH_LEN;
	int rv;

	if ((rv = cert_serial(rng, serial)) < 0)
		return rv;
	if (gnutls_x509_crt_set_version(crt, 3) < 0 ||
	    gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)) < 0 ||
	    gnutls_x509_crt_set_activation_time(crt, now - CERT_BACKDATE) < 0 ||
	    gnutls_x509_crt_set_expiration_time(crt,
	    now + (time_t)lifetime) < 0 ||
	    gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
	    cn, (unsigned int)strlen(cn)) < 0 ||
	    gnutls_x509_crt_set_pubkey(crt, pub) < 0)
		return CERT_E_GNUTLS;
	/* RFC 5280 4.2.1.2 method 1; also the OCSP responder's byKey hash. */
	if ((rv = cert_pubkey_hash(pub, id)) < 0)
		return rv;
	if (gnutls_x509_crt_set_subject_key_id(crt, id, idlen) < 0)
		return CERT_E_GNUTLS;
	if (issuer != NULL) {
		idlen = sizeof(id);
		if (gnutls_x509_crt_get_subject_key_id(issuer, id, &idlen,
		    NULL) < 0)
			return CERT_E_REQUEST;	/* issuer without SKI */
	}
	if (gnutls_x509_crt_set_authority_key_id(crt, id, idlen) < 0)
		return CERT_E_GNUTLS;
	return 0;
}

/*
 * Signs crt.  The caller then hands out a re-imported copy (cert_dup): a
 * GnuTLS certificate modified in memory keeps stale cached data that some
 * getters and the verifier read.
 */
static int
cert_sign(gnutls_x509_crt_t crt, gnutls_x509_crt_t issuer,
    gnutls_privkey_t key)
{
	int rv;

	if ((rv = gnutls_x509_crt_privkey_sign(crt, issuer, key,
	    GNUTLS_DIG_SHA256, 0)) < 0) {
		log_debug("certificate signing: %s", gnutls_strerror(rv));
		return CERT_E_GNUTLS;
	}
	return 0;
}

int
cert_make_root(gnutls_privkey_t key, const char *domain, uint32_t lifetime,
    struct ntm_rng *rng, time_t now, gnutls_x509_crt_t *out)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t pub = NULL;
	char cn[CERT_FQDN_MAX + 64];
	int rv;

	*out = NULL;
	if (!cert_name_valid(domain))
		return CERT_E_REQUEST;
	snprintf(cn, sizeof(cn), "ntmobile root CA %s", domain);
	if ((rv = cert_pubkey_of(key, &pub)) < 0)
		return rv;
	if (gnutls_x509_crt_init(&crt) < 0) {
		rv = -ENOMEM;
		goto out;
	}
	if ((rv = cert_body(crt, cn, pub, NULL, rng, now,
	    lifetime ? lifetime : CERT_ROOT_LIFETIME)) < 0)
		goto out;
	if (gnutls_x509_crt_set_basic_constraints(crt, 1, 1) < 0 ||
	    gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN |
	    GNUTLS_KEY_CRL_SIGN) < 0) {
		rv = CERT_E_GNUTLS;
		goto out;
	}
	if ((rv = cert_sign(crt, crt, key)) < 0)
		goto out;
	rv = cert_dup(crt, out);
out:
	gnutls_x509_crt_deinit(crt);
	gnutls_pubkey_deinit(pub);
	return rv;
}

static int
cert_nc_add_prefix(gnutls_x509_name_constraints_t nc,
    const struct cert_prefix *p, bool with_reverse)
{
	char zones[16][CERT_REVZONE_MAX];
	uint8_t raw[32];
	size_t alen = p->family == AF_INET ? 4 : 16, i;
	gnutls_datum_t d;
	int n;

	if (p->family != AF_INET && p->family != AF_INET6)
		return CERT_E_REQUEST;
	/* RFC 5280 4.2.1.10: address then mask. */
	memset(raw, 0, sizeof(raw));
	memcpy(raw, p->addr, alen);
	for (i = 0; i < p->plen; i++)
		raw[alen + i / 8] |= (uint8_t)(0x80 >> (i % 8));
	d.data = raw;
	d.size = (unsigned int)(2 * alen);
	if (gnutls_x509_name_constraints_add_permitted(nc,
	    GNUTLS_SAN_IPADDRESS, &d) < 0)
		return CERT_E_GNUTLS;
	if (!with_reverse)
		return 0;
	if ((n = cert_reverse_zones(p, zones, 16)) < 0)
		return CERT_E_REQUEST;
	for (i = 0; i < (size_t)n; i++) {
		d.data = (unsigned char *)zones[i];
		d.size = (unsigned int)strlen(zones[i]);
		if (gnutls_x509_name_constraints_add_permitted(nc,
		    GNUTLS_SAN_DNSNAME, &d) < 0)
			return CERT_E_GNUTLS;
	}
	return 0;
}

int
cert_make_as_ca(const struct cert_ca_request *req,
    const struct cert_issuer *root, struct ntm_rng *rng, time_t now,
    gnutls_x509_crt_t *out)
{
	gnutls_x509_name_constraints_t nc = NULL;
	gnutls_x509_crt_t crt = NULL;
	char domain[CERT_FQDN_MAX + 1], cn[CERT_FQDN_MAX + 64];
	gnutls_datum_t d;
	size_t i;
	int rv;

	*out = NULL;
	if (!cert_name_norm(req->domain, domain, sizeof(domain)) ||
	    !cert_name_valid(domain) || req->vrange4.family != AF_INET ||
	    req->vrange6.family != AF_INET6 ||
	    cert_key_type(req->pubkey) != CERT_KEY_P256)
		return CERT_E_REQUEST;
	snprintf(cn, sizeof(cn), "ntmobile AS CA %s", domain);
	if (gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_x509_name_constraints_init(&nc) < 0) {
		rv = -ENOMEM;
		goto out;
	}
	if ((rv = cert_body(crt, cn, req->pubkey, root->crt, rng, now,
	    req->lifetime ? req->lifetime : CERT_AS_LIFETIME)) < 0)
		goto out;
	if (gnutls_x509_crt_set_basic_constraints(crt, 1, 0) < 0 ||
	    gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN |
	    GNUTLS_KEY_CRL_SIGN | GNUTLS_KEY_DIGITAL_SIGNATURE) < 0) {
		rv = CERT_E_GNUTLS;
		goto out;
	}
	d.data = (unsigned char *)domain;
	d.size = (unsigned int)strlen(domain);
	if (gnutls_x509_name_constraints_add_permitted(nc, GNUTLS_SAN_DNSNAME,
	    &d) < 0) {
		rv = CERT_E_GNUTLS;
		goto out;
	}
	if ((rv = cert_nc_add_prefix(nc, &req->vrange4, true)) < 0 ||
	    (rv = cert_nc_add_prefix(nc, &req->vrange6, true)) < 0)
		goto out;
	for (i = 0; i < req->nextra; i++)
		if ((rv = cert_nc_add_prefix(nc, &req->extra[i], false)) < 0)
			goto out;
	if (gnutls_x509_crt_set_name_constraints(crt, nc, 1) < 0) {
		rv = CERT_E_GNUTLS;
		goto out;
	}
	if ((rv = cert_sign(crt, root->crt, root->key)) < 0)
		goto out;
	rv = cert_dup(crt, out);
out:
	gnutls_x509_name_constraints_deinit(nc);
	gnutls_x509_crt_deinit(crt);
	return rv;
}

int
cert_ca_make(const struct cert_ca_request *req, gnutls_privkey_t as_key,
    struct ntm_rng *rng, time_t now, struct cert_ca *out)
{
	struct cert_ca_request car = *req;
	struct cert_issuer root;
	gnutls_pubkey_t pub = NULL;
	int rv;

	memset(out, 0, sizeof(*out));
	out->as_key = as_key;
	if ((rv = cert_key_generate(CERT_KEY_P256, &out->root_key)) < 0 ||
	    (out->as_key == NULL &&
	    (rv = cert_key_generate(CERT_KEY_P256, &out->as_key)) < 0) ||
	    (rv = cert_pubkey_of(out->as_key, &pub)) < 0 ||
	    (rv = cert_make_root(out->root_key, req->domain, 0, rng, now,
	    &out->root)) < 0)
		goto out;
	car.pubkey = pub;
	root.crt = out->root;
	root.key = out->root_key;
	rv = cert_make_as_ca(&car, &root, rng, now, &out->as);
out:
	gnutls_pubkey_deinit(pub);
	if (rv < 0)
		cert_ca_clear(out);
	return rv;
}

void
cert_ca_clear(struct cert_ca *ca)
{
	if (ca == NULL)
		return;
	gnutls_x509_crt_deinit(ca->as);
	gnutls_privkey_deinit(ca->as_key);
	gnutls_x509_crt_deinit(ca->root);
	gnutls_privkey_deinit(ca->root_key);
	memset(ca, 0, sizeof(*ca));
}

static int
cert_add_dns(gnutls_x509_crt_t crt, const char *name)
{
	char n[CERT_FQDN_MAX + 1];

	if (!cert_name_norm(name, n, sizeof(n)) || !cert_name_valid(n))
		return CERT_E_REQUEST;
	if (cert_has_dns(crt, n))
		return 0;
	if (gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, n,
	    (unsigned int)strlen(n), GNUTLS_FSAN_APPEND) < 0)
		return CERT_E_GNUTLS;
	return 0;
}

static int
cert_add_ip(gnutls_x509_crt_t crt, const void *addr, size_t len)
{
	if (gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS,
	    addr, (unsigned int)len, GNUTLS_FSAN_APPEND) < 0)
		return CERT_E_GNUTLS;
	return 0;
}

static int
cert_request_check(const struct cert_request *req)
{
	bool node = req->role == CERT_ROLE_NODE;

	if (cert_role_oid(req->role) == NULL || req->fqdn == NULL ||
	    req->pubkey == NULL || cert_key_type(req->pubkey) ==
	    CERT_KEY_INVALID || req->nzones > CERT_ZONES_MAX ||
	    req->naddrs > CERT_ADDRS_MAX)
		return CERT_E_REQUEST;
	/* Virtual IPs only for nodes; zones and server addresses not. */
	if (node && ((!req->has_vip4 && !req->has_vip6) || req->nzones > 0 ||
	    req->naddrs > 0))
		return CERT_E_REQUEST;
	if (!node && (req->has_vip4 || req->has_vip6))
		return CERT_E_REQUEST;
	if (req->role != CERT_ROLE_DC && req->nzones > 0)
		return CERT_E_REQUEST;
	return 0;
}

/* The issuer's nameConstraints, checked at issuance for a clear error. */
static int
cert_constraints_check(gnutls_x509_crt_t crt, gnutls_x509_crt_t issuer)
{
	gnutls_x509_name_constraints_t nc;
	int rv = 0;

	if (gnutls_x509_name_constraints_init(&nc) < 0)
		return -ENOMEM;
	if (gnutls_x509_crt_get_name_constraints(issuer, nc, 0, NULL) < 0)
		goto out;	/* none */
	if (!gnutls_x509_name_constraints_check_crt(nc, GNUTLS_SAN_DNSNAME,
	    crt) || !gnutls_x509_name_constraints_check_crt(nc,
	    GNUTLS_SAN_IPADDRESS, crt))
		rv = CERT_E_CONSTRAINTS;
out:
	gnutls_x509_name_constraints_deinit(nc);
	return rv;
}

int
cert_issue(const struct cert_request *req, const struct cert_issuer *iss,
    struct ntm_rng *rng, time_t now, gnutls_x509_crt_t *out)
{
	gnutls_x509_crt_t crt = NULL;
	char fqdn[CERT_FQDN_MAX + 1];
	unsigned int ku = GNUTLS_KEY_DIGITAL_SIGNATURE;
	uint32_t lifetime = req->lifetime;
	size_t i;
	int rv;

	*out = NULL;
	if ((rv = cert_request_check(req)) < 0)
		return rv;
	if (!cert_name_norm(req->fqdn, fqdn, sizeof(fqdn)) ||
	    !cert_name_valid(fqdn))
		return CERT_E_REQUEST;
	if (lifetime == 0)
		lifetime = req->role == CERT_ROLE_NODE ? CERT_NODE_LIFETIME :
		    CERT_SERVER_LIFETIME;
	/* RSA keys are also the target of RSA-KEM key transport. */
	if (cert_key_type(req->pubkey) == CERT_KEY_RSA2048)
		ku |= GNUTLS_KEY_KEY_ENCIPHERMENT;
	if (gnutls_x509_crt_init(&crt) < 0)
		return -ENOMEM;
	if ((rv = cert_body(crt, fqdn, req->pubkey, iss->crt, rng, now,
	    lifetime)) < 0)
		goto out;
	if (gnutls_x509_crt_set_basic_constraints(crt, 0, -1) < 0 ||
	    gnutls_x509_crt_set_key_usage(crt, ku) < 0 ||
	    gnutls_x509_crt_set_key_purpose_oid(crt, cert_role_oid(req->role),
	    0) < 0) {
		rv = CERT_E_GNUTLS;
		goto out;
	}
	if ((rv = cert_add_dns(crt, fqdn)) < 0)
		goto out;
	for (i = 0; i < req->nzones; i++)
		if ((rv = cert_add_dns(crt, req->zones[i])) < 0)
			goto out;
	if (req->has_vip4 && (rv = cert_add_ip(crt, &req->vip4, 4)) < 0)
		goto out;
	if (req->has_vip6 && (rv = cert_add_ip(crt, &req->vip6, 16)) < 0)
		goto out;
	for (i = 0; i < req->naddrs; i++) {
		const struct cert_addr *a = &req->addrs[i];

		if (a->family != AF_INET && a->family != AF_INET6) {
			rv = CERT_E_REQUEST;
			goto out;
		}
		if ((rv = cert_add_ip(crt, a->addr,
		    a->family == AF_INET ? 4 : 16)) < 0)
			goto out;
	}
	if ((rv = cert_sign(crt, iss->crt, iss->key)) < 0 ||
	    (rv = cert_dup(crt, out)) < 0)
		goto out;
	if ((rv = cert_constraints_check(*out, iss->crt)) < 0) {
		gnutls_x509_crt_deinit(*out);
		*out = NULL;
	}
out:
	gnutls_x509_crt_deinit(crt);
	return rv;
}

/* ---- reading certificates ---- */

/*
 * subjectAltName read straight from the extension's DER with the cursor:
 * GnuTLS's decoder (gnutls_x509_ext_import_subject_alt_names, behind
 * every gnutls_x509_crt_get_subject_alt_name call) builds a libtasn1
 * tree each time, which costs about as much as a signature check.
 *
 *   GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName
 *   GeneralName: [0] otherName (constructed), [1] rfc822Name, [2] dNSName,
 *   [3] x400Address, [4] directoryName, [5] ediPartyName, [6] URI,
 *   [7] iPAddress, [8] registeredID (IMPLICIT tags)
 *
 * The whole extension is checked before any name is given out, so a
 * malformed one has no names at all, as with GnuTLS's decoder.
 */
struct cert_san_iter {
	gnutls_datum_t	 ext;
	struct rbuf	 seq;
};

static int
cert_san_type(uint8_t tag)
{
	switch (tag) {
	case 0x82:
		return GNUTLS_SAN_DNSNAME;
	case 0x87:
		return GNUTLS_SAN_IPADDRESS;
	case 0x81:
		return GNUTLS_SAN_RFC822NAME;
	case 0x86:
		return GNUTLS_SAN_URI;
	case 0x88:
		return GNUTLS_SAN_REGISTERED_ID;
	case 0xa0:
		return GNUTLS_SAN_OTHERNAME;
	case 0xa4:
		return GNUTLS_SAN_DN;
	case 0xa3:
	case 0xa5:
		return 0;		/* x400Address, ediPartyName */
	default:
		return -1;
	}
}

/* 0, GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE (no SAN), or -EINVAL. */
static int
cert_san_begin(gnutls_x509_crt_t crt, struct cert_san_iter *it)
{
	struct rbuf c, check;
	unsigned int crit = 0;
	uint8_t tag;
	size_t len;
	int rv;

	memset(it, 0, sizeof(*it));
	if ((rv = gnutls_x509_crt_get_extension_by_oid2(crt, "2.5.29.17", 0,
	    &it->ext, &crit)) < 0)
		return rv == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE ? rv :
		    -EINVAL;
	rbuf_init(&c, it->ext.data, it->ext.size);
	if (cert_der_header(&c, &tag, &len) < 0 || tag != 0x30 ||
	    len == 0 || rbuf_sub(&c, &it->seq, len) < 0 || rbuf_left(&c) != 0)
		goto bad;
	check = it->seq;
	while (rbuf_left(&check) > 0)
		if (cert_der_header(&check, &tag, &len) < 0 ||
		    cert_san_type(tag) < 0 || rbuf_skip(&check, len) < 0)
			goto bad;
	return 0;
bad:
	gnutls_free(it->ext.data);
	it->ext.data = NULL;
	return -EINVAL;
}

static bool
cert_san_next(struct cert_san_iter *it, int *type, const uint8_t **p,
    size_t *len)
{
	uint8_t tag;

	if (rbuf_left(&it->seq) == 0 ||
	    cert_der_header(&it->seq, &tag, len) < 0 ||
	    rbuf_get_ptr(&it->seq, p, *len) < 0)
		return false;
	*type = cert_san_type(tag);
	return true;
}

static void
cert_san_end(struct cert_san_iter *it)
{
	gnutls_free(it->ext.data);
	it->ext.data = NULL;
}

enum cert_role
cert_role_of(gnutls_x509_crt_t crt)
{
	enum cert_role found = CERT_ROLE_INVALID, r;
	gnutls_x509_key_purposes_t kp = NULL;
	gnutls_datum_t ext = { NULL, 0 }, d;
	size_t arclen = strlen(NTM_OID_ROLE_ARC);
	unsigned int i, n = 0, crit = 0;
	const char *oid;
	int rv;

	if (gnutls_x509_crt_get_extension_by_oid2(crt, "2.5.29.37", 0, &ext,
	    &crit) < 0)
		return CERT_ROLE_INVALID;
	if (gnutls_x509_key_purpose_init(&kp) < 0 ||
	    gnutls_x509_ext_import_key_purposes(&ext, kp, 0) < 0)
		goto out;
	for (i = 0;; i++) {
		rv = gnutls_x509_key_purpose_get(kp, i, &d);
		if (rv == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (rv < 0) {
			n = 0;
			break;
		}
		oid = (const char *)d.data;
		if (strncmp(oid, NTM_OID_ROLE_ARC, arclen) != 0 ||
		    oid[arclen] != '.')
			continue;	/* not ours */
		n++;
		found = CERT_ROLE_INVALID;
		for (r = CERT_ROLE_NODE; r <= CERT_ROLE_AS; r++)
			if (strcmp(oid, cert_role_oids[r]) == 0)
				found = r;
		if (found == CERT_ROLE_INVALID) {
			n = 0;		/* unknown role */
			break;
		}
	}
out:
	gnutls_x509_key_purpose_deinit(kp);
	gnutls_free(ext.data);
	return n == 1 ? found : CERT_ROLE_INVALID;
}

bool
cert_has_dns(gnutls_x509_crt_t crt, const char *name)
{
	char want[CERT_FQDN_MAX + 1], have[CERT_FQDN_MAX + 2];
	struct cert_san_iter it;
	const uint8_t *p;
	bool found = false;
	size_t sz;
	int type;

	if (!cert_name_norm(name, want, sizeof(want)) ||
	    cert_san_begin(crt, &it) < 0)
		return false;
	while (!found && cert_san_next(&it, &type, &p, &sz)) {
		/* Embedded NUL: never equal; too long: not a name of ours. */
		if (type != GNUTLS_SAN_DNSNAME || sz >= sizeof(have) ||
		    memchr(p, 0, sz) != NULL)
			continue;
		memcpy(have, p, sz);
		have[sz] = '\0';
		if (sz > 0 && have[sz - 1] == '.')
			have[--sz] = '\0';
		found = strcasecmp(have, want) == 0;
	}
	cert_san_end(&it);
	return found;
}

static bool
cert_has_ip(gnutls_x509_crt_t crt, const void *addr, size_t len)
{
	struct cert_san_iter it;
	const uint8_t *p;
	bool found = false;
	size_t sz;
	int type;

	if (cert_san_begin(crt, &it) < 0)
		return false;
	while (!found && cert_san_next(&it, &type, &p, &sz))
		found = type == GNUTLS_SAN_IPADDRESS && sz == len &&
		    memcmp(p, addr, len) == 0;
	cert_san_end(&it);
	return found;
}

int
cert_info(gnutls_x509_crt_t crt, struct cert_info *info)
{
	struct cert_san_iter it;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t dn = { NULL, 0 };
	const uint8_t *p;
	unsigned int ca = 0;
	size_t sz;
	int type;

	memset(info, 0, sizeof(*info));
	info->role = cert_role_of(crt);
	if (gnutls_pubkey_init(&pub) == 0 &&
	    gnutls_pubkey_import_x509(pub, crt, 0) == 0)
		info->keytype = cert_key_type(pub);
	gnutls_pubkey_deinit(pub);
	if (gnutls_x509_crt_get_basic_constraints(crt, NULL, &ca, NULL) >= 0)
		info->is_ca = ca != 0;
	if (gnutls_x509_crt_get_dn3(crt, &dn, 0) == 0) {
		snprintf(info->subject, sizeof(info->subject), "%.*s",
		    (int)dn.size, dn.data);
		gnutls_free(dn.data);
	}
	if (cert_san_begin(crt, &it) == 0) {
		while (cert_san_next(&it, &type, &p, &sz)) {
			if (type == GNUTLS_SAN_DNSNAME) {
				/* Names of 254 bytes and more: not counted. */
				if (sz >= CERT_FQDN_MAX + 1)
					continue;
				if (info->ndns++ == 0)
					snprintf(info->fqdn, sizeof(info->fqdn),
					    "%.*s", (int)sz, (const char *)p);
			} else if (type == GNUTLS_SAN_IPADDRESS) {
				info->nip++;
				if (sz == 4 && !info->has_vip4) {
					info->has_vip4 = true;
					memcpy(&info->vip4, p, 4);
				} else if (sz == 16 && !info->has_vip6) {
					info->has_vip6 = true;
					memcpy(&info->vip6, p, 16);
				}
			}
		}
		cert_san_end(&it);
	}
	sz = sizeof(info->serial);
	if (gnutls_x509_crt_get_serial(crt, info->serial, &sz) < 0)
		return CERT_E_PARSE;
	info->serial_len = sz;
	info->not_before = gnutls_x509_crt_get_activation_time(crt);
	info->not_after = gnutls_x509_crt_get_expiration_time(crt);
	return 0;
}

/* ---- verification ---- */

struct cert_trust {
	gnutls_x509_trust_list_t tl;
};

static int
cert_dup(gnutls_x509_crt_t in, gnutls_x509_crt_t *out)
{
	gnutls_datum_t der = { NULL, 0 };
	int rv = 0;

	if (gnutls_x509_crt_init(out) < 0)
		return -ENOMEM;
	if (gnutls_x509_crt_export2(in, GNUTLS_X509_FMT_DER, &der) < 0 ||
	    gnutls_x509_crt_import(*out, &der, GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(*out);
		*out = NULL;
		rv = CERT_E_GNUTLS;
	}
	gnutls_free(der.data);
	return rv;
}

int
cert_trust_new(const gnutls_x509_crt_t *roots, size_t n,
    struct cert_trust **out)
{
	struct cert_trust *t;
	gnutls_x509_crt_t c;
	size_t i;
	int rv;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -ENOMEM;
	if (gnutls_x509_trust_list_init(&t->tl, 0) < 0) {
		free(t);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		if ((rv = cert_dup(roots[i], &c)) < 0)
			goto fail;
		/* The list owns c from here on. */
		if (gnutls_x509_trust_list_add_cas(t->tl, &c, 1, 0) != 1) {
			gnutls_x509_crt_deinit(c);
			rv = CERT_E_GNUTLS;
			goto fail;
		}
	}
	*out = t;
	return 0;
fail:
	cert_trust_free(t);
	return rv;
}

void
cert_trust_free(struct cert_trust *t)
{
	if (t == NULL)
		return;
	gnutls_x509_trust_list_deinit(t->tl, 1);
	free(t);
}

static int
cert_dates(gnutls_x509_crt_t crt, time_t now)
{
	if (now < gnutls_x509_crt_get_activation_time(crt))
		return CERT_E_NOT_YET_VALID;
	if (now > gnutls_x509_crt_get_expiration_time(crt))
		return CERT_E_EXPIRED;
	return 0;
}

int
cert_verify(const struct cert_trust *t, gnutls_x509_crt_t leaf,
    gnutls_x509_crt_t intermediate, const struct cert_expect *ex,
    time_t now)
{
	gnutls_x509_crt_t chain[2], root = NULL;
	gnutls_typed_vdata_st vd;
	unsigned int status = 0, nvd = 0, n = 1;
	const char *oid;
	int rv;

	/*
	 * Leaves come only from the AS CA: its certificate must be there and
	 * must be the leaf's issuer (GnuTLS would otherwise skip a useless
	 * chain member and accept a leaf signed by the root itself).
	 */
	if (intermediate == NULL ||
	    !gnutls_x509_crt_check_issuer(leaf, intermediate))
		return CERT_E_CHAIN;
	chain[0] = leaf;
	chain[n++] = intermediate;
	if ((oid = cert_role_oid(ex->role)) != NULL) {
		vd.type = GNUTLS_DT_KEY_PURPOSE_OID;
		vd.data = (unsigned char *)oid;
		vd.size = 0;
		nvd = 1;
	}
	rv = gnutls_x509_trust_list_verify_crt2(t->tl, chain, n,
	    nvd ? &vd : NULL, nvd, GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
	    GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS, &status, NULL);
	if (rv < 0)
		return CERT_E_GNUTLS;
	if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA |
	    GNUTLS_CERT_INSECURE_ALGORITHM | GNUTLS_CERT_REVOKED))
		return CERT_E_CHAIN;
	if (status & GNUTLS_CERT_SIGNATURE_FAILURE)
		return CERT_E_SIGNATURE;
	if (status & GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE)
		return CERT_E_CONSTRAINTS;
	if (status & GNUTLS_CERT_PURPOSE_MISMATCH)
		return CERT_E_ROLE;
	if (status != 0)
		return CERT_E_CHAIN;
	/* Dates against the injected clock: leaf, intermediate, root. */
	if ((rv = cert_dates(leaf, now)) < 0)
		return rv;
	if ((rv = cert_dates(intermediate, now)) < 0)
		return rv;
	if (gnutls_x509_trust_list_get_issuer(t->tl, chain[n - 1], &root,
	    0) == 0 && (rv = cert_dates(root, now)) < 0)
		return rv;
	/* GnuTLS accepts a role among others; we want exactly one. */
	if (ex->role != CERT_ROLE_INVALID && cert_role_of(leaf) != ex->role)
		return CERT_E_ROLE;
	if (ex->fqdn != NULL && !cert_has_dns(leaf, ex->fqdn))
		return CERT_E_FQDN;
	if (ex->vip4 != NULL && !cert_has_ip(leaf, ex->vip4, 4))
		return CERT_E_VIP;
	if (ex->vip6 != NULL && !cert_has_ip(leaf, ex->vip6, 16))
		return CERT_E_VIP;
	return 0;
}

/* ---- a verified intermediate: leaves for one signature check ---- */

/* AlgorithmIdentifier ecdsa-with-SHA256 (RFC 5758: no parameters). */
static const uint8_t cert_alg_ecdsa_sha256[] = {
	0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
};

/* Extensions of cert_issue()'s profile (RFC 5280 4.2.1). */
static const char *const cert_profile_exts[] = {
	"2.5.29.14",	/* subjectKeyIdentifier */
	"2.5.29.15",	/* keyUsage */
	"2.5.29.17",	/* subjectAltName */
	"2.5.29.19",	/* basicConstraints */
	"2.5.29.35",	/* authorityKeyIdentifier */
	"2.5.29.37",	/* extKeyUsage */
};

#define CERT_OID_SAN		"2.5.29.17"
#define CERT_OID_EKU		"2.5.29.37"
#define CERT_OID_EKU_ANY	"2.5.29.37.0"

struct cert_anchor {
	bool				 usable;
	enum cert_role			 role;
	bool				 pub_init;
	struct ecc_point		 pub;
	gnutls_datum_t			 subject;	/* raw DN */
	uint8_t				 ski[CERT_KEYID_MAX];
	size_t				 ski_len;
	gnutls_x509_name_constraints_t	 nc;
	time_t				 not_before, not_after;
	bool				 has_root;
	time_t				 root_not_before, root_not_after;
};

/* Only dNSName and iPAddress subtrees: what the leaf checks below cover. */
static bool
cert_nc_simple(gnutls_x509_name_constraints_t nc)
{
	int (*const get[])(gnutls_x509_name_constraints_t, unsigned int,
	    unsigned int *, gnutls_datum_t *) = {
		gnutls_x509_name_constraints_get_permitted,
		gnutls_x509_name_constraints_get_excluded,
	};
	gnutls_datum_t name;
	unsigned int i, k, type;
	int rv;

	for (k = 0; k < sizeof(get) / sizeof(get[0]); k++)
		for (i = 0;; i++) {
			rv = get[k](nc, i, &type, &name);
			if (rv == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
				break;
			if (rv < 0 || (type != GNUTLS_SAN_DNSNAME &&
			    type != GNUTLS_SAN_IPADDRESS))
				return false;
		}
	return true;
}

static bool
cert_has_nc(gnutls_x509_crt_t crt)
{
	gnutls_datum_t ext = { NULL, 0 };
	unsigned int crit = 0;
	bool has;

	has = gnutls_x509_crt_get_extension_by_oid2(crt, "2.5.29.30", 0, &ext,
	    &crit) != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE;
	gnutls_free(ext.data);
	return has;
}

/* The intermediate's P-256 key as a nettle point. */
static int
cert_anchor_key(struct cert_anchor *a, gnutls_x509_crt_t crt)
{
	gnutls_datum_t x = { NULL, 0 }, y = { NULL, 0 };
	gnutls_ecc_curve_t curve;
	mpz_t mx, my;
	int rv = -ENOTSUP;

	if (gnutls_x509_crt_get_pk_ecc_raw(crt, &curve, &x, &y) < 0)
		return -ENOTSUP;
	mpz_init(mx);
	mpz_init(my);
	if (curve != GNUTLS_ECC_CURVE_SECP256R1)
		goto out;
	mpz_import(mx, x.size, 1, 1, 0, 0, x.data);
	mpz_import(my, y.size, 1, 1, 0, 0, y.data);
	ecc_point_init(&a->pub, nettle_get_secp_256r1());
	a->pub_init = true;
	if (ecc_point_set(&a->pub, mx, my) != 1)
		goto out;
	rv = 0;
out:
	mpz_clear(my);
	mpz_clear(mx);
	gnutls_free(y.data);
	gnutls_free(x.data);
	return rv;
}

/*
 * The intermediate once, with cert_verify's own GnuTLS call but alone in
 * the chain: signed by a trusted root, purpose not excluding the role.
 */
static int
cert_anchor_load(struct cert_anchor *a, const struct cert_trust *t,
    gnutls_x509_crt_t crt)
{
	gnutls_x509_crt_t root = NULL;
	gnutls_typed_vdata_st vd;
	unsigned int status = 0, ca = 0, ku = 0, crit = 0;
	const char *oid = cert_role_oid(a->role);
	int rv;

	if (oid == NULL)
		return -ENOTSUP;
	vd.type = GNUTLS_DT_KEY_PURPOSE_OID;
	vd.data = (unsigned char *)(uintptr_t)oid;
	vd.size = 0;
	if (gnutls_x509_trust_list_verify_crt2(t->tl, &crt, 1, &vd, 1,
	    GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
	    GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS, &status, NULL) < 0 ||
	    status != 0)
		return -ENOTSUP;
	if (gnutls_x509_crt_get_version(crt) != 3 ||
	    gnutls_x509_crt_get_basic_constraints(crt, &crit, &ca, NULL) < 0 ||
	    !ca)
		return -ENOTSUP;
	rv = gnutls_x509_crt_get_key_usage(crt, &ku, &crit);
	if (rv == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		ku = GNUTLS_KEY_KEY_CERT_SIGN;
	else if (rv < 0)
		return -ENOTSUP;
	if (!(ku & GNUTLS_KEY_KEY_CERT_SIGN))
		return -ENOTSUP;
	if ((rv = cert_anchor_key(a, crt)) < 0)
		return rv;
	if (gnutls_x509_crt_get_raw_dn(crt, &a->subject) < 0)
		return -ENOTSUP;
	a->ski_len = sizeof(a->ski);
	if (gnutls_x509_crt_get_subject_key_id(crt, a->ski, &a->ski_len,
	    NULL) < 0)
		a->ski_len = 0;
	if (gnutls_x509_name_constraints_init(&a->nc) < 0)
		return -ENOMEM;
	rv = gnutls_x509_crt_get_name_constraints(crt, a->nc, 0, &crit);
	if (rv < 0 && rv != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return -ENOTSUP;
	if (!cert_nc_simple(a->nc))
		return -ENOTSUP;
	a->not_before = gnutls_x509_crt_get_activation_time(crt);
	a->not_after = gnutls_x509_crt_get_expiration_time(crt);
	if (gnutls_x509_trust_list_get_issuer(t->tl, crt, &root, 0) == 0) {
		/* A root's own constraints would bind the leaf too. */
		if (cert_has_nc(root))
			return -ENOTSUP;
		a->has_root = true;
		a->root_not_before = gnutls_x509_crt_get_activation_time(root);
		a->root_not_after = gnutls_x509_crt_get_expiration_time(root);
	}
	return 0;
}

int
cert_anchor_new(const struct cert_trust *t, gnutls_x509_crt_t crt,
    enum cert_role role, struct cert_anchor **out)
{
	struct cert_anchor *a;
	int rv;

	*out = NULL;
	if (t == NULL || crt == NULL)
		return -EINVAL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return -ENOMEM;
	a->role = role;
	rv = cert_anchor_load(a, t, crt);
	if (rv == -ENOMEM) {
		cert_anchor_free(a);
		return rv;
	}
	a->usable = rv == 0;
	*out = a;
	return 0;
}

void
cert_anchor_free(struct cert_anchor *a)
{
	if (a == NULL)
		return;
	if (a->pub_init)
		ecc_point_clear(&a->pub);
	if (a->nc != NULL)
		gnutls_x509_name_constraints_deinit(a->nc);
	gnutls_free(a->subject.data);
	free(a);
}

bool
cert_anchor_usable(const struct cert_anchor *a)
{
	return a != NULL && a->usable;
}

/* A DER element at the cursor: its raw bytes and its contents. */
static int
cert_der_elem(struct rbuf *c, uint8_t want, const uint8_t **raw,
    size_t *rawlen, struct rbuf *in)
{
	const uint8_t *start = c->p + c->off;
	size_t before = rbuf_left(c), len;
	uint8_t tag;

	if (cert_der_header(c, &tag, &len) < 0 || tag != want ||
	    rbuf_sub(c, in, len) < 0)
		return -ENOTSUP;
	if (raw != NULL) {
		*raw = start;
		*rawlen = before - rbuf_left(c);
	}
	return 0;
}

/* A positive DER INTEGER (at most 32 bytes of value) into x. */
static int
cert_der_uint(struct rbuf *c, mpz_t x)
{
	const uint8_t *p;
	struct rbuf in;
	size_t len;

	if (cert_der_elem(c, 0x02, NULL, NULL, &in) < 0 ||
	    (len = rbuf_left(&in)) == 0 || len > 33 ||
	    rbuf_get_ptr(&in, &p, len) < 0 || (p[0] & 0x80) != 0 ||
	    (len > 1 && p[0] == 0 && (p[1] & 0x80) == 0) ||
	    (len == 33 && p[0] != 0))
		return -ENOTSUP;
	mpz_import(x, len, 1, 1, 0, 0, p);
	return 0;
}

/*
 * Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm,
 * signatureValue }: ecdsa-with-SHA256 in both places, and the signature
 * verified with the intermediate's key over the TBS bytes.
 */
static int
cert_anchor_signature(const struct cert_anchor *a, const uint8_t *der,
    size_t len)
{
	struct rbuf c, cert, tbs, alg, sig, seq;
	const uint8_t *tbs_raw, *alg_raw;
	size_t tbs_len, alg_len;
	uint8_t digest[CRYPTO_SHA256_SIZE], unused;
	struct dsa_signature ds;
	int rv;

	rbuf_init(&c, der, len);
	if (cert_der_elem(&c, 0x30, NULL, NULL, &cert) < 0 ||
	    rbuf_left(&c) != 0 ||
	    cert_der_elem(&cert, 0x30, &tbs_raw, &tbs_len, &tbs) < 0 ||
	    cert_der_elem(&cert, 0x30, &alg_raw, &alg_len, &alg) < 0 ||
	    alg_len != sizeof(cert_alg_ecdsa_sha256) ||
	    memcmp(alg_raw, cert_alg_ecdsa_sha256, alg_len) != 0 ||
	    cert_der_elem(&cert, 0x03, NULL, NULL, &sig) < 0 ||
	    rbuf_left(&cert) != 0)
		return -ENOTSUP;
	/* TBSCertificate: [0] version, serialNumber, signature. */
	if (rbuf_left(&tbs) > 0 && tbs.p[tbs.off] == 0xa0 &&
	    cert_der_elem(&tbs, 0xa0, NULL, NULL, &seq) < 0)
		return -ENOTSUP;
	if (cert_der_elem(&tbs, 0x02, NULL, NULL, &seq) < 0 ||
	    cert_der_elem(&tbs, 0x30, &alg_raw, &alg_len, &seq) < 0 ||
	    alg_len != sizeof(cert_alg_ecdsa_sha256) ||
	    memcmp(alg_raw, cert_alg_ecdsa_sha256, alg_len) != 0)
		return -ENOTSUP;
	/* BIT STRING, no unused bits: ECDSA-Sig-Value ::= SEQUENCE { r, s } */
	if (rbuf_get_u8(&sig, &unused) < 0 || unused != 0 ||
	    cert_der_elem(&sig, 0x30, NULL, NULL, &seq) < 0 ||
	    rbuf_left(&sig) != 0)
		return -ENOTSUP;
	crypto_sha256(digest, tbs_raw, tbs_len);
	dsa_signature_init(&ds);
	if (cert_der_uint(&seq, ds.r) < 0 || cert_der_uint(&seq, ds.s) < 0 ||
	    rbuf_left(&seq) != 0)
		rv = -ENOTSUP;
	else
		rv = ecdsa_verify(&a->pub, sizeof(digest), digest, &ds) == 1 ?
		    0 : CERT_E_SIGNATURE;
	dsa_signature_clear(&ds);
	return rv;
}

/*
 * Every SAN a dNSName (printable ASCII) or iPAddress (4 or 16 bytes)
 * within the constraints, at least one dNSName.
 */
static int
cert_anchor_names(const struct cert_anchor *a, gnutls_x509_crt_t leaf)
{
	struct cert_san_iter it;
	gnutls_datum_t d;
	const uint8_t *p;
	unsigned int ndns = 0;
	size_t sz, i;
	int type, rv = 0;

	if (cert_san_begin(leaf, &it) < 0)
		return -ENOTSUP;
	while (rv == 0 && cert_san_next(&it, &type, &p, &sz)) {
		if (type == GNUTLS_SAN_DNSNAME) {
			for (i = 0; i < sz; i++)
				if (p[i] <= 0x20 || p[i] >= 0x7f)
					break;
			if (sz == 0 || i < sz) {
				rv = -ENOTSUP;
				break;
			}
			ndns++;
		} else if (type != GNUTLS_SAN_IPADDRESS ||
		    (sz != 4 && sz != 16)) {
			rv = -ENOTSUP;
			break;
		}
		d.data = (unsigned char *)(uintptr_t)p;
		d.size = (unsigned int)sz;
		if (!gnutls_x509_name_constraints_check(a->nc,
		    (gnutls_x509_subject_alt_name_t)type, &d))
			rv = CERT_E_CONSTRAINTS;
	}
	cert_san_end(&it);
	if (rv == 0 && ndns == 0)
		rv = -ENOTSUP;
	return rv;
}

/* The role among the key purposes (GnuTLS's purpose check). */
static int
cert_anchor_purpose(const struct cert_anchor *a, gnutls_x509_crt_t leaf)
{
	gnutls_x509_key_purposes_t kp = NULL;
	gnutls_datum_t ext = { NULL, 0 }, oid;
	const char *want = cert_role_oid(a->role);
	unsigned int crit = 0, i;
	bool found = false;
	int rv;

	if (gnutls_x509_crt_get_extension_by_oid2(leaf, CERT_OID_EKU, 0, &ext,
	    &crit) < 0)
		return -ENOTSUP;
	if (gnutls_x509_key_purpose_init(&kp) < 0) {
		rv = -ENOMEM;
		goto out;
	}
	if (gnutls_x509_ext_import_key_purposes(&ext, kp, 0) < 0) {
		rv = -ENOTSUP;
		goto out;
	}
	for (i = 0;; i++) {
		rv = gnutls_x509_key_purpose_get(kp, i, &oid);
		if (rv == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (rv < 0 || strcmp((const char *)oid.data,
		    CERT_OID_EKU_ANY) == 0) {
			rv = -ENOTSUP;
			goto out;
		}
		if (strcmp((const char *)oid.data, want) == 0)
			found = true;
	}
	rv = found ? 0 : CERT_E_ROLE;
out:
	gnutls_x509_key_purpose_deinit(kp);
	gnutls_free(ext.data);
	return rv;
}

/* Issued by this intermediate as GnuTLS matches issuers; the profile. */
static int
cert_anchor_shape(const struct cert_anchor *a, gnutls_x509_crt_t leaf)
{
	gnutls_datum_t dn = { NULL, 0 };
	uint8_t aki[CERT_KEYID_MAX];
	char oid[128];
	size_t sz, k;
	unsigned int i, crit, ca = 0;
	int rv;

	if (gnutls_x509_crt_get_version(leaf) != 3)
		return -ENOTSUP;
	if (gnutls_x509_crt_get_raw_issuer_dn(leaf, &dn) < 0)
		return -ENOTSUP;
	rv = dn.size == a->subject.size && memcmp(dn.data, a->subject.data,
	    dn.size) == 0 ? 0 : -ENOTSUP;
	gnutls_free(dn.data);
	if (rv < 0)
		return rv;
	sz = sizeof(aki);
	rv = gnutls_x509_crt_get_authority_key_id(leaf, aki, &sz, NULL);
	if (rv != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE && (rv < 0 ||
	    a->ski_len == 0 || sz != a->ski_len ||
	    memcmp(aki, a->ski, sz) != 0))
		return -ENOTSUP;
	for (i = 0;; i++) {
		sz = sizeof(oid);
		rv = gnutls_x509_crt_get_extension_info(leaf, i, oid, &sz,
		    &crit);
		if (rv == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (rv < 0)
			return -ENOTSUP;
		for (k = 0; k < sizeof(cert_profile_exts) /
		    sizeof(cert_profile_exts[0]); k++)
			if (strcmp(oid, cert_profile_exts[k]) == 0)
				break;
		if (k == sizeof(cert_profile_exts) /
		    sizeof(cert_profile_exts[0]))
			return -ENOTSUP;
	}
	rv = gnutls_x509_crt_get_basic_constraints(leaf, &crit, &ca, NULL);
	if (rv != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE && (rv < 0 || ca))
		return -ENOTSUP;
	return 0;
}

int
cert_anchor_check(const struct cert_anchor *a, gnutls_x509_crt_t leaf,
    const uint8_t *der, size_t len)
{
	int rv;

	if (!cert_anchor_usable(a))
		return -ENOTSUP;
	/* cert_verify's order: chain, signature, constraints, purpose. */
	if ((rv = cert_anchor_shape(a, leaf)) < 0 ||
	    (rv = cert_anchor_signature(a, der, len)) < 0 ||
	    (rv = cert_anchor_names(a, leaf)) < 0 ||
	    (rv = cert_anchor_purpose(a, leaf)) < 0)
		return rv;
	return 0;
}

int
cert_anchor_dates(const struct cert_anchor *a, time_t nb, time_t na,
    time_t now)
{
	if (now < nb)
		return CERT_E_NOT_YET_VALID;
	if (now > na)
		return CERT_E_EXPIRED;
	if (now < a->not_before)
		return CERT_E_NOT_YET_VALID;
	if (now > a->not_after)
		return CERT_E_EXPIRED;
	if (a->has_root && now < a->root_not_before)
		return CERT_E_NOT_YET_VALID;
	if (a->has_root && now > a->root_not_after)
		return CERT_E_EXPIRED;
	return 0;
}

int
cert_anchor_verify(const struct cert_anchor *a, gnutls_x509_crt_t leaf,
    const uint8_t *der, size_t len, time_t now)
{
	int rv;

	if ((rv = cert_anchor_check(a, leaf, der, len)) < 0 ||
	    (rv = cert_anchor_dates(a,
	    gnutls_x509_crt_get_activation_time(leaf),
	    gnutls_x509_crt_get_expiration_time(leaf), now)) < 0)
		return rv;
	return cert_role_of(leaf) == a->role ? 0 : CERT_E_ROLE;
}

/* ---- PKCS#10 requests from nodes ---- */

/* One name asked for: valid LDH, equal to what was asked before. */
static int
cert_csr_name(const char *asked, size_t len, char *want, size_t wantlen)
{
	char name[CERT_FQDN_MAX + 1];

	if (len != strlen(asked) || !cert_name_norm(asked, name,
	    sizeof(name)) || !cert_name_valid(name))
		return CERT_E_CSR_NAME;
	if (want[0] == '\0')
		snprintf(want, wantlen, "%s", name);
	else if (strcmp(name, want) != 0)
		return CERT_E_CSR_NAME;
	return 0;
}

static int
cert_csr_names(gnutls_x509_crq_t crq, const char *fqdn)
{
	char buf[CERT_FQDN_MAX + 2], oid[128], want[CERT_FQDN_MAX + 1] = "";
	unsigned int i, type, critical;
	size_t sz;
	int rv;

	if (fqdn != NULL && (!cert_name_norm(fqdn, want, sizeof(want)) ||
	    !cert_name_valid(want)))
		return CERT_E_REQUEST;
	/* Subject: nothing, or one CN. */
	for (i = 0;; i++) {
		sz = sizeof(oid);
		rv = gnutls_x509_crq_get_dn_oid(crq, i, oid, &sz);
		if (rv == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (rv < 0 || strcmp(oid, GNUTLS_OID_X520_COMMON_NAME) != 0)
			return CERT_E_CSR_NAME;
	}
	sz = sizeof(buf);
	rv = gnutls_x509_crq_get_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME,
	    1, 0, buf, &sz);
	if (rv != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return CERT_E_CSR_NAME;		/* two CNs */
	sz = sizeof(buf);
	rv = gnutls_x509_crq_get_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME,
	    0, 0, buf, &sz);
	if (rv == 0) {
		if ((rv = cert_csr_name(buf, sz, want, sizeof(want))) < 0)
			return rv;
	} else if (rv != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return CERT_E_CSR_NAME;
	/* SAN: only dNSName equal to the name. */
	for (i = 0;; i++) {
		sz = sizeof(buf);
		rv = gnutls_x509_crq_get_subject_alt_name(crq, i, buf, &sz,
		    &type, &critical);
		if (rv == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (rv < 0 || type != GNUTLS_SAN_DNSNAME)
			return CERT_E_CSR_NAME;
		if ((rv = cert_csr_name(buf, sz, want, sizeof(want))) < 0)
			return rv;
	}
	return 0;
}

/*
 * Extensions a node may send because common tools add them; none of them is
 * copied.  Anything else, and any of these asking for more than a leaf's
 * signing key, is refused.
 */
static int
cert_csr_extensions(gnutls_x509_crq_t crq)
{
	unsigned int i, critical, ca, usage;
	char oid[128];
	size_t sz;
	int rv, pathlen;

	for (i = 0;; i++) {
		sz = sizeof(oid);
		rv = gnutls_x509_crq_get_extension_info(crq, i, oid, &sz,
		    &critical);
		if (rv == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			return 0;
		if (rv < 0)
			return CERT_E_PARSE;
		if (strcmp(oid, "2.5.29.17") == 0 ||	/* subjectAltName */
		    strcmp(oid, "2.5.29.14") == 0)	/* subjectKeyId */
			continue;
		/* basicConstraints */
		if (strcmp(oid, "2.5.29.19") == 0) {
			ca = 0;
			if (gnutls_x509_crq_get_basic_constraints(crq, NULL,
			    &ca, &pathlen) < 0 || ca)
				return CERT_E_CSR_EXTENSION;
			continue;
		}
		if (strcmp(oid, "2.5.29.15") == 0) {	/* keyUsage */
			usage = 0;
			if (gnutls_x509_crq_get_key_usage(crq, &usage,
			    NULL) < 0 || (usage & ~(unsigned int)(
			    GNUTLS_KEY_DIGITAL_SIGNATURE |
			    GNUTLS_KEY_KEY_ENCIPHERMENT)) != 0)
				return CERT_E_CSR_EXTENSION;
			continue;
		}
		return CERT_E_CSR_EXTENSION;
	}
}

int
cert_csr_check(gnutls_x509_crq_t crq, const char *fqdn,
    gnutls_pubkey_t *pubkey)
{
	gnutls_pubkey_t pub = NULL;
	int rv;

	*pubkey = NULL;
	if (gnutls_x509_crq_verify(crq, 0) < 0)
		return CERT_E_CSR_SIGNATURE;
	if (gnutls_pubkey_init(&pub) < 0)
		return -ENOMEM;
	if (gnutls_pubkey_import_x509_crq(pub, crq, 0) < 0) {
		rv = CERT_E_PARSE;
		goto out;
	}
	if (cert_key_type(pub) == CERT_KEY_INVALID) {
		rv = CERT_E_KEY_TYPE;
		goto out;
	}
	if ((rv = cert_csr_extensions(crq)) < 0 ||
	    (rv = cert_csr_names(crq, fqdn)) < 0)
		goto out;
	*pubkey = pub;
	pub = NULL;
out:
	gnutls_pubkey_deinit(pub);
	return rv;
}
